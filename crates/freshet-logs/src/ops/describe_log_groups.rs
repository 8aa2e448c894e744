// SPDX-License-Identifier: Apache-2.0
//! DescribeLogGroups.

use freshet_protocol::json::{JBool, JInt, JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use serde::{Deserialize, Serialize};

use super::{
    CLASSES, Checked, LogsOp, count, group_name, is_group_name, limit, next_token, owned, text,
};
use crate::error::Error;
use crate::model::{DescribeGroups, GroupInfo};
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    account_identifiers: Option<JList<JStr>>,
    log_group_name_prefix: Option<JStr>,
    log_group_name_pattern: Option<JStr>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
    #[allow(dead_code)]
    include_linked_accounts: Option<JBool>,
    log_group_class: Option<JStr>,
    log_group_identifiers: Option<JList<JStr>>,
}

/// `LogGroup`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogGroupDto {
    log_group_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<u32>,
    metric_filter_count: usize,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stored_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    log_group_class: String,
    log_group_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_protection_enabled: Option<bool>,
}

impl LogGroupDto {
    /// The full description, or (`brief`, as with logGroupNamePattern) only the name, times,
    /// class, ARNs and filter count.
    fn from(g: GroupInfo, brief: bool) -> Self {
        LogGroupDto {
            log_group_name: g.name,
            creation_time: g.created_ms,
            retention_in_days: g.retention_days.filter(|_| !brief),
            metric_filter_count: g.metric_filter_count,
            arn: g.arn,
            stored_bytes: (!brief).then_some(g.stored_bytes),
            kms_key_id: g.kms_key_id.filter(|_| !brief),
            log_group_class: g.class,
            log_group_arn: g.group_arn,
            deletion_protection_enabled: (!brief).then_some(g.deletion_protection),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    log_groups: Vec<LogGroupDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn is_pattern(s: &str) -> bool {
    s.is_empty() || is_group_name(s)
}

pub(crate) struct DescribeLogGroups;

impl Checked for DescribeLogGroups {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        let strings = |l: &Option<JList<JStr>>| -> Option<Vec<String>> {
            l.as_ref()
                .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
        };
        if let Some(ids) = strings(&i.account_identifiers) {
            v.list_len(
                "accountIdentifiers",
                Some(ids.len()),
                &format!("[{}]", ids.join(", ")),
                0,
                20,
            );
        }
        group_name(v, "logGroupNamePrefix", &i.log_group_name_prefix, false);
        v.string(
            "logGroupNamePattern",
            text(&i.log_group_name_pattern),
            0,
            Some(512),
            Some((is_pattern, "[\\.\\-_/#A-Za-z0-9]*")),
        );
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 50);
        v.one_of("logGroupClass", text(&i.log_group_class), CLASSES);
        v.string_list(
            "logGroupIdentifiers",
            strings(&i.log_group_identifiers).as_deref(),
            (1, 50),
            StringMember::Length(1, 2048),
        );
    }
}

impl LogsOp for DescribeLogGroups {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let pattern = owned(i.log_group_name_pattern);
        let brief = pattern.is_some();
        let page = logs.describe_log_groups(&DescribeGroups {
            prefix: owned(i.log_group_name_prefix),
            pattern,
            identifiers: i
                .log_group_identifiers
                .map(|l| l.0.into_iter().map(|s| s.0).collect()),
            class: owned(i.log_group_class),
            limit: count(i.limit),
            next_token: owned(i.next_token),
        })?;
        Ok(Output {
            log_groups: page
                .items
                .into_iter()
                .map(|g| LogGroupDto::from(g, brief))
                .collect(),
            next_token: page.next_token,
        })
    }
}
