// SPDX-License-Identifier: Apache-2.0
//! CreateFunction.

use std::collections::BTreeMap;

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::Value;

use crate::functions::change::NewFunction;
use crate::functions::{Error, Functions};
use crate::ops::function_input::{
    CodeInput, EnvInput, LoggingInput, SizeInput, TracingInput, check_config, code_source,
    image_unsupported, int, no_layers,
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
    code: Option<CodeInput>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    publish: Option<bool>,
    environment: Option<EnvInput>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    ephemeral_storage: Option<SizeInput>,
    tracing_config: Option<TracingInput>,
    logging_config: Option<LoggingInput>,
    package_type: Option<String>,
    layers: Option<Vec<String>>,
}

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    v.required("role", &i.role);
    v.required("code", &i.code);
    let env = i.environment.as_ref().and_then(|e| e.variables.as_ref());
    check_config(
        &mut v,
        i.role.as_deref(),
        i.handler.as_deref(),
        i.description.as_deref(),
        i.timeout,
        i.memory_size,
        env,
        i.architectures.as_deref(),
        i.ephemeral_storage.as_ref().and_then(|e| e.size),
    );
    finish(v)?;
    if i.package_type.as_deref() == Some("Image") {
        return Err(image_unsupported());
    }
    no_layers(&i.layers)?;
    let (Some(runtime), Some(handler)) = (i.runtime, i.handler) else {
        return Err(Error::InvalidParameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment \
             packages."
                .into(),
        ));
    };
    let name = unqualified(f, i.function_name.as_deref())?;
    let code = i.code.unwrap_or_default();
    let source = code_source(code.zip_file, code.s3_bucket, code.s3_key, code.image_uri)?;
    let logging = i.logging_config.unwrap_or_default();
    let new = NewFunction {
        name,
        runtime,
        handler,
        role: i.role.unwrap_or_default(),
        code: source,
        description: i.description.unwrap_or_default(),
        timeout: int(i.timeout, 3),
        memory_size: int(i.memory_size, 128),
        environment: i.environment.and_then(|e| e.variables).unwrap_or_default(),
        publish: i.publish.unwrap_or(false),
        tags: i.tags.unwrap_or_default(),
        architecture: i
            .architectures
            .and_then(|a| a.into_iter().next())
            .unwrap_or_else(|| "x86_64".into()),
        ephemeral_storage: int(i.ephemeral_storage.and_then(|e| e.size), 512),
        tracing_mode: i
            .tracing_config
            .and_then(|t| t.mode)
            .unwrap_or_else(|| "PassThrough".into()),
        log_group: logging.log_group,
        log_format: logging.log_format.unwrap_or_else(|| "Text".into()),
    };
    let (record, shown) = f.create(new).await?;
    Ok(configuration(f, &record, &shown))
}
