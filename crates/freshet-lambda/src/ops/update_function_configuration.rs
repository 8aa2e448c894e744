// SPDX-License-Identifier: Apache-2.0
//! UpdateFunctionConfiguration.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::Value;

use crate::functions::change::ConfigChange;
use crate::functions::{Error, Functions};
use crate::ops::function_input::{
    EnvInput, LoggingInput, SizeInput, TracingInput, check_config, no_layers,
};
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<EnvInput>,
    ephemeral_storage: Option<SizeInput>,
    tracing_config: Option<TracingInput>,
    logging_config: Option<LoggingInput>,
    revision_id: Option<String>,
    layers: Option<Vec<String>>,
}

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    let env = i.environment.as_ref().and_then(|e| e.variables.as_ref());
    check_config(
        &mut v,
        i.role.as_deref(),
        i.handler.as_deref(),
        i.description.as_deref(),
        i.timeout,
        i.memory_size,
        env,
        None,
        i.ephemeral_storage.as_ref().and_then(|e| e.size),
    );
    finish(v)?;
    no_layers(&i.layers)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let logging = i.logging_config.unwrap_or_default();
    let change = ConfigChange {
        runtime: i.runtime,
        handler: i.handler,
        role: i.role,
        description: i.description,
        timeout: i.timeout.and_then(|t| u32::try_from(t).ok()),
        memory_size: i.memory_size.and_then(|m| u32::try_from(m).ok()),
        // An Environment without Variables clears them, as in AWS.
        environment: i.environment.map(|e| e.variables.unwrap_or_default()),
        ephemeral_storage: i
            .ephemeral_storage
            .and_then(|e| e.size)
            .and_then(|s| u32::try_from(s).ok()),
        tracing_mode: i.tracing_config.and_then(|t| t.mode),
        log_group: logging.log_group,
        log_format: logging.log_format,
        revision_id: i.revision_id,
    };
    let (record, shown) = f.update_config(&name, change).await?;
    Ok(configuration(f, &record, &shown))
}
