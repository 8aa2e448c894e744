// SPDX-License-Identifier: Apache-2.0
//! DescribeAlarms, DescribeAlarmsForMetric and DescribeAlarmHistory.
//!
//! NextTokens are opaque to clients: DescribeAlarms' is the hex of the last name returned,
//! DescribeAlarmHistory's the hex of the number of items already returned.

use freshet_protocol::json::{JInt, JList, JStr, JTimestamp, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{
    CompositeAlarmOut, DimensionIn, MetricAlarmOut, composite_alarm_out, dimensions_in,
    metric_alarm_out, required, strings,
};
use crate::alarms::model::{Alarm, AlarmKind, HistoryKind, State};
use crate::error::CwError;
use crate::ops::Ctx;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<String, CwError> {
    let bad = || CwError::InvalidNextToken("The service couldn't process the token.".to_owned());
    if !s.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    String::from_utf8(bytes).map_err(|_| bad())
}

fn max_records(v: Option<JInt>, default: usize) -> Result<usize, CwError> {
    match v {
        None => Ok(default),
        Some(JInt(n)) if (1..=100).contains(&n) => Ok(n as usize),
        Some(JInt(n)) => Err(CwError::InvalidParameterValue(format!(
            "The value {n} for parameter MaxRecords is not valid: it must be between 1 and 100."
        ))),
    }
}

pub(crate) struct DescribeAlarms;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsInput {
    alarm_names: Option<JList<JStr>>,
    alarm_name_prefix: Option<JStr>,
    alarm_types: Option<JList<JStr>>,
    children_of_alarm_name: Option<JStr>,
    parents_of_alarm_name: Option<JStr>,
    state_value: Option<JStr>,
    action_prefix: Option<JStr>,
    max_records: Option<JInt>,
    next_token: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsOutput {
    composite_alarms: Vec<CompositeAlarmOut>,
    metric_alarms: Vec<MetricAlarmOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl<'a> Operation<Ctx<'a>> for DescribeAlarms {
    type Input = DescribeAlarmsInput;
    type Output = DescribeAlarmsOutput;

    fn validate(_: &DescribeAlarmsInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: DescribeAlarmsInput) -> Result<DescribeAlarmsOutput, ApiError> {
        let names = strings(i.alarm_names);
        if names.len() > 100 {
            return Err(CwError::InvalidParameterValue(
                "The collection AlarmNames must not have a size greater than 100.".into(),
            )
            .into());
        }
        let prefix = i.alarm_name_prefix.map(|p| p.0);
        let filters = [
            !names.is_empty(),
            prefix.is_some(),
            i.children_of_alarm_name.is_some(),
            i.parents_of_alarm_name.is_some(),
        ];
        if filters.iter().filter(|f| **f).count() > 1 {
            return Err(CwError::InvalidParameterCombination(
                "AlarmNames, AlarmNamePrefix, ChildrenOfAlarmName and ParentsOfAlarmName are mutually exclusive.".into(),
            )
            .into());
        }
        let types = strings(i.alarm_types);
        for t in &types {
            if t != "MetricAlarm" && t != "CompositeAlarm" {
                return Err(CwError::InvalidParameterValue(format!(
                    "The value {t} for parameter AlarmTypes is not valid."
                ))
                .into());
            }
        }
        let want_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
        let want_composite = types.iter().any(|t| t == "CompositeAlarm");
        let state = match i.state_value {
            None => None,
            Some(s) => Some(State::parse(&s.0).ok_or_else(|| {
                CwError::InvalidParameterValue(format!(
                    "The value {} for parameter StateValue is not valid.",
                    s.0
                ))
            })?),
        };
        let action_prefix = i.action_prefix.map(|a| a.0);
        let max = max_records(i.max_records, 50)?;
        let after = i.next_token.map(|t| unhex(&t.0)).transpose()?;
        let children: Option<Vec<String>> = match &i.children_of_alarm_name {
            Some(parent) => {
                let mut names = Vec::new();
                if let Some(AlarmKind::Composite(c)) = ctx.cw.alarms.get(&parent.0).map(|a| a.kind)
                    && let Ok(r) = crate::alarms::rule::parse(&c.rule)
                {
                    r.names(&mut names);
                }
                Some(
                    names
                        .into_iter()
                        .map(|n| {
                            n.rsplit_once(":alarm:")
                                .map_or(n.clone(), |(_, x)| x.to_owned())
                        })
                        .collect(),
                )
            }
            None => None,
        };
        let parents_of = i.parents_of_alarm_name.map(|p| p.0);
        let mut matched: Vec<Alarm> = ctx
            .cw
            .alarms
            .all()
            .into_iter()
            .filter(|a| match a.kind {
                AlarmKind::Metric(_) => want_metric,
                AlarmKind::Composite(_) => want_composite,
            })
            .filter(|a| names.is_empty() || names.contains(&a.name))
            .filter(|a| {
                prefix
                    .as_ref()
                    .is_none_or(|p| a.name.starts_with(p.as_str()))
            })
            .filter(|a| children.as_ref().is_none_or(|c| c.contains(&a.name)))
            .filter(|a| {
                parents_of.as_ref().is_none_or(|child| match &a.kind {
                    AlarmKind::Composite(c) => crate::alarms::rule::parse(&c.rule).is_ok_and(|r| {
                        let mut n = Vec::new();
                        r.names(&mut n);
                        n.iter()
                            .any(|x| x == child || x.ends_with(&format!(":alarm:{child}")))
                    }),
                    AlarmKind::Metric(_) => false,
                })
            })
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| {
                action_prefix.as_ref().is_none_or(|p| {
                    a.ok_actions
                        .iter()
                        .chain(&a.alarm_actions)
                        .chain(&a.insufficient_data_actions)
                        .any(|x| x.starts_with(p.as_str()))
                })
            })
            .filter(|a| {
                after
                    .as_ref()
                    .is_none_or(|after| a.name.as_str() > after.as_str())
            })
            .collect();
        let next_token = if matched.len() > max {
            matched.truncate(max);
            matched.last().map(|a| hex(&a.name))
        } else {
            None
        };
        Ok(DescribeAlarmsOutput {
            composite_alarms: matched.iter().filter_map(composite_alarm_out).collect(),
            metric_alarms: matched.iter().filter_map(metric_alarm_out).collect(),
            next_token,
        })
    }
}

pub(crate) struct DescribeAlarmsForMetric;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsForMetricInput {
    metric_name: Option<JStr>,
    namespace: Option<JStr>,
    statistic: Option<JStr>,
    extended_statistic: Option<JStr>,
    dimensions: Option<JList<DimensionIn>>,
    period: Option<JInt>,
    unit: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsForMetricOutput {
    metric_alarms: Vec<MetricAlarmOut>,
}

impl<'a> Operation<Ctx<'a>> for DescribeAlarmsForMetric {
    type Input = DescribeAlarmsForMetricInput;
    type Output = DescribeAlarmsForMetricOutput;

    fn validate(_: &DescribeAlarmsForMetricInput, _: &mut Validator) {}

    async fn call(
        ctx: &Ctx<'a>,
        i: DescribeAlarmsForMetricInput,
    ) -> Result<DescribeAlarmsForMetricOutput, ApiError> {
        let name = required(i.metric_name, "MetricName")?.0;
        let namespace = required(i.namespace, "Namespace")?.0;
        // Without Dimensions, alarms on the metric with any dimensions match.
        let mut dims = dimensions_in(i.dimensions)?;
        dims.sort();
        let statistic = i.statistic.map(|s| s.0);
        let extended = i.extended_statistic.map(|s| s.0);
        let period = i.period.map(|p| p.0);
        let unit = i.unit.map(|u| u.0);
        let alarms = ctx.cw.alarms.all().into_iter().filter(|a| {
            let Some(c) = a.metric_config() else {
                return false;
            };
            let same = |m: &crate::alarms::model::MetricRef| {
                let mut d = m.dimensions.clone();
                d.sort();
                m.name == name && m.namespace == namespace && (dims.is_empty() || d == dims)
            };
            match &c.single {
                Some(s) => {
                    same(&s.metric)
                        && statistic
                            .as_ref()
                            .is_none_or(|st| s.statistic.as_ref() == Some(st))
                        && extended
                            .as_ref()
                            .is_none_or(|st| s.extended_statistic.as_ref() == Some(st))
                        && period.is_none_or(|p| i64::from(s.period_s) == p)
                        && unit.as_ref().is_none_or(|u| s.unit.as_ref() == Some(u))
                }
                None => c
                    .metrics
                    .iter()
                    .filter_map(|q| q.metric_stat.as_ref())
                    .any(|s| same(&s.metric)),
            }
        });
        Ok(DescribeAlarmsForMetricOutput {
            metric_alarms: alarms.filter_map(|a| metric_alarm_out(&a)).collect(),
        })
    }
}

pub(crate) struct DescribeAlarmHistory;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmHistoryInput {
    alarm_name: Option<JStr>,
    alarm_types: Option<JList<JStr>>,
    history_item_type: Option<JStr>,
    start_date: Option<JTimestamp>,
    end_date: Option<JTimestamp>,
    max_records: Option<JInt>,
    next_token: Option<JStr>,
    scan_by: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HistoryItemOut {
    alarm_name: String,
    alarm_type: String,
    timestamp: Timestamp,
    history_item_type: &'static str,
    history_summary: String,
    history_data: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmHistoryOutput {
    alarm_history_items: Vec<HistoryItemOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl<'a> Operation<Ctx<'a>> for DescribeAlarmHistory {
    type Input = DescribeAlarmHistoryInput;
    type Output = DescribeAlarmHistoryOutput;

    fn validate(_: &DescribeAlarmHistoryInput, _: &mut Validator) {}

    async fn call(
        ctx: &Ctx<'a>,
        i: DescribeAlarmHistoryInput,
    ) -> Result<DescribeAlarmHistoryOutput, ApiError> {
        let kind = match i.history_item_type {
            None => None,
            Some(k) => Some(HistoryKind::parse(&k.0).ok_or_else(|| {
                CwError::InvalidParameterValue(format!(
                    "The value {} for parameter HistoryItemType is not valid.",
                    k.0
                ))
            })?),
        };
        let oldest_first = match i.scan_by.as_ref().map(|s| s.0.as_str()) {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => {
                return Err(CwError::InvalidParameterValue(format!(
                    "The value {other} for parameter ScanBy is not valid."
                ))
                .into());
            }
        };
        let types = strings(i.alarm_types);
        let max = max_records(i.max_records, 100)?;
        let skip = match i.next_token {
            None => 0,
            Some(t) => unhex(&t.0)?.parse::<usize>().map_err(|_| {
                CwError::InvalidNextToken("The service couldn't process the token.".into())
            })?,
        };
        let start = i.start_date.map(|t| t.0);
        let end = i.end_date.map(|t| t.0);
        let items: Vec<_> = ctx
            .cw
            .alarms
            .history(i.alarm_name.as_ref().map(|n| n.0.as_str()), oldest_first)
            .into_iter()
            .filter(|h| kind.is_none_or(|k| h.kind == k))
            .filter(|h| types.is_empty() || types.contains(&h.alarm_type))
            .filter(|h| start.is_none_or(|s| h.timestamp_ms >= s))
            .filter(|h| end.is_none_or(|e| h.timestamp_ms <= e))
            .collect();
        let total = items.len();
        let page: Vec<HistoryItemOut> = items
            .into_iter()
            .skip(skip)
            .take(max)
            .map(|h| HistoryItemOut {
                alarm_name: h.alarm_name,
                alarm_type: h.alarm_type,
                timestamp: Timestamp(h.timestamp_ms),
                history_item_type: h.kind.as_str(),
                history_summary: h.summary,
                history_data: h.data,
            })
            .collect();
        let next = skip + page.len();
        Ok(DescribeAlarmHistoryOutput {
            alarm_history_items: page,
            next_token: (next < total).then(|| hex(&next.to_string())),
        })
    }
}
