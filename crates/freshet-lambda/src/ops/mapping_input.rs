// SPDX-License-Identifier: Apache-2.0
//! How the *EventSourceMapping operations read their input: members as strings, and
//! `FunctionName` (a name, ARN or partial ARN, optionally qualified) resolved against the
//! functions before the request goes to [`crate::esm::Mappings`].

use serde_json::Value;

use crate::esm::FunctionRef;
use crate::functions::{Error, Functions, qualified};

/// The function a mapping request names, as the mapping stores it: its ARN (qualified when
/// the request named a version or alias) and role. ResourceNotFound when it does not exist.
pub(crate) fn function_of(f: &Functions, name: &str) -> Result<FunctionRef, Error> {
    let r = f.reference(name, None)?;
    let resolved = f.resolve(&r)?;
    Ok(FunctionRef {
        arn: qualified(&f.function_arn(&r.name), r.qualifier.as_deref()),
        role: resolved.config.role,
    })
}

pub(crate) fn member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

pub(crate) fn uuid(input: &Value) -> &str {
    member(input, "UUID").unwrap_or_default()
}
