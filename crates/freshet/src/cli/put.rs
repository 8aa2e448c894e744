// SPDX-License-Identifier: Apache-2.0
//! `freshet put`: one record per input line, sent with PutRecords, in order per partition key.
//!
//! A blocking reader thread turns lines into records (choosing each partition key) and routes
//! each one to one of `--concurrency` lanes. A lane packs its records into batches that respect
//! the PutRecords limits (count and 5 MiB per request) and sends them one request at a time.
//! Entries that fail inside an otherwise successful request are resent, alone and with
//! exponential backoff, before the lane sends its next batch; a request that fails as a whole
//! stops the command. A key whose records are all finished may move to the least loaded lane
//! (see [`Router`]), so a few hot keys or a slow lane do not leave the other lanes idle.
//!
//! Invariant, order per partition key (unless `--unordered` gives it up for speed with few
//! keys): a key's unfinished records are all on one lane, and a lane has one request in
//! flight, so no two requests in flight ever hold records of the same key, and a failed entry
//! is stored (or given up) before any later record of its key is sent.
//! Kinesis stores the entries of one request in request order per shard, and Freshet refuses
//! (throttles) only a suffix of each shard's entries, so resending the failed ones keeps the
//! order exactly. AWS does not document which entries it refuses: should it refuse one entry
//! and store a later entry of the same key in the same request, those two would be inverted,
//! which no PutRecords client can prevent short of one record per key per request.
//!
//! With `--aggregate`, lines are packed into KPL aggregated records of up to 50 KiB (the KPL's
//! default `AggregationMaxSize`), one open aggregate per shard, as the KPL does: the shard map
//! comes from ListShards, each line joins the aggregate of the shard its partition key hashes
//! to, and the aggregate is put with the partition key of its first line, so it lands on that
//! shard with every user record it holds. The KCL depends on this: it drops an aggregate holding
//! a user record whose hash key lies outside the shard it read it from. Aggregates are routed
//! by shard, so a key's aggregates are never in flight together. When an aggregate lands on
//! another shard than predicted (the stream was resharded during the put), the reader closes
//! its aggregates, waits until every lane is idle (no key has records in flight under the old
//! map) and reads the shard map again.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, Shard};
use clap::Args;
use freshet_types::hash::{parse_hash_key, partition_key_hash};
use freshet_types::kpl::Aggregator;
use rand::Rng as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::cli::client::{AwsResultExt, error_code};
use crate::cli::streams::list_shards;

/// Most records in one PutRecords request.
const MAX_BATCH_RECORDS: u32 = 500;
/// Most bytes (data plus partition keys) in one PutRecords request.
const MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;
/// Most bytes (data plus partition key) in one record.
const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Longest partition key, in Unicode scalar values.
const MAX_PARTITION_KEY_CHARS: usize = 256;
/// Largest KPL aggregate `--aggregate` builds: the KPL's default AggregationMaxSize.
const MAX_AGGREGATE_BYTES: usize = 51_200;
/// Most bytes of user records held in open aggregates before all of them are closed, so that
/// a stream with thousands of shards cannot make the reader hold 50 KiB for each.
const MAX_OPEN_AGGREGATE_BYTES: usize = 8 * 1024 * 1024;
/// Full batches queued per lane ahead of the one it is sending.
const LANE_QUEUE: usize = 2;
/// Request-level errors worth retrying after the SDK's own retries gave up.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "InternalFailure",
    "InternalFailureException",
    "ServiceUnavailable",
    "KMSThrottlingException",
];

/// `freshet put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// Stream name.
    pub stream: String,
    /// Input file, one record per line; standard input when absent or "-".
    pub file: Option<PathBuf>,
    /// Use this partition key for every record.
    #[arg(long, conflicts_with = "key_field")]
    pub partition_key: Option<String>,
    /// Parse each line as JSON and use this top-level field (string or number) as the key.
    #[arg(long)]
    pub key_field: Option<String>,
    /// Keep the trailing newline in each record's data.
    #[arg(long)]
    pub keep_newline: bool,
    /// Most records per PutRecords request.
    #[arg(long, default_value_t = MAX_BATCH_RECORDS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_BATCH_RECORDS)))]
    pub batch_size: u32,
    /// PutRecords requests in flight at once. Records of one partition key always share one
    /// request pipeline, so each key stays in order whatever this is.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Let records of one partition key be in several requests in flight at once: faster
    /// with few keys, but Kinesis may then store a key's records out of input order.
    #[arg(long)]
    pub unordered: bool,
    /// Attempts per record before it counts as failed.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Pack lines into KPL aggregated records (up to 50 KiB each, one per shard, keyed by their
    /// first line's partition key); the summary then counts aggregated records.
    #[arg(long)]
    pub aggregate: bool,
}

/// How each record's partition key is chosen.
#[derive(Debug, Clone)]
enum KeySource {
    Fixed(String),
    Field(String),
    Random,
}

/// A record ready to send.
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    data: Blob,
    /// For an aggregate: the shard it was built for, which it must land on.
    shard: Option<Arc<str>>,
    /// What it is routed by (see [`Router`]), set by the router.
    unit: u64,
}

impl Entry {
    fn plain(key: String, data: Vec<u8>) -> Entry {
        Entry {
            key,
            data: Blob::new(data),
            shard: None,
            unit: 0,
        }
    }

    fn size(&self) -> usize {
        self.key.len() + self.data.as_ref().len()
    }
}

/// What happened to the records of one batch.
#[derive(Debug, Default)]
struct Outcome {
    sent: u64,
    failed: u64,
    bytes: u64,
    /// Aggregates that landed on another shard than the one they were built for.
    misrouted: u64,
    /// Final failure counts per AWS error code, with one example message.
    errors: BTreeMap<String, (u64, String)>,
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.misrouted += other.misrouted;
        for (code, (n, msg)) in other.errors {
            self.errors.entry(code).or_insert((0, msg)).0 += n;
        }
    }
}

/// What the reader and the lanes tell each other.
#[derive(Debug, Default)]
struct Shared {
    /// A lane hit a fatal error: the other lanes stop taking batches and the reader stops.
    stop: AtomicBool,
    /// An aggregate landed on an unexpected shard: the reader must read the shard map again.
    stale: AtomicBool,
}

/// A lane's work, in order.
#[derive(Debug)]
enum Work {
    Batch(Vec<Entry>),
    /// Answered once every batch before it has been sent, so the lane is idle.
    Sync(oneshot::Sender<()>),
}

/// Runs `freshet put`.
pub async fn run(client: Client, args: PutArgs) -> anyhow::Result<ExitCode> {
    let keys = match (&args.partition_key, &args.key_field) {
        (Some(k), _) => {
            check_key(k).map_err(|e| anyhow::anyhow!("--partition-key: {e}"))?;
            KeySource::Fixed(k.clone())
        }
        (None, Some(f)) => KeySource::Field(f.clone()),
        (None, None) => KeySource::Random,
    };
    let input: Box<dyn BufRead + Send> = match &args.file {
        Some(path) if path.as_os_str() != "-" => Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
        _ => Box::new(BufReader::new(std::io::stdin())),
    };
    let aggregates = if args.aggregate {
        let map = ShardMap::fetch(&client, &args.stream).await?;
        let handle = tokio::runtime::Handle::current();
        let (client, stream) = (client.clone(), args.stream.clone());
        // Runs on the reader's blocking thread, which may block on the runtime.
        let refresh: Refresh = Box::new(move || handle.block_on(ShardMap::fetch(&client, &stream)));
        Some(Aggregates::new(map, refresh))
    } else {
        None
    };

    let shared = Arc::new(Shared::default());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let mut lanes = JoinSet::new();
    let mut senders = Vec::with_capacity(args.concurrency as usize);
    for index in 0..args.concurrency as usize {
        let (tx, rx) = mpsc::channel(LANE_QUEUE);
        senders.push(tx);
        let lane = Lane {
            index,
            client: client.clone(),
            stream: args.stream.clone(),
            max_attempts: args.max_attempts,
            shared: Arc::clone(&shared),
            done: done_tx.clone(),
        };
        lanes.spawn(lane.run(rx));
    }
    let mut router = Router::new(
        senders,
        done_rx,
        args.batch_size as usize,
        Arc::clone(&shared),
    );
    router.ordered = !args.unordered && (!matches!(keys, KeySource::Random) || args.aggregate);
    let lines = LineOptions {
        keys,
        keep_newline: args.keep_newline,
    };
    let started = Instant::now();
    let reader =
        tokio::task::spawn_blocking(move || read_lines(input, &lines, &mut router, aggregates));

    let mut total = Outcome::default();
    let mut fatal: Option<anyhow::Error> = None;
    while let Some(res) = lanes.join_next().await {
        match res {
            Ok((outcome, err)) => {
                total.absorb(outcome);
                if let Some(err) = err {
                    fatal.get_or_insert(err);
                }
            }
            Err(join) => {
                fatal.get_or_insert(anyhow::anyhow!("a PutRecords lane failed: {join}"));
            }
        }
    }
    let read_result = reader.await.context("the input reader panicked")?;
    print_summary(&total, started.elapsed());
    if let Some(err) = fatal {
        return Err(err);
    }
    read_result?;
    Ok(if total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(total: &Outcome, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    println!(
        "sent {} records, {} failed, {} bytes in {:.3}s ({:.0} records/s, {:.2} MiB/s)",
        total.sent,
        total.failed,
        total.bytes,
        secs,
        total.sent as f64 / secs,
        total.bytes as f64 / secs / (1024.0 * 1024.0),
    );
    for (code, (n, msg)) in &total.errors {
        println!("  {n} x {code}: {msg}");
    }
    if total.misrouted > 0 {
        println!(
            "  {} aggregated records landed on another shard than ListShards predicted: the \
             stream was resharded during the put, and their user records may span two shards",
            total.misrouted
        );
    }
}

/// How input lines become records.
#[derive(Debug, Clone)]
struct LineOptions {
    keys: KeySource,
    keep_newline: bool,
}

/// The reader's side of the lanes: which lane each record goes to, and one batch being
/// filled per lane.
///
/// Records are routed by unit: their partition key or, for an aggregate, the shard it was
/// built for, known by a 64-bit hash (units that share a hash merely share a lane). A unit with
/// unfinished records (routed, but not yet stored or given up) stays on its lane; a unit with
/// none goes to the lane with the fewest unfinished records. Lanes stay evenly loaded, and a
/// unit's records are never on two lanes at once. Random partition keys are unique, so with
/// them (and no aggregation), or with `--unordered`, there is no order to keep: records fill
/// one lane's batch, and the next batch goes to the least loaded lane. That keeps each batch's
/// lines together, where spreading them one by one over the lanes cost about a fifth of the
/// throughput against a no-op server.
struct Router {
    lanes: Vec<Batcher>,
    shared: Arc<Shared>,
    /// Whether units are tracked; see above.
    ordered: bool,
    /// Without units: the lane whose batch is being filled.
    filling: usize,
    /// Units with unfinished records: their lane and how many.
    busy: HashMap<u64, (usize, u64), BuildHasherDefault<UnitHasher>>,
    /// Unfinished records per lane.
    load: Vec<u64>,
    /// From the lanes: a lane's index and the units of the records of a batch it finished.
    done: std::sync::mpsc::Receiver<Done>,
}

/// A lane's report of a finished batch: the lane's index and the units of its records.
type Done = (usize, Vec<u64>);

/// Hashes a unit, which is a hash already, to itself.
#[derive(Default)]
struct UnitHasher(u64);

impl std::hash::Hasher for UnitHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Router {
    fn new(
        senders: Vec<mpsc::Sender<Work>>,
        done: std::sync::mpsc::Receiver<Done>,
        batch_size: usize,
        shared: Arc<Shared>,
    ) -> Router {
        let lanes: Vec<Batcher> = senders
            .into_iter()
            .map(|tx| Batcher {
                batch: Vec::new(),
                bytes: 0,
                size: batch_size,
                tx,
            })
            .collect();
        Router {
            load: vec![0; lanes.len()],
            lanes,
            shared,
            ordered: true,
            filling: 0,
            busy: HashMap::default(),
            done,
        }
    }

    /// Adds an entry to its lane's batch; `false` once the command is stopping.
    fn push(&mut self, mut entry: Entry) -> bool {
        if self.shared.stop.load(Ordering::Relaxed) {
            return false;
        }
        self.settle();
        let lane = if self.ordered {
            let unit = BuildHasherDefault::<DefaultHasher>::default()
                .hash_one(entry.shard.as_deref().unwrap_or(&entry.key));
            entry.unit = unit;
            match self.busy.get_mut(&unit) {
                Some((lane, n)) => {
                    *n += 1;
                    *lane
                }
                None => {
                    let lane = self.least_loaded();
                    self.busy.insert(unit, (lane, 1));
                    lane
                }
            }
        } else {
            self.filling
        };
        if let Some(load) = self.load.get_mut(lane) {
            *load += 1;
        }
        let Some(batcher) = self.lanes.get_mut(lane) else {
            return false;
        };
        let sent = batcher.push(entry);
        if !self.ordered && batcher.batch.is_empty() {
            self.settle();
            self.filling = self.least_loaded();
        }
        sent
    }

    /// The lane with the fewest unfinished records (the first of equals).
    fn least_loaded(&self) -> usize {
        (0..self.load.len())
            .min_by_key(|&i| self.load[i])
            .unwrap_or(0)
    }

    /// Takes in what the lanes finished.
    fn settle(&mut self) {
        while let Ok((lane, units)) = self.done.try_recv() {
            if let Some(load) = self.load.get_mut(lane) {
                *load = load.saturating_sub(units.len() as u64);
            }
            if !self.ordered {
                continue;
            }
            for unit in units {
                if let Some((_, n)) = self.busy.get_mut(&unit) {
                    *n -= 1;
                    if *n == 0 {
                        self.busy.remove(&unit);
                    }
                }
            }
        }
    }

    /// Sends every partly filled batch.
    fn flush(&mut self) -> bool {
        self.lanes.iter_mut().all(Batcher::flush)
    }

    /// Sends every partly filled batch and waits until every lane has sent everything.
    fn sync(&mut self) -> bool {
        if !self.flush() {
            return false;
        }
        let mut acks = Vec::with_capacity(self.lanes.len());
        for lane in &self.lanes {
            let (tx, rx) = oneshot::channel();
            if lane.tx.blocking_send(Work::Sync(tx)).is_err() {
                return false;
            }
            acks.push(rx);
        }
        // A lane that stopped drops its queue, and with it the ack's sender.
        acks.into_iter().all(|rx| rx.blocking_recv().is_ok())
    }
}

/// Packs one lane's entries into batches that respect the PutRecords limits.
struct Batcher {
    batch: Vec<Entry>,
    bytes: usize,
    size: usize,
    tx: mpsc::Sender<Work>,
}

impl Batcher {
    /// Adds an entry; returns `false` once the lane has gone away.
    fn push(&mut self, entry: Entry) -> bool {
        let size = entry.size();
        if !self.batch.is_empty() && self.bytes + size > MAX_REQUEST_BYTES && !self.flush() {
            return false;
        }
        self.bytes += size;
        self.batch.push(entry);
        self.batch.len() < self.size || self.flush()
    }

    fn flush(&mut self) -> bool {
        self.bytes = 0;
        self.batch.is_empty()
            || self
                .tx
                .blocking_send(Work::Batch(std::mem::take(&mut self.batch)))
                .is_ok()
    }
}

/// Reads the shard map again (ListShards) from the reader's thread.
type Refresh = Box<dyn FnMut() -> anyhow::Result<ShardMap> + Send>;

/// The open shards of a stream, by starting hash key, as ListShards reported them.
#[derive(Debug, Clone, PartialEq)]
struct ShardMap {
    /// Sorted; the first is 0 and each range ends where the next begins.
    starts: Vec<u128>,
    ids: Vec<Arc<str>>,
}

impl ShardMap {
    async fn fetch(client: &Client, stream: &str) -> anyhow::Result<ShardMap> {
        ShardMap::from_shards(&list_shards(client, stream).await?)
            .with_context(|| format!("ListShards of {stream}"))
    }

    /// The open shards (those without an ending sequence number) of a ListShards answer.
    fn from_shards(shards: &[Shard]) -> anyhow::Result<ShardMap> {
        let mut open: Vec<(u128, Arc<str>)> = Vec::new();
        for shard in shards {
            let closed = shard
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some();
            if closed {
                continue;
            }
            let start = shard
                .hash_key_range()
                .and_then(|r| parse_hash_key(r.starting_hash_key()))
                .with_context(|| {
                    format!("shard {} has no valid hash key range", shard.shard_id())
                })?;
            open.push((start, Arc::from(shard.shard_id())));
        }
        open.sort_by_key(|&(start, _)| start);
        if open.first().is_none_or(|&(start, _)| start != 0) {
            anyhow::bail!("the open shards do not cover the hash key space");
        }
        let (starts, ids) = open.into_iter().unzip();
        Ok(ShardMap { starts, ids })
    }

    /// The index of the shard that owns `hash`.
    fn route(&self, hash: u128) -> usize {
        self.starts
            .partition_point(|&s| s <= hash)
            .saturating_sub(1)
    }
}

/// `--aggregate`: one open KPL aggregate per shard of the map.
struct Aggregates {
    map: ShardMap,
    refresh: Refresh,
    /// By shard index in `map`.
    open: HashMap<usize, OpenAggregate>,
    /// Bytes of user records in `open`.
    bytes: usize,
}

struct OpenAggregate {
    agg: Aggregator,
    /// Bytes of its user records (data plus partition keys).
    bytes: usize,
    /// The partition key of its first user record, which the Kinesis record is put with.
    key: String,
    /// The input line of its last user record, to name in errors.
    last_line: u64,
}

impl Aggregates {
    fn new(map: ShardMap, refresh: Refresh) -> Aggregates {
        Aggregates {
            map,
            refresh,
            open: HashMap::new(),
            bytes: 0,
        }
    }

    /// Adds a line; closes (and routes) the aggregates that cannot take more first.
    fn push(
        &mut self,
        router: &mut Router,
        key: String,
        data: &[u8],
        line_no: u64,
    ) -> anyhow::Result<bool> {
        if router.shared.stale.load(Ordering::Relaxed) {
            if !self.close_all(router)? || !router.sync() {
                return Ok(false);
            }
            router.shared.stale.store(false, Ordering::Relaxed);
            self.map = (self.refresh)()?;
        }
        let shard = self.map.route(partition_key_hash(&key));
        let full = self.open.get(&shard).is_some_and(|o| {
            o.agg.encoded_len_with(&key, None, data) + o.key.len() > MAX_AGGREGATE_BYTES
        });
        if full && !self.close(router, shard)? {
            return Ok(false);
        }
        let open = self.open.entry(shard).or_insert_with(|| OpenAggregate {
            agg: Aggregator::new(),
            bytes: 0,
            key: key.clone(),
            last_line: line_no,
        });
        open.agg.push(&key, None, data);
        open.bytes += key.len() + data.len();
        open.last_line = line_no;
        self.bytes += key.len() + data.len();
        if self.bytes > MAX_OPEN_AGGREGATE_BYTES {
            return self.close_all(router);
        }
        Ok(true)
    }

    /// Closes one shard's aggregate and hands it to that shard's lane.
    fn close(&mut self, router: &mut Router, shard: usize) -> anyhow::Result<bool> {
        let Some(mut open) = self.open.remove(&shard) else {
            return Ok(true);
        };
        self.bytes -= open.bytes;
        let entry = Entry {
            data: Blob::new(open.agg.finish()),
            key: open.key,
            shard: self.map.ids.get(shard).cloned(),
            unit: 0,
        };
        let size = entry.size();
        if size > MAX_RECORD_BYTES {
            anyhow::bail!(
                "line {}: the aggregated record is {size} bytes; the limit is \
                 {MAX_RECORD_BYTES} (data plus partition key)",
                open.last_line
            );
        }
        Ok(router.push(entry))
    }

    fn close_all(&mut self, router: &mut Router) -> anyhow::Result<bool> {
        let mut shards: Vec<usize> = self.open.keys().copied().collect();
        shards.sort_unstable();
        for shard in shards {
            if !self.close(router, shard)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Reads lines, builds entries and routes them to lanes. Returns early without error when the
/// command is stopping (a lane hit a fatal error, reported by `run`).
fn read_lines(
    mut input: Box<dyn BufRead + Send>,
    opts: &LineOptions,
    router: &mut Router,
    mut aggregates: Option<Aggregates>,
) -> anyhow::Result<()> {
    let mut rng = rand::rng();
    let mut line_no = 0u64;
    loop {
        let mut buf = Vec::new();
        let n = input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read input after line {line_no}"))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if !opts.keep_newline && buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let key = match &opts.keys {
            KeySource::Fixed(k) => k.clone(),
            KeySource::Random => format!("{:016x}", rng.random::<u64>()),
            KeySource::Field(field) => {
                key_from_json(&buf, field).map_err(|e| anyhow::anyhow!("line {line_no}: {e}"))?
            }
        };
        check_key(&key).map_err(|e| anyhow::anyhow!("line {line_no}: partition key {e}"))?;
        if let Some(aggs) = &mut aggregates {
            if !aggs.push(router, key, &buf, line_no)? {
                return Ok(());
            }
            continue;
        }
        let entry = Entry::plain(key, buf);
        let size = entry.size();
        if size > MAX_RECORD_BYTES {
            anyhow::bail!(
                "line {line_no}: record is {size} bytes; the limit is {MAX_RECORD_BYTES} \
                 (data plus partition key)"
            );
        }
        if !router.push(entry) {
            return Ok(());
        }
    }
    if let Some(aggs) = &mut aggregates
        && !aggs.close_all(router)?
    {
        return Ok(());
    }
    // A lane that went away here stopped on a fatal error that `run` reports.
    router.flush();
    Ok(())
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let chars = key.chars().count();
    if chars > MAX_PARTITION_KEY_CHARS {
        return Err(format!(
            "is {chars} characters; the limit is {MAX_PARTITION_KEY_CHARS}"
        ));
    }
    Ok(())
}

/// The partition key from a JSON line's top-level `field`.
fn key_from_json(line: &[u8], field: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    match obj.get(field) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(format!("field {field:?} is not a string or a number")),
        None => Err(format!("no field {field:?}")),
    }
}

/// One request pipeline: sends its batches one at a time, in order.
struct Lane {
    /// Its place among the lanes, for the router.
    index: usize,
    client: Client,
    stream: String,
    max_attempts: u32,
    shared: Arc<Shared>,
    /// Tells the router which units each finished batch held.
    done: std::sync::mpsc::Sender<Done>,
}

impl Lane {
    /// Sends batches until the reader is done or the command stops; returns what was sent and
    /// the fatal error that stopped it, if any.
    async fn run(self, mut rx: mpsc::Receiver<Work>) -> (Outcome, Option<anyhow::Error>) {
        let mut total = Outcome::default();
        while let Some(work) = rx.recv().await {
            match work {
                Work::Sync(done) => {
                    // The reader may have stopped waiting; nothing to tell it then.
                    let _ = done.send(());
                }
                Work::Batch(batch) => {
                    if self.shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let units = batch.iter().map(|e| e.unit).collect();
                    match self.send_batch(batch).await {
                        Ok(outcome) => {
                            total.absorb(outcome);
                            // The reader is gone once it read everything; nothing to tell.
                            let _ = self.done.send((self.index, units));
                        }
                        Err(err) => {
                            self.shared.stop.store(true, Ordering::Relaxed);
                            return (total, Some(err));
                        }
                    }
                }
            }
        }
        (total, None)
    }

    /// Sends one batch, resending only the failed entries, in their order, with backoff until
    /// they succeed or `max_attempts` is reached. A request failing as a whole with a
    /// non-retryable error (such as ResourceNotFoundException) is returned as an error.
    async fn send_batch(&self, batch: Vec<Entry>) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome::default();
        let mut pending = batch;
        let mut last_errors: Vec<(String, String)> = Vec::new();
        for attempt in 1..=self.max_attempts {
            let entries = pending
                .iter()
                .map(|e| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(&e.key)
                        .data(e.data.clone())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let result = self
                .client
                .put_records()
                .stream_name(&self.stream)
                .set_records(Some(entries))
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(err) => {
                    let retryable = error_code(&err).is_some_and(|c| RETRYABLE_CODES.contains(&c));
                    if retryable && attempt < self.max_attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(err).aws("PutRecords");
                }
            };
            let results = out.records();
            if results.len() != pending.len() {
                anyhow::bail!(
                    "PutRecords: sent {} records but got {} results",
                    pending.len(),
                    results.len()
                );
            }
            let mut failed = Vec::new();
            last_errors.clear();
            for (entry, result) in pending.into_iter().zip(results) {
                match result.error_code() {
                    Some(code) => {
                        last_errors.push((
                            code.to_owned(),
                            result.error_message().unwrap_or("").to_owned(),
                        ));
                        failed.push(entry);
                    }
                    None => {
                        if entry
                            .shard
                            .as_deref()
                            .is_some_and(|s| Some(s) != result.shard_id())
                        {
                            outcome.misrouted += 1;
                            self.shared.stale.store(true, Ordering::Relaxed);
                        }
                        outcome.sent += 1;
                        outcome.bytes += entry.size() as u64;
                    }
                }
            }
            pending = failed;
            if pending.is_empty() {
                return Ok(outcome);
            }
            if attempt < self.max_attempts {
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        outcome.failed = pending.len() as u64;
        for (code, msg) in last_errors {
            outcome.errors.entry(code).or_insert((0, msg)).0 += 1;
        }
        Ok(outcome)
    }
}

/// 100 ms doubling per attempt, capped at 5 s, with up to 50% jitter so that lanes do not
/// retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = 100u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(6))
        .min(5_000);
    let jitter = rand::rng().random_range(0..=base / 2);
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::Mutex;

    use aws_sdk_kinesis::types::{HashKeyRange, SequenceNumberRange};
    use freshet_types::hash::even_hash_ranges;

    use super::*;
    use crate::cli::GlobalOpts;

    /// A one-thread HTTP server that fails the first record of the first PutRecords request
    /// and accepts everything after. Returns its endpoint and the partition keys of each
    /// request, in arrival order.
    fn flaky_put_records_server() -> (String, Arc<Mutex<Vec<Vec<String>>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut conn) = stream else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = conn.read(&mut chunk).expect("read");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = conn.read(&mut chunk).expect("read body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body: serde_json::Value =
                    serde_json::from_slice(&buf[head_end..head_end + len]).expect("json body");
                let keys: Vec<String> = body["Records"]
                    .as_array()
                    .expect("Records")
                    .iter()
                    .map(|r| r["PartitionKey"].as_str().expect("key").to_owned())
                    .collect();
                let count = keys.len();
                let first = {
                    let mut s = seen2.lock().expect("lock");
                    s.push(keys);
                    s.len() == 1
                };
                let results: Vec<serde_json::Value> = (0..count)
                    .map(|i| {
                        if first && i == 0 {
                            serde_json::json!({"ErrorCode": "ProvisionedThroughputExceededException",
                                               "ErrorMessage": "slow down"})
                        } else {
                            serde_json::json!({"SequenceNumber": "1", "ShardId": "shardId-000000000000"})
                        }
                    })
                    .collect();
                let reply = serde_json::json!({
                    "FailedRecordCount": usize::from(first),
                    "Records": results,
                })
                .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                conn.write_all(response.as_bytes()).expect("write");
            }
        });
        (endpoint, seen)
    }

    fn entries(keys: std::ops::Range<usize>) -> Vec<Entry> {
        keys.map(|i| Entry::plain(format!("k{i}"), vec![b'x'; 10]))
            .collect()
    }

    #[tokio::test]
    async fn failed_entries_alone_are_resent_before_the_lanes_next_batch() {
        let (endpoint, seen) = flaky_put_records_server();
        let lane = Lane {
            index: 0,
            client: crate::cli::client::build(&GlobalOpts {
                endpoint,
                region: "us-east-1".into(),
            }),
            stream: "s".into(),
            max_attempts: 3,
            shared: Arc::new(Shared::default()),
            done: std::sync::mpsc::channel().0,
        };
        let (tx, rx) = mpsc::channel(4);
        tx.send(Work::Batch(entries(0..3))).await.expect("queued");
        tx.send(Work::Batch(entries(3..5))).await.expect("queued");
        drop(tx);
        let (outcome, err) = lane.run(rx).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!((outcome.sent, outcome.failed), (5, 0));
        assert_eq!(outcome.bytes, 5 * 12);
        let want: Vec<Vec<String>> = [&["k0", "k1", "k2"][..], &["k0"], &["k3", "k4"]]
            .iter()
            .map(|r| r.iter().map(|k| (*k).to_owned()).collect())
            .collect();
        assert_eq!(*seen.lock().expect("lock"), want);
    }

    /// A router over `lanes` lanes whose queues never fill, their receiving ends, and the
    /// sender on which lanes report finished records.
    fn router_with_done(
        lanes: usize,
        batch_size: usize,
    ) -> (
        Router,
        Vec<mpsc::Receiver<Work>>,
        std::sync::mpsc::Sender<Done>,
    ) {
        let (senders, receivers) = (0..lanes).map(|_| mpsc::channel(100_000)).unzip();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let router = Router::new(senders, done_rx, batch_size, Arc::new(Shared::default()));
        (router, receivers, done_tx)
    }

    /// A router whose lanes never finish anything.
    fn router(lanes: usize, batch_size: usize) -> (Router, Vec<mpsc::Receiver<Work>>) {
        let (router, receivers, _) = router_with_done(lanes, batch_size);
        (router, receivers)
    }

    fn keys(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn a_key_changes_lanes_only_once_its_records_are_finished() {
        let (mut router, mut rxs, done) = router_with_done(2, 1);
        let put = |router: &mut Router, key: &str| {
            assert!(router.push(Entry::plain(key.to_owned(), b"x".to_vec())));
        };
        // The third "a" stays with the first two although lane 1 is less loaded.
        for key in ["a", "a", "b", "a", "c"] {
            put(&mut router, key);
        }
        let lane0 = batches(&mut rxs[0]).concat();
        let lane1 = batches(&mut rxs[1]).concat();
        assert_eq!(keys(&lane0), ["a", "a", "a"]);
        assert_eq!(keys(&lane1), ["b", "c"]);
        // Lane 0 finishes every "a"; "b" and "c" are still unfinished on lane 1.
        done.send((0, lane0.iter().map(|e| e.unit).collect()))
            .expect("the router listens");
        for key in ["b", "a", "d"] {
            put(&mut router, key);
        }
        assert_eq!(keys(&batches(&mut rxs[0]).concat()), ["a", "d"]);
        assert_eq!(keys(&batches(&mut rxs[1]).concat()), ["b"]);
    }

    /// The batches queued for one lane (syncs are skipped).
    fn batches(rx: &mut mpsc::Receiver<Work>) -> Vec<Vec<Entry>> {
        let mut out = Vec::new();
        while let Ok(work) = rx.try_recv() {
            if let Work::Batch(batch) = work {
                out.push(batch);
            }
        }
        out
    }

    fn input(text: impl Into<Vec<u8>>) -> Box<dyn BufRead + Send> {
        Box::new(std::io::Cursor::new(text.into()))
    }

    fn plain(keys: KeySource) -> LineOptions {
        LineOptions {
            keys,
            keep_newline: false,
        }
    }

    #[test]
    fn random_keys_fill_one_batch_then_go_to_the_least_loaded_lane() {
        let (mut router, mut rxs, done) = router_with_done(2, 2);
        router.ordered = false;
        let put = |router: &mut Router, key: &str| {
            assert!(router.push(Entry::plain(key.to_owned(), b"x".to_vec())));
        };
        for key in ["r1", "r2", "r3"] {
            put(&mut router, key);
        }
        // Lane 0 finishes its batch, yet "r4" completes the batch that "r3" began on lane 1;
        // the batch after goes to lane 0, now the less loaded.
        done.send((0, vec![0, 0])).expect("the router listens");
        for key in ["r4", "r5"] {
            put(&mut router, key);
        }
        assert!(router.flush());
        assert_eq!(keys(&batches(&mut rxs[0]).concat()), ["r1", "r2", "r5"]);
        assert_eq!(keys(&batches(&mut rxs[1]).concat()), ["r3", "r4"]);
    }

    #[test]
    fn key_field_accepts_strings_and_numbers() {
        assert_eq!(key_from_json(br#"{"id":"a"}"#, "id"), Ok("a".to_owned()));
        assert_eq!(key_from_json(br#"{"id":42}"#, "id"), Ok("42".to_owned()));
        assert!(key_from_json(br#"{"id":[1]}"#, "id").is_err());
        assert!(key_from_json(br#"{"other":1}"#, "id").is_err());
        assert!(key_from_json(b"not json", "id").is_err());
    }

    #[test]
    fn batches_respect_count_and_strip_newlines() {
        let (mut router, mut rxs) = router(1, 2);
        read_lines(
            input(b"a\nb\nc\nd\ne".to_vec()),
            &plain(KeySource::Fixed("k".into())),
            &mut router,
            None,
        )
        .expect("reads");
        let got = batches(&mut rxs[0]);
        let sizes: Vec<usize> = got.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        let data: Vec<Vec<u8>> = got
            .into_iter()
            .flatten()
            .map(|e| e.data.into_inner())
            .collect();
        let want: Vec<Vec<u8>> = ["a", "b", "c", "d", "e"]
            .map(|s| s.as_bytes().to_vec())
            .into();
        assert_eq!(data, want);
    }

    #[test]
    fn missing_key_field_names_the_line() {
        let (mut router, _rxs) = router(2, 10);
        let err = read_lines(
            input(b"{\"k\":1}\n{\"x\":2}\n".to_vec()),
            &plain(KeySource::Field("k".into())),
            &mut router,
            None,
        )
        .expect_err("line 2 has no key");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn every_record_of_a_key_goes_to_one_lane_in_input_order() {
        let text: String = (0..2000)
            .map(|i| format!("{{\"k\":\"key-{}\",\"n\":{i}}}\n", i % 7))
            .collect();
        let (mut router, mut rxs) = router(4, 16);
        read_lines(
            input(text),
            &plain(KeySource::Field("k".into())),
            &mut router,
            None,
        )
        .expect("reads");
        let mut lane_of: HashMap<String, usize> = HashMap::new();
        let mut last_n: HashMap<String, i64> = HashMap::new();
        let mut total = 0;
        for (lane, rx) in rxs.iter_mut().enumerate() {
            for e in batches(rx).into_iter().flatten() {
                total += 1;
                assert_eq!(
                    *lane_of.entry(e.key.clone()).or_insert(lane),
                    lane,
                    "{}",
                    e.key
                );
                let line: serde_json::Value =
                    serde_json::from_slice(e.data.as_ref()).expect("json");
                let n = line["n"].as_i64().expect("n");
                let prev = last_n.insert(e.key.clone(), n).unwrap_or(-1);
                assert!(prev < n, "{}: {n} queued after {prev}", e.key);
            }
        }
        assert_eq!(total, 2000);
        assert_eq!(lane_of.len(), 7);
        let used: std::collections::BTreeSet<usize> = lane_of.values().copied().collect();
        assert!(used.len() > 1, "seven keys all hashed to one of four lanes");
    }

    /// A map of a new stream of `n` shards, named `shard-<i>`.
    fn even_map(n: u32) -> ShardMap {
        let ranges = even_hash_ranges(n);
        ShardMap {
            starts: ranges.iter().map(|r| r.start).collect(),
            ids: (0..n).map(|i| Arc::from(format!("shard-{i}"))).collect(),
        }
    }

    fn no_refresh() -> Refresh {
        Box::new(|| anyhow::bail!("the shard map was not expected to be read again"))
    }

    #[test]
    fn aggregate_packs_lines_into_kpl_records_of_at_most_50_kib() {
        // 200 lines of 1,000 bytes: about 50 per aggregate, so four or five aggregates.
        let mut text = Vec::new();
        for i in 0..200 {
            text.extend_from_slice(format!("{i:04}").as_bytes());
            text.extend_from_slice(&[b'x'; 996]);
            text.push(b'\n');
        }
        let (mut router, mut rxs) = router(1, 500);
        let aggs = Aggregates::new(even_map(1), no_refresh());
        read_lines(
            input(text),
            &plain(KeySource::Random),
            &mut router,
            Some(aggs),
        )
        .expect("reads");
        let mut lines = Vec::new();
        let mut aggregates = 0;
        for e in batches(&mut rxs[0]).into_iter().flatten() {
            aggregates += 1;
            assert!(e.size() <= MAX_AGGREGATE_BYTES, "{} bytes", e.size());
            let users = freshet_types::kpl::deaggregate(e.data.as_ref()).expect("aggregate");
            assert_eq!(users[0].partition_key, e.key, "keyed by the first line");
            lines.extend(users.iter().map(|u| u.data[..4].to_vec()));
        }
        assert!((4..=5).contains(&aggregates), "{aggregates} aggregates");
        let want: Vec<Vec<u8>> = (0..200).map(|i| format!("{i:04}").into_bytes()).collect();
        assert_eq!(lines, want, "every line once, in order");
    }

    #[test]
    fn aggregates_hold_only_user_records_of_the_shard_they_are_put_to() {
        let text: String = (0..3000)
            .map(|i| format!("{i:05}{}\n", "y".repeat(200)))
            .collect();
        let map = even_map(4);
        let (mut router, mut rxs) = router(3, 10);
        let aggs = Aggregates::new(map.clone(), no_refresh());
        read_lines(
            input(text),
            &plain(KeySource::Random),
            &mut router,
            Some(aggs),
        )
        .expect("reads");
        let mut seen = Vec::new();
        let mut lane_of_shard = HashMap::new();
        for (lane, rx) in rxs.iter_mut().enumerate() {
            for e in batches(rx).into_iter().flatten() {
                let shard = map.route(partition_key_hash(&e.key));
                assert_eq!(e.shard.as_deref(), Some(&*map.ids[shard]));
                assert_eq!(
                    *lane_of_shard.entry(shard).or_insert(lane),
                    lane,
                    "a shard's unfinished aggregates share a lane"
                );
                for u in freshet_types::kpl::deaggregate(e.data.as_ref()).expect("aggregate") {
                    assert_eq!(map.route(partition_key_hash(u.partition_key)), shard);
                    seen.push(String::from_utf8_lossy(&u.data[..5]).into_owned());
                }
            }
        }
        seen.sort();
        let want: Vec<String> = (0..3000).map(|i| format!("{i:05}")).collect();
        assert_eq!(seen, want, "every line once");
    }

    #[test]
    fn a_stale_shard_map_is_read_again_once_every_lane_is_idle() {
        let (mut router, rxs) = router(2, 10);
        // Lanes that answer syncs and log what they were given.
        let logs: Vec<_> = rxs
            .into_iter()
            .map(|mut rx| {
                std::thread::spawn(move || {
                    let mut log = Vec::new();
                    while let Some(work) = rx.blocking_recv() {
                        match work {
                            Work::Sync(done) => {
                                log.push(None);
                                done.send(()).expect("reader waits");
                            }
                            Work::Batch(b) => log.extend(b.into_iter().map(Some)),
                        }
                    }
                    log
                })
            })
            .collect();
        let reads = Arc::new(Mutex::new(0));
        let reads2 = Arc::clone(&reads);
        let refresh: Refresh = Box::new(move || {
            *reads2.lock().expect("lock") += 1;
            Ok(even_map(2))
        });
        let aggs = Aggregates::new(even_map(1), refresh);
        router.shared.stale.store(true, Ordering::Relaxed);
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        read_lines(
            input(text),
            &plain(KeySource::Random),
            &mut router,
            Some(aggs),
        )
        .expect("reads");
        drop(router);
        assert_eq!(*reads.lock().expect("lock"), 1);
        let new_ids = even_map(2).ids;
        for log in logs {
            let log = log.join().expect("lane thread");
            assert!(
                log.first().is_some_and(Option::is_none),
                "the sync comes first"
            );
            for e in log.into_iter().flatten() {
                let shard = e.shard.expect("aggregates name their shard");
                assert!(new_ids.contains(&shard), "built for the new map: {shard}");
            }
        }
    }

    fn shard(id: &str, start: u128, end: u128, closed: bool) -> Shard {
        let mut seq = SequenceNumberRange::builder().starting_sequence_number("1");
        if closed {
            seq = seq.ending_sequence_number("2");
        }
        Shard::builder()
            .shard_id(id)
            .hash_key_range(
                HashKeyRange::builder()
                    .starting_hash_key(start.to_string())
                    .ending_hash_key(end.to_string())
                    .build()
                    .expect("range"),
            )
            .sequence_number_range(seq.build().expect("sequence range"))
            .build()
            .expect("shard")
    }

    #[test]
    fn the_shard_map_routes_by_hash_range_over_open_shards_only() {
        let half = 1u128 << 127;
        let map = ShardMap::from_shards(&[
            shard("parent", 0, u128::MAX, true),
            shard("high", half, u128::MAX, false),
            shard("low", 0, half - 1, false),
        ])
        .expect("map");
        let id = |h: u128| &*map.ids[map.route(h)];
        assert_eq!(
            (id(0), id(half - 1), id(half), id(u128::MAX)),
            ("low", "low", "high", "high")
        );
        let gap = ShardMap::from_shards(&[shard("high", half, u128::MAX, false)]);
        assert!(gap.is_err(), "a map that does not start at 0 is refused");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_millis(100));
        assert!(backoff(20) <= Duration::from_millis(7_500));
    }
}
