// SPDX-License-Identifier: Apache-2.0
//! The metrics in the Prometheus text exposition format (version 0.0.4), named as the
//! Prometheus CloudWatch exporter (`prometheus/cloudwatch_exporter`) names them, so
//! dashboards and alerts written against the exporter work on Freshet unchanged:
//!
//! - family `<namespace lower-cased>_<metric snake_case>_<statistic>`, where snake_case puts
//!   `_` between a lower-case letter or digit and an upper-case letter, then lower-cases,
//!   and every character outside `[a-zA-Z0-9:_]` becomes `_` with runs of `_` merged:
//!   `AWS/Kinesis` `GetRecords.IteratorAgeMilliseconds` Maximum is
//!   `aws_kinesis_get_records_iterator_age_milliseconds_maximum`;
//! - statistics `sum`, `sample_count`, `minimum`, `maximum`, `average`, and `p50`, `p90`,
//!   `p99` for metrics that keep percentiles;
//! - labels `job` (the namespace, named like the family prefix), `instance` (empty) and one
//!   per dimension, its name snake_cased (`StreamName` → `stream_name`);
//! - every family a gauge, with the exporter's HELP text.
//!
//! The value is each metric's newest complete datapoint in the store (the minute still
//! filling is left out, so a scrape never sees a partial sum). Families and samples come out
//! sorted, so two renders of one store are identical.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use freshet_metrics::{Datapoint, MetricKey};

use crate::store::MetricStore;

/// Percentiles rendered for metrics that keep them.
const PERCENTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

/// The store's newest complete datapoints in the Prometheus text format (version 0.0.4).
pub fn render(store: &MetricStore) -> String {
    let latest = store.latest_complete(store.clock().now_ms());
    render_points(latest.iter().map(|(k, _, dp)| (&**k, dp)))
}

/// One sample: its label set (already rendered) and value.
type Samples = Vec<(String, f64)>;

/// Renders `(metric, datapoint)` pairs.
pub fn render_points<'a>(
    points: impl IntoIterator<Item = (&'a MetricKey, &'a Datapoint)>,
) -> String {
    // family name → (HELP text, samples)
    let mut families: BTreeMap<String, (String, Samples)> = BTreeMap::new();
    for (key, dp) in points {
        let base = safe_name(&format!(
            "{}_{}",
            key.namespace.to_lowercase(),
            snake_case(&key.name)
        ));
        let labels = labels(key);
        let s = &dp.stats;
        let mut stats: Vec<(&str, &str, f64)> = vec![
            ("sum", "Sum", s.sum),
            ("sample_count", "SampleCount", s.count),
            ("minimum", "Minimum", s.min),
            ("maximum", "Maximum", s.max),
            ("average", "Average", s.average()),
        ];
        if let Some(sketch) = &dp.sketch {
            for (suffix, q) in PERCENTILES {
                if let Some(v) = sketch.quantile(q) {
                    stats.push((suffix, suffix, v));
                }
            }
        }
        for (suffix, statistic, value) in stats {
            let family = format!("{base}_{suffix}");
            let entry = families
                .entry(family)
                .or_insert_with(|| (help(key, statistic, dp.unit.as_str()), Vec::new()));
            entry.1.push((labels.clone(), value));
        }
    }
    let mut out = String::new();
    for (family, (help, mut samples)) in families {
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(out, "# HELP {family} {}", escape_help(&help));
        let _ = writeln!(out, "# TYPE {family} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{family}{{{labels}}} {}", number(value));
        }
    }
    out
}

/// The exporter's HELP text.
fn help(key: &MetricKey, statistic: &str, unit: &str) -> String {
    let dims: Vec<&str> = key.dimensions.iter().map(|d| d.name.as_str()).collect();
    format!(
        "CloudWatch metric {} {} Dimensions: [{}] Statistic: {statistic} Unit: {unit}",
        key.namespace,
        key.name,
        dims.join(", ")
    )
}

/// `job="…",instance="",<dimension>="…"…`, dimensions in the key's (sorted) order.
fn labels(key: &MetricKey) -> String {
    let mut out = format!(
        "job=\"{}\",instance=\"\"",
        escape_label(&safe_name(&key.namespace.to_lowercase()))
    );
    for d in &key.dimensions {
        let name = safe_name(&snake_case(&d.name));
        // A dimension that maps onto a label the exporter sets itself is renamed, not lost.
        let name = match name.as_str() {
            "job" | "instance" => format!("exported_{name}"),
            _ => name,
        };
        let _ = write!(out, ",{name}=\"{}\"", escape_label(&d.value));
    }
    out
}

/// The exporter's toSnakeCase: `_` between `[a-z0-9]` and `[A-Z]`, then lower case.
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        if c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        out.extend(c.to_lowercase());
        prev = Some(c);
    }
    out
}

/// The exporter's safeName: characters outside `[a-zA-Z0-9:_]` become `_`, runs of `_`
/// merge. A name that would start with a digit gets a leading `_` (Prometheus requires it).
pub fn safe_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' || c == '_' {
            c
        } else {
            '_'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A label value: `\`, `"` and newline escaped.
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: `\` and newline escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Prometheus spells it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_metrics::{Sketch, StatSet, Unit};
    use proptest::prelude::*;

    fn dp(values: &[f64], sketch: bool) -> Datapoint {
        let mut stats = StatSet::one(values[0]);
        for v in &values[1..] {
            stats.record(*v);
        }
        let sketch = sketch.then(|| {
            let mut s = Sketch::new();
            for v in values {
                s.add(*v, 1.0);
            }
            s
        });
        Datapoint {
            stats,
            sketch,
            unit: Unit::Count,
        }
    }

    /// (family, labels, value) of every sample line; HELP/TYPE lines checked on the way.
    fn parse(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
        let mut out = Vec::new();
        let mut typed = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                assert!(rest.contains(" CloudWatch metric "), "{line}");
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, ty) = rest.split_once(' ').expect("TYPE name type");
                assert_eq!(ty, "gauge");
                typed = Some(name.to_owned());
                continue;
            }
            let open = line.find('{').expect("labels");
            let close = line.rfind('}').expect("labels end");
            let name = &line[..open];
            assert_eq!(Some(name), typed.as_deref(), "a sample follows its TYPE");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            );
            let mut labels = BTreeMap::new();
            let mut rest = &line[open + 1..close];
            while !rest.is_empty() {
                let (label, after) = rest.split_once("=\"").expect("label=\"");
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next().expect("closing quote") {
                        (_, '\\') => match chars.next().expect("escape").1 {
                            'n' => value.push('\n'),
                            c => value.push(c),
                        },
                        (i, '"') => break i,
                        (_, c) => value.push(c),
                    }
                };
                labels.insert(label.to_owned(), value);
                rest = after[end + 1..].trim_start_matches(',');
            }
            let value: f64 = line[close + 1..].trim().parse().expect("value");
            out.push((name.to_owned(), labels, value));
        }
        out
    }

    #[test]
    fn kinesis_metrics_are_named_as_the_cloudwatch_exporter_names_them() {
        let key = MetricKey::new(
            "AWS/Kinesis",
            "GetRecords.IteratorAgeMilliseconds",
            [("StreamName", "orders")],
        );
        let incoming = MetricKey::new("AWS/Kinesis", "IncomingRecords", [("StreamName", "orders")]);
        let a = dp(&[10.0, 250.0], false);
        let b = dp(&[500.0, 100.0], false);
        let text = render_points([(&key, &a), (&incoming, &b)]);
        let samples = parse(&text);
        let find = |name: &str| {
            samples
                .iter()
                .find(|(n, _, _)| n == name)
                .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        };
        let (_, labels, v) = find("aws_kinesis_get_records_iterator_age_milliseconds_maximum");
        assert_eq!(*v, 250.0);
        assert_eq!(labels["stream_name"], "orders");
        assert_eq!(labels["job"], "aws_kinesis");
        assert_eq!(labels["instance"], "");
        assert_eq!(find("aws_kinesis_incoming_records_sum").2, 600.0);
        assert_eq!(find("aws_kinesis_incoming_records_sample_count").2, 2.0);
        assert_eq!(find("aws_kinesis_incoming_records_average").2, 300.0);
        assert_eq!(find("aws_kinesis_incoming_records_minimum").2, 100.0);
        assert!(text.contains(
            "# HELP aws_kinesis_incoming_records_sum CloudWatch metric AWS/Kinesis \
             IncomingRecords Dimensions: [StreamName] Statistic: Sum Unit: Count\n"
        ));
    }

    #[test]
    fn distributions_add_percentiles() {
        let key = MetricKey::new("AWS/Lambda", "Duration", [("FunctionName", "f")]);
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let d = dp(&values, true);
        let samples = parse(&render_points([(&key, &d)]));
        let p99 = samples
            .iter()
            .find(|(n, _, _)| n == "aws_lambda_duration_p99")
            .expect("p99");
        assert!((p99.2 - 99.0).abs() <= 1.0, "{}", p99.2);
    }

    #[test]
    fn custom_namespaces_and_label_values_are_made_safe() {
        let key = MetricKey::new(
            "My.App-1/Orders",
            "Latency-P.Total",
            [("ShardId", "a\"b\\c\nd"), ("job", "x")],
        );
        let d = dp(&[1.0], false);
        let samples = parse(&render_points([(&key, &d)]));
        let (name, labels, _) = &samples[0];
        assert!(
            name.starts_with("my_app_1_orders_latency_p_total_"),
            "{name}"
        );
        assert_eq!(labels["shard_id"], "a\"b\\c\nd");
        assert_eq!(labels["exported_job"], "x");
        assert_eq!(labels["job"], "my_app_1_orders");
    }

    #[test]
    fn snake_case_follows_the_exporter() {
        assert_eq!(snake_case("PutRecords.Success"), "put_records.success");
        assert_eq!(
            safe_name(&snake_case("PutRecords.Success")),
            "put_records_success"
        );
        assert_eq!(
            snake_case("ApproximateAgeOfOldestMessage"),
            "approximate_age_of_oldest_message"
        );
        assert_eq!(snake_case("IOPS"), "iops");
        assert_eq!(snake_case("S3Bytes"), "s3_bytes");
        assert_eq!(safe_name("9lives"), "_9lives");
    }

    proptest! {
        #[test]
        fn any_metric_renders_as_parseable_exposition(
            ns in "[ -~]{1,20}",
            name in "[ -~]{1,20}",
            dim in "[A-Za-z]{1,10}",
            value in "\\PC{0,20}",
            v in -1e12f64..1e12,
        ) {
            let key = MetricKey::new(ns, name, [(dim, value.clone())]);
            let d = dp(&[v], false);
            let samples = parse(&render_points([(&key, &d)]));
            prop_assert_eq!(samples.len(), 5);
            for (family, labels, got) in &samples {
                let want = if family.ends_with("_sample_count") { 1.0 } else { v };
                prop_assert_eq!(*got, want);
                prop_assert!(labels.values().any(|l| *l == value));
            }
        }
    }
}
