// SPDX-License-Identifier: Apache-2.0
//! Stream lifecycle: CreateStream, DeleteStream, DescribeStream(Summary), ListStreams, status
//! transitions, the SDK waiters, and retention changes.

use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::client::Waiters;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::{
    EncryptionType, ShardIteratorType, StreamMode, StreamModeDetails, StreamStatus,
};

use super::common::*;

fn three_shard_ranges() -> [(&'static str, &'static str); 3] {
    [
        ("0", "113427455640312821154458202477256070484"),
        (
            "113427455640312821154458202477256070485",
            "226854911280625642308916404954512140969",
        ),
        (
            "226854911280625642308916404954512140970",
            "340282366920938463463374607431768211455",
        ),
    ]
}

/// A loose sanity window for server-generated timestamps: the server runs in this process,
/// so its clock is ours; the slack only absorbs rounding, not speed.
fn assert_recent(ts: &DateTime, before: SystemTime) {
    let lo = DateTime::from(before - Duration::from_secs(5)).secs();
    let hi = DateTime::from(SystemTime::now() + Duration::from_secs(5)).secs();
    assert!(
        lo <= ts.secs() && ts.secs() <= hi,
        "timestamp {ts} is not around now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_stream_with_shard_count_describes_exactly_as_aws() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = SystemTime::now();
    create_active_stream(&client, "lc-three", 3).await;

    let out = client
        .describe_stream()
        .stream_name("lc-three")
        .send()
        .await
        .expect("describe");
    let d = out.stream_description().expect("StreamDescription");
    assert_eq!(d.stream_name(), "lc-three");
    assert_eq!(
        d.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/lc-three"
    );
    assert_eq!(d.stream_status(), &StreamStatus::Active);
    assert_eq!(
        d.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::Provisioned)
    );
    assert_eq!(d.retention_period_hours(), 24);
    assert!(!d.has_more_shards());
    assert_eq!(d.encryption_type(), Some(&EncryptionType::None));
    assert_eq!(d.key_id(), None);
    assert_eq!(
        d.enhanced_monitoring().len(),
        1,
        "EnhancedMonitoring: [{{ShardLevelMetrics: []}}]"
    );
    assert!(d.enhanced_monitoring()[0].shard_level_metrics().is_empty());
    assert_recent(d.stream_creation_timestamp(), before);

    assert_eq!(
        ids(d.shards()),
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    for (shard, (lo, hi)) in d.shards().iter().zip(three_shard_ranges()) {
        let range = shard.hash_key_range().expect("HashKeyRange");
        assert_eq!(range.starting_hash_key(), lo, "{}", shard.shard_id());
        assert_eq!(range.ending_hash_key(), hi, "{}", shard.shard_id());
        let seqs = shard.sequence_number_range().expect("SequenceNumberRange");
        assert_seq_shape(seqs.starting_sequence_number());
        assert_eq!(
            seqs.ending_sequence_number(),
            None,
            "open shards have no ending sequence"
        );
        assert_eq!(shard.parent_shard_id(), None);
        assert_eq!(shard.adjacent_parent_shard_id(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_stream_without_shard_count_makes_four_shards() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_stream()
        .stream_name("lc-default")
        .send()
        .await
        .expect("create");
    wait_for_active(&client, "lc-default").await;

    let shards = list_all_shards(&client, "lc-default").await;
    assert_eq!(ids(&shards), (0..4).map(shard_id).collect::<Vec<_>>());
    let summary = client
        .describe_stream_summary()
        .stream_name("lc-default")
        .send()
        .await;
    let summary = summary.expect("summary");
    let s = summary.stream_description_summary().expect("summary");
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::Provisioned)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_stream_starts_with_four_shards_in_on_demand_mode() {
    let server = TestServer::start().await;
    let client = server.client();
    let mode = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .expect("mode");
    client
        .create_stream()
        .stream_name("lc-on-demand")
        .stream_mode_details(mode)
        .send()
        .await
        .expect("create on-demand");
    wait_for_active(&client, "lc-on-demand").await;

    let out = client
        .describe_stream_summary()
        .stream_name("lc-on-demand")
        .send()
        .await;
    let out = out.expect("summary");
    let s = out.stream_description_summary().expect("summary");
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::OnDemand)
    );
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        initial_hash_ranges(4).len(),
        list_all_shards(&client, "lc-on-demand").await.len()
    );

    // An on-demand stream takes writes like any other.
    let out = put(&client, "lc-on-demand", "k", b"v").await;
    assert_eq!(out.shard_id(), expected_shard("k", 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_stream_is_resource_in_use() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lc-dup", 1).await;
    let again = client
        .create_stream()
        .stream_name("lc-dup")
        .shard_count(2)
        .send()
        .await;
    assert_error(
        again,
        "ResourceInUseException",
        "Stream lc-dup under account 000000000000 already exists.",
    );
    // The original is untouched.
    assert_eq!(list_all_shards(&client, "lc-dup").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_stream_is_gone_from_describe_and_list() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lc-del", 2).await;
    create_active_stream(&client, "lc-keep", 1).await;
    put(&client, "lc-del", "k", b"data").await;

    client
        .delete_stream()
        .stream_name("lc-del")
        .send()
        .await
        .expect("delete");
    wait_for_gone(&client, "lc-del").await;

    let d = client.describe_stream().stream_name("lc-del").send().await;
    assert_error(d, "ResourceNotFoundException", &stream_not_found("lc-del"));
    let p = client
        .put_record()
        .stream_name("lc-del")
        .partition_key("k")
        .data(b"x".to_vec().into())
        .send()
        .await;
    assert_error(p, "ResourceNotFoundException", &stream_not_found("lc-del"));
    let list = client.list_streams().send().await.expect("list");
    assert_eq!(list.stream_names(), ["lc-keep"]);

    // The name can be used again, and the new stream starts empty.
    create_active_stream(&client, "lc-del", 1).await;
    let it = iterator(
        &client,
        "lc-del",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let out = get_records(&client, &it, None).await;
    assert!(
        out.records().is_empty(),
        "recreated stream has old data: {:?}",
        out.records()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_stream_accepts_enforce_consumer_deletion() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lc-enforce", 1).await;
    client
        .delete_stream()
        .stream_name("lc-enforce")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete with EnforceConsumerDeletion");
    wait_for_gone(&client, "lc-enforce").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_missing_stream_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let r = client.delete_stream().stream_name("nope").send().await;
    assert_error(r, "ResourceNotFoundException", &stream_not_found("nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_missing_stream_are_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let nf = stream_not_found("nope");

    let r = client.describe_stream().stream_name("nope").send().await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client
        .describe_stream_summary()
        .stream_name("nope")
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client.list_shards().stream_name("nope").send().await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client
        .put_record()
        .stream_name("nope")
        .partition_key("k")
        .data(b"x".to_vec().into())
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client
        .put_records()
        .stream_name("nope")
        .records(entry("k", b"x"))
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client
        .increase_stream_retention_period()
        .stream_name("nope")
        .retention_period_hours(48)
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &nf);
    let r = client
        .decrease_stream_retention_period()
        .stream_name("nope")
        .retention_period_hours(24)
        .send()
        .await;
    assert_error(r, "ResourceNotFoundException", &nf);
    // GetShardIterator on a missing stream answers with the shard wording (reference §3.4).
    let r = client
        .get_shard_iterator()
        .stream_name("nope")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        "Shard shardId-000000000000 in stream nope under account 000000000000 does not exist",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_stream_summary_reports_counts_and_identity() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = SystemTime::now();
    create_active_stream(&client, "lc-summary", 2).await;
    let out = client
        .describe_stream_summary()
        .stream_name("lc-summary")
        .send()
        .await;
    let out = out.expect("summary");
    let s = out
        .stream_description_summary()
        .expect("StreamDescriptionSummary");
    assert_eq!(s.stream_name(), "lc-summary");
    assert_eq!(s.stream_arn(), server.stream_arn("lc-summary"));
    assert_eq!(s.stream_status(), &StreamStatus::Active);
    assert_eq!(s.open_shard_count(), 2);
    assert_eq!(s.consumer_count(), Some(0));
    assert_eq!(s.retention_period_hours(), 24);
    assert_eq!(s.encryption_type(), Some(&EncryptionType::None));
    assert_eq!(
        s.stream_id(),
        None,
        "StreamId is reserved and never emitted"
    );
    assert_eq!(s.enhanced_monitoring().len(), 1);
    assert!(s.enhanced_monitoring()[0].shard_level_metrics().is_empty());
    assert_recent(s.stream_creation_timestamp(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_moves_from_creating_to_active_to_deleting_to_gone() {
    // Long delays so each intermediate status is certainly observable.
    let server = TestServer::start_with(|c| {
        c.kinesis.create_delay = Duration::from_secs(3);
        c.kinesis.delete_delay = Duration::from_secs(3);
    })
    .await;
    let client = server.client();
    client
        .create_stream()
        .stream_name("lc-status")
        .shard_count(1)
        .send()
        .await
        .expect("create");

    let s = client
        .describe_stream_summary()
        .stream_name("lc-status")
        .send()
        .await;
    let s = s.expect("summary while creating");
    let status = s
        .stream_description_summary()
        .expect("summary")
        .stream_status()
        .clone();
    assert_eq!(status, StreamStatus::Creating);
    // AWS describes no shards until the stream is ACTIVE.
    let d = client
        .describe_stream()
        .stream_name("lc-status")
        .send()
        .await
        .expect("describe while creating");
    let d = d.stream_description().expect("description");
    assert_eq!(d.stream_status(), &StreamStatus::Creating);
    assert!(d.shards().is_empty(), "{:?}", d.shards());
    assert!(!d.has_more_shards());
    let list = client
        .list_streams()
        .send()
        .await
        .expect("list while creating");
    assert_eq!(list.stream_names(), ["lc-status"]);
    assert_eq!(
        list.stream_summaries()[0].stream_status(),
        &StreamStatus::Creating
    );

    // Control operations need an ACTIVE stream (reference §6 "not ACTIVE").
    let r = client
        .increase_stream_retention_period()
        .stream_name("lc-status")
        .retention_period_hours(48)
        .send()
        .await;
    assert_error(
        r,
        "ResourceInUseException",
        "Stream lc-status under account 000000000000 not ACTIVE, instead in state CREATING",
    );

    wait_for_active(&client, "lc-status").await;
    let d = client
        .describe_stream()
        .stream_name("lc-status")
        .send()
        .await
        .expect("describe when active");
    assert_eq!(
        d.stream_description().expect("description").shards().len(),
        1
    );
    client
        .delete_stream()
        .stream_name("lc-status")
        .send()
        .await
        .expect("delete");
    let s = client
        .describe_stream()
        .stream_name("lc-status")
        .send()
        .await;
    let s = s.expect("describe while deleting");
    assert_eq!(
        s.stream_description().expect("description").stream_status(),
        &StreamStatus::Deleting
    );
    wait_for_gone(&client, "lc-status").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_waiter_stream_exists_returns_once_active() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_stream()
        .stream_name("lc-wait-exists")
        .shard_count(1)
        .send()
        .await
        .expect("create");
    // The SDK waiter polls DescribeStream every 10 s or more; 3 minutes is its AWS budget.
    let out = client
        .wait_until_stream_exists()
        .stream_name("lc-wait-exists")
        .wait(Duration::from_secs(180))
        .await
        .expect("waiter succeeds");
    let d = out.into_result().expect("final DescribeStream succeeded");
    assert_eq!(
        d.stream_description().expect("description").stream_status(),
        &StreamStatus::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_waiter_stream_not_exists_returns_once_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lc-wait-gone", 1).await;
    client
        .delete_stream()
        .stream_name("lc-wait-gone")
        .send()
        .await
        .expect("delete");
    client
        .wait_until_stream_not_exists()
        .stream_name("lc-wait-gone")
        .wait(Duration::from_secs(180))
        .await
        .expect("waiter succeeds");
    let r = client
        .describe_stream()
        .stream_name("lc-wait-gone")
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        &stream_not_found("lc-wait-gone"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_streams_pages_with_limit_and_next_token() {
    let server = TestServer::start().await;
    let client = server.client();
    let names = ["ls-a", "ls-b", "ls-c", "ls-d", "ls-e"];
    for n in names {
        create_active_stream(&client, n, 1).await;
    }

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = client
            .list_streams()
            .limit(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListStreams page");
        pages += 1;
        assert!(
            out.stream_names().len() <= 2,
            "page over Limit: {:?}",
            out.stream_names()
        );
        assert_eq!(out.stream_summaries().len(), out.stream_names().len());
        for (name, summary) in out.stream_names().iter().zip(out.stream_summaries()) {
            assert_eq!(summary.stream_name(), name);
            assert_eq!(summary.stream_arn(), server.stream_arn(name));
            assert_eq!(summary.stream_status(), &StreamStatus::Active);
            assert_eq!(
                summary
                    .stream_mode_details()
                    .map(|m| m.stream_mode().clone()),
                Some(StreamMode::Provisioned)
            );
            assert!(summary.stream_creation_timestamp().is_some());
        }
        seen.extend(out.stream_names().iter().cloned());
        if out.has_more_streams() {
            // boto3 silently stops when HasMoreStreams is true without a NextToken.
            let t = out
                .next_token()
                .expect("HasMoreStreams comes with a NextToken");
            token = Some(t.to_owned());
        } else {
            break;
        }
        assert!(pages < 10, "ListStreams does not terminate");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names, "every stream once, in name order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_streams_paginator_collects_every_stream() {
    let server = TestServer::start().await;
    let client = server.client();
    let names = ["lp-1", "lp-2", "lp-3"];
    for n in names {
        create_active_stream(&client, n, 1).await;
    }
    let pages: Vec<_> = client
        .list_streams()
        .limit(1)
        .into_paginator()
        .send()
        .collect()
        .await;
    let mut seen = Vec::new();
    for page in pages {
        let page = page.expect("page");
        seen.extend(page.stream_names().iter().cloned());
    }
    assert_eq!(seen, names);

    // Without a Limit everything fits in one page.
    let out = client.list_streams().send().await.expect("list");
    assert_eq!(out.stream_names(), names);
    assert!(!out.has_more_streams());
    assert_eq!(out.next_token(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_streams_starts_after_exclusive_start_stream_name() {
    let server = TestServer::start().await;
    let client = server.client();
    for n in ["ex-a", "ex-b", "ex-c"] {
        create_active_stream(&client, n, 1).await;
    }
    let out = client
        .list_streams()
        .exclusive_start_stream_name("ex-a")
        .send()
        .await;
    assert_eq!(out.expect("list").stream_names(), ["ex-b", "ex-c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_period_increases_and_decreases() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "ret-ok", 1).await;
    let retention =
        |out: aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryOutput| {
            out.stream_description_summary()
                .expect("summary")
                .retention_period_hours()
        };

    client
        .increase_stream_retention_period()
        .stream_name("ret-ok")
        .retention_period_hours(200)
        .send()
        .await
        .expect("increase");
    let out = client
        .describe_stream_summary()
        .stream_name("ret-ok")
        .send()
        .await;
    assert_eq!(retention(out.expect("summary")), 200);

    client
        .decrease_stream_retention_period()
        .stream_name("ret-ok")
        .retention_period_hours(48)
        .send()
        .await
        .expect("decrease");
    let out = client
        .describe_stream_summary()
        .stream_name("ret-ok")
        .send()
        .await;
    assert_eq!(retention(out.expect("summary")), 48);
    let d = client
        .describe_stream()
        .stream_name("ret-ok")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.stream_description()
            .expect("description")
            .retention_period_hours(),
        48
    );

    // The bounds themselves are accepted.
    client
        .increase_stream_retention_period()
        .stream_name("ret-ok")
        .retention_period_hours(8760)
        .send()
        .await
        .expect("increase to the 8760-hour maximum");
    let out = client
        .describe_stream_summary()
        .stream_name("ret-ok")
        .send()
        .await;
    assert_eq!(retention(out.expect("summary")), 8760);
    client
        .decrease_stream_retention_period()
        .stream_name("ret-ok")
        .retention_period_hours(24)
        .send()
        .await
        .expect("decrease to the 24-hour minimum");
    let out = client
        .describe_stream_summary()
        .stream_name("ret-ok")
        .send()
        .await;
    assert_eq!(retention(out.expect("summary")), 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_changes_outside_the_rules_are_invalid_arguments() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "ret-bad", 1).await;
    client
        .increase_stream_retention_period()
        .stream_name("ret-bad")
        .retention_period_hours(48)
        .send()
        .await
        .expect("increase to 48");

    let inc = |h: i32| {
        client
            .increase_stream_retention_period()
            .stream_name("ret-bad")
            .retention_period_hours(h)
    };
    let dec = |h: i32| {
        client
            .decrease_stream_retention_period()
            .stream_name("ret-bad")
            .retention_period_hours(h)
    };
    let ia = "InvalidArgumentException";

    assert_error(
        inc(10).send().await,
        ia,
        "Minimum allowed retention period is 24 hours. Requested retention period (10 hours) is \
         too short.",
    );
    assert_error(
        inc(8761).send().await,
        ia,
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) \
         is too long.",
    );
    assert_error(
        inc(30).send().await,
        ia,
        "Requested retention period (30 hours) for stream ret-bad can not be shorter than \
         existing retention period (48 hours). Use DecreaseRetentionPeriod API.",
    );
    assert_error(
        dec(10).send().await,
        ia,
        "Minimum allowed retention period is 24 hours. Requested retention period (10 hours) is \
         too short.",
    );
    assert_error(
        dec(100).send().await,
        ia,
        "Requested retention period (100 hours) for stream ret-bad can not be longer than \
         existing retention period (48 hours). Use IncreaseRetentionPeriod API.",
    );

    // Nothing changed.
    let out = client
        .describe_stream_summary()
        .stream_name("ret-bad")
        .send()
        .await;
    let out = out.expect("summary");
    assert_eq!(
        out.stream_description_summary()
            .expect("summary")
            .retention_period_hours(),
        48
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iterator_never_reads_a_recreated_stream_of_the_same_name() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lc-reborn", 1).await;
    put(&client, "lc-reborn", "k", b"old").await;
    let old_it = iterator(
        &client,
        "lc-reborn",
        &shard_id(0),
        ShardIteratorType::Latest,
        None,
    )
    .await;
    client
        .delete_stream()
        .stream_name("lc-reborn")
        .send()
        .await
        .expect("delete");
    wait_for_gone(&client, "lc-reborn").await;

    // The stream is gone: its iterator cannot read.
    let r = client.get_records().shard_iterator(&old_it).send().await;
    let e = expect_err(r);
    assert_eq!(
        e.code.as_deref(),
        Some("ResourceNotFoundException"),
        "{e:?}"
    );

    // Same name, new stream, new data: the old iterator must not reach it.
    create_active_stream(&client, "lc-reborn", 1).await;
    put(&client, "lc-reborn", "k", b"new").await;
    match client.get_records().shard_iterator(&old_it).send().await {
        Ok(out) => assert!(
            out.records().is_empty(),
            "an iterator of the deleted stream read the new one: {:?}",
            out.records()
        ),
        Err(e) => {
            let code = aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
            assert_eq!(code.as_deref(), Some("ResourceNotFoundException"), "{e:?}");
        }
    }
}
