// SPDX-License-Identifier: Apache-2.0
//! Log streams: create, describe (prefix, orderBy, descending, pagination), delete.
// `interleaved` and a stream's `storedBytes` are deprecated, but clients still use them.
#![allow(deprecated)]

use aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput;
use aws_sdk_cloudwatchlogs::types::OrderBy;

use super::*;

fn names(out: &DescribeLogStreamsOutput) -> Vec<String> {
    out.log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn streams_are_described_with_their_event_times() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "empty").await;
    create_stream(&c, "g", "busy").await;
    let t = now_ms();
    put(&c, "g", "busy", &[(t - 1000, "a"), (t, "b")]).await;
    let out = c
        .describe_log_streams()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["busy", "empty"]);
    let busy = &out.log_streams()[0];
    assert_eq!(busy.first_event_timestamp(), Some(t - 1000));
    assert_eq!(busy.last_event_timestamp(), Some(t));
    assert!(busy.last_ingestion_time().unwrap() >= t - 60_000);
    assert_eq!(
        busy.stored_bytes(),
        Some(0),
        "always 0 for streams, as AWS reports it"
    );
    assert_eq!(
        busy.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:busy")
    );
    let empty = &out.log_streams()[1];
    assert_eq!(empty.first_event_timestamp(), None);
    assert_eq!(empty.last_ingestion_time(), None);
}

#[tokio::test]
async fn order_by_last_event_time_and_descending() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    let t = now_ms();
    for (name, offset) in [("c", 3), ("a", 1), ("b", 2)] {
        create_stream(&c, "g", name).await;
        put(&c, "g", name, &[(t - 10_000 + offset, "x")]).await;
    }
    let by_time = c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_time), ["c", "b", "a"]);
    let by_name_desc = c
        .describe_log_streams()
        .log_group_name("g")
        .descending(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_name_desc), ["c", "b", "a"]);
    let paged: Vec<String> = c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.log_stream_name)
        .collect();
    assert_eq!(paged, ["a", "b", "c"]);
    assert_error(
        c.describe_log_streams()
            .log_group_name("g")
            .order_by(OrderBy::LastEventTime)
            .log_stream_name_prefix("a")
            .send()
            .await,
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    );
}

#[tokio::test]
async fn prefix_pagination_and_the_group_identifier() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    for i in 0..12 {
        create_stream(&c, "g", &format!("app/{i:02}")).await;
    }
    create_stream(&c, "g", "db").await;
    let got: Vec<String> = c
        .describe_log_streams()
        .log_group_identifier("arn:aws:logs:us-east-1:000000000000:log-group:g")
        .log_stream_name_prefix("app/")
        .limit(5)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.log_stream_name)
        .collect();
    assert_eq!(
        got,
        (0..12).map(|i| format!("app/{i:02}")).collect::<Vec<_>>()
    );
    let by_name = c
        .describe_log_streams()
        .log_group_identifier("g")
        .log_stream_name_prefix("d")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_name), ["db"]);
    assert_error(
        c.describe_log_streams()
            .log_group_name("g")
            .log_group_identifier("g")
            .send()
            .await,
        "ValidationException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    );
    assert_code(
        c.describe_log_streams().send().await,
        "InvalidParameterException",
    );
    assert_error(
        c.describe_log_streams().log_group_name("nope").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn create_and_delete_get_the_aws_errors() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "s").await;
    assert_error(
        c.create_log_stream()
            .log_group_name("g")
            .log_stream_name("s")
            .send()
            .await,
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    );
    assert_error(
        c.create_log_stream()
            .log_group_name("nope")
            .log_stream_name("s")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    assert_error(
        c.create_log_stream()
            .log_group_name("g")
            .log_stream_name("a:b")
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
    );
    c.delete_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    assert_error(
        c.delete_log_stream()
            .log_group_name("g")
            .log_stream_name("s")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
}
