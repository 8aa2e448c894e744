// SPDX-License-Identifier: Apache-2.0
//! DescribeQueries: the queries this server ran recently, newest first, filtered by log
//! group and status, in pages of `maxResults` (default 1,000).

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::start_query::{InsightsOp, LANGUAGES, check_language};
use super::{Checked, group_name, next_token, text};
use crate::insights::error::QueryError;
use crate::service::Logs;

const STATUSES: &[&str] = &[
    "Scheduled",
    "Running",
    "Complete",
    "Failed",
    "Cancelled",
    "Timeout",
    "Unknown",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    status: Option<JStr>,
    max_results: Option<JInt>,
    next_token: Option<JStr>,
    query_language: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryInfo {
    query_language: &'static str,
    query_id: String,
    query_string: String,
    status: &'static str,
    create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_group_name: Option<String>,
    query_duration: i64,
    bytes_scanned: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    queries: Vec<QueryInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct DescribeQueries;

impl Checked for DescribeQueries {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        v.one_of("status", text(&i.status), STATUSES);
        v.int(
            "maxResults",
            i.max_results.map(|n| n.0),
            Some(1),
            Some(1000),
        );
        next_token(v, &i.next_token);
        v.one_of("queryLanguage", text(&i.query_language), LANGUAGES);
    }
}

impl InsightsOp for DescribeQueries {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, QueryError> {
        if text(&i.query_language).is_some_and(|l| l != "CWLI") {
            check_language(&i.query_language)?;
        }
        let now = logs.now_ms();
        let all: Vec<QueryInfo> = logs
            .queries()
            .list()
            .into_iter()
            .filter(|q| text(&i.log_group_name).is_none_or(|g| q.groups.iter().any(|n| n == g)))
            .filter_map(|q| {
                let snap = q.snapshot();
                if text(&i.status).is_some_and(|s| s != snap.status.as_str()) {
                    return None;
                }
                Some(QueryInfo {
                    query_language: "CWLI",
                    query_id: q.id.clone(),
                    query_string: q.query_string.clone(),
                    status: snap.status.as_str(),
                    create_time: q.created_ms,
                    log_group_name: q.groups.first().cloned(),
                    query_duration: q.duration_ms(now),
                    bytes_scanned: snap.statistics.bytes_scanned as f64,
                })
            })
            .collect();
        let (queries, next_token) =
            offset_page(all, text(&i.next_token), "q", i.max_results.map(|n| n.0))?;
        Ok(Output {
            queries,
            next_token,
        })
    }
}

/// One page of `all` for a `nextToken` that is `tag` followed by an offset into the list,
/// `max_results` items long (default 1,000); with the token of the next page, if any.
pub(crate) fn offset_page<T>(
    all: Vec<T>,
    next_token: Option<&str>,
    tag: &str,
    max_results: Option<i64>,
) -> Result<(Vec<T>, Option<String>), QueryError> {
    let from = match next_token {
        None => 0,
        Some(t) => t
            .strip_prefix(tag)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| QueryError::Invalid("The specified nextToken is invalid.".into()))?,
    };
    let page = max_results
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1000);
    let to = from.saturating_add(page).min(all.len());
    let next = (to < all.len()).then(|| format!("{tag}{to}"));
    Ok((all.into_iter().skip(from).take(to - from).collect(), next))
}
