// SPDX-License-Identifier: Apache-2.0
//! The services' AWS metrics reach CloudWatch's store through the collector: puts over the
//! SDK, then the store (read directly until GetMetricStatistics is on main) shows the sums.

use std::time::Duration;

use aws_sdk_kinesis::types::MetricsName;
use freshet_cloudwatch::store::Query;
use freshet_metrics::MetricKey;

use super::common::*;

/// The Sum and SampleCount of `key` over the hour around now, polling until `done` holds
/// (the collector drains about once a second; no timing is asserted).
async fn sum_until(
    server: &TestServer,
    key: &MetricKey,
    done: impl Fn(f64) -> bool,
) -> Option<f64> {
    let store = &server.server().cloudwatch().store;
    let mut last = None;
    for _ in 0..300 {
        let now = store.clock().now_ms();
        let q = Query {
            key,
            start_ms: now - 1_800_000,
            end_ms: now + 1_800_000,
            period_s: 3600,
            unit: None,
        };
        let points = store.query(&q).await.expect("query");
        last = points.first().map(|(_, dp)| dp.stats.sum);
        if last.is_some_and(&done) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last
}

fn kinesis(name: &str, dims: &[(&str, &str)]) -> MetricKey {
    MetricKey::new("AWS/Kinesis", name, dims.iter().copied())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_sums_reach_the_metric_store() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "metered", 2).await;
    let entries: Vec<_> = (0..25)
        .map(|i| entry(&format!("k{i:02}"), &[b'x'; 100]))
        .collect();
    client
        .put_records()
        .stream_name("metered")
        .set_records(Some(entries))
        .send()
        .await
        .expect("put");
    // 25 records of 100 data bytes and a 3-byte key.
    let dims = [("StreamName", "metered")];
    let records = sum_until(&server, &kinesis("IncomingRecords", &dims), |s| s >= 25.0).await;
    assert_eq!(records, Some(25.0));
    let bytes = sum_until(&server, &kinesis("IncomingBytes", &dims), |s| s >= 2575.0).await;
    assert_eq!(bytes, Some(2575.0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enhanced_monitoring_turns_shard_level_metrics_on() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "shardwise", 1).await;
    client
        .enable_enhanced_monitoring()
        .stream_name("shardwise")
        .shard_level_metrics(MetricsName::IncomingRecords)
        .send()
        .await
        .expect("enable");
    put(&client, "shardwise", "k", b"abc").await;
    let dims = [
        ("StreamName", "shardwise"),
        ("ShardId", "shardId-000000000000"),
    ];
    let got = sum_until(&server, &kinesis("IncomingRecords", &dims), |s| s >= 1.0).await;
    assert_eq!(got, Some(1.0));
    let bytes = kinesis("IncomingBytes", &dims);
    let store = &server.server().cloudwatch().store;
    let listed = store.list(&Default::default(), None, 1000);
    assert!(
        !listed.iter().any(|k| **k == bytes),
        "metrics not enabled are not published"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_metrics_off_nothing_is_collected() {
    let server = TestServer::start_with(|c| c.cloudwatch.metrics = false).await;
    let client = server.client();
    create_active_stream(&client, "quiet", 1).await;
    put(&client, "quiet", "k", b"abc").await;
    assert!(!server.server().cloudwatch().recorder.enabled());
    let store = &server.server().cloudwatch().store;
    assert!(store.list(&Default::default(), None, 10).is_empty());
    server.stop().await;
}
