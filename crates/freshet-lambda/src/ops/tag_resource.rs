// SPDX-License-Identifier: Apache-2.0
//! TagResource.

use freshet_protocol::validate::Validator;
use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::tags::{TagInput, tagged_function};
use crate::ops::{decode, finish};

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: TagInput = decode(input)?;
    let mut v = Validator::new();
    v.required("tags", &i.tags);
    finish(v)?;
    let name = tagged_function(f, i.resource.as_deref())?;
    f.tag(&name, i.tags.unwrap_or_default()).await?;
    Ok(json!({}))
}
