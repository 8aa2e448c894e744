// SPDX-License-Identifier: Apache-2.0
//! `KinesisSource` read directly, on a temporary platform shared by Kinesis and Firehose
//! (no delivery loop, no HTTP): where reading starts, order per shard, KPL de-aggregation,
//! commits surviving a restart, lineage across a split, the source stream missing, and the
//! reader deleted with the delivery stream.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use freshet_firehose::control::{CreateRequest, DestinationInput};
use freshet_firehose::engine::kinesis::{KinesisSource, reader_id};
use freshet_firehose::engine::source::{Position, Source, SourceBatch, SourceRecord};
use freshet_firehose::model::{BufferingHints, ExtendedS3};
use freshet_firehose::store::StreamRecord;
use freshet_firehose::{ErrorKind, Firehose, FirehoseOptions, Peers};
use freshet_kinesis::{
    CreateStream, PutEntry, PutOutcome, ShardPosition, StartAt, StreamMode, StreamRef, Streams,
    StreamsOptions,
};
use freshet_log::LogConfig;
use freshet_metrics::{MetricKey, Recorder, StatSet};
use freshet_runtime::{Platform, Tasks};
use freshet_types::{HASH_KEY_MAX, ManualClock, ShardId, kpl};

const T0: i64 = 1_700_000_000_000;
const SRC_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/src";
/// How long `next` waits when the test expects nothing (or records already written).
const WAIT: Duration = Duration::from_millis(50);

struct Harness {
    platform: Platform,
    streams: Streams,
    fh: Firehose,
    recorder: Recorder,
}

async fn start(dir: &std::path::Path, clock: &Arc<ManualClock>) -> Harness {
    let platform =
        Platform::open_local(dir, LogConfig::default(), clock.clone(), Tasks::detached())
            .expect("platform");
    let recorder = Recorder::new(clock.clone());
    let streams = Streams::open_on(
        &platform,
        StreamsOptions {
            create_delay: Duration::ZERO,
            delete_delay: Duration::ZERO,
            update_delay: Duration::ZERO,
            ..StreamsOptions::default()
        },
    )
    .await
    .expect("streams");
    let fh = Firehose::open(
        &platform,
        FirehoseOptions {
            create_delay: Duration::from_millis(10),
            delete_delay: Duration::from_millis(10),
            staging_dir: dir.join("staging"),
            recorder: recorder.clone(),
            ..FirehoseOptions::default()
        },
    )
    .await
    .expect("firehose");
    fh.set_peers(Peers {
        streams: Some(streams.clone()),
        ..Peers::default()
    });
    Harness {
        platform,
        streams,
        fh,
        recorder,
    }
}

impl Harness {
    fn stop(self) {
        self.streams.shutdown();
        self.platform.shutdown();
    }
}

async fn create_stream(s: &Streams, name: &str, shards: u32) {
    s.create_stream(CreateStream {
        name: name.to_owned(),
        shard_count: Some(shards),
        mode: StreamMode::Provisioned,
        tags: Default::default(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
    })
    .await
    .expect("create stream");
}

/// Puts `data` under `key`; returns the shard it went to.
async fn put(s: &Streams, key: &str, data: &[u8]) -> ShardId {
    let out = s
        .put_records(
            &StreamRef::name("src"),
            &[PutEntry {
                data,
                partition_key: key,
                explicit_hash_key: None,
            }],
        )
        .await
        .expect("put");
    match &out[0] {
        PutOutcome::Stored { shard, .. } => *shard,
        PutOutcome::Failed { message, .. } => panic!("put failed: {message}"),
    }
}

fn create_request(name: &str, arn: &str) -> CreateRequest {
    CreateRequest {
        name: name.into(),
        stream_type: Some("KinesisStreamAsSource".into()),
        kinesis: Some((arn.into(), "arn:aws:iam::000000000000:role/r".into())),
        destination: DestinationInput {
            extended_s3: Some(ExtendedS3 {
                role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
                bucket_arn: Some("arn:aws:s3:::bucket".into()),
                buffering_hints: Some(BufferingHints {
                    size_in_mbs: Some(1),
                    interval_in_seconds: Some(0),
                }),
                ..ExtendedS3::default()
            }),
            ..DestinationInput::default()
        },
        ..CreateRequest::default()
    }
}

async fn create_delivery(fh: &Firehose, name: &str) -> StreamRecord {
    fh.create(create_request(name, SRC_ARN))
        .await
        .expect("create delivery stream");
    fh.record(name).expect("record")
}

/// Reads batches until one `next` returns nothing; commits each when `commit` is set.
async fn drain(src: &mut KinesisSource, commit: bool) -> Vec<SourceBatch> {
    let mut out = Vec::new();
    while let Some(b) = src.next(WAIT).await.expect("next") {
        if commit {
            src.commit(b.position.clone(), b.bytes)
                .await
                .expect("commit");
        }
        out.push(b);
    }
    out
}

fn data(records: &[SourceRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect()
}

fn all_records(batches: &[SourceBatch]) -> Vec<SourceRecord> {
    batches.iter().flat_map(|b| b.records.clone()).collect()
}

/// Data per shard id (from the records' metadata), in the order read.
fn by_shard(records: &[SourceRecord]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records {
        let k = r.kinesis.as_ref().expect("kinesis metadata");
        m.entry(k.shard_id.clone())
            .or_default()
            .push(String::from_utf8_lossy(&r.data).into_owned());
    }
    m
}

#[tokio::test]
async fn records_written_after_creation_come_once_in_order_per_shard_with_their_metadata() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 2).await;
    put(&h.streams, "a", b"before").await;
    clock.advance(1000);
    let rec = create_delivery(&h.fh, "fromk").await;
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..40 {
        clock.advance(1);
        let key = format!("key{}", i % 7);
        let d = format!("r{i}");
        let shard = put(&h.streams, &key, d.as_bytes()).await;
        expected.entry(shard.to_string()).or_default().push(d);
    }
    assert_eq!(expected.len(), 2, "the keys spread over both shards");
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
    assert_eq!(src.reader().id(), reader_id(&rec.id));
    let batches = drain(&mut src, true).await;
    let records = all_records(&batches);
    assert_eq!(
        by_shard(&records),
        expected,
        "the record written before the delivery stream is not read"
    );
    for r in &records {
        let k = r.kinesis.as_ref().expect("metadata");
        assert!(k.shard_id.starts_with("shardId-00000000000"), "{k:?}");
        assert!(k.partition_key.starts_with("key"), "{k:?}");
        assert_eq!(k.subsequence_number, 0);
        assert_eq!(k.approximate_arrival_ms, r.arrival_ms);
        assert!(r.arrival_ms > T0 + 1000, "{}", r.arrival_ms);
        assert!(!k.sequence_number.is_empty());
    }
    let sizes: u64 = batches.iter().map(|b| b.bytes).sum();
    assert_eq!(
        sizes,
        records.iter().map(|r| r.data.len() as u64).sum::<u64>()
    );
    h.stop();
}

#[tokio::test]
async fn kpl_aggregates_are_split_into_user_records_and_broken_ones_pass_through() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 1).await;
    let rec = create_delivery(&h.fh, "kpl").await;
    let agg = kpl::aggregate([
        ("user-a", None, &b"u0"[..]),
        ("user-b", None, &b"u1"[..]),
        ("user-a", None, &b"u2"[..]),
    ]);
    let mut broken = kpl::aggregate([("user-c", None, &b"lost?"[..])]);
    let last = broken.len() - 1;
    broken[last] ^= 0x55;
    put(&h.streams, "plain-key", b"plain").await;
    put(&h.streams, "agg-key", &agg).await;
    put(&h.streams, "broken-key", &broken).await;
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
    let records = all_records(&drain(&mut src, false).await);
    let got: Vec<(Vec<u8>, String, i64)> = records
        .iter()
        .map(|r| {
            let k = r.kinesis.as_ref().expect("metadata");
            (
                r.data.to_vec(),
                k.partition_key.clone(),
                k.subsequence_number,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (b"plain".to_vec(), "plain-key".to_owned(), 0),
            (b"u0".to_vec(), "user-a".to_owned(), 0),
            (b"u1".to_vec(), "user-b".to_owned(), 1),
            (b"u2".to_vec(), "user-a".to_owned(), 2),
            (broken.clone(), "broken-key".to_owned(), 0),
        ]
    );
    let seq = |i: usize| {
        records[i]
            .kinesis
            .as_ref()
            .expect("m")
            .sequence_number
            .clone()
    };
    assert_eq!(
        seq(1),
        seq(2),
        "user records share their aggregate's number"
    );
    assert_eq!(seq(2), seq(3));
    assert_ne!(seq(0), seq(1));
    h.stop();
}

#[tokio::test]
async fn a_restart_resumes_after_the_committed_position_and_rereads_the_rest() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let rec = {
        let h = start(dir.path(), &clock).await;
        create_stream(&h.streams, "src", 1).await;
        let rec = create_delivery(&h.fh, "resume").await;
        for i in 0..5 {
            put(&h.streams, "k", format!("first{i}").as_bytes()).await;
        }
        let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
        let first = src.next(WAIT).await.expect("next").expect("a batch");
        assert_eq!(data(&first.records).len(), 5);
        src.commit(first.position, first.bytes)
            .await
            .expect("commit");
        for i in 0..3 {
            put(&h.streams, "k", format!("second{i}").as_bytes()).await;
        }
        let second = src.next(WAIT).await.expect("next").expect("a batch");
        assert_eq!(
            data(&second.records),
            ["second0", "second1", "second2"],
            "read but never committed"
        );
        drop(src);
        h.stop();
        rec
    };
    // Later than the creation time: the committed position wins over the start time.
    clock.advance(60_000);
    let h = start(dir.path(), &clock).await;
    put(&h.streams, "k", b"third").await;
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("reopen");
    let records = all_records(&drain(&mut src, true).await);
    assert_eq!(data(&records), ["second0", "second1", "second2", "third"]);
    h.stop();
}

#[tokio::test]
async fn a_splits_children_are_read_only_after_the_parents_final_empty_batch_is_committed() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 1).await;
    let rec = create_delivery(&h.fh, "split").await;
    for i in 0..4 {
        put(
            &h.streams,
            &format!("k{i}"),
            format!("parent{i}").as_bytes(),
        )
        .await;
    }
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
    let parent = src.next(WAIT).await.expect("next").expect("a batch");
    assert_eq!(data(&parent.records).len(), 4);
    assert!(matches!(
        &parent.position,
        Position::Shards(p) if p.len() == 1 && matches!(p[0], (ShardId(0), ShardPosition::At(_)))
    ));
    src.commit(parent.position, parent.bytes)
        .await
        .expect("commit");
    h.streams
        .split_shard(
            &StreamRef::name("src"),
            "shardId-000000000000",
            &(HASH_KEY_MAX / 2).to_string(),
        )
        .await
        .expect("split");
    let mut children_expected = Vec::new();
    for i in 0..8 {
        let d = format!("child{i}");
        put(&h.streams, &format!("k{i}"), d.as_bytes()).await;
        children_expected.push(d);
    }
    // The parent's end: no records, a position that finishes it.
    let end = src.next(WAIT).await.expect("next").expect("the end batch");
    assert!(end.records.is_empty(), "{:?}", data(&end.records));
    assert_eq!(end.bytes, 0);
    assert_eq!(
        end.position,
        Position::Shards(vec![(ShardId(0), ShardPosition::Finished)])
    );
    assert!(
        src.next(WAIT).await.expect("next").is_none(),
        "children stay unreadable until the parent's end is committed"
    );
    src.commit(end.position, 0).await.expect("commit the end");
    let records = all_records(&drain(&mut src, true).await);
    let mut got = data(&records);
    got.sort();
    children_expected.sort();
    assert_eq!(got, children_expected);
    let shards: Vec<String> = by_shard(&records).into_keys().collect();
    assert_eq!(shards, ["shardId-000000000001", "shardId-000000000002"]);
    h.stop();
}

#[tokio::test]
async fn a_missing_source_stream_or_kinesis_is_an_error_delivery_retries() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 1).await;
    let rec = create_delivery(&h.fh, "gone").await;
    h.streams
        .delete_stream(&StreamRef::name("src"), false)
        .await
        .expect("delete");
    for _ in 0..200 {
        if h.streams
            .describe_stream_summary(&StreamRef::name("src"))
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = KinesisSource::open(&h.fh, &rec)
        .await
        .expect_err("no source stream");
    assert_eq!(err.kind(), ErrorKind::InvalidSource, "{err}");
    assert!(
        err.to_string()
            .contains("Stream src under account 000000000000 not found."),
        "{err}"
    );
    h.fh.set_peers(Peers::default());
    let err = KinesisSource::open(&h.fh, &rec)
        .await
        .expect_err("no Kinesis");
    assert!(
        err.to_string()
            .contains("Kinesis streams are not available"),
        "{err}"
    );
    h.stop();
}

#[tokio::test]
async fn create_refuses_a_source_stream_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    let err =
        h.fh.create(create_request("nosrc", SRC_ARN))
            .await
            .expect_err("no such stream");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        err.to_string(),
        "Stream src under account 000000000000 not found."
    );
    let other_account = "arn:aws:kinesis:us-east-1:111111111111:stream/src";
    create_stream(&h.streams, "src", 1).await;
    let err =
        h.fh.create(create_request("elsewhere", other_account))
            .await
            .expect_err("another account's stream");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    h.fh.create(create_request("ok", SRC_ARN))
        .await
        .expect("an existing stream is accepted");
    h.stop();
}

#[tokio::test]
async fn deleting_the_delivery_stream_deletes_its_reader() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 1).await;
    let rec = create_delivery(&h.fh, "del").await;
    put(&h.streams, "k", b"x").await;
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
    drain(&mut src, true).await;
    drop(src);
    for _ in 0..200 {
        if h.fh.delete("del").await.is_ok() {
            break;
        }
        // CREATING streams cannot be deleted yet.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..500 {
        if h.fh.record("del").is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(h.fh.record("del").is_err(), "the delivery stream is gone");
    // Opening the reader id again finds nothing stored: it starts fresh at TRIM_HORIZON.
    let again = h
        .streams
        .open_reader(
            &reader_id(&rec.id),
            &StreamRef::name("src"),
            StartAt::TrimHorizon,
        )
        .await
        .expect("reader");
    assert_eq!(again.committed().start, StartAt::TrimHorizon);
    assert!(again.committed().shards.is_empty());
    h.stop();
}

#[tokio::test]
async fn each_read_batch_publishes_the_records_and_bytes_read_and_how_far_behind_it_was() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), &clock).await;
    create_stream(&h.streams, "src", 1).await;
    clock.advance(1000);
    let rec = create_delivery(&h.fh, "fromk").await;
    for d in ["one", "two", "three"] {
        clock.advance(1);
        put(&h.streams, "k", d.as_bytes()).await;
    }
    let mut src = KinesisSource::open(&h.fh, &rec).await.expect("open");
    let batches = drain(&mut src, true).await;
    assert!(!batches.is_empty());
    let mut m: BTreeMap<String, StatSet> = BTreeMap::new();
    for p in h.recorder.drain() {
        m.entry(p.key.to_string())
            .and_modify(|s| s.merge(&p.value.stats))
            .or_insert(p.value.stats);
    }
    let stat = |name: &str| {
        let key = MetricKey::new("AWS/Firehose", name, [("DeliveryStreamName", "fromk")]);
        *m.get(&key.to_string())
            .unwrap_or_else(|| panic!("no {key} in {:?}", m.keys()))
    };
    let reads = stat("DataReadFromKinesisStream.Records");
    assert_eq!(reads.sum, 3.0);
    assert_eq!(
        reads.count,
        batches.len() as f64,
        "one sample per read batch"
    );
    assert_eq!(stat("DataReadFromKinesisStream.Bytes").sum, 11.0);
    let behind = stat("KinesisMillisBehindLatest");
    assert_eq!(behind.count, batches.len() as f64);
    assert_eq!(behind.max, 0.0, "the reads reached the newest record");
    h.stop();
}
