// SPDX-License-Identifier: Apache-2.0
//! The AWS/SQS metrics a queue publishes: counts per call and gauges sampled per minute.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use freshet_metrics::{MetricKey, Recorder, StatSet};
use freshet_sqs::engine::ReceiveRequest;
use freshet_sqs::{Sqs, SqsOptions};
use freshet_types::ManualClock;

use super::store::{T0, arn, platform};

fn drained(r: &Recorder) -> HashMap<String, StatSet> {
    let mut out: HashMap<String, StatSet> = HashMap::new();
    for p in r.drain() {
        out.entry(p.key.to_string())
            .and_modify(|s| s.merge(&p.value.stats))
            .or_insert(p.value.stats);
    }
    out
}

fn stat(m: &HashMap<String, StatSet>, name: &str) -> StatSet {
    let key = MetricKey::new("AWS/SQS", name, [("QueueName", "q")]).to_string();
    *m.get(&key).unwrap_or_else(|| panic!("no {key} in {m:?}"))
}

#[tokio::test]
async fn sends_receives_and_deletes_are_counted_and_depths_sampled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let recorder = Recorder::new(Arc::new(clock.clone()));
    let opts = SqsOptions {
        recorder: recorder.clone(),
        ..SqsOptions::default()
    };
    let sqs: Sqs = Sqs::open_on(&p, opts).await.expect("open sqs");
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    for body in ["a", "bbb", "cc"] {
        sqs.send(&arn("q"), body, BTreeMap::new())
            .await
            .expect("send");
    }
    let req = ReceiveRequest {
        max_messages: 2,
        visibility_timeout: None,
        attempt_id: None,
    };
    let got = sqs.receive_by_name("q", &req).await.expect("receive");
    assert_eq!(got.len(), 2);
    sqs.delete_by_name("q", &got[0].delivery.receipt_handle)
        .await
        .expect("delete");
    clock.advance(90_000);
    recorder.sample_gauges();
    let m = drained(&recorder);
    assert_eq!(stat(&m, "NumberOfMessagesSent").sum, 3.0);
    let size = stat(&m, "SentMessageSize");
    assert_eq!((size.count, size.sum, size.max), (3.0, 6.0, 3.0));
    assert_eq!(stat(&m, "NumberOfMessagesReceived").sum, 2.0);
    assert_eq!(stat(&m, "NumberOfEmptyReceives").sum, 0.0);
    assert_eq!(stat(&m, "NumberOfMessagesDeleted").sum, 1.0);
    // 90 s later the received-but-undeleted message is visible again (30 s timeout).
    assert_eq!(stat(&m, "ApproximateNumberOfMessagesVisible").max, 2.0);
    assert_eq!(stat(&m, "ApproximateNumberOfMessagesNotVisible").max, 0.0);
    assert_eq!(stat(&m, "ApproximateAgeOfOldestMessage").max, 90.0);

    let none = sqs.receive_by_name("nonexistent", &req).await;
    assert!(none.is_err());
    for r in sqs.receive_by_name("q", &req).await.expect("receive") {
        sqs.delete_by_name("q", &r.delivery.receipt_handle)
            .await
            .expect("delete");
    }
    let empty = sqs.receive_by_name("q", &req).await.expect("receive");
    assert!(empty.is_empty());
    let m = drained(&recorder);
    assert_eq!(stat(&m, "NumberOfEmptyReceives").sum, 1.0);
    assert_eq!(stat(&m, "NumberOfMessagesDeleted").sum, 2.0);
}
