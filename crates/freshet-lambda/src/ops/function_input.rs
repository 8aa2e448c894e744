// SPDX-License-Identifier: Apache-2.0
//! Input members and checks shared by CreateFunction, UpdateFunctionConfiguration and
//! UpdateFunctionCode: the nested configuration DTOs, the configuration limits, and where the
//! code comes from.
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

use crate::functions::change::CodeSource;
use crate::functions::names;
use crate::functions::{Error, config};

/// The bucket name of the local-directory extension.
pub const LOCAL_BUCKET: &str = "freshet-local";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CodeInput {
    pub(crate) zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub(crate) s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub(crate) s3_key: Option<String>,
    pub(crate) image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct EnvInput {
    pub(crate) variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct SizeInput {
    pub(crate) size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TracingInput {
    pub(crate) mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct LoggingInput {
    pub(crate) log_format: Option<String>,
    pub(crate) log_group: Option<String>,
}

/// The members' limits, in model order (one argument per member, as the model lists them).
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_config(
    v: &mut Validator,
    role: Option<&str>,
    handler: Option<&str>,
    description: Option<&str>,
    timeout: Option<i64>,
    memory: Option<i64>,
    env: Option<&BTreeMap<String, String>>,
    architectures: Option<&[String]>,
    ephemeral_storage: Option<i64>,
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
    // An unknown Runtime is Lambda's InvalidParameterValueException (`config::runtime`), not a
    // model ValidationException.
    config::validate_env_keys(v, env);
    config::validate_architectures(v, architectures);
    config::validate_ephemeral_storage(v, ephemeral_storage);
}

pub(crate) fn code_source(
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

pub(crate) fn image_unsupported() -> Error {
    Error::InvalidParameter(
        "Freshet runs .zip functions only: container images (PackageType Image) are not \
         supported."
            .into(),
    )
}

pub(crate) fn no_layers(layers: &Option<Vec<String>>) -> Result<(), Error> {
    match layers {
        Some(l) if !l.is_empty() => Err(Error::InvalidParameter(
            "Freshet does not support layers: include their files in the deployment package."
                .into(),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn int(v: Option<i64>, default: u32) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(default)
}
