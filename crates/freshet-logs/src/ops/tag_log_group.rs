// SPDX-License-Identifier: Apache-2.0
//! TagLogGroup, UntagLogGroup and ListTagsLogGroup: the older, by-name tagging operations.

use freshet_protocol::json::{JList, JMap, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use serde::Deserialize;

use super::tag_resource::TagsOutput;
use super::{Checked, Empty, LogsOp, check_long_names, group_name, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TagInput {
    log_group_name: Option<JStr>,
    tags: Option<JMap>,
}

pub(crate) struct TagLogGroup;

impl Checked for TagLogGroup {
    type Input = TagInput;

    fn precheck(i: &TagInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &TagInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
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

impl LogsOp for TagLogGroup {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: TagInput) -> Result<Empty, Error> {
        logs.tag_log_group(
            text(&i.log_group_name).unwrap_or_default(),
            i.tags.map(|t| t.0).unwrap_or_default(),
        )
        .await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UntagInput {
    log_group_name: Option<JStr>,
    tags: Option<JList<JStr>>,
}

pub(crate) struct UntagLogGroup;

impl Checked for UntagLogGroup {
    type Input = UntagInput;

    fn precheck(i: &UntagInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &UntagInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        v.required("tags", &i.tags);
        let keys: Option<Vec<String>> = i
            .tags
            .as_ref()
            .map(|l| l.0.iter().map(|s| s.0.clone()).collect());
        v.string_list(
            "tags",
            keys.as_deref(),
            (1, usize::MAX),
            StringMember::Length(1, 128),
        );
    }
}

impl LogsOp for UntagLogGroup {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: UntagInput) -> Result<Empty, Error> {
        let keys = i
            .tags
            .map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default();
        logs.untag_log_group(text(&i.log_group_name).unwrap_or_default(), keys)
            .await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListInput {
    log_group_name: Option<JStr>,
}

pub(crate) struct ListTagsLogGroup;

impl Checked for ListTagsLogGroup {
    type Input = ListInput;

    fn precheck(i: &ListInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &ListInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
    }
}

impl LogsOp for ListTagsLogGroup {
    type Output = TagsOutput;

    async fn call(logs: &Logs, i: ListInput) -> Result<TagsOutput, Error> {
        Ok(TagsOutput {
            tags: logs.log_group_tags(text(&i.log_group_name).unwrap_or_default())?,
        })
    }
}
