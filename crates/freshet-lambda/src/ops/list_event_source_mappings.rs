// SPDX-License-Identifier: Apache-2.0
//! ListEventSourceMappings.

use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::{Error, Functions, qualified};
use crate::ops::mapping_input::member;

pub(crate) fn call(f: &Functions, m: &Mappings, input: Value) -> Result<Value, Error> {
    let function_arn = match member(&input, "FunctionName") {
        Some(name) => {
            let r = f.reference(name, None)?;
            Some(qualified(&f.function_arn(&r.name), r.qualifier.as_deref()))
        }
        None => None,
    };
    let max = input
        .get("MaxItems")
        .and_then(Value::as_i64)
        .and_then(|n| usize::try_from(n).ok());
    m.list(
        member(&input, "EventSourceArn"),
        function_arn.as_deref(),
        member(&input, "Marker"),
        max,
    )
    .map_err(Error::Mapping)
}
