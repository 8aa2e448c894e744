// SPDX-License-Identifier: Apache-2.0
//! Where demo records go: a Kinesis stream (PutRecords) or a Firehose delivery stream
//! (PutRecordBatch), in requests within each API's limits, resending failed entries.
//!
//! A request that succeeds may still refuse some entries (throttling, or Firehose's "Slow
//! down."); only those are resent, with exponential backoff and jitter, until they are stored
//! or `max_attempts` is spent. A whole request failing with a throttling or internal error is
//! retried the same way. Any other request error (the stream does not exist, access denied,
//! the server is unreachable) is fatal: the caller stops and reports it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_firehose::types::Record as FirehoseRecord;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use rand::Rng as _;

use crate::cli::bench::stats::Latencies;
use crate::cli::client::{aws_error, error_code};

/// Most entries in one PutRecords or PutRecordBatch request.
pub const MAX_ENTRIES: usize = 500;
/// Most bytes in one PutRecords request (data plus partition keys).
pub const KINESIS_MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;
/// Most bytes in one PutRecordBatch request (data only).
pub const FIREHOSE_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Request-level error codes worth retrying.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "LimitExceededException",
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalFailureException",
    "KMSThrottlingException",
];

/// One Kinesis record or Firehose record to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Partition key (unused by Firehose).
    pub key: String,
    /// Explicit hash key, for KPL aggregates.
    pub hash_key: Option<String>,
    /// The bytes to put.
    pub data: Vec<u8>,
    /// The demo records it holds: 1, or the user records of an aggregate.
    pub records: u64,
}

/// A put API's request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries per request.
    pub max_entries: usize,
    /// Most bytes per request.
    pub max_bytes: usize,
    /// Whether partition keys count towards `max_bytes` (Kinesis) or not (Firehose).
    pub keys_count: bool,
}

impl Limits {
    fn size(&self, e: &Entry) -> usize {
        e.data.len() + if self.keys_count { e.key.len() } else { 0 }
    }
}

/// Splits entries, in order, into requests within `limits`. An entry larger than a whole
/// request goes alone (and the service refuses it with a clear error).
pub fn split(entries: Vec<Entry>, limits: Limits) -> Vec<Vec<Entry>> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut bytes = 0;
    for e in entries {
        let size = limits.size(&e);
        if !current.is_empty()
            && (current.len() >= limits.max_entries || bytes + size > limits.max_bytes)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(e);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What sending some entries did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Demo records stored (user records for aggregates).
    pub records: u64,
    /// Kinesis or Firehose records stored.
    pub entries: u64,
    /// Bytes of data stored.
    pub bytes: u64,
    /// Demo records given up after `max_attempts`.
    pub failed: u64,
    /// Entries resent after a refusal.
    pub retried: u64,
    /// Requests sent, successful or not.
    pub requests: u64,
    /// Latency of every request.
    pub latency: Latencies,
    /// Last refusal codes of the entries given up, by code.
    pub errors: BTreeMap<String, u64>,
}

impl Outcome {
    /// Adds another outcome's counts.
    pub fn absorb(&mut self, other: &Outcome) {
        self.records += other.records;
        self.entries += other.entries;
        self.bytes += other.bytes;
        self.failed += other.failed;
        self.retried += other.retried;
        self.requests += other.requests;
        self.latency.merge(&other.latency);
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
    }
}

/// A stream or delivery stream to put to.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Kinesis data stream.
    Kinesis {
        /// The client.
        client: aws_sdk_kinesis::Client,
        /// Stream name.
        stream: String,
    },
    /// A Firehose delivery stream.
    Firehose {
        /// The client.
        client: aws_sdk_firehose::Client,
        /// Delivery stream name.
        name: String,
    },
}

/// Why one attempt failed as a whole.
enum AttemptError {
    /// Throttling or an internal error: try again later.
    Retryable(String),
    /// Anything else: stop.
    Fatal(anyhow::Error),
}

impl Target {
    /// The request limits of the target's put API.
    pub fn limits(&self) -> Limits {
        match self {
            Target::Kinesis { .. } => Limits {
                max_entries: MAX_ENTRIES,
                max_bytes: KINESIS_MAX_REQUEST_BYTES,
                keys_count: true,
            },
            Target::Firehose { .. } => Limits {
                max_entries: MAX_ENTRIES,
                max_bytes: FIREHOSE_MAX_REQUEST_BYTES,
                keys_count: false,
            },
        }
    }

    /// Sends one request's entries, resending refused ones until they are stored or
    /// `max_attempts` is spent; an error means the run must stop.
    pub async fn send(&self, batch: Vec<Entry>, max_attempts: u32) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome::default();
        let mut pending = batch;
        let mut codes: Vec<String> = Vec::new();
        for attempt in 1..=max_attempts {
            let started = Instant::now();
            let result = self.attempt(&pending).await;
            outcome.requests += 1;
            outcome.latency.record(started.elapsed());
            match result {
                Ok(results) => {
                    let mut refused = Vec::new();
                    codes.clear();
                    for (entry, code) in pending.into_iter().zip(results) {
                        match code {
                            Some(code) => {
                                codes.push(code);
                                refused.push(entry);
                            }
                            None => {
                                outcome.records += entry.records;
                                outcome.entries += 1;
                                outcome.bytes += entry.data.len() as u64;
                            }
                        }
                    }
                    pending = refused;
                }
                Err(AttemptError::Retryable(code)) => {
                    codes = vec![code; pending.len()];
                }
                Err(AttemptError::Fatal(err)) => return Err(err),
            }
            if pending.is_empty() {
                return Ok(outcome);
            }
            if attempt < max_attempts {
                outcome.retried += pending.len() as u64;
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        for (entry, code) in pending.iter().zip(codes) {
            outcome.failed += entry.records;
            *outcome.errors.entry(code).or_default() += entry.records;
        }
        Ok(outcome)
    }

    /// One request; per entry, `None` when stored or the refusal's error code.
    async fn attempt(&self, entries: &[Entry]) -> Result<Vec<Option<String>>, AttemptError> {
        let fatal = |e: anyhow::Error| AttemptError::Fatal(e);
        match self {
            Target::Kinesis { client, stream } => {
                let records = entries
                    .iter()
                    .map(|e| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(&e.key)
                            .set_explicit_hash_key(e.hash_key.clone())
                            .data(Blob::new(e.data.clone()))
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| fatal(e.into()))?;
                let out = client
                    .put_records()
                    .stream_name(stream)
                    .set_records(Some(records))
                    .send()
                    .await
                    .map_err(|err| match error_code(&err) {
                        Some(code) if RETRYABLE_CODES.contains(&code) => {
                            AttemptError::Retryable(code.to_owned())
                        }
                        _ => fatal(aws_error("PutRecords", err)),
                    })?;
                let codes: Vec<Option<String>> = out
                    .records()
                    .iter()
                    .map(|r| r.error_code().map(str::to_owned))
                    .collect();
                check_len("PutRecords", entries.len(), codes)
            }
            Target::Firehose { client, name } => {
                let records = entries
                    .iter()
                    .map(|e| {
                        FirehoseRecord::builder()
                            .data(aws_sdk_firehose::primitives::Blob::new(e.data.clone()))
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| fatal(e.into()))?;
                let out = client
                    .put_record_batch()
                    .delivery_stream_name(name)
                    .set_records(Some(records))
                    .send()
                    .await
                    .map_err(|err| match error_code(&err) {
                        Some(code) if RETRYABLE_CODES.contains(&code) => {
                            AttemptError::Retryable(code.to_owned())
                        }
                        _ => fatal(aws_error("PutRecordBatch", err)),
                    })?;
                let codes: Vec<Option<String>> = out
                    .request_responses()
                    .iter()
                    .map(|r| r.error_code().map(str::to_owned))
                    .collect();
                check_len("PutRecordBatch", entries.len(), codes)
            }
        }
    }
}

/// Guards against a reply with another number of results than entries sent, which would
/// otherwise count records as stored that were not.
fn check_len(
    op: &str,
    sent: usize,
    codes: Vec<Option<String>>,
) -> Result<Vec<Option<String>>, AttemptError> {
    if codes.len() == sent {
        Ok(codes)
    } else {
        Err(AttemptError::Fatal(anyhow::anyhow!(
            "{op}: sent {sent} records but got {} results",
            codes.len()
        )))
    }
}

/// 100 ms doubling per attempt, capped at 5 s, plus up to 50% jitter so that concurrent
/// requests do not retry in lockstep.
pub fn backoff(attempt: u32) -> Duration {
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

    use proptest::prelude::*;

    use super::*;
    use crate::cli::GlobalOpts;
    use crate::cli::client;

    /// How the fake server answers.
    #[derive(Clone, Copy)]
    enum Script {
        /// Refuse the first entry of the first request, store everything else.
        RefuseFirstOnce,
        /// Answer every request with ResourceNotFoundException.
        NotFound,
    }

    /// A one-thread HTTP server speaking just enough PutRecords and PutRecordBatch; returns
    /// its endpoint and the number of records in each request, in arrival order.
    fn fake_server(script: Script) -> (GlobalOpts, Arc<Mutex<Vec<usize>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body_at, len) = loop {
                    let n = conn.read(&mut chunk).expect("read");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (head, i + 4, len);
                    }
                };
                while buf.len() < body_at + len {
                    let n = conn.read(&mut chunk).expect("read body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body: serde_json::Value =
                    serde_json::from_slice(&buf[body_at..body_at + len]).expect("json");
                let count = body["Records"].as_array().expect("Records").len();
                let first = {
                    let mut s = seen2.lock().expect("lock");
                    s.push(count);
                    s.len() == 1
                };
                let firehose = head.contains("firehose_20150804.putrecordbatch");
                let refuse =
                    |i: usize| matches!(script, Script::RefuseFirstOnce) && first && i == 0;
                let (status, reply) = match script {
                    Script::NotFound => (
                        "400 Bad Request",
                        serde_json::json!({"__type": "ResourceNotFoundException",
                                           "message": "Stream s not found."}),
                    ),
                    Script::RefuseFirstOnce if firehose => (
                        "200 OK",
                        serde_json::json!({
                            "FailedPutCount": usize::from(first),
                            "Encrypted": false,
                            "RequestResponses": (0..count).map(|i| if refuse(i) {
                                serde_json::json!({"ErrorCode": "ServiceUnavailableException",
                                                   "ErrorMessage": "Slow down."})
                            } else {
                                serde_json::json!({"RecordId": format!("r{i}")})
                            }).collect::<Vec<_>>(),
                        }),
                    ),
                    Script::RefuseFirstOnce => (
                        "200 OK",
                        serde_json::json!({
                            "FailedRecordCount": usize::from(first),
                            "Records": (0..count).map(|i| if refuse(i) {
                                serde_json::json!({
                                    "ErrorCode": "ProvisionedThroughputExceededException",
                                    "ErrorMessage": "Rate exceeded."})
                            } else {
                                serde_json::json!({"SequenceNumber": "1",
                                                   "ShardId": "shardId-000000000000"})
                            }).collect::<Vec<_>>(),
                        }),
                    ),
                };
                let reply = reply.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                conn.write_all(response.as_bytes()).expect("write");
            }
        });
        let opts = GlobalOpts {
            endpoint,
            region: "us-east-1".into(),
        };
        (opts, seen)
    }

    fn targets(opts: &GlobalOpts) -> [Target; 2] {
        [
            Target::Kinesis {
                client: client::build(opts),
                stream: "s".into(),
            },
            Target::Firehose {
                client: client::build_firehose(opts),
                name: "s".into(),
            },
        ]
    }

    #[tokio::test]
    async fn refused_entries_alone_are_resent_until_stored() {
        for index in 0..2 {
            let (opts, seen) = fake_server(Script::RefuseFirstOnce);
            let target = targets(&opts)[index].clone();
            let batch: Vec<Entry> = (0..3).map(|i| entry(&format!("k{i}"), 10)).collect();
            let outcome = target.send(batch, 5).await.expect("sent");
            assert_eq!(
                (outcome.records, outcome.entries, outcome.failed),
                (3, 3, 0)
            );
            assert_eq!(
                (outcome.retried, outcome.requests, outcome.bytes),
                (1, 2, 30)
            );
            assert_eq!(*seen.lock().expect("lock"), [3, 1], "target {index}");
        }
    }

    #[tokio::test]
    async fn entries_still_refused_after_the_last_attempt_count_as_failed() {
        let (opts, _) = fake_server(Script::RefuseFirstOnce);
        let [kinesis, _] = targets(&opts);
        let outcome = kinesis
            .send(vec![entry("a", 1), entry("b", 1)], 1)
            .await
            .expect("sent");
        assert_eq!(
            (outcome.records, outcome.failed, outcome.retried),
            (1, 1, 0)
        );
        assert_eq!(outcome.errors["ProvisionedThroughputExceededException"], 1);
    }

    #[tokio::test]
    async fn a_missing_stream_stops_the_run_with_the_aws_error() {
        for target in targets(&fake_server(Script::NotFound).0) {
            let err = target
                .send(vec![entry("a", 1)], 5)
                .await
                .expect_err("fatal");
            assert!(
                err.to_string().contains("ResourceNotFoundException"),
                "{err}"
            );
        }
    }

    fn entry(key: &str, size: usize) -> Entry {
        Entry {
            key: key.to_owned(),
            hash_key: None,
            data: vec![b'x'; size],
            records: 1,
        }
    }

    const SMALL: Limits = Limits {
        max_entries: 3,
        max_bytes: 100,
        keys_count: true,
    };

    #[test]
    fn requests_close_at_the_entry_count_and_the_byte_cap() {
        let sizes = |reqs: &[Vec<Entry>]| -> Vec<usize> { reqs.iter().map(Vec::len).collect() };
        let by_count = split((0..7).map(|_| entry("k", 1)).collect(), SMALL);
        assert_eq!(sizes(&by_count), [3, 3, 1]);
        // 2 + 48 bytes each: two fill 100 bytes, a third would not fit.
        let by_bytes = split((0..5).map(|_| entry("ab", 48)).collect(), SMALL);
        assert_eq!(sizes(&by_bytes), [2, 2, 1]);
        let firehose = Limits {
            keys_count: false,
            ..SMALL
        };
        assert_eq!(
            sizes(&split(vec![entry("key", 50), entry("key", 50)], firehose)),
            [2]
        );
        assert_eq!(
            sizes(&split(vec![entry("k", 500), entry("k", 1)], SMALL)),
            [1, 1]
        );
        assert!(split(Vec::new(), SMALL).is_empty());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_millis(100));
        assert!(backoff(1) <= Duration::from_millis(150));
        assert!(backoff(30) <= Duration::from_millis(7_500));
        assert!(backoff(30) >= Duration::from_millis(5_000));
    }

    proptest! {
        #[test]
        fn splitting_keeps_every_entry_in_order_within_the_limits(
            sizes in prop::collection::vec(0usize..120, 0..40),
        ) {
            let entries: Vec<Entry> =
                sizes.iter().enumerate().map(|(i, &n)| entry(&i.to_string(), n)).collect();
            let requests = split(entries.clone(), SMALL);
            for r in &requests {
                prop_assert!(!r.is_empty() && r.len() <= SMALL.max_entries);
                let bytes: usize = r.iter().map(|e| SMALL.size(e)).sum();
                prop_assert!(r.len() == 1 || bytes <= SMALL.max_bytes);
            }
            prop_assert_eq!(requests.concat(), entries);
        }
    }
}
