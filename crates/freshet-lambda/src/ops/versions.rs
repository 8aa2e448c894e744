// SPDX-License-Identifier: Apache-2.0
//! PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias, ListAliases, UpdateAlias
//! and DeleteAlias.

use std::collections::BTreeMap;

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::names;
use crate::functions::versions::AliasChange;
use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::{alias, configuration};
use crate::ops::{decode, finish, page};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PublishInput {
    function_name: Option<String>,
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListInput {
    function_name: Option<String>,
    function_version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Routing {
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AliasInput {
    function_name: Option<String>,
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<Routing>,
    revision_id: Option<String>,
}

pub(crate) async fn publish(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: PublishInput = decode(input)?;
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

pub(crate) fn list_versions(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ListInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, true);
    v.int("maxItems", i.max_items, Some(1), Some(10_000));
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let e = f.entry(&name)?;
    let versions = f.versions(&name)?;
    // `$LATEST` sorts first, then versions by number: the key keeps that order.
    let key = |c: &crate::functions::record::VersionConfig| match c.version.parse::<u64>() {
        Ok(n) => format!("{n:020}"),
        Err(_) => String::new(),
    };
    let (items, next) = page(
        versions,
        key,
        i.marker.as_deref(),
        i.max_items.map(|m| m.min(50)),
        50,
    );
    let list: Vec<Value> = items
        .iter()
        .map(|c| configuration(f, &e.record, c))
        .collect();
    let mut out = json!({ "Versions": list });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}

fn check_alias(i: &AliasInput, name_required: bool) -> Result<(), Error> {
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    if name_required {
        v.required("name", &i.name);
    }
    v.string(
        "name",
        i.name.as_deref(),
        1,
        Some(128),
        Some((names::is_alias, names::ALIAS_PATTERN)),
    );
    v.string(
        "functionVersion",
        i.function_version.as_deref(),
        1,
        Some(1024),
        Some((names::is_version, names::VERSION_PATTERN)),
    );
    v.string("description", i.description.as_deref(), 0, Some(256), None);
    finish(v)
}

fn change(i: AliasInput) -> AliasChange {
    AliasChange {
        function_version: i.function_version,
        description: i.description,
        weights: i
            .routing_config
            .map(|r| r.additional_version_weights.unwrap_or_default()),
        revision_id: i.revision_id,
    }
}

pub(crate) async fn create_alias(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    let mut v = Validator::new();
    v.required("functionVersion", &i.function_version);
    finish(v)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let alias_name = i.name.clone().unwrap_or_default();
    let a = f.create_alias(&name, &alias_name, change(i)).await?;
    Ok(alias(f, &name, &a))
}

pub(crate) fn get_alias(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let a = f.alias(&name, i.name.as_deref().unwrap_or_default())?;
    Ok(alias(f, &name, &a))
}

pub(crate) fn list_aliases(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: ListInput = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, false);
    v.int("maxItems", i.max_items, Some(1), Some(10_000));
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let all = f.aliases(&name, i.function_version.as_deref())?;
    let (items, next) = page(
        all,
        |a| a.name.clone(),
        i.marker.as_deref(),
        i.max_items,
        50,
    );
    let list: Vec<Value> = items.iter().map(|a| alias(f, &name, a)).collect();
    let mut out = json!({ "Aliases": list });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}

pub(crate) async fn update_alias(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let alias_name = i.name.clone().unwrap_or_default();
    let a = f.update_alias(&name, &alias_name, change(i)).await?;
    Ok(alias(f, &name, &a))
}

pub(crate) async fn delete_alias(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    f.delete_alias(&name, i.name.as_deref().unwrap_or_default())
        .await?;
    Ok(json!({}))
}
