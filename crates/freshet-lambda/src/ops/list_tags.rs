// SPDX-License-Identifier: Apache-2.0
//! ListTags.

use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::decode;
use crate::ops::tags::{TagInput, tagged_function};

pub(crate) fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: TagInput = decode(input)?;
    let name = tagged_function(f, i.resource.as_deref())?;
    let e = f.entry(&name)?;
    Ok(json!({ "Tags": e.record.tags }))
}
