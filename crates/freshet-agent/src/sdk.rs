// SPDX-License-Identifier: Apache-2.0
//! The standalone agent's sink and metrics publisher, on the AWS SDK for Rust: PutRecords to
//! Kinesis, PutRecordBatch to Firehose, PutMetricData to CloudWatch. Works against Freshet
//! and against AWS (HTTPS with rustls).
//!
//! Credentials: `awsAccessKeyId`/`awsSecretAccessKey` from agent.json; else the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); else the
//! `[default]` (or `AWS_PROFILE`) profile of `~/.aws/credentials`; else dummy keys, which
//! Freshet accepts. The SDK's own retries are off: the agent's back-off decides, and its
//! metrics count every failed call.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use freshet_metrics::{Point, Recorder};

use crate::config::AgentConfig;
use crate::sink::{Destination, EntryOutcome, SendError, Sink, SinkRecord};

const DEFAULT_REGION: &str = "us-east-1";

/// Kinesis and Firehose clients.
#[derive(Debug, Clone)]
pub struct SdkSink {
    kinesis: aws_sdk_kinesis::Client,
    firehose: aws_sdk_firehose::Client,
}

fn http_client() -> aws_sdk_kinesis::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The credentials the agent signs with (see the module doc for the order).
pub fn credentials(config: &AgentConfig) -> Credentials {
    if let Some((key, secret)) = &config.credentials {
        return Credentials::new(key, secret, None, None, "agent.json");
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "environment");
    }
    if let Some(c) = profile_credentials() {
        return c;
    }
    Credentials::new("freshet", "freshet", None, None, "dummy")
}

/// Keys of one profile in the shared credentials file.
fn profile_credentials() -> Option<Credentials> {
    let file = std::env::var("AWS_SHARED_CREDENTIALS_FILE")
        .ok()
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| std::path::Path::new(&h).join(".aws/credentials"))
        })?;
    let text = std::fs::read_to_string(file).ok()?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".to_owned());
    let (mut key, mut secret, mut token) = (None, None, None);
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
        } else if in_profile && let Some((k, v)) = line.split_once('=') {
            let v = Some(v.trim().to_owned());
            match k.trim() {
                "aws_access_key_id" => key = v,
                "aws_secret_access_key" => secret = v,
                "aws_session_token" => token = v,
                _ => {}
            }
        }
    }
    Some(Credentials::new(key?, secret?, token, None, "profile"))
}

fn region(specific: &Option<String>) -> Region {
    let r = specific
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    Region::new(r)
}

/// An endpoint without a scheme (`kinesis.us-east-1.amazonaws.com`) is HTTPS, as in the Java
/// agent.
fn endpoint_url(e: &str) -> String {
    if e.contains("://") {
        e.to_owned()
    } else {
        format!("https://{e}")
    }
}

impl SdkSink {
    /// Clients for `config`'s endpoints, regions and credentials.
    pub fn new(config: &AgentConfig) -> Self {
        let creds = credentials(config);
        let http = http_client();
        let mut k = aws_sdk_kinesis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region(&config.kinesis_region))
            .credentials_provider(creds.clone())
            .retry_config(RetryConfig::disabled())
            .http_client(http.clone());
        if let Some(e) = &config.kinesis_endpoint {
            k = k.endpoint_url(endpoint_url(e));
        }
        let mut f = aws_sdk_firehose::Config::builder()
            .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
            .region(aws_sdk_firehose::config::Region::new(
                region(&config.firehose_region).to_string(),
            ))
            .credentials_provider(creds)
            .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled())
            .http_client(http);
        if let Some(e) = &config.firehose_endpoint {
            f = f.endpoint_url(endpoint_url(e));
        }
        Self {
            kinesis: aws_sdk_kinesis::Client::from_conf(k.build()),
            firehose: aws_sdk_firehose::Client::from_conf(f.build()),
        }
    }
}

fn call_error<E, R>(err: &SdkError<E, R>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(s) => SendError::from_code(
            s.err().code().unwrap_or("ServiceError"),
            s.err().message().unwrap_or(""),
        ),
        other => SendError::Retriable {
            code: "NetworkError".to_owned(),
            message: aws_sdk_kinesis::error::DisplayErrorContext(other)
                .to_string()
                .chars()
                .take(300)
                .collect(),
        },
    }
}

#[async_trait]
impl Sink for SdkSink {
    async fn put(
        &self,
        dest: &Destination,
        records: &[SinkRecord],
    ) -> Result<Vec<EntryOutcome>, SendError> {
        let fatal = |e: &dyn std::fmt::Display| SendError::Fatal {
            code: "ValidationException".to_owned(),
            message: e.to_string(),
        };
        match dest {
            Destination::KinesisStream(name) => {
                let mut entries = Vec::with_capacity(records.len());
                for r in records {
                    entries.push(
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(aws_sdk_kinesis::primitives::Blob::new(r.data.to_vec()))
                            .partition_key(&r.partition_key)
                            .build()
                            .map_err(|e| fatal(&e))?,
                    );
                }
                let out = self
                    .kinesis
                    .put_records()
                    .stream_name(name)
                    .set_records(Some(entries))
                    .send()
                    .await
                    .map_err(|e| call_error(&e))?;
                Ok(out
                    .records()
                    .iter()
                    .map(|r| entry_outcome(r.error_code(), r.error_message()))
                    .collect())
            }
            Destination::DeliveryStream(name) => {
                let mut entries = Vec::with_capacity(records.len());
                for r in records {
                    entries.push(
                        aws_sdk_firehose::types::Record::builder()
                            .data(aws_sdk_firehose::primitives::Blob::new(r.data.to_vec()))
                            .build()
                            .map_err(|e| fatal(&e))?,
                    );
                }
                let out = self
                    .firehose
                    .put_record_batch()
                    .delivery_stream_name(name)
                    .set_records(Some(entries))
                    .send()
                    .await
                    .map_err(|e| call_error(&e))?;
                Ok(out
                    .request_responses()
                    .iter()
                    .map(|r| entry_outcome(r.error_code(), r.error_message()))
                    .collect())
            }
        }
    }
}

/// The CloudWatch client metrics are published with.
pub fn metrics_client(config: &AgentConfig) -> aws_sdk_cloudwatch::Client {
    use aws_sdk_cloudwatch::config;
    let mut b = config::Builder::new()
        .behavior_version(config::BehaviorVersion::latest())
        .region(config::Region::new(
            region(&config.cloudwatch_region).to_string(),
        ))
        .credentials_provider(credentials(config))
        .http_client(http_client());
    if let Some(e) = &config.cloudwatch_endpoint {
        b = b.endpoint_url(endpoint_url(e));
    }
    aws_sdk_cloudwatch::Client::from_conf(b.build())
}

/// Publishes what is recorded into `recorder` with PutMetricData every `every`, until `stop`
/// (then once more).
pub async fn publish_metrics(
    client: aws_sdk_cloudwatch::Client,
    recorder: Recorder,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(every) => false,
            _ = stop.changed() => true,
        };
        let points = recorder.drain();
        if !points.is_empty() {
            put_points(&client, points).await;
        }
        if stopping || *stop.borrow() {
            return;
        }
    }
}

async fn put_points(client: &aws_sdk_cloudwatch::Client, points: Vec<Point>) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StatisticSet};
    let mut by_ns: std::collections::BTreeMap<String, Vec<MetricDatum>> = Default::default();
    for p in points {
        let s = &p.value.stats;
        let datum = MetricDatum::builder()
            .metric_name(&p.key.name)
            .set_dimensions(Some(
                p.key
                    .dimensions
                    .iter()
                    .map(|d| Dimension::builder().name(&d.name).value(&d.value).build())
                    .collect(),
            ))
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(
                p.timestamp_ms,
            ))
            .statistic_values(
                StatisticSet::builder()
                    .sample_count(s.count)
                    .sum(s.sum)
                    .minimum(s.min)
                    .maximum(s.max)
                    .build(),
            )
            .unit(StandardUnit::from(p.value.unit.as_str()))
            .build();
        by_ns
            .entry(p.key.namespace.clone())
            .or_default()
            .push(datum);
    }
    for (ns, data) in by_ns {
        for chunk in data.chunks(1000) {
            if let Err(e) = client
                .put_metric_data()
                .namespace(&ns)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
            {
                tracing::warn!(namespace = %ns, error = %aws_sdk_cloudwatch::error::DisplayErrorContext(&e), "Cannot publish agent metrics.");
            }
        }
    }
}

/// One entry of a PutRecords or PutRecordBatch answer: sent, or refused with its code.
fn entry_outcome(code: Option<&str>, message: Option<&str>) -> EntryOutcome {
    match code {
        None => EntryOutcome::Sent,
        Some(code) => EntryOutcome::Failed {
            code: code.to_owned(),
            message: message.unwrap_or("").to_owned(),
        },
    }
}
