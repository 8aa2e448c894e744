// SPDX-License-Identifier: Apache-2.0
//! Message move tasks (StartMessageMoveTask, CancelMessageMoveTask, ListMessageMoveTasks)
//! on a dead-letter queue: at most one active task per source queue; a task moves the
//! visible messages, paced by MaxNumberOfMessagesPerSecond, to the DestinationArn or (absent)
//! back to each message's DeadLetterQueueSourceArn, and completes when none is left.
//!
//! The engine expresses pacing as "next step at T" ([`MoveStep::next_step_ms`]); the caller
//! runs [`QueueEngine::move_task_step`] then. Whether the source is a dead-letter queue and
//! the destination exists are registry facts the caller checks first.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::window::NO_GROUP;
use super::{MoveOut, MoveReason, QueueEngine};
use crate::checkpoint::MoveTaskRecord;
use crate::error::Error;
use crate::journal::{JournalEntry, MoveTaskStatus};

/// How many tasks a queue remembers (ListMessageMoveTasks returns up to 10).
pub(crate) const KEPT_TASKS: usize = 10;
/// Most messages moved per step.
const STEP_BATCH: u32 = 10;
/// Range of MaxNumberOfMessagesPerSecond.
const MAX_RATE: u32 = 500;

/// One step of the active task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoveStep {
    /// Messages to move now.
    pub moves: Vec<MoveOut>,
    /// Persist (the task ended).
    pub journal: Option<JournalEntry>,
    /// Run the next step at this time (`None`: no active task, or wait for the moves in
    /// progress to complete).
    pub next_step_ms: Option<i64>,
}

/// The TaskHandle of a task: base64 of `{"taskId":…,"sourceArn":…}`, so CancelMessageMoveTask
/// can find the source queue.
pub fn encode_task_handle(task_id: &str, source_arn: &str) -> String {
    STANDARD.encode(json!({ "taskId": task_id, "sourceArn": source_arn }).to_string())
}

/// `(task id, source ARN)` of a TaskHandle.
pub fn decode_task_handle(handle: &str) -> Result<(String, String), Error> {
    let invalid = || Error::invalid_parameter("Value for parameter TaskHandle is invalid.");
    let bytes = STANDARD.decode(handle).map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    match (
        v.get("taskId").and_then(Value::as_str),
        v.get("sourceArn").and_then(Value::as_str),
    ) {
        (Some(t), Some(s)) => Ok((t.to_owned(), s.to_owned())),
        _ => Err(invalid()),
    }
}

impl QueueEngine {
    /// The running or cancelling task.
    pub fn active_move_task(&self) -> Option<&MoveTaskRecord> {
        self.tasks.iter().rev().find(|t| {
            matches!(
                t.status,
                MoveTaskStatus::Running | MoveTaskStatus::Cancelling
            )
        })
    }

    /// ListMessageMoveTasks: most recent first, at most `max`.
    pub fn move_tasks(&self, max: usize) -> Vec<MoveTaskRecord> {
        self.tasks.iter().rev().take(max).cloned().collect()
    }

    /// StartMessageMoveTask on this (dead-letter) queue.
    pub fn start_move_task(
        &mut self,
        task_id: String,
        destination_arn: Option<String>,
        max_per_second: Option<u32>,
        now_ms: i64,
    ) -> Result<JournalEntry, Error> {
        if let Some(r) = max_per_second
            && !(1..=MAX_RATE).contains(&r)
        {
            return Err(Error::invalid_value(
                r,
                "MaxNumberOfMessagesPerSecond",
                "Must be between 1 and 500, if provided.",
            ));
        }
        if self.active_move_task().is_some() {
            return Err(Error::invalid_parameter(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
            ));
        }
        let entry = JournalEntry::MoveTaskStarted {
            task_id,
            destination_arn,
            max_per_second,
            to_move: self.counts(now_ms).visible,
            started_ms: now_ms,
        };
        self.apply(&entry);
        self.task_next_step_ms = now_ms;
        Ok(entry)
    }

    /// CancelMessageMoveTask: returns the entry to persist and the messages moved so far.
    /// Moves already handed out still complete.
    pub fn cancel_move_task(
        &mut self,
        task_id: &str,
        now_ms: i64,
    ) -> Result<(JournalEntry, u64), Error> {
        let Some(task) = self.tasks.iter().find(|t| t.task_id == task_id) else {
            return Err(Error::ResourceNotFound {
                message: "Task does not exist.".into(),
            });
        };
        if task.status != MoveTaskStatus::Running {
            return Err(Error::invalid_parameter(
                "Only tasks with status RUNNING can be cancelled.",
            ));
        }
        let moved = task.moved;
        let entry = JournalEntry::MoveTaskEnded {
            task_id: task_id.to_owned(),
            status: MoveTaskStatus::Cancelled,
            failure_reason: None,
            at_ms: now_ms,
        };
        self.apply(&entry);
        Ok((entry, moved))
    }

    /// The active task failed (e.g. its destination was deleted).
    pub fn fail_move_task(&mut self, reason: &str, now_ms: i64) -> Option<JournalEntry> {
        let task_id = self.active_move_task()?.task_id.clone();
        let entry = JournalEntry::MoveTaskEnded {
            task_id,
            status: MoveTaskStatus::Failed,
            failure_reason: Some(reason.to_owned()),
            at_ms: now_ms,
        };
        self.apply(&entry);
        Some(entry)
    }

    /// Runs the active task if its next step is due.
    pub fn move_task_step(&mut self, now_ms: i64) -> MoveStep {
        let Some(task) = self.active_move_task() else {
            return MoveStep::default();
        };
        let task_id = task.task_id.clone();
        let destination_arn = task.destination_arn.clone();
        let rate = task.max_per_second;
        if now_ms < self.task_next_step_ms {
            return MoveStep {
                next_step_ms: Some(self.task_next_step_ms),
                ..Default::default()
            };
        }
        let batch = rate.map_or(STEP_BATCH, |r| r.min(STEP_BATCH)) as usize;
        let picked = self.pick_for_move(batch, now_ms);
        if picked.is_empty() {
            let outstanding = self.moving.values().any(|t| t.as_deref() == Some(&task_id));
            if outstanding {
                return MoveStep::default();
            }
            let entry = JournalEntry::MoveTaskEnded {
                task_id,
                status: MoveTaskStatus::Completed,
                failure_reason: None,
                at_ms: now_ms,
            };
            self.apply(&entry);
            return MoveStep {
                journal: Some(entry),
                ..Default::default()
            };
        }
        let mut moves = Vec::with_capacity(picked.len());
        for offset in picked {
            let first = self.first_receive_of(offset);
            if let Some(s) = self.window.slots.get_mut(&offset) {
                s.moving = true;
            }
            self.moving.insert(offset, Some(task_id.clone()));
            moves.push(MoveOut {
                offset,
                reason: MoveReason::Task {
                    task_id: task_id.clone(),
                    destination_arn: destination_arn.clone(),
                },
                first_receive_ms: first,
            });
        }
        let n = i64::try_from(moves.len()).unwrap_or(i64::MAX);
        self.task_next_step_ms = match rate {
            Some(r) => now_ms.saturating_add(n.saturating_mul(1000) / i64::from(r.max(1))),
            None => now_ms,
        };
        MoveStep {
            moves,
            journal: None,
            next_step_ms: Some(self.task_next_step_ms),
        }
    }

    /// Visible messages in order (FIFO: heads of unblocked groups and their followers).
    fn pick_for_move(&self, max: usize, now_ms: i64) -> Vec<u64> {
        let fifo = self.fifo();
        let mut blocked: HashSet<u32> = HashSet::new();
        let mut out = Vec::new();
        for (&offset, slot) in &self.window.slots {
            if out.len() >= max {
                break;
            }
            if self.expired(slot.sent_ms, now_ms) {
                continue;
            }
            let grouped = fifo && slot.group != NO_GROUP;
            if grouped && blocked.contains(&slot.group) {
                continue;
            }
            if slot.moving || slot.avail_ms > now_ms {
                if grouped {
                    blocked.insert(slot.group);
                }
                continue;
            }
            out.push(offset);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_handles_round_trip() {
        let h = encode_task_handle("t-1", "arn:aws:sqs:us-east-1:000000000000:dlq");
        assert_eq!(
            decode_task_handle(&h),
            Ok((
                "t-1".to_owned(),
                "arn:aws:sqs:us-east-1:000000000000:dlq".to_owned()
            ))
        );
        assert!(decode_task_handle("not base64!").is_err());
        assert!(decode_task_handle(&STANDARD.encode("{}")).is_err());
    }
}
