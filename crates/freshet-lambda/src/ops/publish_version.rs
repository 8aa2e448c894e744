// SPDX-License-Identifier: Apache-2.0
//! PublishVersion.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    v.string("description", i.description.as_deref(), 0, Some(256), None);
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let version = f
        .publish_version(
            &name,
            i.code_sha256.as_deref(),
            i.description,
            i.revision_id.as_deref(),
        )
        .await?;
    let e = f.entry(&name)?;
    Ok(configuration(f, &e.record, &version))
}
