// SPDX-License-Identifier: Apache-2.0
//! TagResource, UntagResource and ListTagsForResource, by log group ARN.

use std::collections::BTreeMap;

use freshet_protocol::json::{JList, JMap, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use serde::{Deserialize, Serialize};

use super::{Checked, Empty, LogsOp, resource_arn, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagInput {
    resource_arn: Option<JStr>,
    tags: Option<JMap>,
}

pub(crate) struct TagResource;

impl Checked for TagResource {
    type Input = TagInput;

    fn validate(i: &TagInput, v: &mut Validator) {
        resource_arn(v, "resourceArn", &i.resource_arn);
        v.required("tags", &i.tags);
        v.string_map(
            "tags",
            i.tags.as_ref().map(|t| &t.0),
            (1, 50),
            (1, 128),
            (0, 256),
        );
    }
}

impl LogsOp for TagResource {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: TagInput) -> Result<Empty, Error> {
        let group = logs.group_of_arn(text(&i.resource_arn).unwrap_or_default())?;
        logs.tag_log_group(&group, i.tags.map(|t| t.0).unwrap_or_default())
            .await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagInput {
    resource_arn: Option<JStr>,
    tag_keys: Option<JList<JStr>>,
}

pub(crate) struct UntagResource;

impl Checked for UntagResource {
    type Input = UntagInput;

    fn validate(i: &UntagInput, v: &mut Validator) {
        resource_arn(v, "resourceArn", &i.resource_arn);
        v.required("tagKeys", &i.tag_keys);
        let keys: Option<Vec<String>> = i
            .tag_keys
            .as_ref()
            .map(|l| l.0.iter().map(|s| s.0.clone()).collect());
        v.string_list(
            "tagKeys",
            keys.as_deref(),
            (0, 50),
            StringMember::Length(1, 128),
        );
    }
}

impl LogsOp for UntagResource {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: UntagInput) -> Result<Empty, Error> {
        let group = logs.group_of_arn(text(&i.resource_arn).unwrap_or_default())?;
        let keys = i
            .tag_keys
            .map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default();
        logs.untag_log_group(&group, keys).await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListInput {
    resource_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TagsOutput {
    pub(crate) tags: BTreeMap<String, String>,
}

pub(crate) struct ListTagsForResource;

impl Checked for ListTagsForResource {
    type Input = ListInput;

    fn validate(i: &ListInput, v: &mut Validator) {
        resource_arn(v, "resourceArn", &i.resource_arn);
    }
}

impl LogsOp for ListTagsForResource {
    type Output = TagsOutput;

    async fn call(logs: &Logs, i: ListInput) -> Result<TagsOutput, Error> {
        let group = logs.group_of_arn(text(&i.resource_arn).unwrap_or_default())?;
        Ok(TagsOutput {
            tags: logs.log_group_tags(&group)?,
        })
    }
}
