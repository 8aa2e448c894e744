// SPDX-License-Identifier: Apache-2.0
//! `freshet bench`: a load generator for any Kinesis-compatible endpoint.
//!
//! It speaks the AWS wire protocol through the AWS SDK for Rust, so the same command measures
//! Freshet, kinesalite, kinesis-mock or real Kinesis (with real credentials in the environment).
//! Every scenario creates its own stream (unless `--stream` names one), runs a warm-up that is
//! not counted, measures for `--duration`, then prints a table (and optionally JSON) with
//! throughput, request latency percentiles, errors by code and, when the server is a local
//! process, its CPU use and peak resident memory.
//!
//! The SDK's retries are off: a throttled or failed request is counted as an error, not hidden
//! behind a retry that inflates latency.
//!
//! SQS scenarios live in `sqs.rs`, function (Lambda) scenarios in `lambda/`.

mod baseline;
mod lambda;
mod process;
mod raw;
mod scenarios;
mod sqs;
pub(crate) mod stats;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use self::process::ServerUsage;
use self::stats::{LatencySummary, Live, Traffic};
use crate::cli::GlobalOpts;

/// `freshet bench <scenario>`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The workload.
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// What `bench` can run.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Workloads against an endpoint.
    #[command(flatten)]
    Load(Load),
    /// The disk's sequential write bandwidth with fdatasync after every block.
    Disk(baseline::DiskOpts),
    /// Serve canned PutRecord/PutRecords successes: a no-op baseline for `put`/`put-batch`.
    NoopServer(baseline::NoopOpts),
}

/// The workloads against an endpoint.
#[derive(Debug, Subcommand)]
pub enum Load {
    /// Single-record PutRecord calls from many connections.
    Put(PutOpts),
    /// PutRecords calls with a batch of records each.
    PutBatch(PutBatchOpts),
    /// Fill a stream, then drain every shard with GetRecords as fast as possible.
    Get(GetOpts),
    /// Put at a fixed rate while consumers read; reports put-to-consumer latency.
    Latency(LatencyOpts),
    /// Producers and consumers together at full speed.
    Mixed(MixedOpts),
    /// SQS: SendMessage calls from many connections.
    SqsSend(sqs::SqsSendOpts),
    /// SQS: SendMessageBatch calls of 10 messages.
    SqsBatch(sqs::SqsSendOpts),
    /// SQS: fill a queue, then ReceiveMessage (10) + DeleteMessageBatch until it is empty.
    SqsReceive(sqs::SqsReceiveOpts),
    /// SQS: send at a fixed rate while consumers long-poll; reports send-to-receive latency.
    SqsLatency(sqs::SqsLatencyOpts),
    /// Lambda: warm synchronous Invoke of a no-op Python handler from many connections.
    FnInvoke(lambda::FnInvokeOpts),
    /// Lambda: cold starts, the first Invoke after CreateFunction and after an
    /// UpdateFunctionConfiguration (time to first response and the REPORT's Init Duration).
    FnCold(lambda::FnColdOpts),
    /// Lambda: put at a fixed rate into a stream a Kinesis event source mapping feeds to a
    /// no-op handler; reports put-to-handler latency.
    FnMappingLatency(lambda::FnMappingLatencyOpts),
    /// Lambda: fill a stream, then time a mapping from TRIM_HORIZON until the handler has seen
    /// every record.
    FnMappingThroughput(lambda::FnMappingThroughputOpts),
}

/// Options every scenario shares.
#[derive(Debug, Clone, Args, Serialize)]
pub struct Common {
    /// Shards of the stream the benchmark creates.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub shards: u32,
    /// Bytes of data per record.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub record_size: u32,
    /// Distinct partition keys, chosen at random per record.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub keys: u32,
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "ser_duration")]
    pub duration: Duration,
    /// Unmeasured time before the measurement starts.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "ser_duration")]
    pub warmup: Duration,
    /// Use this existing stream instead of creating (and deleting) one.
    #[arg(long)]
    pub stream: Option<String>,
    /// Keep the stream the benchmark created.
    #[arg(long)]
    pub keep_stream: bool,
    /// Name of the system under test, for reports (e.g. freshet, kinesalite).
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Process id of the server, for CPU and memory; found from a loopback endpoint's port
    /// when absent.
    #[arg(long)]
    #[serde(skip)]
    pub server_pid: Option<u32>,
    /// Also write the report as JSON to this file ("-" for standard output; the table then
    /// goes to standard error).
    #[arg(long)]
    #[serde(skip)]
    pub json: Option<PathBuf>,
    /// No progress line.
    #[arg(long)]
    #[serde(skip)]
    pub no_progress: bool,
}

pub(crate) fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Which client sends the writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// The AWS SDK for Rust: signed requests, works with real AWS.
    Sdk,
    /// A lean HTTP/1.1 client with unsigned requests, for local servers: measures the server
    /// rather than the SDK's CPU cost.
    Raw,
}

/// `bench put`.
#[derive(Debug, Args, Serialize)]
pub struct PutOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: Common,
    /// Client that sends the requests.
    #[arg(long, value_enum, default_value_t = ClientKind::Sdk)]
    client: ClientKind,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,
}

/// `bench put-batch`.
#[derive(Debug, Args, Serialize)]
pub struct PutBatchOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: Common,
    /// Client that sends the requests.
    #[arg(long, value_enum, default_value_t = ClientKind::Sdk)]
    client: ClientKind,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,
    /// Records per PutRecords call.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=500))]
    batch: u32,
}

/// `bench get`.
#[derive(Debug, Args, Serialize)]
pub struct GetOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: Common,
    /// Records to write before draining (not measured).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    records: u64,
    /// GetRecords Limit.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    limit: i32,
}

/// How latency-scenario consumers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerKind {
    /// A GetRecords loop per shard.
    Polling,
    /// SubscribeToShard (enhanced fan-out) per shard.
    Efo,
}

/// `bench latency`.
#[derive(Debug, Args, Serialize)]
pub struct LatencyOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: Common,
    /// Records per second the producer offers.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: u32,
    /// How consumers read.
    #[arg(long, value_enum, default_value_t = ConsumerKind::Polling)]
    consumer: ConsumerKind,
    /// Pause between GetRecords calls that returned nothing (0 = a tight loop).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "ser_duration")]
    poll_interval: Duration,
}

/// `bench mixed`.
#[derive(Debug, Args, Serialize)]
pub struct MixedOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: Common,
    /// Producer requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=4096))]
    producers: u32,
    /// Records per PutRecords call.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
    batch: u32,
    /// Pause between GetRecords calls that returned nothing (0 = a tight loop).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "ser_duration")]
    poll_interval: Duration,
}

/// The result of one benchmark run.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The scenario name.
    pub scenario: &'static str,
    /// System under test.
    pub label: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Freshet version that measured.
    pub bench_version: &'static str,
    /// Scenario settings.
    pub settings: serde_json::Value,
    /// Measured seconds.
    pub elapsed_s: f64,
    /// Writes, when the scenario writes.
    pub put: Option<Traffic>,
    /// Reads, when the scenario reads.
    pub get: Option<Traffic>,
    /// Time from a record's put to a consumer receiving it.
    pub end_to_end: Option<LatencySummary>,
    /// The server's resource use, when it is a local process.
    pub server: Option<ServerUsage>,
    /// Cold starts (`fn-cold` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<lambda::ColdStart>,
    /// What the two traffic rows are called in the table (`put`/`get`, `send`/`receive`,
    /// `invoke`/`handler`).
    #[serde(skip)]
    pub rows: [&'static str; 2],
}

/// Runs a benchmark.
pub async fn run(global: &GlobalOpts, args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.scenario {
        Scenario::Load(load) => run_load(global, load).await,
        Scenario::Disk(o) => baseline::disk(&o).map(|()| ExitCode::SUCCESS),
        Scenario::NoopServer(o) => baseline::noop_server(&o).await.map(|()| ExitCode::SUCCESS),
    }
}

/// Runs a workload against `global.endpoint`.
async fn run_load(global: &GlobalOpts, load: Load) -> anyhow::Result<ExitCode> {
    let kinesis = match &load {
        Load::SqsSend(_) | Load::SqsBatch(_) | Load::SqsReceive(_) | Load::SqsLatency(_) => {
            return run_sqs(global, load).await;
        }
        Load::FnInvoke(o) => return lambda::invoke(global, o).await,
        Load::FnCold(o) => return lambda::cold(global, o).await,
        Load::FnMappingLatency(o) => return lambda::mapping_latency(global, o).await,
        Load::FnMappingThroughput(o) => return lambda::mapping_throughput(global, o).await,
        Load::Put(o) => KinesisLoad::Put(o),
        Load::PutBatch(o) => KinesisLoad::PutBatch(o),
        Load::Get(o) => KinesisLoad::Get(o),
        Load::Latency(o) => KinesisLoad::Latency(o),
        Load::Mixed(o) => KinesisLoad::Mixed(o),
    };
    run_kinesis(global, kinesis).await
}

/// The Kinesis workloads of [`Load`], so their steps match them alone.
enum KinesisLoad<'a> {
    Put(&'a PutOpts),
    PutBatch(&'a PutBatchOpts),
    Get(&'a GetOpts),
    Latency(&'a LatencyOpts),
    Mixed(&'a MixedOpts),
}

/// Runs a Kinesis workload against `global.endpoint`.
async fn run_kinesis(global: &GlobalOpts, load: KinesisLoad<'_>) -> anyhow::Result<ExitCode> {
    let client = crate::cli::client::build_for_bench(global);
    let (name, settings, common) = match &load {
        KinesisLoad::Put(o) => ("put", serde_json::to_value(o)?, &o.common),
        KinesisLoad::PutBatch(o) => ("put-batch", serde_json::to_value(o)?, &o.common),
        KinesisLoad::Get(o) => ("get", serde_json::to_value(o)?, &o.common),
        KinesisLoad::Latency(o) => ("latency", serde_json::to_value(o)?, &o.common),
        KinesisLoad::Mixed(o) => ("mixed", serde_json::to_value(o)?, &o.common),
    };
    let common = common.clone();
    let stream = scenarios::BenchStream::setup(&client, &common).await?;
    let pid = common
        .server_pid
        .or_else(|| local_port(&global.endpoint).and_then(process::find_listener));
    let ctx = scenarios::Ctx {
        client: client.clone(),
        endpoint: global.endpoint.clone(),
        stream: stream.name.clone(),
        common: common.clone(),
        live: Arc::new(Live::default()),
        pid,
    };
    let progress = Progress::start(name, common.no_progress, ctx.live.clone());
    let outcome = match load {
        KinesisLoad::Put(o) => {
            scenarios::put(&ctx, o.connections, None, o.client == ClientKind::Raw).await
        }
        KinesisLoad::PutBatch(o) => {
            let raw = o.client == ClientKind::Raw;
            scenarios::put(&ctx, o.connections, Some(o.batch), raw).await
        }
        KinesisLoad::Get(o) => scenarios::get(&ctx, o.records, o.limit, &progress.bar).await,
        KinesisLoad::Latency(o) => {
            scenarios::latency(&ctx, o.rate, o.consumer, o.poll_interval).await
        }
        KinesisLoad::Mixed(o) => {
            scenarios::mixed(&ctx, o.producers, o.batch, o.poll_interval).await
        }
    };
    progress.finish();
    stream.teardown(&client, &common).await;
    let outcome = outcome?;
    let report = Report {
        scenario: name,
        label: common.label.clone(),
        endpoint: global.endpoint.clone(),
        bench_version: env!("CARGO_PKG_VERSION"),
        settings,
        elapsed_s: outcome.elapsed.as_secs_f64(),
        put: outcome.put,
        get: outcome.get,
        end_to_end: outcome.end_to_end,
        server: outcome.server,
        cold_start: None,
        rows: ["put", "get"],
    };
    emit(&report, common.json.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an SQS workload against `global.endpoint`.
async fn run_sqs(global: &GlobalOpts, load: Load) -> anyhow::Result<ExitCode> {
    let client = sqs::client(global);
    let (name, settings, common) = match &load {
        Load::SqsSend(o) => ("sqs-send", serde_json::to_value(o)?, &o.common),
        Load::SqsBatch(o) => ("sqs-batch", serde_json::to_value(o)?, &o.common),
        Load::SqsReceive(o) => ("sqs-receive", serde_json::to_value(o)?, &o.common),
        Load::SqsLatency(o) => ("sqs-latency", serde_json::to_value(o)?, &o.common),
        Load::Put(_)
        | Load::PutBatch(_)
        | Load::Get(_)
        | Load::Latency(_)
        | Load::Mixed(_)
        | Load::FnInvoke(_)
        | Load::FnCold(_)
        | Load::FnMappingLatency(_)
        | Load::FnMappingThroughput(_) => {
            anyhow::bail!("not an SQS workload")
        }
    };
    let common = common.clone();
    let queue = sqs::BenchQueue::setup(&client, &common).await?;
    let pid = common
        .server_pid
        .or_else(|| local_port(&global.endpoint).and_then(process::find_listener));
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let outcome = match &load {
        Load::SqsSend(o) => sqs::send(&client, &queue, o, false, live, pid).await,
        Load::SqsBatch(o) => sqs::send(&client, &queue, o, true, live, pid).await,
        Load::SqsReceive(o) => sqs::receive(&client, &queue, o, live, pid).await,
        Load::SqsLatency(o) => sqs::latency(&client, &queue, o, live, pid).await,
        Load::Put(_)
        | Load::PutBatch(_)
        | Load::Get(_)
        | Load::Latency(_)
        | Load::Mixed(_)
        | Load::FnInvoke(_)
        | Load::FnCold(_)
        | Load::FnMappingLatency(_)
        | Load::FnMappingThroughput(_) => {
            anyhow::bail!("not an SQS workload")
        }
    };
    queue.teardown(&client).await;
    let outcome = outcome?;
    let elapsed = match &load {
        Load::SqsReceive(_) => outcome.receive.as_ref().map_or(started.elapsed(), |t| {
            Duration::from_secs_f64(t.records as f64 / t.records_per_s.max(1e-9))
        }),
        _ => common.duration,
    };
    let report = Report {
        scenario: name,
        label: common.label.clone(),
        endpoint: global.endpoint.clone(),
        bench_version: env!("CARGO_PKG_VERSION"),
        settings,
        elapsed_s: elapsed.as_secs_f64(),
        put: outcome.send,
        get: outcome.receive,
        end_to_end: outcome.end_to_end,
        server: outcome.server,
        cold_start: None,
        rows: ["send", "receive"],
    };
    emit(&report, common.json.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// The port of a loopback endpoint (`http://127.0.0.1:4567`, `http://localhost:4567`).
fn local_port(endpoint: &str) -> Option<u16> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let host = uri.host()?;
    let loopback = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return None;
    }
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        _ => Some(80),
    })
}

/// Writes the table (and the JSON when asked).
fn emit(report: &Report, json: Option<&std::path::Path>) -> anyhow::Result<()> {
    let table = render_table(report);
    match json {
        Some(p) if p.as_os_str() == "-" => {
            eprint!("{table}");
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, report)?;
            writeln!(out)?;
        }
        Some(p) => {
            print!("{table}");
            let body = serde_json::to_vec_pretty(report)?;
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?;
        }
        None => print!("{table}"),
    }
    Ok(())
}

/// The human-readable report.
pub fn render_table(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} against {} ({}), measured {:.1} s",
        r.scenario, r.label, r.endpoint, r.elapsed_s
    );
    let _ = writeln!(
        s,
        "{:<7} {:>10} {:>10} {:>12} {:>11} {:>8} {:>8} {:>8} {:>9} {:>8}  errors",
        "",
        "requests",
        "req/s",
        "records",
        "records/s",
        "MiB/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms"
    );
    for (label, t) in [(r.rows[0], &r.put), (r.rows[1], &r.get)] {
        let Some(t) = t else { continue };
        let (p50, p99, p999, max) = t
            .latency
            .as_ref()
            .map(|l| (l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms))
            .unwrap_or_default();
        let errors = if t.errors.is_empty() {
            "none".to_owned()
        } else {
            t.errors
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "{label:<7} {:>10} {:>10.0} {:>12} {:>11.0} {:>8.1} {:>8.2} {:>8.2} {:>9.2} {:>8.2}  {errors}",
            t.requests,
            t.requests_per_s,
            t.records,
            t.records_per_s,
            t.mib_per_s,
            p50,
            p99,
            p999,
            max
        );
    }
    if let Some(l) = &r.end_to_end {
        let _ = writeln!(
            s,
            "{}-to-{} latency over {} records: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            r.rows[0], r.rows[1], l.samples, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms
        );
    }
    if let Some(c) = &r.cold_start {
        s.push_str(&lambda::render_cold(c));
    }
    match &r.server {
        Some(u) => {
            let _ = writeln!(
                s,
                "server pid {}: CPU {:.0}% of one core, peak RSS {:.1} MiB",
                u.pid, u.cpu_percent, u.peak_rss_mib
            );
        }
        None => {
            let _ = writeln!(s, "server CPU/RSS: not a local process (or not found)");
        }
    }
    s
}

/// The progress line on standard error.
struct Progress {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    fn start(name: &str, no_progress: bool, live: Arc<Live>) -> Self {
        let visible = !no_progress && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_owned());
        let ticker = visible.then(|| {
            let bar = bar.clone();
            tokio::spawn(async move {
                let mut last = (Instant::now(), 0u64);
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let now = Instant::now();
                    let records = live.records.load(Ordering::Relaxed);
                    let rate = (records - last.1) as f64 / (now - last.0).as_secs_f64();
                    last = (now, records);
                    let errors = live.errors.load(Ordering::Relaxed);
                    bar.set_message(format!("{records} records, {rate:.0}/s, {errors} errors"));
                    bar.tick();
                }
            })
        });
        Self { bar, ticker }
    }

    fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ports() {
        assert_eq!(local_port("http://127.0.0.1:4567"), Some(4567));
        assert_eq!(local_port("http://localhost:9000/"), Some(9000));
        assert_eq!(local_port("https://[::1]"), Some(443));
        assert_eq!(local_port("https://kinesis.us-east-1.amazonaws.com"), None);
    }
}
