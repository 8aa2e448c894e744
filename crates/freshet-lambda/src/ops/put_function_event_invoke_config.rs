// SPDX-License-Identifier: Apache-2.0
//! PutFunctionEventInvokeConfig: replaces the asynchronous invocation settings of a function,
//! version or alias (members left out are unset).

use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::event_invoke::{change_of, input, shape, target};

pub(crate) async fn call(f: &Functions, v: Value) -> Result<Value, Error> {
    let i = input(v, true)?;
    let r = target(f, &i)?;
    let shown = f
        .put_event_invoke_config(&r.name, r.qualifier.as_deref(), change_of(&i))
        .await?;
    Ok(shape(&shown))
}
