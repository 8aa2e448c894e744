// SPDX-License-Identifier: Apache-2.0
//! Receiving: picking messages (oldest first; FIFO: in order per group, as many of one group
//! as possible, nothing from a group past a message in flight), visibility, receive counts, dead-letter moves, retention,
//! ReceiveRequestAttemptId retries and the long-poll wake-up time.

use std::collections::{HashMap, HashSet};

use super::window::{NO_GROUP, NONE_MS};
use super::{LoadRequest, MoveOut, MoveReason, QueueEngine};
use crate::error::Error;
use crate::journal::{JournalEntry, ReceivedItem};
use crate::names::validate_attempt_id;

/// A ReceiveMessage, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// MaxNumberOfMessages (1–10).
    pub max_messages: usize,
    /// VisibilityTimeout override, seconds.
    pub visibility_timeout: Option<u32>,
    /// ReceiveRequestAttemptId (FIFO).
    pub attempt_id: Option<String>,
}

/// One delivered message: read its record at `offset` for the body and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Offset in the messages log.
    pub offset: u64,
    /// ReceiptHandle.
    pub receipt_handle: String,
    /// ApproximateReceiveCount.
    pub receive_count: u32,
    /// ApproximateFirstReceiveTimestamp (ms).
    pub first_receive_ms: i64,
}

/// What a receive decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiveOutcome {
    /// Messages to return, in order.
    pub messages: Vec<Delivery>,
    /// Messages to move to their dead-letter queue instead.
    pub moves: Vec<MoveOut>,
    /// Persist before answering.
    pub journal: Option<JournalEntry>,
    /// With no messages: the earliest time something may become receivable (long polls
    /// sleep until then or until a send).
    pub next_change_ms: Option<i64>,
    /// Records to load before anything more can be received.
    pub load: Option<LoadRequest>,
}

/// A FIFO receive looks at most this many times MaxNumberOfMessages receivable messages to
/// fill the answer from as few groups as possible.
const FIFO_SCAN_FACTOR: usize = 10;

impl QueueEngine {
    /// ReceiveMessage. The receive is applied when decided (see the module doc).
    pub fn receive(&mut self, req: &ReceiveRequest, now_ms: i64) -> Result<ReceiveOutcome, Error> {
        self.expire_caches(now_ms);
        let fifo = self.fifo();
        let visibility = i64::from(
            req.visibility_timeout
                .unwrap_or(self.attrs.visibility_timeout),
        );
        let visible_until_ms = now_ms.saturating_add(visibility * 1000);
        let attempt_id = match (&req.attempt_id, fifo) {
            (Some(a), true) => {
                validate_attempt_id(a)?;
                Some(a.clone())
            }
            _ => None,
        };
        if let Some(id) = &attempt_id
            && let Some(out) = self.retry_attempt(id, visible_until_ms, now_ms)
        {
            return Ok(out);
        }
        if self.window.slots.len() >= self.config.inflight_limit {
            let in_flight = self
                .window
                .slots
                .values()
                .filter(|s| s.receive_count > 0 && s.avail_ms > now_ms)
                .count();
            if in_flight >= self.config.inflight_limit {
                if fifo {
                    return Ok(ReceiveOutcome {
                        load: self.load_request(),
                        ..Default::default()
                    });
                }
                return Err(Error::OverLimit {
                    message: format!(
                        "The maximum number of in flight messages ({}) has been reached.",
                        self.config.inflight_limit
                    ),
                });
            }
        }
        let max_receives = self
            .attrs
            .redrive_policy
            .as_ref()
            .map(|p| p.max_receive_count);
        let dead_letter_arn = self
            .attrs
            .redrive_policy
            .as_ref()
            .map(|p| p.dead_letter_target_arn.clone());
        let mut picked: Vec<u64> = Vec::new();
        let mut moves: Vec<MoveOut> = Vec::new();
        let mut expired: Vec<u64> = Vec::new();
        let mut blocked: HashSet<u32> = HashSet::new();
        let mut group_index: HashMap<u32, usize> = HashMap::new();
        let mut by_group: Vec<Vec<u64>> = Vec::new();
        let mut gathered = 0usize;
        let mut next_change: Option<i64> = None;
        let retention_ms = self.retention_ms();
        for (&offset, slot) in &self.window.slots {
            if slot.sent_ms.saturating_add(retention_ms) <= now_ms {
                expired.push(offset);
                continue;
            }
            let grouped = fifo && slot.group != NO_GROUP;
            if grouped && blocked.contains(&slot.group) {
                continue;
            }
            if slot.moving || slot.avail_ms > now_ms {
                if !slot.moving {
                    next_change = Some(next_change.map_or(slot.avail_ms, |t| t.min(slot.avail_ms)));
                }
                if grouped {
                    blocked.insert(slot.group);
                }
                continue;
            }
            if let (Some(max), Some(arn)) = (max_receives, &dead_letter_arn)
                && slot.receive_count >= max
            {
                moves.push(MoveOut {
                    offset,
                    reason: MoveReason::DeadLetter {
                        target_arn: arn.clone(),
                    },
                    first_receive_ms: (slot.first_receive_ms != NONE_MS)
                        .then_some(slot.first_receive_ms),
                });
                if grouped {
                    blocked.insert(slot.group);
                }
                continue;
            }
            if grouped {
                // AWS returns as many messages of one group as it can: gather per group (in
                // order of their oldest message) and pick group by group below.
                let i = match group_index.get(&slot.group) {
                    Some(&i) => i,
                    None => {
                        group_index.insert(slot.group, by_group.len());
                        by_group.push(Vec::new());
                        by_group.len() - 1
                    }
                };
                if let Some(list) = by_group.get_mut(i) {
                    list.push(offset);
                }
                gathered += 1;
                let first_full = by_group
                    .first()
                    .is_some_and(|l| l.len() >= req.max_messages);
                if first_full || gathered >= req.max_messages.saturating_mul(FIFO_SCAN_FACTOR) {
                    break;
                }
                continue;
            }
            picked.push(offset);
            if picked.len() >= req.max_messages {
                break;
            }
        }
        for list in by_group {
            for offset in list {
                if picked.len() >= req.max_messages {
                    break;
                }
                picked.push(offset);
            }
        }
        for o in expired {
            self.forget(o);
        }
        for m in &moves {
            if let Some(s) = self.window.slots.get_mut(&m.offset) {
                s.moving = true;
            }
            self.moving.insert(m.offset, None);
        }
        if picked.is_empty() {
            return Ok(ReceiveOutcome {
                moves,
                next_change_ms: next_change,
                load: self.load_request(),
                ..Default::default()
            });
        }
        let items: Vec<ReceivedItem> = picked
            .iter()
            .filter_map(|o| {
                self.window.slots.get(o).map(|s| ReceivedItem {
                    offset: *o,
                    receive_count: s.receive_count.saturating_add(1),
                    first_receive_ms: if s.first_receive_ms == NONE_MS {
                        now_ms
                    } else {
                        s.first_receive_ms
                    },
                })
            })
            .collect();
        let entry = JournalEntry::Received {
            at_ms: now_ms,
            visible_until_ms,
            attempt_id,
            items: items.clone(),
        };
        self.apply(&entry);
        Ok(ReceiveOutcome {
            messages: items.iter().map(|i| self.delivery(i)).collect(),
            moves,
            journal: Some(entry),
            next_change_ms: None,
            load: None,
        })
    }

    fn delivery(&self, i: &ReceivedItem) -> Delivery {
        Delivery {
            offset: i.offset,
            receipt_handle: self.receipts.encode(i.offset, i.receive_count),
            receive_count: i.receive_count,
            first_receive_ms: i.first_receive_ms,
        }
    }

    /// A retry of a FIFO receive within 5 minutes returns the same messages and handles and
    /// resets their visibility, provided none was deleted, received again or had its
    /// visibility changed since.
    fn retry_attempt(
        &mut self,
        id: &str,
        visible_until_ms: i64,
        now_ms: i64,
    ) -> Option<ReceiveOutcome> {
        let attempt = self.attempts.get(id).filter(|a| a.expires_ms > now_ms)?;
        let mut items = Vec::with_capacity(attempt.items.len());
        for &(offset, count) in &attempt.items {
            let slot = self.window.slots.get(&offset)?;
            if slot.receive_count != count
                || slot.avail_ms != attempt.visible_until_ms
                || slot.moving
            {
                return None;
            }
            items.push(ReceivedItem {
                offset,
                receive_count: count,
                first_receive_ms: slot.first_receive_ms,
            });
        }
        let entry = JournalEntry::Received {
            at_ms: now_ms,
            visible_until_ms,
            attempt_id: Some(id.to_owned()),
            items: items.clone(),
        };
        self.apply(&entry);
        Some(ReceiveOutcome {
            messages: items.iter().map(|i| self.delivery(i)).collect(),
            journal: Some(entry),
            ..Default::default()
        })
    }
}
