// SPDX-License-Identifier: Apache-2.0
//! CreateEventSourceMapping.

use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::{Error, Functions};
use crate::ops::mapping_input::{function_of, member};

pub(crate) async fn call(f: &Functions, m: &Mappings, input: Value) -> Result<Value, Error> {
    let function = match member(&input, "FunctionName") {
        Some(name) => function_of(f, name),
        None => Err(Error::Validation(
            "1 validation error detected: Value null at 'functionName' failed to \
             satisfy constraint: Member must not be null"
                .into(),
        )),
    };
    match function {
        Ok(function) => m.create(&input, function).await.map_err(Error::Mapping),
        Err(e) => Err(e),
    }
}
