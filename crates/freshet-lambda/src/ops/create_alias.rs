// SPDX-License-Identifier: Apache-2.0
//! CreateAlias.

use freshet_protocol::validate::Validator;
use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::alias_input::{AliasInput, change, check_alias};
use crate::ops::names::unqualified;
use crate::ops::shapes::alias;
use crate::ops::{decode, finish};

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
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
