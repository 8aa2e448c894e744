// SPDX-License-Identifier: Apache-2.0
//! The in-process stream reader: lineage across splits and merges mid-read, parents'
//! ends committed before children are read, restarts resuming from committed positions,
//! LATEST and AT_TIMESTAMP starts, retention expiry, a recreated stream, waiting for records,
//! and a property test over random resharding histories with random restarts.

use std::sync::Arc;
use std::time::Duration;

use freshet_kinesis::{
    ShardBatch, ShardPosition, StartAt, StreamMode, StreamReader, Streams, StreamsOptions,
};
use freshet_log::{Durability, LogConfig};
use freshet_types::{HASH_KEY_MAX, ManualClock, ShardId};
use proptest::prelude::*;

use super::reshard::{
    apply, assert_exactly_once_in_key_order, create_mode, op, open_fast, put_key, sref,
};
use super::{HOUR, T0};

/// (partition key, data) of every record in `batches`, in batch order.
fn records(batches: &[ShardBatch]) -> Vec<(String, Vec<u8>)> {
    batches
        .iter()
        .flat_map(|b| {
            b.records
                .iter()
                .map(|r| (r.partition_key.clone(), r.data.to_vec()))
        })
        .collect()
}

/// Polls and commits until a poll returns nothing.
async fn drain(reader: &StreamReader, max: u32) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        let batches = reader.poll(max).expect("poll");
        if batches.is_empty() {
            return out;
        }
        out.extend(records(&batches));
        reader.commit_batches(&batches).await.expect("commit");
    }
}

async fn put_many(
    s: &Streams,
    name: &str,
    keys: &[&str],
    n: usize,
    tag: &str,
) -> Vec<(String, Vec<u8>)> {
    let mut written = Vec::new();
    for i in 0..n {
        let key = keys[i % keys.len()];
        let data = format!("{tag}-{i}").into_bytes();
        put_key(s, name, key, &data).await;
        written.push((key.to_owned(), data));
    }
    written
}

const KEYS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h"];

#[tokio::test]
async fn a_reader_follows_a_split_and_a_merge_that_happen_mid_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "r", Some(2), StreamMode::Provisioned).await;
    let mut written = put_many(&s, "r", KEYS, 40, "one").await;
    let reader = s
        .open_reader("test/r", &sref("r"), StartAt::TrimHorizon)
        .await
        .expect("reader");
    // Part of the first records, then a split while the reader is in the middle.
    let first = reader.poll(3).expect("poll");
    let mut read = records(&first);
    reader.commit_batches(&first).await.expect("commit");
    s.split_shard(
        &sref("r"),
        "shardId-000000000000",
        &(HASH_KEY_MAX / 4).to_string(),
    )
    .await
    .expect("split");
    written.extend(put_many(&s, "r", KEYS, 40, "two").await);
    read.extend(reader.poll(5).map(|b| records(&b)).expect("poll"));
    reader.rewind();
    read.truncate(records(&first).len());
    // Merge the split's children back while reading on.
    s.merge_shards(&sref("r"), "shardId-000000000002", "shardId-000000000003")
        .await
        .expect("merge");
    written.extend(put_many(&s, "r", KEYS, 40, "three").await);
    read.extend(drain(&reader, 7).await);
    assert_exactly_once_in_key_order(&written, &read);
    // Parents are finished, the open shards are where their records end.
    let committed = reader.committed();
    assert_eq!(committed.shards.get(&0), Some(&ShardPosition::Finished));
    assert_eq!(committed.shards.get(&2), Some(&ShardPosition::Finished));
    assert_eq!(committed.shards.get(&3), Some(&ShardPosition::Finished));
    assert!(matches!(
        committed.shards.get(&4),
        Some(ShardPosition::At(_))
    ));
    s.shutdown();
}

#[tokio::test]
async fn children_are_not_read_until_the_parents_end_is_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "c", Some(1), StreamMode::Provisioned).await;
    put_many(&s, "c", KEYS, 4, "before").await;
    let reader = s
        .open_reader("test/c", &sref("c"), StartAt::TrimHorizon)
        .await
        .expect("reader");
    s.split_shard(
        &sref("c"),
        "shardId-000000000000",
        &(HASH_KEY_MAX / 2).to_string(),
    )
    .await
    .expect("split");
    put_many(&s, "c", KEYS, 4, "after").await;
    // The parent's records and its end; no child yet.
    let batches = reader.poll(100).expect("poll");
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0].shard, ShardId(0));
    assert_eq!(batches[0].records.len(), 4);
    assert_eq!(batches[0].next, ShardPosition::Finished);
    // Until the end is committed, the children stay unreadable.
    assert!(reader.poll(100).expect("poll").is_empty());
    reader.commit_batches(&batches).await.expect("commit");
    let children = reader.poll(100).expect("poll");
    let ids: Vec<ShardId> = children.iter().map(|b| b.shard).collect();
    assert_eq!(ids, [ShardId(1), ShardId(2)]);
    assert_eq!(records(&children).len(), 4);
    s.shutdown();
}

#[tokio::test]
async fn a_reopened_reader_resumes_from_its_commits_and_redelivers_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let written = {
        let s = open_fast(dir.path(), &clock).await;
        create_mode(&s, "p", Some(2), StreamMode::Provisioned).await;
        let written = put_many(&s, "p", KEYS, 30, "x").await;
        let reader = s
            .open_reader("test/p", &sref("p"), StartAt::TrimHorizon)
            .await
            .expect("reader");
        let committed = reader.poll(4).expect("poll");
        reader.commit_batches(&committed).await.expect("commit");
        // Read but never committed: must come again after the restart.
        let lost = reader.poll(4).expect("poll");
        assert!(!records(&lost).is_empty());
        s.shutdown();
        written
    };
    let s = open_fast(dir.path(), &clock).await;
    let reader = s
        .open_reader("test/p", &sref("p"), StartAt::Latest)
        .await
        .expect("reader");
    assert_eq!(
        reader.committed().start,
        StartAt::TrimHorizon,
        "the stored reader wins"
    );
    let rest = drain(&reader, 5).await;
    // Everything but the committed first batch of each shard, each once.
    assert_eq!(rest.len(), written.len() - 8);
    s.delete_reader("test/p").expect("delete");
    s.shutdown();
}

#[tokio::test]
async fn latest_skips_what_exists_and_is_fixed_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    {
        let s = open_fast(dir.path(), &clock).await;
        create_mode(&s, "l", Some(2), StreamMode::Provisioned).await;
        put_many(&s, "l", KEYS, 10, "old").await;
        s.open_reader("test/l", &sref("l"), StartAt::Latest)
            .await
            .expect("reader");
        s.shutdown();
    }
    let s = open_fast(dir.path(), &clock).await;
    // Written after the reader was created but before it was opened again.
    let written = put_many(&s, "l", KEYS, 6, "new").await;
    let reader = s
        .open_reader("test/l", &sref("l"), StartAt::Latest)
        .await
        .expect("reader");
    assert_exactly_once_in_key_order(&written, &drain(&reader, 100).await);
    s.shutdown();
}

#[tokio::test]
async fn at_timestamp_starts_each_shard_at_that_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "t", Some(2), StreamMode::Provisioned).await;
    put_many(&s, "t", KEYS, 10, "early").await;
    clock.advance(60_000);
    let later = put_many(&s, "t", KEYS, 10, "late").await;
    let reader = s
        .open_reader("test/t", &sref("t"), StartAt::AtTimestamp(T0 + 60_000))
        .await
        .expect("reader");
    assert_exactly_once_in_key_order(&later, &drain(&reader, 3).await);
    s.shutdown();
}

#[tokio::test]
async fn records_that_expire_unread_are_skipped_and_expired_parents_release_their_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "e", Some(1), StreamMode::Provisioned).await;
    let reader = s
        .open_reader("test/e", &sref("e"), StartAt::TrimHorizon)
        .await
        .expect("reader");
    // Enough data for several 64 KiB segments, then a split.
    let big = vec![b'x'; 16 * 1024];
    for i in 0..20 {
        put_key(&s, "e", KEYS[i % KEYS.len()], &big).await;
    }
    s.split_shard(
        &sref("e"),
        "shardId-000000000000",
        &(HASH_KEY_MAX / 2).to_string(),
    )
    .await
    .expect("split");
    // A day and more later the parent's records are gone and the parent itself expires.
    clock.advance(25 * HOUR);
    let fresh = put_many(&s, "e", KEYS, 8, "fresh").await;
    assert!(s.enforce_retention() > 0, "segments expired");
    assert_eq!(s.expire_closed_shards().await, 1);
    let read = drain(&reader, 100).await;
    assert_exactly_once_in_key_order(&fresh, &read);
    s.shutdown();
}

#[tokio::test]
async fn a_recreated_stream_starts_its_readers_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "x", Some(1), StreamMode::Provisioned).await;
    put_many(&s, "x", KEYS, 5, "first").await;
    let reader = s
        .open_reader("test/x", &sref("x"), StartAt::TrimHorizon)
        .await
        .expect("reader");
    assert_eq!(drain(&reader, 100).await.len(), 5);
    s.delete_stream(&sref("x"), true).await.expect("delete");
    tokio::time::sleep(Duration::from_millis(50)).await;
    create_mode(&s, "x", Some(1), StreamMode::Provisioned).await;
    let second = put_many(&s, "x", KEYS, 3, "second").await;
    assert_exactly_once_in_key_order(&second, &drain(&reader, 100).await);
    s.shutdown();
}

#[tokio::test]
async fn poll_wait_returns_as_soon_as_a_record_is_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    let log = LogConfig {
        durability: Durability::Fsync,
        ..LogConfig::default()
    };
    let s = Streams::open(dir.path(), log, opts, Arc::new(clock.clone()))
        .await
        .expect("open");
    create_mode(&s, "w", Some(1), StreamMode::Provisioned).await;
    let reader = s
        .open_reader("test/w", &sref("w"), StartAt::TrimHorizon)
        .await
        .expect("reader");
    let waiting = {
        let reader = reader.clone();
        tokio::spawn(async move { reader.poll_wait(10, Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    put_key(&s, "w", "k", b"hello").await;
    let batches = waiting.await.expect("join").expect("poll");
    assert_eq!(records(&batches), [("k".to_owned(), b"hello".to_vec())]);
    // Nothing new: the wait ends empty at its deadline.
    reader.commit_batches(&batches).await.expect("commit");
    let empty = reader
        .poll_wait(10, Duration::from_millis(10))
        .await
        .expect("poll");
    assert!(empty.is_empty());
    s.shutdown();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Reads interleaved with random resharding, restarts between polls, and batches that are
    /// sometimes not committed before a restart: nothing is lost, whatever was never
    /// committed comes again, and the first delivery of every record keeps per-key order.
    #[test]
    fn readers_lose_nothing_through_resharding_and_restarts(
        initial in 1u32..4,
        steps in proptest::collection::vec((op(), 0u32..6, any::<bool>(), any::<bool>()), 1..6),
        keys in proptest::collection::vec(0u8..8, 1..6),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let clock = ManualClock::new(T0);
            let mut s = open_fast(dir.path(), &clock).await;
            create_mode(&s, "p", Some(initial), StreamMode::Provisioned).await;
            let mut reader = s.open_reader("prop", &sref("p"), StartAt::TrimHorizon).await.expect("reader");
            let mut written = Vec::new();
            let mut delivered = Vec::new();
            let mut n = 0;
            for (step, polls, commit, restart) in &steps {
                for &k in &keys {
                    n += 1;
                    let d = format!("r{n}").into_bytes();
                    put_key(&s, "p", &format!("key{k}"), &d).await;
                    written.push((format!("key{k}"), d));
                }
                apply(&s, step).await;
                for _ in 0..*polls {
                    let batches = reader.poll(3).expect("poll");
                    delivered.extend(records(&batches));
                    if *commit {
                        reader.commit_batches(&batches).await.expect("commit");
                    }
                }
                if *restart {
                    s.shutdown();
                    drop(reader);
                    drop(s);
                    s = open_fast(dir.path(), &clock).await;
                    reader = s.open_reader("prop", &sref("p"), StartAt::TrimHorizon).await.expect("reader");
                } else if !*commit {
                    reader.rewind();
                }
                clock.advance(3 * HOUR);
            }
            delivered.extend(drain(&reader, 4).await);
            // First deliveries: exactly the written records, in per-key order.
            let mut seen = std::collections::BTreeSet::new();
            let first: Vec<(String, Vec<u8>)> = delivered
                .into_iter()
                .filter(|r| seen.insert(r.clone()))
                .collect();
            assert_exactly_once_in_key_order(&written, &first);
            s.shutdown();
        });
    }
}
