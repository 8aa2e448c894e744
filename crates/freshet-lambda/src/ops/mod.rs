// SPDX-License-Identifier: Apache-2.0
//! The Lambda operations over JSON: each takes the operation's whole input as one JSON value
//! (URI, query, header and body members merged, with the model's member names) and returns
//! its whole output the same way, so a REST-JSON binder (or `crate::api`'s) only moves members
//! between the HTTP request and these values.
//!
//! - one module per function operation (`create_function` ... `delete_function`), sharing
//!   `function_input` (configuration members, code sources) and `names` (name checks);
//! - `invoke`: Invoke;
//! - `publish_version`, `list_versions_by_function` and one module per alias operation,
//!   sharing `alias_input` (the alias DTO and its checks);
//! - one module per *EventSourceMapping operation (dispatched by [`dispatch_mapping`]),
//!   sharing `mapping_input`; they hand the request to `crate::esm::Mappings`;
//! - one module per tag operation, sharing `tags` (the tag DTO, the resource ARN check), one
//!   per *FunctionConcurrency operation, and `get_account_settings`;
//! - one module per *FunctionEventInvokeConfig operation, sharing `event_invoke`;
//! - `shapes`: the output shapes they share (FunctionConfiguration, AliasConfiguration).

mod alias_input;
mod create_alias;
mod create_event_source_mapping;
mod create_function;
mod delete_alias;
mod delete_event_source_mapping;
mod delete_function;
mod delete_function_concurrency;
mod delete_function_event_invoke_config;
mod event_invoke;
mod function_input;
mod get_account_settings;
mod get_alias;
mod get_event_source_mapping;
mod get_function;
mod get_function_concurrency;
mod get_function_configuration;
mod get_function_event_invoke_config;
mod invoke;
mod list_aliases;
mod list_event_source_mappings;
mod list_function_event_invoke_configs;
mod list_functions;
mod list_tags;
mod list_versions_by_function;
mod mapping_input;
mod names;
mod publish_version;
mod put_function_concurrency;
mod put_function_event_invoke_config;
mod shapes;
mod tag_resource;
mod tags;
mod untag_resource;
mod update_alias;
mod update_event_source_mapping;
mod update_function_code;
mod update_function_configuration;
mod update_function_event_invoke_config;

use freshet_protocol::validate::Validator;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::{Error, Functions};

/// Runs operation `op` on `input`; `None` when `op` is not a Lambda operation Freshet serves.
pub(crate) async fn dispatch(
    f: &Functions,
    op: &str,
    input: Value,
) -> Option<Result<Value, Error>> {
    Some(match op {
        "CreateFunction" => create_function::call(f, input).await,
        "GetFunction" => get_function::call(f, input),
        "GetFunctionConfiguration" => get_function_configuration::call(f, input),
        "ListFunctions" => list_functions::call(f, input),
        "UpdateFunctionCode" => update_function_code::call(f, input).await,
        "UpdateFunctionConfiguration" => update_function_configuration::call(f, input).await,
        "DeleteFunction" => delete_function::call(f, input).await,
        "Invoke" => invoke::call(f, input).await,
        "PublishVersion" => publish_version::call(f, input).await,
        "ListVersionsByFunction" => list_versions_by_function::call(f, input),
        "CreateAlias" => create_alias::call(f, input).await,
        "GetAlias" => get_alias::call(f, input),
        "ListAliases" => list_aliases::call(f, input),
        "UpdateAlias" => update_alias::call(f, input).await,
        "DeleteAlias" => delete_alias::call(f, input).await,
        "TagResource" => tag_resource::call(f, input).await,
        "UntagResource" => untag_resource::call(f, input).await,
        "ListTags" => list_tags::call(f, input),
        "PutFunctionConcurrency" => put_function_concurrency::call(f, input).await,
        "GetFunctionConcurrency" => get_function_concurrency::call(f, input),
        "DeleteFunctionConcurrency" => delete_function_concurrency::call(f, input).await,
        "GetAccountSettings" => Ok(get_account_settings::call(f)),
        "PutFunctionEventInvokeConfig" => put_function_event_invoke_config::call(f, input).await,
        "UpdateFunctionEventInvokeConfig" => {
            update_function_event_invoke_config::call(f, input).await
        }
        "GetFunctionEventInvokeConfig" => get_function_event_invoke_config::call(f, input),
        "ListFunctionEventInvokeConfigs" => list_function_event_invoke_configs::call(f, input),
        "DeleteFunctionEventInvokeConfig" => {
            delete_function_event_invoke_config::call(f, input).await
        }
        _ => return None,
    })
}

/// Runs event source mapping operation `op`; `None` when `op` is not one.
pub(crate) async fn dispatch_mapping(
    f: &Functions,
    m: &Mappings,
    op: &str,
    input: Value,
) -> Option<Result<Value, Error>> {
    Some(match op {
        "CreateEventSourceMapping" => create_event_source_mapping::call(f, m, input).await,
        "GetEventSourceMapping" => get_event_source_mapping::call(m, input),
        "ListEventSourceMappings" => list_event_source_mappings::call(f, m, input),
        "UpdateEventSourceMapping" => update_event_source_mapping::call(f, m, input).await,
        "DeleteEventSourceMapping" => delete_event_source_mapping::call(m, input).await,
        _ => return None,
    })
}

/// Decodes an operation's input DTO; a member of the wrong type is AWS's
/// InvalidRequestContentException.
fn decode<T: DeserializeOwned>(input: Value) -> Result<T, Error> {
    serde_json::from_value(input).map_err(|e| {
        Error::InvalidRequestContent(format!("Could not parse request body into json: {e}"))
    })
}

/// The validator's ValidationException, if any constraint failed.
fn finish(v: Validator) -> Result<(), Error> {
    match v.finish() {
        Some(m) => Err(Error::Validation(m)),
        None => Ok(()),
    }
}

/// Pages `items` by `Marker` (the key of the first item of the page) and `MaxItems`.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    max_items: Option<i64>,
    default_max: usize,
) -> (Vec<T>, Option<String>) {
    let max = max_items
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(default_max)
        .max(1);
    let mut items: Vec<T> = match marker {
        Some(m) if !m.is_empty() => items.into_iter().filter(|i| key(i).as_str() >= m).collect(),
        _ => items,
    };
    let next = items.get(max).map(&key);
    items.truncate(max);
    (items, next)
}
