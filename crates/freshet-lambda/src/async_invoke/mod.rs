// SPDX-License-Identifier: Apache-2.0
//! Asynchronous (`Event`) invocations: a durable per-server queue, retried as AWS retries them
//! and recorded to OnSuccess/OnFailure destinations.
//!
//! - [`codec`]: the persisted records; [`retry`]: when an event runs again or is given up
//!   (pure); [`record`]: the destination's invocation record document;
//! - this module: [`AsyncQueue`], its types, and recovery at open; `state`: what memory
//!   keeps (each event's schedule, the index of waiting events, what runs); `changes`: every
//!   change (accept, hand out, finish, re-queue, defer, checkpoint); `dispatch`: the
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

mod changes;
pub mod codec;
mod dispatch;
pub mod record;
pub mod retry;
mod state;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use freshet_log::{Log, LogError, LogName};
use freshet_meta::{Meta, MetaError, Table};
use freshet_runtime::{Component, Platform};
use freshet_sqs::Sqs;
use freshet_types::Clock;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::async_invoke::codec::{EventRecord, JournalEntry};
use crate::async_invoke::state::{State, lock};
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

fn events_log() -> Result<LogName, LogError> {
    LogName::new("lambda", ["async", "events"])
}

fn journal_log() -> Result<LogName, LogError> {
    LogName::new("lambda", ["async", "journal"])
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
