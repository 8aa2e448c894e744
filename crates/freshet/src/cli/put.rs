// SPDX-License-Identifier: Apache-2.0
//! `freshet put`: one record per input line, sent with PutRecords.
//!
//! A blocking reader thread turns lines into records (choosing each partition key), packs them
//! into batches that respect the PutRecords limits (count and 5 MiB per request), and hands
//! them over a bounded channel to the async side, which keeps up to `--concurrency` requests
//! in flight. Entries that fail inside an otherwise successful request are resent alone with
//! exponential backoff; a request that fails as a whole stops the command.
//!
//! With `--aggregate`, lines are first packed into KPL aggregated records of up to 50 KiB
//! (the KPL's default `AggregationMaxSize`), each put with the partition key of its first
//! line, as the `aws-kinesis-agg` libraries do; KCL consumers and `freshet tail` split them
//! back into one user record per line.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use clap::Args;
use freshet_types::kpl::Aggregator;
use rand::Rng as _;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::cli::client::{AwsResultExt, error_code};

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
    /// PutRecords requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Attempts per record before it counts as failed.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Pack lines into KPL aggregated records (up to 50 KiB each, keyed by their first line's
    /// partition key); the summary then counts aggregated records.
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
}

impl Entry {
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
    /// Final failure counts per AWS error code, with one example message.
    errors: BTreeMap<String, (u64, String)>,
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.bytes += other.bytes;
        for (code, (n, msg)) in other.errors {
            self.errors.entry(code).or_insert((0, msg)).0 += n;
        }
    }
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
    let concurrency = args.concurrency as usize;
    let (tx, mut rx) = mpsc::channel::<Vec<Entry>>(concurrency);
    let batch_size = args.batch_size as usize;
    let lines = LineOptions {
        keys,
        keep_newline: args.keep_newline,
        aggregate: args.aggregate,
    };
    let reader = tokio::task::spawn_blocking(move || read_batches(input, &lines, batch_size, &tx));

    let started = Instant::now();
    let mut total = Outcome::default();
    let mut fatal: Option<anyhow::Error> = None;
    let mut inflight: JoinSet<anyhow::Result<Outcome>> = JoinSet::new();
    while let Some(batch) = rx.recv().await {
        while inflight.len() >= concurrency {
            collect(inflight.join_next().await, &mut total, &mut fatal);
        }
        if fatal.is_some() {
            break;
        }
        let (client, stream) = (client.clone(), args.stream.clone());
        inflight.spawn(send_batch(client, stream, batch, args.max_attempts));
    }
    // Stops the reader if we broke out early: its next send fails.
    drop(rx);
    while let Some(res) = inflight.join_next().await {
        collect(Some(res), &mut total, &mut fatal);
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

fn collect(
    res: Option<Result<anyhow::Result<Outcome>, tokio::task::JoinError>>,
    total: &mut Outcome,
    fatal: &mut Option<anyhow::Error>,
) {
    match res {
        Some(Ok(Ok(outcome))) => total.absorb(outcome),
        Some(Ok(Err(err))) => {
            fatal.get_or_insert(err);
        }
        Some(Err(join)) => {
            fatal.get_or_insert(anyhow::anyhow!("a PutRecords task failed: {join}"));
        }
        None => {}
    }
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
}

/// How input lines become records.
#[derive(Debug, Clone)]
struct LineOptions {
    keys: KeySource,
    keep_newline: bool,
    aggregate: bool,
}

/// Packs entries into batches that respect the PutRecords limits and sends them.
struct Batcher<'a> {
    batch: Vec<Entry>,
    bytes: usize,
    size: usize,
    tx: &'a mpsc::Sender<Vec<Entry>>,
}

impl Batcher<'_> {
    /// Adds an entry; returns `false` once the receiving side has gone away.
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
                .blocking_send(std::mem::take(&mut self.batch))
                .is_ok()
    }
}

/// The Kinesis record of a finished aggregate, keyed by its first user record's key.
fn aggregate_entry(agg: &mut Aggregator, key: String, line_no: u64) -> anyhow::Result<Entry> {
    let entry = Entry {
        key,
        data: Blob::new(agg.finish()),
    };
    let size = entry.size();
    if size > MAX_RECORD_BYTES {
        anyhow::bail!(
            "line {line_no}: the aggregated record is {size} bytes; the limit is \
             {MAX_RECORD_BYTES} (data plus partition key)"
        );
    }
    Ok(entry)
}

/// Reads lines, builds entries and sends batches. Returns early without error when the
/// receiving side has gone away (the async side hit a fatal error).
fn read_batches(
    mut input: Box<dyn BufRead + Send>,
    opts: &LineOptions,
    batch_size: usize,
    tx: &mpsc::Sender<Vec<Entry>>,
) -> anyhow::Result<()> {
    let mut rng = rand::rng();
    let mut batcher = Batcher {
        batch: Vec::with_capacity(batch_size),
        bytes: 0,
        size: batch_size,
        tx,
    };
    let mut agg = Aggregator::new();
    let mut agg_key = String::new();
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
        if opts.aggregate {
            if !agg.is_empty()
                && agg.encoded_len_with(&key, None, &buf) + agg_key.len() > MAX_AGGREGATE_BYTES
            {
                let entry = aggregate_entry(&mut agg, std::mem::take(&mut agg_key), line_no - 1)?;
                if !batcher.push(entry) {
                    return Ok(());
                }
            }
            if agg.is_empty() {
                agg_key = key.clone();
            }
            agg.push(&key, None, &buf);
            continue;
        }
        let entry = Entry {
            key,
            data: Blob::new(buf),
        };
        let size = entry.size();
        if size > MAX_RECORD_BYTES {
            anyhow::bail!(
                "line {line_no}: record is {size} bytes; the limit is {MAX_RECORD_BYTES} \
                 (data plus partition key)"
            );
        }
        if !batcher.push(entry) {
            return Ok(());
        }
    }
    if !agg.is_empty() {
        let entry = aggregate_entry(&mut agg, agg_key, line_no)?;
        if !batcher.push(entry) {
            return Ok(());
        }
    }
    // A closed channel here means a fatal error that is reported elsewhere.
    batcher.flush();
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

/// Sends one batch, resending only the failed entries with backoff until they succeed or
/// `max_attempts` is reached. A request failing as a whole with a non-retryable error (such as
/// ResourceNotFoundException) is returned as an error.
async fn send_batch(
    client: Client,
    stream: String,
    batch: Vec<Entry>,
    max_attempts: u32,
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut pending = batch;
    let mut last_errors: Vec<(String, String)> = Vec::new();
    for attempt in 1..=max_attempts {
        let entries = pending
            .iter()
            .map(|e| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&e.key)
                    .data(e.data.clone())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = client
            .put_records()
            .stream_name(&stream)
            .set_records(Some(entries))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) => {
                let retryable = error_code(&err).is_some_and(|c| RETRYABLE_CODES.contains(&c));
                if retryable && attempt < max_attempts {
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
                    outcome.sent += 1;
                    outcome.bytes += entry.size() as u64;
                }
            }
        }
        pending = failed;
        if pending.is_empty() {
            return Ok(outcome);
        }
        if attempt < max_attempts {
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    outcome.failed = pending.len() as u64;
    for (code, msg) in last_errors {
        outcome.errors.entry(code).or_insert((0, msg)).0 += 1;
    }
    Ok(outcome)
}

/// 100 ms doubling per attempt, capped at 5 s, with up to 50% jitter so that concurrent
/// batches do not retry in lockstep.
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
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::cli::GlobalOpts;

    /// A one-thread HTTP server that fails the first record of the first PutRecords request
    /// and accepts everything after. Returns its endpoint and the record count of each request.
    fn flaky_put_records_server() -> (String, Arc<Mutex<Vec<usize>>>) {
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
                let count = body["Records"].as_array().map_or(0, Vec::len);
                let first = {
                    let mut s = seen2.lock().expect("lock");
                    s.push(count);
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

    #[tokio::test]
    async fn failed_entries_alone_are_resent() {
        let (endpoint, seen) = flaky_put_records_server();
        let client = crate::cli::client::build(&GlobalOpts {
            endpoint,
            region: "us-east-1".into(),
        });
        let batch = (0..3)
            .map(|i| Entry {
                key: format!("k{i}"),
                data: Blob::new(vec![b'x'; 10]),
            })
            .collect();
        let outcome = send_batch(client, "s".into(), batch, 3)
            .await
            .expect("sent");
        assert_eq!((outcome.sent, outcome.failed), (3, 0));
        assert_eq!(outcome.bytes, 3 * 12);
        assert_eq!(*seen.lock().expect("lock"), vec![3, 1]);
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
        let input: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(b"a\nb\nc\nd\ne".to_vec()));
        let (tx, mut rx) = mpsc::channel(16);
        read_batches(input, &plain(KeySource::Fixed("k".into())), 2, &tx).expect("reads");
        drop(tx);
        let mut sizes = Vec::new();
        let mut data = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            sizes.push(batch.len());
            data.extend(batch.into_iter().map(|e| e.data.into_inner()));
        }
        assert_eq!(sizes, vec![2, 2, 1]);
        assert_eq!(
            data,
            vec![
                b"a".to_vec(),
                b"b".to_vec(),
                b"c".to_vec(),
                b"d".to_vec(),
                b"e".to_vec()
            ]
        );
    }

    #[test]
    fn missing_key_field_names_the_line() {
        let input: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(b"{\"k\":1}\n{\"x\":2}\n".to_vec()));
        let (tx, _rx) = mpsc::channel(16);
        let err = read_batches(input, &plain(KeySource::Field("k".into())), 10, &tx)
            .expect_err("line 2 has no key");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    fn plain(keys: KeySource) -> LineOptions {
        LineOptions {
            keys,
            keep_newline: false,
            aggregate: false,
        }
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
        let input: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text));
        let (tx, mut rx) = mpsc::channel(16);
        let opts = LineOptions {
            keys: KeySource::Random,
            keep_newline: false,
            aggregate: true,
        };
        read_batches(input, &opts, 500, &tx).expect("reads");
        drop(tx);
        let mut lines = Vec::new();
        let mut aggregates = 0;
        while let Ok(batch) = rx.try_recv() {
            for e in batch {
                aggregates += 1;
                assert!(e.size() <= MAX_AGGREGATE_BYTES, "{} bytes", e.size());
                let users = freshet_types::kpl::deaggregate(e.data.as_ref()).expect("aggregate");
                assert_eq!(users[0].partition_key, e.key, "keyed by the first line");
                lines.extend(users.iter().map(|u| u.data[..4].to_vec()));
            }
        }
        assert!((4..=5).contains(&aggregates), "{aggregates} aggregates");
        let want: Vec<Vec<u8>> = (0..200).map(|i| format!("{i:04}").into_bytes()).collect();
        assert_eq!(lines, want, "every line once, in order");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_millis(100));
        assert!(backoff(20) <= Duration::from_millis(7_500));
    }
}
