// SPDX-License-Identifier: Apache-2.0
//! Put/Describe/DeleteSubscriptionFilter with the official SDK, and delivery to a Kinesis
//! stream read back with the Kinesis SDK.

use std::io::Read as _;

use aws_sdk_cloudwatchlogs::types::Distribution;
use aws_sdk_kinesis::types::ShardIteratorType;
use freshet_testkit::wait_for_active;

use super::*;

fn gunzip(data: &[u8]) -> serde_json::Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(data)
        .read_to_string(&mut s)
        .expect("gzip");
    serde_json::from_str(&s).expect("json")
}

#[tokio::test]
async fn filters_are_put_described_limited_and_deleted() {
    let server = TestServer::start().await;
    let k = server.client();
    k.create_stream()
        .stream_name("sink")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    wait_for_active(&k, "sink").await;
    let arn = server.stream_arn("sink");
    let c = client(&server);
    create_group(&c, "g").await;
    for (name, pattern) in [("b", "ERROR"), ("a", "")] {
        c.put_subscription_filter()
            .log_group_name("g")
            .filter_name(name)
            .filter_pattern(pattern)
            .destination_arn(&arn)
            .distribution(Distribution::Random)
            .send()
            .await
            .unwrap();
    }
    assert_error(
        c.put_subscription_filter()
            .log_group_name("g")
            .filter_name("c")
            .filter_pattern("")
            .destination_arn(&arn)
            .send()
            .await,
        "LimitExceededException",
        "Resource limit exceeded.",
    );
    let out = c
        .describe_subscription_filters()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let filters = out.subscription_filters();
    let names: Vec<&str> = filters.iter().filter_map(|f| f.filter_name()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(filters[1].filter_pattern(), Some("ERROR"));
    assert_eq!(filters[1].destination_arn(), Some(arn.as_str()));
    assert_eq!(filters[1].distribution(), Some(&Distribution::Random));
    assert_eq!(filters[1].log_group_name(), Some("g"));
    assert!(filters[1].creation_time().is_some());
    assert_error(
        c.put_subscription_filter()
            .log_group_name("g")
            .filter_name("a")
            .filter_pattern("")
            .destination_arn(server.stream_arn("nope"))
            .send()
            .await,
        "InvalidParameterException",
        "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.",
    );
    c.delete_subscription_filter()
        .log_group_name("g")
        .filter_name("b")
        .send()
        .await
        .unwrap();
    assert_error(
        c.delete_subscription_filter()
            .log_group_name("g")
            .filter_name("b")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified subscription filter does not exist.",
    );
    assert_error(
        c.describe_subscription_filters()
            .log_group_name("missing")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn matching_events_reach_the_stream_as_gzip_data_messages() {
    let server = TestServer::start().await;
    let k = server.client();
    k.create_stream()
        .stream_name("sink")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    wait_for_active(&k, "sink").await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    c.put_subscription_filter()
        .log_group_name("g")
        .filter_name("errors")
        .filter_pattern("ERROR")
        .destination_arn(server.stream_arn("sink"))
        .send()
        .await
        .unwrap();
    let now = now_ms();
    put(
        &c,
        "g",
        "s",
        &[(now, "ERROR one"), (now, "fine"), (now + 1, "ERROR two")],
    )
    .await;
    let shard = k
        .list_shards()
        .stream_name("sink")
        .send()
        .await
        .unwrap()
        .shards()[0]
        .shard_id()
        .to_owned();
    let mut it = k
        .get_shard_iterator()
        .stream_name("sink")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .map(str::to_owned);
    let mut docs = Vec::new();
    while docs.len() < 2 {
        let out = k
            .get_records()
            .shard_iterator(it.clone().unwrap())
            .send()
            .await
            .unwrap();
        docs.extend(out.records().iter().map(|r| gunzip(r.data().as_ref())));
        it = out.next_shard_iterator().map(str::to_owned);
        if docs.len() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(docs[0]["messageType"], "CONTROL_MESSAGE");
    let data = &docs[1];
    assert_eq!(data["messageType"], "DATA_MESSAGE");
    assert_eq!(data["owner"], "000000000000");
    assert_eq!(data["logGroup"], "g");
    assert_eq!(data["logStream"], "s");
    assert_eq!(data["subscriptionFilters"], serde_json::json!(["errors"]));
    let messages: Vec<&str> = data["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["ERROR one", "ERROR two"]);
}
