// SPDX-License-Identifier: Apache-2.0
//! PutMetricAlarm's and PutCompositeAlarm's rules beyond the model's lengths: the period
//! values, the evaluation range, M ≤ N, the metric forms, the statistic forms, one ReturnData
//! query, the threshold forms, TreatMissingData, EvaluateLowSampleCountPercentile and the
//! action ARNs (at most 5 per list).

use super::eval::{Comparison, Treat};
use super::model::{Alarm, AlarmKind, MetricAlarmConfig};
use crate::error::CwError;
use crate::statistic::Statistic;

/// The band operators, valid only with ThresholdMetricId.
const BAND_OPERATORS: &[&str] = &[
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

fn invalid(msg: impl Into<String>) -> CwError {
    CwError::InvalidParameterValue(msg.into())
}

fn combination(msg: impl Into<String>) -> CwError {
    CwError::InvalidParameterCombination(msg.into())
}

/// Whether `p` is a period an alarm may use: 10, 20, 30 or a multiple of 60.
pub fn valid_period(p: u32) -> bool {
    matches!(p, 10 | 20 | 30) || (p > 0 && p.is_multiple_of(60))
}

/// Checks an alarm about to be put.
pub fn check(alarm: &Alarm) -> Result<(), CwError> {
    check_name(&alarm.name)?;
    for (list, name) in [
        (&alarm.ok_actions, "OKActions"),
        (&alarm.alarm_actions, "AlarmActions"),
        (&alarm.insufficient_data_actions, "InsufficientDataActions"),
    ] {
        check_actions(list, name)?;
    }
    match &alarm.kind {
        AlarmKind::Metric(c) => check_metric(c),
        AlarmKind::Composite(c) => super::rule::parse(&c.rule)
            .map(|_| ())
            .map_err(|e| invalid(format!("Error in alarm rule: {e}"))),
    }
}

fn check_name(name: &str) -> Result<(), CwError> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid(
            "The parameter AlarmName must be between 1 and 255 characters long.",
        ));
    }
    Ok(())
}

/// Checks one action list: at most 5 ARNs, each of a kind CloudWatch alarms accept.
pub fn check_actions(list: &[String], name: &str) -> Result<(), CwError> {
    if list.len() > 5 {
        return Err(CwError::LimitExceeded(format!(
            "The collection {name} must not have a size greater than 5."
        )));
    }
    for arn in list {
        if !valid_action(arn) {
            return Err(invalid(format!("Invalid arn syntax: {arn}")));
        }
    }
    Ok(())
}

/// Whether `arn` is an action ARN: SNS topic, SQS queue, Lambda function, EC2 and Auto
/// Scaling actions, Systems Manager OpsItems/incidents.
pub fn valid_action(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() {
        return false;
    }
    let (service, region, account, resource) = (parts[2], parts[3], parts[4], parts[5]);
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    match service {
        "sns" | "sqs" => {
            account_ok
                && !region.is_empty()
                && !resource.is_empty()
                && resource
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        }
        "lambda" => {
            account_ok
                && !region.is_empty()
                && resource
                    .strip_prefix("function:")
                    .is_some_and(|f| !f.is_empty())
        }
        "automate" => account == "ec2" && !resource.is_empty(),
        "autoscaling" | "ssm" | "ssm-incidents" | "swf" => !resource.is_empty(),
        _ => false,
    }
}

/// Checks a metric alarm's configuration.
pub fn check_metric(c: &MetricAlarmConfig) -> Result<(), CwError> {
    if c.evaluation_periods == 0 {
        return Err(invalid(
            "The parameter EvaluationPeriods must be greater than or equal to 1.",
        ));
    }
    if let Some(m) = c.datapoints_to_alarm {
        if m == 0 {
            return Err(invalid(
                "The parameter DatapointsToAlarm must be greater than or equal to 1.",
            ));
        }
        if m > c.evaluation_periods {
            return Err(invalid(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods.",
            ));
        }
    }
    match (&c.single, c.metrics.is_empty()) {
        (Some(_), false) => {
            return Err(combination(
                "The parameters MetricName and Metrics are mutually exclusive and you specified both.",
            ));
        }
        (None, true) => {
            return Err(CwError::MissingParameter(
                "Either MetricName or Metrics must be specified.".to_owned(),
            ));
        }
        _ => {}
    }
    if let Some(s) = &c.single {
        match (&s.statistic, &s.extended_statistic) {
            (Some(_), Some(_)) => {
                return Err(combination(
                    "Statistic and ExtendedStatistic are mutually exclusive and you specified both.",
                ));
            }
            (None, None) => {
                return Err(CwError::MissingParameter(
                    "Either Statistic or ExtendedStatistic must be specified.".to_owned(),
                ));
            }
            (Some(st), None) => {
                if !Statistic::parse(st).is_some_and(Statistic::is_standard) {
                    return Err(invalid(format!("Invalid statistic: {st}")));
                }
            }
            (None, Some(st)) => {
                if !matches!(Statistic::parse(st), Some(Statistic::Percentile(_))) {
                    return Err(invalid(format!(
                        "The value {st} for parameter ExtendedStatistic is not supported."
                    )));
                }
            }
        }
        if s.metric.namespace.is_empty() {
            return Err(CwError::MissingParameter(
                "The parameter Namespace is required.".to_owned(),
            ));
        }
        if let Some(u) = &s.unit
            && freshet_metrics::Unit::parse(u).is_none()
        {
            return Err(invalid(format!(
                "The value {u} for parameter Unit is not supported."
            )));
        }
    } else {
        check_queries(c)?;
    }
    let period = c.period_s();
    if !valid_period(period) {
        return Err(invalid(
            "The parameter Period must be 10, 20, 30 or a multiple of 60.",
        ));
    }
    let range = u64::from(period) * u64::from(c.evaluation_periods);
    let max = if period < 3600 { 86_400 } else { 7 * 86_400 };
    if range > max {
        return Err(invalid(if period < 3600 {
            "The evaluation period multiplied by the number of periods must not exceed one day for periods shorter than one hour."
        } else {
            "The evaluation period multiplied by the number of periods must not exceed 7 days."
        }));
    }
    let band = BAND_OPERATORS.contains(&c.comparison_operator.as_str());
    if !band && Comparison::parse(&c.comparison_operator).is_none() {
        return Err(invalid(format!(
            "Invalid value for ComparisonOperator: {}",
            c.comparison_operator
        )));
    }
    match (&c.threshold, &c.threshold_metric_id) {
        (Some(_), Some(_)) => {
            return Err(combination(
                "Threshold and ThresholdMetricId are mutually exclusive and you specified both.",
            ));
        }
        (None, None) => {
            return Err(CwError::MissingParameter(
                "Either Threshold or ThresholdMetricId must be specified.".to_owned(),
            ));
        }
        (Some(t), None) => {
            if band {
                return Err(invalid(format!(
                    "ComparisonOperator {} is only valid with ThresholdMetricId.",
                    c.comparison_operator
                )));
            }
            if !t.is_finite() {
                return Err(invalid("The parameter Threshold must be a finite number."));
            }
        }
        (None, Some(id)) => {
            if !band {
                return Err(invalid(format!(
                    "ComparisonOperator {} is not valid with ThresholdMetricId; use LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold or GreaterThanUpperThreshold.",
                    c.comparison_operator
                )));
            }
            if !c.metrics.iter().any(|q| &q.id == id) {
                return Err(invalid(format!(
                    "ThresholdMetricId {id} does not match the Id of any metric in Metrics."
                )));
            }
        }
    }
    if let Some(t) = &c.treat_missing_data
        && Treat::parse(t).is_none()
    {
        return Err(invalid(format!(
            "The value {t} for parameter TreatMissingData is not supported. Valid values are breaching, notBreaching, ignore, missing."
        )));
    }
    if let Some(e) = &c.evaluate_low_sample_count_percentile {
        if !matches!(e.as_str(), "evaluate" | "ignore") {
            return Err(invalid(format!(
                "The value {e} for parameter EvaluateLowSampleCountPercentile is not supported. Valid values are evaluate, ignore."
            )));
        }
        let percentile = c
            .single
            .as_ref()
            .is_some_and(|s| s.extended_statistic.is_some());
        if !percentile {
            return Err(combination(
                "EvaluateLowSampleCountPercentile can only be used with a percentile ExtendedStatistic.",
            ));
        }
    }
    Ok(())
}

fn check_queries(c: &MetricAlarmConfig) -> Result<(), CwError> {
    let returning = c.metrics.iter().filter(|q| q.returns_data()).count();
    if returning != 1 && c.threshold_metric_id.is_none() {
        return Err(invalid(
            "Exactly one element of the metrics list should return data.",
        ));
    }
    let mut ids = std::collections::BTreeSet::new();
    for q in &c.metrics {
        if !q
            .id
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_lowercase())
            || !q
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            return Err(invalid(format!(
                "Invalid metrics list: the Id {} must start with a lowercase letter and contain only letters, numbers and underscores.",
                q.id
            )));
        }
        if !ids.insert(q.id.as_str()) {
            return Err(invalid(format!(
                "Invalid metrics list: the Id {} is used more than once.",
                q.id
            )));
        }
        match (&q.expression, &q.metric_stat) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(format!(
                    "Invalid metrics list: exactly one of Expression and MetricStat must be specified for {}.",
                    q.id
                )));
            }
            (None, Some(s)) => {
                if Statistic::parse(&s.stat).is_none() {
                    return Err(invalid(format!("Invalid statistic: {}", s.stat)));
                }
                if !valid_period(s.period_s) {
                    return Err(invalid(
                        "The parameter Period must be 10, 20, 30 or a multiple of 60.",
                    ));
                }
            }
            (Some(e), None) => {
                if e.is_empty() || e.len() > 2048 {
                    return Err(invalid(
                        "The expression must be between 1 and 2048 characters long.",
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::{AlarmQuery, MetricRef, QueryStat, SingleMetric};

    fn config() -> MetricAlarmConfig {
        MetricAlarmConfig {
            single: Some(SingleMetric {
                metric: MetricRef {
                    namespace: "App".into(),
                    name: "Errors".into(),
                    dimensions: vec![],
                },
                statistic: Some("Sum".into()),
                extended_statistic: None,
                period_s: 60,
                unit: None,
            }),
            metrics: vec![],
            evaluation_periods: 3,
            datapoints_to_alarm: None,
            threshold: Some(1.0),
            threshold_metric_id: None,
            comparison_operator: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
        }
    }

    fn fails(c: MetricAlarmConfig, code: &str) {
        let e = check_metric(&c).expect_err("must fail");
        assert_eq!(e.code(), code, "{e}");
    }

    #[test]
    fn a_plain_single_metric_alarm_passes() {
        check_metric(&config()).expect("valid");
    }

    #[test]
    fn periods_must_be_10_20_30_or_whole_minutes() {
        for p in [10, 20, 30, 60, 120, 3600] {
            assert!(valid_period(p), "{p}");
        }
        for p in [0, 1, 5, 15, 45, 61, 90] {
            assert!(!valid_period(p), "{p}");
        }
        let mut c = config();
        c.single.as_mut().unwrap().period_s = 45;
        fails(c, "InvalidParameterValueException");
    }

    #[test]
    fn the_evaluation_range_is_one_day_below_an_hour_and_seven_days_above() {
        let mut c = config();
        c.single.as_mut().unwrap().period_s = 60;
        c.evaluation_periods = 1441;
        fails(c.clone(), "InvalidParameterValueException");
        c.evaluation_periods = 1440;
        check_metric(&c).expect("one day");
        c.single.as_mut().unwrap().period_s = 3600;
        c.evaluation_periods = 168;
        check_metric(&c).expect("seven days");
        c.evaluation_periods = 169;
        fails(c, "InvalidParameterValueException");
    }

    #[test]
    fn datapoints_to_alarm_may_not_exceed_evaluation_periods() {
        let mut c = config();
        c.datapoints_to_alarm = Some(4);
        fails(c, "InvalidParameterValueException");
    }

    #[test]
    fn statistic_and_extended_statistic_are_exclusive() {
        let mut c = config();
        c.single.as_mut().unwrap().extended_statistic = Some("p99".into());
        fails(c.clone(), "InvalidParameterCombinationException");
        c.single.as_mut().unwrap().statistic = None;
        check_metric(&c).expect("percentile");
        c.single.as_mut().unwrap().extended_statistic = None;
        fails(c, "MissingRequiredParameterException");
    }

    #[test]
    fn metrics_need_exactly_one_returned_query() {
        let stat = |id: &str, ret: Option<bool>| AlarmQuery {
            id: id.into(),
            expression: None,
            metric_stat: Some(QueryStat {
                metric: MetricRef {
                    namespace: "App".into(),
                    name: "Errors".into(),
                    dimensions: vec![],
                },
                period_s: 60,
                stat: "Sum".into(),
                unit: None,
            }),
            label: None,
            return_data: ret,
            period_s: None,
            account_id: None,
        };
        let mut c = config();
        c.single = None;
        c.metrics = vec![stat("m1", None), stat("m2", None)];
        fails(c.clone(), "InvalidParameterValueException");
        c.metrics = vec![stat("m1", Some(false)), stat("m2", None)];
        check_metric(&c).expect("one returned");
        c.single = config().single;
        fails(c, "InvalidParameterCombinationException");
    }

    #[test]
    fn band_operators_need_a_threshold_metric() {
        let mut c = config();
        c.comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold".into();
        fails(c.clone(), "InvalidParameterValueException");
        c.comparison_operator = "Bigger".into();
        fails(c, "InvalidParameterValueException");
    }

    #[test]
    fn treat_missing_data_and_low_sample_count_take_their_values() {
        let mut c = config();
        c.treat_missing_data = Some("sometimes".into());
        fails(c, "InvalidParameterValueException");
        let mut c = config();
        c.evaluate_low_sample_count_percentile = Some("ignore".into());
        fails(c, "InvalidParameterCombinationException");
    }

    #[test]
    fn action_arns_are_checked_and_limited_to_five() {
        assert!(valid_action("arn:aws:sns:us-east-1:000000000000:topic"));
        assert!(valid_action("arn:aws:sqs:us-east-1:000000000000:queue"));
        assert!(valid_action(
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        ));
        assert!(valid_action("arn:aws:automate:us-east-1:ec2:stop"));
        assert!(!valid_action("arn:aws:sns:us-east-1:0000:topic"));
        assert!(!valid_action("not-an-arn"));
        assert!(!valid_action("arn:aws:s3:::bucket"));
        let six = vec!["arn:aws:sns:us-east-1:000000000000:t".to_owned(); 6];
        assert_eq!(
            check_actions(&six, "AlarmActions").unwrap_err().code(),
            "LimitExceededFault"
        );
    }
}
