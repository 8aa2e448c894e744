// SPDX-License-Identifier: Apache-2.0
//! SQS workloads for `freshet bench`, through the AWS SDK for Rust (JSON 1.0, retries off), so
//! the same commands measure Freshet, moto's server or real SQS.
//!
//! - `sqs-send`: SendMessage back to back from many connections.
//! - `sqs-batch`: SendMessageBatch of 10 back to back.
//! - `sqs-receive`: fill the queue (not measured), then consumers ReceiveMessage 10 at a time
//!   and delete what they got with DeleteMessageBatch; counts messages received and deleted.
//! - `sqs-latency`: a producer at a fixed rate while consumers long-poll (WaitTimeSeconds 20);
//!   each body carries its send time, so the report has send-to-receive latency.
//!
//! Every scenario creates its own queue (unless `--queue` names one) and deletes it after.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use clap::Args;
use serde::Serialize;
use tokio::task::JoinSet;

use super::process::{Sampler, ServerUsage};
use super::stats::{Latencies, LatencySummary, Live, Recorder, Traffic};
use crate::cli::GlobalOpts;

/// Options every SQS scenario shares.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SqsCommon {
    /// Bytes per message body.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(32..=262_144))]
    pub message_size: u32,
    /// A FIFO queue (MessageGroupId from 64 groups, content-based deduplication off, ids unique).
    #[arg(long)]
    pub fifo: bool,
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    pub duration: Duration,
    /// Unmeasured time before the measurement starts.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    pub warmup: Duration,
    /// Use this existing queue (name) instead of creating (and deleting) one.
    #[arg(long)]
    pub queue: Option<String>,
    /// Name of the system under test, for reports (e.g. freshet, moto).
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Process id of the server, for CPU and memory; found from a loopback endpoint's port
    /// when absent.
    #[arg(long)]
    #[serde(skip)]
    pub server_pid: Option<u32>,
    /// Also write the report as JSON to this file ("-" for standard output).
    #[arg(long)]
    #[serde(skip)]
    pub json: Option<std::path::PathBuf>,
    /// No progress line. SQS scenarios draw none; accepted so every scenario takes the same
    /// flags (scripts pass it to all of them).
    #[arg(long)]
    #[serde(skip)]
    pub no_progress: bool,
}

/// `bench sqs-send` and `bench sqs-batch`.
#[derive(Debug, Args, Serialize)]
pub struct SqsSendOpts {
    #[command(flatten)]
    #[serde(flatten)]
    pub common: SqsCommon,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
}

/// `bench sqs-receive`.
#[derive(Debug, Args, Serialize)]
pub struct SqsReceiveOpts {
    #[command(flatten)]
    #[serde(flatten)]
    pub common: SqsCommon,
    /// Consumers receiving at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// Messages sent before the measurement (batches of 10, not measured).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub messages: u64,
}

/// `bench sqs-latency`.
#[derive(Debug, Args, Serialize)]
pub struct SqsLatencyOpts {
    #[command(flatten)]
    #[serde(flatten)]
    pub common: SqsCommon,
    /// Messages per second the producer offers.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Long-polling consumers.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub consumers: u32,
}

/// What an SQS scenario measured.
pub(super) struct SqsOutcome {
    pub send: Option<Traffic>,
    pub receive: Option<Traffic>,
    pub end_to_end: Option<LatencySummary>,
    pub server: Option<ServerUsage>,
}

/// The SQS client `bench` uses: the endpoint, dummy or environment credentials, no retries.
pub(super) fn client(global: &GlobalOpts) -> Client {
    let credentials = match (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(key), Ok(secret)) if !key.is_empty() && !secret.is_empty() => {
            Credentials::new(key, secret, None, None, "environment")
        }
        _ => Credentials::new("freshet", "freshet", None, None, "freshet"),
    };
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(global.region.clone()))
        .credentials_provider(credentials)
        .endpoint_url(global.endpoint.clone())
        .retry_config(RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// The queue under test.
pub(super) struct BenchQueue {
    pub url: String,
    created: bool,
}

impl BenchQueue {
    pub async fn setup(client: &Client, common: &SqsCommon) -> anyhow::Result<Self> {
        if let Some(name) = &common.queue {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("GetQueueUrl: {}", classify(&e)))?
                .queue_url
                .context("GetQueueUrl returned no URL")?;
            return Ok(Self {
                url,
                created: false,
            });
        }
        let suffix = if common.fifo { ".fifo" } else { "" };
        let name = format!("freshet-bench-{:08x}{suffix}", rand::random::<u32>());
        let mut req = client.create_queue().queue_name(&name);
        if common.fifo {
            req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
        }
        let url = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("CreateQueue: {}", classify(&e)))?
            .queue_url
            .context("CreateQueue returned no URL")?;
        Ok(Self { url, created: true })
    }

    pub async fn teardown(&self, client: &Client) {
        if self.created
            && let Err(e) = client.delete_queue().queue_url(&self.url).send().await
        {
            eprintln!(
                "warning: could not delete queue {}: {}",
                self.url,
                classify(&e)
            );
        }
    }
}

/// Message bodies: printable (SQS refuses most control characters), stamped with the send
/// time in the first 20 characters.
#[derive(Clone)]
struct Bodies {
    filler: Arc<String>,
}

impl Bodies {
    fn new(size: u32) -> Self {
        let filler: String = (0..size.saturating_sub(20))
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        Self {
            filler: Arc::new(filler),
        }
    }

    fn body(&self, at_us: u64) -> String {
        format!("{at_us:020}{}", self.filler)
    }
}

fn stamp_of(body: &str) -> Option<u64> {
    body.get(..20)?.parse().ok()
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// An error's AWS code, or the kind of transport failure.
fn classify<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("UnknownServiceError").to_owned(),
        SdkError::TimeoutError(_) => "Timeout".to_owned(),
        SdkError::DispatchFailure(_) => "ConnectionError".to_owned(),
        SdkError::ResponseError(_) => "ResponseError".to_owned(),
        _ => "ClientError".to_owned(),
    }
}

/// The measured window: requests started inside it count.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    end: Instant,
}

impl Window {
    fn after_warmup(common: &SqsCommon) -> Self {
        let from = Instant::now() + common.warmup;
        Self {
            from,
            end: from + common.duration,
        }
    }

    fn counts(&self, at: Instant) -> bool {
        at >= self.from && at < self.end
    }
}

/// `sqs-send` (`batch` = false) and `sqs-batch`.
pub(super) async fn send(
    client: &Client,
    queue: &BenchQueue,
    o: &SqsSendOpts,
    batch: bool,
    live: Arc<Live>,
    pid: Option<u32>,
) -> anyhow::Result<SqsOutcome> {
    let window = Window::after_warmup(&o.common);
    let bodies = Bodies::new(o.common.message_size);
    let mut workers = JoinSet::new();
    for w in 0..o.connections {
        let (client, url, bodies, live) = (
            client.clone(),
            queue.url.clone(),
            bodies.clone(),
            live.clone(),
        );
        let fifo = o.common.fifo;
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut n: u64 = 0;
            loop {
                let started = Instant::now();
                if started >= window.end {
                    return rec;
                }
                let size = if batch { 10 } else { 1 };
                let result = send_some(&client, &url, &bodies, size, fifo, w, &mut n).await;
                let latency = started.elapsed();
                let counts = window.counts(started);
                match result {
                    Ok((sent, failures)) => {
                        live.add_records(sent);
                        if counts {
                            let bytes = sent * u64::from(bodies.filler.len() as u32 + 20);
                            rec.answered(size, sent, bytes, latency, failures);
                        }
                    }
                    Err(code) => {
                        live.add_errors(1);
                        if counts {
                            rec.error(code, 1);
                            rec.latency.record(latency);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        });
    }
    tokio::time::sleep_until(window.from.into()).await;
    let sampler = pid.and_then(Sampler::start);
    let mut total = Recorder::default();
    while let Some(r) = workers.join_next().await {
        total.merge(&r.context("a send worker failed")?);
    }
    Ok(SqsOutcome {
        send: Some(total.traffic(o.common.duration)),
        receive: None,
        end_to_end: None,
        server: sampler.and_then(Sampler::finish),
    })
}

/// Sends `size` messages (one SendMessage, or one SendMessageBatch); returns how many were
/// stored and the codes of the entries that failed.
async fn send_some(
    client: &Client,
    url: &str,
    bodies: &Bodies,
    size: u64,
    fifo: bool,
    worker: u32,
    n: &mut u64,
) -> Result<(u64, Vec<String>), String> {
    let mut next_ids = || {
        *n += 1;
        (format!("g{}", worker % 64), format!("w{worker}-{n}"))
    };
    if size == 1 {
        let (group, dedup) = next_ids();
        let mut req = client
            .send_message()
            .queue_url(url)
            .message_body(bodies.body(now_micros()));
        if fifo {
            req = req.message_group_id(group).message_deduplication_id(dedup);
        }
        return req
            .send()
            .await
            .map(|_| (1, Vec::new()))
            .map_err(|e| classify(&e));
    }
    let at = now_micros();
    let entries = (0..size)
        .map(|i| {
            let (group, dedup) = next_ids();
            let mut e = SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(bodies.body(at));
            if fifo {
                e = e.message_group_id(group).message_deduplication_id(dedup);
            }
            e.build().map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let failures: Vec<String> = out.failed().iter().map(|f| f.code().to_owned()).collect();
    Ok((out.successful().len() as u64, failures))
}

/// `sqs-receive`: fill, then receive and delete until the queue is empty or time is up.
pub(super) async fn receive(
    client: &Client,
    queue: &BenchQueue,
    o: &SqsReceiveOpts,
    live: Arc<Live>,
    pid: Option<u32>,
) -> anyhow::Result<SqsOutcome> {
    fill(client, &queue.url, &o.common, o.messages).await?;
    let started = Instant::now();
    let window = Window {
        from: started,
        end: started + o.common.duration,
    };
    let sampler = pid.and_then(Sampler::start);
    let mut workers = JoinSet::new();
    for _ in 0..o.connections {
        let (client, url, live) = (client.clone(), queue.url.clone(), live.clone());
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut empty = 0;
            while Instant::now() < window.end && empty < 3 {
                let t = Instant::now();
                let got = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(0)
                    .send()
                    .await;
                let messages = match got {
                    Ok(out) => out.messages.unwrap_or_default(),
                    Err(e) => {
                        live.add_errors(1);
                        rec.error(classify(&e), 1);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                if messages.is_empty() {
                    empty += 1;
                    continue;
                }
                empty = 0;
                let entries: Vec<DeleteMessageBatchRequestEntry> = messages
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(format!("d{i}"))
                            .receipt_handle(m.receipt_handle()?)
                            .build()
                            .ok()
                    })
                    .collect();
                let bytes: u64 = messages
                    .iter()
                    .map(|m| m.body().map_or(0, str::len) as u64)
                    .sum();
                let n = entries.len() as u64;
                match client
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                {
                    Ok(out) => {
                        let failures: Vec<String> =
                            out.failed().iter().map(|f| f.code().to_owned()).collect();
                        let deleted = out.successful().len() as u64;
                        live.add_records(deleted);
                        rec.answered(n, deleted, bytes, t.elapsed(), failures);
                    }
                    Err(e) => {
                        live.add_errors(1);
                        rec.error(classify(&e), 1);
                    }
                }
            }
            rec
        });
    }
    let mut total = Recorder::default();
    while let Some(r) = workers.join_next().await {
        total.merge(&r.context("a receive worker failed")?);
    }
    let elapsed = started
        .elapsed()
        .min(o.common.duration + Duration::from_secs(1));
    Ok(SqsOutcome {
        send: None,
        receive: Some(total.traffic(elapsed)),
        end_to_end: None,
        server: sampler.and_then(Sampler::finish),
    })
}

/// Sends `messages` in batches of 10 from 8 workers, retrying failed entries.
async fn fill(client: &Client, url: &str, common: &SqsCommon, messages: u64) -> anyhow::Result<()> {
    let bodies = Bodies::new(common.message_size);
    let batches = messages.div_ceil(10);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut workers = JoinSet::new();
    for w in 0..8u32 {
        let (client, url, bodies, next) =
            (client.clone(), url.to_owned(), bodies.clone(), next.clone());
        let fifo = common.fifo;
        workers.spawn(async move {
            let mut n = 0;
            let mut failures = 0u32;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < batches {
                loop {
                    match send_some(&client, &url, &bodies, 10, fifo, w, &mut n).await {
                        Ok((10, _)) => break,
                        Ok(_) | Err(_) => {
                            failures += 1;
                            if failures > 1000 {
                                anyhow::bail!("filling the queue keeps failing");
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }
            Ok(())
        });
    }
    while let Some(r) = workers.join_next().await {
        r.context("a fill worker failed")??;
    }
    Ok(())
}

/// `sqs-latency`: a paced producer and long-polling consumers.
pub(super) async fn latency(
    client: &Client,
    queue: &BenchQueue,
    o: &SqsLatencyOpts,
    live: Arc<Live>,
    pid: Option<u32>,
) -> anyhow::Result<SqsOutcome> {
    let window = Window::after_warmup(&o.common);
    let bodies = Bodies::new(o.common.message_size);
    let from_us = now_micros() + o.common.warmup.as_micros() as u64;
    let end_us = from_us + o.common.duration.as_micros() as u64;
    let mut consumers = JoinSet::new();
    for _ in 0..o.consumers {
        let (client, url, live) = (client.clone(), queue.url.clone(), live.clone());
        consumers.spawn(async move {
            let mut lat = Latencies::default();
            let mut rec = Recorder::default();
            // Until a little after the producer stops, so the last messages are seen.
            while Instant::now() < window.end + Duration::from_secs(3) {
                let t = Instant::now();
                let got = client
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
                    .await;
                let received_us = now_micros();
                let messages = match got {
                    Ok(out) => out.messages.unwrap_or_default(),
                    Err(e) => {
                        live.add_errors(1);
                        rec.error(classify(&e), 1);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let mut counted = 0;
                for m in &messages {
                    if let Some(at) = m.body().and_then(stamp_of)
                        && (from_us..end_us).contains(&at)
                    {
                        lat.record_us(received_us.saturating_sub(at));
                        counted += 1;
                    }
                }
                if !messages.is_empty() {
                    rec.answered(
                        messages.len() as u64,
                        counted,
                        0,
                        t.elapsed(),
                        None::<String>,
                    );
                    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
                        .iter()
                        .enumerate()
                        .filter_map(|(i, m)| {
                            DeleteMessageBatchRequestEntry::builder()
                                .id(format!("d{i}"))
                                .receipt_handle(m.receipt_handle()?)
                                .build()
                                .ok()
                        })
                        .collect();
                    let _ = client
                        .delete_message_batch()
                        .queue_url(&url)
                        .set_entries(Some(entries))
                        .send()
                        .await;
                }
            }
            (lat, rec)
        });
    }
    // The producer: one message every 1/rate, each sent without waiting for the previous.
    let mut sends = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(o.rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let sampler_at = window.from;
    let mut sampler = None;
    let mut sent = Recorder::default();
    while Instant::now() < window.end {
        tick.tick().await;
        if sampler.is_none() && Instant::now() >= sampler_at {
            sampler = pid.and_then(Sampler::start);
        }
        let (client, url, body, live) = (
            client.clone(),
            queue.url.clone(),
            bodies.body(now_micros()),
            live.clone(),
        );
        let fifo = o.common.fifo;
        sends.spawn(async move {
            let t = Instant::now();
            let mut req = client.send_message().queue_url(&url).message_body(body);
            if fifo {
                req = req
                    .message_group_id(format!("g{}", rand::random::<u8>() % 64))
                    .message_deduplication_id(format!("{:032x}", rand::random::<u128>()));
            }
            let r = req.send().await.map_err(|e| classify(&e));
            live.add_records(u64::from(r.is_ok()));
            (t, t.elapsed(), r)
        });
        while let Some(Ok((t, took, r))) = sends.try_join_next() {
            if window.counts(t) {
                match r {
                    Ok(_) => sent.answered(1, 1, 0, took, None::<String>),
                    Err(code) => sent.error(code, 1),
                }
            }
        }
    }
    while let Some(Ok((t, took, r))) = sends.join_next().await {
        if window.counts(t) {
            match r {
                Ok(_) => sent.answered(1, 1, 0, took, None::<String>),
                Err(code) => sent.error(code, 1),
            }
        }
    }
    let server = sampler.and_then(Sampler::finish);
    let mut lat = Latencies::default();
    let mut received = Recorder::default();
    while let Some(r) = consumers.join_next().await {
        let (l, rec) = r.context("a consumer failed")?;
        lat.merge(&l);
        received.merge(&rec);
    }
    Ok(SqsOutcome {
        send: Some(sent.traffic(o.common.duration)),
        receive: Some(received.traffic(o.common.duration)),
        end_to_end: lat.summary(),
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_their_send_time_and_have_the_asked_size() {
        let b = Bodies::new(100);
        let body = b.body(1_700_000_000_123_456);
        assert_eq!(body.len(), 100);
        assert_eq!(stamp_of(&body), Some(1_700_000_000_123_456));
        assert_eq!(stamp_of("short"), None);
    }
}
