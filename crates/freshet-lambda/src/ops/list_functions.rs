// SPDX-License-Identifier: Apache-2.0
//! ListFunctions.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::shapes::configuration;
use crate::ops::{decode, finish, page};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_version: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
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
