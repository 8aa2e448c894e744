// SPDX-License-Identifier: Apache-2.0
//! GetAlias.

use serde_json::Value;

use crate::functions::{Error, Functions};
use crate::ops::alias_input::{AliasInput, check_alias};
use crate::ops::decode;
use crate::ops::names::unqualified;
use crate::ops::shapes::alias;

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    let a = f.alias(&name, i.name.as_deref().unwrap_or_default())?;
    Ok(alias(f, &name, &a))
}
