// SPDX-License-Identifier: Apache-2.0
//! GetMetricStatistics: one metric (exact dimensions), standard and extended statistics per
//! period, at most 1,440 datapoints, StartTime rounded down by its age as AWS does.

use std::collections::BTreeMap;

use freshet_metrics::MetricKey;
use freshet_protocol::json::{JInt, JList, JStr, JTimestamp, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, DimensionIn, dimensions, invalid, metric_name, missing, namespace, period, unit};
use crate::error::CwError;
use crate::statistic::Statistic;
use crate::store::Query;

/// The most datapoints one call may ask for.
const MAX_POINTS: i64 = 1440;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

pub(crate) struct GetMetricStatistics;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    namespace: Option<JStr>,
    metric_name: Option<JStr>,
    dimensions: Option<JList<DimensionIn>>,
    start_time: Option<JTimestamp>,
    end_time: Option<JTimestamp>,
    period: Option<JInt>,
    statistics: Option<JList<JStr>>,
    extended_statistics: Option<JList<JStr>>,
    unit: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    label: String,
    datapoints: Vec<DatapointOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DatapointOut {
    timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum: Option<f64>,
    unit: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extended_statistics: BTreeMap<String, f64>,
}

/// Where a start time rounds down to, by its age: the minute (or the period, below a
/// minute) within 15 days, 5 minutes within 63 days, the hour beyond.
pub(crate) fn align_start(start_ms: i64, now_ms: i64, period_s: u32) -> i64 {
    let age = now_ms - start_ms;
    let step = if age > 63 * DAY_MS {
        60 * MINUTE_MS
    } else if age > 15 * DAY_MS {
        5 * MINUTE_MS
    } else if period_s < 60 {
        i64::from(period_s.max(1)) * 1000
    } else {
        MINUTE_MS
    };
    start_ms.div_euclid(step) * step
}

/// `n` with thousands separators, as AWS writes counts in messages.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The start and end checks GetMetricStatistics and GetMetricData share.
pub(crate) fn time_range(
    start: Option<JTimestamp>,
    end: Option<JTimestamp>,
) -> Result<(i64, i64), CwError> {
    let start = start.ok_or_else(|| missing("StartTime"))?.0;
    let end = end.ok_or_else(|| missing("EndTime"))?.0;
    if start >= end {
        return Err(CwError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    Ok((start, end))
}

impl<'a> Operation<Ctx<'a>> for GetMetricStatistics {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let ns = namespace(i.namespace, "Namespace")?;
        let name = metric_name(i.metric_name, "MetricName")?;
        let dims = dimensions(i.dimensions, "Dimensions")?;
        let (start, end) = time_range(i.start_time, i.end_time)?;
        let period = period(i.period.ok_or_else(|| missing("Period"))?.0, "Period")?;
        let unit = unit(i.unit, "Unit")?;
        let stats = statistics(i.statistics, i.extended_statistics)?;
        let now = ctx.cw.store.clock().now_ms();
        let start = align_start(start, now, period);
        let step = i64::from(period) * 1000;
        let wanted = (end - start + step - 1) / step;
        if wanted > MAX_POINTS {
            return Err(CwError::InvalidParameterCombination(format!(
                "You have requested up to {} datapoints, which exceeds the limit of 1,440. You \
                 may reduce the datapoints requested by increasing Period, or decreasing the \
                 time range.",
                thousands(wanted)
            ))
            .into());
        }
        let key = MetricKey::new(ns, name.clone(), dims);
        let points = ctx
            .cw
            .store
            .query(&Query {
                key: &key,
                start_ms: start,
                end_ms: end,
                period_s: period,
                unit,
            })
            .await
            .map_err(CwError::from)?;
        let datapoints = points
            .iter()
            .map(|(ts, dp)| {
                let pick = |s: Statistic| stats.contains(&s).then(|| s.of(dp)).flatten();
                DatapointOut {
                    timestamp: Timestamp(*ts),
                    sample_count: pick(Statistic::SampleCount),
                    average: pick(Statistic::Average),
                    sum: pick(Statistic::Sum),
                    minimum: pick(Statistic::Minimum),
                    maximum: pick(Statistic::Maximum),
                    unit: dp.unit.as_str(),
                    extended_statistics: stats
                        .iter()
                        .filter(|s| !s.is_standard())
                        .filter_map(|s| Some((s.to_string(), s.of(dp)?)))
                        .collect(),
                }
            })
            .collect();
        Ok(Output {
            label: name,
            datapoints,
        })
    }
}

/// The statistics asked for: 1–5 standard ones and/or 1–10 percentiles, at least one.
fn statistics(
    standard: Option<JList<JStr>>,
    extended: Option<JList<JStr>>,
) -> Result<Vec<Statistic>, CwError> {
    let standard = standard.map(|l| l.0).unwrap_or_default();
    let extended = extended.map(|l| l.0).unwrap_or_default();
    if standard.is_empty() && extended.is_empty() {
        return Err(CwError::InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics.".into(),
        ));
    }
    if standard.len() > 5 {
        return Err(super::too_many("Statistics", 5));
    }
    if extended.len() > 10 {
        return Err(super::too_many("ExtendedStatistics", 10));
    }
    let mut out = Vec::new();
    for (n, s) in standard.iter().enumerate() {
        match Statistic::parse(&s.0) {
            Some(st) if st.is_standard() => out.push(st),
            _ => return Err(invalid(&s.0, format!("Statistics.member.{}", n + 1))),
        }
    }
    for (n, s) in extended.iter().enumerate() {
        match Statistic::parse(&s.0) {
            Some(st) if !st.is_standard() => out.push(st),
            _ => {
                return Err(invalid(
                    &s.0,
                    format!("ExtendedStatistics.member.{}", n + 1),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_round_down_by_age() {
        let now = 1_800_000_000_000;
        let t = now - 3_600_000 - 12_345;
        assert_eq!(align_start(t, now, 60) % MINUTE_MS, 0);
        assert_eq!(align_start(t, now, 60), t - t.rem_euclid(MINUTE_MS));
        assert_eq!(align_start(t, now, 10), t - t.rem_euclid(10_000));
        let old = now - 20 * DAY_MS - 123_456;
        assert_eq!(align_start(old, now, 60) % (5 * MINUTE_MS), 0);
        let older = now - 70 * DAY_MS - 123_456;
        assert_eq!(align_start(older, now, 60) % (60 * MINUTE_MS), 0);
    }

    #[test]
    fn counts_are_written_with_separators() {
        assert_eq!(thousands(1441), "1,441");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn statistics_must_be_named_and_in_their_list() {
        let l = |v: &[&str]| Some(JList(v.iter().map(|s| JStr((*s).into())).collect()));
        assert!(statistics(None, None).is_err());
        assert_eq!(statistics(l(&["Sum"]), None), Ok(vec![Statistic::Sum]));
        assert!(statistics(l(&["p99"]), None).is_err());
        assert!(statistics(None, l(&["Sum"])).is_err());
        assert_eq!(
            statistics(None, l(&["p50"])),
            Ok(vec![Statistic::Percentile(50.0)])
        );
    }
}
