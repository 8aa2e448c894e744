// SPDX-License-Identifier: Apache-2.0
//! Shapes and checks shared by the tag, resource-policy and encryption operations.

use freshet_protocol::json::{JList, JMap, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use serde::Serialize;

use crate::ops::patterns::{RESOURCE_ARN_PATTERN, is_resource_arn};

/// Model bounds of `TagMap`: entries, key length, value length.
const TAG_MAP: ((usize, usize), (usize, usize), (usize, usize)) = ((1, 200), (1, 128), (0, 256));

/// Validates a `ResourceARN` member (required).
pub(crate) fn validate_resource_arn(v: &mut Validator, arn: &Option<JStr>) {
    v.required("resourceARN", arn);
    v.string(
        "resourceARN",
        arn.as_ref().map(|s| s.0.as_str()),
        1,
        Some(2048),
        Some((is_resource_arn, RESOURCE_ARN_PATTERN)),
    );
}

/// Validates a `TagMap` member at `path`.
pub(crate) fn validate_tag_map(v: &mut Validator, path: &str, tags: &Option<JMap>) {
    let (entries, key, value) = TAG_MAP;
    v.string_map(path, tags.as_ref().map(|t| &t.0), entries, key, value);
}

/// Validates a required `TagKeyList` member (1..50 keys of 1..128 characters).
pub(crate) fn validate_tag_keys(v: &mut Validator, keys: &Option<JList<JStr>>) {
    v.required("tagKeys", keys);
    let keys = tag_keys(keys.as_ref());
    v.string_list(
        "tagKeys",
        keys.as_deref(),
        (1, 50),
        StringMember::Length(1, 128),
    );
}

/// The strings of a `TagKeyList`.
pub(crate) fn tag_keys(keys: Option<&JList<JStr>>) -> Option<Vec<String>> {
    keys.map(|k| k.0.iter().map(|s| s.0.clone()).collect())
}

/// `Tag`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagDto {
    pub key: String,
    pub value: String,
}

/// Tags in the order given, as `Tag` shapes.
pub(crate) fn tag_list(tags: Vec<(String, String)>) -> Vec<TagDto> {
    tags.into_iter()
        .map(|(key, value)| TagDto { key, value })
        .collect()
}
