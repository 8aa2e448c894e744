// SPDX-License-Identifier: Apache-2.0
//! AWS/Logs ingestion metrics and the metrics metric filters emit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use freshet_log::LogConfig;
use freshet_logs::store::{MetricFilterRecord, TransformationRecord};
use freshet_logs::{Logs, LogsOptions};
use freshet_metrics::{MetricKey, Point, Recorder};
use freshet_runtime::{Platform, Tasks};
use freshet_types::ManualClock;

use super::common::{T0, create, events};

async fn open(dir: &std::path::Path, clock: &ManualClock) -> (Platform, Logs, Recorder) {
    let platform = Platform::open_local(
        dir,
        LogConfig::default(),
        Arc::new(clock.clone()),
        Tasks::detached(),
    )
    .expect("platform");
    let recorder = Recorder::new(Arc::new(clock.clone()));
    let opts = LogsOptions {
        recorder: recorder.clone(),
        ..LogsOptions::default()
    };
    let logs = Logs::open(&platform, opts).await.expect("open");
    (platform, logs, recorder)
}

fn by_key(points: Vec<Point>) -> HashMap<String, Vec<Point>> {
    let mut out: HashMap<String, Vec<Point>> = HashMap::new();
    for p in points {
        out.entry(p.key.to_string()).or_default().push(p);
    }
    out
}

fn filter(name: &str, pattern: &str, value: &str, default: Option<f64>) -> MetricFilterRecord {
    let mut dimensions = BTreeMap::new();
    if pattern.starts_with('{') {
        dimensions.insert("Service".to_owned(), "$.service".to_owned());
    }
    MetricFilterRecord {
        name: name.into(),
        pattern: pattern.into(),
        transformations: vec![TransformationRecord {
            metric_name: name.into(),
            metric_namespace: "App".into(),
            metric_value: value.into(),
            default_value: default,
            dimensions,
            unit: Some("Milliseconds".into()),
        }],
        created_ms: 0,
        apply_on_transformed_logs: false,
        field_selection_criteria: None,
        emit_system_field_dimensions: Vec::new(),
    }
}

#[tokio::test]
async fn a_batch_counts_its_bytes_and_events_and_feeds_the_metric_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (_p, logs, r) = open(dir.path(), &clock).await;
    create(&logs, "g", &["s"]).await;
    logs.put_metric_filter(
        "g",
        filter("Latency", "{ $.latency > 0 }", "$.latency", None),
    )
    .await
    .expect("filter");
    logs.put_metric_filter("g", filter("Panics", "PANIC", "1", Some(0.0)))
        .await
        .expect("filter");
    let batch = events(&[
        (T0 - 120_000, r#"{"latency": 40, "service": "api"}"#),
        (T0 - 60_000, r#"{"latency": 60, "service": "api"}"#),
        (T0, "plain text"),
    ]);
    logs.put_log_events("g", "s", &batch).await.expect("put");
    let m = by_key(r.drain());
    let bytes: usize = batch.iter().map(|e| e.message.len()).sum();
    let group = |name: &str| MetricKey::new("AWS/Logs", name, [("LogGroupName", "g")]).to_string();
    assert_eq!(m[&group("IncomingBytes")][0].value.stats.sum, bytes as f64);
    assert_eq!(m[&group("IncomingLogEvents")][0].value.stats.sum, 3.0);
    let none: [(&str, &str); 0] = [];
    let account = MetricKey::new("AWS/Logs", "IncomingLogEvents", none).to_string();
    assert_eq!(m[&account][0].value.stats.sum, 3.0);

    // Matches land at their events' timestamps, with the extracted dimension and the unit.
    let latency = MetricKey::new("App", "Latency", [("Service", "api")]).to_string();
    let mut points = m[&latency].clone();
    points.sort_by_key(|p| p.timestamp_ms);
    assert_eq!(points.len(), 2, "two events in two minutes");
    assert_eq!(
        points[0].timestamp_ms,
        freshet_metrics::minute_of(T0 - 120_000)
    );
    assert_eq!(points[0].value.stats.sum, 40.0);
    assert_eq!(points[1].value.stats.sum, 60.0);
    assert_eq!(points[1].value.unit, freshet_metrics::Unit::Milliseconds);

    // No event matched PANIC: its default value is reported once for the batch.
    let panics = MetricKey::new("App", "Panics", none).to_string();
    let p = &m[&panics];
    assert_eq!(
        (p.len(), p[0].value.stats.count, p[0].value.stats.sum),
        (1, 1.0, 0.0)
    );

    logs.put_log_events("g", "s", &events(&[(T0, "PANIC now"), (T0, "fine")]))
        .await
        .expect("put");
    let m = by_key(r.drain());
    let p = &m[&panics];
    assert_eq!(
        (p[0].value.stats.count, p[0].value.stats.sum),
        (1.0, 1.0),
        "a batch with a match reports the match, not the default"
    );

    logs.delete_metric_filter("g", "Panics")
        .await
        .expect("delete");
    logs.put_log_events("g", "s", &events(&[(T0, "PANIC again")]))
        .await
        .expect("put");
    assert!(
        !by_key(r.drain()).contains_key(&panics),
        "a deleted filter emits nothing"
    );
}
