// SPDX-License-Identifier: Apache-2.0
//! A restart keeps groups, streams, their statistics, events, tags, retention and filters.

use super::*;

#[tokio::test]
async fn a_restart_keeps_everything() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_log_group()
        .log_group_name("g")
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    create_stream(&c, "g", "s").await;
    c.put_retention_policy()
        .log_group_name("g")
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    c.put_metric_filter()
        .log_group_name("g")
        .filter_name("f")
        .filter_pattern("ERROR")
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("E")
                .metric_namespace("N")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let t = now_ms();
    put(&c, "g", "s", &[(t - 5, "one"), (t, "ERROR two")]).await;
    let streams_before = c
        .describe_log_streams()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let events_before = c
        .filter_log_events()
        .log_group_name("g")
        .send()
        .await
        .unwrap();

    let server = server.restart().await;
    let c = client(&server);
    let streams_after = c
        .describe_log_streams()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(streams_after.log_streams(), streams_before.log_streams());
    let events_after = c
        .filter_log_events()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(events_after.events(), events_before.events());
    let g = c.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(30));
    assert_eq!(g.log_groups()[0].metric_filter_count(), Some(1));
    let tags = c
        .list_tags_for_resource()
        .resource_arn("arn:aws:logs:us-east-1:000000000000:log-group:g")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().and_then(|t| t.get("k")).map(String::as_str),
        Some("v")
    );
    // And the server keeps writing after the events it recovered.
    put(&c, "g", "s", &[(t + 1, "three")]).await;
    let page = c
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let msgs: Vec<&str> = page.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(msgs, ["one", "ERROR two", "three"]);
}
