// SPDX-License-Identifier: Apache-2.0
//! The control-plane settings against the streams service directly, with a manual clock: the
//! rolling 24-hour encryption quota, the commitment's minimum period, and encryption
//! boundaries under concurrent puts, across several shards and a reopen.

use std::sync::Arc;
use std::time::Duration;

use freshet_kinesis::{
    CommitmentStatus, CreateStream, Error, GetShardIterator, IteratorStart, PutEntry, PutOutcome,
    StreamMode, StreamRef, Streams, StreamsOptions,
};
use freshet_log::LogConfig;
use freshet_types::{ManualClock, ShardId};

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_800_000_000_000;
const KEY: &str = "alias/aws/kinesis";

async fn open(dir: &std::path::Path, clock: &ManualClock) -> Streams {
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    Streams::open(dir, LogConfig::default(), opts, Arc::new(clock.clone()))
        .await
        .expect("open streams")
}

async fn create(s: &Streams, name: &str, shards: u32) {
    s.create_stream(CreateStream {
        name: name.to_owned(),
        shard_count: Some(shards),
        mode: StreamMode::Provisioned,
        tags: Default::default(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
    })
    .await
    .expect("create");
}

/// Puts one record per key; returns (shard, data, encrypted) as the put answered.
async fn put_keys(s: &Streams, name: &str, tag: &str, keys: usize) -> Vec<(ShardId, String, bool)> {
    let datas: Vec<String> = (0..keys).map(|k| format!("{tag}-{k}")).collect();
    let entries: Vec<PutEntry<'_>> = datas
        .iter()
        .map(|d| PutEntry {
            data: d.as_bytes(),
            partition_key: d,
            explicit_hash_key: None,
        })
        .collect();
    let out = s
        .put_records(&StreamRef::name(name), &entries)
        .await
        .expect("put");
    out.into_iter()
        .zip(datas)
        .map(|(o, d)| match o {
            PutOutcome::Stored {
                shard, encrypted, ..
            } => (shard, d, encrypted),
            PutOutcome::Failed { message, .. } => panic!("put failed: {message}"),
        })
        .collect()
}

/// Every record of one shard as (data, encrypted).
fn read_shard(s: &Streams, name: &str, shard: ShardId) -> Vec<(String, bool)> {
    let req = GetShardIterator {
        stream: StreamRef::name(name),
        shard_id: shard.to_string(),
        iterator_type: "TRIM_HORIZON",
        starting_sequence: None,
        timestamp_ms: None,
    };
    let it = s
        .get_shard_iterator(&req, IteratorStart::TrimHorizon)
        .expect("iterator");
    s.get_records(&it, None)
        .expect("read")
        .records
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.data.to_vec()).expect("utf8"),
                r.encrypted,
            )
        })
        .collect()
}

#[tokio::test]
async fn encryption_changes_are_limited_to_25_in_a_rolling_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock).await;
    create(&s, "q", 1).await;
    let r = StreamRef::name("q");
    for _ in 0..25 {
        s.start_stream_encryption(&r, true, KEY)
            .await
            .expect("start");
        clock.advance(HOUR / 2);
    }
    // 25 calls over 12.5 hours: the window is full until the first one is 24 hours old.
    let err = s
        .start_stream_encryption(&r, true, KEY)
        .await
        .expect_err("quota");
    assert!(matches!(err, Error::EncryptionRateLimit { .. }), "{err:?}");
    // Stops are counted separately.
    s.stop_stream_encryption(&r, true, KEY).await.expect("stop");
    clock.set(T0 + 24 * HOUR - 1);
    assert!(s.start_stream_encryption(&r, true, KEY).await.is_err());
    clock.set(T0 + 24 * HOUR);
    s.start_stream_encryption(&r, true, KEY)
        .await
        .expect("the first call left the window");
    assert!(s.start_stream_encryption(&r, true, KEY).await.is_err());
    // The quota survives a reopen.
    s.shutdown();
    let s = open(dir.path(), &clock).await;
    assert!(s.start_stream_encryption(&r, true, KEY).await.is_err());
    clock.advance(HOUR / 2);
    s.start_stream_encryption(&r, true, KEY)
        .await
        .expect("one more left the window");
}

#[tokio::test]
async fn a_scheduled_commitment_end_happens_on_the_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock).await;
    let c = s.update_account_settings(true).await.expect("enable");
    assert_eq!(c.status, CommitmentStatus::Enabled);
    clock.advance(2 * HOUR);
    let c = s
        .update_account_settings(false)
        .await
        .expect("disable early");
    assert_eq!(c.status, CommitmentStatus::EnabledUntilEarliestAllowedEnd);
    clock.set(T0 + 24 * HOUR - 1);
    assert_eq!(
        s.describe_account_settings().expect("describe").status,
        CommitmentStatus::EnabledUntilEarliestAllowedEnd
    );
    s.shutdown();
    let s = open(dir.path(), &clock).await;
    clock.set(T0 + 24 * HOUR);
    let c = s.describe_account_settings().expect("describe");
    assert_eq!(c.status, CommitmentStatus::Disabled);
    assert_eq!(c.started_ms, Some(T0));
    assert_eq!(c.ended_ms, Some(T0 + 24 * HOUR));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_agree_with_put_answers_across_shards_concurrency_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock).await;
    create(&s, "e", 3).await;
    let r = StreamRef::name("e");
    let mut answered = put_keys(&s, "e", "plain", 12).await;
    assert!(answered.iter().all(|(_, _, e)| !e));

    // Puts race with starts and stops: whatever each put was told must read back.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut all = Vec::new();
            for round in 0..20 {
                all.extend(put_keys(&s, "e", &format!("race{round}"), 6).await);
                tokio::task::yield_now().await;
            }
            all
        })
    };
    for i in 0..6 {
        if i % 2 == 0 {
            s.start_stream_encryption(&r, true, KEY)
                .await
                .expect("start");
        } else {
            s.stop_stream_encryption(&r, true, KEY).await.expect("stop");
        }
        tokio::task::yield_now().await;
    }
    answered.extend(writer.await.expect("writer"));
    s.start_stream_encryption(&r, true, KEY)
        .await
        .expect("start");
    let tail = put_keys(&s, "e", "secret", 12).await;
    assert!(tail.iter().all(|(_, _, e)| *e));
    answered.extend(tail);

    let check = |s: &Streams| {
        for shard in 0..3 {
            let id = ShardId(shard);
            let mut want: Vec<(String, bool)> = answered
                .iter()
                .filter(|(sh, _, _)| *sh == id)
                .map(|(_, d, e)| (d.clone(), *e))
                .collect();
            let mut got = read_shard(s, "e", id);
            // Concurrent batches may interleave within a shard; compare as sets.
            want.sort();
            got.sort();
            assert_eq!(got, want, "shard {shard}");
        }
    };
    check(&s);
    s.shutdown();
    let s = open(dir.path(), &clock).await;
    check(&s);
}
