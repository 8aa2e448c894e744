// SPDX-License-Identifier: Apache-2.0
//! Resharding with the AWS SDK: SplitShard, MergeShards, UpdateShardCount (lineage counts as
//! AWS shows them), every error with its AWS message, ListShards filters and DescribeStream
//! after a reshard, GetRecords at the end of a closed shard, a consumer that follows lineage
//! while a producer writes through a split and a merge, and a restart.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{
    ScalingType, Shard, ShardFilter, ShardFilterType, ShardIteratorType, StreamModeDetails,
    StreamStatus,
};

use super::common::*;

fn filter(kind: ShardFilterType) -> ShardFilter {
    ShardFilter::builder()
        .r#type(kind)
        .build()
        .expect("ShardFilter has its Type")
}

async fn list_filtered(client: &Client, stream: &str, kind: ShardFilterType) -> Vec<String> {
    let out = client
        .list_shards()
        .stream_name(stream)
        .shard_filter(filter(kind))
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListShards {stream}: {e:?}"));
    ids(out.shards())
}

async fn split(client: &Client, stream: &str, shard: u32, key: u128) {
    client
        .split_shard()
        .stream_name(stream)
        .shard_to_split(shard_id(shard))
        .new_starting_hash_key(key.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("SplitShard {stream}/{shard}: {e:?}"));
}

async fn merge(client: &Client, stream: &str, shard: u32, adjacent: u32) {
    client
        .merge_shards()
        .stream_name(stream)
        .shard_to_merge(shard_id(shard))
        .adjacent_shard_to_merge(shard_id(adjacent))
        .send()
        .await
        .unwrap_or_else(|e| panic!("MergeShards {stream}/{shard}+{adjacent}: {e:?}"));
}

async fn status(client: &Client, stream: &str) -> StreamStatus {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .expect("DescribeStreamSummary")
        .stream_description_summary()
        .expect("summary")
        .stream_status()
        .clone()
}

fn range(s: &Shard) -> (u128, u128) {
    let r = s.hash_key_range().expect("HashKeyRange");
    (
        r.starting_hash_key().parse().expect("start"),
        r.ending_hash_key().parse().expect("end"),
    )
}

/// The open shards' ranges tile the key space.
#[track_caller]
fn assert_tiles(shards: &[Shard]) {
    let mut open: Vec<(u128, u128)> = shards
        .iter()
        .filter(|s| {
            s.sequence_number_range()
                .is_some_and(|r| r.ending_sequence_number().is_none())
        })
        .map(range)
        .collect();
    open.sort();
    assert_eq!(open.first().map(|r| r.0), Some(0));
    assert_eq!(open.last().map(|r| r.1), Some(u128::MAX));
    for w in open.windows(2) {
        assert_eq!(w[0].1 + 1, w[1].0, "open shards {open:?} do not tile");
    }
}

/// Reads the whole stream following lineage: a shard starts only after all its parents were
/// read to the end, closed shards are read until GetRecords stops returning an iterator, open
/// ones until caught up. Returns (partition key, data, sequence number) in read order.
async fn read_following_lineage(client: &Client, stream: &str) -> Vec<(String, Vec<u8>, String)> {
    let shards = list_all_shards(client, stream).await;
    let listed: BTreeSet<String> = ids(&shards).into_iter().collect();
    let parents: BTreeMap<String, Vec<String>> = shards
        .iter()
        .map(|s| {
            let ps = [s.parent_shard_id(), s.adjacent_parent_shard_id()]
                .into_iter()
                .flatten()
                .filter(|p| listed.contains(*p))
                .map(str::to_owned)
                .collect();
            (s.shard_id().to_owned(), ps)
        })
        .collect();
    let mut done = BTreeSet::new();
    let mut queue: VecDeque<String> = parents
        .iter()
        .filter(|(_, ps)| ps.is_empty())
        .map(|(id, _)| id.clone())
        .collect();
    let mut out = Vec::new();
    while let Some(id) = queue.pop_front() {
        if !done.insert(id.clone()) {
            continue;
        }
        let mut it = iterator(client, stream, &id, ShardIteratorType::TrimHorizon, None).await;
        loop {
            let page = get_records(client, &it, Some(50)).await;
            let empty = page.records().is_empty();
            out.extend(page.records().iter().map(|r| {
                (
                    r.partition_key().unwrap_or_default().to_owned(),
                    r.data().as_ref().to_vec(),
                    r.sequence_number().to_owned(),
                )
            }));
            match page.next_shard_iterator() {
                Some(next) if !empty => it = next.to_owned(),
                Some(_) => break,
                None => {
                    assert!(
                        !page.child_shards().is_empty(),
                        "{id} ended without children"
                    );
                    for c in page.child_shards() {
                        let ready = parents
                            .get(c.shard_id())
                            .is_some_and(|ps| ps.iter().all(|p| done.contains(p)));
                        if ready {
                            queue.push_back(c.shard_id().to_owned());
                        }
                    }
                    break;
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_shard_closes_the_parent_and_opens_two_children() {
    let server = TestServer::start_with(|c| c.kinesis.update_delay = Duration::from_secs(1)).await;
    let client = server.client();
    create_active_stream(&client, "split", 1).await;
    let before = put(&client, "split", "a", b"before").await;
    let half = 1u128 << 127;
    split(&client, "split", 0, half).await;
    assert_eq!(status(&client, "split").await, StreamStatus::Updating);
    // AWS describes the old layout until the split is over.
    let d = client
        .describe_stream()
        .stream_name("split")
        .send()
        .await
        .expect("DescribeStream while UPDATING");
    let during_update = d.stream_description().expect("description").shards();
    assert_eq!(ids(during_update), [shard_id(0)]);
    assert!(
        during_update[0]
            .sequence_number_range()
            .is_some_and(|r| r.ending_sequence_number().is_none()),
        "the parent still looks open"
    );
    // Writes and reads continue while UPDATING, into the children.
    let during = put(&client, "split", "a", b"during").await;
    assert_ne!(during.shard_id(), "shardId-000000000000");
    assert_eq!(
        seq_cmp(during.sequence_number(), before.sequence_number()),
        std::cmp::Ordering::Greater
    );
    wait_for_active(&client, "split").await;

    let d = client
        .describe_stream()
        .stream_name("split")
        .send()
        .await
        .expect("DescribeStream");
    let shards = d.stream_description().expect("description").shards();
    assert_eq!(ids(shards), [shard_id(0), shard_id(1), shard_id(2)]);
    let parent_range = shards[0].sequence_number_range().expect("range");
    assert_eq!(
        parent_range.ending_sequence_number(),
        Some(before.sequence_number()),
        "the parent ends at its last record"
    );
    for (child, expected) in [(&shards[1], (0, half - 1)), (&shards[2], (half, u128::MAX))] {
        assert_eq!(child.parent_shard_id(), Some("shardId-000000000000"));
        assert_eq!(child.adjacent_parent_shard_id(), None);
        assert_eq!(range(child), expected);
        let start = child
            .sequence_number_range()
            .expect("range")
            .starting_sequence_number();
        assert_seq_shape(start);
        assert_eq!(
            seq_cmp(start, before.sequence_number()),
            std::cmp::Ordering::Greater,
            "children start above everything in the parent"
        );
        assert!(
            child
                .sequence_number_range()
                .is_some_and(|r| r.ending_sequence_number().is_none())
        );
    }
    let summary = client
        .describe_stream_summary()
        .stream_name("split")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        summary
            .stream_description_summary()
            .expect("summary")
            .open_shard_count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_shards_makes_one_child_with_both_parents() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "merge", 3).await;
    let ranges = initial_hash_ranges(3);
    merge(&client, "merge", 1, 2).await;
    wait_for_active(&client, "merge").await;
    let shards = list_all_shards(&client, "merge").await;
    assert_eq!(ids(&shards), (0..4).map(shard_id).collect::<Vec<_>>());
    let child = &shards[3];
    assert_eq!(child.parent_shard_id(), Some("shardId-000000000001"));
    assert_eq!(
        child.adjacent_parent_shard_id(),
        Some("shardId-000000000002")
    );
    assert_eq!(range(child), (ranges[1].0, ranges[2].1));
    for closed in &shards[1..3] {
        assert!(
            closed
                .sequence_number_range()
                .is_some_and(|r| r.ending_sequence_number().is_some())
        );
    }
    assert_tiles(&shards);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_shard_count_reproduces_the_lineage_counts_aws_shows() {
    let server = TestServer::start().await;
    let client = server.client();
    // (initial, targets, total shards afterwards), as AWS reports them.
    let cases: [(&str, i32, &[i32], usize); 6] = [
        ("usc-2-4", 2, &[4], 6),
        ("usc-4-5", 4, &[5], 15),
        ("usc-10-13", 10, &[13], 37),
        ("usc-4-2", 4, &[2], 6),
        ("usc-5-3", 5, &[3], 7),
        // AWS's 10 -> 3 (17 shards) takes two calls here, as AWS only allows halving per call.
        ("usc-10-5-3", 10, &[5, 3], 17),
    ];
    for (name, initial, targets, total) in cases {
        create_active_stream(&client, name, initial).await;
        let mut current = initial;
        for &target in targets {
            let out = client
                .update_shard_count()
                .stream_name(name)
                .target_shard_count(target)
                .scaling_type(ScalingType::UniformScaling)
                .send()
                .await
                .unwrap_or_else(|e| panic!("UpdateShardCount {name}: {e:?}"));
            assert_eq!(out.stream_name(), Some(name));
            assert_eq!(out.stream_arn(), Some(server.stream_arn(name).as_str()));
            assert_eq!(out.current_shard_count(), Some(current));
            assert_eq!(out.target_shard_count(), Some(target));
            wait_for_active(&client, name).await;
            current = target;
        }
        let shards = list_all_shards(&client, name).await;
        assert_eq!(shards.len(), total, "{name}");
        let open = list_filtered(&client, name, ShardFilterType::AtLatest).await;
        assert_eq!(open.len(), current as usize, "{name}");
        assert_tiles(&shards);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_errors_have_the_aws_codes_and_messages() {
    let server = TestServer::start_with(|c| {
        c.kinesis.update_delay = Duration::from_secs(30);
        c.kinesis.shard_limit = 6;
    })
    .await;
    let client = server.client();
    create_active_stream(&client, "err", 2).await;
    let (s0, e0) = initial_hash_ranges(2)[0];

    let r = client
        .split_shard()
        .stream_name("err")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((s0 + 1).to_string())
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "NewStartingHashKey {} used in SplitShard() on shard shardId-000000000000 in stream \
             err under account {ACCOUNT_ID} is not both greater than one plus the shard's \
             StartingHashKey {s0} and less than the shard's EndingHashKey {e0}.",
            s0 + 1
        ),
    );
    let r = client
        .split_shard()
        .stream_name("err")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key(e0.to_string())
        .send()
        .await;
    assert_code(r, "InvalidArgumentException");
    let r = client
        .split_shard()
        .stream_name("err")
        .shard_to_split("shardId-000000000009")
        .new_starting_hash_key("5")
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        &format!(
            "Could not find shard shardId-000000000009 in stream err under account {ACCOUNT_ID}."
        ),
    );
    let r = client
        .split_shard()
        .stream_name("err")
        .shard_to_split("nope")
        .new_starting_hash_key("5")
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        &format!("Could not find shard nope in stream err under account {ACCOUNT_ID}."),
    );
    let r = client
        .split_shard()
        .stream_name("missing")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("5")
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &stream_not_found("missing"));
    // An id AWS cannot parse is refused before the stream is looked up.
    for bad in ["nope", "shardId-2147483648"] {
        let r = client
            .split_shard()
            .stream_name("missing")
            .shard_to_split(bad)
            .new_starting_hash_key("5")
            .send()
            .await;
        assert_error(
            r,
            "ResourceNotFoundException",
            &format!("Could not find shard {bad} in stream missing under account {ACCOUNT_ID}."),
        );
        let r = client
            .merge_shards()
            .stream_name("missing")
            .shard_to_merge(bad)
            .adjacent_shard_to_merge("shardId-000000000001")
            .send()
            .await;
        assert_error(
            r,
            "ResourceNotFoundException",
            &format!("Could not find shard {bad} in stream missing under account {ACCOUNT_ID}."),
        );
    }
    let r = client
        .merge_shards()
        .stream_name("err")
        .shard_to_merge("shardId-000000000001")
        .adjacent_shard_to_merge("shardId-000000000000")
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "Shards shardId-000000000001 and shardId-000000000000 in stream err under account \
             {ACCOUNT_ID} are not an adjacent pair of shards eligible for merging"
        ),
    );
    let r = client
        .update_shard_count()
        .stream_name("err")
        .target_shard_count(5)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await;
    assert_error(
        r,
        "LimitExceededException",
        "UpdateShardCount cannot scale up over double your current open shard count. Current \
         open shard count: 2 Target shard count: 5",
    );

    // A split leaves the stream UPDATING (30 s here): further changes are refused.
    split(&client, "err", 0, (s0 + e0) / 2).await;
    let r = client
        .merge_shards()
        .stream_name("err")
        .shard_to_merge("shardId-000000000002")
        .adjacent_shard_to_merge("shardId-000000000003")
        .send()
        .await;
    assert_error(
        r,
        "ResourceInUseException",
        &format!("Stream err under account {ACCOUNT_ID} not ACTIVE, instead in state UPDATING"),
    );
    let r = client
        .split_shard()
        .stream_name("err")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key(((s0 + e0) / 2).to_string())
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "Shard shardId-000000000000 in stream err under account {ACCOUNT_ID} has already \
             been merged or split, and thus is not eligible for merging or splitting."
        ),
    );
    let r = client
        .merge_shards()
        .stream_name("err")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await;
    assert_code(r, "InvalidArgumentException");
    let r = client
        .update_shard_count()
        .stream_name("err")
        .target_shard_count(3)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await;
    assert_error(
        r,
        "ResourceInUseException",
        &format!("Stream err under account {ACCOUNT_ID} not ACTIVE, instead in state UPDATING"),
    );
    // The shard limit (6) counts open shards of every stream: 3 here and 3 more.
    create_active_stream(&client, "err-b", 3).await;
    let r = client
        .split_shard()
        .stream_name("err-b")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("5")
        .send()
        .await;
    assert_error(
        r,
        "LimitExceededException",
        &format!(
            "This request would exceed the shard limit for the account {ACCOUNT_ID} in \
             us-east-1. Current shard count for the account: 6. Limit: 6. Number of additional \
             shards that would have resulted from this request: 1. Refer to the AWS Service \
             Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) \
             for current limits and how to request higher limits."
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_shard_count_refuses_halving_past_half_and_an_eleventh_call_a_day() {
    let server = TestServer::start_with(|c| c.kinesis.update_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "quota", 4).await;
    let scale = |target: i32| {
        client
            .update_shard_count()
            .stream_name("quota")
            .target_shard_count(target)
            .scaling_type(ScalingType::UniformScaling)
            .send()
    };
    assert_error(
        scale(1).await,
        "LimitExceededException",
        "UpdateShardCount cannot scale down below half your current open shard count. Current \
         open shard count: 4 Target shard count: 1",
    );
    for i in 0..10 {
        let target = if i % 2 == 0 { 2 } else { 4 };
        scale(target).await.expect("within the daily quota");
    }
    let message = assert_code(scale(4).await, "LimitExceededException");
    assert!(message.contains("24-hour"), "{message}");
    let raw = server
        .raw_call(
            "UpdateShardCount",
            &serde_json::json!({"StreamName": "quota", "TargetShardCount": 2, "ScalingType": "FAST"}),
        )
        .await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.error_type().as_deref(), Some("ValidationException"));
    let r = client
        .update_shard_count()
        .stream_name("quota")
        .target_shard_count(0)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await;
    assert_code(r, "ValidationException");

    // On-demand streams are resharded by the service, not by hand.
    client
        .create_stream()
        .stream_name("quota-od")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(aws_sdk_kinesis::types::StreamMode::OnDemand)
                .build()
                .expect("mode"),
        )
        .send()
        .await
        .expect("create on-demand");
    wait_for_active(&client, "quota-od").await;
    let od = format!(
        "Request is invalid. Stream quota-od under account {ACCOUNT_ID} is in On-Demand mode."
    );
    let r = client
        .split_shard()
        .stream_name("quota-od")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("5")
        .send()
        .await;
    assert_error(r, "ValidationException", &od);
    let r = client
        .merge_shards()
        .stream_name("quota-od")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await;
    assert_error(r, "ValidationException", &od);
    let r = client
        .update_shard_count()
        .stream_name("quota-od")
        .target_shard_count(5)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await;
    assert_error(r, "ValidationException", &od);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_filters_and_get_records_follow_a_reshard() {
    let server = TestServer::start_with(|c| c.kinesis.update_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "lf", 2).await;
    let e0 = initial_hash_ranges(2)[0].1;
    let first = put(&client, "lf", "k", b"one").await;
    let key = partition_key_hash("k");
    let parent = if key <= e0 { 0 } else { 1 };
    assert_eq!(first.shard_id(), shard_id(parent));
    let t_before = aws_sdk_kinesis::primitives::DateTime::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_millis() as i64,
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (ps, pe) = initial_hash_ranges(2)[parent as usize];
    split(&client, "lf", parent, ps + (pe - ps) / 2).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t_after = aws_sdk_kinesis::primitives::DateTime::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_millis() as i64,
    );
    let second = put(&client, "lf", "k", b"two").await;
    assert!(second.shard_id() == shard_id(2) || second.shard_id() == shard_id(3));

    let other = shard_id(1 - parent);
    let mut latest = vec![other.clone(), shard_id(2), shard_id(3)];
    latest.sort();
    assert_eq!(
        list_filtered(&client, "lf", ShardFilterType::AtLatest).await,
        latest
    );
    let mut roots = vec![shard_id(0), shard_id(1)];
    roots.sort();
    assert_eq!(
        list_filtered(&client, "lf", ShardFilterType::AtTrimHorizon).await,
        roots
    );
    assert_eq!(
        list_filtered(&client, "lf", ShardFilterType::FromTrimHorizon).await,
        (0..4).map(shard_id).collect::<Vec<_>>()
    );
    let at = |ts: aws_sdk_kinesis::primitives::DateTime, kind: ShardFilterType| {
        let f = ShardFilter::builder()
            .r#type(kind)
            .timestamp(ts)
            .build()
            .expect("filter");
        client
            .list_shards()
            .stream_name("lf")
            .shard_filter(f)
            .send()
    };
    let ids_at = |out: aws_sdk_kinesis::operation::list_shards::ListShardsOutput| ids(out.shards());
    assert_eq!(
        ids_at(
            at(t_before, ShardFilterType::AtTimestamp)
                .await
                .expect("at")
        ),
        roots
    );
    assert_eq!(
        ids_at(at(t_after, ShardFilterType::AtTimestamp).await.expect("at")),
        latest
    );
    assert_eq!(
        ids_at(
            at(t_after, ShardFilterType::FromTimestamp)
                .await
                .expect("from")
        ),
        latest,
        "the parent closed before t_after"
    );
    assert_eq!(
        ids_at(
            at(t_before, ShardFilterType::FromTimestamp)
                .await
                .expect("from")
        ),
        (0..4).map(shard_id).collect::<Vec<_>>()
    );
    let after = ShardFilter::builder()
        .r#type(ShardFilterType::AfterShardId)
        .shard_id(shard_id(1))
        .build()
        .expect("filter");
    let out = client
        .list_shards()
        .stream_name("lf")
        .shard_filter(after)
        .send()
        .await
        .expect("after");
    assert_eq!(ids(out.shards()), [shard_id(2), shard_id(3)]);

    // The parent: its record, then an end with the children and no iterator.
    let it = trim_horizon(&client, "lf", parent).await;
    let page = get_records(&client, &it, None).await;
    assert_eq!(datas(page.records()), [b"one".to_vec()]);
    assert!(
        page.next_shard_iterator().is_none(),
        "the end of a closed shard"
    );
    let children: Vec<&str> = page.child_shards().iter().map(|c| c.shard_id()).collect();
    assert_eq!(children, [shard_id(2), shard_id(3)]);
    for c in page.child_shards() {
        assert_eq!(c.parent_shards(), [shard_id(parent)]);
        assert!(c.hash_key_range().is_some());
    }
    assert!(page.millis_behind_latest().is_some());
    // Reading in two steps: the page that does not reach the end has an iterator and no children.
    let it = iterator(
        &client,
        "lf",
        &shard_id(parent),
        ShardIteratorType::AtSequenceNumber,
        Some(first.sequence_number()),
    )
    .await;
    let page = get_records(&client, &it, Some(1)).await;
    assert_eq!(page.records().len(), 1);
    // LATEST on a closed shard: at its end.
    let it = iterator(
        &client,
        "lf",
        &shard_id(parent),
        ShardIteratorType::Latest,
        None,
    )
    .await;
    let page = get_records(&client, &it, None).await;
    assert!(page.records().is_empty());
    assert!(page.next_shard_iterator().is_none());
    assert_eq!(page.child_shards().len(), 2);
    assert_eq!(page.millis_behind_latest(), Some(0));
    // An open shard never reports children.
    let child_it = trim_horizon(&client, "lf", 2).await;
    let page = get_records(&client, &child_it, None).await;
    assert!(page.next_shard_iterator().is_some());
    assert!(page.child_shards().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lineage_following_consumer_reads_every_record_once_while_a_producer_writes_through_a_split_and_a_merge()
 {
    let server =
        TestServer::start_with(|c| c.kinesis.update_delay = Duration::from_millis(20)).await;
    let client = server.client();
    create_active_stream(&client, "live", 2).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut producers = Vec::new();
    for p in 0..3 {
        let client = client.clone();
        let stop = stop.clone();
        producers.push(tokio::spawn(async move {
            let mut acked: Vec<(String, Vec<u8>, String)> = Vec::new();
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) || n < 20 {
                let key = format!("p{p}-k{}", n % 7);
                let data = format!("p{p}-{n}").into_bytes();
                if n.is_multiple_of(2) {
                    let out = put(&client, "live", &key, &data).await;
                    acked.push((key, data, out.sequence_number().to_owned()));
                } else {
                    // Two records of the same key in one PutRecords keep their order.
                    let data2 = format!("p{p}-{n}b").into_bytes();
                    let out = client
                        .put_records()
                        .stream_name("live")
                        .records(entry(&key, &data))
                        .records(entry(&key, &data2))
                        .send()
                        .await
                        .expect("PutRecords");
                    assert_eq!(out.failed_record_count(), Some(0));
                    for (r, d) in out.records().iter().zip([data, data2]) {
                        let seq = r.sequence_number().expect("sequence").to_owned();
                        acked.push((key.clone(), d, seq));
                    }
                }
                n += 1;
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s0, e0) = initial_hash_ranges(2)[0];
    split(&client, "live", 0, s0 + (e0 - s0) / 2).await;
    wait_for_active(&client, "live").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Merge the upper child of the split with shard 1.
    merge(&client, "live", 3, 1).await;
    wait_for_active(&client, "live").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for p in producers {
        acked.extend(p.await.expect("producer"));
    }

    let read = read_following_lineage(&client, "live").await;
    let mut want: Vec<_> = acked.clone();
    let mut got: Vec<_> = read.clone();
    want.sort();
    got.sort();
    assert_eq!(got.len(), want.len(), "records read vs acknowledged");
    assert_eq!(
        got, want,
        "every acknowledged record read exactly once, same number"
    );
    // Per key, the consumer sees the producer's order.
    let by_key = |v: &[(String, Vec<u8>, String)]| {
        let mut m: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for (k, d, _) in v {
            m.entry(k.clone()).or_default().push(d.clone());
        }
        m
    };
    assert_eq!(by_key(&read), by_key(&acked));
    // Every acknowledged record of a closed shard is at or below its EndingSequenceNumber.
    for s in list_all_shards(&client, "live").await {
        let Some(end) = s
            .sequence_number_range()
            .and_then(|r| r.ending_sequence_number())
        else {
            continue;
        };
        let id = s.shard_id();
        for (_, _, seq) in acked.iter().filter(|(_, _, seq)| {
            // The shard index is digits 11..21 of our sequence numbers.
            seq[11..21].parse::<u32>().ok() == id[8..].parse::<u32>().ok()
        }) {
            assert_ne!(
                seq_cmp(seq, end),
                std::cmp::Ordering::Greater,
                "{seq} > {end}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reshard_layout_and_every_record_survive_a_restart() {
    let server = TestServer::start_with(|c| c.kinesis.update_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "rr", 2).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let key = format!("k{i}");
        let out = put(&client, "rr", &key, key.as_bytes()).await;
        acked.push((
            key.clone(),
            key.into_bytes(),
            out.sequence_number().to_owned(),
        ));
    }
    client
        .update_shard_count()
        .stream_name("rr")
        .target_shard_count(3)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect("scale up");
    for i in 20..40 {
        let key = format!("k{i}");
        let out = put(&client, "rr", &key, key.as_bytes()).await;
        acked.push((
            key.clone(),
            key.into_bytes(),
            out.sequence_number().to_owned(),
        ));
    }
    let before = list_all_shards(&client, "rr").await;
    assert_eq!(before.len(), 2 + 4 + 1);

    let server = server.restart().await;
    let client = server.client();
    assert_eq!(list_all_shards(&client, "rr").await, before);
    let mut read = read_following_lineage(&client, "rr").await;
    read.sort();
    acked.sort();
    assert_eq!(read, acked);
    // Closed shards still refuse resharding, and new writes go to open shards only.
    let open = list_filtered(&client, "rr", ShardFilterType::AtLatest).await;
    assert_eq!(open.len(), 3);
    for i in 0..20 {
        let out = put(&client, "rr", &format!("n{i}"), b"x").await;
        assert!(open.iter().any(|o| o == out.shard_id()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enhanced_fan_out_reader_follows_a_split_and_a_merge_as_they_happen() {
    let server =
        TestServer::start_with(|c| c.kinesis.update_delay = Duration::from_millis(20)).await;
    let client = server.client();
    create_active_stream(&client, "efo-rs", 2).await;
    let stream_arn = server.stream_arn("efo-rs");
    let consumer_arn = client
        .register_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("follower")
        .send()
        .await
        .expect("RegisterStreamConsumer")
        .consumer
        .expect("Consumer")
        .consumer_arn;
    loop {
        let status = client
            .describe_stream_consumer()
            .consumer_arn(&consumer_arn)
            .send()
            .await
            .expect("DescribeStreamConsumer")
            .consumer_description
            .expect("description")
            .consumer_status;
        if status == aws_sdk_kinesis::types::ConsumerStatus::Active {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Subscriptions start on the two original shards before any reshard.
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let reader = {
        let client = client.clone();
        let total = total.clone();
        let (stream_arn, consumer_arn) = (stream_arn.clone(), consumer_arn.clone());
        tokio::spawn(async move {
            freshet_testkit::efo::read_with_lineage(
                &client,
                &stream_arn,
                &consumer_arn,
                Duration::from_secs(60),
                |r| r.len() >= total.load(Ordering::SeqCst),
            )
            .await
        })
    };
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let client = client.clone();
        let stop = stop.clone();
        let total = total.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0u32;
            loop {
                let last = stop.load(Ordering::SeqCst) && n >= 20;
                if last {
                    // The reader checks its goal as records arrive: announce the total before
                    // the last record.
                    total.store(acked.len() + 1, Ordering::SeqCst);
                }
                let key = format!("k{}", n % 9);
                let data = format!("r{n}").into_bytes();
                put(&client, "efo-rs", &key, &data).await;
                acked.push((key, data));
                n += 1;
                if last {
                    return acked;
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s0, e0) = initial_hash_ranges(2)[0];
    split(&client, "efo-rs", 0, s0 + (e0 - s0) / 2).await;
    wait_for_active(&client, "efo-rs").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    merge(&client, "efo-rs", 3, 1).await;
    wait_for_active(&client, "efo-rs").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let acked = producer.await.expect("producer");
    let records = reader.await.expect("reader");

    let read: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|r| (r.partition_key.clone(), r.data.clone()))
        .collect();
    let mut got = read.clone();
    let mut want = acked.clone();
    got.sort();
    want.sort();
    assert_eq!(
        got, want,
        "every record exactly once through the subscriptions"
    );
    let by_key = |v: &[(String, Vec<u8>)]| {
        let mut m: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for (k, d) in v {
            m.entry(k.clone()).or_default().push(d.clone());
        }
        m
    };
    assert_eq!(
        by_key(&read),
        by_key(&acked),
        "per-key order across the lineage"
    );
    let shards: BTreeSet<&str> = records.iter().map(|r| r.shard_id.as_str()).collect();
    assert!(
        shards.contains("shardId-000000000004"),
        "read into the merge child: {shards:?}"
    );
}
