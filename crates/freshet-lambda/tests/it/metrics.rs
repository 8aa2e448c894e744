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

#[tokio::test]
async fn event_invocations_publish_received_age_dropped_and_destination_failures() {
    use std::time::Duration;

    use freshet_lambda::async_invoke::{AsyncQueue, AsyncQueueOptions};
    use freshet_log::LogConfig;
    use freshet_runtime::{Platform, Supervisor};
    use freshet_sqs::{Sqs, SqsOptions};
    use freshet_types::ManualClock;

    const T0: i64 = 1_700_000_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    let recorder = Recorder::new(Arc::new(SystemClock));
    h.svc.functions().set_recorder(recorder.clone());
    let clock = Arc::new(ManualClock::new(T0));
    let supervisor = Supervisor::new(clock.clone());
    let platform = Platform::open_local(
        &dir.path().join("platform"),
        LogConfig::default(),
        clock.clone(),
        supervisor.tasks(),
    )
    .expect("platform");
    let queue = AsyncQueue::open(&platform, AsyncQueueOptions::default()).expect("queue");
    let sqs = Sqs::open_on(&platform, SqsOptions::default())
        .await
        .expect("sqs");
    h.svc.functions().set_async_queue(queue.clone());
    h.create_active("f").await;
    // No retries; failures go to a queue that does not exist, which refuses the record.
    h.call(
        "PutFunctionEventInvokeConfig",
        json!({ "FunctionName": "f", "MaximumRetryAttempts": 0,
                "DestinationConfig": { "OnFailure": {
                    "Destination": "arn:aws:sqs:us-east-1:000000000000:missing" } } }),
    )
    .await
    .expect("event invoke config");
    for payload in [&br#"{"a":1}"#[..], br#"{"fail": true}"#] {
        h.call(
            "Invoke",
            json!({ "FunctionName": "f", "InvocationType": "Event", "Payload": b64(payload) }),
        )
        .await
        .expect("invoke");
    }
    clock.advance(2_500);
    supervisor.start(queue.dispatcher(h.svc.functions().clone(), sqs.clone()));
    for _ in 0..1000 {
        if queue.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(queue.is_empty(), "both events ran");
    let m = drained(&recorder);
    let f = [("FunctionName", "f")];
    assert_eq!(stat(&m, "AsyncEventsReceived", &f).sum, 2.0);
    let age = stat(&m, "AsyncEventAge", &f);
    assert_eq!(
        (age.count, age.max),
        (2.0, 2_500.0),
        "queued 2.5 s before they ran"
    );
    let dropped = stat(&m, "AsyncEventsDropped", &f);
    assert_eq!((dropped.count, dropped.sum), (1.0, 1.0), "the failed one");
    assert_eq!(stat(&m, "DestinationDeliveryFailures", &f).sum, 1.0);
    supervisor.shutdown(Duration::from_secs(5)).await;
    sqs.shutdown();
    platform.shutdown();
}
