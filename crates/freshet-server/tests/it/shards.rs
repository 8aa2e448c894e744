// SPDX-License-Identifier: Apache-2.0
//! Shard listing: DescribeStream pagination and ListShards (MaxResults, NextToken,
//! ExclusiveStartShardId, ShardFilter).

use aws_sdk_kinesis::types::{ShardFilter, ShardFilterType};

use super::common::*;

fn filter(kind: ShardFilterType, shard: Option<&str>) -> ShardFilter {
    ShardFilter::builder()
        .r#type(kind)
        .set_shard_id(shard.map(str::to_owned))
        .build()
        .expect("ShardFilter has its Type")
}

fn all_ids(n: u32) -> Vec<String> {
    (0..n).map(shard_id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_stream_pages_shards_with_limit_and_exclusive_start_shard_id() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "ds-pages", 5).await;

    let page = |start: Option<&str>| {
        client
            .describe_stream()
            .stream_name("ds-pages")
            .limit(2)
            .set_exclusive_start_shard_id(start.map(str::to_owned))
            .send()
    };
    let p1 = page(None).await.expect("page 1");
    let d1 = p1.stream_description().expect("description");
    assert_eq!(ids(d1.shards()), [shard_id(0), shard_id(1)]);
    assert!(d1.has_more_shards());

    let p2 = page(Some("shardId-000000000001")).await.expect("page 2");
    let d2 = p2.stream_description().expect("description");
    assert_eq!(ids(d2.shards()), [shard_id(2), shard_id(3)]);
    assert!(d2.has_more_shards());

    let p3 = page(Some("shardId-000000000003")).await.expect("page 3");
    let d3 = p3.stream_description().expect("description");
    assert_eq!(ids(d3.shards()), [shard_id(4)]);
    assert!(!d3.has_more_shards());

    // Past the last shard: an empty page.
    let p4 = page(Some("shardId-000000000004")).await.expect("page 4");
    let d4 = p4.stream_description().expect("description");
    assert!(d4.shards().is_empty());
    assert!(!d4.has_more_shards());

    // No Limit: all five (the default page is 100).
    let all = client
        .describe_stream()
        .stream_name("ds-pages")
        .send()
        .await
        .expect("all");
    let d = all.stream_description().expect("description");
    assert_eq!(ids(d.shards()), all_ids(5));
    assert!(!d.has_more_shards());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_returns_every_shard_with_its_hash_range() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-all", 7).await;
    let out = client
        .list_shards()
        .stream_name("lsh-all")
        .send()
        .await
        .expect("list");
    assert_eq!(
        out.next_token(),
        None,
        "everything fits in the default page of 1000"
    );
    assert_eq!(ids(out.shards()), all_ids(7));
    for (shard, (lo, hi)) in out.shards().iter().zip(initial_hash_ranges(7)) {
        let r = shard.hash_key_range().expect("HashKeyRange");
        assert_eq!(
            r.starting_hash_key(),
            lo.to_string(),
            "{}",
            shard.shard_id()
        );
        assert_eq!(r.ending_hash_key(), hi.to_string(), "{}", shard.shard_id());
        let s = shard.sequence_number_range().expect("SequenceNumberRange");
        assert_seq_shape(s.starting_sequence_number());
        assert_eq!(s.ending_sequence_number(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_pages_with_max_results_and_next_token() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-pages", 5).await;

    let p1 = client
        .list_shards()
        .stream_name("lsh-pages")
        .max_results(2)
        .send()
        .await;
    let p1 = p1.expect("page 1");
    assert_eq!(ids(p1.shards()), [shard_id(0), shard_id(1)]);
    let t1 = p1.next_token().expect("more shards → NextToken");

    // Follow-up pages carry only the token (and MaxResults), as AWS requires.
    let p2 = client
        .list_shards()
        .next_token(t1)
        .max_results(2)
        .send()
        .await
        .expect("page 2");
    assert_eq!(ids(p2.shards()), [shard_id(2), shard_id(3)]);
    let t2 = p2.next_token().expect("more shards → NextToken");

    let p3 = client
        .list_shards()
        .next_token(t2)
        .max_results(2)
        .send()
        .await
        .expect("page 3");
    assert_eq!(ids(p3.shards()), [shard_id(4)]);
    assert_eq!(p3.next_token(), None, "last page has no NextToken");

    // The helper that follows tokens sees every shard exactly once.
    assert_eq!(
        ids(&list_all_shards(&client, "lsh-pages").await),
        all_ids(5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_starts_after_exclusive_start_shard_id() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-start", 5).await;
    let out = client
        .list_shards()
        .stream_name("lsh-start")
        .exclusive_start_shard_id("shardId-000000000001")
        .send()
        .await
        .expect("list");
    assert_eq!(ids(out.shards()), [shard_id(2), shard_id(3), shard_id(4)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_honours_shard_filters() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-filter", 5).await;
    let with = |f: ShardFilter| {
        client
            .list_shards()
            .stream_name("lsh-filter")
            .shard_filter(f)
            .send()
    };

    // Every shard is open, so AT_LATEST (what KCL 2.x asks) and FROM_TRIM_HORIZON list all.
    let out = with(filter(ShardFilterType::AtLatest, None))
        .await
        .expect("AT_LATEST");
    assert_eq!(ids(out.shards()), all_ids(5));
    let out = with(filter(ShardFilterType::FromTrimHorizon, None))
        .await
        .expect("FROM_TRIM_HORIZON");
    assert_eq!(ids(out.shards()), all_ids(5));
    let out = with(filter(ShardFilterType::AtTrimHorizon, None))
        .await
        .expect("AT_TRIM_HORIZON");
    assert_eq!(ids(out.shards()), all_ids(5));

    let out = with(filter(
        ShardFilterType::AfterShardId,
        Some("shardId-000000000002"),
    ))
    .await
    .expect("AFTER_SHARD_ID");
    assert_eq!(ids(out.shards()), [shard_id(3), shard_id(4)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_rejects_next_token_with_shard_filter() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-tf", 3).await;
    let p1 = client
        .list_shards()
        .stream_name("lsh-tf")
        .max_results(1)
        .send()
        .await;
    let p1 = p1.expect("page 1");
    let token = p1.next_token().expect("NextToken");

    let r = client
        .list_shards()
        .next_token(token)
        .shard_filter(filter(ShardFilterType::AtLatest, None))
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "NextToken and ShardFilter cannot be provided together.",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_rejects_next_token_with_stream_name() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-tn", 3).await;
    let p1 = client
        .list_shards()
        .stream_name("lsh-tn")
        .max_results(1)
        .send()
        .await;
    let p1 = p1.expect("page 1");
    let token = p1.next_token().expect("NextToken");

    let r = client
        .list_shards()
        .stream_name("lsh-tn")
        .next_token(token)
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shards_rejects_a_forged_next_token() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "lsh-forged", 1).await;
    let r = client
        .list_shards()
        .next_token("this-is-not-a-token")
        .send()
        .await;
    // AWS's text for a garbage token is not recorded; the code is.
    let e = expect_err(r);
    assert_eq!(e.status, Some(400), "{e:?}");
    assert!(
        matches!(
            e.code.as_deref(),
            Some("InvalidArgumentException" | "ExpiredNextTokenException")
        ),
        "forged NextToken must be rejected as an argument error: {e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_stream_returns_at_most_100_shards_per_call() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "ds-cap", 105).await;
    // Default Limit is 100; a larger Limit is capped at 100 (the model allows up to 10000).
    for limit in [None, Some(1000)] {
        let out = client
            .describe_stream()
            .stream_name("ds-cap")
            .set_limit(limit)
            .send()
            .await
            .expect("describe");
        let d = out.stream_description().expect("description");
        assert_eq!(ids(d.shards()), all_ids(100), "Limit {limit:?}");
        assert!(d.has_more_shards());
    }
    let out = client
        .describe_stream()
        .stream_name("ds-cap")
        .exclusive_start_shard_id(shard_id(99))
        .send()
        .await
        .expect("second page");
    let d = out.stream_description().expect("description");
    assert_eq!(
        ids(d.shards()),
        (100..105).map(shard_id).collect::<Vec<_>>()
    );
    assert!(!d.has_more_shards());
    // ListShards has no such cap below 1000.
    let out = client
        .list_shards()
        .stream_name("ds-cap")
        .send()
        .await
        .expect("list");
    assert_eq!(out.shards().len(), 105);
    assert_eq!(out.next_token(), None);
}
