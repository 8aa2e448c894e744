// SPDX-License-Identifier: Apache-2.0
//! GetFunctionConfiguration.

use serde::Deserialize;
use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::decode;
use crate::ops::names::{check_qualified, reference};
use crate::ops::shapes::configuration;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    qualifier: Option<String>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    check_qualified(&i.function_name, i.qualifier.as_deref())?;
    let r = reference(f, i.function_name.as_deref(), i.qualifier.as_deref())?;
    let resolved = f.resolve(&r)?;
    Ok(configuration(f, &resolved.record, &resolved.config))
}
