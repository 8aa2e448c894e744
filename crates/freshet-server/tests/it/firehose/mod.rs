// SPDX-License-Identifier: Apache-2.0
//! Firehose conformance tests: the official `aws-sdk-firehose` client against an in-process
//! server whose delivery goes to an in-memory sink (`MemorySink`), time driven by a
//! `ManualClock` where buffering is under test.

mod delivery;
mod kinesis;
mod streams;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_firehose::Client;
use aws_sdk_firehose::config::retry::RetryConfig;
use aws_sdk_firehose::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_firehose::types::{
    BufferingHints, DeliveryStreamStatus, ExtendedS3DestinationConfiguration,
};
use freshet_firehose::sinks::MemorySink;
use freshet_testkit::TestServer;

pub use super::common::{assert_code, assert_error};

pub const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";
pub const BUCKET: &str = "arn:aws:s3:::bucket";

/// An official Firehose client pointed at `server`.
pub fn client(server: &TestServer) -> Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    Client::from_conf(config)
}

/// A server with fast status transitions and an in-memory sink.
pub async fn server() -> (TestServer, Arc<MemorySink>) {
    let server = TestServer::start_with(fast).await;
    let sink = Arc::new(MemorySink::new());
    server.server().firehose().set_sink(sink.clone());
    (server, sink)
}

pub fn fast(c: &mut freshet_server::Config) {
    c.firehose.create_delay = Duration::from_millis(20);
    c.firehose.delete_delay = Duration::from_millis(20);
}

/// An ExtendedS3 destination into [`BUCKET`] under `prefix`.
pub fn s3(prefix: &str, size_mb: i32, interval_s: i32) -> ExtendedS3DestinationConfiguration {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(BUCKET)
        .prefix(prefix)
        .buffering_hints(
            BufferingHints::builder()
                .size_in_mbs(size_mb)
                .interval_in_seconds(interval_s)
                .build(),
        )
        .build()
        .expect("destination")
}

/// Creates a DirectPut stream into [`BUCKET`] and waits until it is ACTIVE.
pub async fn create_active(c: &Client, name: &str, dest: ExtendedS3DestinationConfiguration) {
    c.create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(dest)
        .send()
        .await
        .expect("create");
    wait_active(c, name).await;
}

pub async fn wait_active(c: &Client, name: &str) {
    for _ in 0..500 {
        let d = c
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .expect("describe");
        if d.delivery_stream_description()
            .map(|d| d.delivery_stream_status())
            == Some(&DeliveryStreamStatus::Active)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name} never became ACTIVE");
}
