// SPDX-License-Identifier: Apache-2.0
//! [`SubscriptionDelivery`]: the component that delivers each subscription filter's events.
//!
//! One task per filter follows its group's log from the filter's cursor: it reads at most
//! [`READ_RECORDS`] records / [`READ_BYTES`] bytes, keeps the events of live streams that
//! match the pattern, cuts them per log stream into gzip data messages that fit the
//! destination (`payload.rs`), sends them, and commits the cursor past the read only when the
//! destination acknowledged every message (at least once: a crash between the
//! acknowledgement and the commit sends those messages again). It waits on the log's
//! visibility watch, so new events go out as soon as they are durable.
//!
//! Failures: a refused record or a failed send is retried with exponential back-off (100 ms
//! up to [`MAX_BACKOFF`]), indefinitely, with a warning per failed attempt; nothing after it
//! is sent meanwhile (events of one filter stay in order). A deleted destination therefore
//! holds the filter's events until it exists again or the filter is deleted; if retention
//! deletes events the filter had not delivered, delivery resumes at the log's start with a
//! warning. An event too large for the destination even compressed alone is skipped with a
//! warning (only Lambda's 256 KB can be smaller than one event).
//!
//! Memory per filter: one read (at most [`READ_BYTES`]) and its messages.
//!
//! Metrics (AWS/Logs, by LogGroupName, DestinationType and FilterName): ForwardedLogEvents and
//! ForwardedBytes per acknowledged message, DeliveryErrors or DeliveryThrottling per refused
//! attempt (in log events).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use freshet_metrics::{MetricKey, Series, Unit};
use freshet_runtime::{Component, ComponentError, Context};
use futures_util::future::BoxFuture;
use md5::{Digest, Md5};

use super::payload::{self, Origin, PayloadEvent};
use super::{Destination, Distribution, Entry, OutRecord, RecordOutcome};
use crate::codec;
use crate::service::Logs;

/// Records read per step.
pub const READ_RECORDS: usize = 10_000;
/// Bytes read per step.
pub const READ_BYTES: usize = 4 * 1024 * 1024;
/// Records a filter may read past without committing its cursor when none of them matched.
const UNCOMMITTED_RECORDS: u64 = 100_000;
/// Longest wait between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Most records per send (PutRecords, PutRecordBatch).
const SEND_RECORDS: usize = 500;
/// Most bytes per send (PutRecordBatch's 4 MiB).
const SEND_BYTES: usize = 4 * 1024 * 1024;

/// A filter's AWS/Logs metrics (dimensions LogGroupName, DestinationType, FilterName; unit
/// None; each counts log events, ForwardedBytes their message bytes).
#[derive(Debug)]
pub(crate) struct FilterMetrics {
    forwarded_events: Series,
    forwarded_bytes: Series,
    errors: Series,
    throttling: Series,
}

impl FilterMetrics {
    fn new(recorder: &freshet_metrics::Recorder, e: &Entry) -> FilterMetrics {
        let kind = match e.destination {
            Destination::Kinesis { .. } => "Kinesis",
            Destination::Firehose { .. } => "Firehose",
            Destination::Lambda { .. } => "Lambda",
        };
        let series = |name: &str| {
            recorder.series(
                MetricKey::new(
                    crate::metrics::NAMESPACE,
                    name,
                    [
                        ("LogGroupName", e.group.name.as_str()),
                        ("DestinationType", kind),
                        ("FilterName", e.record.name.as_str()),
                    ],
                ),
                Unit::None,
            )
        };
        FilterMetrics {
            forwarded_events: series("ForwardedLogEvents"),
            forwarded_bytes: series("ForwardedBytes"),
            errors: series("DeliveryErrors"),
            throttling: series("DeliveryThrottling"),
        }
    }

    fn failed(&self, code: &str, events: usize) {
        let throttled = matches!(
            code,
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "TooManyRequestsException"
                | "LimitExceededException"
        );
        let series = if throttled {
            &self.throttling
        } else {
            &self.errors
        };
        series.record(events as f64);
    }
}

/// One message with what it carries, for the metrics.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) record: OutRecord,
    pub(crate) events: usize,
    pub(crate) bytes: usize,
}

/// Delivers every subscription filter's events.
#[derive(Debug)]
pub struct SubscriptionDelivery {
    logs: Logs,
}

impl SubscriptionDelivery {
    pub(crate) fn new(logs: Logs) -> Arc<Self> {
        Arc::new(SubscriptionDelivery { logs })
    }
}

type Key = (u64, String);

impl Component for SubscriptionDelivery {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("logs-subscriptions")
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            let registry = &self.logs.inner.subscriptions;
            let mut changed = registry.watch();
            let mut running: HashMap<Key, (u64, tokio::task::JoinHandle<()>)> = HashMap::new();
            loop {
                changed.borrow_and_update();
                let live: BTreeMap<Key, Arc<Entry>> = registry
                    .snapshot()
                    .into_iter()
                    .map(|e| ((e.group.id, e.record.name.clone()), e))
                    .collect();
                running.retain(|k, (id, task)| {
                    let keep =
                        live.get(k).is_some_and(|e| e.record.id == *id) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for (k, e) in live {
                    if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(k) {
                        let task = tokio::spawn(follow(self.logs.clone(), e.clone()));
                        slot.insert((e.record.id, task));
                    }
                }
                tokio::select! {
                    () = ctx.cancelled() => break,
                    r = changed.changed() => if r.is_err() { break },
                }
            }
            for (_, (_, task)) in running {
                task.abort();
            }
            Ok(())
        })
    }
}

/// The partition key of a message: by log stream, the same for every message of the stream
/// (so one stream's messages stay in one shard, in order); random otherwise.
pub fn partition_key(distribution: Distribution, group: &str, stream: &str) -> String {
    match distribution {
        Distribution::ByLogStream => {
            let mut h = Md5::new();
            h.update(group.as_bytes());
            h.update(b"\n");
            h.update(stream.as_bytes());
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }
        Distribution::Random => uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// Follows one filter until it is deleted, replaced, or its group is.
async fn follow(logs: Logs, e: Arc<Entry>) {
    let g = e.group.clone();
    let mut visible = g.log.watch_visible();
    let mut cursor = e.cursor.load(Ordering::SeqCst);
    let mut committed = cursor;
    let owner = logs.inner.opts.account_id.clone();
    let metrics = FilterMetrics::new(&logs.inner.opts.recorder, &e);
    loop {
        if g.is_deleted() {
            return;
        }
        visible.borrow_and_update();
        let start = g.log.start_offset();
        if cursor < start {
            tracing::warn!(group = %g.name, filter = %e.record.name, from = cursor, to = start,
                "Retention deleted events the subscription filter had not delivered; resuming at the log's start.");
            cursor = start;
        }
        let log = g.log.clone();
        let read = tokio::task::spawn_blocking(move || {
            log.read(cursor, READ_RECORDS, READ_BYTES, i64::MIN)
        })
        .await;
        let batch = match read {
            Ok(Ok(b)) => b,
            Ok(Err(error)) => {
                if g.is_deleted() {
                    return;
                }
                tracing::warn!(group = %g.name, filter = %e.record.name, %error, "Cannot read the log for a subscription filter.");
                tokio::time::sleep(MAX_BACKOFF).await;
                continue;
            }
            Err(_) => return,
        };
        if batch.records.is_empty() {
            if visible.changed().await.is_err() {
                return;
            }
            continue;
        }
        let records = messages(&e, &owner, &batch.records);
        let sent = !records.is_empty();
        if !deliver(&logs, &e, &metrics, records).await {
            return;
        }
        let next = batch.next_offset;
        // A step that matched nothing need not cost a metadata commit: after a crash the
        // filter only reads those records again.
        let must_commit = sent || next.saturating_sub(committed) >= UNCOMMITTED_RECORDS;
        if must_commit {
            if !commit(&logs, &e, next).await {
                return;
            }
            committed = next;
        }
        cursor = next;
        e.cursor.store(next, Ordering::SeqCst);
    }
}

/// Commits the cursor, retrying until the metadata store takes it. `false`: the filter was
/// deleted or replaced.
async fn commit(logs: &Logs, e: &Entry, next: u64) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        match logs.commit_cursor(e, next).await {
            Ok(committed) => return committed,
            Err(error) => {
                tracing::warn!(group = %e.group.name, filter = %e.record.name, %error, "Cannot commit a subscription filter's cursor; retrying.");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The records to send for one read: the matching events of live streams, per stream, in
/// messages that fit the destination.
pub(crate) fn messages(
    e: &Entry,
    owner: &str,
    records: &[freshet_log::StoredRecord],
) -> Vec<Message> {
    let g = &e.group;
    let live: HashMap<String, u64> = g
        .data()
        .streams
        .iter()
        .map(|(n, s)| (n.clone(), s.id))
        .collect();
    let mut per_stream: Vec<(String, Vec<PayloadEvent>)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for r in records {
        let Ok(ev) = codec::decode(&r.data) else {
            continue;
        };
        if live.get(&r.partition_key) != Some(&ev.stream_id)
            || e.pattern.matches(ev.message).is_none()
        {
            continue;
        }
        let i = *slot.entry(r.partition_key.as_str()).or_insert_with(|| {
            per_stream.push((r.partition_key.clone(), Vec::new()));
            per_stream.len() - 1
        });
        per_stream[i].1.push(PayloadEvent {
            id: crate::token::event_id(g.id, r.offset),
            timestamp: ev.timestamp_ms,
            message: ev.message.to_owned(),
        });
    }
    let mut out = Vec::new();
    for (stream, events) in per_stream {
        let origin = Origin {
            owner,
            group: &g.name,
            stream: &stream,
            filter: &e.record.name,
        };
        let (compressed, oversized) = payload::batches(origin, &events, e.destination.gzip_limit());
        for id in oversized.ids {
            tracing::warn!(group = %g.name, stream = %stream, filter = %e.record.name, event = %id,
                "Skipping a log event too large for the subscription destination even compressed.");
        }
        for c in compressed {
            let (count, bytes) = (c.events, c.message_bytes);
            let data = match &e.destination {
                Destination::Lambda { .. } => payload::lambda_event(&c.data),
                Destination::Kinesis { .. } | Destination::Firehose { .. } => c.data,
            };
            out.push(Message {
                record: OutRecord {
                    partition_key: partition_key(e.record.distribution, &g.name, &stream),
                    data: Bytes::from(data),
                },
                events: count,
                bytes,
            });
        }
    }
    out
}

/// Sends `messages` until the destination acknowledged every one. `false`: the filter or its
/// group went away meanwhile.
pub(crate) async fn deliver(
    logs: &Logs,
    e: &Entry,
    metrics: &FilterMetrics,
    mut messages: Vec<Message>,
) -> bool {
    let mut backoff = Duration::from_millis(100);
    while !messages.is_empty() {
        if e.group.is_deleted() {
            return false;
        }
        let Some(dest) = logs.inner.subscriptions.destinations() else {
            tracing::warn!(filter = %e.record.name, "No subscription destinations are configured; waiting.");
            tokio::time::sleep(MAX_BACKOFF).await;
            continue;
        };
        let mut count = 0;
        let mut bytes = 0;
        for m in &messages {
            let len = m.record.data.len();
            if count == SEND_RECORDS || (count > 0 && bytes + len > SEND_BYTES) {
                break;
            }
            count += 1;
            bytes += len;
        }
        let chunk: Vec<Message> = messages.drain(..count).collect();
        let records: Vec<OutRecord> = chunk.iter().map(|m| m.record.clone()).collect();
        let failed: Vec<Message> = match dest.send(&e.destination, &records).await {
            Ok(outcomes) => {
                let mut failed = Vec::new();
                let mut first_error = None;
                for (i, m) in chunk.into_iter().enumerate() {
                    match outcomes.get(i) {
                        Some(RecordOutcome::Delivered) => {
                            metrics.forwarded_events.record(m.events as f64);
                            metrics.forwarded_bytes.record(m.bytes as f64);
                        }
                        Some(RecordOutcome::Failed { code, message }) => {
                            metrics.failed(code, m.events);
                            first_error.get_or_insert_with(|| format!("{code}: {message}"));
                            failed.push(m);
                        }
                        None => {
                            metrics.errors.record(m.events as f64);
                            failed.push(m);
                        }
                    }
                }
                if let Some(error) = first_error {
                    tracing::warn!(group = %e.group.name, filter = %e.record.name, failed = failed.len(), %error,
                        "The subscription destination refused records; retrying them.");
                }
                failed
            }
            Err(error) => {
                for m in &chunk {
                    metrics.failed(&error.code, m.events);
                }
                tracing::warn!(group = %e.group.name, filter = %e.record.name, %error,
                    "Cannot deliver to the subscription destination; retrying.");
                chunk
            }
        };
        if failed.is_empty() {
            backoff = Duration::from_millis(100);
            continue;
        }
        // Retried first, ahead of the rest, keeping order.
        messages.splice(0..0, failed);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    true
}
