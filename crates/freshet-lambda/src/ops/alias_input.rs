// SPDX-License-Identifier: Apache-2.0
//! The input shared by CreateAlias, GetAlias, UpdateAlias and DeleteAlias: one DTO with the
//! alias members, their model checks, and the change it asks for.

use std::collections::BTreeMap;

use freshet_protocol::validate::Validator;
use serde::Deserialize;

use crate::functions::Error;
use crate::functions::names;
use crate::functions::versions::AliasChange;
use crate::ops::finish;
use crate::ops::names::check_name;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Routing {
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct AliasInput {
    pub(crate) function_name: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) function_version: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) routing_config: Option<Routing>,
    pub(crate) revision_id: Option<String>,
}

pub(crate) fn check_alias(i: &AliasInput, name_required: bool) -> Result<(), Error> {
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

pub(crate) fn change(i: AliasInput) -> AliasChange {
    AliasChange {
        function_version: i.function_version,
        description: i.description,
        weights: i
            .routing_config
            .map(|r| r.additional_version_weights.unwrap_or_default()),
        revision_id: i.revision_id,
    }
}
