// SPDX-License-Identifier: Apache-2.0
//! Asynchronous (`Event`) invocations: a durable per-server queue, retried as AWS retries them
//! and recorded to OnSuccess/OnFailure destinations.
//!
//! - [`codec`]: the persisted records; [`retry`]: when an event runs again or is given up
//!   (pure); [`record`]: the destination's invocation record document;
//! - [`AsyncQueue`] (this module): storage and the in-memory index; `dispatch`: the
//!   `lambda-async-invocations` component that runs due events through the functions.
//!
//! # Storage
//!
//! A queue owns no file format: two logs and a checkpoint, as SQS queues are kept.
//!
//! - the **events log** `lambda/async/events`: one [`codec::EventRecord`] per queued event;
//!   its offset is the event's identity. An event is durable there before Invoke answers 202.
//! - the **journal** `lambda/async/journal`: one [`codec::JournalEntry`] per finished event
//!   (succeeded, handed to its destination, dropped, or re-queued under a new offset).
//! - the **checkpoint** in the metadata store (`lambda.async_queue`, key `checkpoint`, JSON):
//!   the live events below `events_next` with their schedule, and the journal position
//!   `journal_next` they reflect. It is written every so many changes or seconds and at
//!   shutdown; after it is stored, events segments below the oldest live event and journal
//!   segments below `journal_next` are deleted.
//!
//! Recovery: the checkpoint's live events, minus those the journal from `journal_next`
//! finishes, plus every events-log record from `events_next` the journal does not finish.
//!
//! # Invariants
//!
//! - An event leaves the queue only after it succeeded (and its OnSuccess record was sent),
//!   was handed to its OnFailure destination, or had nothing left to do: a crash at any other
//!   moment runs it again after the restart (at least once, as AWS).
//! - A retry after a function error is appended as a new record (with its attempt count and
//!   the function's answer) *before* the old one is journaled finished: a crash in between
//!   runs it twice, never zero times.
//! - Every change holds the `gate` shared from its append until memory reflects it; a
//!   checkpoint holds it exclusively while it takes its snapshot, so the snapshot and the log
//!   positions it names always agree.
//! - Memory holds a few fields per event, never payloads (read back from the log when the
//!   event runs), and at most `max_queued` events are accepted (beyond: 429).

pub mod codec;
mod dispatch;
pub mod record;
pub mod retry;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use freshet_log::{Log, LogError, LogName, RecordIn};
use freshet_meta::{Meta, MetaError, Table};
use freshet_runtime::{Component, Platform};
use freshet_sqs::Sqs;
use freshet_types::Clock;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::async_invoke::codec::{EventRecord, JournalEntry};
use crate::functions::Functions;

/// The queue's table in the metadata store.
pub const ASYNC_QUEUE: Table = Table::new("lambda", "async_queue");
/// Key of the checkpoint in [`ASYNC_QUEUE`].
const CHECKPOINT_KEY: &str = "checkpoint";
/// The checkpoint layout version. Persisted: never reuse.
const CHECKPOINT_VERSION: u32 = 1;
/// Most bytes one recovery read takes from a log.
const RECOVERY_READ_BYTES: usize = 16 * 1024 * 1024;
/// Most ready entries one [`AsyncQueue::take_ready`] looks at (bounds the work per round when
/// functions at their concurrency limit hold many due events).
const MAX_SCAN: usize = 10_000;

/// How the queue behaves.
#[derive(Debug, Clone)]
pub struct AsyncQueueOptions {
    /// Events accepted and not finished, beyond which Invoke answers 429.
    pub max_queued: usize,
    /// Events run at once, over all functions.
    pub max_in_flight: usize,
    /// Checkpoint after this many changes...
    pub checkpoint_changes: u64,
    /// ...or this long (ms) after the first change since the last checkpoint.
    pub checkpoint_interval_ms: i64,
}

impl Default for AsyncQueueOptions {
    fn default() -> Self {
        AsyncQueueOptions {
            max_queued: 10_000,
            max_in_flight: 100,
            checkpoint_changes: 1_000,
            checkpoint_interval_ms: 30_000,
        }
    }
}

/// Why the queue refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// `max_queued` events are waiting.
    #[error("the asynchronous invocation queue is full")]
    Full,
    /// The logs or the metadata store failed.
    #[error("asynchronous invocation queue storage failed: {0}")]
    Storage(String),
}

impl From<LogError> for QueueError {
    fn from(e: LogError) -> Self {
        QueueError::Storage(e.to_string())
    }
}

impl From<MetaError> for QueueError {
    fn from(e: MetaError) -> Self {
        QueueError::Storage(e.to_string())
    }
}

/// An event Invoke accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The function's name.
    pub function: String,
    /// The version or alias invoked.
    pub qualifier: Option<String>,
    /// The request id Invoke answered with (kept across retries).
    pub request_id: String,
    /// `ClientContext`, decoded.
    pub client_context: Option<String>,
    /// The event.
    pub payload: Bytes,
}

/// One queued event as memory (and the checkpoint) keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Its events-log offset.
    pub offset: u64,
    /// The function's name.
    pub function: String,
    /// The version or alias invoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// When Invoke accepted it, ms.
    pub accepted_ms: i64,
    /// Not to be run before, ms.
    pub due_ms: i64,
    /// Runs that ended in a function error.
    pub attempts: u32,
    /// Attempts that did not run the function (kept in memory only: after a restart the
    /// back-off starts over, bounded by the event's age).
    #[serde(skip)]
    pub not_run: u32,
    /// Being run now.
    #[serde(skip)]
    running: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    version: u32,
    events_next: u64,
    journal_next: u64,
    live: Vec<Pending>,
}

/// The durable queue of Event invocations of one server. Cheap to clone.
#[derive(Clone)]
pub struct AsyncQueue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncQueue")
            .field("queued", &self.len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    events: Arc<dyn Log>,
    journal: Arc<dyn Log>,
    meta: Arc<Meta>,
    clock: Arc<dyn Clock>,
    opts: AsyncQueueOptions,
    /// Shared by changes, exclusive for a checkpoint's snapshot (see the module docs).
    gate: tokio::sync::RwLock<()>,
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    pending: BTreeMap<u64, Pending>,
    /// Pending events not running, by (due, offset).
    ready: BTreeSet<(i64, u64)>,
    /// Accepts whose append is in flight.
    reserved: usize,
    /// Running events per function.
    running: HashMap<String, u32>,
    running_total: usize,
    /// Changes since the last checkpoint, and when the first of them happened.
    changes: u64,
    first_change_ms: Option<i64>,
}

impl State {
    fn insert(&mut self, p: Pending) {
        self.ready.insert((p.due_ms, p.offset));
        self.pending.insert(p.offset, p);
    }

    fn changed(&mut self, now_ms: i64) {
        self.changes += 1;
        self.first_change_ms.get_or_insert(now_ms);
    }

    /// Marks `offset` not running any more (if it was).
    fn stop_running(&mut self, offset: u64) {
        let Some(p) = self.pending.get_mut(&offset) else {
            return;
        };
        if !p.running {
            return;
        }
        p.running = false;
        self.running_total = self.running_total.saturating_sub(1);
        if let Some(n) = self.running.get_mut(&p.function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.running.remove(&p.function);
            }
        }
    }

    fn remove(&mut self, offset: u64) -> Option<Pending> {
        self.stop_running(offset);
        let p = self.pending.remove(&offset)?;
        self.ready.remove(&(p.due_ms, p.offset));
        Some(p)
    }
}

fn events_log() -> Result<LogName, LogError> {
    LogName::new("lambda", ["async", "events"])
}

fn journal_log() -> Result<LogName, LogError> {
    LogName::new("lambda", ["async", "journal"])
}

/// Releases an accept's reserved slot if its append fails or is cancelled.
struct Reservation<'a> {
    queue: &'a Inner,
    armed: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut s = lock(&self.queue.state);
            s.reserved = s.reserved.saturating_sub(1);
        }
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AsyncQueue {
    /// Opens and recovers the queue on `platform` (blocking work off the async workers).
    pub async fn open_on(
        platform: &Platform,
        opts: AsyncQueueOptions,
    ) -> Result<AsyncQueue, QueueError> {
        let platform = platform.clone();
        tokio::task::spawn_blocking(move || Self::open(&platform, opts))
            .await
            .map_err(|e| QueueError::Storage(format!("queue recovery task failed: {e}")))?
    }

    /// Opens and recovers the queue on `platform`. Blocks.
    pub fn open(platform: &Platform, opts: AsyncQueueOptions) -> Result<AsyncQueue, QueueError> {
        let events = platform.logs.open(&events_log()?)?;
        let journal = platform.logs.open(&journal_log()?)?;
        let checkpoint: Option<Checkpoint> = platform.meta.get_json(ASYNC_QUEUE, CHECKPOINT_KEY)?;
        let (live, events_next, journal_next) = match checkpoint {
            Some(c) if c.version == CHECKPOINT_VERSION => (c.live, c.events_next, c.journal_next),
            Some(c) => {
                return Err(QueueError::Storage(format!(
                    "unknown asynchronous queue checkpoint version {}",
                    c.version
                )));
            }
            None => (Vec::new(), events.start_offset(), journal.start_offset()),
        };
        let mut pending: BTreeMap<u64, Pending> = live.into_iter().map(|p| (p.offset, p)).collect();
        let mut finished: HashSet<u64> = HashSet::new();
        read_all(
            journal.as_ref(),
            journal_next,
            |offset, data| match JournalEntry::decode(data) {
                Ok(JournalEntry::Finished(offsets)) => {
                    for o in offsets {
                        if pending.remove(&o).is_none() {
                            finished.insert(o);
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(offset, %error, "Skipping an unreadable asynchronous queue journal entry.");
                }
            },
        )?;
        let mut unreadable = 0u64;
        read_all(events.as_ref(), events_next, |offset, data| {
            if finished.contains(&offset) {
                return;
            }
            match EventRecord::decode(data) {
                Ok(r) => {
                    pending.insert(
                        offset,
                        Pending {
                            offset,
                            function: r.function,
                            qualifier: r.qualifier,
                            accepted_ms: r.accepted_ms,
                            due_ms: r.due_ms,
                            attempts: r.attempts,
                            not_run: 0,
                            running: false,
                        },
                    );
                }
                Err(error) => {
                    unreadable += 1;
                    tracing::error!(offset, %error, "Skipping an unreadable queued asynchronous invocation.");
                }
            }
        })?;
        let mut state = State::default();
        let recovered = pending.len();
        for (_, p) in pending {
            state.insert(p);
        }
        if recovered > 0 {
            tracing::info!(
                events = recovered,
                unreadable,
                "Recovered queued asynchronous invocations."
            );
        }
        Ok(AsyncQueue {
            inner: Arc::new(Inner {
                events,
                journal,
                meta: platform.meta.clone(),
                clock: platform.clock.clone(),
                opts,
                gate: tokio::sync::RwLock::new(()),
                state: Mutex::new(state),
                wake: Notify::new(),
            }),
        })
    }

    /// The component that runs due events through `functions` and sends records to SQS
    /// destinations through `sqs`; start it once under the server's Supervisor.
    pub fn dispatcher(&self, functions: Functions, sqs: Sqs) -> Arc<dyn Component> {
        Arc::new(dispatch::Dispatcher::new(self.clone(), functions, sqs))
    }

    /// Events queued (accepted and not finished).
    pub fn len(&self) -> usize {
        lock(&self.inner.state).pending.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queued events, in offset order (for tests and the console).
    pub fn pending(&self) -> Vec<Pending> {
        lock(&self.inner.state).pending.values().cloned().collect()
    }

    /// Makes the dispatcher look at the queue now (after a test moved a manual clock).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Queues `e`; returns once it is durable. [`QueueError::Full`] beyond `max_queued`.
    pub async fn enqueue(&self, e: NewEvent) -> Result<(), QueueError> {
        {
            let i = &self.inner;
            let mut s = lock(&i.state);
            if s.pending.len() + s.reserved >= i.opts.max_queued {
                return Err(QueueError::Full);
            }
            s.reserved += 1;
        }
        // A task of its own: once the append starts, the event reaches memory even if the
        // caller goes away (a durable event that memory missed would wait for a restart).
        let inner = self.inner.clone();
        tokio::spawn(async move { Self::append_new(&inner, e).await })
            .await
            .map_err(|e| QueueError::Storage(format!("queueing task failed: {e}")))?
    }

    async fn append_new(i: &Inner, e: NewEvent) -> Result<(), QueueError> {
        let mut reservation = Reservation {
            queue: i,
            armed: true,
        };
        let now = i.clock.now_ms();
        let rec = EventRecord {
            accepted_ms: now,
            due_ms: now,
            attempts: 0,
            function: e.function,
            qualifier: e.qualifier,
            request_id: e.request_id,
            client_context: e.client_context,
            last_response: None,
            payload: e.payload,
        };
        let data = rec.encode();
        let _gate = i.gate.read().await;
        let appended = i
            .events
            .append(
                &[RecordIn {
                    partition_key: "",
                    data: &data,
                }],
                now,
            )
            .await?;
        {
            let mut s = lock(&i.state);
            reservation.armed = false;
            s.reserved = s.reserved.saturating_sub(1);
            s.insert(Pending {
                offset: appended.first_offset,
                function: rec.function,
                qualifier: rec.qualifier,
                accepted_ms: rec.accepted_ms,
                due_ms: rec.due_ms,
                attempts: 0,
                not_run: 0,
                running: false,
            });
            s.changed(now);
        }
        i.wake.notify_one();
        Ok(())
    }

    /// Takes the events due at `now_ms` that may run, in due order, and marks them running:
    /// at most `max_in_flight` in all, and per function at most `limit(function)` (its
    /// reserved concurrency) when that is `Some`.
    pub(crate) fn take_ready(
        &self,
        now_ms: i64,
        limit: impl Fn(&str) -> Option<u32>,
    ) -> Vec<Pending> {
        let i = &self.inner;
        let mut s = lock(&i.state);
        let mut out = Vec::new();
        let mut limits: HashMap<String, Option<u32>> = HashMap::new();
        let candidates: Vec<(i64, u64)> = s
            .ready
            .iter()
            .take_while(|(due, _)| *due <= now_ms)
            .take(MAX_SCAN)
            .copied()
            .collect();
        for (due, offset) in candidates {
            if s.running_total >= i.opts.max_in_flight {
                break;
            }
            let Some(p) = s.pending.get(&offset) else {
                s.ready.remove(&(due, offset));
                continue;
            };
            let function = p.function.clone();
            let cap = *limits
                .entry(function.clone())
                .or_insert_with(|| limit(&function));
            let running = s.running.get(&function).copied().unwrap_or(0);
            // Reserved concurrency 0 still takes one at a time: it is refused, not run.
            if cap.is_some_and(|c| running >= c.max(1)) {
                continue;
            }
            s.ready.remove(&(due, offset));
            *s.running.entry(function).or_default() += 1;
            s.running_total += 1;
            if let Some(p) = s.pending.get_mut(&offset) {
                p.running = true;
                out.push(p.clone());
            }
        }
        out
    }

    /// When the next waiting event is due, if any is waiting.
    pub(crate) fn next_due(&self) -> Option<i64> {
        lock(&self.inner.state).ready.first().map(|(due, _)| *due)
    }

    /// Reads the stored record of the event at `offset`.
    pub(crate) fn read_event(&self, offset: u64) -> Result<EventRecord, QueueError> {
        let batch = self.inner.events.read(offset, 1, 1, i64::MIN)?;
        let r = batch
            .records
            .into_iter()
            .find(|r| r.offset == offset)
            .ok_or_else(|| {
                QueueError::Storage(format!("queued event {offset} is missing from its log"))
            })?;
        EventRecord::decode(&r.data).map_err(|e| QueueError::Storage(e.to_string()))
    }

    /// Removes the event at `offset` for good (journaled first). On failure it stays queued
    /// and runs again later.
    pub(crate) async fn finish(&self, offset: u64) -> Result<(), QueueError> {
        let i = &self.inner;
        let entry = JournalEntry::Finished(vec![offset]).encode();
        let now = i.clock.now_ms();
        let _gate = i.gate.read().await;
        let appended = i
            .journal
            .append(
                &[RecordIn {
                    partition_key: "",
                    data: &entry,
                }],
                now,
            )
            .await;
        let mut s = lock(&i.state);
        match appended {
            Ok(_) => {
                s.remove(offset);
                s.changed(now);
                Ok(())
            }
            Err(e) => {
                Self::release(&mut s, offset, now.saturating_add(retry::THROTTLE_MAX_MS));
                Err(e.into())
            }
        }
    }

    /// Queues `rec` (the event at `offset` with its new attempt count, due time and answer)
    /// as a new record, then finishes the old one. On failure the old one stays queued,
    /// waiting until `rec.due_ms`.
    pub(crate) async fn requeue(&self, offset: u64, rec: EventRecord) -> Result<(), QueueError> {
        let i = &self.inner;
        let now = i.clock.now_ms();
        let data = rec.encode();
        let finished = JournalEntry::Finished(vec![offset]).encode();
        let _gate = i.gate.read().await;
        let appended = i
            .events
            .append(
                &[RecordIn {
                    partition_key: "",
                    data: &data,
                }],
                now,
            )
            .await;
        let appended = match appended {
            Ok(a) => a,
            Err(e) => {
                Self::release(&mut lock(&i.state), offset, rec.due_ms);
                return Err(e.into());
            }
        };
        let journaled = i
            .journal
            .append(
                &[RecordIn {
                    partition_key: "",
                    data: &finished,
                }],
                now,
            )
            .await;
        let mut s = lock(&i.state);
        s.insert(Pending {
            offset: appended.first_offset,
            function: rec.function,
            qualifier: rec.qualifier,
            accepted_ms: rec.accepted_ms,
            due_ms: rec.due_ms,
            attempts: rec.attempts,
            not_run: 0,
            running: false,
        });
        s.changed(now);
        match journaled {
            Ok(_) => {
                s.remove(offset);
                drop(s);
                i.wake.notify_one();
                Ok(())
            }
            Err(e) => {
                // Both copies stay: the old one runs again too (at least once).
                Self::release(&mut s, offset, rec.due_ms);
                Err(e.into())
            }
        }
    }

    /// Puts the running event at `offset` back, due at `due_ms`, after `not_run` attempts
    /// that did not run the function (memory only).
    pub(crate) fn defer(&self, offset: u64, due_ms: i64, not_run: u32) {
        let mut s = lock(&self.inner.state);
        if let Some(p) = s.pending.get_mut(&offset) {
            p.not_run = not_run;
        }
        Self::release(&mut s, offset, due_ms);
    }

    fn release(s: &mut State, offset: u64, due_ms: i64) {
        s.stop_running(offset);
        if let Some(p) = s.pending.get_mut(&offset) {
            let old = (p.due_ms, p.offset);
            p.due_ms = due_ms;
            let new = (p.due_ms, p.offset);
            s.ready.remove(&old);
            s.ready.insert(new);
        }
    }

    /// Checkpoints if enough changed or enough time passed since the last checkpoint.
    pub(crate) async fn maybe_checkpoint(&self) {
        let i = &self.inner;
        let due = {
            let s = lock(&i.state);
            s.changes >= i.opts.checkpoint_changes
                || s.first_change_ms.is_some_and(|t| {
                    i.clock.now_ms().saturating_sub(t) >= i.opts.checkpoint_interval_ms
                })
        };
        if due && let Err(error) = self.checkpoint().await {
            tracing::warn!(%error, "Checkpointing the asynchronous invocation queue failed; its logs keep growing until one succeeds.");
        }
    }

    /// Stores a checkpoint (when anything changed since the last one), then deletes the log
    /// segments it covers.
    pub async fn checkpoint(&self) -> Result<(), QueueError> {
        let i = self.inner.clone();
        let (cp, changes, first) = {
            let _gate = i.gate.write().await;
            let mut s = lock(&i.state);
            if s.changes == 0 {
                return Ok(());
            }
            let cp = Checkpoint {
                version: CHECKPOINT_VERSION,
                events_next: i.events.next_offset(),
                journal_next: i.journal.next_offset(),
                live: s.pending.values().cloned().collect(),
            };
            let taken = (s.changes, s.first_change_ms);
            s.changes = 0;
            s.first_change_ms = None;
            (cp, taken.0, taken.1)
        };
        let inner = i.clone();
        let stored = tokio::task::spawn_blocking(move || -> Result<(), QueueError> {
            inner.meta.put_json(ASYNC_QUEUE, CHECKPOINT_KEY, &cp)?;
            let keep_from = cp
                .live
                .iter()
                .map(|p| p.offset)
                .min()
                .unwrap_or(cp.events_next);
            inner.events.delete_segments_below(keep_from)?;
            inner.journal.delete_segments_below(cp.journal_next)?;
            Ok(())
        })
        .await
        .map_err(|e| QueueError::Storage(format!("checkpoint task failed: {e}")))
        .and_then(|r| r);
        if stored.is_err() {
            // Try again next time: the changes are still not covered.
            let mut s = lock(&i.state);
            s.changes += changes;
            if let Some(t) = first {
                let t = s.first_change_ms.map_or(t, |u| u.min(t));
                s.first_change_ms = Some(t);
            }
        }
        stored
    }
}

/// Feeds every record of `log` from `from` to its end to `f` (offset, data). Blocks.
fn read_all(log: &dyn Log, from: u64, mut f: impl FnMut(u64, &[u8])) -> Result<(), QueueError> {
    let end = log.next_offset();
    let mut at = from.max(log.start_offset());
    while at < end {
        let batch = log.read(at, 1_000, RECOVERY_READ_BYTES, i64::MIN)?;
        for r in &batch.records {
            f(r.offset, &r.data);
        }
        if batch.next_offset <= at {
            break;
        }
        at = batch.next_offset;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
