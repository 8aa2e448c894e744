// SPDX-License-Identifier: Apache-2.0
//! The benchmark workloads.
//!
//! Writers stamp every record with the wall-clock time it was sent (microseconds since the
//! epoch, in the first 8 bytes, followed by a 4-byte marker), so consumers on the same machine
//! can measure put-to-consumer latency. Request latency is measured from just before the SDK
//! call to its completion, and only requests started inside the measured window count.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ConsumerStatus, PutRecordsRequestEntry, ShardIteratorType, StartingPosition,
    SubscribeToShardEventStream,
};
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::{Rng as _, RngCore as _, SeedableRng as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::process::{Sampler, ServerUsage};
use super::raw::{RawConn, RawOutcome, put_record_body, put_records_body, put_records_failures};
use super::stats::{Latencies, LatencySummary, Live, Recorder, Traffic};
use super::{Common, ConsumerKind};
use crate::cli::client::AwsResultExt as _;

/// Marker after the timestamp in every record the benchmark writes.
const STAMP_MARKER: &[u8; 4] = b"FBLT";
/// How long consumers may take to catch up after the producers stop.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// What every scenario gets.
pub(super) struct Ctx {
    pub client: Client,
    pub endpoint: String,
    pub stream: String,
    pub common: Common,
    pub live: Arc<Live>,
    pub pid: Option<u32>,
}

/// What a scenario measured.
pub(super) struct Outcome {
    pub elapsed: Duration,
    pub put: Option<Traffic>,
    pub get: Option<Traffic>,
    pub end_to_end: Option<LatencySummary>,
    pub server: Option<ServerUsage>,
}

/// The measured window, on the monotonic clock (for pacing) and on the wall clock (for the
/// stamps in records). A write counts when its stamp is in `[from_us, end_us)`; a consumer
/// counts exactly the records whose stamps do, so both sides agree on what was measured.
#[derive(Debug, Clone, Copy)]
struct Window {
    measure_from: Instant,
    end: Instant,
    from_us: u64,
    end_us: u64,
}

impl Window {
    fn after_warmup(common: &Common) -> Self {
        let (now, now_us) = (Instant::now(), now_micros());
        let measure_from = now + common.warmup;
        let from_us = now_us + common.warmup.as_micros() as u64;
        Self {
            measure_from,
            end: measure_from + common.duration,
            from_us,
            end_us: from_us + common.duration.as_micros() as u64,
        }
    }

    fn counts(&self, stamp_us: u64) -> bool {
        (self.from_us..self.end_us).contains(&stamp_us)
    }
}

/// The stream under test: created (and later deleted) by the benchmark, or given.
pub(super) struct BenchStream {
    pub name: String,
    created: bool,
}

impl BenchStream {
    pub async fn setup(client: &Client, common: &Common) -> anyhow::Result<Self> {
        if let Some(name) = &common.stream {
            return Ok(Self {
                name: name.clone(),
                created: false,
            });
        }
        let name = format!("freshet-bench-{:08x}", rand::random::<u32>());
        client
            .create_stream()
            .stream_name(&name)
            .shard_count(common.shards as i32)
            .send()
            .await
            .aws("CreateStream")?;
        crate::cli::streams::wait_for_active(client, &name, Duration::from_secs(120)).await?;
        Ok(Self {
            name,
            created: true,
        })
    }

    pub async fn teardown(&self, client: &Client, common: &Common) {
        if !self.created || common.keep_stream {
            return;
        }
        if let Err(e) = client
            .delete_stream()
            .stream_name(&self.name)
            .enforce_consumer_deletion(true)
            .send()
            .await
            .aws("DeleteStream")
        {
            eprintln!("warning: could not delete stream {}: {e:#}", self.name);
        }
    }
}

/// Record contents: a fixed random body with a fresh timestamp, and a random key.
#[derive(Clone)]
struct Payload {
    body: Arc<Vec<u8>>,
    keys: Arc<Vec<String>>,
}

impl Payload {
    fn new(common: &Common) -> Self {
        let mut body = vec![0u8; common.record_size as usize];
        rand::rng().fill_bytes(&mut body);
        let keys = (0..common.keys).map(|i| format!("key-{i}")).collect();
        Self {
            body: Arc::new(body),
            keys: Arc::new(keys),
        }
    }

    /// A partition key and data stamped with `at_us`; the byte count includes the key.
    fn next(&self, rng: &mut StdRng, at_us: u64) -> (String, Vec<u8>, u64) {
        let key = self.keys[rng.random_range(0..self.keys.len())].clone();
        let mut data = self.body.as_ref().clone();
        stamp(&mut data, at_us);
        let bytes = (key.len() + data.len()) as u64;
        (key, data, bytes)
    }

    fn batch(&self, rng: &mut StdRng, n: u32, at_us: u64) -> (Vec<PutRecordsRequestEntry>, u64) {
        let mut bytes = 0;
        let entries = (0..n)
            .map(|_| {
                let (key, data, b) = self.next(rng, at_us);
                bytes += b;
                PutRecordsRequestEntry::builder()
                    .partition_key(key)
                    .data(Blob::new(data))
                    .build()
                    .expect("data and partition key are set")
            })
            .collect();
        (entries, bytes)
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Writes the send time into the first 12 bytes (record sizes are at least 16).
fn stamp(data: &mut [u8], at_us: u64) {
    data[..8].copy_from_slice(&at_us.to_be_bytes());
    data[8..12].copy_from_slice(STAMP_MARKER);
}

/// The send time of a stamped record.
fn stamp_of(data: &[u8]) -> Option<u64> {
    (data.len() >= 12 && &data[8..12] == STAMP_MARKER)
        .then(|| u64::from_be_bytes(data[..8].try_into().unwrap_or_default()))
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

/// Transport failures back off briefly so a dead server does not turn into a spin loop.
async fn after_error<E, R>(e: &SdkError<E, R>) {
    if !matches!(e, SdkError::ServiceError(_)) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sampler(ctx: &Ctx) -> Option<Sampler> {
    ctx.pid.and_then(Sampler::start)
}

/// `put` and `put-batch`: `connections` workers writing back to back, through the SDK or,
/// with `raw`, the lean client.
pub(super) async fn put(
    ctx: &Ctx,
    connections: u32,
    batch: Option<u32>,
    raw: bool,
) -> anyhow::Result<Outcome> {
    let window = Window::after_warmup(&ctx.common);
    let payload = Payload::new(&ctx.common);
    let mut workers = JoinSet::new();
    for _ in 0..connections {
        if raw {
            workers.spawn(raw_put_worker(
                ctx.endpoint.clone(),
                ctx.stream.clone(),
                payload.clone(),
                ctx.live.clone(),
                window,
                batch,
            ));
        } else {
            workers.spawn(put_worker(
                ctx.client.clone(),
                ctx.stream.clone(),
                payload.clone(),
                ctx.live.clone(),
                window,
                batch,
            ));
        }
    }
    tokio::time::sleep_until(window.measure_from.into()).await;
    let sampler = sampler(ctx);
    let mut total = Recorder::default();
    while let Some(r) = workers.join_next().await {
        total.merge(&r.context("a put worker failed")?);
    }
    Ok(Outcome {
        elapsed: ctx.common.duration,
        put: Some(total.traffic(ctx.common.duration)),
        get: None,
        end_to_end: None,
        server: sampler.and_then(Sampler::finish),
    })
}

async fn put_worker(
    client: Client,
    stream: String,
    payload: Payload,
    live: Arc<Live>,
    window: Window,
    batch: Option<u32>,
) -> Recorder {
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut rec = Recorder::default();
    loop {
        let started = Instant::now();
        if started >= window.end {
            return rec;
        }
        let at = now_micros();
        let counts = window.counts(at);
        match batch {
            None => {
                let (key, data, bytes) = payload.next(&mut rng, at);
                let result = client
                    .put_record()
                    .stream_name(&stream)
                    .partition_key(key)
                    .data(Blob::new(data))
                    .send()
                    .await;
                let latency = started.elapsed();
                match result {
                    Ok(_) => {
                        live.add_records(1);
                        if counts {
                            rec.answered(1, 1, bytes, latency, None::<String>);
                        }
                    }
                    Err(e) => {
                        live.add_errors(1);
                        if counts {
                            rec.error(classify(&e), 1);
                            rec.latency.record(latency);
                        }
                        after_error(&e).await;
                    }
                }
            }
            Some(n) => {
                let (entries, bytes) = payload.batch(&mut rng, n, at);
                put_batch(
                    &client,
                    &stream,
                    entries,
                    bytes,
                    &live,
                    counts.then_some(&mut rec),
                )
                .await;
            }
        }
    }
}

/// [`put_worker`] through the lean client: one kept-alive connection, reopened after a
/// transport failure.
async fn raw_put_worker(
    endpoint: String,
    stream: String,
    payload: Payload,
    live: Arc<Live>,
    window: Window,
    batch: Option<u32>,
) -> Recorder {
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut rec = Recorder::default();
    let mut conn: Option<RawConn> = None;
    let n = u64::from(batch.unwrap_or(1));
    loop {
        let started = Instant::now();
        if started >= window.end {
            return rec;
        }
        let at = now_micros();
        let counts = window.counts(at);
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match RawConn::connect(&endpoint).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    live.add_errors(n);
                    if counts {
                        rec.error("ConnectionError", n);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let records: Vec<(String, Vec<u8>, u64)> =
            (0..n).map(|_| payload.next(&mut rng, at)).collect();
        let bytes: u64 = records.iter().map(|r| r.2).sum();
        let (operation, body) = match batch {
            None => (
                "PutRecord",
                put_record_body(&stream, &records[0].0, &records[0].1),
            ),
            Some(_) => (
                "PutRecords",
                put_records_body(
                    &stream,
                    records.iter().map(|(k, d, _)| (k.as_str(), d.as_slice())),
                ),
            ),
        };
        let outcome = c.call(operation, body).await;
        let latency = started.elapsed();
        match outcome {
            RawOutcome::Ok(answer) => {
                let failed = match batch {
                    None => Vec::new(),
                    Some(_) => put_records_failures(&answer)
                        .unwrap_or_else(|| vec!["ResponseError".to_owned(); n as usize]),
                };
                let ok = n - failed.len() as u64;
                live.add_records(ok);
                live.add_errors(failed.len() as u64);
                if counts {
                    rec.answered(n, ok, bytes, latency, failed);
                }
            }
            RawOutcome::Aws(code) => {
                live.add_errors(n);
                if counts {
                    rec.error(code, n);
                    rec.latency.record(latency);
                }
            }
            RawOutcome::Transport => {
                conn = None;
                live.add_errors(n);
                if counts {
                    rec.error("ConnectionError", n);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// One PutRecords call, counted into `rec` when given. Returns the records accepted.
async fn put_batch(
    client: &Client,
    stream: &str,
    entries: Vec<PutRecordsRequestEntry>,
    bytes: u64,
    live: &Live,
    rec: Option<&mut Recorder>,
) -> u64 {
    let n = entries.len() as u64;
    let started = Instant::now();
    let result = client
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await;
    let latency = started.elapsed();
    match result {
        Ok(out) => {
            let failed = out.failed_record_count().unwrap_or(0).max(0) as u64;
            live.add_records(n - failed);
            live.add_errors(failed);
            if let Some(rec) = rec {
                let codes = out.records().iter().filter_map(|r| r.error_code());
                rec.answered(n, n - failed, bytes, latency, codes);
            }
            n - failed
        }
        Err(e) => {
            live.add_errors(n);
            if let Some(rec) = rec {
                rec.error(classify(&e), n);
                rec.latency.record(latency);
            }
            after_error(&e).await;
            0
        }
    }
}

/// `get`: fill the stream with `records`, then drain every shard from the trim horizon.
pub(super) async fn get(
    ctx: &Ctx,
    records: u64,
    limit: i32,
    bar: &ProgressBar,
) -> anyhow::Result<Outcome> {
    bar.set_prefix("get (filling)");
    fill(ctx, records).await?;
    bar.set_prefix("get (draining)");
    let shards = crate::cli::streams::list_shards(&ctx.client, &ctx.stream).await?;
    ctx.live.records.store(0, Ordering::Relaxed);
    let sampler = sampler(ctx);
    let started = Instant::now();
    let mut readers = JoinSet::new();
    for shard in shards {
        let (client, stream, live) = (ctx.client.clone(), ctx.stream.clone(), ctx.live.clone());
        readers.spawn(async move {
            drain_shard(&client, &stream, shard.shard_id(), limit, &live).await
        });
    }
    let mut total = Recorder::default();
    while let Some(r) = readers.join_next().await {
        total.merge(&r.context("a reader failed")??);
    }
    let elapsed = started.elapsed();
    if total.records != records {
        eprintln!(
            "warning: wrote {records} records but drained {} (a stream given with --stream may hold more)",
            total.records
        );
    }
    Ok(Outcome {
        elapsed,
        put: None,
        get: Some(total.traffic(elapsed)),
        end_to_end: None,
        server: sampler.and_then(Sampler::finish),
    })
}

/// Writes `records` records with 8 concurrent PutRecords of 500, resending failed entries.
async fn fill(ctx: &Ctx, records: u64) -> anyhow::Result<()> {
    const FILLERS: u64 = 8;
    let payload = Payload::new(&ctx.common);
    let mut fillers = JoinSet::new();
    for i in 0..FILLERS {
        let share = records / FILLERS + u64::from(i < records % FILLERS);
        let (client, stream, live, payload) = (
            ctx.client.clone(),
            ctx.stream.clone(),
            ctx.live.clone(),
            payload.clone(),
        );
        fillers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(rand::random());
            let mut left = share;
            let mut failures = 0u32;
            while left > 0 {
                let n = left.min(500) as u32;
                let (entries, bytes) = payload.batch(&mut rng, n, now_micros());
                let ok = put_batch(&client, &stream, entries, bytes, &live, None).await;
                left -= ok;
                if ok < u64::from(n) {
                    failures += 1;
                    anyhow::ensure!(failures < 1000, "filling the stream keeps failing");
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(failures.min(20))))
                        .await;
                }
            }
            Ok(())
        });
    }
    while let Some(r) = fillers.join_next().await {
        r.context("a filler failed")??;
    }
    Ok(())
}

async fn drain_shard(
    client: &Client,
    stream: &str,
    shard: &str,
    limit: i32,
    live: &Live,
) -> anyhow::Result<Recorder> {
    let mut rec = Recorder::default();
    let mut iterator = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .aws("GetShardIterator")?
        .shard_iterator
        .context("GetShardIterator returned no iterator")?;
    loop {
        let started = Instant::now();
        let result = client
            .get_records()
            .shard_iterator(&iterator)
            .limit(limit)
            .send()
            .await;
        rec.latency.record(started.elapsed());
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                live.add_errors(1);
                rec.error(classify(&e), 1);
                anyhow::ensure!(
                    rec.errors.values().sum::<u64>() < 1000,
                    "GetRecords keeps failing on {shard}"
                );
                after_error(&e).await;
                continue;
            }
        };
        rec.requests += 1;
        let n = out.records().len() as u64;
        rec.records += n;
        rec.bytes += out
            .records()
            .iter()
            .map(|r| (r.data().as_ref().len() + r.partition_key().map_or(0, str::len)) as u64)
            .sum::<u64>();
        live.add_records(n);
        let caught_up = n == 0 && out.millis_behind_latest().unwrap_or(0) == 0;
        match out.next_shard_iterator {
            Some(next) if !caught_up => iterator = next,
            _ => return Ok(rec),
        }
    }
}

/// Consumers' shared counters.
#[derive(Default)]
struct ConsumerTally {
    rec: Mutex<Recorder>,
    end_to_end: Mutex<Latencies>,
    seen: AtomicU64,
}

impl ConsumerTally {
    /// Counts a response's records (`(bytes, stamp)` pairs): records stamped inside the
    /// window count towards throughput and end-to-end latency; unstamped records (a stream given
    /// with `--stream` may hold foreign data) count when received inside the window.
    fn absorb(&self, window: &Window, batch: &[(u64, Option<u64>)], latency: Option<Duration>) {
        let now = now_micros();
        self.seen.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut rec = self.rec.lock().unwrap_or_else(|p| p.into_inner());
        if window.counts(now) {
            rec.requests += u64::from(latency.is_some());
            if let Some(l) = latency {
                rec.latency.record(l);
            }
        }
        let mut e2e = self.end_to_end.lock().unwrap_or_else(|p| p.into_inner());
        for (bytes, sent) in batch {
            if window.counts(sent.unwrap_or(now)) {
                rec.records += 1;
                rec.bytes += bytes;
                if let Some(sent) = sent {
                    e2e.record_us(now.saturating_sub(*sent));
                }
            }
        }
    }

    fn error(&self, code: String) {
        self.rec
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .error(code, 1);
    }
}

/// `latency`: a paced producer at `rate` records/s while consumers read every shard.
pub(super) async fn latency(
    ctx: &Ctx,
    rate: u32,
    kind: ConsumerKind,
    poll_interval: Duration,
) -> anyhow::Result<Outcome> {
    let window = Window::after_warmup(&ctx.common);
    let readers = Readers::start(ctx, kind, poll_interval, window).await?;
    let sampler = sampler(ctx);
    let produced = paced_producer(ctx, rate, window).await;
    readers.finish(ctx, window, produced, sampler).await
}

/// `mixed`: full-speed batch producers while consumers read every shard.
pub(super) async fn mixed(
    ctx: &Ctx,
    producers: u32,
    batch: u32,
    poll_interval: Duration,
) -> anyhow::Result<Outcome> {
    let window = Window::after_warmup(&ctx.common);
    let readers = Readers::start(ctx, ConsumerKind::Polling, poll_interval, window).await?;
    let payload = Payload::new(&ctx.common);
    let mut workers = JoinSet::new();
    for _ in 0..producers {
        workers.spawn(put_worker(
            ctx.client.clone(),
            ctx.stream.clone(),
            payload.clone(),
            ctx.live.clone(),
            window,
            Some(batch),
        ));
    }
    tokio::time::sleep_until(window.measure_from.into()).await;
    let sampler = sampler(ctx);
    let mut total = Recorder::default();
    while let Some(r) = workers.join_next().await {
        total.merge(&r.context("a put worker failed")?);
    }
    readers.finish(ctx, window, total, sampler).await
}

/// Paces PutRecords so that `rate` records/s are offered: every millisecond, the records due
/// so far go out in one call, with at most 256 calls in flight.
async fn paced_producer(ctx: &Ctx, rate: u32, window: Window) -> Recorder {
    let payload = Payload::new(&ctx.common);
    let total = Arc::new(Mutex::new(Recorder::default()));
    let in_flight = Arc::new(Semaphore::new(256));
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    let mut offered = 0u64;
    let mut calls = JoinSet::new();
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
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let at = now_micros();
        let (entries, bytes) = payload.batch(&mut rng, n as u32, at);
        let (client, stream, live, total) = (
            ctx.client.clone(),
            ctx.stream.clone(),
            ctx.live.clone(),
            total.clone(),
        );
        let counts = window.counts(at);
        calls.spawn(async move {
            let mut rec = Recorder::default();
            put_batch(&client, &stream, entries, bytes, &live, Some(&mut rec)).await;
            if counts {
                total.lock().unwrap_or_else(|p| p.into_inner()).merge(&rec);
            }
            drop(permit);
        });
        while calls.try_join_next().is_some() {}
    }
    while calls.join_next().await.is_some() {}
    total.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Consumers on every open shard of the stream.
struct Readers {
    tally: Arc<ConsumerTally>,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<anyhow::Result<()>>,
    consumer_arn: Option<String>,
}

impl Readers {
    async fn start(
        ctx: &Ctx,
        kind: ConsumerKind,
        poll_interval: Duration,
        window: Window,
    ) -> anyhow::Result<Self> {
        let shards = crate::cli::streams::list_shards(&ctx.client, &ctx.stream).await?;
        let consumer_arn = match kind {
            ConsumerKind::Polling => None,
            ConsumerKind::Efo => Some(register_consumer(&ctx.client, &ctx.stream).await?),
        };
        let tally = Arc::new(ConsumerTally::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        let open = shards.into_iter().filter(|s| {
            s.sequence_number_range()
                .is_some_and(|r| r.ending_sequence_number().is_none())
        });
        for shard in open {
            let shard_id = shard.shard_id().to_owned();
            let (client, tally, stop) = (ctx.client.clone(), tally.clone(), stop.clone());
            match &consumer_arn {
                None => {
                    let iterator = client
                        .get_shard_iterator()
                        .stream_name(&ctx.stream)
                        .shard_id(&shard_id)
                        .shard_iterator_type(ShardIteratorType::Latest)
                        .send()
                        .await
                        .aws("GetShardIterator")?
                        .shard_iterator
                        .context("GetShardIterator returned no iterator")?;
                    tasks.spawn(poll_loop(
                        client,
                        iterator,
                        tally,
                        stop,
                        window,
                        poll_interval,
                    ));
                }
                Some(arn) => {
                    tasks.spawn(subscribe_loop(
                        client,
                        arn.clone(),
                        shard_id,
                        tally,
                        stop,
                        window,
                    ));
                }
            }
        }
        Ok(Self {
            tally,
            stop,
            tasks,
            consumer_arn,
        })
    }

    /// Waits until consumers have seen every record the producers wrote (or the grace period
    /// ends), stops them and builds the outcome.
    async fn finish(
        mut self,
        ctx: &Ctx,
        window: Window,
        produced: Recorder,
        sampler: Option<Sampler>,
    ) -> anyhow::Result<Outcome> {
        let target = ctx.live.records.load(Ordering::Relaxed);
        let deadline = Instant::now() + DRAIN_GRACE;
        while self.tally.seen.load(Ordering::Relaxed) < target && Instant::now() < deadline {
            if let Some(done) = self.tasks.try_join_next() {
                done.context("a consumer failed")??;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let server = sampler.and_then(Sampler::finish);
        self.stop.store(true, Ordering::Relaxed);
        while let Some(done) = self.tasks.join_next().await {
            done.context("a consumer failed")??;
        }
        if let Some(arn) = &self.consumer_arn {
            let _ = ctx
                .client
                .deregister_stream_consumer()
                .consumer_arn(arn)
                .send()
                .await;
        }
        let seen = self.tally.seen.load(Ordering::Relaxed);
        if seen < target {
            eprintln!("warning: consumers saw {seen} of {target} records written");
        }
        let elapsed = window.end - window.measure_from;
        let rec = self
            .tally
            .rec
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let e2e = self
            .tally
            .end_to_end
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary();
        Ok(Outcome {
            elapsed,
            put: Some(produced.traffic(elapsed)),
            get: Some(rec.traffic(elapsed)),
            end_to_end: e2e,
            server,
        })
    }
}

/// Each record's size (data plus key) and send stamp, for [`ConsumerTally::absorb`].
fn sizes_and_stamps(records: &[aws_sdk_kinesis::types::Record]) -> Vec<(u64, Option<u64>)> {
    records
        .iter()
        .map(|r| {
            let data = r.data().as_ref();
            (
                (data.len() + r.partition_key().map_or(0, str::len)) as u64,
                stamp_of(data),
            )
        })
        .collect()
}

/// Reads one shard with GetRecords until stopped.
async fn poll_loop(
    client: Client,
    mut iterator: String,
    tally: Arc<ConsumerTally>,
    stop: Arc<AtomicBool>,
    window: Window,
    poll_interval: Duration,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let result = client.get_records().shard_iterator(&iterator).send().await;
        let latency = started.elapsed();
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                tally.error(classify(&e));
                after_error(&e).await;
                continue;
            }
        };
        let batch = sizes_and_stamps(out.records());
        let empty = batch.is_empty();
        tally.absorb(&window, &batch, Some(latency));
        match out.next_shard_iterator {
            Some(next) => iterator = next,
            None => return Ok(()),
        }
        if empty && !poll_interval.is_zero() {
            tokio::time::sleep(poll_interval).await;
        }
    }
    Ok(())
}

/// Registers a consumer for the stream and waits until it is ACTIVE.
async fn register_consumer(client: &Client, stream: &str) -> anyhow::Result<String> {
    let arn = client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .aws("DescribeStreamSummary")?
        .stream_description_summary
        .context("DescribeStreamSummary returned no summary")?
        .stream_arn;
    let consumer = client
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name(format!("freshet-bench-{:08x}", rand::random::<u32>()))
        .send()
        .await
        .aws("RegisterStreamConsumer")?
        .consumer
        .context("RegisterStreamConsumer returned no consumer")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = client
            .describe_stream_consumer()
            .consumer_arn(consumer.consumer_arn())
            .send()
            .await
            .aws("DescribeStreamConsumer")?
            .consumer_description
            .context("DescribeStreamConsumer returned no description")?;
        if *d.consumer_status() == ConsumerStatus::Active {
            return Ok(consumer.consumer_arn().to_owned());
        }
        anyhow::ensure!(Instant::now() < deadline, "consumer did not become ACTIVE");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads one shard with SubscribeToShard until stopped, re-subscribing after the
/// subscription's lifetime from the last continuation sequence number.
async fn subscribe_loop(
    client: Client,
    consumer_arn: String,
    shard_id: String,
    tally: Arc<ConsumerTally>,
    stop: Arc<AtomicBool>,
    window: Window,
) -> anyhow::Result<()> {
    let mut position = StartingPosition::builder()
        .r#type(ShardIteratorType::Latest)
        .build()
        .context("starting position")?;
    while !stop.load(Ordering::Relaxed) {
        let out = match client
            .subscribe_to_shard()
            .consumer_arn(&consumer_arn)
            .shard_id(&shard_id)
            .starting_position(position.clone())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                tally.error(classify(&e));
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut events = out.event_stream;
        loop {
            let next = tokio::select! {
                next = events.recv() => next,
                () = tokio::time::sleep(Duration::from_millis(50)) => {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    continue;
                }
            };
            match next {
                Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(ev))) => {
                    let batch = sizes_and_stamps(ev.records());
                    tally.absorb(&window, &batch, None);
                    // The SDK models the member as required and gives "" when AWS sends none,
                    // which is how a shard's end is signalled.
                    match Some(ev.continuation_sequence_number()).filter(|s| !s.is_empty()) {
                        Some(seq) => {
                            position = StartingPosition::builder()
                                .r#type(ShardIteratorType::AfterSequenceNumber)
                                .sequence_number(seq)
                                .build()
                                .context("starting position")?;
                        }
                        // The shard ended; the benchmark stream is not resharded.
                        None => return Ok(()),
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    tally.error(classify(&e));
                    break;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let mut data = vec![7u8; 32];
        stamp(&mut data, 1_700_000_000_123_456);
        assert_eq!(stamp_of(&data), Some(1_700_000_000_123_456));
        assert_eq!(stamp_of(&[0u8; 32]), None);
        assert_eq!(stamp_of(b"short"), None);
    }
}
