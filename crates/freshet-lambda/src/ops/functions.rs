// SPDX-License-Identifier: Apache-2.0
//! CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration and DeleteFunction.
//!
//! Code comes as `Code.ZipFile` (base64 in the JSON), or, as a Freshet extension that boto3
//! and the CLI send unchanged, as `S3Bucket: "freshet-local"` with `S3Key` the absolute path
//! of a directory the handler runs in place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use bytes::Bytes;
use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::change::{CodeSource, ConfigChange, NewFunction};
use crate::functions::names::{self, FunctionRef};
use crate::functions::{Error, Functions, config};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish, page};

/// The bucket name of the local-directory extension.
pub const LOCAL_BUCKET: &str = "freshet-local";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CodeInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct EnvInput {
    variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct SizeInput {
    size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TracingInput {
    mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LoggingInput {
    log_format: Option<String>,
    log_group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateInput {
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct UpdateConfigInput {
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct UpdateCodeInput {
    function_name: Option<String>,
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    image_uri: Option<String>,
    publish: Option<bool>,
    dry_run: Option<bool>,
    revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct QualifiedInput {
    function_name: Option<String>,
    qualifier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListInput {
    function_version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

/// The model checks of a `FunctionName` member (`pattern` and `max` differ by operation).
pub(crate) fn check_name(v: &mut Validator, name: &Option<String>, namespaced: bool) {
    v.required("functionName", name);
    let (pattern, max): (freshet_protocol::validate::Pattern, usize) = if namespaced {
        (
            (
                names::is_namespaced_function_name,
                names::NAMESPACED_FUNCTION_NAME_PATTERN,
            ),
            256,
        )
    } else {
        ((names::is_function_name, names::FUNCTION_NAME_PATTERN), 140)
    };
    v.string("functionName", name.as_deref(), 1, Some(max), Some(pattern));
}

/// The members' limits, in model order (one argument per member, as the model lists them).
#[allow(clippy::too_many_arguments)]
fn check_config(
    v: &mut Validator,
    role: Option<&str>,
    handler: Option<&str>,
    description: Option<&str>,
    timeout: Option<i64>,
    memory: Option<i64>,
    runtime: Option<&str>,
    env: Option<&BTreeMap<String, String>>,
) {
    v.string(
        "role",
        role,
        0,
        None,
        Some((names::is_role, names::ROLE_PATTERN)),
    );
    v.string(
        "handler",
        handler,
        0,
        Some(128),
        Some((names::is_handler, names::HANDLER_PATTERN)),
    );
    v.string("description", description, 0, Some(256), None);
    config::validate_limits(v, timeout, memory);
    config::validate_runtime_enum(v, runtime);
    config::validate_env_keys(v, env);
}

fn code_source(
    zip: Option<String>,
    bucket: Option<String>,
    key: Option<String>,
    image: Option<String>,
) -> Result<CodeSource, Error> {
    if image.is_some() {
        return Err(image_unsupported());
    }
    if let Some(b64) = zip {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| {
                Error::InvalidRequestContent(
                    "Could not parse request body into json: ZipFile is not valid base64".into(),
                )
            })?;
        return Ok(CodeSource::Zip(Bytes::from(bytes)));
    }
    match (bucket.as_deref(), key) {
        (Some(LOCAL_BUCKET), Some(dir)) => Ok(CodeSource::LocalDir(PathBuf::from(dir))),
        (Some(_), _) => Err(Error::InvalidParameter(format!(
            "Freshet does not serve S3 yet: deploy code with ZipFile, or with S3Bucket \
             \"{LOCAL_BUCKET}\" and S3Key the absolute path of a local code directory."
        ))),
        (None, _) => Err(Error::InvalidParameter(
            "Please provide a source for function code.".into(),
        )),
    }
}

fn image_unsupported() -> Error {
    Error::InvalidParameter(
        "Freshet runs .zip functions only: container images (PackageType Image) are not \
         supported."
            .into(),
    )
}

fn no_layers(layers: &Option<Vec<String>>) -> Result<(), Error> {
    match layers {
        Some(l) if !l.is_empty() => Err(Error::InvalidParameter(
            "Freshet does not support layers: include their files in the deployment package."
                .into(),
        )),
        _ => Ok(()),
    }
}

fn int(v: Option<i64>, default: u32) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(default)
}

/// The function a `FunctionName` member names (validated already), with the qualifier.
pub(crate) fn reference(
    f: &Functions,
    name: Option<&str>,
    qualifier: Option<&str>,
) -> Result<FunctionRef, Error> {
    f.reference(name.unwrap_or_default(), qualifier)
}

/// A reference that must not carry a qualifier (operations on the function as a whole).
pub(crate) fn unqualified(f: &Functions, name: Option<&str>) -> Result<String, Error> {
    let r = reference(f, name, None)?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameter(
            "Unsupported qualifier: this operation applies to the unqualified function.".into(),
        ));
    }
    Ok(r.name)
}

pub(crate) async fn create(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: CreateInput = decode(input)?;
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
        i.runtime.as_deref(),
        env,
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

pub(crate) fn get(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: QualifiedInput = decode(input)?;
    check_qualified(&i)?;
    let r = reference(f, i.function_name.as_deref(), i.qualifier.as_deref())?;
    let resolved = f.resolve(&r)?;
    let mut out = json!({
        "Configuration": configuration(f, &resolved.record, &resolved.config),
        "Code": code_location(f, &resolved.config),
        "Tags": resolved.record.tags,
    });
    if let Some(n) = resolved.record.reserved_concurrency {
        out["Concurrency"] = json!({ "ReservedConcurrentExecutions": n });
    }
    Ok(out)
}

/// Where the code is: Freshet serves no download URL, so the location is the local path.
fn code_location(f: &Functions, c: &crate::functions::record::VersionConfig) -> Value {
    let path = match &c.code.local_dir {
        Some(d) => d.clone(),
        None => f.inner.code.unpacked_dir(&c.code.sha256),
    };
    json!({ "RepositoryType": "S3", "Location": format!("file://{}", path.display()) })
}

fn check_qualified(i: &QualifiedInput) -> Result<(), Error> {
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, true);
    v.string(
        "qualifier",
        i.qualifier.as_deref(),
        1,
        Some(128),
        Some((names::is_qualifier, names::QUALIFIER_PATTERN)),
    );
    finish(v)
}

pub(crate) fn get_configuration(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: QualifiedInput = decode(input)?;
    check_qualified(&i)?;
    let r = reference(f, i.function_name.as_deref(), i.qualifier.as_deref())?;
    let resolved = f.resolve(&r)?;
    Ok(configuration(f, &resolved.record, &resolved.config))
}

pub(crate) fn list(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ListInput = decode(input)?;
    let mut v = Validator::new();
    v.one_of("functionVersion", i.function_version.as_deref(), &["ALL"]);
    v.int("maxItems", i.max_items, Some(1), Some(10_000));
    finish(v)?;
    let all = f.list(i.function_version.is_some());
    let (items, next) = page(
        all,
        |(r, c)| format!("{}:{}", r.name, c.version),
        i.marker.as_deref(),
        i.max_items.map(|m| m.min(50)),
        50,
    );
    let functions: Vec<Value> = items.iter().map(|(r, c)| configuration(f, r, c)).collect();
    let mut out = json!({ "Functions": functions });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}

pub(crate) async fn update_code(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: UpdateCodeInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let source = code_source(i.zip_file, i.s3_bucket, i.s3_key, i.image_uri)?;
    if i.dry_run.unwrap_or(false) {
        let e = f.entry(&name)?;
        return Ok(configuration(f, &e.record, &e.record.latest));
    }
    let (record, shown) = f
        .update_code(
            &name,
            source,
            i.publish.unwrap_or(false),
            i.revision_id.as_deref(),
        )
        .await?;
    Ok(configuration(f, &record, &shown))
}

pub(crate) async fn update_configuration(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: UpdateConfigInput = decode(input)?;
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
        i.runtime.as_deref(),
        env,
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

pub(crate) async fn delete(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: QualifiedInput = decode(input)?;
    check_qualified(&i)?;
    let r = reference(f, i.function_name.as_deref(), i.qualifier.as_deref())?;
    f.delete(&r.name, r.qualifier.as_deref()).await?;
    Ok(json!({}))
}
