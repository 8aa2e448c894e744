// SPDX-License-Identifier: Apache-2.0
//! S3 conformance: the official `aws-sdk-s3` client against an in-process server: buckets,
//! objects, listing, copy, multipart, ranges, checksums (the SDK's default aws-chunked
//! uploads with CRC trailers), virtual-host addressing and presigned URLs.

mod objects;

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use freshet_testkit::TestServer;

/// A path-style SDK client for `server`, with no retries so failures show at once.
pub fn client(server: &TestServer) -> Client {
    client_at(&server.endpoint(), true)
}

/// An SDK client for `endpoint`, path or virtual-host style.
pub fn client_at(endpoint: &str, path_style: bool) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDANY", "any", None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(path_style)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    Client::from_conf(config)
}
