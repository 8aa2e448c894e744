// SPDX-License-Identifier: Apache-2.0
//! Integration tests of the streams service on a temporary data directory, with a manual
//! clock so retention and expiry can be tested without waiting.

use std::sync::Arc;
use std::time::Duration;

use freshet_kinesis::{
    CreateStream, Error, GetShardIterator, IteratorStart, PutEntry, PutOutcome, StreamMode,
    StreamRef, Streams, StreamsOptions,
};
use freshet_log::LogConfig;
use freshet_types::ManualClock;

#[path = "it/api.rs"]
mod api;
#[path = "it/efo.rs"]
mod efo;
#[path = "it/metrics.rs"]
mod metrics;
#[path = "it/reader.rs"]
mod reader;
#[path = "it/reshard.rs"]
mod reshard;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_800_000_000_000;

async fn open(dir: &std::path::Path, clock: &ManualClock, segment_bytes: u64) -> Streams {
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    let log = LogConfig {
        segment_bytes,
        ..LogConfig::default()
    };
    Streams::open(dir, log, opts, Arc::new(clock.clone()))
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

async fn put(s: &Streams, name: &str, key: &str, data: &[u8]) -> String {
    let out = s
        .put_records(
            &StreamRef::name(name),
            &[PutEntry {
                data,
                partition_key: key,
                explicit_hash_key: None,
            }],
        )
        .await
        .expect("put");
    match &out[0] {
        PutOutcome::Stored { sequence, .. } => sequence.to_string(),
        PutOutcome::Failed { message, .. } => panic!("put failed: {message}"),
    }
}

fn iterator(s: &Streams, name: &str, start: IteratorStart) -> Result<String, Error> {
    iterator_on(s, name, freshet_types::ShardId(0), start)
}

fn iterator_on(
    s: &Streams,
    name: &str,
    shard: freshet_types::ShardId,
    start: IteratorStart,
) -> Result<String, Error> {
    let (ty, seq, ts) = match &start {
        IteratorStart::AtSequence(q) => ("AT_SEQUENCE_NUMBER", Some(q.clone()), None),
        IteratorStart::AfterSequence(q) => ("AFTER_SEQUENCE_NUMBER", Some(q.clone()), None),
        IteratorStart::TrimHorizon => ("TRIM_HORIZON", None, None),
        IteratorStart::Latest => ("LATEST", None, None),
        IteratorStart::AtTimestamp(t) => ("AT_TIMESTAMP", None, Some(*t)),
    };
    let req = GetShardIterator {
        stream: StreamRef::name(name),
        shard_id: shard.to_string(),
        iterator_type: ty,
        starting_sequence: seq,
        timestamp_ms: ts,
    };
    s.get_shard_iterator(&req, start)
}

fn read_all(s: &Streams, name: &str) -> Vec<Vec<u8>> {
    read_from(
        s,
        &iterator(s, name, IteratorStart::TrimHorizon).expect("iterator"),
    )
}

fn read_from(s: &Streams, iterator: &str) -> Vec<Vec<u8>> {
    let page = s.get_records(iterator, None).expect("get records");
    page.records.into_iter().map(|r| r.data.to_vec()).collect()
}

#[tokio::test]
async fn records_older_than_retention_become_unreadable_and_their_segments_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    // Tiny segments so old records sit in sealed segments that retention can delete.
    let s = open(dir.path(), &clock, 64 * 1024).await;
    create(&s, "r", 1).await;
    let old = vec![b'o'; 10_000];
    for _ in 0..20 {
        put(&s, "r", "k", &old).await;
    }
    clock.advance(23 * HOUR);
    put(&s, "r", "k", b"young").await;
    assert_eq!(read_all(&s, "r").len(), 21, "nothing has expired yet");

    clock.advance(2 * HOUR);
    // The old records are 25 hours old now; the young one is 2 hours old.
    assert_eq!(read_all(&s, "r"), vec![b"young".to_vec()]);
    let before: u64 = disk_bytes(dir.path());
    let deleted = s.enforce_retention();
    assert!(
        deleted >= 1,
        "sealed segments holding only expired records are deleted"
    );
    assert!(disk_bytes(dir.path()) < before, "disk space is reclaimed");
    assert_eq!(read_all(&s, "r"), vec![b"young".to_vec()]);
}

#[tokio::test]
async fn decreasing_retention_hides_older_data_and_increasing_does_not_bring_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock, 1 << 20).await;
    create(&s, "d", 1).await;
    s.increase_retention(&StreamRef::name("d"), 72)
        .await
        .expect("increase");
    put(&s, "d", "k", b"old").await;
    clock.advance(48 * HOUR);
    put(&s, "d", "k", b"new").await;
    assert_eq!(read_all(&s, "d").len(), 2);
    s.decrease_retention(&StreamRef::name("d"), 24)
        .await
        .expect("decrease");
    assert_eq!(read_all(&s, "d"), vec![b"new".to_vec()]);
    let err = s
        .decrease_retention(&StreamRef::name("d"), 48)
        .await
        .expect_err("longer");
    assert_eq!(
        err.to_string(),
        "Requested retention period (48 hours) for stream d can not be longer than existing \
         retention period (24 hours). Use IncreaseRetentionPeriod API."
    );
}

#[tokio::test]
async fn iterators_expire_after_five_minutes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock, 1 << 20).await;
    create(&s, "e", 1).await;
    let it = iterator(&s, "e", IteratorStart::TrimHorizon).expect("iterator");
    clock.advance(300_000);
    let page = s
        .get_records(&it, None)
        .expect("still valid at exactly five minutes");
    clock.advance(1_000);
    let next = page.next_iterator.expect("open shard has a next iterator");
    // The fresh iterator was issued at +5 min, so it is valid until +10 min.
    s.get_records(&next, None).expect("fresh iterator is valid");
    let err = s.get_records(&it, None).expect_err("expired");
    assert!(
        err.to_string()
            .starts_with("Iterator expired. The iterator was created at time "),
        "{err}"
    );
}

#[tokio::test]
async fn at_timestamp_starts_at_the_first_record_at_or_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock, 1 << 20).await;
    create(&s, "t", 1).await;
    put(&s, "t", "k", b"a").await;
    clock.advance(1000);
    put(&s, "t", "k", b"b").await;
    clock.advance(1000);
    put(&s, "t", "k", b"c").await;
    let it = iterator(&s, "t", IteratorStart::AtTimestamp(T0 + 500)).expect("iterator");
    let got = read_from(&s, &it);
    assert_eq!(got, vec![b"b".to_vec(), b"c".to_vec()]);
    let err = iterator(&s, "t", IteratorStart::AtTimestamp(T0 + 10_000)).expect_err("future");
    assert!(
        err.to_string()
            .starts_with("The timestampInMillis parameter cannot be greater")
    );
}

#[tokio::test]
async fn streams_data_and_sequence_numbers_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let first_seq;
    {
        let s = open(dir.path(), &clock, 1 << 20).await;
        create(&s, "p", 2).await;
        first_seq = put(&s, "p", "k", b"one").await;
        s.shutdown();
    }
    let s = open(dir.path(), &clock, 1 << 20).await;
    let summary = s
        .describe_stream_summary(&StreamRef::name("p"))
        .expect("stream survives");
    assert_eq!(summary.open_shard_count, 2);
    let second = put(&s, "p", "k", b"two").await;
    assert!(second > first_seq, "{second} must be above {first_seq}");
    let shard = freshet_types::SequenceNumber::parse(&first_seq)
        .expect("ours")
        .shard;
    let it = iterator_on(
        &s,
        "p",
        freshet_types::ShardId(shard),
        IteratorStart::AtSequence(first_seq),
    )
    .expect("iterator");
    let data = read_from(&s, &it);
    assert_eq!(data, vec![b"one".to_vec(), b"two".to_vec()]);
}

#[tokio::test]
async fn a_recreated_stream_rejects_the_old_incarnations_numbers_and_iterators() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock, 1 << 20).await;
    create(&s, "x", 1).await;
    let old_seq = put(&s, "x", "k", b"old").await;
    let old_it = iterator(&s, "x", IteratorStart::TrimHorizon).expect("iterator");
    s.delete_stream(&StreamRef::name("x"), false)
        .await
        .expect("delete");
    create(&s, "x", 1).await;
    let err = iterator(&s, "x", IteratorStart::AtSequence(old_seq)).expect_err("foreign");
    assert!(
        err.to_string()
            .ends_with("is invalid because it did not come from this stream."),
        "{err}"
    );
    let err = s.get_records(&old_it, None).expect_err("old iterator");
    assert!(matches!(err, Error::StreamNotFound { .. }), "{err}");
    assert!(read_all(&s, "x").is_empty(), "the new stream starts empty");
}

#[tokio::test]
async fn a_failed_fsync_makes_the_shard_read_only_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open(dir.path(), &clock, 1 << 20).await;
    create(&s, "f", 1).await;
    put(&s, "f", "k", b"kept").await;
    assert!(s.healthy());
    let shard = freshet_types::ShardId(0);
    assert!(s.inject_log_failure_for_tests("f", shard, freshet_log::InjectedFailure::Fsync));
    let entry = PutEntry {
        data: b"lost",
        partition_key: "k",
        explicit_hash_key: None,
    };
    let err = s
        .put_record(&StreamRef::name("f"), entry, None)
        .await
        .expect_err("a put whose fsync failed is never acknowledged");
    assert!(matches!(err, Error::ShardReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(!s.healthy(), "health reports the degraded shard");
    // Later puts are refused too, per entry in PutRecords.
    let out = s
        .put_records(&StreamRef::name("f"), &[entry])
        .await
        .expect("request accepted");
    assert!(
        matches!(&out[0], PutOutcome::Failed { code: "InternalFailure", message } if message.contains("read-only")),
        "{out:?}"
    );
    // What was acknowledged stays readable.
    assert_eq!(read_all(&s, "f"), vec![b"kept".to_vec()]);
    s.shutdown();
    drop(s);
    // A restart is the recovery path.
    let s = open(dir.path(), &clock, 1 << 20).await;
    assert!(s.healthy());
    put(&s, "f", "k", b"after restart").await;
    let data = read_all(&s, "f");
    assert_eq!(data.first().map(Vec::as_slice), Some(&b"kept"[..]));
    assert_eq!(data.last().map(Vec::as_slice), Some(&b"after restart"[..]));
}

fn disk_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let md = e.metadata().expect("metadata");
            if md.is_dir() {
                stack.push(e.path());
            } else if e.path().extension().is_some_and(|x| x == "log") {
                total += md.len();
            }
        }
    }
    total
}

#[tokio::test]
async fn shard_quotas_follow_the_manual_clock_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        shard_quotas: true,
        ..StreamsOptions::default()
    };
    let s = Streams::open(
        dir.path(),
        LogConfig::default(),
        opts,
        Arc::new(clock.clone()),
    )
    .await
    .expect("open streams");
    create(&s, "q", 1).await;
    let entries: Vec<PutEntry<'_>> = (0..500)
        .map(|_| PutEntry {
            data: b"x",
            partition_key: "k",
            explicit_hash_key: None,
        })
        .collect();
    let stored = |out: &[PutOutcome]| {
        out.iter()
            .filter(|o| matches!(o, PutOutcome::Stored { .. }))
            .count()
    };
    let r = StreamRef::name("q");
    // Three calls in the same millisecond: 1,000 records of burst, then nothing.
    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(stored(&s.put_records(&r, &entries).await.expect("put")));
    }
    assert_eq!(counts, vec![500, 500, 0]);
    // Half a second earns 500 records, in request order.
    clock.advance(500);
    let out = s.put_records(&r, &entries[..300]).await.expect("put");
    assert_eq!(stored(&out), 300);
    let out = s.put_records(&r, &entries[..300]).await.expect("put");
    assert_eq!(stored(&out), 200);
    assert!(
        matches!(&out[200], PutOutcome::Failed { code, message }
            if *code == "ProvisionedThroughputExceededException"
            && message == "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000."),
        "{:?}",
        out[200]
    );
    let err = s
        .put_record(&r, entries[0], None)
        .await
        .expect_err("throttled");
    assert!(matches!(err, Error::ThroughputExceeded { .. }), "{err:?}");

    // Reads: five calls of burst, the sixth in the same millisecond is refused.
    let it = iterator(&s, "q", IteratorStart::Latest).expect("iterator");
    for _ in 0..5 {
        s.get_records(&it, Some(1)).expect("within the burst");
    }
    let err = s.get_records(&it, Some(1)).expect_err("sixth call");
    assert_eq!(
        err.to_string(),
        "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000."
    );
    clock.advance(200);
    s.get_records(&it, Some(1)).expect("200 ms earn one call");
}
