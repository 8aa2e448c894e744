// SPDX-License-Identifier: Apache-2.0
//! PutMetricFilter, DescribeMetricFilters and DeleteMetricFilter.

use std::collections::BTreeMap;

use freshet_protocol::json::{JBool, JInt, JList, JMap, JStr};
use freshet_protocol::validate::{ListMember, Validator};
use serde::{Deserialize, Serialize};

use super::{
    Checked, Empty, JDouble, LogsOp, METRIC_NAME_PATTERN, check_long_names, count, filter_pattern,
    group_name, is_metric_name, limit, next_token, owned, stream_name, text,
};
use crate::error::Error;
use crate::model::DescribeMetricFilters as Query;
use crate::service::Logs;
use crate::store::{MetricFilterRecord, TransformationRecord};

/// The `StandardUnit` enum.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Transformation {
    metric_name: Option<JStr>,
    metric_namespace: Option<JStr>,
    metric_value: Option<JStr>,
    default_value: Option<JDouble>,
    dimensions: Option<JMap>,
    unit: Option<JStr>,
}

impl Transformation {
    /// How Coral shows a transformation in a list-length message.
    fn shown(&self) -> String {
        let s = |v: &Option<JStr>| text(v).map_or("null".to_owned(), str::to_owned);
        format!(
            "MetricTransformation(metricName={}, metricNamespace={}, metricValue={}, defaultValue={}, unit={}, dimensions={})",
            s(&self.metric_name),
            s(&self.metric_namespace),
            s(&self.metric_value),
            self.default_value
                .map_or("null".to_owned(), |d| d.0.to_string()),
            s(&self.unit),
            self.dimensions
                .as_ref()
                .map_or("null".to_owned(), |d| format!("{:?}", d.0)),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    log_group_name: Option<JStr>,
    filter_name: Option<JStr>,
    filter_pattern: Option<JStr>,
    metric_transformations: Option<JList<Transformation>>,
    apply_on_transformed_logs: Option<JBool>,
    field_selection_criteria: Option<JStr>,
    emit_system_field_dimensions: Option<JList<JStr>>,
}

pub(crate) struct PutMetricFilter;

impl Checked for PutMetricFilter {
    type Input = PutInput;

    fn precheck(i: &PutInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &PutInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "filterName", &i.filter_name, true);
        v.required("filterPattern", &i.filter_pattern);
        filter_pattern(v, "filterPattern", &i.filter_pattern);
        v.required("metricTransformations", &i.metric_transformations);
        if let Some(list) = &i.metric_transformations {
            let shown: Vec<String> = list.0.iter().map(Transformation::shown).collect();
            let shown = format!("[{}]", shown.join(", "));
            v.list_len("metricTransformations", Some(list.0.len()), &shown, 1, 1);
            for (index, t) in list.0.iter().enumerate() {
                let at = |member| ListMember {
                    list: "metricTransformations",
                    index,
                    member,
                };
                for (member, value) in [
                    ("metricName", &t.metric_name),
                    ("metricNamespace", &t.metric_namespace),
                ] {
                    v.required(at(member), value);
                    v.string(
                        at(member),
                        text(value),
                        0,
                        Some(255),
                        Some((is_metric_name, METRIC_NAME_PATTERN)),
                    );
                }
                v.required(at("metricValue"), &t.metric_value);
                v.string(at("metricValue"), text(&t.metric_value), 0, Some(100), None);
                v.one_of(at("unit"), text(&t.unit), UNITS);
            }
        }
        v.string(
            "fieldSelectionCriteria",
            text(&i.field_selection_criteria),
            0,
            Some(2000),
            None,
        );
    }
}

impl LogsOp for PutMetricFilter {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: PutInput) -> Result<Empty, Error> {
        let transformations = i
            .metric_transformations
            .map(|l| l.0)
            .unwrap_or_default()
            .into_iter()
            .map(|t| TransformationRecord {
                metric_name: owned(t.metric_name).unwrap_or_default(),
                metric_namespace: owned(t.metric_namespace).unwrap_or_default(),
                metric_value: owned(t.metric_value).unwrap_or_default(),
                default_value: t.default_value.map(|d| d.0),
                dimensions: t.dimensions.map(|d| d.0).unwrap_or_default(),
                unit: owned(t.unit),
            })
            .collect();
        let filter = MetricFilterRecord {
            name: owned(i.filter_name).unwrap_or_default(),
            pattern: owned(i.filter_pattern).unwrap_or_default(),
            transformations,
            created_ms: 0,
            apply_on_transformed_logs: i.apply_on_transformed_logs.is_some_and(|b| b.0),
            field_selection_criteria: owned(i.field_selection_criteria),
            emit_system_field_dimensions: i
                .emit_system_field_dimensions
                .map(|l| l.0.into_iter().map(|s| s.0).collect())
                .unwrap_or_default(),
        };
        logs.put_metric_filter(text(&i.log_group_name).unwrap_or_default(), filter)
            .await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeInput {
    log_group_name: Option<JStr>,
    filter_name_prefix: Option<JStr>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
    metric_name: Option<JStr>,
    metric_namespace: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TransformationDto {
    metric_name: String,
    metric_namespace: String,
    metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<f64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    dimensions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricFilterDto {
    filter_name: String,
    filter_pattern: String,
    metric_transformations: Vec<TransformationDto>,
    creation_time: i64,
    log_group_name: String,
    apply_on_transformed_logs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    field_selection_criteria: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    emit_system_field_dimensions: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeOutput {
    metric_filters: Vec<MetricFilterDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct DescribeMetricFilters;

impl Checked for DescribeMetricFilters {
    type Input = DescribeInput;

    fn precheck(i: &DescribeInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &DescribeInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        stream_name(v, "filterNamePrefix", &i.filter_name_prefix, false);
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 50);
        for (member, value) in [
            ("metricName", &i.metric_name),
            ("metricNamespace", &i.metric_namespace),
        ] {
            v.string(
                member,
                text(value),
                0,
                Some(255),
                Some((is_metric_name, METRIC_NAME_PATTERN)),
            );
        }
    }
}

impl LogsOp for DescribeMetricFilters {
    type Output = DescribeOutput;

    async fn call(logs: &Logs, i: DescribeInput) -> Result<DescribeOutput, Error> {
        let page = logs.describe_metric_filters(&Query {
            group: owned(i.log_group_name),
            prefix: owned(i.filter_name_prefix),
            metric_name: owned(i.metric_name),
            metric_namespace: owned(i.metric_namespace),
            limit: count(i.limit),
            next_token: owned(i.next_token),
        })?;
        Ok(DescribeOutput {
            metric_filters: page
                .items
                .into_iter()
                .map(|info| {
                    let f = info.filter;
                    MetricFilterDto {
                        filter_name: f.name,
                        filter_pattern: f.pattern,
                        metric_transformations: f
                            .transformations
                            .into_iter()
                            .map(|t| TransformationDto {
                                metric_name: t.metric_name,
                                metric_namespace: t.metric_namespace,
                                metric_value: t.metric_value,
                                default_value: t.default_value,
                                dimensions: t.dimensions,
                                unit: t.unit,
                            })
                            .collect(),
                        creation_time: f.created_ms,
                        log_group_name: info.group,
                        apply_on_transformed_logs: f.apply_on_transformed_logs,
                        field_selection_criteria: f.field_selection_criteria,
                        emit_system_field_dimensions: f.emit_system_field_dimensions,
                    }
                })
                .collect(),
            next_token: page.next_token,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteInput {
    pub(crate) log_group_name: Option<JStr>,
    pub(crate) filter_name: Option<JStr>,
}

pub(crate) struct DeleteMetricFilter;

impl Checked for DeleteMetricFilter {
    type Input = DeleteInput;

    fn precheck(i: &DeleteInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &DeleteInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "filterName", &i.filter_name, true);
    }
}

impl LogsOp for DeleteMetricFilter {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: DeleteInput) -> Result<Empty, Error> {
        logs.delete_metric_filter(
            text(&i.log_group_name).unwrap_or_default(),
            text(&i.filter_name).unwrap_or_default(),
        )
        .await?;
        Ok(Empty {})
    }
}
