// SPDX-License-Identifier: Apache-2.0
//! Every stream-scoped call addressed by StreamARN instead of StreamName (what KCL ≥ 2.5,
//! Lambda and the CLI's `--stream-arn` send), and by both at once (what KPL sends).

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_call_works_by_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "arn-all", 2).await;
    let arn = server.stream_arn("arn-all");

    let d = client
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .expect("DescribeStream");
    let d = d.stream_description().expect("description");
    assert_eq!(d.stream_name(), "arn-all");
    assert_eq!(d.stream_arn(), arn);
    assert_eq!(d.shards().len(), 2);

    let s = client
        .describe_stream_summary()
        .stream_arn(&arn)
        .send()
        .await
        .expect("summary");
    let s = s.stream_description_summary().expect("summary");
    assert_eq!(s.stream_name(), "arn-all");
    assert_eq!(s.stream_status(), &StreamStatus::Active);

    let shards = client
        .list_shards()
        .stream_arn(&arn)
        .send()
        .await
        .expect("ListShards");
    assert_eq!(ids(shards.shards()), [shard_id(0), shard_id(1)]);

    let one = client
        .put_record()
        .stream_arn(&arn)
        .partition_key("a")
        .data(Blob::new(b"by-arn".to_vec()))
        .send()
        .await
        .expect("PutRecord by ARN");
    assert_eq!(one.shard_id(), expected_shard("a", 2));
    let many = client
        .put_records()
        .stream_arn(&arn)
        .records(entry("a", b"batch-by-arn"))
        .send()
        .await
        .expect("PutRecords by ARN");
    assert_eq!(many.failed_record_count(), Some(0));

    let it = client
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(one.shard_id())
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator by ARN");
    let it = it.shard_iterator().expect("iterator").to_owned();
    let out = client
        .get_records()
        .stream_arn(&arn)
        .shard_iterator(it)
        .send()
        .await
        .expect("GetRecords by ARN");
    assert_eq!(
        datas(out.records()),
        [b"by-arn".to_vec(), b"batch-by-arn".to_vec()]
    );

    client
        .increase_stream_retention_period()
        .stream_arn(&arn)
        .retention_period_hours(72)
        .send()
        .await
        .expect("IncreaseStreamRetentionPeriod by ARN");
    client
        .decrease_stream_retention_period()
        .stream_arn(&arn)
        .retention_period_hours(48)
        .send()
        .await
        .expect("DecreaseStreamRetentionPeriod by ARN");
    let s = client
        .describe_stream_summary()
        .stream_arn(&arn)
        .send()
        .await
        .expect("summary");
    assert_eq!(
        s.stream_description_summary()
            .expect("summary")
            .retention_period_hours(),
        48
    );

    client
        .delete_stream()
        .stream_arn(&arn)
        .send()
        .await
        .expect("DeleteStream by ARN");
    wait_for_gone(&client, "arn-all").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_arn_together_are_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "arn-both", 1).await;
    let arn = server.stream_arn("arn-both");
    let out = client
        .list_shards()
        .stream_name("arn-both")
        .stream_arn(&arn)
        .send()
        .await
        .expect("ListShards with name and ARN (as KPL sends)");
    assert_eq!(ids(out.shards()), [shard_id(0)]);
    let out = client
        .put_record()
        .stream_name("arn-both")
        .stream_arn(&arn)
        .partition_key("k")
        .data(Blob::new(b"v".to_vec()))
        .send()
        .await
        .expect("PutRecord with name and ARN");
    assert_eq!(out.shard_id(), shard_id(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_arn_is_not_found_by_its_stream_name() {
    let server = TestServer::start().await;
    let client = server.client();
    let arn = server.stream_arn("wrong-stream-name");
    // AWS names the stream, not the ARN, even when the ARN was sent (reference §5).
    let r = client
        .describe_stream_summary()
        .stream_arn(&arn)
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        &stream_not_found("wrong-stream-name"),
    );
    let r = client
        .put_record()
        .stream_arn(&arn)
        .partition_key("k")
        .data(Blob::new(b"v".to_vec()))
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        &stream_not_found("wrong-stream-name"),
    );
}
