// SPDX-License-Identifier: Apache-2.0
//! DeleteFunctionEventInvokeConfig (204).

use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::event_invoke::{input, target};

pub(crate) async fn call(f: &Functions, v: Value) -> Result<Value, Error> {
    let i = input(v, false)?;
    let r = target(f, &i)?;
    f.delete_event_invoke_config(&r.name, r.qualifier.as_deref())
        .await?;
    Ok(json!({}))
}
