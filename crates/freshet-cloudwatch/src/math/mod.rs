// SPDX-License-Identifier: Apache-2.0
//! Metric math: the `Expression`s of GetMetricData, metric alarms and dashboard widgets.
//!
//! [`evaluate`] is the entry point: it reads every `MetricStat` query from the store and
//! evaluates every expression over the results, returning one [`SeriesResult`] per query
//! (whether or not it has `ReturnData`), in the order given.

use freshet_metrics::{MetricKey, Unit};

use crate::error::CwError;
use crate::statistic::Statistic;
use crate::store::{MetricStore, Query};

/// A metric, a period and a statistic: what a `MetricStat` names.
#[derive(Debug, Clone)]
pub struct MetricStat {
    /// The metric.
    pub key: MetricKey,
    /// The period in seconds.
    pub period_s: u32,
    /// The statistic.
    pub stat: Statistic,
    /// Only datapoints in this unit, when set.
    pub unit: Option<Unit>,
}

/// One query of GetMetricData (or of an alarm's `Metrics`).
#[derive(Debug, Clone)]
pub struct MetricQuery {
    /// The query's id (`^[a-z][a-zA-Z0-9_]*$`), how expressions refer to it.
    pub id: String,
    /// A metric math expression (exactly one of this and `metric_stat`).
    pub expression: Option<String>,
    /// A metric (exactly one of this and `expression`).
    pub metric_stat: Option<MetricStat>,
    /// The label; the default is derived as AWS does.
    pub label: Option<String>,
    /// Whether the caller wants the result back (all are evaluated anyway).
    pub return_data: bool,
    /// The period of an expression (SEARCH, TIME_SERIES); `None`: the metrics' period.
    pub period_s: Option<u32>,
}

/// Whether a result has every datapoint of its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `Complete`.
    Complete,
    /// `PartialData`: more datapoints are available than were returned.
    PartialData,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "Complete",
            Status::PartialData => "PartialData",
        }
    }
}

/// The result of one query: timestamps ascending, with their values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// The query's id.
    pub id: String,
    /// The query's label (or the default one).
    pub label: String,
    /// Epoch ms, ascending.
    pub timestamps: Vec<i64>,
    /// One value per timestamp.
    pub values: Vec<f64>,
    /// Complete or partial.
    pub status: Status,
    /// Messages `(Code, Value)` about the query, e.g. an expression error.
    pub messages: Vec<(String, String)>,
}

/// Evaluates every query over `[start_ms, end_ms)`; the result of every query, in order.
pub async fn evaluate(
    store: &MetricStore,
    queries: &[MetricQuery],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<SeriesResult>, CwError> {
    let mut out = Vec::with_capacity(queries.len());
    for q in queries {
        let mut r = SeriesResult {
            id: q.id.clone(),
            label: q.label.clone().unwrap_or_else(|| q.id.clone()),
            timestamps: Vec::new(),
            values: Vec::new(),
            status: Status::Complete,
            messages: Vec::new(),
        };
        if let Some(ms) = &q.metric_stat {
            let points = store
                .query(&Query {
                    key: &ms.key,
                    start_ms,
                    end_ms,
                    period_s: ms.period_s,
                    unit: ms.unit,
                })
                .await
                .map_err(|e| CwError::Internal(e.to_string()))?;
            for (ts, dp) in points {
                if let Some(v) = ms.stat.of(&dp) {
                    r.timestamps.push(ts);
                    r.values.push(v);
                }
            }
        }
        out.push(r);
    }
    Ok(out)
}
