// SPDX-License-Identifier: Apache-2.0
//! Changes to the queue, each durable before memory shows it: accepting an event, handing
//! due events to the dispatcher, finishing, re-queueing and deferring them, checkpoints.

use std::collections::HashMap;

use freshet_log::RecordIn;

use crate::async_invoke::codec::{EventRecord, JournalEntry};
use crate::async_invoke::state::{State, lock};
use crate::async_invoke::{
    ASYNC_QUEUE, AsyncQueue, CHECKPOINT_KEY, CHECKPOINT_VERSION, Checkpoint, Inner, MAX_SCAN,
    NewEvent, Pending, QueueError, retry,
};

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

impl AsyncQueue {
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

    /// Puts every event marked running back to waiting (a dispatcher starting over after a
    /// failure: the attempts it had in flight are gone).
    pub(crate) fn release_running(&self) {
        let mut s = lock(&self.inner.state);
        let running: Vec<(u64, i64)> = s
            .pending
            .values()
            .filter(|p| p.running)
            .map(|p| (p.offset, p.due_ms))
            .collect();
        for (offset, due_ms) in running {
            Self::release(&mut s, offset, due_ms);
        }
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
