// SPDX-License-Identifier: Apache-2.0
//! PutMetricAlarm and PutCompositeAlarm.

use freshet_protocol::json::{JBool, JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{DimensionIn, QueryIn, TagIn, dimensions_in, queries_in, required, strings, tags_in};
use crate::alarms::model::{
    Alarm, AlarmKind, CompositeConfig, MetricAlarmConfig, MetricRef, SingleMetric, State,
};
use crate::alarms::validate;
use crate::error::CwError;
use crate::ops::Ctx;

pub(crate) struct PutMetricAlarm;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutMetricAlarmInput {
    alarm_name: Option<JStr>,
    alarm_description: Option<JStr>,
    actions_enabled: Option<JBool>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<JList<JStr>>,
    alarm_actions: Option<JList<JStr>>,
    insufficient_data_actions: Option<JList<JStr>>,
    metric_name: Option<JStr>,
    namespace: Option<JStr>,
    statistic: Option<JStr>,
    extended_statistic: Option<JStr>,
    dimensions: Option<JList<DimensionIn>>,
    period: Option<JInt>,
    unit: Option<JStr>,
    evaluation_periods: Option<JInt>,
    datapoints_to_alarm: Option<JInt>,
    threshold: Option<f64>,
    comparison_operator: Option<JStr>,
    treat_missing_data: Option<JStr>,
    evaluate_low_sample_count_percentile: Option<JStr>,
    metrics: Option<JList<QueryIn>>,
    tags: Option<JList<TagIn>>,
    threshold_metric_id: Option<JStr>,
}

fn positive(v: Option<JInt>, name: &str) -> Result<Option<u32>, CwError> {
    match v {
        None => Ok(None),
        Some(JInt(n)) => u32::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| {
                CwError::InvalidParameterValue(format!(
                    "The parameter {name} must be greater than or equal to 1."
                ))
            }),
    }
}

/// The alarm's ARN.
pub(crate) fn alarm_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{}:{}:alarm:{name}",
        ctx.cw.account.region, ctx.cw.account.id
    )
}

fn new_alarm(
    ctx: &Ctx<'_>,
    name: String,
    description: Option<JStr>,
    actions_enabled: Option<JBool>,
    actions: [Option<JList<JStr>>; 3],
    kind: AlarmKind,
    tags: Vec<(String, String)>,
) -> Result<Alarm, CwError> {
    if let Some(d) = &description
        && d.0.chars().count() > 1024
    {
        return Err(CwError::InvalidParameterValue(
            "The parameter AlarmDescription must be shorter than 1025 characters.".to_owned(),
        ));
    }
    let [ok, alarm, insufficient] = actions;
    Ok(Alarm {
        arn: alarm_arn(ctx, &name),
        name,
        description: description.map(|d| d.0),
        actions_enabled: actions_enabled.is_none_or(|b| b.0),
        ok_actions: strings(ok),
        alarm_actions: strings(alarm),
        insufficient_data_actions: strings(insufficient),
        state: State::InsufficientData,
        state_reason: String::new(),
        state_reason_data: None,
        state_updated_ms: 0,
        state_transitioned_ms: 0,
        configuration_updated_ms: 0,
        kind,
        tags,
    })
}

impl<'a> Operation<Ctx<'a>> for PutMetricAlarm {
    type Input = PutMetricAlarmInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &PutMetricAlarmInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: PutMetricAlarmInput) -> Result<(), ApiError> {
        let name = required(i.alarm_name, "AlarmName")?.0;
        let evaluation_periods =
            positive(i.evaluation_periods, "EvaluationPeriods")?.ok_or_else(|| {
                CwError::MissingParameter("The parameter EvaluationPeriods is required.".into())
            })?;
        let comparison_operator = required(i.comparison_operator, "ComparisonOperator")?.0;
        let single = match i.metric_name {
            Some(metric_name) => Some(SingleMetric {
                metric: MetricRef {
                    namespace: i.namespace.map(|n| n.0).unwrap_or_default(),
                    name: metric_name.0,
                    dimensions: dimensions_in(i.dimensions)?,
                },
                statistic: i.statistic.map(|s| s.0),
                extended_statistic: i.extended_statistic.map(|s| s.0),
                period_s: positive(i.period, "Period")?.ok_or_else(|| {
                    CwError::MissingParameter("The parameter Period is required.".into())
                })?,
                unit: i.unit.map(|u| u.0),
            }),
            None => {
                if i.namespace.is_some() || i.statistic.is_some() || i.period.is_some() {
                    if i.metrics.is_some() {
                        return Err(CwError::InvalidParameterCombination(
                            "The parameters MetricName and Metrics are mutually exclusive and you specified both.".into(),
                        )
                        .into());
                    }
                    return Err(CwError::MissingParameter(
                        "The parameter MetricName is required.".into(),
                    )
                    .into());
                }
                None
            }
        };
        let config = MetricAlarmConfig {
            single,
            metrics: queries_in(i.metrics)?,
            evaluation_periods,
            datapoints_to_alarm: positive(i.datapoints_to_alarm, "DatapointsToAlarm")?,
            threshold: i.threshold,
            threshold_metric_id: i.threshold_metric_id.map(|t| t.0),
            comparison_operator,
            treat_missing_data: i.treat_missing_data.map(|t| t.0),
            evaluate_low_sample_count_percentile: i
                .evaluate_low_sample_count_percentile
                .map(|e| e.0),
        };
        let alarm = new_alarm(
            ctx,
            name,
            i.alarm_description,
            i.actions_enabled,
            [i.ok_actions, i.alarm_actions, i.insufficient_data_actions],
            AlarmKind::Metric(config),
            tags_in(i.tags)?,
        )?;
        validate::check(&alarm)?;
        ctx.cw.alarms.put(alarm)?;
        Ok(())
    }
}

pub(crate) struct PutCompositeAlarm;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutCompositeAlarmInput {
    actions_enabled: Option<JBool>,
    alarm_actions: Option<JList<JStr>>,
    alarm_description: Option<JStr>,
    alarm_name: Option<JStr>,
    alarm_rule: Option<JStr>,
    insufficient_data_actions: Option<JList<JStr>>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<JList<JStr>>,
    tags: Option<JList<TagIn>>,
    #[allow(dead_code)]
    actions_suppressor: Option<JStr>,
    #[allow(dead_code)]
    actions_suppressor_wait_period: Option<JInt>,
    #[allow(dead_code)]
    actions_suppressor_extension_period: Option<JInt>,
}

impl<'a> Operation<Ctx<'a>> for PutCompositeAlarm {
    type Input = PutCompositeAlarmInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &PutCompositeAlarmInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: PutCompositeAlarmInput) -> Result<(), ApiError> {
        let name = required(i.alarm_name, "AlarmName")?.0;
        let rule = required(i.alarm_rule, "AlarmRule")?.0;
        let alarm = new_alarm(
            ctx,
            name,
            i.alarm_description,
            i.actions_enabled,
            [i.ok_actions, i.alarm_actions, i.insufficient_data_actions],
            AlarmKind::Composite(CompositeConfig { rule }),
            tags_in(i.tags)?,
        )?;
        validate::check(&alarm)?;
        ctx.cw.alarms.put(alarm)?;
        Ok(())
    }
}
