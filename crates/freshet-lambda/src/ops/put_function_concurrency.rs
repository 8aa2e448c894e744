// SPDX-License-Identifier: Apache-2.0
//! PutFunctionConcurrency.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    reserved_concurrent_executions: Option<i64>,
}

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    v.required(
        "reservedConcurrentExecutions",
        &i.reserved_concurrent_executions,
    );
    v.int(
        "reservedConcurrentExecutions",
        i.reserved_concurrent_executions,
        Some(0),
        None,
    );
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let n = i
        .reserved_concurrent_executions
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(u32::MAX);
    f.set_concurrency(&name, Some(n)).await?;
    Ok(json!({ "ReservedConcurrentExecutions": n }))
}
