// SPDX-License-Identifier: Apache-2.0
//! The five *EventSourceMapping operations: the Lambda API resolves `FunctionName` (a name,
//! ARN or partial ARN, optionally qualified) against its functions, then hands the request
//! to [`Mappings`].

use serde_json::Value;

use crate::esm::{FunctionRef, Mappings};
use crate::functions::{Error, Functions, qualified};

/// The function a mapping request names, as the mapping stores it: its ARN (qualified when
/// the request named a version or alias) and role. ResourceNotFound when it does not exist.
fn function_of(f: &Functions, name: &str) -> Result<FunctionRef, Error> {
    let r = f.reference(name, None)?;
    let resolved = f.resolve(&r)?;
    Ok(FunctionRef {
        arn: qualified(&f.function_arn(&r.name), r.qualifier.as_deref()),
        role: resolved.config.role,
    })
}

fn member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

fn uuid(input: &Value) -> &str {
    member(input, "UUID").unwrap_or_default()
}

/// Runs mapping operation `op`; `None` when `op` is not one.
pub(crate) async fn dispatch(
    f: &Functions,
    m: &Mappings,
    op: &str,
    input: Value,
) -> Option<Result<Value, Error>> {
    let r = match op {
        "CreateEventSourceMapping" => {
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
        "GetEventSourceMapping" => m.get(uuid(&input)).map_err(Error::Mapping),
        "ListEventSourceMappings" => {
            let function_arn = match member(&input, "FunctionName") {
                Some(name) => match f.reference(name, None) {
                    Ok(r) => Some(qualified(&f.function_arn(&r.name), r.qualifier.as_deref())),
                    Err(e) => return Some(Err(e)),
                },
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
        "UpdateEventSourceMapping" => {
            let function = match member(&input, "FunctionName").map(|n| function_of(f, n)) {
                Some(Ok(r)) => Some(r),
                Some(Err(e)) => return Some(Err(e)),
                None => None,
            };
            m.update(uuid(&input), &input, function)
                .await
                .map_err(Error::Mapping)
        }
        "DeleteEventSourceMapping" => m.delete(uuid(&input)).await.map_err(Error::Mapping),
        _ => return None,
    };
    Some(r)
}
