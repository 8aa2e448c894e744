// SPDX-License-Identifier: Apache-2.0
//! CloudWatch Logs conformance tests: the official `aws-sdk-cloudwatchlogs` client (and raw
//! HTTP for wire-level checks) against an in-process server. Expected texts are AWS's, from
//! AWS-validated snapshots where known (see `crates/freshet-logs/src/error.rs`).

mod events;
mod filter;
mod groups;
mod metric_filters;
mod restart;
mod retention;
mod streams;
mod tags;
mod wire;

use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::http::HttpResponse;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use freshet_testkit::TestServer;

pub const TARGET: &str = "Logs_20140328";

/// An official CloudWatch Logs client pointed at `server`.
pub fn client(server: &TestServer) -> Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// What a client saw of a service error.
#[derive(Debug)]
pub struct SeenError {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The service error of a call that must fail.
#[track_caller]
pub fn expect_err<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> SeenError {
    let err = match result {
        Ok(v) => panic!("expected a service error, got success: {v:?}"),
        Err(e) => e,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.into_err();
            SeenError {
                status,
                code: e.code().map(str::to_owned),
                message: e.message().map(str::to_owned),
            }
        }
        other => panic!("expected a service error, got {other:?}"),
    }
}

/// Asserts HTTP 400, this code and exactly this message.
#[track_caller]
pub fn assert_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    let e = expect_err(result);
    assert_eq!(e.code.as_deref(), Some(code), "code; whole error: {e:?}");
    assert_eq!(
        e.message.as_deref(),
        Some(message),
        "message; whole error: {e:?}"
    );
    assert_eq!(e.status, Some(400), "status; whole error: {e:?}");
}

/// Asserts HTTP 400 and this code; returns the message.
#[track_caller]
pub fn assert_code<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
) -> String {
    let e = expect_err(result);
    assert_eq!(e.code.as_deref(), Some(code), "code; whole error: {e:?}");
    assert_eq!(e.status, Some(400), "status; whole error: {e:?}");
    e.message.unwrap_or_default()
}

/// Wall-clock milliseconds (servers here run on the system clock unless a test says).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub async fn create_group(c: &Client, name: &str) {
    c.create_log_group()
        .log_group_name(name)
        .send()
        .await
        .expect("create log group");
}

pub async fn create_stream(c: &Client, group: &str, stream: &str) {
    c.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("create log stream");
}

pub fn event(ts: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(message)
        .build()
        .expect("event")
}

pub async fn put(
    c: &Client,
    group: &str,
    stream: &str,
    events: &[(i64, &str)],
) -> PutLogEventsOutput {
    let mut req = c
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for (ts, m) in events {
        req = req.log_events(event(*ts, m));
    }
    req.send().await.expect("put log events")
}
