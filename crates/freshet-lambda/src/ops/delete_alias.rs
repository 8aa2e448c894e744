// SPDX-License-Identifier: Apache-2.0
//! DeleteAlias.

use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::alias_input::{AliasInput, check_alias};
use crate::ops::decode;
use crate::ops::names::unqualified;

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: AliasInput = decode(input)?;
    check_alias(&i, true)?;
    let name = unqualified(f, i.function_name.as_deref())?;
    f.delete_alias(&name, i.name.as_deref().unwrap_or_default())
        .await?;
    Ok(json!({}))
}
