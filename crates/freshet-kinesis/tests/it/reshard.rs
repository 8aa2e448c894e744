// SPDX-License-Identifier: Apache-2.0
//! Resharding through the domain API: lineage, reads across it, expiry, restart, the
//! on-demand scaler, and a property test over random sequences of splits, merges and scalings.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use freshet_kinesis::{
    CreateStream, Error, GetShardIterator, IteratorStart, ListShards, PutEntry, PutOutcome,
    ScalerOptions, ShardFilter, ShardInfo, StreamMode, StreamRef, Streams, StreamsOptions,
};
use freshet_log::{Durability, LogConfig};
use freshet_types::{HashKeyRange, ManualClock, ShardId};
use proptest::prelude::*;

use super::{HOUR, T0};

pub(super) async fn open_fast(dir: &Path, clock: &ManualClock) -> Streams {
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        scaler: ScalerOptions {
            merge_after: Duration::from_secs(60),
            ..ScalerOptions::default()
        },
        ..StreamsOptions::default()
    };
    let log = LogConfig {
        durability: Durability::None,
        segment_bytes: 64 * 1024,
        ..LogConfig::default()
    };
    Streams::open(dir, log, opts, Arc::new(clock.clone()))
        .await
        .expect("open streams")
}

pub(super) async fn create_mode(s: &Streams, name: &str, shards: Option<u32>, mode: StreamMode) {
    s.create_stream(CreateStream {
        name: name.to_owned(),
        shard_count: shards,
        mode,
        tags: Default::default(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
    })
    .await
    .expect("create");
}

pub(super) fn sref(name: &str) -> StreamRef {
    StreamRef::name(name)
}

/// Puts one record; returns its shard and sequence number.
pub(super) async fn put_key(s: &Streams, name: &str, key: &str, data: &[u8]) -> (ShardId, String) {
    let out = s
        .put_records(
            &sref(name),
            &[PutEntry {
                data,
                partition_key: key,
                explicit_hash_key: None,
            }],
        )
        .await
        .expect("put");
    match &out[0] {
        PutOutcome::Stored {
            shard, sequence, ..
        } => (*shard, sequence.to_string()),
        PutOutcome::Failed { message, .. } => panic!("put failed: {message}"),
    }
}

pub(super) fn list(s: &Streams, name: &str, filter: Option<ShardFilter>) -> Vec<ShardInfo> {
    s.list_shards(&ListShards {
        stream: sref(name),
        filter,
        ..ListShards::default()
    })
    .expect("list shards")
    .shards
}

fn open_ranges(s: &Streams, name: &str) -> Vec<HashKeyRange> {
    let mut r: Vec<HashKeyRange> = list(s, name, Some(ShardFilter::AtLatest))
        .into_iter()
        .map(|i| i.hash_range)
        .collect();
    r.sort();
    r
}

fn assert_tiles(ranges: &[HashKeyRange]) {
    assert_eq!(ranges.first().map(|r| r.start), Some(0), "{ranges:?}");
    assert_eq!(ranges.last().map(|r| r.end), Some(u128::MAX), "{ranges:?}");
    for w in ranges.windows(2) {
        assert_eq!(w[0].end.checked_add(1), Some(w[1].start), "{ranges:?}");
    }
}

fn trim_horizon(s: &Streams, name: &str, shard: ShardId) -> Result<String, Error> {
    let req = GetShardIterator {
        stream: sref(name),
        shard_id: shard.to_string(),
        iterator_type: "TRIM_HORIZON",
        starting_sequence: None,
        timestamp_ms: None,
    };
    s.get_shard_iterator(&req, IteratorStart::TrimHorizon)
}

/// Reads the whole stream the way a lineage-following consumer does: a shard only after all
/// its parents were read to their end, each closed shard until GetRecords stops returning an
/// iterator, each open one until it is caught up. Returns (partition key, data) in read order.
fn read_following_lineage(s: &Streams, name: &str) -> Vec<(String, Vec<u8>)> {
    let shards = list(s, name, None);
    let listed: BTreeSet<ShardId> = shards.iter().map(|i| i.id).collect();
    let parents: BTreeMap<ShardId, Vec<ShardId>> = shards
        .iter()
        .map(|i| {
            let ps = i.parent.into_iter().chain(i.adjacent_parent);
            (i.id, ps.filter(|p| listed.contains(p)).collect())
        })
        .collect();
    let mut done: BTreeSet<ShardId> = BTreeSet::new();
    let mut queue: VecDeque<ShardId> = parents
        .iter()
        .filter(|(_, ps)| ps.is_empty())
        .map(|(id, _)| *id)
        .collect();
    let mut out = Vec::new();
    while let Some(id) = queue.pop_front() {
        if !done.insert(id) {
            continue;
        }
        let mut it = trim_horizon(s, name, id).expect("iterator");
        loop {
            let page = s.get_records(&it, Some(7)).expect("get records");
            let empty = page.records.is_empty();
            out.extend(
                page.records
                    .into_iter()
                    .map(|r| (r.partition_key, r.data.to_vec())),
            );
            match page.next_iterator {
                Some(next) if !empty => it = next,
                Some(_) => break,
                None => {
                    assert!(
                        !page.child_shards.is_empty(),
                        "a closed shard ends with its children"
                    );
                    for c in page.child_shards {
                        let ready = parents
                            .get(&c.id)
                            .is_some_and(|ps| ps.iter().all(|p| done.contains(p)));
                        if ready {
                            queue.push_back(c.id);
                        }
                    }
                    break;
                }
            }
        }
    }
    out
}

/// Every record written is read exactly once, and each key's records in write order.
pub(super) fn assert_exactly_once_in_key_order(
    written: &[(String, Vec<u8>)],
    read: &[(String, Vec<u8>)],
) {
    let mut want = written.to_vec();
    let mut got = read.to_vec();
    want.sort();
    got.sort();
    assert_eq!(got, want, "every record exactly once");
    let by_key = |v: &[(String, Vec<u8>)]| {
        let mut m: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for (k, d) in v {
            m.entry(k.clone()).or_default().push(d.clone());
        }
        m
    };
    assert_eq!(by_key(read), by_key(written), "per-key order");
}

#[tokio::test]
async fn a_split_closes_the_parent_with_an_ending_number_and_reads_follow_into_the_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "sp", Some(1), StreamMode::Provisioned).await;
    let mut written = Vec::new();
    let mut last_parent_seq = String::new();
    for i in 0..20 {
        let d = format!("before-{i}").into_bytes();
        last_parent_seq = put_key(&s, "sp", &format!("k{}", i % 5), &d).await.1;
        written.push((format!("k{}", i % 5), d));
    }
    s.split_shard(
        &sref("sp"),
        "shardId-000000000000",
        &(1u128 << 127).to_string(),
    )
    .await
    .expect("split");
    for i in 0..20 {
        let d = format!("after-{i}").into_bytes();
        let (shard, seq) = put_key(&s, "sp", &format!("k{}", i % 5), &d).await;
        assert!(shard.0 == 1 || shard.0 == 2, "writes go to the children");
        assert!(
            seq > last_parent_seq,
            "child numbers are above the parent's"
        );
        written.push((format!("k{}", i % 5), d));
    }
    let shards = list(&s, "sp", None);
    assert_eq!(shards.len(), 3);
    let parent = &shards[0];
    let ending = parent
        .ending_sequence
        .expect("closed parent has an ending number");
    assert_eq!(
        ending.to_string(),
        last_parent_seq,
        "the last acknowledged record"
    );
    assert_eq!(shards[1].parent, Some(ShardId(0)));
    assert_eq!(shards[1].hash_range.end, (1u128 << 127) - 1);
    assert_eq!(shards[2].hash_range.start, 1u128 << 127);
    assert!(shards[1].starting_sequence > ending);

    // The parent stays readable; its last page has no iterator and names both children.
    let it = trim_horizon(&s, "sp", ShardId(0)).expect("iterator");
    let page = s.get_records(&it, None).expect("read parent");
    assert_eq!(page.records.len(), 20);
    assert!(page.next_iterator.is_none());
    let children: Vec<u32> = page.child_shards.iter().map(|c| c.id.0).collect();
    assert_eq!(children, vec![1, 2]);
    assert_eq!(page.child_shards[0].parents, vec![ShardId(0)]);
    // LATEST on a closed shard sits at its end.
    let req = GetShardIterator {
        stream: sref("sp"),
        shard_id: "shardId-000000000000".into(),
        iterator_type: "LATEST",
        starting_sequence: None,
        timestamp_ms: None,
    };
    let latest = s
        .get_shard_iterator(&req, IteratorStart::Latest)
        .expect("latest");
    let end = s.get_records(&latest, None).expect("read at end");
    assert!(end.records.is_empty() && end.next_iterator.is_none());
    assert_eq!(end.child_shards.len(), 2);
    // The domain read by position gives the same answer.
    let read = s
        .read_shard(&sref("sp"), ShardId(0), 15, None)
        .expect("read_shard");
    assert_eq!(read.records.len(), 5);
    assert_eq!(read.next_offset, None);
    assert_eq!(read.child_shards.len(), 2);

    assert_exactly_once_in_key_order(&written, &read_following_lineage(&s, "sp"));
}

#[tokio::test]
async fn update_shard_count_makes_the_lineage_aws_makes_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    let mut written = Vec::new();
    for (name, from, to, total) in [("a", 2, 4, 6), ("b", 4, 5, 15), ("c", 10, 13, 37)] {
        create_mode(&s, name, Some(from), StreamMode::Provisioned).await;
        for i in 0..30 {
            let d = format!("{name}-{i}").into_bytes();
            put_key(&s, name, &format!("k{i}"), &d).await;
            if name == "c" {
                written.push((format!("k{i}"), d));
            }
        }
        let out = s.update_shard_count(&sref(name), to).await.expect("scale");
        assert_eq!((out.current, out.target), (from, to));
        assert_eq!(list(&s, name, None).len(), total, "{name}");
        assert_eq!(open_ranges(&s, name).len(), to as usize);
        assert_tiles(&open_ranges(&s, name));
    }
    for i in 30..60 {
        let d = format!("c-{i}").into_bytes();
        put_key(&s, "c", &format!("k{i}"), &d).await;
        written.push((format!("k{i}"), d));
    }
    // Scaling down only merges: 10 -> 5 -> 3 makes the 17 shards AWS shows for 10 -> 3.
    create_mode(&s, "d", Some(10), StreamMode::Provisioned).await;
    s.update_shard_count(&sref("d"), 5).await.expect("down");
    s.update_shard_count(&sref("d"), 3).await.expect("down");
    assert_eq!(list(&s, "d", None).len(), 17);
    assert_tiles(&open_ranges(&s, "d"));

    let before = list(&s, "c", None);
    s.shutdown();
    drop(s);
    let s = open_fast(dir.path(), &clock).await;
    assert_eq!(list(&s, "c", None), before, "the layout survives");
    assert_exactly_once_in_key_order(&written, &read_following_lineage(&s, "c"));
    // Closed parents stay closed after the reopen: writes go to open shards only.
    let open: BTreeSet<ShardId> = list(&s, "c", Some(ShardFilter::AtLatest))
        .into_iter()
        .map(|i| i.id)
        .collect();
    for i in 0..40 {
        let (shard, _) = put_key(&s, "c", &format!("again{i}"), b"x").await;
        assert!(open.contains(&shard));
    }
}

#[tokio::test]
async fn resharding_errors_carry_the_aws_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "e", Some(2), StreamMode::Provisioned).await;
    create_mode(&s, "od", None, StreamMode::OnDemand).await;
    let msg = |e: Error| e.to_string();
    let half = (1u128 << 127).to_string();
    assert_eq!(
        msg(s
            .split_shard(&sref("od"), "shardId-000000000000", "5")
            .await
            .unwrap_err()),
        "Request is invalid. Stream od under account 000000000000 is in On-Demand mode."
    );
    assert_eq!(
        msg(s
            .split_shard(&sref("e"), "shardId-000000000000", "1")
            .await
            .unwrap_err()),
        format!(
            "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream e \
             under account 000000000000 is not both greater than one plus the shard's \
             StartingHashKey 0 and less than the shard's EndingHashKey {}.",
            (1u128 << 127) - 1
        )
    );
    assert_eq!(
        msg(s
            .split_shard(&sref("e"), "shardId-000000000007", "5")
            .await
            .unwrap_err()),
        "Could not find shard shardId-000000000007 in stream e under account 000000000000."
    );
    assert_eq!(
        msg(s
            .merge_shards(&sref("e"), "shardId-000000000001", "shardId-000000000000")
            .await
            .unwrap_err()),
        "Shards shardId-000000000001 and shardId-000000000000 in stream e under account \
         000000000000 are not an adjacent pair of shards eligible for merging"
    );
    s.merge_shards(&sref("e"), "shardId-000000000000", "shardId-000000000001")
        .await
        .expect("merge");
    assert_eq!(
        msg(s
            .split_shard(&sref("e"), "shardId-000000000000", &half)
            .await
            .unwrap_err()),
        "Shard shardId-000000000000 in stream e under account 000000000000 has already been \
         merged or split, and thus is not eligible for merging or splitting."
    );
    assert_eq!(
        msg(s.update_shard_count(&sref("e"), 3).await.unwrap_err()),
        "UpdateShardCount cannot scale up over double your current open shard count. Current \
         open shard count: 1 Target shard count: 3"
    );
    s.update_shard_count(&sref("e"), 2).await.expect("1 -> 2");
    s.update_shard_count(&sref("e"), 4).await.expect("2 -> 4");
    assert_eq!(
        msg(s.update_shard_count(&sref("e"), 1).await.unwrap_err()),
        "UpdateShardCount cannot scale down below half your current open shard count. Current \
         open shard count: 4 Target shard count: 1"
    );
    for target in [2, 4, 2, 4, 2, 4, 2, 4] {
        s.update_shard_count(&sref("e"), target)
            .await
            .expect("scale");
    }
    let e = s.update_shard_count(&sref("e"), 2).await.unwrap_err();
    assert_eq!(e.kind(), freshet_kinesis::ErrorKind::LimitExceeded, "{e}");
    clock.advance(24 * HOUR);
    s.update_shard_count(&sref("e"), 2)
        .await
        .expect("a day later the quota has room again");
}

#[tokio::test]
async fn closed_shards_expire_with_their_data_and_stay_expired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "x", Some(1), StreamMode::Provisioned).await;
    put_key(&s, "x", "k", b"old").await;
    s.split_shard(
        &sref("x"),
        "shardId-000000000000",
        &(1u128 << 127).to_string(),
    )
    .await
    .expect("split");
    clock.advance(23 * HOUR);
    assert_eq!(s.expire_closed_shards().await, 0);
    assert_eq!(list(&s, "x", None).len(), 3);
    // AT_TRIM_HORIZON still starts at the parent while its data is retained.
    let at_th: Vec<u32> = list(&s, "x", Some(ShardFilter::AtTrimHorizon))
        .iter()
        .map(|i| i.id.0)
        .collect();
    assert_eq!(at_th, vec![0]);
    clock.advance(2 * HOUR);
    assert_eq!(list(&s, "x", None).len(), 2, "no longer listed");
    let at_th: Vec<u32> = list(&s, "x", Some(ShardFilter::AtTrimHorizon))
        .iter()
        .map(|i| i.id.0)
        .collect();
    assert_eq!(at_th, vec![1, 2]);
    assert_eq!(s.expire_closed_shards().await, 1);
    let parent_dir = std::fs::read_dir(dir.path().join("logs/kinesis"))
        .expect("streams dir")
        .flatten()
        .next()
        .expect("stream dir")
        .path()
        .join("shardId-000000000000");
    assert!(!parent_dir.exists(), "the log directory is deleted");
    assert!(matches!(
        trim_horizon(&s, "x", ShardId(0)),
        Err(Error::ShardNotFound { .. })
    ));
    // A longer retention does not bring it back, nor does a restart.
    s.increase_retention(&sref("x"), 100)
        .await
        .expect("increase");
    assert_eq!(list(&s, "x", None).len(), 2);
    s.shutdown();
    drop(s);
    let s = open_fast(dir.path(), &clock).await;
    assert_eq!(list(&s, "x", None).len(), 2);
    assert!(!parent_dir.exists());
}

#[tokio::test]
async fn on_demand_streams_split_hot_shards_and_merge_cold_ones_lazily() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "od", None, StreamMode::OnDemand).await;
    create_mode(&s, "prov", Some(1), StreamMode::Provisioned).await;
    assert_eq!(open_ranges(&s, "od").len(), 4);
    assert_eq!(
        s.scale_on_demand().await,
        0,
        "the first run only starts measuring"
    );
    // 1.2 MiB in one second to one shard: above 80% of its 1 MiB/s.
    let big = vec![7u8; 200 * 1024];
    let mut written = Vec::new();
    for i in 0..6 {
        put_key(&s, "od", "hot", &big).await;
        put_key(&s, "prov", "hot", &big).await;
        written.push(("hot".to_owned(), big.clone()));
        let d = format!("cold-{i}").into_bytes();
        put_key(&s, "od", &format!("c{i}"), &d).await;
        written.push((format!("c{i}"), d));
    }
    clock.advance(1000);
    assert_eq!(s.scale_on_demand().await, 1, "one split");
    assert_eq!(open_ranges(&s, "od").len(), 5);
    assert_tiles(&open_ranges(&s, "od"));
    assert_eq!(
        open_ranges(&s, "prov").len(),
        1,
        "provisioned streams never scale"
    );
    let children: Vec<ShardInfo> = list(&s, "od", None)
        .into_iter()
        .filter(|i| i.parent.is_some())
        .collect();
    assert_eq!(children.len(), 2);

    // Quiet from now on: shards cold since the last run wait `merge_after` (60 s here), then
    // one pair merges per run.
    clock.advance(59_999);
    assert_eq!(s.scale_on_demand().await, 0);
    clock.advance(1);
    assert_eq!(s.scale_on_demand().await, 1, "one merge");
    assert_eq!(open_ranges(&s, "od").len(), 4);
    clock.advance(3_600_000);
    assert_eq!(s.scale_on_demand().await, 0, "never below four shards");
    assert_tiles(&open_ranges(&s, "od"));
    assert_eq!(
        s.describe_stream_summary(&sref("od"))
            .expect("summary")
            .status,
        freshet_kinesis::StreamStatus::Active
    );
    assert_exactly_once_in_key_order(&written, &read_following_lineage(&s, "od"));
}

/// One step of a random resharding history.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// Split the open shard at this position (mod open count) at this fraction (per mille).
    Split(usize, u16),
    /// Merge the open shard at this position (mod open count - 1) with its right neighbour.
    Merge(usize),
    /// UpdateShardCount to a target between half and double (this fraction of the range).
    Scale(u8),
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), 1u16..1000).prop_map(|(i, f)| Op::Split(i, f)),
        any::<usize>().prop_map(Op::Merge),
        any::<u8>().prop_map(Op::Scale),
    ]
}

pub(super) async fn apply(s: &Streams, op: &Op) {
    let open = list(s, "p", Some(ShardFilter::AtLatest));
    let mut open: Vec<ShardInfo> = open;
    open.sort_by_key(|i| i.hash_range.start);
    match *op {
        Op::Split(i, f) => {
            let shard = &open[i % open.len()];
            let r = shard.hash_range;
            let width = r.end - r.start;
            let at = r.start + width / 1000 * u128::from(f);
            let result = s
                .split_shard(&sref("p"), &shard.id.to_string(), &at.to_string())
                .await;
            let valid = at > r.start + 1 && at < r.end;
            assert_eq!(result.is_ok(), valid, "split of {r:?} at {at}: {result:?}");
        }
        Op::Merge(i) if open.len() > 1 => {
            let a = &open[i % (open.len() - 1)];
            let b = &open[i % (open.len() - 1) + 1];
            s.merge_shards(&sref("p"), &a.id.to_string(), &b.id.to_string())
                .await
                .expect("merge neighbours");
        }
        Op::Merge(_) => {}
        Op::Scale(f) => {
            let n = open.len() as u32;
            let lo = n.div_ceil(2);
            let hi = (2 * n).min(24);
            if hi >= lo {
                let target = lo + u32::from(f) % (hi - lo + 1);
                s.update_shard_count(&sref("p"), target)
                    .await
                    .expect("scale within bounds");
                assert_eq!(open_ranges(s, "p").len(), target as usize);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_resharding_history_tiles_the_key_space_and_loses_no_record(
        initial in 1u32..6,
        ops in proptest::collection::vec(op(), 1..7),
        keys in proptest::collection::vec(0u8..16, 1..8),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let clock = ManualClock::new(T0);
            let s = open_fast(dir.path(), &clock).await;
            create_mode(&s, "p", Some(initial), StreamMode::Provisioned).await;
            let mut written = Vec::new();
            let mut n = 0;
            for op in &ops {
                for &k in &keys {
                    n += 1;
                    let d = format!("r{n}").into_bytes();
                    put_key(&s, "p", &format!("key{k}"), &d).await;
                    written.push((format!("key{k}"), d));
                }
                apply(&s, op).await;
                assert_tiles(&open_ranges(&s, "p"));
                // Keep the UpdateShardCount quota out of the way.
                clock.advance(3 * HOUR);
            }
            for &k in &keys {
                n += 1;
                let d = format!("r{n}").into_bytes();
                put_key(&s, "p", &format!("key{k}"), &d).await;
                written.push((format!("key{k}"), d));
            }
            // Retention is 24 hours; the clock moved at most 21.
            assert_exactly_once_in_key_order(&written, &read_following_lineage(&s, "p"));
            s.shutdown();
        });
    }
}

#[tokio::test]
async fn a_child_directory_left_by_an_interrupted_reshard_is_removed_at_recovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let s = open_fast(dir.path(), &clock).await;
    create_mode(&s, "c", Some(1), StreamMode::Provisioned).await;
    put_key(&s, "c", "k", b"kept").await;
    s.shutdown();
    drop(s);
    // What a crash between creating the children's logs and the metadata write leaves.
    let stream_dir = std::fs::read_dir(dir.path().join("logs/kinesis"))
        .expect("streams dir")
        .flatten()
        .next()
        .expect("stream dir")
        .path();
    let stray = stream_dir.join("shardId-000000000001");
    std::fs::create_dir_all(&stray).expect("stray dir");
    std::fs::write(stray.join("00000000000000000000.log"), b"junk").expect("stray file");

    let s = open_fast(dir.path(), &clock).await;
    assert!(!stray.exists(), "the stray child directory is removed");
    assert_eq!(list(&s, "c", None).len(), 1);
    // The next reshard reuses the index with a fresh log.
    s.split_shard(
        &sref("c"),
        "shardId-000000000000",
        &(1u128 << 127).to_string(),
    )
    .await
    .expect("split");
    let (shard, _) = put_key(&s, "c", "k", b"new").await;
    let read = s
        .read_shard(&sref("c"), shard, 0, None)
        .expect("read child");
    let data: Vec<Vec<u8>> = read.records.iter().map(|r| r.data.to_vec()).collect();
    assert_eq!(data, vec![b"new".to_vec()]);
    assert!(read.next_offset.is_some(), "an open shard always continues");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fsynced_puts_through_repeated_scaling_are_each_read_once_in_key_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    // The real put path: appends resolve after a shared fsync.
    let s = Streams::open(
        dir.path(),
        LogConfig::default(),
        opts,
        Arc::new(clock.clone()),
    )
    .await
    .expect("open");
    create_mode(&s, "cc", Some(3), StreamMode::Provisioned).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut producers = Vec::new();
    for p in 0..4 {
        let s = s.clone();
        let stop = stop.clone();
        producers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || n < 50 {
                let key = format!("p{p}-{}", n % 5);
                let a = format!("{key}-{n}a").into_bytes();
                let b = format!("{key}-{n}b").into_bytes();
                let entries = [
                    PutEntry {
                        data: &a,
                        partition_key: &key,
                        explicit_hash_key: None,
                    },
                    PutEntry {
                        data: &b,
                        partition_key: &key,
                        explicit_hash_key: None,
                    },
                ];
                let out = s.put_records(&sref("cc"), &entries).await.expect("put");
                for (o, d) in out.iter().zip([a, b]) {
                    assert!(matches!(o, PutOutcome::Stored { .. }), "{o:?}");
                    acked.push((key.clone(), d));
                }
                n += 1;
            }
            acked
        }));
    }
    for target in [6, 4, 5, 3, 6] {
        // Let puts run between (and during) the scalings.
        tokio::time::sleep(Duration::from_millis(10)).await;
        s.update_shard_count(&sref("cc"), target)
            .await
            .expect("scale");
        assert_tiles(&open_ranges(&s, "cc"));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut written = Vec::new();
    for p in producers {
        written.extend(p.await.expect("producer"));
    }
    assert_exactly_once_in_key_order(&written, &read_following_lineage(&s, "cc"));
}
