// SPDX-License-Identifier: Apache-2.0
//! CreateEventSourceMapping.

use serde_json::Value;

use crate::esm::Mappings;
use crate::esm::model::validate;
use crate::functions::{Error, Functions};
use crate::ops::mapping_input::{function_of, member};

pub(crate) async fn call(f: &Functions, m: &Mappings, input: Value) -> Result<Value, Error> {
    // The model's constraints come before the function, as in Lambda.
    validate(&input).map_err(Error::Mapping)?;
    let function = match member(&input, "FunctionName") {
        // Lambda's answer for a missing function is a 400 here, not the usual 404.
        Some(name) => function_of(f, name).map_err(|e| match e {
            Error::FunctionNotFound { .. } => {
                Error::InvalidParameter("Function does not exist".into())
            }
            e => e,
        }),
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
