// SPDX-License-Identifier: Apache-2.0
//! UpdateEventSourceMapping.

use serde_json::Value;

use crate::esm::Mappings;
use crate::esm::model::validate;
use crate::functions::{Error, Functions};
use crate::ops::mapping_input::{function_of, member, uuid};

pub(crate) async fn call(f: &Functions, m: &Mappings, input: Value) -> Result<Value, Error> {
    validate(&input).map_err(Error::Mapping)?;
    let function = match member(&input, "FunctionName") {
        Some(name) => Some(function_of(f, name)?),
        None => None,
    };
    m.update(uuid(&input), &input, function)
        .await
        .map_err(Error::Mapping)
}
