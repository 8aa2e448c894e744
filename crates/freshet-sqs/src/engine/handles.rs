// SPDX-License-Identifier: Apache-2.0
//! Operations by receipt handle (DeleteMessage, ChangeMessageVisibility and their batches),
//! PurgeQueue, and the completion of moves out of the queue. Stale-handle semantics are in
//! the [`super`] module doc.

use super::window::NONE_MS;
use super::{MAX_TOTAL_VISIBILITY_MS, PURGE_INTERVAL_MS, QueueEngine};
use crate::error::Error;
use crate::journal::{JournalEntry, VisibilityItem};
use crate::receipt::Receipt;
use crate::validate::validate_visibility_timeout;

/// Per-entry results of a batch, in request order, and the one entry to persist.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// `(Id, result)`; a failed entry goes to `Failed` with `SenderFault` true, `Code` the
    /// error's [`Error::query_code`] and `Message` its text.
    pub results: Vec<(String, Result<(), Error>)>,
    /// Persist before answering.
    pub journal: Option<JournalEntry>,
}

/// What a handle refers to now.
enum Target {
    /// The message is gone (deleted, expired, moved, purged) or unknown.
    Gone,
    /// The handle is from an earlier receive.
    Stale,
    /// The latest handle; whether the message is still in flight.
    Current {
        in_flight: bool,
        last_receive_ms: i64,
    },
}

impl QueueEngine {
    fn target(&self, r: &Receipt, now_ms: i64) -> Target {
        if let Some(slot) = self.window.slots.get(&r.offset) {
            if slot.sent_ms.saturating_add(self.retention_ms()) <= now_ms {
                return Target::Gone;
            }
            if slot.receive_count != r.receive_count {
                return Target::Stale;
            }
            return Target::Current {
                in_flight: slot.moving || slot.avail_ms > now_ms,
                last_receive_ms: slot.last_receive_ms,
            };
        }
        match self.window.state(r.offset) {
            Some(s) if s.receive_count != r.receive_count => Target::Stale,
            Some(s) => Target::Current {
                in_flight: s.visible_until_ms.is_some_and(|v| v > now_ms),
                last_receive_ms: s.last_receive_ms.unwrap_or(NONE_MS),
            },
            None => Target::Gone,
        }
    }

    fn expired_handle(handle: &str) -> Error {
        Error::invalid_value(handle, "ReceiptHandle", "The receipt handle has expired.")
    }

    /// Decides one delete: `Ok(Some(offset))` to delete, `Ok(None)` to succeed without.
    fn decide_delete(&self, handle: &str, now_ms: i64) -> Result<Option<u64>, Error> {
        let r = self.receipts.decode(handle)?;
        match (self.target(&r, now_ms), self.fifo()) {
            (Target::Gone, _) => Ok(None),
            (Target::Stale, false) => Ok(None),
            (Target::Stale, true)
            | (
                Target::Current {
                    in_flight: false, ..
                },
                true,
            ) => Err(Self::expired_handle(handle)),
            (Target::Current { .. }, _) => Ok(Some(r.offset)),
        }
    }

    /// DeleteMessage.
    pub fn delete(&mut self, handle: &str, now_ms: i64) -> Result<Option<JournalEntry>, Error> {
        let Some(offset) = self.decide_delete(handle, now_ms)? else {
            return Ok(None);
        };
        let entry = JournalEntry::Deleted {
            offsets: vec![offset],
        };
        self.apply(&entry);
        Ok(Some(entry))
    }

    /// DeleteMessageBatch entries `(Id, ReceiptHandle)` (batch shape checked by the caller
    /// with [`crate::validate::validate_batch_ids`]).
    pub fn delete_batch(&mut self, entries: &[(String, String)], now_ms: i64) -> BatchOutcome {
        let mut offsets = Vec::new();
        let mut results = Vec::with_capacity(entries.len());
        for (id, handle) in entries {
            match self.decide_delete(handle, now_ms) {
                Ok(Some(o)) => {
                    if !offsets.contains(&o) {
                        offsets.push(o);
                    }
                    results.push((id.clone(), Ok(())));
                }
                Ok(None) => results.push((id.clone(), Ok(()))),
                Err(e) => results.push((id.clone(), Err(e))),
            }
        }
        let journal = (!offsets.is_empty()).then_some(JournalEntry::Deleted { offsets });
        if let Some(e) = &journal {
            self.apply(e);
        }
        BatchOutcome { results, journal }
    }

    fn decide_visibility(
        &self,
        handle: &str,
        timeout: i64,
        now_ms: i64,
    ) -> Result<Option<VisibilityItem>, Error> {
        let seconds = validate_visibility_timeout(timeout)?;
        let r = self.receipts.decode(handle)?;
        let unavailable = || {
            Error::invalid_value(
                handle,
                "ReceiptHandle",
                "Message does not exist or is not available for visibility timeout change.",
            )
        };
        match self.target(&r, now_ms) {
            Target::Gone | Target::Stale => Err(unavailable()),
            Target::Current {
                in_flight: false, ..
            } => Ok(None),
            Target::Current {
                in_flight: true,
                last_receive_ms,
            } => {
                let until = now_ms.saturating_add(i64::from(seconds) * 1000);
                if last_receive_ms != NONE_MS
                    && until.saturating_sub(last_receive_ms) > MAX_TOTAL_VISIBILITY_MS
                {
                    return Err(Error::invalid_value(
                        seconds,
                        "VisibilityTimeout",
                        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                    ));
                }
                Ok(Some(VisibilityItem {
                    offset: r.offset,
                    receive_count: r.receive_count,
                    visible_until_ms: until,
                }))
            }
        }
    }

    /// ChangeMessageVisibility: the new timeout counts from now.
    pub fn change_visibility(
        &mut self,
        handle: &str,
        timeout: i64,
        now_ms: i64,
    ) -> Result<Option<JournalEntry>, Error> {
        let Some(item) = self.decide_visibility(handle, timeout, now_ms)? else {
            return Ok(None);
        };
        let entry = JournalEntry::VisibilityChanged { items: vec![item] };
        self.apply(&entry);
        Ok(Some(entry))
    }

    /// ChangeMessageVisibilityBatch entries `(Id, ReceiptHandle, VisibilityTimeout)`.
    pub fn change_visibility_batch(
        &mut self,
        entries: &[(String, String, i64)],
        now_ms: i64,
    ) -> BatchOutcome {
        let mut items: Vec<VisibilityItem> = Vec::new();
        let mut results = Vec::with_capacity(entries.len());
        for (id, handle, timeout) in entries {
            match self.decide_visibility(handle, *timeout, now_ms) {
                Ok(Some(item)) => {
                    items.retain(|i| i.offset != item.offset);
                    items.push(item);
                    results.push((id.clone(), Ok(())));
                }
                Ok(None) => results.push((id.clone(), Ok(()))),
                Err(e) => results.push((id.clone(), Err(e))),
            }
        }
        let journal = (!items.is_empty()).then_some(JournalEntry::VisibilityChanged { items });
        if let Some(e) = &journal {
            self.apply(e);
        }
        BatchOutcome { results, journal }
    }

    /// PurgeQueue: every message sent before now is deleted; a second purge within 60 s is
    /// `PurgeQueueInProgress`.
    pub fn purge(&mut self, now_ms: i64) -> Result<JournalEntry, Error> {
        if let Some(last) = self.last_purge_ms
            && now_ms < last.saturating_add(PURGE_INTERVAL_MS)
        {
            return Err(Error::PurgeQueueInProgress {
                queue: self.identity.name.clone(),
            });
        }
        let entry = JournalEntry::Purged {
            below: self.next_offset,
            at_ms: now_ms,
        };
        self.apply(&entry);
        Ok(entry)
    }

    /// The target queue durably holds the moved copy of the message at `offset`: forget it
    /// here. `None` when it was already gone (e.g. purged meanwhile).
    pub fn complete_move(&mut self, offset: u64) -> Option<JournalEntry> {
        let task_id = self.moving.get(&offset).cloned()?;
        let entry = JournalEntry::MovedOut { offset, task_id };
        self.apply(&entry);
        Some(entry)
    }

    /// The move of `offset` failed: the message becomes receivable again.
    pub fn abort_move(&mut self, offset: u64) {
        if self.moving.remove(&offset).is_some()
            && let Some(s) = self.window.slots.get_mut(&offset)
        {
            s.moving = false;
        }
    }
}
