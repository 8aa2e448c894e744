// SPDX-License-Identifier: Apache-2.0
//! PutMetricData: custom metrics, checked as CloudWatch checks them, stored as one datapoint
//! per datum at its resolution (1 s for `StorageResolution` 1, else 1 min; timestamps
//! floored to it). `Value` and `Values`+`Counts` keep percentiles (a sketch); a
//! `StatisticValues` set cannot, so percentiles over such data are absent, as in AWS.

use std::sync::Arc;

use freshet_metrics::{Datapoint, MetricKey, Point, Sketch, StatSet, Unit};
use freshet_protocol::json::{JInt, JList, JStr, JTimestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{
    Ctx, DimensionIn, Num, dimensions, invalid, metric_name, missing, namespace, too_many, unit,
};
use crate::error::CwError;

/// The most MetricData entries in one request.
const MAX_DATA: usize = 1000;
/// The most `Values` in one datum.
const MAX_VALUES: usize = 150;
/// 2^360: values must lie within ±this.
const LIMIT: f64 = 2.348_542_582_773_833_3e108;
/// How far back a timestamp may be: two weeks.
const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
/// How far ahead a timestamp may be: two hours.
const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;

pub(crate) struct PutMetricData;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    namespace: Option<JStr>,
    metric_data: Option<JList<Datum>>,
    entity_metric_data: Option<JList<EntityData>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EntityData {
    metric_data: Option<JList<Datum>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Datum {
    metric_name: Option<JStr>,
    dimensions: Option<JList<DimensionIn>>,
    timestamp: Option<JTimestamp>,
    value: Option<Num>,
    statistic_values: Option<StatisticSet>,
    values: Option<JList<Num>>,
    counts: Option<JList<Num>>,
    unit: Option<JStr>,
    storage_resolution: Option<JInt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatisticSet {
    sample_count: Option<Num>,
    sum: Option<Num>,
    minimum: Option<Num>,
    maximum: Option<Num>,
}

impl<'a> Operation<Ctx<'a>> for PutMetricData {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let now = ctx.cw.store.clock().now_ms();
        let points = points(i, now)?;
        ctx.cw.store.put(points).await.map_err(CwError::from)?;
        Ok(())
    }
}

/// The request's points, or CloudWatch's refusal of the whole request.
pub(crate) fn points(i: Input, now_ms: i64) -> Result<Vec<Point>, CwError> {
    let ns = namespace(i.namespace, "Namespace")?;
    if ns.starts_with("AWS/") {
        // The AWS/ namespaces are reserved for AWS services.
        return Err(invalid(&ns, "Namespace"));
    }
    let mut groups: Vec<(String, Vec<Datum>)> = Vec::new();
    if let Some(d) = i.metric_data {
        groups.push(("MetricData".to_owned(), d.0));
    }
    for (n, e) in i
        .entity_metric_data
        .map(|l| l.0)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if let Some(d) = e.metric_data {
            groups.push((format!("EntityMetricData.member.{}.MetricData", n + 1), d.0));
        }
    }
    let total: usize = groups.iter().map(|(_, d)| d.len()).sum();
    if total == 0 {
        return Err(missing("MetricData"));
    }
    if total > MAX_DATA {
        return Err(too_many("MetricData", MAX_DATA));
    }
    let mut out = Vec::with_capacity(total);
    for (list, data) in groups {
        for (n, d) in data.into_iter().enumerate() {
            out.push(point(&ns, d, &format!("{list}.member.{}", n + 1), now_ms)?);
        }
    }
    Ok(out)
}

fn point(ns: &str, d: Datum, at: &str, now_ms: i64) -> Result<Point, CwError> {
    let name = metric_name(d.metric_name, &format!("{at}.MetricName"))?;
    let dims = dimensions(d.dimensions, &format!("{at}.Dimensions"))?;
    let unit = unit(d.unit, &format!("{at}.Unit"))?.unwrap_or(Unit::None);
    let resolution_s: u32 = match d.storage_resolution.map(|r| r.0) {
        None | Some(60) => 60,
        Some(1) => 1,
        Some(other) => return Err(invalid(other, format!("{at}.StorageResolution"))),
    };
    let ts = d.timestamp.map_or(now_ms, |t| t.0);
    if ts < now_ms - MAX_AGE_MS {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {at}.Timestamp must specify a time no more than two weeks in the past."
        )));
    }
    if ts > now_ms + MAX_AHEAD_MS {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {at}.Timestamp must specify a time no more than two hours in the future."
        )));
    }
    let value = datapoint(d.value, d.statistic_values, d.values, d.counts, at, unit)?;
    let step = i64::from(resolution_s) * 1000;
    Ok(Point {
        key: Arc::new(MetricKey::new(ns, name, dims)),
        timestamp_ms: ts.div_euclid(step) * step,
        resolution_s,
        value,
    })
}

/// A value CloudWatch accepts: finite and within ±2^360.
fn check(v: f64, param: impl Fn() -> String) -> Result<f64, CwError> {
    if !v.is_finite() || v.abs() > LIMIT {
        return Err(invalid(v, param()));
    }
    Ok(v)
}

fn datapoint(
    value: Option<Num>,
    set: Option<StatisticSet>,
    values: Option<JList<Num>>,
    counts: Option<JList<Num>>,
    at: &str,
    unit: Unit,
) -> Result<Datapoint, CwError> {
    let given = [
        ("Value", value.is_some()),
        ("StatisticValues", set.is_some()),
        ("Values", values.is_some()),
    ];
    let mut present = given.iter().filter(|(_, p)| *p).map(|(n, _)| *n);
    match (present.next(), present.next()) {
        (None, _) => {
            return Err(CwError::MissingParameter(format!(
                "The parameter {at}.Value, {at}.StatisticValues or {at}.Values is required."
            )));
        }
        (Some(a), Some(b)) => {
            return Err(CwError::InvalidParameterCombination(format!(
                "The parameters {at}.{a} and {at}.{b} are mutually exclusive and you have specified both."
            )));
        }
        _ => {}
    }
    if counts.is_some() && values.is_none() {
        return Err(CwError::InvalidParameterCombination(format!(
            "The parameter {at}.Counts may only be given with {at}.Values."
        )));
    }
    if let Some(v) = value {
        let v = check(v.0, || format!("{at}.Value"))?;
        let mut sketch = Sketch::new();
        sketch.add(v, 1.0);
        return Ok(Datapoint {
            stats: StatSet::one(v),
            sketch: Some(sketch),
            unit,
        });
    }
    if let Some(s) = set {
        let part = |v: Option<Num>, name: &str| {
            let v = v
                .ok_or_else(|| missing(format!("{at}.StatisticValues.{name}")))?
                .0;
            check(v, || format!("{at}.StatisticValues.{name}"))
        };
        let count = part(s.sample_count, "SampleCount")?;
        let sum = part(s.sum, "Sum")?;
        let min = part(s.minimum, "Minimum")?;
        let max = part(s.maximum, "Maximum")?;
        if count <= 0.0 {
            return Err(invalid(count, format!("{at}.StatisticValues.SampleCount")));
        }
        if min > max {
            return Err(CwError::InvalidParameterValue(format!(
                "The parameter {at}.StatisticValues.Maximum must be greater than or equal to {at}.StatisticValues.Minimum."
            )));
        }
        return Ok(Datapoint {
            stats: StatSet {
                count,
                sum,
                min,
                max,
            },
            sketch: None,
            unit,
        });
    }
    let values: Vec<f64> = values
        .map(|l| l.0.iter().map(|n| n.0).collect())
        .unwrap_or_default();
    if values.len() > MAX_VALUES {
        return Err(too_many(format!("{at}.Values"), MAX_VALUES));
    }
    if values.is_empty() {
        return Err(missing(format!("{at}.Values")));
    }
    let counts: Option<Vec<f64>> = counts.map(|l| l.0.iter().map(|n| n.0).collect());
    if let Some(c) = &counts
        && c.len() != values.len()
    {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameters {at}.Values and {at}.Counts must be of the same size."
        )));
    }
    let mut stats: Option<StatSet> = None;
    let mut sketch = Sketch::new();
    for (n, v) in values.iter().enumerate() {
        let v = check(*v, || format!("{at}.Values.member.{}", n + 1))?;
        let c = match &counts {
            Some(c) => c[n],
            None => 1.0,
        };
        if !c.is_finite() || c < 0.0 {
            return Err(invalid(c, format!("{at}.Counts.member.{}", n + 1)));
        }
        if c == 0.0 {
            continue;
        }
        let s = StatSet::repeated(v, c);
        match &mut stats {
            Some(acc) => acc.merge(&s),
            None => stats = Some(s),
        }
        sketch.add(v, c);
    }
    let stats = stats.ok_or_else(|| {
        CwError::InvalidParameterValue(format!(
            "The parameter {at}.Counts must count at least one value."
        ))
    })?;
    Ok(Datapoint {
        stats,
        sketch: Some(sketch),
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn input(json: &str) -> Input {
        serde_json::from_str(json).expect("input")
    }

    fn refused(json: &str) -> CwError {
        points(input(json), NOW).expect_err("must be refused")
    }

    #[test]
    fn a_value_becomes_a_minute_point_with_a_sketch() {
        let p = points(
            input(r#"{"Namespace":"App","MetricData":[{"MetricName":"Lat","Value":5,"Unit":"Milliseconds","Timestamp":1800000030.5,"Dimensions":[{"Name":"b","Value":"2"},{"Name":"a","Value":"1"}]}]}"#),
            NOW,
        )
        .expect("points");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].timestamp_ms, 1_800_000_000_000);
        assert_eq!(p[0].timestamp_ms % 60_000, 0);
        assert_eq!(p[0].resolution_s, 60);
        assert_eq!(p[0].key.dimensions[0].name, "a");
        assert_eq!(p[0].value.unit, Unit::Milliseconds);
        assert!(p[0].value.sketch.is_some());
    }

    #[test]
    fn high_resolution_points_keep_their_second() {
        let p = points(
            input(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1,"StorageResolution":1,"Timestamp":1800000007.9}]}"#),
            NOW,
        )
        .expect("points");
        assert_eq!(
            (p[0].timestamp_ms, p[0].resolution_s),
            (1_800_000_007_000, 1)
        );
    }

    #[test]
    fn values_with_counts_give_statistics_and_percentiles() {
        let p = points(
            input(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Values":[1,10],"Counts":[3,1]}]}"#),
            NOW,
        )
        .expect("points");
        let s = &p[0].value.stats;
        assert_eq!((s.count, s.sum, s.min, s.max), (4.0, 13.0, 1.0, 10.0));
        assert!(p[0].value.sketch.is_some());
    }

    #[test]
    fn statistic_sets_have_no_percentiles() {
        let p = points(
            input(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","StatisticValues":{"SampleCount":2,"Sum":3,"Minimum":1,"Maximum":2}}]}"#),
            NOW,
        )
        .expect("points");
        assert!(p[0].value.sketch.is_none());
    }

    #[test]
    fn reserved_namespaces_and_bad_values_are_refused() {
        assert_eq!(
            refused(r#"{"Namespace":"AWS/EC2","MetricData":[{"MetricName":"M","Value":1}]}"#),
            CwError::InvalidParameterValue(
                "The value AWS/EC2 for parameter Namespace is invalid.".into()
            )
        );
        assert!(matches!(
            refused(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1e300}]}"#),
            CwError::InvalidParameterValue(m) if m.contains("MetricData.member.1.Value")
        ));
        assert!(matches!(
            refused(
                r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1,"StatisticValues":{"SampleCount":1,"Sum":1,"Minimum":1,"Maximum":1}}]}"#
            ),
            CwError::InvalidParameterCombination(_)
        ));
        assert!(matches!(
            refused(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Values":[1,2],"Counts":[1]}]}"#),
            CwError::InvalidParameterValue(m) if m.contains("same size")
        ));
        assert!(matches!(
            refused(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1,"StorageResolution":5}]}"#),
            CwError::InvalidParameterValue(m) if m.contains("StorageResolution")
        ));
        assert!(matches!(
            refused(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1,"Timestamp":1700000000}]}"#),
            CwError::InvalidParameterValue(m) if m.contains("two weeks")
        ));
        assert!(matches!(
            refused(r#"{"Namespace":"App","MetricData":[{"MetricName":"M","Value":1,"Timestamp":1800010000}]}"#),
            CwError::InvalidParameterValue(m) if m.contains("two hours")
        ));
        assert!(matches!(
            refused(r#"{"Namespace":"App"}"#),
            CwError::MissingParameter(_)
        ));
    }

    #[test]
    fn too_many_values_or_data_are_refused() {
        let values: Vec<String> = (0..151).map(|v| v.to_string()).collect();
        assert_eq!(
            refused(&format!(
                r#"{{"Namespace":"App","MetricData":[{{"MetricName":"M","Values":[{}]}}]}}"#,
                values.join(",")
            )),
            CwError::InvalidParameterValue(
                "The collection MetricData.member.1.Values must not have a size greater than 150."
                    .into()
            )
        );
        let data: Vec<&str> = (0..1001)
            .map(|_| r#"{"MetricName":"M","Value":1}"#)
            .collect();
        assert_eq!(
            refused(&format!(
                r#"{{"Namespace":"App","MetricData":[{}]}}"#,
                data.join(",")
            )),
            CwError::InvalidParameterValue(
                "The collection MetricData must not have a size greater than 1000.".into()
            )
        );
    }
}
