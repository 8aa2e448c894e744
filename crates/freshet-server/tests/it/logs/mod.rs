// SPDX-License-Identifier: Apache-2.0
//! CloudWatch Logs conformance tests: the official `aws-sdk-cloudwatchlogs` client (and raw
//! HTTP for wire-level checks) against an in-process server. Expected texts are AWS's, from
//! AWS-validated snapshots where known (see `crates/freshet-logs/src/error.rs`).

mod events;
mod filter;
mod groups;
mod insights;
mod metric_filters;
mod restart;
mod retention;
mod streams;
mod subscriptions;
mod tags;
mod wire;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
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

// Service errors as the SDK saw them: the helpers every conformance module shares.
pub use super::common::{assert_code, assert_error};

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
