// SPDX-License-Identifier: Apache-2.0
//! SQS conformance: the official `aws-sdk-sqs` client (AWS JSON 1.0) against an in-process
//! server, plus raw requests for the wire (error envelopes, the Query protocol). Visibility,
//! delays, retention and deduplication windows are driven by a `ManualClock`, never by
//! sleeping. MD5s are checked against an independent implementation of AWS's algorithm
//! (the Rust SDK does not verify them; the Java, JavaScript, Ruby and .NET SDKs do).

mod control;
mod dlq;
mod errors;
mod fifo;
mod messages;
mod query;
mod restart;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use freshet_testkit::{ManualClock, TestServer};
use md5::{Digest, Md5};

/// The start of every manual clock (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000_000;

/// An SDK client for `server`, with no retries so failures show at once.
pub fn client(server: &TestServer) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
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

/// A server on a manual clock, and the clock.
pub async fn manual_server() -> (TestServer, ManualClock) {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Arc::new(clock.clone()), |_| {}).await;
    (server, clock)
}

/// Creates a queue and returns its URL.
pub async fn create(client: &Client, name: &str, attrs: &[(&str, &str)]) -> String {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(QueueAttributeName::from(*k), *v);
    }
    req.send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

/// MD5 of the UTF-8 body, lower hex.
pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// MD5OfMessageAttributes as AWS documents it (sqs-message-metadata): names sorted; per
/// attribute the name and the DataType (u32 big-endian length + bytes each), a transport
/// byte (1 string/number, 2 binary) and the value (length + bytes).
pub fn md5_of_attributes(attrs: &BTreeMap<String, MessageAttributeValue>) -> Option<String> {
    fn put(buf: &mut Vec<u8>, b: &[u8]) {
        buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
        buf.extend_from_slice(b);
    }
    if attrs.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    for (name, v) in attrs {
        let data_type = v.data_type();
        put(&mut buf, name.as_bytes());
        put(&mut buf, data_type.as_bytes());
        if data_type.starts_with("Binary") {
            buf.push(2);
            put(
                &mut buf,
                v.binary_value().map(|b| b.as_ref()).unwrap_or_default(),
            );
        } else {
            buf.push(1);
            put(&mut buf, v.string_value().unwrap_or_default().as_bytes());
        }
    }
    Some(md5_hex(&buf))
}

/// A String attribute.
pub fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .expect("attribute")
}
