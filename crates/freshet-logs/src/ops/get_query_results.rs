// SPDX-License-Identifier: Apache-2.0
//! GetQueryResults: the rows as lists of {field, value} (`@ptr` last in each row of a query
//! without `stats`), the statistics, the status; partial rows while Running. `maxItems` and
//! `nextToken` page through the rows (10,000 per page by default, as AWS).

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::start_query::InsightsOp;
use super::{Checked, text};
use crate::insights::error::QueryError;
use crate::service::Logs;

const PAGE: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    query_id: Option<JStr>,
    next_token: Option<JStr>,
    max_items: Option<JInt>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResultField {
    field: String,
    value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Statistics {
    records_matched: f64,
    records_scanned: f64,
    estimated_records_skipped: f64,
    bytes_scanned: f64,
    estimated_bytes_skipped: f64,
    log_groups_scanned: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    query_language: &'static str,
    results: Vec<Vec<ResultField>>,
    statistics: Statistics,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct GetQueryResults;

impl Checked for GetQueryResults {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("queryId", &i.query_id);
        v.string("queryId", text(&i.query_id), 1, Some(256), None);
        v.string("nextToken", text(&i.next_token), 0, Some(1024), None);
        v.int("maxItems", i.max_items.map(|n| n.0), Some(0), Some(10_000));
    }
}

impl InsightsOp for GetQueryResults {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, QueryError> {
        let id = i.query_id.map(|s| s.0).unwrap_or_default();
        let q = logs.queries().get(&id)?;
        let snap = q.snapshot();
        let from = match text(&i.next_token) {
            None => 0,
            Some(t) => t
                .strip_prefix("r")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= snap.results.len())
                .ok_or_else(|| QueryError::Invalid("The specified nextToken is invalid.".into()))?,
        };
        let page = match i.max_items.map(|n| n.0) {
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(PAGE),
            _ => PAGE,
        };
        let to = from.saturating_add(page).min(snap.results.len());
        let s = snap.statistics;
        Ok(Output {
            query_language: "CWLI",
            results: snap.results[from..to]
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|(f, v)| ResultField {
                            field: f.clone(),
                            value: v.clone(),
                        })
                        .collect()
                })
                .collect(),
            statistics: Statistics {
                records_matched: s.records_matched as f64,
                records_scanned: s.records_scanned as f64,
                estimated_records_skipped: 0.0,
                bytes_scanned: s.bytes_scanned as f64,
                estimated_bytes_skipped: 0.0,
                log_groups_scanned: s.log_groups_scanned as f64,
            },
            status: snap.status.as_str(),
            next_token: (to < snap.results.len()).then(|| format!("r{to}")),
        })
    }
}
