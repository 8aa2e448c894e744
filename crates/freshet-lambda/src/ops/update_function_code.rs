// SPDX-License-Identifier: Apache-2.0
//! UpdateFunctionCode.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::function_input::code_source;
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
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

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
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
