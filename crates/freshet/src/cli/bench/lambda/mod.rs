// SPDX-License-Identifier: Apache-2.0
//! Function (Lambda) workloads for `freshet bench`.
//!
//! - `fn-invoke`: warm synchronous Invoke (RequestResponse) of a no-op Python handler from
//!   `--connections` kept-alive connections: one for latency, many for throughput.
//! - `fn-cold`: per sample, a new function's first Invoke once it is Active, then the first
//!   Invoke after an UpdateFunctionConfiguration (which needs a new environment): time to first
//!   response, and the Init Duration of the REPORT line (read from `LogType: Tail`).
//! - `fn-mapping-latency`: records put at a fixed rate, each stamped with its send time, into
//!   a new stream a Kinesis event source mapping feeds to a handler that reports when it
//!   started; send-to-handler-start latency.
//! - `fn-mapping-throughput`: fill a stream, create the mapping at TRIM_HORIZON, and time until
//!   the handler has reported every record.
//!
//! Each scenario deploys its own function from an embedded handler (`handler.rs`) and deletes
//! it, its mapping and its stream afterwards, even when the run failed. Handlers report to the
//! bench over loopback TCP, not through the server. Requests are unsigned and go over the lean
//! client's connections (`api.rs`), so these scenarios measure local servers only.

mod api;
mod handler;
mod invoke;
mod mapping;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use serde::Serialize;

use self::api::{Api, NewFunction};
use super::process::{self, ServerUsage};
use super::stats::{LatencySummary, Live, Traffic};
use super::{Progress, Report, emit, local_port};
use crate::cli::GlobalOpts;

/// Options every function scenario shares.
#[derive(Debug, Clone, Args, Serialize)]
pub struct FnCommon {
    /// Runtime of the Python handler the benchmark deploys.
    #[arg(long, default_value = "python3.12", value_parser = [
        "python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
    ])]
    pub runtime: String,
    /// Name of the system under test, for reports.
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
    /// No progress line.
    #[arg(long)]
    #[serde(skip)]
    pub no_progress: bool,
}

/// A measured window after a warm-up.
#[derive(Debug, Clone, Args, Serialize)]
pub struct Timing {
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    pub duration: Duration,
    /// Unmeasured time before the measurement starts (warms the execution environments).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    pub warmup: Duration,
}

/// `bench fn-invoke`.
#[derive(Debug, Args, Serialize)]
pub struct FnInvokeOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: FnCommon,
    #[command(flatten)]
    #[serde(flatten)]
    timing: Timing,
    /// Invocations in flight at once (one connection each; each keeps an environment busy).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    connections: u32,
}

/// `bench fn-cold`.
#[derive(Debug, Args, Serialize)]
pub struct FnColdOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: FnCommon,
    /// Functions created, each measured after CreateFunction and after an update.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    samples: u32,
}

/// Options of both mapping scenarios.
#[derive(Debug, Clone, Args, Serialize)]
pub struct MappingOpts {
    /// Shards of the stream the benchmark creates.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    shards: u32,
    /// Bytes of data per record (the first 16 are its send time).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(i64::from(handler::MIN_RECORD)..=1_048_576))]
    record_size: u32,
    /// Distinct partition keys, used in turn.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    keys: u32,
    /// The mapping's BatchSize.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_size: u32,
}

/// `bench fn-mapping-latency`.
#[derive(Debug, Args, Serialize)]
pub struct FnMappingLatencyOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: FnCommon,
    #[command(flatten)]
    #[serde(flatten)]
    timing: Timing,
    #[command(flatten)]
    #[serde(flatten)]
    mapping: MappingOpts,
    /// Records per second the producer offers.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: u32,
}

/// `bench fn-mapping-throughput`.
#[derive(Debug, Args, Serialize)]
pub struct FnMappingThroughputOpts {
    #[command(flatten)]
    #[serde(flatten)]
    common: FnCommon,
    #[command(flatten)]
    #[serde(flatten)]
    mapping: MappingOpts,
    /// Records written before the mapping is created (not measured).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    records: u64,
    /// Longest wait for the handler to see every record.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "super::ser_duration")]
    timeout: Duration,
}

/// Cold starts measured by `fn-cold`, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// Time from Invoke to its response, for the first Invoke after CreateFunction.
    pub after_create: Option<LatencySummary>,
    /// The Init Duration those invocations reported.
    pub after_create_init: Option<LatencySummary>,
    /// Time from Invoke to its response, for the first Invoke after an
    /// UpdateFunctionConfiguration.
    pub after_update: Option<LatencySummary>,
    /// The Init Duration those invocations reported.
    pub after_update_init: Option<LatencySummary>,
}

/// The table lines of a [`ColdStart`].
pub(super) fn render_cold(c: &ColdStart) -> String {
    let line = |what: &str, first: &Option<LatencySummary>, init: &Option<LatencySummary>| {
        let Some(f) = first else {
            return format!("cold start {what}: no sample\n");
        };
        let init = init.as_ref().map_or_else(
            || "no Init Duration".to_owned(),
            |i| {
                format!(
                    "Init Duration p50 {:.1} ms, max {:.1} ms",
                    i.p50_ms, i.max_ms
                )
            },
        );
        format!(
            "cold start {what} ({} samples): first response p50 {:.1} ms, max {:.1} ms; {init}\n",
            f.samples, f.p50_ms, f.max_ms
        )
    };
    line(
        "after CreateFunction",
        &c.after_create,
        &c.after_create_init,
    ) + &line(
        "after UpdateFunctionConfiguration",
        &c.after_update,
        &c.after_update_init,
    )
}

/// The measured window: on the monotonic clock (for pacing and requests) and on the wall clock
/// (for the send times in records), so the producer and the handlers agree on what counts.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    end: Instant,
    stamps: handler::StampWindow,
}

impl Window {
    fn after(t: &Timing) -> Self {
        let (now, now_us) = (Instant::now(), now_micros());
        let from_us = now_us + t.warmup.as_micros() as u64;
        Self {
            from: now + t.warmup,
            end: now + t.warmup + t.duration,
            stamps: handler::StampWindow {
                from_us,
                end_us: from_us + t.duration.as_micros() as u64,
            },
        }
    }

    /// Whether a request started at `at` counts.
    fn counts(&self, at: Instant) -> bool {
        at >= self.from && at < self.end
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A fresh name for something the benchmark creates.
fn bench_name() -> String {
    format!("freshet-bench-{:08x}", rand::random::<u32>())
}

/// Deploys a bench function with `handler` and waits until it is Active.
async fn deploy(
    api: &mut Api,
    common: &FnCommon,
    name: &str,
    handler: &str,
    environment: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let zip = handler::package()?;
    api.create_function(&NewFunction {
        name,
        runtime: &common.runtime,
        handler,
        zip: &zip,
        timeout_s: 60,
        memory_mb: 128,
        environment,
    })
    .await
}

/// Deletes what a scenario created (or was creating when it failed), warning about what
/// could not be deleted; what does not exist is not an error.
async fn cleanup(
    api: &mut Api,
    mapping: Option<&str>,
    function: Option<&str>,
    stream: Option<&str>,
) {
    let warn = |what: &str, e: anyhow::Error| {
        if !format!("{e:#}").contains("ResourceNotFoundException") {
            eprintln!("warning: could not delete {what}: {e:#}");
        }
    };
    if let Some(uuid) = mapping
        && let Err(e) = api.delete_mapping(uuid).await
    {
        warn(&format!("event source mapping {uuid}"), e);
    }
    if let Some(name) = function
        && let Err(e) = api.delete_function(name).await
    {
        warn(&format!("function {name}"), e);
    }
    if let Some(name) = stream
        && let Err(e) = api.delete_stream(name).await
    {
        warn(&format!("stream {name}"), e);
    }
}

/// The server's process id, given or found from a loopback endpoint's port.
fn server_pid(global: &GlobalOpts, common: &FnCommon) -> Option<u32> {
    common
        .server_pid
        .or_else(|| local_port(&global.endpoint).and_then(process::find_listener))
}

/// What a function scenario measured, for the report.
struct Measured {
    elapsed: Duration,
    first: Option<Traffic>,
    second: Option<Traffic>,
    end_to_end: Option<LatencySummary>,
    server: Option<ServerUsage>,
    cold_start: Option<ColdStart>,
    rows: [&'static str; 2],
}

/// Prints (and writes) the report.
fn finish(
    global: &GlobalOpts,
    scenario: &'static str,
    common: &FnCommon,
    settings: serde_json::Value,
    m: Measured,
) -> anyhow::Result<ExitCode> {
    let report = Report {
        scenario,
        label: common.label.clone(),
        endpoint: global.endpoint.clone(),
        bench_version: env!("CARGO_PKG_VERSION"),
        settings,
        elapsed_s: m.elapsed.as_secs_f64(),
        put: m.first,
        get: m.second,
        end_to_end: m.end_to_end,
        server: m.server,
        cold_start: m.cold_start,
        rows: m.rows,
    };
    emit(&report, common.json.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// `fn-invoke`.
pub(super) async fn invoke(global: &GlobalOpts, o: &FnInvokeOpts) -> anyhow::Result<ExitCode> {
    let mut api = Api::connect(&global.endpoint).await?;
    let name = bench_name();
    let pid = server_pid(global, &o.common);
    let outcome = async {
        deploy(&mut api, &o.common, &name, handler::NOOP, &BTreeMap::new()).await?;
        let live = Arc::new(Live::default());
        let progress = Progress::start("fn-invoke", o.common.no_progress, live.clone());
        let window = Window::after(&o.timing);
        let outcome = invoke::warm(&global.endpoint, &name, o.connections, window, live, pid).await;
        progress.finish();
        outcome
    }
    .await;
    cleanup(&mut api, None, Some(&name), None).await;
    let (invoked, server) = outcome?;
    let m = Measured {
        elapsed: o.timing.duration,
        first: Some(invoked.traffic(o.timing.duration)),
        second: None,
        end_to_end: None,
        server,
        cold_start: None,
        rows: ["invoke", "handler"],
    };
    finish(global, "fn-invoke", &o.common, serde_json::to_value(o)?, m)
}

/// `fn-cold`.
pub(super) async fn cold(global: &GlobalOpts, o: &FnColdOpts) -> anyhow::Result<ExitCode> {
    let mut api = Api::connect(&global.endpoint).await?;
    let pid = server_pid(global, &o.common);
    let sampler = pid.and_then(process::Sampler::start);
    let started = Instant::now();
    let (rec, cold) = invoke::cold(&mut api, &global.endpoint, &o.common, o.samples).await?;
    let elapsed = started.elapsed();
    let m = Measured {
        elapsed,
        first: Some(rec.traffic(elapsed)),
        second: None,
        end_to_end: None,
        server: sampler.and_then(process::Sampler::finish),
        cold_start: Some(cold),
        rows: ["invoke", "handler"],
    };
    finish(global, "fn-cold", &o.common, serde_json::to_value(o)?, m)
}

/// `fn-mapping-latency`.
pub(super) async fn mapping_latency(
    global: &GlobalOpts,
    o: &FnMappingLatencyOpts,
) -> anyhow::Result<ExitCode> {
    let pid = server_pid(global, &o.common);
    let live = Arc::new(Live::default());
    let progress = Progress::start("fn-mapping-latency", o.common.no_progress, live.clone());
    let outcome = mapping::latency(&global.endpoint, o, live, pid).await;
    progress.finish();
    let (put, handled, e2e, server) = outcome?;
    let m = Measured {
        elapsed: o.timing.duration,
        first: Some(put.traffic(o.timing.duration)),
        second: Some(handled.traffic(o.timing.duration)),
        end_to_end: e2e,
        server,
        cold_start: None,
        rows: ["put", "handler"],
    };
    finish(
        global,
        "fn-mapping-latency",
        &o.common,
        serde_json::to_value(o)?,
        m,
    )
}

/// `fn-mapping-throughput`.
pub(super) async fn mapping_throughput(
    global: &GlobalOpts,
    o: &FnMappingThroughputOpts,
) -> anyhow::Result<ExitCode> {
    let pid = server_pid(global, &o.common);
    let live = Arc::new(Live::default());
    let progress = Progress::start("fn-mapping-throughput", o.common.no_progress, live.clone());
    let outcome = mapping::throughput(&global.endpoint, o, live, &progress.bar, pid).await;
    progress.finish();
    let (handled, elapsed, server) = outcome?;
    let m = Measured {
        elapsed,
        first: None,
        second: Some(handled.traffic(elapsed)),
        end_to_end: None,
        server,
        cold_start: None,
        rows: ["put", "handler"],
    };
    finish(
        global,
        "fn-mapping-throughput",
        &o.common,
        serde_json::to_value(o)?,
        m,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_only_inside_the_window() {
        let w = Window::after(&Timing {
            duration: Duration::from_secs(60),
            warmup: Duration::from_secs(60),
        });
        assert!(!w.counts(Instant::now()));
        assert!(w.counts(w.from));
        assert!(!w.counts(w.end));
        assert_eq!(w.stamps.end_us - w.stamps.from_us, 60_000_000);
    }

    #[test]
    fn cold_starts_render_with_and_without_samples() {
        let mut l = super::super::stats::Latencies::default();
        l.record_us(120_000);
        let c = ColdStart {
            after_create: l.summary(),
            after_create_init: l.summary(),
            after_update: None,
            after_update_init: None,
        };
        let text = render_cold(&c);
        assert!(
            text.contains("after CreateFunction (1 samples): first response p50 120."),
            "{text}"
        );
        assert!(
            text.contains("after UpdateFunctionConfiguration: no sample"),
            "{text}"
        );
    }
}
