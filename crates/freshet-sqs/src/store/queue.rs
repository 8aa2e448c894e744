// SPDX-License-Identifier: Apache-2.0
//! One open queue: its [`QueueEngine`] behind the queue's own lock, its messages and journal
//! logs, and the ordering rules that keep the engine's contract (see [`crate::engine`]).
//!
//! Invariants and why they hold:
//! * **Sends are acknowledged only when durable, and applied in offset order.** A send
//!   prepares its records under the engine lock while holding `send_order`, and polls the
//!   log append once before releasing `send_order`: the local log assigns offsets in that
//!   first poll, so preparation order (FIFO sequence numbers, deduplication) equals offset
//!   order. The append then completes outside every lock (concurrent sends share a group
//!   commit). Durable batches may finish out of order; they wait in `arrivals` until every
//!   earlier offset is applied, and a send answers only once its own records are applied,
//!   so a message is receivable as soon as its send returns.
//! * **Every other change is journaled before it is acknowledged.** The engine applies it
//!   when it decides; the caller appends the returned entry and answers after it is durable.
//!   Decision and append happen under `gate` held shared.
//! * **Checkpoints see no half-done change.** A checkpoint takes `gate` exclusively, so no
//!   entry is decided but not yet appended, then snapshots the engine with the journal's end.
//! * **A failed append poisons the queue.** The log is read-only after a failed write or
//!   fsync and the engine may be ahead of what is durable: the queue answers
//!   `InternalFailure` until a restart recovers it from disk.
//!
//! Bodies are never kept: a receive reads them back from the messages log by offset.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use freshet_log::{Log, LogError, RecordIn};
use freshet_types::Clock;
use tokio::sync::{Notify, watch};

use crate::checkpoint::Checkpoint;
use crate::engine::{
    EngineConfig, PendingSend, Prepared, QueueEngine, QueueIdentity, SendRequest, SendResult,
};
use crate::error::Error;
use crate::journal::JournalEntry;
use crate::message::{MessageMeta, StoredMessage};
use crate::store::SqsError;
use crate::store::record::QueueRecord;

/// Most bytes one read of the messages log or journal brings into memory.
const READ_BYTES: usize = 8 * 1024 * 1024;
/// Most records one read asks for.
const READ_RECORDS: usize = 4096;

/// The engine and the durable sends waiting for earlier offsets.
pub(crate) struct State {
    pub engine: QueueEngine,
    arrivals: BTreeMap<u64, Vec<MessageMeta>>,
}

/// The metadata-store view of a queue that changes with control-plane calls.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub created_ms: i64,
    pub modified_ms: i64,
    pub tags: BTreeMap<String, String>,
}

/// One open queue.
pub(crate) struct Queue {
    pub name: String,
    pub arn: String,
    pub incarnation: u64,
    pub dir: String,
    pub fifo: bool,
    state: Mutex<State>,
    meta: Mutex<Meta>,
    messages: Arc<dyn Log>,
    journal: Arc<dyn Log>,
    clock: Arc<dyn Clock>,
    send_order: tokio::sync::Mutex<()>,
    loader: tokio::sync::Mutex<()>,
    pub gate: tokio::sync::RwLock<()>,
    /// Woken by anything that may make a message receivable.
    pub notify: Notify,
    applied: watch::Sender<u64>,
    failed: AtomicBool,
    deleted: AtomicBool,
    changes: AtomicU64,
    last_checkpoint_ms: AtomicI64,
    /// Its AWS/SQS metric handles.
    pub metrics: crate::metrics::QueueMetrics,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .field("incarnation", &self.incarnation)
            .finish_non_exhaustive()
    }
}

/// What a queue needs from its service to open.
pub(crate) struct OpenEnv<'a> {
    pub arn: String,
    pub config: EngineConfig,
    pub receipt_key: &'a [u8],
    pub clock: Arc<dyn Clock>,
    pub messages: Arc<dyn Log>,
    pub journal: Arc<dyn Log>,
    pub checkpoint: Option<Checkpoint>,
    pub recorder: &'a freshet_metrics::Recorder,
}

fn storage(e: LogError) -> SqsError {
    SqsError::Storage(e.to_string())
}

/// Polls `fut` once: the local log assigns a batch's offsets in an append's first poll.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

impl freshet_metrics::GaugeSource for Queue {
    fn sample(
        &self,
        now_ms: i64,
        out: &mut Vec<(freshet_metrics::MetricKey, freshet_metrics::Unit, f64)>,
    ) {
        if self.deleted.load(Ordering::Acquire) {
            return;
        }
        let (counts, oldest) = {
            let st = self.lock();
            (st.engine.counts(now_ms), st.engine.oldest_sent_ms(now_ms))
        };
        crate::metrics::gauges(&self.name, counts, oldest, now_ms, out);
    }
}

impl Queue {
    /// Opens a queue from its record, recovering its engine: the checkpoint, then the
    /// journal after it, then the messages appended after it, then the window. Blocks (reads
    /// the logs).
    pub fn open(rec: &QueueRecord, env: OpenEnv<'_>) -> Result<Arc<Queue>, SqsError> {
        let attrs = rec.queue_attributes()?;
        let fifo = attrs.fifo_queue;
        let identity = QueueIdentity {
            name: rec.name.clone(),
            arn: env.arn.clone(),
            incarnation: rec.incarnation,
        };
        let checkpoint = env.checkpoint.unwrap_or_default();
        let mut engine =
            QueueEngine::restore(identity, attrs, env.config, env.receipt_key, &checkpoint);
        let mut replayed = 0u64;
        let mut from = checkpoint.journal_next;
        while from < env.journal.next_offset() {
            let batch = env
                .journal
                .read(from, READ_RECORDS, READ_BYTES, i64::MIN)
                .map_err(storage)?;
            if batch.records.is_empty() {
                break;
            }
            for r in &batch.records {
                let entry = JournalEntry::decode(&r.data).map_err(|e| {
                    SqsError::Storage(format!("journal record {} of {}: {e}", r.offset, rec.name))
                })?;
                engine.replay(&entry);
                replayed += 1;
            }
            from = batch.next_offset;
        }
        let mut tail = 0u64;
        let mut from = checkpoint.next_offset;
        while from < env.messages.next_offset() {
            let batch = env
                .messages
                .read(from, READ_RECORDS, READ_BYTES, i64::MIN)
                .map_err(storage)?;
            if batch.records.is_empty() {
                break;
            }
            for r in &batch.records {
                let meta = MessageMeta::decode(&r.data).map_err(|e| {
                    SqsError::Storage(format!("message record {} of {}: {e}", r.offset, rec.name))
                })?;
                engine.apply_sent(r.offset, &meta);
                tail += 1;
            }
            from = batch.next_offset;
        }
        let now = env.clock.now_ms();
        let (applied, _) = watch::channel(engine.next_offset());
        let q = Arc::new(Queue {
            name: rec.name.clone(),
            arn: env.arn,
            incarnation: rec.incarnation,
            dir: rec.dir(),
            fifo,
            state: Mutex::new(State {
                engine,
                arrivals: BTreeMap::new(),
            }),
            meta: Mutex::new(Meta {
                created_ms: rec.created_ms,
                modified_ms: rec.modified_ms,
                tags: rec.tags.clone(),
            }),
            messages: env.messages,
            journal: env.journal,
            clock: env.clock,
            send_order: tokio::sync::Mutex::new(()),
            loader: tokio::sync::Mutex::new(()),
            gate: tokio::sync::RwLock::new(()),
            notify: Notify::new(),
            applied,
            failed: AtomicBool::new(false),
            deleted: AtomicBool::new(false),
            changes: AtomicU64::new(replayed + tail),
            last_checkpoint_ms: AtomicI64::new(now),
            metrics: crate::metrics::QueueMetrics::new(env.recorder, &rec.name),
        });
        let gauges: Arc<dyn freshet_metrics::GaugeSource> = q.clone();
        env.recorder.add_gauges(Arc::downgrade(&gauges));
        q.fill_blocking()?;
        tracing::info!(
            queue = %q.name,
            journal_entries = replayed,
            messages_after_checkpoint = tail,
            loaded = q.lock().engine.loaded_len(),
            "Recovered queue."
        );
        Ok(q)
    }

    /// The engine state, locked. Never held across an await.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The control-plane metadata, locked.
    pub fn meta(&self) -> MutexGuard<'_, Meta> {
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses work on a deleted or failed queue.
    pub fn check(&self) -> Result<(), SqsError> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(SqsError::Sqs(Error::QueueDoesNotExist));
        }
        if self.failed.load(Ordering::Acquire) {
            return Err(SqsError::Storage(format!(
                "queue {} is read-only after a storage failure; restart the server to recover it",
                self.name
            )));
        }
        Ok(())
    }

    /// Whether a storage failure made the queue read-only.
    pub fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Marks the queue deleted: later calls answer QueueDoesNotExist, long polls return.
    pub fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
        self.applied.send_replace(u64::MAX);
        self.notify.notify_waiters();
    }

    fn fail(&self, what: &str, e: &LogError) -> SqsError {
        if self.deleted.load(Ordering::Acquire) {
            return SqsError::Sqs(Error::QueueDoesNotExist);
        }
        if !self.failed.swap(true, Ordering::AcqRel) {
            tracing::error!(queue = %self.name, error = %e, what, "Queue storage failed; the queue is read-only until restart.");
        }
        self.applied.send_replace(u64::MAX);
        self.notify.notify_waiters();
        SqsError::Storage(format!("{what}: {e}"))
    }

    /// Sends (or one SendMessageBatch): per entry its result, or a storage failure for all.
    pub async fn send(
        &self,
        reqs: Vec<SendRequest>,
        in_batch: bool,
    ) -> Result<Vec<Result<SendResult, Error>>, SqsError> {
        self.check()?;
        let order = self.send_order.lock().await;
        let now = self.clock.now_ms();
        let mut results: Vec<Option<Result<SendResult, Error>>> = Vec::with_capacity(reqs.len());
        let mut pending: Vec<(usize, PendingSend)> = Vec::new();
        {
            let mut st = self.lock();
            for (i, req) in reqs.into_iter().enumerate() {
                match st.engine.prepare_send(req, in_batch, now) {
                    Ok(Prepared::Duplicate(r)) => results.push(Some(Ok(r))),
                    Ok(Prepared::Append(p)) => {
                        results.push(None);
                        pending.push((i, *p));
                    }
                    Err(e) => results.push(Some(Err(e))),
                }
            }
        }
        if !pending.is_empty() {
            let sends: Vec<&PendingSend> = pending.iter().map(|(_, p)| p).collect();
            self.append_prepared(order, &sends, now).await?;
            for (i, p) in pending {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(Ok(p.result));
                }
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Appends a message moved in from another queue (dead-lettering, move tasks).
    pub async fn append_moved(&self, message: StoredMessage) -> Result<(), SqsError> {
        self.check()?;
        let order = self.send_order.lock().await;
        let now = self.clock.now_ms();
        let pending = self.lock().engine.prepare_move_in(message);
        self.append_prepared(order, &[&pending], now).await
    }

    async fn append_prepared(
        &self,
        order: tokio::sync::MutexGuard<'_, ()>,
        sends: &[&PendingSend],
        now: i64,
    ) -> Result<(), SqsError> {
        let datas: Vec<Vec<u8>> = sends.iter().map(|p| p.record()).collect();
        let records: Vec<RecordIn<'_>> = sends
            .iter()
            .zip(&datas)
            .map(|(p, d)| RecordIn {
                partition_key: p.partition_key(),
                data: d,
            })
            .collect();
        let result = {
            let mut fut = self.messages.append(&records, now);
            // Offsets are assigned in the first poll: after it, later sends may prepare.
            let first = poll_once(&mut fut).await;
            drop(order);
            match first {
                Poll::Ready(r) => r,
                Poll::Pending => fut.await,
            }
        };
        match result {
            Ok(appended) => {
                let n = sends.len() as u64;
                let last = appended.first_offset.saturating_add(n.saturating_sub(1));
                {
                    let mut st = self.lock();
                    st.arrivals.insert(
                        appended.first_offset,
                        sends.iter().map(|p| p.message.meta()).collect(),
                    );
                    self.drain(&mut st);
                }
                self.changes.fetch_add(n, Ordering::Relaxed);
                self.notify.notify_waiters();
                let mut rx = self.applied.subscribe();
                // A failure or delete sets u64::MAX, so this always ends.
                let _ = rx.wait_for(|applied| *applied > last).await;
                self.check()
            }
            Err(e) => {
                {
                    let mut st = self.lock();
                    for p in sends {
                        st.engine.abort_send(p);
                    }
                }
                Err(self.fail("append to the messages log", &e))
            }
        }
    }

    /// Applies durable sends in offset order.
    fn drain(&self, st: &mut State) {
        while let Some(entry) = st.arrivals.first_entry() {
            let first = *entry.key();
            if first > st.engine.next_offset() {
                break;
            }
            let metas = entry.remove();
            for (i, m) in metas.iter().enumerate() {
                st.engine.apply_sent(first.saturating_add(i as u64), m);
            }
        }
        if !self.failed.load(Ordering::Acquire) && !self.deleted.load(Ordering::Acquire) {
            self.applied.send_replace(st.engine.next_offset());
        }
    }

    /// Appends a journal entry and waits until it is durable. Call with `gate` held shared,
    /// the entry decided under it.
    pub async fn persist(&self, entry: &JournalEntry) -> Result<(), SqsError> {
        let data = entry.encode();
        let records = [RecordIn {
            partition_key: "",
            data: &data,
        }];
        match self.journal.append(&records, self.clock.now_ms()).await {
            Ok(_) => {
                self.changes.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(self.fail("append to the journal", &e)),
        }
    }

    /// Persists `entry` if there is one.
    pub async fn persist_opt(&self, entry: Option<&JournalEntry>) -> Result<(), SqsError> {
        match entry {
            Some(e) => self.persist(e).await,
            None => Ok(()),
        }
    }

    /// Loads pristine messages into the window while it has room. One loader at a time;
    /// reads at most [`READ_BYTES`] per step.
    pub async fn fill(&self) -> Result<(), SqsError> {
        let Ok(_loader) = self.loader.try_lock() else {
            return Ok(());
        };
        self.fill_steps()
    }

    fn fill_blocking(&self) -> Result<(), SqsError> {
        self.fill_steps()
    }

    fn fill_steps(&self) -> Result<(), SqsError> {
        loop {
            let Some(req) = self.lock().engine.load_request() else {
                return Ok(());
            };
            let batch = self
                .messages
                .read(req.from, req.max_records, READ_BYTES, i64::MIN)
                .map_err(storage)?;
            if batch.records.is_empty() {
                return Ok(());
            }
            let mut st = self.lock();
            for r in &batch.records {
                if r.offset >= req.to {
                    break;
                }
                let meta = MessageMeta::decode(&r.data).map_err(|e| {
                    SqsError::Storage(format!("message record {} of {}: {e}", r.offset, self.name))
                })?;
                st.engine.load(r.offset, &meta);
            }
            if st.engine.load_request() == Some(req) {
                return Ok(());
            }
        }
    }

    /// Reads the records at `offsets` (the messages must be live, so their segments exist).
    pub fn read_messages(&self, offsets: &[u64]) -> Result<Vec<StoredMessage>, SqsError> {
        let mut sorted: Vec<u64> = offsets.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut found: BTreeMap<u64, StoredMessage> = BTreeMap::new();
        let mut i = 0;
        while i < sorted.len() {
            let start = sorted[i];
            let mut run = 1usize;
            while i + run < sorted.len() && sorted[i + run] == start + run as u64 {
                run += 1;
            }
            let batch = self
                .messages
                .read(start, run, usize::MAX, i64::MIN)
                .map_err(storage)?;
            for r in batch.records {
                if r.offset >= start && r.offset < start + run as u64 {
                    let m = StoredMessage::decode(&r.data).map_err(|e| {
                        SqsError::Storage(format!(
                            "message record {} of {}: {e}",
                            r.offset, self.name
                        ))
                    })?;
                    found.insert(r.offset, m);
                }
            }
            i += run;
        }
        offsets
            .iter()
            .map(|o| {
                found.get(o).cloned().ok_or_else(|| {
                    SqsError::Storage(format!(
                        "message record {o} of {} is missing from its log",
                        self.name
                    ))
                })
            })
            .collect()
    }

    /// Journal entries and sends since the last checkpoint, and when that was.
    pub fn since_checkpoint(&self) -> (u64, i64) {
        (
            self.changes.load(Ordering::Relaxed),
            self.last_checkpoint_ms.load(Ordering::Relaxed),
        )
    }

    /// Takes a snapshot (with no change half done) and returns it with what it lets go of:
    /// journal segments below its `journal_next`, messages segments below its low watermark.
    pub async fn snapshot(&self) -> Option<Checkpoint> {
        if self.is_failed() || self.deleted.load(Ordering::Acquire) {
            return None;
        }
        let _exclusive = self.gate.write().await;
        let now = self.clock.now_ms();
        let st = self.lock();
        let c = st.engine.snapshot(self.journal.next_offset(), now);
        self.changes.store(0, Ordering::Relaxed);
        self.last_checkpoint_ms.store(now, Ordering::Relaxed);
        Some(c)
    }

    /// After a checkpoint is durable: deletes log segments it no longer needs. Blocks.
    pub fn trim(&self, c: &Checkpoint) -> Result<usize, SqsError> {
        let j = self
            .journal
            .delete_segments_below(c.journal_next)
            .map_err(storage)?;
        let m = self
            .messages
            .delete_segments_below(c.low_watermark)
            .map_err(storage)?;
        Ok(j + m)
    }

    /// Closes both logs (fsyncs them). Blocks.
    pub fn close(&self) {
        for log in [&self.messages, &self.journal] {
            if let Err(error) = log.close() {
                tracing::warn!(queue = %self.name, %error, "Closing a queue log failed.");
            }
        }
    }

    /// Whether either log is read-only after a storage failure.
    pub fn logs_poisoned(&self) -> bool {
        self.messages.is_poisoned() || self.journal.is_poisoned()
    }

    /// The server clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
