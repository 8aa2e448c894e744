// SPDX-License-Identifier: Apache-2.0
//! `fn-mapping-latency` and `fn-mapping-throughput`: a Kinesis stream, a function whose handler
//! reports to the bench ([`Listener`]), and an event source mapping between them.
//!
//! Records are written with the lean client's PutRecords (unsigned JSON 1.1), each stamped with
//! its send time ([`handler::stamped`]). A record counts for latency when its stamp is inside the
//! measured window, on both sides, so the producer and the handler agree on what was measured.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::ProgressBar;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use super::api::Api;
use super::handler::{self, Listener};
use super::{
    FnMappingLatencyOpts, FnMappingThroughputOpts, MappingOpts, Window, bench_name, cleanup,
    deploy, now_micros,
};
use crate::cli::bench::process::{Sampler, ServerUsage};
use crate::cli::bench::raw::{RawConn, RawOutcome, put_records_body};
use crate::cli::bench::stats::{LatencySummary, Live, Recorder};

/// How long the handler may take to see the last measured records after the producer stops.
const DRAIN_GRACE: Duration = Duration::from_secs(10);
/// Connections the producer and the filler write on.
const WRITERS: usize = 8;
/// Records per PutRecords call when filling.
const FILL_BATCH: u64 = 500;

/// What a scenario created, for the cleanup.
#[derive(Default)]
struct Created {
    stream: Option<String>,
    function: Option<String>,
    mapping: Option<String>,
}

impl Created {
    async fn cleanup(&self, api: &mut Api) {
        cleanup(
            api,
            self.mapping.as_deref(),
            self.function.as_deref(),
            self.stream.as_deref(),
        )
        .await;
    }
}

/// What `fn-mapping-latency` measured: the producer, the handler's deliveries, send-to-handler
/// latency and the server's resource use.
pub(super) type LatencyOutcome = (
    Recorder,
    Recorder,
    Option<LatencySummary>,
    Option<ServerUsage>,
);

/// `fn-mapping-latency`.
pub(super) async fn latency(
    endpoint: &str,
    o: &FnMappingLatencyOpts,
    live: Arc<Live>,
    pid: Option<u32>,
) -> anyhow::Result<LatencyOutcome> {
    let mut api = Api::connect(endpoint).await?;
    let mut created = Created::default();
    let result = latency_run(&mut api, endpoint, o, live, pid, &mut created).await;
    created.cleanup(&mut api).await;
    result
}

async fn latency_run(
    api: &mut Api,
    endpoint: &str,
    o: &FnMappingLatencyOpts,
    live: Arc<Live>,
    pid: Option<u32>,
    created: &mut Created,
) -> anyhow::Result<LatencyOutcome> {
    let (stream, arn, listener) =
        setup(api, &o.common, &o.mapping, handler::STAMPS, None, created).await?;
    let function = created.function.clone().unwrap_or_default();
    // The stream is new and empty, so TRIM_HORIZON is every record put; LATEST could miss the
    // first ones (it is resolved when the pipeline starts, after CreateEventSourceMapping).
    let uuid = api
        .create_mapping(&function, &arn, o.mapping.batch_size, "TRIM_HORIZON")
        .await?;
    created.mapping = Some(uuid.clone());
    api.wait_mapping(&uuid).await?;
    // The warm-up starts the environments (one per shard) and is not counted.
    let window = Window::after(&o.timing);
    listener.measure(window.stamps);
    let producer = {
        let (endpoint, stream, opts, live) = (
            endpoint.to_owned(),
            stream.clone(),
            o.mapping.clone(),
            live.clone(),
        );
        let rate = o.rate;
        tokio::spawn(async move { paced(&endpoint, &stream, &opts, rate, window, &live).await })
    };
    tokio::time::sleep_until(window.from.into()).await;
    let sampler = pid.and_then(Sampler::start);
    let put = producer.await.context("the producer failed")??;
    let want = put.records;
    let deadline = tokio::time::Instant::now() + DRAIN_GRACE;
    if !listener.wait_for(deadline, |t| t.in_window >= want).await {
        let seen = listener.tally().in_window;
        eprintln!("warning: the handler saw {seen} of the {want} records put in the window");
    }
    let server = sampler.and_then(Sampler::finish);
    let tally = listener.tally();
    let handled = Recorder {
        requests: tally.invocations_in_window,
        records: tally.in_window,
        bytes: tally.in_window * u64::from(o.mapping.record_size),
        ..Recorder::default()
    };
    Ok((put, handled, tally.latency.summary(), server))
}

/// `fn-mapping-throughput`: the handler's deliveries and the time from CreateEventSourceMapping
/// until the handler had seen every record.
pub(super) async fn throughput(
    endpoint: &str,
    o: &FnMappingThroughputOpts,
    live: Arc<Live>,
    bar: &ProgressBar,
    pid: Option<u32>,
) -> anyhow::Result<(Recorder, Duration, Option<ServerUsage>)> {
    let mut api = Api::connect(endpoint).await?;
    let mut created = Created::default();
    let result = throughput_run(&mut api, endpoint, o, live, bar, pid, &mut created).await;
    created.cleanup(&mut api).await;
    result
}

async fn throughput_run(
    api: &mut Api,
    endpoint: &str,
    o: &FnMappingThroughputOpts,
    live: Arc<Live>,
    bar: &ProgressBar,
    pid: Option<u32>,
    created: &mut Created,
) -> anyhow::Result<(Recorder, Duration, Option<ServerUsage>)> {
    let (stream, arn, listener) = setup(
        api,
        &o.common,
        &o.mapping,
        handler::COUNT,
        Some(live.clone()),
        created,
    )
    .await?;
    let function = created.function.clone().unwrap_or_default();
    bar.set_prefix("fn-mapping-throughput (filling)");
    fill(endpoint, &stream, &o.mapping, o.records, &live).await?;
    live.records.store(0, std::sync::atomic::Ordering::Relaxed);
    bar.set_prefix("fn-mapping-throughput (draining)");
    let sampler = pid.and_then(Sampler::start);
    let started = Instant::now();
    let uuid = api
        .create_mapping(&function, &arn, o.mapping.batch_size, "TRIM_HORIZON")
        .await?;
    created.mapping = Some(uuid.clone());
    api.wait_mapping(&uuid).await?;
    let deadline = tokio::time::Instant::from_std(started + o.timeout);
    let all = listener
        .wait_for(deadline, |t| t.records >= o.records)
        .await;
    let elapsed = started.elapsed();
    let server = sampler.and_then(Sampler::finish);
    let tally = listener.tally();
    let mut handled = Recorder {
        requests: tally.invocations,
        records: tally.records,
        bytes: tally.records * u64::from(o.mapping.record_size),
        ..Recorder::default()
    };
    if !all {
        eprintln!(
            "warning: the handler saw {} of {} records in {:?}",
            tally.records, o.records, o.timeout
        );
        handled.error("Incomplete", o.records.saturating_sub(tally.records));
    }
    Ok((handled, elapsed, server))
}

/// Creates the stream, the report listener and the function (with `handler`, reporting to the
/// listener); returns the stream's name and ARN and the listener.
async fn setup(
    api: &mut Api,
    common: &super::FnCommon,
    o: &MappingOpts,
    handler: &str,
    live: Option<Arc<Live>>,
    created: &mut Created,
) -> anyhow::Result<(String, String, Listener)> {
    // Named for the cleanup before they exist: a create may fail after it took effect.
    let stream = bench_name();
    created.stream = Some(stream.clone());
    let arn = api.create_stream(&stream, o.shards).await?;
    let listener = Listener::start(live).await?;
    let function = bench_name();
    created.function = Some(function.clone());
    let env = BTreeMap::from([(handler::REPORT_VAR.to_owned(), listener.addr.clone())]);
    deploy(api, common, &function, handler, &env).await?;
    Ok((stream, arn, listener))
}

/// One PutRecords call's worth of stamped records.
struct Batch {
    at_us: u64,
    body: String,
    records: u64,
    bytes: u64,
}

/// A PutRecords body of `n` records stamped `at_us`, keys taken in turn from `next_key`.
fn batch(stream: &str, o: &MappingOpts, n: u64, at_us: u64, next_key: &mut u64) -> Batch {
    let data = handler::stamped(at_us, o.record_size as usize);
    let keys: Vec<String> = (0..n)
        .map(|_| {
            *next_key += 1;
            format!("k{}", *next_key % u64::from(o.keys))
        })
        .collect();
    let body = put_records_body(stream, keys.iter().map(|k| (k.as_str(), data.as_slice())));
    let bytes = keys.iter().map(|k| (k.len() + data.len()) as u64).sum();
    Batch {
        at_us,
        body,
        records: n,
        bytes,
    }
}

/// Offers `rate` records/s until the window ends: every millisecond the records due so far go
/// out in one PutRecords, on [`WRITERS`] connections. Returns the writes stamped in the window.
async fn paced(
    endpoint: &str,
    stream: &str,
    o: &MappingOpts,
    rate: u32,
    window: Window,
    live: &Arc<Live>,
) -> anyhow::Result<Recorder> {
    let (tx, rx) = mpsc::channel::<Batch>(256);
    let rx = Arc::new(Mutex::new(rx));
    let mut writers = JoinSet::new();
    for _ in 0..WRITERS {
        let (endpoint, rx, live) = (endpoint.to_owned(), rx.clone(), live.clone());
        writers.spawn(async move {
            let mut rec = Recorder::default();
            let mut conn: Option<RawConn> = None;
            loop {
                let Some(b) = rx.lock().await.recv().await else {
                    return rec;
                };
                let counts = (window.stamps.from_us..window.stamps.end_us).contains(&b.at_us);
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match RawConn::connect(&endpoint).await {
                        Ok(c) => conn.insert(c),
                        Err(_) => {
                            live.add_errors(b.records);
                            if counts {
                                rec.error("ConnectionError", b.records);
                            }
                            continue;
                        }
                    },
                };
                let started = Instant::now();
                let outcome = c.call("PutRecords", b.body).await;
                let latency = started.elapsed();
                match outcome {
                    RawOutcome::Ok(answer) => {
                        let failed = failed_entries(&answer)
                            .map(|f| f.into_iter().map(|(_, code)| code).collect())
                            .unwrap_or_else(|| {
                                vec!["ResponseError".to_owned(); b.records as usize]
                            });
                        let ok = b.records - failed.len() as u64;
                        live.add_records(ok);
                        live.add_errors(failed.len() as u64);
                        if counts {
                            rec.answered(b.records, ok, b.bytes, latency, failed);
                        }
                    }
                    RawOutcome::Aws(code) => {
                        live.add_errors(b.records);
                        if counts {
                            rec.error(code, b.records);
                            rec.latency.record(latency);
                        }
                    }
                    RawOutcome::Transport => {
                        conn = None;
                        live.add_errors(b.records);
                        if counts {
                            rec.error("ConnectionError", b.records);
                        }
                    }
                }
            }
        });
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    let (mut offered, mut next_key) = (0u64, 0u64);
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now >= window.end {
            break;
        }
        let due = (f64::from(rate) * (now - start).as_secs_f64()) as u64;
        let n = due.saturating_sub(offered).min(500);
        if n == 0 {
            continue;
        }
        offered += n;
        // Waits when every writer is busy and the queue is full: the offered rate then drops,
        // and the report shows it.
        if tx
            .send(batch(stream, o, n, now_micros(), &mut next_key))
            .await
            .is_err()
        {
            break;
        }
    }
    drop(tx);
    let mut total = Recorder::default();
    while let Some(r) = writers.join_next().await {
        total.merge(&r.context("a writer failed")?);
    }
    Ok(total)
}

/// The index and code of each failed entry of a PutRecords answer, or `None` when the answer
/// is not one.
fn failed_entries(answer: &[u8]) -> Option<Vec<(usize, String)>> {
    let v: Value = serde_json::from_slice(answer).ok()?;
    let records = v["Records"].as_array()?;
    Some(
        records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r["ErrorCode"].as_str()?.to_owned())))
            .collect(),
    )
}

/// Writes `records` stamped records with [`WRITERS`] concurrent PutRecords of up to 500. Failed
/// entries are made up for by as many new ones, so exactly `records` are stored.
async fn fill(
    endpoint: &str,
    stream: &str,
    o: &MappingOpts,
    records: u64,
    live: &Arc<Live>,
) -> anyhow::Result<()> {
    let mut writers = JoinSet::new();
    for w in 0..WRITERS as u64 {
        let share = records / WRITERS as u64 + u64::from(w < records % WRITERS as u64);
        let (endpoint, stream, o, live) = (
            endpoint.to_owned(),
            stream.to_owned(),
            o.clone(),
            live.clone(),
        );
        writers.spawn(async move {
            let mut conn = RawConn::connect(&endpoint).await?;
            let mut next_key = w * share;
            let mut left = share;
            let mut failures = 0u32;
            while left > 0 {
                let n = left.min(FILL_BATCH);
                let b = batch(&stream, &o, n, now_micros(), &mut next_key);
                let stored = match conn.call("PutRecords", b.body).await {
                    RawOutcome::Ok(answer) => {
                        let failed = failed_entries(&answer)
                            .context("PutRecords answered something else")?;
                        n - failed.len() as u64
                    }
                    RawOutcome::Aws(_) => 0,
                    RawOutcome::Transport => {
                        conn = RawConn::connect(&endpoint).await?;
                        0
                    }
                };
                left -= stored;
                live.add_records(stored);
                if stored < n {
                    failures += 1;
                    anyhow::ensure!(failures < 1000, "filling the stream keeps failing");
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(failures.min(20))))
                        .await;
                }
            }
            Ok(())
        });
    }
    while let Some(r) = writers.join_next().await {
        r.context("a filler failed")??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_entries_are_found_by_position() {
        let answer = br#"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"s"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"m"}]}"#;
        assert_eq!(
            failed_entries(answer),
            Some(vec![(
                1,
                "ProvisionedThroughputExceededException".to_owned()
            )])
        );
        assert_eq!(failed_entries(b"{}"), None);
    }

    #[test]
    fn batches_take_keys_in_turn_and_stamp_every_record() {
        let o = MappingOpts {
            shards: 1,
            record_size: 32,
            keys: 3,
            batch_size: 100,
        };
        let mut next = 0;
        let b = batch("s", &o, 4, 1_700_000_000_000_000, &mut next);
        let v: Value = serde_json::from_str(&b.body).expect("json");
        let keys: Vec<&str> = v["Records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["PartitionKey"].as_str().expect("key"))
            .collect();
        assert_eq!(keys, ["k1", "k2", "k0", "k1"]);
        assert_eq!((b.records, b.bytes), (4, 4 * (2 + 32)));
    }
}
