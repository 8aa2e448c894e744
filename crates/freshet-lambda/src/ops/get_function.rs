// SPDX-License-Identifier: Apache-2.0
//! GetFunction.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::record::VersionConfig;
use crate::functions::{Error, Functions};
use crate::ops::decode;
use crate::ops::names::{check_qualified, reference};
use crate::ops::shapes::configuration;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    qualifier: Option<String>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    check_qualified(&i.function_name, i.qualifier.as_deref())?;
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
fn code_location(f: &Functions, c: &VersionConfig) -> Value {
    let path = match &c.code.local_dir {
        Some(d) => d.clone(),
        None => f.inner.code.unpacked_dir(&c.code.sha256),
    };
    json!({ "RepositoryType": "S3", "Location": format!("file://{}", path.display()) })
}
