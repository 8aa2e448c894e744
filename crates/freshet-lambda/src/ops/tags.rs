// SPDX-License-Identifier: Apache-2.0
//! The input shared by TagResource, UntagResource and ListTags, and how their `Resource`
//! ARN becomes the function it names (functions are the only taggable resource here).

use std::collections::BTreeMap;

use freshet_protocol::validate::Validator;
use serde::Deserialize;

use crate::functions::names::{self, Taggable};
use crate::functions::{Error, Functions};
use crate::ops::finish;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TagInput {
    pub(crate) resource: Option<String>,
    pub(crate) tags: Option<BTreeMap<String, String>>,
    pub(crate) tag_keys: Option<Vec<String>>,
}

/// The function a taggable ARN names (functions are the only taggable resource here).
pub(crate) fn tagged_function(f: &Functions, resource: Option<&str>) -> Result<String, Error> {
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
            "Tags on function aliases and versions are not supported. Please specify a \
             function ARN."
                .into(),
        )),
        _ => Err(Error::FunctionNotFound {
            arn: arn.to_owned(),
        }),
    }
}
