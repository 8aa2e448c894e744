// SPDX-License-Identifier: Apache-2.0
//! `fn-invoke` (warm Invoke from many connections) and `fn-cold` (first Invokes of new
//! environments).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use tokio::task::JoinSet;

use super::api::{self, Api, InvokeOutcome};
use super::{ColdStart, FnCommon, Window, bench_name, cleanup, deploy, handler};
use crate::cli::bench::process::{Sampler, ServerUsage};
use crate::cli::bench::raw::RawConn;
use crate::cli::bench::stats::{Latencies, Live, Recorder};

/// The event every invocation sends.
const EVENT: &[u8] = b"{}";
/// The variable an update changes to force a new environment.
const GENERATION_VAR: &str = "FRESHET_BENCH_GENERATION";

/// `fn-invoke`: `connections` workers invoking `function` back to back; requests started inside
/// the window count.
pub(super) async fn warm(
    endpoint: &str,
    function: &str,
    connections: u32,
    window: Window,
    live: Arc<Live>,
    pid: Option<u32>,
) -> anyhow::Result<(Recorder, Option<ServerUsage>)> {
    let path: Arc<str> = api::invoke_path(function).into();
    let mut workers = JoinSet::new();
    for _ in 0..connections {
        let (endpoint, path, live) = (endpoint.to_owned(), path.clone(), live.clone());
        workers.spawn(async move {
            let mut rec = Recorder::default();
            let mut conn: Option<RawConn> = None;
            loop {
                let started = Instant::now();
                if started >= window.end {
                    return rec;
                }
                let counts = window.counts(started);
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match RawConn::connect(&endpoint).await {
                        Ok(c) => conn.insert(c),
                        Err(_) => {
                            live.add_errors(1);
                            if counts {
                                rec.error("ConnectionError", 1);
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let outcome = api::invoke(c, &path, Bytes::from_static(EVENT), false).await;
                let latency = started.elapsed();
                match outcome {
                    InvokeOutcome::Ok { .. } => {
                        live.add_records(1);
                        if counts {
                            rec.answered(1, 1, EVENT.len() as u64, latency, None::<String>);
                        }
                    }
                    InvokeOutcome::FunctionError(code) | InvokeOutcome::Aws(code) => {
                        live.add_errors(1);
                        if counts {
                            rec.error(code, 1);
                            rec.latency.record(latency);
                        }
                        // A throttle or a failing function should not become a spin loop.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    InvokeOutcome::Transport => {
                        conn = None;
                        live.add_errors(1);
                        if counts {
                            rec.error("ConnectionError", 1);
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
        total.merge(&r.context("an invoke worker failed")?);
    }
    Ok((total, sampler.and_then(Sampler::finish)))
}

/// The cold starts of `fn-cold` as they are measured.
#[derive(Default)]
struct ColdSamples {
    after_create: Latencies,
    after_create_init: Latencies,
    after_update: Latencies,
    after_update_init: Latencies,
}

/// `fn-cold`: `samples` times, deploy a function and time its first Invoke, update its
/// configuration and time the first Invoke after that; every function is deleted.
pub(super) async fn cold(
    api: &mut Api,
    endpoint: &str,
    common: &FnCommon,
    samples: u32,
) -> anyhow::Result<(Recorder, ColdStart)> {
    let mut rec = Recorder::default();
    let mut cold = ColdSamples::default();
    for _ in 0..samples {
        let name = bench_name();
        let result = cold_sample(api, endpoint, common, &name, &mut rec, &mut cold).await;
        cleanup(api, None, Some(&name), None).await;
        result?;
    }
    let summary = ColdStart {
        after_create: cold.after_create.summary(),
        after_create_init: cold.after_create_init.summary(),
        after_update: cold.after_update.summary(),
        after_update_init: cold.after_update_init.summary(),
    };
    Ok((rec, summary))
}

/// One function: its first Invoke after CreateFunction, and after an update.
async fn cold_sample(
    api: &mut Api,
    endpoint: &str,
    common: &FnCommon,
    name: &str,
    rec: &mut Recorder,
    cold: &mut ColdSamples,
) -> anyhow::Result<()> {
    let mut env = BTreeMap::from([(GENERATION_VAR.to_owned(), "0".to_owned())]);
    deploy(api, common, name, handler::NOOP, &env).await?;
    // The connection exists before the clock starts: a cold start is the server's and the
    // handler's time, not the TCP handshake's.
    let mut conn = RawConn::connect(endpoint).await?;
    let path = api::invoke_path(name);
    first_invoke(
        &mut conn,
        &path,
        rec,
        &mut cold.after_create,
        &mut cold.after_create_init,
    )
    .await;
    env.insert(GENERATION_VAR.to_owned(), "1".to_owned());
    api.update_environment(name, &env).await?;
    first_invoke(
        &mut conn,
        &path,
        rec,
        &mut cold.after_update,
        &mut cold.after_update_init,
    )
    .await;
    Ok(())
}

/// Times one Invoke that should start a new environment, into `first` (time to response) and
/// `init` (the REPORT's Init Duration). A warm answer (no Init Duration) counts as an error
/// `NotCold`: the measurement would be wrong, not slow.
async fn first_invoke(
    conn: &mut RawConn,
    path: &str,
    rec: &mut Recorder,
    first: &mut Latencies,
    init: &mut Latencies,
) {
    let started = Instant::now();
    let outcome = api::invoke(conn, path, Bytes::from_static(EVENT), true).await;
    let took = started.elapsed();
    match outcome {
        InvokeOutcome::Ok { log } => match log.as_deref().and_then(handler::init_duration_ms) {
            Some(ms) => {
                first.record(took);
                init.record_us((ms * 1000.0) as u64);
                rec.answered(1, 1, EVENT.len() as u64, took, None::<String>);
            }
            None => rec.error("NotCold", 1),
        },
        InvokeOutcome::FunctionError(code) | InvokeOutcome::Aws(code) => rec.error(code, 1),
        InvokeOutcome::Transport => rec.error("ConnectionError", 1),
    }
}
