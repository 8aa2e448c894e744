// SPDX-License-Identifier: Apache-2.0
//! ListAliases.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::names::{check_name, unqualified};
use crate::ops::shapes::alias;
use crate::ops::{decode, finish, page};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    function_version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
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
