// SPDX-License-Identifier: Apache-2.0
//! Periodic work, run by the server's `sqs-maintenance` component and at shutdown: loading
//! messages into windows that have room, stepping message move tasks at their pace, and
//! checkpointing queues that changed (then deleting the log segments the checkpoint covers).

use std::sync::Arc;

use super::queue::Queue;
use super::record::CHECKPOINTS;
use super::{Sqs, SqsError};

/// Most move-task steps one round runs per queue (a step moves up to 10 messages).
const MAX_STEPS_PER_ROUND: usize = 100;

impl Sqs {
    fn all_queues(&self) -> Vec<Arc<Queue>> {
        self.read_queues().values().cloned().collect()
    }

    /// One round of periodic work over every queue.
    pub async fn maintain(&self) {
        for q in self.all_queues() {
            if q.check().is_err() {
                continue;
            }
            if let Err(error) = q.fill().await {
                tracing::warn!(queue = %q.name, %error, "Loading messages failed.");
            }
            self.step_move_tasks(&q).await;
            let (changes, last) = q.since_checkpoint();
            let due_ms =
                i64::try_from(self.inner.opts.checkpoint_interval.as_millis()).unwrap_or(i64::MAX);
            let due = changes >= self.inner.opts.checkpoint_changes
                || (changes > 0 && q.now_ms().saturating_sub(last) >= due_ms);
            if due && let Err(error) = self.checkpoint(&q).await {
                tracing::warn!(queue = %q.name, %error, "Checkpoint failed; the journal keeps growing until one succeeds.");
            }
        }
    }

    async fn step_move_tasks(&self, q: &Arc<Queue>) {
        for _ in 0..MAX_STEPS_PER_ROUND {
            let step = {
                let _gate = q.gate.read().await;
                let step = q.lock().engine.move_task_step(q.now_ms());
                if let Err(error) = q.persist_opt(step.journal.as_ref()).await {
                    tracing::warn!(queue = %q.name, %error, "Recording a move task's end failed.");
                    return;
                }
                step
            };
            if !step.moves.is_empty() {
                self.move_out(q, step.moves).await;
            }
            match step.next_step_ms {
                Some(t) if t <= q.now_ms() => {}
                _ => return,
            }
        }
    }

    /// Checkpoints one queue: snapshot, store durably, then delete the journal and messages
    /// segments it covers.
    pub(crate) async fn checkpoint(&self, q: &Arc<Queue>) -> Result<(), SqsError> {
        let Some(c) = q.snapshot().await else {
            return Ok(());
        };
        let meta = self.inner.meta.clone();
        let queue = q.clone();
        let done = tokio::task::spawn_blocking(move || -> Result<usize, SqsError> {
            meta.put(CHECKPOINTS, &queue.dir, &c.encode())?;
            queue.trim(&c)
        })
        .await;
        match done {
            Ok(Ok(deleted)) => {
                if deleted > 0 {
                    tracing::debug!(queue = %q.name, segments = deleted, "Checkpoint released log segments.");
                }
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(SqsError::Storage(format!("checkpoint task failed: {e}"))),
        }
    }

    /// Checkpoints every queue (at clean shutdown, so the next start replays nothing).
    pub async fn checkpoint_all(&self) {
        for q in self.all_queues() {
            if let Err(error) = self.checkpoint(&q).await {
                tracing::warn!(queue = %q.name, %error, "Checkpoint at shutdown failed; the next start replays the journal.");
            }
        }
    }

    /// Closes every queue's logs (fsyncs them). Call after the last request. Blocks.
    pub fn shutdown(&self) {
        for q in self.all_queues() {
            q.close();
        }
    }
}
