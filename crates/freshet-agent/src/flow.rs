// SPDX-License-Identifier: Apache-2.0
//! One flow at run time: a reader task (the [`Tracker`] on a blocking thread, then the
//! processing chain) feeding a sender task through a bounded channel.
//!
//! The sender keeps one buffer. It is sent when it reaches `maxBufferSizeRecords` or
//! `maxBufferSizeBytes`, or when its first record is `maxBufferAgeMillis` old; one call per
//! buffer. Records a call refused are sent again after a back-off, before any new data;
//! whole-call failures are retried the same way unless they can never succeed, in which case
//! the buffer is dropped with an error log. Only once every record of the buffer is settled
//! does the sender record the buffer's file offsets in the checkpoints: one buffer is in
//! flight per flow, so checkpoints never run ahead of what the destination holds.
//!
//! Shutdown: the reader stops; the sender sends its current buffer (retrying for at most
//! `shutdownTimeoutMillis`), records its offsets and returns. Records read but not yet in the
//! buffer are not checkpointed, so they are read again at the next start.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use md5::Digest as _;
use tokio::sync::{mpsc, watch};

use crate::backoff::Backoff;
use crate::checkpoint::{Entry, FileKey, Fingerprint};
use crate::config::{FlowConfig, PartitionKeyOption};
use crate::metrics::{DestinationMetrics, Progress};
use crate::processing::{Processors, RecordContext};
use crate::shared::Shared;
use crate::sink::{Destination, EntryOutcome, SendError, SinkRecord};
use crate::split::Piece;
use crate::tracker::{Tracker, TrackerOptions};

/// Where in which file a piece ends.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    key: FileKey,
    path: Arc<Path>,
    fingerprint: Fingerprint,
    end: u64,
}

/// What the reader hands the sender.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Records (or consumed bytes without a record, `None`), in file order.
    Items(Vec<(Mark, Option<Vec<u8>>)>),
    /// Every file is read to its end (`--once`).
    Idle,
}

/// The parts of a flow the reader needs.
pub(crate) struct ReaderParts {
    pub tracker: Tracker,
    pub processors: Arc<Processors>,
    pub poll_interval: Duration,
    pub once: bool,
}

/// Builds the tracker options of `flow`.
pub(crate) fn tracker_options(flow: &FlowConfig, once: bool) -> TrackerOptions {
    let limits = crate::sink::limits(&flow.destination);
    TrackerOptions {
        directory: flow.directory.clone(),
        file_glob: flow.file_glob.clone(),
        initial_position: flow.initial_position,
        rules: Arc::new(crate::split::SplitRules {
            multi_line_start: flow.multi_line_start.clone(),
            file_footer: flow.file_footer.clone(),
            skip_header_lines: flow.skip_header_lines,
            max_record: limits.record_bytes,
            terminator: flow.truncated_record_terminator.clone(),
        }),
        refresh_interval: flow.refresh_interval,
        flush_when_idle: once,
    }
}

/// Reads files until shutdown (or, with `once`, until everything is read).
pub(crate) async fn run_reader(
    parts: ReaderParts,
    progress: Arc<Progress>,
    tx: mpsc::Sender<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    let ReaderParts {
        tracker,
        processors,
        poll_interval,
        once,
    } = parts;
    let mut tracker = Some(tracker);
    let mut idle = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(mut t) = tracker.take() else { return };
        let procs = processors.clone();
        let prog = progress.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let poll = t.poll(Instant::now(), idle);
            let items = process(poll.pieces, &procs, &prog);
            (t, poll.read_any, items)
        })
        .await;
        let (t, read_any, items) = match joined {
            Ok(v) => v,
            Err(error) => {
                tracing::error!(%error, "File reader failed; the flow stops reading.");
                return;
            }
        };
        tracker = Some(t);
        if !items.is_empty() && tx.send(Msg::Items(items)).await.is_err() {
            return;
        }
        idle = !read_any;
        if idle && once {
            let _ = tx.send(Msg::Idle).await;
            return;
        }
        if idle {
            tokio::select! {
                () = tokio::time::sleep(poll_interval) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Runs records through the processing chain and counts them.
fn process(
    pieces: Vec<crate::tracker::FilePiece>,
    processors: &Processors,
    progress: &Progress,
) -> Vec<(Mark, Option<Vec<u8>>)> {
    let mut out = Vec::with_capacity(pieces.len());
    let (mut n, mut bytes) = (0u64, 0u64);
    let now = SystemTime::now();
    for p in pieces {
        let end = p.piece.end();
        let mark = Mark {
            key: p.key,
            path: p.path,
            fingerprint: p.fingerprint,
            end,
        };
        let data = match p.piece {
            Piece::Record { start, data, .. } => {
                n += 1;
                bytes += data.len() as u64;
                let ctx = RecordContext {
                    file: &mark.path,
                    offset: start,
                    read_at: now,
                };
                processors.apply(data, &ctx)
            }
            Piece::Skip { .. } => None,
        };
        out.push((mark, data));
    }
    progress.parsed(n, bytes);
    out
}

/// The sender's configuration.
pub(crate) struct SenderParts {
    pub flow_id: String,
    pub destination: Destination,
    pub partition_key: PartitionKeyOption,
    pub max_age: Duration,
    pub max_records: usize,
    pub max_bytes: usize,
    pub aggregate: usize,
    pub backoff: Backoff,
    pub metrics: DestinationMetrics,
}

#[derive(Default)]
struct Buffer {
    records: Vec<SinkRecord>,
    bytes: usize,
    first_at: Option<tokio::time::Instant>,
    marks: HashMap<FileKey, Mark>,
}

/// Sends what the reader produces until the reader ends or shutdown.
pub(crate) async fn run_sender(
    mut parts: SenderParts,
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = Buffer::default();
    loop {
        let deadline = buf.first_at.map(|t| t + parts.max_age);
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            msg = rx.recv() => match msg {
                Some(Msg::Items(items)) => {
                    for (mark, data) in items {
                        add(&mut parts, &shared, &mut buf, mark, data, &stop).await;
                    }
                }
                Some(Msg::Idle) | None => break,
            },
            () = sleep_until(deadline) => send(&mut parts, &shared, &mut buf, &stop).await,
        }
        if *stop.borrow() {
            break;
        }
    }
    send(&mut parts, &shared, &mut buf, &stop).await;
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Adds one item to the buffer, sending the buffer first when the item would not fit.
async fn add(
    parts: &mut SenderParts,
    shared: &Shared,
    buf: &mut Buffer,
    mark: Mark,
    data: Option<Vec<u8>>,
    stop: &watch::Receiver<bool>,
) {
    let Some(data) = data else {
        if buf.records.is_empty() {
            // Nothing of this file waits to be sent: its offset can be recorded now.
            commit(shared, &parts.flow_id, std::iter::once(mark));
        } else {
            buf.marks.insert(mark.key, mark);
        }
        return;
    };
    if parts.aggregate > 0
        && let Some(last) = buf.records.last_mut()
        && last.data.len() + data.len() <= parts.aggregate
        && buf.bytes + data.len() <= parts.max_bytes
    {
        let mut joined = Vec::with_capacity(last.data.len() + data.len());
        joined.extend_from_slice(&last.data);
        joined.extend_from_slice(&data);
        last.data = Bytes::from(joined);
        buf.bytes += data.len();
        buf.marks.insert(mark.key, mark);
        return;
    }
    let partition_key = match (&parts.destination, parts.partition_key) {
        (Destination::DeliveryStream(_), _) => String::new(),
        (_, PartitionKeyOption::Random) => {
            format!("{}", rand::random::<f64>() * 1_000_000.0)
        }
        (_, PartitionKeyOption::Deterministic) => {
            let digest = md5::Md5::digest(&data);
            digest.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let size = data.len() + partition_key.len();
    if !buf.records.is_empty()
        && (buf.records.len() >= parts.max_records || buf.bytes + size > parts.max_bytes)
    {
        send(parts, shared, buf, stop).await;
    }
    buf.records.push(SinkRecord {
        data: Bytes::from(data),
        partition_key,
    });
    buf.bytes += size;
    buf.first_at.get_or_insert_with(tokio::time::Instant::now);
    buf.marks.insert(mark.key, mark);
    if buf.records.len() >= parts.max_records || buf.bytes >= parts.max_bytes {
        send(parts, shared, buf, stop).await;
    }
}

/// Sends the buffer until every record is stored (or the buffer is dropped, or shutdown
/// gives up on it), then records its offsets.
async fn send(
    parts: &mut SenderParts,
    shared: &Shared,
    buf: &mut Buffer,
    stop: &watch::Receiver<bool>,
) {
    let Buffer { records, marks, .. } = std::mem::take(buf);
    let m = &parts.metrics;
    let mut pending: Vec<SinkRecord> = records;
    let mut stopping_since: Option<Instant> = None;
    while !pending.is_empty() {
        m.record_send_attempts.record_n(1.0, pending.len() as f64);
        let delay = match shared.sink.put(&parts.destination, &pending).await {
            Ok(outcomes) if outcomes.len() == pending.len() => {
                let mut failed = Vec::new();
                let mut first_error = None;
                let (mut sent, mut bytes) = (0u64, 0u64);
                for (record, outcome) in pending.into_iter().zip(outcomes) {
                    match outcome {
                        EntryOutcome::Sent => {
                            sent += 1;
                            bytes += record.data.len() as u64;
                        }
                        EntryOutcome::Failed { code, message } => {
                            first_error.get_or_insert((code, message));
                            failed.push(record);
                        }
                    }
                }
                m.records_sent.record_n(1.0, sent as f64);
                m.bytes_sent
                    .record_n(bytes as f64 / sent.max(1) as f64, sent as f64);
                shared.progress.sent(sent);
                pending = failed;
                if pending.is_empty() {
                    parts.backoff.succeeded();
                    break;
                }
                m.record_send_errors.record_n(1.0, pending.len() as f64);
                let delay = parts.backoff.next_delay(rand::random::<f64>());
                if let Some((code, message)) = first_error {
                    tracing::debug!(flow = %parts.flow_id, failed = pending.len(), %code, %message, retry_in_ms = delay.as_millis() as u64, "Records refused; retrying them.");
                }
                delay
            }
            Ok(outcomes) => {
                tracing::error!(flow = %parts.flow_id, sent = pending.len(), answers = outcomes.len(), "Destination answered with the wrong number of results; retrying the buffer.");
                m.service_errors.record(1.0);
                parts.backoff.next_delay(rand::random::<f64>())
            }
            Err(SendError::Fatal { code, message }) => {
                m.service_errors.record(1.0);
                m.record_send_errors.record_n(1.0, pending.len() as f64);
                tracing::error!(flow = %parts.flow_id, destination = %parts.destination.dimension(), records = pending.len(), %code, %message, "Dropping a buffer the destination refuses for good.");
                break;
            }
            Err(SendError::Retriable { code, message }) => {
                m.service_errors.record(1.0);
                m.record_send_errors.record_n(1.0, pending.len() as f64);
                let delay = parts.backoff.next_delay(rand::random::<f64>());
                let level_high = parts.backoff.failures() % 10 == 1;
                if level_high {
                    tracing::warn!(flow = %parts.flow_id, destination = %parts.destination.dimension(), %code, %message, retry_in_ms = delay.as_millis() as u64, "Sending failed; retrying.");
                }
                delay
            }
        };
        if *stop.borrow() {
            let since = *stopping_since.get_or_insert_with(Instant::now);
            if since.elapsed() + delay > shared.shutdown_timeout {
                tracing::warn!(flow = %parts.flow_id, records = pending.len(), "Shutting down with records unsent; they are read again at the next start.");
                return;
            }
        }
        tokio::time::sleep(delay).await;
    }
    commit(shared, &parts.flow_id, marks.into_values());
}

/// Records offsets as acknowledged.
fn commit(shared: &Shared, flow: &str, marks: impl Iterator<Item = Mark>) {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    shared.checkpoints.update(marks.map(|m| Entry {
        flow: flow.to_owned(),
        key: m.key,
        fingerprint: m.fingerprint,
        path: m.path.to_path_buf(),
        offset: m.end,
        updated_ms: now_ms,
    }));
}
