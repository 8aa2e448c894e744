// SPDX-License-Identifier: Apache-2.0
//! TagResource, UntagResource, ListTags, Put/Get/DeleteFunctionConcurrency and
//! GetAccountSettings.

use std::collections::BTreeMap;

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::code::{MAX_UNZIPPED, MAX_ZIPPED};
use crate::functions::names::{self, Taggable};
use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TagInput {
    resource: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ConcurrencyInput {
    function_name: Option<String>,
    reserved_concurrent_executions: Option<i64>,
}

/// The function a taggable ARN names (functions are the only taggable resource here).
fn tagged_function(f: &Functions, resource: Option<&str>) -> Result<String, Error> {
    let mut v = Validator::new();
    v.string(
        "resource",
        resource,
        1,
        Some(256),
        Some((
            |s| names::parse_taggable(s).is_some(),
            names::TAGGABLE_RESOURCE_PATTERN,
        )),
    );
    finish(v)?;
    let arn = resource.unwrap_or_default();
    match names::parse_taggable(arn) {
        Some(Taggable::Function(r)) if r.qualifier.is_none() => {
            let r = f.reference(arn, None)?;
            f.entry(&r.name)?;
            Ok(r.name)
        }
        Some(Taggable::Function(_)) => Err(Error::InvalidParameter(
            "Tags are not supported on function versions or aliases.".into(),
        )),
        _ => Err(Error::FunctionNotFound {
            arn: arn.to_owned(),
        }),
    }
}

pub(crate) async fn tag(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: TagInput = decode(input)?;
    let mut v = Validator::new();
    v.required("tags", &i.tags);
    finish(v)?;
    let name = tagged_function(f, i.resource.as_deref())?;
    f.tag(&name, i.tags.unwrap_or_default()).await?;
    Ok(json!({}))
}

pub(crate) async fn untag(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: TagInput = decode(input)?;
    let mut v = Validator::new();
    v.required("tagKeys", &i.tag_keys);
    finish(v)?;
    let name = tagged_function(f, i.resource.as_deref())?;
    f.untag(&name, &i.tag_keys.unwrap_or_default()).await?;
    Ok(json!({}))
}

pub(crate) fn list_tags(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: TagInput = decode(input)?;
    let name = tagged_function(f, i.resource.as_deref())?;
    let e = f.entry(&name)?;
    Ok(json!({ "Tags": e.record.tags }))
}

pub(crate) async fn put_concurrency(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ConcurrencyInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    v.required(
        "reservedConcurrentExecutions",
        &i.reserved_concurrent_executions,
    );
    v.int(
        "reservedConcurrentExecutions",
        i.reserved_concurrent_executions,
        Some(0),
        None,
    );
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let n = i
        .reserved_concurrent_executions
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(u32::MAX);
    f.set_concurrency(&name, Some(n)).await?;
    Ok(json!({ "ReservedConcurrentExecutions": n }))
}

pub(crate) fn get_concurrency(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ConcurrencyInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let e = f.entry(&name)?;
    Ok(match e.record.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    })
}

pub(crate) async fn delete_concurrency(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ConcurrencyInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    f.set_concurrency(&name, None).await?;
    Ok(json!({}))
}

pub(crate) fn account(f: &Functions) -> Value {
    let (count, code, unreserved) = f.account_usage();
    json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800u64,
            "CodeSizeUnzipped": MAX_UNZIPPED,
            "CodeSizeZipped": MAX_ZIPPED,
            "ConcurrentExecutions": f.options().total_concurrency,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": { "TotalCodeSize": code, "FunctionCount": count },
    })
}
