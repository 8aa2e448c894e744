// SPDX-License-Identifier: Apache-2.0
//! [`QueueEngine`]: one queue's state machine, sans I/O. It decides every SQS data-plane
//! operation from `now_ms` and its in-memory state, and says what the caller must persist.
//!
//! # Contract with the caller (the wiring)
//!
//! Storage per queue: a **messages log** (one [`crate::message::StoredMessage`] record per
//! message; its offset is the message's identity), a **journal log**
//! ([`crate::journal::JournalEntry`] records) and a **checkpoint** blob
//! ([`crate::checkpoint::Checkpoint`]).
//!
//! * Send: [`QueueEngine::prepare_send`] validates and returns the record to append (or the
//!   original result of a FIFO duplicate). Append prepared records **in the order prepared**;
//!   once durable call [`QueueEngine::apply_sent`] with each offset, then answer. If the append
//!   fails, call [`QueueEngine::abort_send`].
//! * Every other change (receive, delete, visibility, purge, moves, tasks) is applied to the
//!   engine when decided and returns the [`JournalEntry`] to append; answer the client only
//!   after it is durable. If the journal append fails the log is poisoned and the queue must
//!   be reopened (recovered) before it serves again: the in-memory change is then discarded.
//! * Receive returns offsets: read the bodies from the messages log by offset.
//! * Dead-letter and move-task moves ([`MoveOut`]): read the record, append it to the
//!   target's messages log ([`QueueEngine::prepare_move_in`] on the target), `apply_sent`
//!   there, then [`QueueEngine::complete_move`] here and persist its entry; on failure
//!   [`QueueEngine::abort_move`]. A crash between the two appends duplicates the message in
//!   the target (at-least-once), never loses it.
//! * Loading: whenever [`QueueEngine::load_request`] is `Some`, read those records and feed
//!   them to [`QueueEngine::load`] in offset order.
//! * Snapshot ([`QueueEngine::snapshot`]) only when every entry the engine returned has been
//!   appended, passing the journal's next offset. Recovery: [`QueueEngine::restore`], then
//!   [`QueueEngine::replay`] each journal entry from the checkpoint's `journal_next`, then
//!   [`QueueEngine::apply_sent`] for each messages record from its `next_offset`, then load.
//!
//! # Memory
//!
//! Bodies are never held. The window keeps a 48-byte slot (module `window`) per loaded live message
//! (plus the group name once per FIFO group) for at most [`EngineConfig::window_cap`]
//! messages from the low watermark on; messages past the cap stay on disk, pristine, and are
//! loaded as the window frees up. FIFO deduplication entries live 5 minutes, attempt ids 5
//! minutes. Memory therefore does not grow with the backlog.
//!
//! The consequence: when every loaded message is in flight or delayed (or, for FIFO, blocked
//! behind in-flight messages of its group), messages past the cap wait until loaded
//! messages are deleted or expire, even if they would be receivable. Receives are a scan of
//! the window (bounded by the cap). ApproximateNumberOf* counts are exact for the loaded
//! window; unloaded messages are counted as visible.
//!
//! # Semantics chosen where AWS is unspecified or emulators disagree
//!
//! * A stale receipt handle (the message was received again since): DeleteMessage succeeds
//!   without deleting on a standard queue; on a FIFO queue it is `InvalidParameterValue`
//!   "The receipt handle has expired." (also when the visibility timeout of the latest handle
//!   has passed). ChangeMessageVisibility with a stale handle, or for a deleted message, is
//!   `InvalidParameterValue` "... Message does not exist or is not available for visibility
//!   timeout change."; with the latest handle after its timeout expired it succeeds and
//!   changes nothing (AWS-validated in LocalStack #9632; `MessageNotInflight` is not used).
//! * Total visibility may not exceed 12 hours from the latest receive.
//! * A receive that would make a message's receive count exceed the RedrivePolicy's
//!   maxReceiveCount moves it instead ([`MoveOut`]); it does not count toward the receive.
//! * Standard dead-lettered messages keep their original SentTimestamp (retention counts
//!   from it); FIFO ones get the move time.
//! * Deleting an already-deleted message succeeds.

mod handles;
mod movetask;
mod receive;
mod send;
mod window;

pub use handles::BatchOutcome;
pub use movetask::MoveStep;
pub use receive::{Delivery, ReceiveOutcome, ReceiveRequest};
pub use send::{PendingSend, Prepared, SendRequest, SendResult, format_sequence};
use std::collections::{HashMap, HashSet, VecDeque};

pub use movetask::{decode_task_handle, encode_task_handle};

use crate::attributes::QueueAttributes;
use crate::checkpoint::{AttemptRecord, Checkpoint, DedupRecord, MoveTaskRecord};
use crate::journal::{JournalEntry, MoveTaskStatus};
use crate::message::MessageMeta;
use crate::receipt::ReceiptCodec;
use window::{NONE_MS, Patch, Window};

/// FIFO deduplication interval.
pub const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
/// How long a ReceiveRequestAttemptId is remembered.
pub const ATTEMPT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Minimum time between purges.
pub const PURGE_INTERVAL_MS: i64 = 60_000;
/// The largest total visibility of one receive.
pub const MAX_TOTAL_VISIBILITY_MS: i64 = 43_200_000;
/// The first FIFO sequence number: 20 decimal digits like AWS's.
pub const SEQUENCE_BASE: u128 = 10_000_000_000_000_000_000;

/// Tuning of an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Most loaded live messages.
    pub window_cap: usize,
    /// Most messages in flight before ReceiveMessage answers OverLimit (standard) or nothing
    /// (FIFO).
    pub inflight_limit: usize,
    /// Most records per [`LoadRequest`].
    pub load_batch: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            window_cap: 100_000,
            inflight_limit: 120_000,
            load_batch: 1_000,
        }
    }
}

/// Which queue an engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueIdentity {
    /// Queue name.
    pub name: String,
    /// Queue ARN.
    pub arn: String,
    /// Distinguishes a recreated queue of the same name (receipt handles of the old one are
    /// invalid).
    pub incarnation: u64,
}

/// Records to read from the messages log and feed to [`QueueEngine::load`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadRequest {
    /// First offset.
    pub from: u64,
    /// End (exclusive): the messages log's applied end.
    pub to: u64,
    /// Most records to feed.
    pub max_records: usize,
}

/// ApproximateNumberOfMessages*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Visible.
    pub visible: u64,
    /// In flight (received, not deleted, visibility not expired) or being moved.
    pub not_visible: u64,
    /// Delayed.
    pub delayed: u64,
}

/// Why a message leaves the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveReason {
    /// Exceeded maxReceiveCount: to the RedrivePolicy's dead-letter queue.
    DeadLetter {
        /// deadLetterTargetArn.
        target_arn: String,
    },
    /// A message move task.
    Task {
        /// Task id.
        task_id: String,
        /// DestinationArn; `None`: the message's DeadLetterQueueSourceArn.
        destination_arn: Option<String>,
    },
}

/// A message to move to another queue (see the module doc for the protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOut {
    /// Its offset here.
    pub offset: u64,
    /// Where and why.
    pub reason: MoveReason,
    /// Its ApproximateFirstReceiveTimestamp here, to carry along.
    pub first_receive_ms: Option<i64>,
}

#[derive(Debug, Clone)]
struct DedupEntry {
    message_id: String,
    sequence_number: Option<u128>,
    expires_ms: i64,
}

#[derive(Debug, Clone)]
struct Attempt {
    expires_ms: i64,
    visible_until_ms: i64,
    items: Vec<(u64, u32)>,
}

/// One queue's engine.
#[derive(Debug)]
pub struct QueueEngine {
    identity: QueueIdentity,
    attrs: QueueAttributes,
    config: EngineConfig,
    receipts: ReceiptCodec,
    window: Window,
    next_offset: u64,
    next_sequence: u128,
    last_purge_ms: Option<i64>,
    dedup: HashMap<String, DedupEntry>,
    dedup_expiry: VecDeque<(i64, String)>,
    pending_dedup: HashSet<String>,
    attempts: HashMap<String, Attempt>,
    moving: HashMap<u64, Option<String>>,
    tasks: Vec<MoveTaskRecord>,
    task_next_step_ms: i64,
}

impl QueueEngine {
    /// A new, empty queue.
    pub fn new(
        identity: QueueIdentity,
        attrs: QueueAttributes,
        config: EngineConfig,
        receipt_key: &[u8],
    ) -> QueueEngine {
        let receipts = ReceiptCodec::new(receipt_key, &identity.arn, identity.incarnation);
        QueueEngine {
            identity,
            attrs,
            config,
            receipts,
            window: Window::default(),
            next_offset: 0,
            next_sequence: 0,
            last_purge_ms: None,
            dedup: HashMap::new(),
            dedup_expiry: VecDeque::new(),
            pending_dedup: HashSet::new(),
            attempts: HashMap::new(),
            moving: HashMap::new(),
            tasks: Vec::new(),
            task_next_step_ms: i64::MIN,
        }
    }

    /// An engine in the state of `checkpoint` (then replay the journal, apply the messages
    /// tail, and load).
    pub fn restore(
        identity: QueueIdentity,
        attrs: QueueAttributes,
        config: EngineConfig,
        receipt_key: &[u8],
        checkpoint: &Checkpoint,
    ) -> QueueEngine {
        let mut e = QueueEngine::new(identity, attrs, config, receipt_key);
        e.next_offset = checkpoint.next_offset;
        e.next_sequence = checkpoint.next_sequence;
        e.last_purge_ms = checkpoint.last_purge_ms;
        e.window.purge_floor = checkpoint.purge_floor;
        e.window.reload_end = checkpoint.reload_end;
        e.window.loaded_end = checkpoint.low_watermark.max(checkpoint.purge_floor);
        for s in &checkpoint.live {
            if s.offset >= e.window.loaded_end {
                e.window.patches.insert(s.offset, Patch::Live(*s));
            }
        }
        for &d in &checkpoint.dead {
            if d >= e.window.loaded_end {
                e.window.patches.insert(d, Patch::Dead);
            }
        }
        for d in &checkpoint.dedup {
            e.dedup.insert(
                d.key.clone(),
                DedupEntry {
                    message_id: d.message_id.clone(),
                    sequence_number: d.sequence_number,
                    expires_ms: d.expires_ms,
                },
            );
            e.dedup_expiry.push_back((d.expires_ms, d.key.clone()));
        }
        e.dedup_expiry.make_contiguous().sort();
        for a in &checkpoint.attempts {
            e.attempts.insert(
                a.attempt_id.clone(),
                Attempt {
                    expires_ms: a.expires_ms,
                    visible_until_ms: a.visible_until_ms,
                    items: a.items.clone(),
                },
            );
        }
        e.tasks = checkpoint.move_tasks.clone();
        e
    }

    /// The queue's identity.
    pub fn identity(&self) -> &QueueIdentity {
        &self.identity
    }

    /// The queue's attributes.
    pub fn attributes(&self) -> &QueueAttributes {
        &self.attrs
    }

    /// Replaces the attributes (after SetQueueAttributes is persisted). Retention and FIFO
    /// settings apply to messages already queued from now on.
    pub fn set_attributes(&mut self, attrs: QueueAttributes) {
        self.attrs = attrs;
    }

    fn fifo(&self) -> bool {
        self.attrs.fifo_queue
    }

    fn retention_ms(&self) -> i64 {
        i64::from(self.attrs.message_retention_period) * 1000
    }

    fn expired(&self, sent_ms: i64, now_ms: i64) -> bool {
        sent_ms.saturating_add(self.retention_ms()) <= now_ms
    }

    /// One past the last messages-log record applied.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Every message below this offset is gone: messages-log segments below it may be
    /// deleted once a checkpoint says so.
    pub fn low_watermark(&self) -> u64 {
        let w = &self.window;
        let first_slot = w.slots.keys().next().copied();
        let first_patch = w
            .patches
            .iter()
            .find(|(_, p)| matches!(p, Patch::Live(_)))
            .map(|(o, _)| *o);
        let tail = w.loaded_end.max(w.reload_end).max(w.purge_floor);
        let first_tail = (tail < self.next_offset).then_some(tail);
        [first_slot, first_patch, first_tail]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.next_offset.max(w.purge_floor))
    }

    /// Loaded live messages (memory use is proportional to this).
    pub fn loaded_len(&self) -> usize {
        self.window.slots.len()
    }

    /// Interned FIFO groups.
    pub fn group_count(&self) -> usize {
        self.window.group_count()
    }

    /// What to load next, if anything.
    pub fn load_request(&self) -> Option<LoadRequest> {
        let room = self
            .config
            .window_cap
            .saturating_sub(self.window.slots.len());
        (room > 0 && self.window.loaded_end < self.next_offset).then(|| LoadRequest {
            from: self.window.loaded_end,
            to: self.next_offset,
            max_records: room.min(self.config.load_batch.max(1)),
        })
    }

    /// Feeds one record read for a [`LoadRequest`] (offsets in order; already-loaded ones
    /// are ignored).
    pub fn load(&mut self, offset: u64, meta: &MessageMeta) {
        if offset >= self.next_offset || self.window.slots.len() >= self.config.window_cap {
            return;
        }
        let fifo = self.fifo();
        self.window.load(offset, meta, fifo);
    }

    /// ApproximateNumberOfMessages, ...NotVisible, ...Delayed at `now_ms`. Exact for loaded
    /// messages; unloaded pristine ones count as visible.
    /// When the oldest loaded, unexpired message was sent (ApproximateAgeOfOldestMessage).
    pub fn oldest_sent_ms(&self, now_ms: i64) -> Option<i64> {
        self.window
            .slots
            .values()
            .filter(|s| !self.expired(s.sent_ms, now_ms))
            .map(|s| s.sent_ms)
            .min()
    }

    /// ApproximateNumberOfMessages* as of `now_ms`.
    pub fn counts(&self, now_ms: i64) -> Counts {
        let mut c = Counts::default();
        for slot in self.window.slots.values() {
            if self.expired(slot.sent_ms, now_ms) {
                continue;
            }
            if slot.moving || (slot.avail_ms > now_ms && slot.receive_count > 0) {
                c.not_visible += 1;
            } else if slot.avail_ms > now_ms {
                c.delayed += 1;
            } else {
                c.visible += 1;
            }
        }
        for p in self.window.patches.values() {
            match p {
                Patch::Live(s) if s.visible_until_ms.is_some_and(|v| v > now_ms) => {
                    c.not_visible += 1;
                }
                Patch::Live(_) => c.visible += 1,
                Patch::Dead => {}
            }
        }
        let w = &self.window;
        let start = w.loaded_end.max(w.reload_end).max(w.purge_floor);
        let patched = w.patches.range(start..).count() as u64;
        c.visible += self
            .next_offset
            .saturating_sub(start)
            .saturating_sub(patched);
        c
    }

    /// A snapshot covering the journal up to `journal_next` (exclusive). Call only when every
    /// returned journal entry has been appended.
    pub fn snapshot(&self, journal_next: u64, now_ms: i64) -> Checkpoint {
        // Expired messages are gone: leaving them out lets the reload skip them.
        let mut live: Vec<_> = self
            .window
            .slots
            .iter()
            .filter(|(_, s)| !self.expired(s.sent_ms, now_ms))
            .map(|(o, s)| s.state(*o))
            .collect();
        let mut dead = Vec::new();
        for (o, p) in &self.window.patches {
            match p {
                Patch::Live(s) => live.push(*s),
                Patch::Dead => dead.push(*o),
            }
        }
        live.sort_by_key(|s| s.offset);
        // Below the reload end every live message is listed (slots below the loaded end,
        // live patches between it and the old reload end); above it, patches are listed
        // and everything else is pristine.
        let reload_end = self.window.loaded_end.max(self.window.reload_end);
        let dead = dead.into_iter().filter(|d| *d >= reload_end).collect();
        let mut dedup: Vec<DedupRecord> = self
            .dedup
            .iter()
            .filter(|(k, d)| d.expires_ms > now_ms && !self.pending_dedup.contains(*k))
            .map(|(k, d)| DedupRecord {
                key: k.clone(),
                message_id: d.message_id.clone(),
                sequence_number: d.sequence_number,
                expires_ms: d.expires_ms,
            })
            .collect();
        dedup.sort_by(|a, b| a.key.cmp(&b.key));
        let mut attempts: Vec<AttemptRecord> = self
            .attempts
            .iter()
            .filter(|(_, a)| a.expires_ms > now_ms)
            .map(|(k, a)| AttemptRecord {
                attempt_id: k.clone(),
                expires_ms: a.expires_ms,
                visible_until_ms: a.visible_until_ms,
                items: a.items.clone(),
            })
            .collect();
        attempts.sort_by(|a, b| a.attempt_id.cmp(&b.attempt_id));
        Checkpoint {
            journal_next,
            next_offset: self.next_offset,
            reload_end,
            low_watermark: self.low_watermark(),
            purge_floor: self.window.purge_floor,
            last_purge_ms: self.last_purge_ms,
            next_sequence: self.next_sequence,
            live,
            dead,
            dedup,
            attempts,
            move_tasks: self.tasks.clone(),
        }
    }

    /// Applies a journal entry read back during recovery.
    pub fn replay(&mut self, entry: &JournalEntry) {
        self.apply(entry);
    }

    /// Applies an entry: the one code path for live decisions and replay.
    fn apply(&mut self, entry: &JournalEntry) {
        match entry {
            JournalEntry::Received {
                at_ms,
                visible_until_ms,
                attempt_id,
                items,
            } => {
                for i in items {
                    let mut s =
                        self.window
                            .state(i.offset)
                            .unwrap_or(crate::checkpoint::MessageState {
                                offset: i.offset,
                                receive_count: 0,
                                visible_until_ms: None,
                                first_receive_ms: None,
                                last_receive_ms: None,
                            });
                    s.receive_count = i.receive_count;
                    s.visible_until_ms = Some(*visible_until_ms);
                    s.first_receive_ms = Some(i.first_receive_ms);
                    s.last_receive_ms = Some(*at_ms);
                    self.window.set_state(s);
                }
                if let Some(id) = attempt_id {
                    let items: Vec<(u64, u32)> =
                        items.iter().map(|i| (i.offset, i.receive_count)).collect();
                    let expires_ms = match self.attempts.get(id) {
                        Some(a) if a.items == items => a.expires_ms,
                        _ => at_ms.saturating_add(ATTEMPT_WINDOW_MS),
                    };
                    self.attempts.insert(
                        id.clone(),
                        Attempt {
                            expires_ms,
                            visible_until_ms: *visible_until_ms,
                            items,
                        },
                    );
                }
            }
            JournalEntry::VisibilityChanged { items } => {
                for i in items {
                    if let Some(mut s) = self.window.state(i.offset)
                        && s.receive_count == i.receive_count
                    {
                        s.visible_until_ms = Some(i.visible_until_ms);
                        self.window.set_state(s);
                    }
                }
            }
            JournalEntry::Deleted { offsets } => {
                for &o in offsets {
                    self.forget(o);
                }
            }
            JournalEntry::Purged { below, at_ms } => {
                self.window.purge_below(*below);
                self.moving.retain(|o, _| *o >= *below);
                self.last_purge_ms = Some(*at_ms);
            }
            JournalEntry::MovedOut { offset, task_id } => {
                self.forget(*offset);
                if let Some(t) = task_id
                    && let Some(task) = self.tasks.iter_mut().find(|x| &x.task_id == t)
                {
                    task.moved = task.moved.saturating_add(1);
                }
            }
            JournalEntry::MoveTaskStarted {
                task_id,
                destination_arn,
                max_per_second,
                to_move,
                started_ms,
            } => {
                self.tasks.push(MoveTaskRecord {
                    task_id: task_id.clone(),
                    destination_arn: destination_arn.clone(),
                    max_per_second: *max_per_second,
                    to_move: *to_move,
                    moved: 0,
                    started_ms: *started_ms,
                    status: MoveTaskStatus::Running,
                    failure_reason: None,
                });
                // AWS lists the 10 most recent tasks; keep no more (the newest is last).
                let excess = self.tasks.len().saturating_sub(movetask::KEPT_TASKS);
                self.tasks.drain(..excess);
            }
            JournalEntry::MoveTaskEnded {
                task_id,
                status,
                failure_reason,
                ..
            } => {
                if let Some(task) = self.tasks.iter_mut().find(|x| &x.task_id == task_id) {
                    task.status = *status;
                    task.failure_reason = failure_reason.clone();
                }
            }
        }
    }

    fn forget(&mut self, offset: u64) {
        self.window.remove(offset);
        self.moving.remove(&offset);
    }

    /// Drops expired dedup entries and attempt ids.
    fn expire_caches(&mut self, now_ms: i64) {
        while let Some((t, _)) = self.dedup_expiry.front() {
            if *t > now_ms {
                break;
            }
            if let Some((t, key)) = self.dedup_expiry.pop_front()
                && self.dedup.get(&key).is_some_and(|d| d.expires_ms <= t)
                && !self.pending_dedup.contains(&key)
            {
                self.dedup.remove(&key);
            }
        }
        if self.attempts.len() > 64 {
            self.attempts.retain(|_, a| a.expires_ms > now_ms);
        }
    }

    fn first_receive_of(&self, offset: u64) -> Option<i64> {
        self.window
            .slots
            .get(&offset)
            .map(|s| s.first_receive_ms)
            .filter(|f| *f != NONE_MS)
    }
}
