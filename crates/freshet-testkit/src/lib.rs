// SPDX-License-Identifier: Apache-2.0
//! Test helpers: an in-process Freshet server on `127.0.0.1:0` with a fresh temporary data
//! directory, official `aws-sdk-kinesis` clients pointed at it, raw HTTP requests for
//! wire-level tests, and small fixtures (create a stream and wait for ACTIVE, compute the
//! partition-key hash the way AWS does). [`tls`] adds clients for the optional TLS port.
//!
//! The hash helper here is deliberately independent of the server's code: it is the oracle
//! the conformance tests check routing against.

pub mod efo;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::{
    BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig,
};
use aws_sdk_kinesis::types::StreamStatus;
use bytes::Bytes;
use freshet_server::{Config, RunningServer, ServerError};
pub use freshet_types::{Clock, ManualClock, SystemClock};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use md5::{Digest, Md5};
use tempfile::TempDir;
use tokio::net::TcpStream;

pub mod tls;

pub use crate::tls::TlsResponse;

/// The AWS JSON 1.1 content type Kinesis speaks.
pub const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// The AWS CBOR 1.1 content type the Java SDKs and the KCL speak by default.
pub const AMZ_CBOR: &str = "application/x-amz-cbor-1.1";

/// The `X-Amz-Target` prefix of every Kinesis operation.
pub const TARGET_PREFIX: &str = "Kinesis_20131202.";

/// Account id the server uses by default (in ARNs and error messages).
pub const ACCOUNT_ID: &str = "000000000000";

/// Region the server and the clients use by default.
pub const REGION: &str = "us-east-1";

/// Longest the fixtures wait for a stream to change status before they panic. Generous on
/// purpose: it only stops a broken server from hanging a test, it is not a timing assertion.
pub const STATUS_WAIT: Duration = Duration::from_secs(30);

/// A Freshet server running inside the test process, on its own temporary data directory.
///
/// Dropping it leaves the server running until the test's runtime ends; call
/// [`TestServer::stop`] to shut it down cleanly.
#[derive(Debug)]
pub struct TestServer {
    server: Option<RunningServer>,
    config: Config,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
    // Kept alive for as long as the server (and its restarts) may use the directory.
    dir: TempDir,
}

impl TestServer {
    /// Starts a server with the test defaults: a random port on 127.0.0.1, a fresh temporary
    /// data directory, and 50 ms create/delete/update delays.
    ///
    /// # Panics
    /// If the server cannot start.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], but lets the test change the configuration first (after the
    /// test defaults are applied).
    ///
    /// # Panics
    /// If the server cannot start.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_clock(Arc::new(SystemClock), tweak).await
    }

    /// Like [`TestServer::start_with`], on `clock` (pass a [`ManualClock`] to move retention,
    /// expiry and visibility timeouts forward without sleeping). Restarts keep the clock.
    ///
    /// # Panics
    /// If the server cannot start.
    pub async fn start_with_clock(clock: Arc<dyn Clock>, tweak: impl FnOnce(&mut Config)) -> Self {
        init_tracing();
        let dir = tempfile::tempdir().expect("create a temporary data directory");
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().expect("valid socket address");
        config.storage.data_dir = dir.path().to_path_buf();
        config.kinesis.create_delay = Duration::from_millis(50);
        config.kinesis.delete_delay = Duration::from_millis(50);
        config.kinesis.update_delay = Duration::from_millis(50);
        tweak(&mut config);
        let server = boot(config.clone(), clock.clone())
            .await
            .expect("start the Freshet server");
        let addr = server.local_addr();
        Self {
            server: Some(server),
            config,
            clock,
            addr,
            dir,
        }
    }

    /// Shuts the server down gracefully and starts it again on the same data directory, as a
    /// restart after a clean shutdown. The new server listens on a new port, so clients made
    /// before the restart must be replaced with [`TestServer::client`].
    ///
    /// # Panics
    /// If shutdown or the new start fails.
    pub async fn restart(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server
                .shutdown()
                .await
                .expect("shut the Freshet server down");
        }
        let server = boot(self.config.clone(), self.clock.clone())
            .await
            .expect("restart the Freshet server");
        self.addr = server.local_addr();
        self.server = Some(server);
        self
    }

    /// How many SubscribeToShard streams the server has open.
    ///
    /// # Panics
    /// If the server was stopped.
    pub fn open_subscriptions(&self) -> usize {
        self.server
            .as_ref()
            .expect("the server is running")
            .streams()
            .open_subscriptions()
    }

    /// Shuts the server down gracefully and removes its data directory.
    ///
    /// # Panics
    /// If shutdown fails.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server
                .shutdown()
                .await
                .expect("shut the Freshet server down");
        }
    }

    /// The running server, for tests that look beneath the API (`server().logs()`).
    ///
    /// # Panics
    /// If the server was stopped.
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server is running")
    }

    /// The running server, between a start and a stop.
    fn running(&self) -> Option<&RunningServer> {
        self.server.as_ref()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL to give an SDK, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration the server was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The ARN the server gives a stream of this name (default account and region).
    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.config.aws.region, self.config.aws.account_id
        )
    }

    /// An official AWS SDK Kinesis client pointed at this server, with static dummy
    /// credentials, plain HTTP/1.1, and few retries so failing tests fail fast.
    pub fn client(&self) -> Client {
        let config = aws_sdk_kinesis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(self.endpoint())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            )
            // Large uploads on a loaded machine must not be cut off as "stalled".
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Client::from_conf(config)
    }

    /// POSTs `body` to `/` over HTTP/1.1 with the given `X-Amz-Target` (`None` leaves the
    /// header out; a bare operation name like `"ListStreams"` is prefixed with
    /// [`TARGET_PREFIX`], a name containing a `.` is sent as is) and content type (`None`
    /// leaves it out).
    ///
    /// # Panics
    /// If the connection fails or the response cannot be read; see [`TestServer::try_raw`] for
    /// requests the server may legitimately cut off.
    pub async fn raw_post(
        &self,
        target: Option<&str>,
        body: impl Into<Bytes>,
        content_type: Option<&str>,
    ) -> RawResponse {
        self.try_raw(
            http::Method::POST,
            "/",
            &raw_headers(target, content_type),
            body.into(),
        )
        .await
        .expect("raw HTTP request")
    }

    /// A Kinesis JSON call over raw HTTP/1.1: `POST /` with `X-Amz-Target:
    /// Kinesis_20131202.<operation>` and the AWS JSON 1.1 content type.
    ///
    /// # Panics
    /// As [`TestServer::raw_post`].
    pub async fn raw_call(&self, operation: &str, body: &serde_json::Value) -> RawResponse {
        self.raw_post(Some(operation), body.to_string(), Some(AMZ_JSON))
            .await
    }

    /// Sends any HTTP/1.1 request and reads the whole response; returns the I/O or protocol
    /// error instead of panicking (a server may close the connection on an oversized body).
    pub async fn try_raw(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<RawResponse, Box<dyn std::error::Error + Send + Sync>> {
        let stream = TcpStream::connect(self.addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // The connection's own error, if any, surfaces through the request below.
            let _ = conn.await;
        });
        let request = build_request(method, path, headers, body, &self.addr)?;
        let response = sender.send_request(request).await?;
        collect(response).await
    }

    /// Sends a request over HTTP/2 with prior knowledge (h2c), as the Java SDK v2 does on a
    /// plain-text endpoint.
    pub async fn try_raw_h2c(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<RawResponse, Box<dyn std::error::Error + Send + Sync>> {
        let stream = TcpStream::connect(self.addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let request = build_request(method, path, headers, body, &self.addr)?;
        let response = sender.send_request(request).await?;
        collect(response).await
    }
}

/// A response read whole from the server by the raw HTTP helpers.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Response body.
    pub body: Bytes,
}

impl RawResponse {
    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON; the message shows the body.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value as text, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code a client would see: the `__type` member with any `namespace#` prefix
    /// removed, as the AWS SDKs read it.
    pub fn error_type(&self) -> Option<String> {
        let v = self.json();
        let t = v.get("__type")?.as_str()?;
        Some(t.rsplit('#').next().unwrap_or(t).to_owned())
    }
}

/// Creates a provisioned stream with `shards` shards and waits until it is ACTIVE.
///
/// # Panics
/// If the call fails or the stream does not become ACTIVE within [`STATUS_WAIT`].
pub async fn create_active_stream(client: &Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStream {name}: {e:?}"));
    wait_for_active(client, name).await;
}

/// Polls DescribeStreamSummary until the stream is ACTIVE.
///
/// # Panics
/// If a call fails or the stream is not ACTIVE within [`STATUS_WAIT`].
pub async fn wait_for_active(client: &Client, name: &str) {
    let deadline = Instant::now() + STATUS_WAIT;
    loop {
        let out = client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeStreamSummary {name}: {e:?}"));
        let status = out
            .stream_description_summary()
            .map(|s| s.stream_status().clone());
        if status == Some(StreamStatus::Active) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stream {name} still {status:?} after {STATUS_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls DescribeStreamSummary until it answers ResourceNotFoundException.
///
/// # Panics
/// If a call fails otherwise or the stream still exists after [`STATUS_WAIT`].
pub async fn wait_for_gone(client: &Client, name: &str) {
    use aws_sdk_kinesis::error::ProvideErrorMetadata;
    let deadline = Instant::now() + STATUS_WAIT;
    loop {
        match client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
        {
            Ok(out) => {
                let status = out
                    .stream_description_summary()
                    .map(|s| s.stream_status().clone());
                assert!(
                    Instant::now() < deadline,
                    "stream {name} still {status:?} after {STATUS_WAIT:?}"
                );
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => return,
            Err(e) => panic!("DescribeStreamSummary {name}: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The 128-bit hash key AWS routes a partition key by: MD5 of its UTF-8 bytes, read as an
/// unsigned big-endian integer.
pub fn partition_key_hash(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    u128::from_be_bytes(digest.into())
}

/// The hash key ranges AWS gives a new stream of `shards` shards, inclusive: with
/// h = floor(2^128 / N), shard i covers [i·h, (i+1)·h − 1] and the last shard ends at 2^128 − 1.
///
/// # Panics
/// If `shards` is 0.
pub fn initial_hash_ranges(shards: u32) -> Vec<(u128, u128)> {
    assert!(shards > 0, "a stream has at least one shard");
    // floor(2^128 / n) computed without overflowing u128: 2^128 = (2^128 - 1) + 1.
    if shards == 1 {
        return vec![(0, u128::MAX)];
    }
    let n = u128::from(shards);
    let h = u128::MAX / n + u128::from(u128::MAX % n == n - 1);
    (0..n)
        .map(|i| {
            (
                i * h,
                if i == n - 1 {
                    u128::MAX
                } else {
                    (i + 1) * h - 1
                },
            )
        })
        .collect()
}

/// The canonical shard id for a shard index: `shardId-000000000007`.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

fn raw_headers<'a>(
    target: Option<&'a str>,
    content_type: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut headers = Vec::new();
    if let Some(ct) = content_type {
        headers.push(("content-type", ct));
    }
    if let Some(t) = target {
        headers.push(("x-amz-target", t));
    }
    headers
}

fn build_request(
    method: http::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    addr: &SocketAddr,
) -> Result<http::Request<Full<Bytes>>, http::Error> {
    let mut builder = http::Request::builder().method(method).uri(path);
    builder = builder.header(http::header::HOST, addr.to_string());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("x-amz-target") && !value.contains('.') {
            builder = builder.header(*name, format!("{TARGET_PREFIX}{value}"));
        } else {
            builder = builder.header(*name, *value);
        }
    }
    builder.body(Full::new(body))
}

async fn collect(
    response: http::Response<hyper::body::Incoming>,
) -> Result<RawResponse, Box<dyn std::error::Error + Send + Sync>> {
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(RawResponse {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

async fn boot(config: Config, clock: Arc<dyn Clock>) -> Result<RunningServer, ServerError> {
    freshet_server::start_with(config, clock).await
}

fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        // A second subscriber (another test harness) is fine: keep whichever came first.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shard_ranges_match_the_aws_layout() {
        let r = initial_hash_ranges(3);
        assert_eq!(r[0], (0, 113427455640312821154458202477256070484));
        assert_eq!(
            r[1],
            (
                113427455640312821154458202477256070485,
                226854911280625642308916404954512140969
            )
        );
        assert_eq!(r[2], (226854911280625642308916404954512140970, u128::MAX));
    }

    #[test]
    fn one_shard_covers_the_whole_space() {
        assert_eq!(initial_hash_ranges(1), vec![(0, u128::MAX)]);
    }

    #[test]
    fn power_of_two_split_is_exact() {
        let r = initial_hash_ranges(4);
        assert_eq!(r[1].0, 1u128 << 126);
        assert_eq!(r[3], (3u128 << 126, u128::MAX));
    }

    #[test]
    fn md5_of_a_known_key() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_key_hash("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn shard_ids_are_zero_padded_to_twelve_digits() {
        assert_eq!(shard_id(9), "shardId-000000000009");
    }
}
