// SPDX-License-Identifier: Apache-2.0
//! Input and output shapes the metric and alarm operations share: `Dimension`, `Metric`,
//! `MetricStat` and `MetricDataQuery` as the model spells them. Each operation group checks
//! and converts them in its own words (GetMetricData into metric math queries, the alarm
//! operations into alarm records).

use freshet_protocol::json::{JBool, JInt, JList, JStr};
use serde::{Deserialize, Serialize};

/// `Dimension` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DimensionIn {
    pub name: Option<JStr>,
    pub value: Option<JStr>,
}

/// `Dimension` as returned.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DimensionOut {
    pub name: String,
    pub value: String,
}

/// `Metric` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricIn {
    pub namespace: Option<JStr>,
    pub metric_name: Option<JStr>,
    pub dimensions: Option<JList<DimensionIn>>,
}

/// `MetricStat` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricStatIn {
    pub metric: Option<MetricIn>,
    pub period: Option<JInt>,
    pub stat: Option<JStr>,
    pub unit: Option<JStr>,
}

/// `MetricDataQuery` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueryIn {
    pub id: Option<JStr>,
    pub metric_stat: Option<MetricStatIn>,
    pub expression: Option<JStr>,
    pub label: Option<JStr>,
    pub return_data: Option<JBool>,
    pub period: Option<JInt>,
    pub account_id: Option<JStr>,
}
