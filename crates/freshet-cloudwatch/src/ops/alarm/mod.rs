// SPDX-License-Identifier: Apache-2.0
//! The alarm operations: DTOs shared by them (dimensions, metric data queries, the
//! `MetricAlarm` and `CompositeAlarm` output shapes), routing, and the tag operations.
//! Put operations are in `put`, reads in `describe`, state changes and deletes in `state`.

mod describe;
mod put;
mod state;

use freshet_protocol::json::{JInt, JList, JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Input, Operation, Response, run_input};
use serde::{Deserialize, Serialize};

use super::Ctx;
pub(crate) use super::shapes::{DimensionIn, DimensionOut, QueryIn};
use crate::alarms::model::{Alarm, AlarmKind, AlarmQuery, MetricRef, QueryStat};
use crate::error::{CwError, WIRE};

/// Routes one of the alarm operations.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    macro_rules! run {
        ($t:ty) => {
            run_input::<Ctx<'_>, $t>(ctx, op, input, &WIRE).await
        };
    }
    match op {
        "PutMetricAlarm" => run!(put::PutMetricAlarm),
        "PutCompositeAlarm" => run!(put::PutCompositeAlarm),
        "DescribeAlarms" => run!(describe::DescribeAlarms),
        "DescribeAlarmsForMetric" => run!(describe::DescribeAlarmsForMetric),
        "DescribeAlarmHistory" => run!(describe::DescribeAlarmHistory),
        "SetAlarmState" => run!(state::SetAlarmState),
        "EnableAlarmActions" => run!(state::EnableAlarmActions),
        "DisableAlarmActions" => run!(state::DisableAlarmActions),
        "DeleteAlarms" => run!(state::DeleteAlarms),
        "ListTagsForResource" => run!(ListTagsForResource),
        "TagResource" => run!(TagResource),
        "UntagResource" => run!(UntagResource),
        _ => crate::api::unknown_operation(op, input.protocol()),
    }
}

/// A required member, or MissingParameter naming it.
pub(crate) fn required<T>(v: Option<T>, name: &str) -> Result<T, CwError> {
    v.ok_or_else(|| CwError::MissingParameter(format!("The parameter {name} is required.")))
}

/// A list of strings, empty when absent.
pub(crate) fn strings(v: Option<JList<JStr>>) -> Vec<String> {
    v.map(|l| l.0.into_iter().map(|s| s.0).collect())
        .unwrap_or_default()
}

pub(crate) fn dimensions_in(
    v: Option<JList<DimensionIn>>,
) -> Result<Vec<(String, String)>, CwError> {
    let list = v.map(|l| l.0).unwrap_or_default();
    if list.len() > 30 {
        return Err(CwError::InvalidParameterValue(
            "The collection Dimensions must not have a size greater than 30.".to_owned(),
        ));
    }
    list.into_iter()
        .map(|d| {
            Ok((
                required(d.name, "Dimensions.member.N.Name")?.0,
                required(d.value, "Dimensions.member.N.Value")?.0,
            ))
        })
        .collect()
}

pub(crate) fn dimensions_out(d: &[(String, String)]) -> Vec<DimensionOut> {
    d.iter()
        .map(|(n, v)| DimensionOut {
            name: n.clone(),
            value: v.clone(),
        })
        .collect()
}

fn period(v: Option<JInt>, name: &str) -> Result<u32, CwError> {
    let p = required(v, name)?.0;
    u32::try_from(p).ok().filter(|p| *p >= 1).ok_or_else(|| {
        CwError::InvalidParameterValue(format!(
            "The parameter {name} must be greater than or equal to 1."
        ))
    })
}

pub(crate) fn queries_in(v: Option<JList<QueryIn>>) -> Result<Vec<AlarmQuery>, CwError> {
    let list = v.map(|l| l.0).unwrap_or_default();
    list.into_iter()
        .map(|q| {
            let metric_stat = match q.metric_stat {
                None => None,
                Some(s) => {
                    let m = required(s.metric, "Metrics.member.N.MetricStat.Metric")?;
                    Some(QueryStat {
                        metric: MetricRef {
                            namespace: required(
                                m.namespace,
                                "Metrics.member.N.MetricStat.Metric.Namespace",
                            )?
                            .0,
                            name: required(
                                m.metric_name,
                                "Metrics.member.N.MetricStat.Metric.MetricName",
                            )?
                            .0,
                            dimensions: dimensions_in(m.dimensions)?,
                        },
                        period_s: period(s.period, "Metrics.member.N.MetricStat.Period")?,
                        stat: required(s.stat, "Metrics.member.N.MetricStat.Stat")?.0,
                        unit: s.unit.map(|u| u.0),
                    })
                }
            };
            Ok(AlarmQuery {
                id: required(q.id, "Metrics.member.N.Id")?.0,
                expression: q.expression.map(|e| e.0),
                metric_stat,
                label: q.label.map(|l| l.0),
                return_data: q.return_data.map(|b| b.0),
                period_s: match q.period {
                    Some(p) => Some(period(Some(p), "Metrics.member.N.Period")?),
                    None => None,
                },
                account_id: q.account_id.map(|a| a.0),
            })
        })
        .collect()
}

/// `Metric` out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricOut {
    namespace: String,
    metric_name: String,
    dimensions: Vec<DimensionOut>,
}

/// `MetricStat` out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricStatOut {
    metric: MetricOut,
    period: u32,
    stat: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

/// `MetricDataQuery` out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueryOut {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_stat: Option<MetricStatOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    return_data: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

fn query_out(q: &AlarmQuery) -> QueryOut {
    QueryOut {
        id: q.id.clone(),
        metric_stat: q.metric_stat.as_ref().map(|s| MetricStatOut {
            metric: MetricOut {
                namespace: s.metric.namespace.clone(),
                metric_name: s.metric.name.clone(),
                dimensions: dimensions_out(&s.metric.dimensions),
            },
            period: s.period_s,
            stat: s.stat.clone(),
            unit: s.unit.clone(),
        }),
        expression: q.expression.clone(),
        label: q.label.clone(),
        return_data: q.returns_data(),
        period: q.period_s,
        account_id: q.account_id.clone(),
    }
}

/// `MetricAlarm`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricAlarmOut {
    alarm_name: String,
    alarm_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_description: Option<String>,
    alarm_configuration_updated_timestamp: Timestamp,
    actions_enabled: bool,
    #[serde(rename = "OKActions")]
    ok_actions: Vec<String>,
    alarm_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
    state_value: &'static str,
    state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_data: Option<String>,
    state_updated_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<Vec<DimensionOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    comparison_operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    treat_missing_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluate_low_sample_count_percentile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<QueryOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<String>,
    state_transitioned_timestamp: Timestamp,
}

/// `CompositeAlarm`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CompositeAlarmOut {
    actions_enabled: bool,
    alarm_actions: Vec<String>,
    alarm_arn: String,
    alarm_configuration_updated_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_description: Option<String>,
    alarm_name: String,
    alarm_rule: String,
    insufficient_data_actions: Vec<String>,
    #[serde(rename = "OKActions")]
    ok_actions: Vec<String>,
    state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_data: Option<String>,
    state_updated_timestamp: Timestamp,
    state_value: &'static str,
    state_transitioned_timestamp: Timestamp,
}

/// The output shape of a metric alarm (`None` for a composite one).
pub(crate) fn metric_alarm_out(a: &Alarm) -> Option<MetricAlarmOut> {
    let AlarmKind::Metric(c) = &a.kind else {
        return None;
    };
    let s = c.single.as_ref();
    Some(MetricAlarmOut {
        alarm_name: a.name.clone(),
        alarm_arn: a.arn.clone(),
        alarm_description: a.description.clone(),
        alarm_configuration_updated_timestamp: Timestamp(a.configuration_updated_ms),
        actions_enabled: a.actions_enabled,
        ok_actions: a.ok_actions.clone(),
        alarm_actions: a.alarm_actions.clone(),
        insufficient_data_actions: a.insufficient_data_actions.clone(),
        state_value: a.state.as_str(),
        state_reason: a.state_reason.clone(),
        state_reason_data: a.state_reason_data.clone(),
        state_updated_timestamp: Timestamp(a.state_updated_ms),
        metric_name: s.map(|s| s.metric.name.clone()),
        namespace: s.map(|s| s.metric.namespace.clone()),
        statistic: s.and_then(|s| s.statistic.clone()),
        extended_statistic: s.and_then(|s| s.extended_statistic.clone()),
        dimensions: s.map(|s| dimensions_out(&s.metric.dimensions)),
        period: s.map(|s| s.period_s),
        unit: s.and_then(|s| s.unit.clone()),
        evaluation_periods: c.evaluation_periods,
        datapoints_to_alarm: c.datapoints_to_alarm,
        threshold: c.threshold,
        comparison_operator: c.comparison_operator.clone(),
        treat_missing_data: c.treat_missing_data.clone(),
        evaluate_low_sample_count_percentile: c.evaluate_low_sample_count_percentile.clone(),
        metrics: (!c.metrics.is_empty()).then(|| c.metrics.iter().map(query_out).collect()),
        threshold_metric_id: c.threshold_metric_id.clone(),
        state_transitioned_timestamp: Timestamp(a.state_transitioned_ms),
    })
}

/// The output shape of a composite alarm (`None` for a metric one).
pub(crate) fn composite_alarm_out(a: &Alarm) -> Option<CompositeAlarmOut> {
    let AlarmKind::Composite(c) = &a.kind else {
        return None;
    };
    Some(CompositeAlarmOut {
        actions_enabled: a.actions_enabled,
        alarm_actions: a.alarm_actions.clone(),
        alarm_arn: a.arn.clone(),
        alarm_configuration_updated_timestamp: Timestamp(a.configuration_updated_ms),
        alarm_description: a.description.clone(),
        alarm_name: a.name.clone(),
        alarm_rule: c.rule.clone(),
        insufficient_data_actions: a.insufficient_data_actions.clone(),
        ok_actions: a.ok_actions.clone(),
        state_reason: a.state_reason.clone(),
        state_reason_data: a.state_reason_data.clone(),
        state_updated_timestamp: Timestamp(a.state_updated_ms),
        state_value: a.state.as_str(),
        state_transitioned_timestamp: Timestamp(a.state_transitioned_ms),
    })
}

/// `Tag`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagIn {
    key: Option<JStr>,
    value: Option<JStr>,
}

/// `Tag` out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagOut {
    key: String,
    value: String,
}

pub(crate) fn tags_in(v: Option<JList<TagIn>>) -> Result<Vec<(String, String)>, CwError> {
    v.map(|l| l.0)
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let key = required(t.key, "Tags.member.N.Key")?.0;
            let value = required(t.value, "Tags.member.N.Value")?.0;
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                return Err(CwError::InvalidParameterValue(format!(
                    "The tag {key} must have a key of 1 to 128 and a value of at most 256 characters."
                )));
            }
            Ok((key, value))
        })
        .collect()
}

pub(crate) struct ListTagsForResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ArnInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagsOutput {
    tags: Vec<TagOut>,
}

fn resource(ctx: &Ctx<'_>, arn: Option<JStr>) -> Result<Alarm, CwError> {
    let arn = required(arn, "ResourceARN")?.0;
    ctx.cw
        .alarms
        .by_arn(&arn)
        .ok_or_else(|| CwError::ResourceNotFoundException(format!("Resource {arn} not found.")))
}

impl<'a> Operation<Ctx<'a>> for ListTagsForResource {
    type Input = ArnInput;
    type Output = TagsOutput;

    fn validate(_: &ArnInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: ArnInput) -> Result<TagsOutput, ApiError> {
        let a = resource(ctx, i.resource_arn)?;
        Ok(TagsOutput {
            tags: a
                .tags
                .into_iter()
                .map(|(key, value)| TagOut { key, value })
                .collect(),
        })
    }
}

pub(crate) struct TagResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
    tags: Option<JList<TagIn>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

impl<'a> Operation<Ctx<'a>> for TagResource {
    type Input = TagInput;
    type Output = Empty;

    fn validate(_: &TagInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: TagInput) -> Result<Empty, ApiError> {
        let a = resource(ctx, i.resource_arn)?;
        let tags = tags_in(Some(required(i.tags, "Tags")?))?;
        ctx.cw.alarms.tag(&a.arn, tags)?;
        Ok(Empty {})
    }
}

pub(crate) struct UntagResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
    tag_keys: Option<JList<JStr>>,
}

impl<'a> Operation<Ctx<'a>> for UntagResource {
    type Input = UntagInput;
    type Output = Empty;

    fn validate(_: &UntagInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: UntagInput) -> Result<Empty, ApiError> {
        let a = resource(ctx, i.resource_arn)?;
        let keys = strings(Some(required(i.tag_keys, "TagKeys")?));
        ctx.cw.alarms.untag(&a.arn, &keys)?;
        Ok(Empty {})
    }
}
