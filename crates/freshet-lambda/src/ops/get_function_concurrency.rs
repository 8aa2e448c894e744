// SPDX-License-Identifier: Apache-2.0
//! GetFunctionConcurrency.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::{decode, finish};

// `ReservedConcurrentExecutions` is not a member of this operation; it is kept so decoding
// stays as it was when this DTO was shared with PutFunctionConcurrency.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    #[allow(dead_code)]
    reserved_concurrent_executions: Option<i64>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let e = f.entry(&name)?;
    Ok(match e.record.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    })
}
