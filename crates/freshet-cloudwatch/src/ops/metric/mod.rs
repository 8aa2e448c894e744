// SPDX-License-Identifier: Apache-2.0
//! The metric operations (PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics),
//! one module each, and what they share: the metric and dimension DTOs, CloudWatch's
//! parameter messages (`The value X for parameter Y is invalid.`), namespace and period rules.
//!
//! CloudWatch is a Query-era service: beyond the model's types, it words its refusals as
//! `InvalidParameterValue` / `MissingParameter` / `InvalidParameterCombination` with
//! parameter paths in Query form (`MetricData.member.1.Value`), on every protocol. So
//! `validate` does nothing here and each operation checks its input in `call`.

mod get_metric_data;
mod get_metric_statistics;
mod list_metrics;
mod put_metric_data;

use freshet_metrics::{MetricKey, Unit};
use freshet_protocol::json::{JList, JStr};
use freshet_protocol::{Input, Response, run_input};
use serde::{Deserialize, Serialize};

use super::Ctx;
pub(crate) use super::shapes::{DimensionIn, DimensionOut};
use crate::error::{CwError, WIRE};

/// Routes one of the metric operations.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    match op {
        "PutMetricData" => {
            run_input::<Ctx<'_>, put_metric_data::PutMetricData>(ctx, op, input, &WIRE).await
        }
        "GetMetricStatistics" => {
            run_input::<Ctx<'_>, get_metric_statistics::GetMetricStatistics>(ctx, op, input, &WIRE)
                .await
        }
        "GetMetricData" => {
            run_input::<Ctx<'_>, get_metric_data::GetMetricData>(ctx, op, input, &WIRE).await
        }
        "ListMetrics" => {
            run_input::<Ctx<'_>, list_metrics::ListMetrics>(ctx, op, input, &WIRE).await
        }
        _ => crate::api::unknown_operation(op, input.protocol()),
    }
}

/// A `Double` member: any number (CBOR clients such as cbor2 write whole numbers as
/// integers, JSON ones as `1`), refused otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// `Metric` as returned.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricOut {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<DimensionOut>,
}

impl MetricOut {
    pub fn of(key: &MetricKey) -> Self {
        MetricOut {
            namespace: key.namespace.clone(),
            metric_name: key.name.clone(),
            dimensions: key
                .dimensions
                .iter()
                .map(|d| DimensionOut {
                    name: d.name.clone(),
                    value: d.value.clone(),
                })
                .collect(),
        }
    }
}

/// `The value {value} for parameter {param} is invalid.`
pub(crate) fn invalid(value: impl std::fmt::Display, param: impl std::fmt::Display) -> CwError {
    CwError::InvalidParameterValue(format!(
        "The value {value} for parameter {param} is invalid."
    ))
}

/// `The parameter {param} is required.`
pub(crate) fn missing(param: impl std::fmt::Display) -> CwError {
    CwError::MissingParameter(format!("The parameter {param} is required."))
}

/// `The collection {param} must not have a size greater than {max}.`
pub(crate) fn too_many(param: impl std::fmt::Display, max: usize) -> CwError {
    CwError::InvalidParameterValue(format!(
        "The collection {param} must not have a size greater than {max}."
    ))
}

/// A string parameter with the model's length bounds (in characters).
pub(crate) fn string_len(
    v: &str,
    param: impl std::fmt::Display,
    min: usize,
    max: usize,
) -> Result<(), CwError> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(invalid(v, param));
    }
    Ok(())
}

/// A namespace: 1–255 characters, not starting with `:` (the model's pattern `[^:].*`).
pub(crate) fn namespace(v: Option<JStr>, param: &str) -> Result<String, CwError> {
    let ns = v.ok_or_else(|| missing(param))?.0;
    string_len(&ns, param, 1, 255)?;
    if ns.starts_with(':') {
        return Err(invalid(&ns, param));
    }
    Ok(ns)
}

/// A metric name: 1–255 characters.
pub(crate) fn metric_name(v: Option<JStr>, param: &str) -> Result<String, CwError> {
    let name = v.ok_or_else(|| missing(param))?.0;
    string_len(&name, param, 1, 255)?;
    Ok(name)
}

/// Dimensions (≤ 30, names 1–255, values 1–1024, no name twice) as `(name, value)` pairs.
pub(crate) fn dimensions(
    v: Option<JList<DimensionIn>>,
    param: &str,
) -> Result<Vec<(String, String)>, CwError> {
    let list = v.map(|l| l.0).unwrap_or_default();
    if list.len() > freshet_metrics::key::MAX_DIMENSIONS {
        return Err(too_many(param, freshet_metrics::key::MAX_DIMENSIONS));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(list.len());
    for (i, d) in list.into_iter().enumerate() {
        let at = format!("{param}.member.{}", i + 1);
        let name = d.name.ok_or_else(|| missing(format!("{at}.Name")))?.0;
        let value = d.value.ok_or_else(|| missing(format!("{at}.Value")))?.0;
        string_len(&name, format!("{at}.Name"), 1, 255)?;
        string_len(&value, format!("{at}.Value"), 1, 1024)?;
        if out.iter().any(|(n, _)| *n == name) {
            return Err(CwError::InvalidParameterValue(format!(
                "No two dimensions may have the same name: {name} appears twice in {param}."
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// A unit AWS knows.
pub(crate) fn unit(v: Option<JStr>, param: &str) -> Result<Option<Unit>, CwError> {
    match v {
        None => Ok(None),
        Some(s) => Unit::parse(&s.0)
            .map(Some)
            .ok_or_else(|| invalid(&s.0, param)),
    }
}

/// A period: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
pub(crate) fn period(v: i64, param: &str) -> Result<u32, CwError> {
    if v < 1 {
        return Err(invalid(v, param));
    }
    if v >= 60 && v % 60 != 0 {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {param} must be a multiple of 60."
        )));
    }
    if v < 60 && ![1, 5, 10, 20, 30].contains(&v) {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {param} must be 1, 5, 10, 20, 30, or a multiple of 60."
        )));
    }
    u32::try_from(v).map_err(|_| invalid(v, param))
}

/// Hex of `bytes`: opaque pagination tokens without a base64 dependency.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of `hex` text, `None` if it is not hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_high_resolution_steps_or_whole_minutes() {
        assert_eq!(period(60, "Period"), Ok(60));
        assert_eq!(period(1, "Period"), Ok(1));
        assert_eq!(period(300, "Period"), Ok(300));
        assert!(
            matches!(period(90, "Period"), Err(CwError::InvalidParameterValue(m)) if m.contains("multiple of 60"))
        );
        assert!(period(0, "Period").is_err());
        assert!(period(7, "Period").is_err());
    }

    #[test]
    fn dimensions_are_bounded_and_unique() {
        let dim = |n: &str, v: &str| DimensionIn {
            name: Some(JStr(n.into())),
            value: Some(JStr(v.into())),
        };
        let ok = dimensions(
            Some(JList(vec![dim("a", "1"), dim("b", "2")])),
            "Dimensions",
        );
        assert_eq!(ok.map(|d| d.len()), Ok(2));
        let twice = dimensions(
            Some(JList(vec![dim("a", "1"), dim("a", "2")])),
            "Dimensions",
        );
        assert!(twice.is_err());
        let many: Vec<DimensionIn> = (0..31).map(|i| dim(&format!("d{i}"), "v")).collect();
        assert_eq!(
            dimensions(Some(JList(many)), "MetricData.member.1.Dimensions"),
            Err(CwError::InvalidParameterValue(
                "The collection MetricData.member.1.Dimensions must not have a size greater than 30."
                    .into()
            ))
        );
        let empty_value = dimensions(Some(JList(vec![dim("a", "")])), "Dimensions");
        assert!(empty_value.is_err());
    }

    #[test]
    fn doubles_may_be_written_as_integers() {
        assert_eq!(serde_json::from_str::<Num>("2.5").expect("float"), Num(2.5));
        assert_eq!(serde_json::from_str::<Num>("7").expect("int"), Num(7.0));
        assert!(serde_json::from_str::<Num>("\"7\"").is_err());
    }

    #[test]
    fn hex_tokens_round_trip_and_refuse_garbage() {
        assert_eq!(unhex(&hex(b"\x00ab\xff")), Some(b"\x00ab\xff".to_vec()));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
