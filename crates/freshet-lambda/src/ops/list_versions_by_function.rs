// SPDX-License-Identifier: Apache-2.0
//! ListVersionsByFunction.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::record::VersionConfig;
use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish, page};

// `FunctionVersion` is not a member of this operation; it is kept so decoding stays as it was
// when this DTO was shared with ListAliases.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    #[allow(dead_code)]
    function_version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, true);
    v.int("maxItems", i.max_items, Some(1), Some(10_000));
    finish(v)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let e = f.entry(&name)?;
    let versions = f.versions(&name)?;
    // `$LATEST` sorts first, then versions by number: the key keeps that order.
    let key = |c: &VersionConfig| match c.version.parse::<u64>() {
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
