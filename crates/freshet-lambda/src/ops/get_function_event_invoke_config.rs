// SPDX-License-Identifier: Apache-2.0
//! GetFunctionEventInvokeConfig.

use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::event_invoke::{input, shape, target};

pub(crate) fn call(f: &Functions, v: Value) -> Result<Value, Error> {
    let i = input(v, false)?;
    let r = target(f, &i)?;
    let shown = f.get_event_invoke_config(&r.name, r.qualifier.as_deref())?;
    Ok(shape(&shown))
}
