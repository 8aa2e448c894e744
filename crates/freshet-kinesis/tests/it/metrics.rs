// SPDX-License-Identifier: Apache-2.0
//! The AWS/Kinesis metrics a stream records: stream-level always, shard-level only for what
//! EnableEnhancedMonitoring switched on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use freshet_kinesis::{IteratorStart, PutEntry, StreamRef, Streams, StreamsOptions};
use freshet_log::LogConfig;
use freshet_metrics::{MetricKey, Recorder, StatSet};
use freshet_types::ManualClock;

use super::{T0, create, iterator};

async fn open_metered(dir: &std::path::Path, clock: &ManualClock) -> (Streams, Recorder) {
    let recorder = Recorder::new(Arc::new(clock.clone()));
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        recorder: recorder.clone(),
        ..StreamsOptions::default()
    };
    let s = Streams::open(dir, LogConfig::default(), opts, Arc::new(clock.clone()))
        .await
        .expect("open streams");
    (s, recorder)
}

/// Everything drained, merged per metric (name and dimensions rendered as text).
fn drained(r: &Recorder) -> HashMap<String, StatSet> {
    let mut out: HashMap<String, StatSet> = HashMap::new();
    for p in r.drain() {
        out.entry(p.key.to_string())
            .and_modify(|s| s.merge(&p.value.stats))
            .or_insert(p.value.stats);
    }
    out
}

fn stat<'a>(m: &'a HashMap<String, StatSet>, key: &MetricKey) -> &'a StatSet {
    m.get(&key.to_string())
        .unwrap_or_else(|| panic!("no {key} in {:?}", m.keys().collect::<Vec<_>>()))
}

fn stream_key(name: &str) -> MetricKey {
    MetricKey::new("AWS/Kinesis", name, [("StreamName", "m")])
}

fn shard_key(name: &str, shard: &str) -> MetricKey {
    MetricKey::new(
        "AWS/Kinesis",
        name,
        [("StreamName", "m"), ("ShardId", shard)],
    )
}

async fn put_batch(s: &Streams, n: usize, size: usize) {
    let data = vec![b'x'; size];
    let keys: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let entries: Vec<PutEntry<'_>> = keys
        .iter()
        .map(|k| PutEntry {
            data: &data,
            partition_key: k,
            explicit_hash_key: None,
        })
        .collect();
    s.put_records(&StreamRef::name("m"), &entries)
        .await
        .expect("put");
}

#[tokio::test]
async fn a_put_records_call_is_one_sample_valued_with_its_records_and_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, r) = open_metered(dir.path(), &clock).await;
    create(&s, "m", 2).await;
    put_batch(&s, 10, 100).await;
    put_batch(&s, 5, 100).await;
    let m = drained(&r);
    // Each record is 100 data bytes plus a 2-byte key.
    let incoming = stat(&m, &stream_key("IncomingRecords"));
    assert_eq!((incoming.count, incoming.sum), (2.0, 15.0));
    assert_eq!(stat(&m, &stream_key("IncomingBytes")).sum, 15.0 * 102.0);
    assert_eq!(stat(&m, &stream_key("PutRecords.Records")).sum, 15.0);
    assert_eq!(stat(&m, &stream_key("PutRecords.TotalRecords")).sum, 15.0);
    assert_eq!(stat(&m, &stream_key("PutRecords.FailedRecords")).sum, 0.0);
    let success = stat(&m, &stream_key("PutRecords.Success"));
    assert_eq!((success.count, success.sum), (2.0, 2.0));
    assert_eq!(stat(&m, &stream_key("PutRecords.Latency")).count, 2.0);
    assert_eq!(
        stat(&m, &stream_key("WriteProvisionedThroughputExceeded")).sum,
        0.0
    );
    assert!(
        !m.keys().any(|k| k.contains("ShardId")),
        "no shard-level metrics without enhanced monitoring"
    );
}

#[tokio::test]
async fn put_record_and_get_records_publish_their_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, r) = open_metered(dir.path(), &clock).await;
    create(&s, "m", 1).await;
    for _ in 0..3 {
        s.put_record(
            &StreamRef::name("m"),
            PutEntry {
                data: b"abcd",
                partition_key: "k",
                explicit_hash_key: None,
            },
            None,
        )
        .await
        .expect("put");
    }
    let it = iterator(&s, "m", IteratorStart::TrimHorizon).expect("iterator");
    clock.advance(5_000);
    let page = s.get_records(&it, Some(2)).expect("read");
    assert_eq!(page.records.len(), 2);
    let m = drained(&r);
    assert_eq!(stat(&m, &stream_key("PutRecord.Success")).sum, 3.0);
    assert_eq!(stat(&m, &stream_key("PutRecord.Bytes")).sum, 15.0);
    assert_eq!(stat(&m, &stream_key("IncomingRecords")).sum, 3.0);
    assert_eq!(stat(&m, &stream_key("GetRecords.Records")).sum, 2.0);
    assert_eq!(stat(&m, &stream_key("GetRecords.Bytes")).sum, 10.0);
    assert_eq!(stat(&m, &stream_key("GetRecords.Success")).sum, 1.0);
    // The reader is a record behind: its age is now minus the last returned record's arrival.
    assert_eq!(
        stat(&m, &stream_key("GetRecords.IteratorAgeMilliseconds")).max,
        5_000.0
    );
    let next = page.next_iterator.expect("next");
    s.get_records(&next, None).expect("read the rest");
    let m = drained(&r);
    assert_eq!(
        stat(&m, &stream_key("GetRecords.IteratorAgeMilliseconds")).max,
        0.0,
        "a caught-up reader's iterator age is zero"
    );
}

#[tokio::test]
async fn enhanced_monitoring_switches_shard_level_metrics_on_and_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, r) = open_metered(dir.path(), &clock).await;
    create(&s, "m", 1).await;
    let on = ["IncomingRecords".to_owned(), "OutgoingRecords".to_owned()];
    s.enable_enhanced_monitoring(&StreamRef::name("m"), &on)
        .await
        .expect("enable");
    put_batch(&s, 4, 10).await;
    let it = iterator(&s, "m", IteratorStart::TrimHorizon).expect("iterator");
    s.get_records(&it, None).expect("read");
    let m = drained(&r);
    let shard = "shardId-000000000000";
    assert_eq!(stat(&m, &shard_key("IncomingRecords", shard)).sum, 4.0);
    assert_eq!(stat(&m, &shard_key("OutgoingRecords", shard)).sum, 4.0);
    assert!(
        !m.contains_key(&shard_key("IncomingBytes", shard).to_string()),
        "metrics not enabled stay off"
    );

    s.disable_enhanced_monitoring(&StreamRef::name("m"), &["ALL".to_owned()])
        .await
        .expect("disable");
    put_batch(&s, 4, 10).await;
    let m = drained(&r);
    assert_eq!(stat(&m, &stream_key("IncomingRecords")).sum, 4.0);
    assert!(!m.keys().any(|k| k.contains("ShardId")), "{m:?}");
}

#[tokio::test]
async fn a_disabled_recorder_is_the_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = super::open(dir.path(), &clock, 1 << 20).await;
    create(&s, "m", 1).await;
    put_batch(&s, 2, 10).await;
    assert!(!StreamsOptions::default().recorder.enabled());
}
