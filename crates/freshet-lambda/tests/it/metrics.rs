// SPDX-License-Identifier: Apache-2.0
//! The AWS/Lambda metrics invocations publish.

use std::collections::HashMap;
use std::sync::Arc;

use freshet_metrics::{MetricKey, Recorder, StatSet};
use freshet_types::SystemClock;
use serde_json::json;

use super::harness::{b64, open};

fn drained(r: &Recorder) -> HashMap<String, StatSet> {
    let mut out: HashMap<String, StatSet> = HashMap::new();
    for p in r.drain() {
        out.entry(p.key.to_string())
            .and_modify(|s| s.merge(&p.value.stats))
            .or_insert(p.value.stats);
    }
    out
}

fn stat(m: &HashMap<String, StatSet>, name: &str, dims: &[(&str, &str)]) -> StatSet {
    let key = MetricKey::new("AWS/Lambda", name, dims.iter().copied()).to_string();
    *m.get(&key)
        .unwrap_or_else(|| panic!("no {key} in {:?}", m.keys()))
}

#[tokio::test]
async fn invocations_errors_throttles_and_durations_are_counted_per_function_and_resource() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    let recorder = Recorder::new(Arc::new(SystemClock));
    h.svc.functions().set_recorder(recorder.clone());
    h.create_active("f").await;
    for payload in [&br#"{"a":1}"#[..], br#"{"fail": true}"#, b"2"] {
        h.call(
            "Invoke",
            json!({ "FunctionName": "f", "Payload": b64(payload) }),
        )
        .await
        .expect("invoke");
    }
    h.call(
        "PutFunctionConcurrency",
        json!({ "FunctionName": "f", "ReservedConcurrentExecutions": 0 }),
    )
    .await
    .expect("concurrency");
    let refused = h
        .call(
            "Invoke",
            json!({ "FunctionName": "f", "Payload": b64(b"3") }),
        )
        .await;
    assert!(refused.is_err(), "reserved concurrency 0 throttles");
    let m = drained(&recorder);
    let f = [("FunctionName", "f")];
    let invocations = stat(&m, "Invocations", &f);
    assert_eq!((invocations.count, invocations.sum), (3.0, 3.0));
    assert_eq!(stat(&m, "Errors", &f).sum, 1.0);
    assert_eq!(stat(&m, "Throttles", &f).sum, 1.0);
    // The echo executor reports 1 ms per invocation.
    let duration = stat(&m, "Duration", &f);
    assert_eq!((duration.count, duration.max), (3.0, 1.0));
    assert_eq!(stat(&m, "ConcurrentExecutions", &f).max, 1.0);
    assert_eq!(
        stat(
            &m,
            "Invocations",
            &[("FunctionName", "f"), ("Resource", "f")]
        )
        .sum,
        3.0
    );
    assert_eq!(stat(&m, "Invocations", &[]).sum, 3.0, "the account total");
}
