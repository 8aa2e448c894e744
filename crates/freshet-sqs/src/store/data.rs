// SPDX-License-Identifier: Apache-2.0
//! The data plane: sends, receives (long polling, dead-letter moves), deletes, visibility
//! changes and purges, each acknowledged only once durable; and the in-process send API
//! other services use.
//!
//! Long polling waits with tokio, woken by sends, visibility changes to 0 and deletes that
//! free the window, or by the next visibility or delay deadline the engine reports. The wait
//! itself is measured in real time (it bounds how long the client waits); what is receivable
//! is always decided on the injected clock. A wait never sleeps longer than [`MAX_NAP`]
//! between looks, so a test clock moved by hand is noticed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::queue::Queue;
use super::{Sqs, SqsError};
use crate::engine::{
    BatchOutcome, Counts, Delivery, MoveOut, MoveReason, ReceiveRequest, SendRequest, SendResult,
};
use crate::error::Error;
use crate::message::{AttributeValue, StoredMessage};

/// Longest a long poll sleeps between looks at the queue.
const MAX_NAP: Duration = Duration::from_secs(1);

/// A received message: what the engine decided and the stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Receipt handle, receive count, first receive.
    pub delivery: Delivery,
    /// The message as stored.
    pub message: StoredMessage,
}

impl Sqs {
    /// Sends one message to queue `queue_arn` from inside the server (the in-process API
    /// other services use, e.g. an event source mapping's on-failure destination).
    pub async fn send(
        &self,
        queue_arn: &str,
        body: &str,
        attributes: BTreeMap<String, AttributeValue>,
    ) -> Result<SendResult, SqsError> {
        self.send_request(
            queue_arn,
            SendRequest {
                body: body.to_owned(),
                attributes,
                ..SendRequest::default()
            },
        )
        .await
    }

    /// Sends a full [`SendRequest`] (group and deduplication ids, delay, system attributes)
    /// to queue `queue_arn` from inside the server. The message id is allocated here.
    pub async fn send_request(
        &self,
        queue_arn: &str,
        req: SendRequest,
    ) -> Result<SendResult, SqsError> {
        let q = self
            .queue_by_arn(queue_arn)
            .ok_or(Error::QueueDoesNotExist)?;
        let mut results = self.send_messages(&q, vec![req], false).await?;
        match results.pop() {
            Some(r) => Ok(r?),
            None => Err(SqsError::Storage("the send produced no result".into())),
        }
    }

    /// ReceiveMessage on queue `name` without waiting (in process).
    pub async fn receive_by_name(
        &self,
        name: &str,
        req: &ReceiveRequest,
    ) -> Result<Vec<Received>, SqsError> {
        let q = self.queue(name)?;
        self.receive(&q, req, Duration::ZERO).await
    }

    /// ReceiveMessage on queue `name`, long polling up to `wait` for a message (in process:
    /// event source mappings).
    pub async fn receive_wait_by_name(
        &self,
        name: &str,
        req: &ReceiveRequest,
        wait: Duration,
    ) -> Result<Vec<Received>, SqsError> {
        let q = self.queue(name)?;
        self.receive(&q, req, wait).await
    }

    /// DeleteMessage on queue `name` (in process).
    pub async fn delete_by_name(&self, name: &str, receipt_handle: &str) -> Result<(), SqsError> {
        let q = self.queue(name)?;
        self.delete_message(&q, receipt_handle).await
    }

    /// ApproximateNumberOfMessages* of queue `name` now.
    pub fn counts(&self, name: &str) -> Option<Counts> {
        let q = self.queue(name).ok()?;
        let now = q.now_ms();
        let c = q.lock().engine.counts(now);
        Some(c)
    }

    /// SendMessage (one request) or SendMessageBatch (`in_batch`): one result per entry.
    /// Entries without a message id get a fresh UUID.
    pub(crate) async fn send_messages(
        &self,
        q: &Queue,
        mut reqs: Vec<SendRequest>,
        in_batch: bool,
    ) -> Result<Vec<Result<SendResult, Error>>, SqsError> {
        let sender = self.inner.opts.account_id.clone();
        for r in &mut reqs {
            if r.message_id.is_empty() {
                r.message_id = uuid::Uuid::new_v4().to_string();
            }
            if r.sender_id.is_empty() {
                r.sender_id.clone_from(&sender);
            }
        }
        let sizes: Vec<usize> = reqs
            .iter()
            .map(|r| crate::validate::message_size(&r.body, &r.attributes))
            .collect();
        let results = q.send(reqs, in_batch).await?;
        q.metrics.sent(
            sizes
                .into_iter()
                .zip(&results)
                .filter(|(_, r)| r.is_ok())
                .map(|(s, _)| s),
        );
        Ok(results)
    }

    /// ReceiveMessage, waiting up to `wait` for a message.
    pub(crate) async fn receive(
        &self,
        q: &Arc<Queue>,
        req: &ReceiveRequest,
        wait: Duration,
    ) -> Result<Vec<Received>, SqsError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            q.check()?;
            q.fill().await?;
            let notified = q.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (out, received) = {
                let _gate = q.gate.read().await;
                let now = q.now_ms();
                let out = q.lock().engine.receive(req, now)?;
                q.persist_opt(out.journal.as_ref()).await?;
                let offsets: Vec<u64> = out.messages.iter().map(|d| d.offset).collect();
                let received = if offsets.is_empty() {
                    Vec::new()
                } else {
                    q.read_messages(&offsets)?
                };
                (out, received)
            };
            let moved = !out.moves.is_empty();
            if moved {
                self.move_out(q, out.moves.clone()).await;
            }
            if !received.is_empty() {
                q.metrics.received(received.len());
                return Ok(out
                    .messages
                    .into_iter()
                    .zip(received)
                    .map(|(delivery, message)| Received { delivery, message })
                    .collect());
            }
            if moved {
                continue;
            }
            let now_real = tokio::time::Instant::now();
            if now_real >= deadline {
                q.metrics.received(0);
                return Ok(Vec::new());
            }
            let mut nap = (deadline - now_real).min(MAX_NAP);
            if let Some(t) = out.next_change_ms {
                let ms = t.saturating_sub(q.now_ms()).max(1);
                nap = nap.min(Duration::from_millis(u64::try_from(ms).unwrap_or(1)));
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    /// Moves messages out of `source` (dead-lettering, move tasks): append the copy to the
    /// target, then journal the removal here. A failed move leaves the message receivable.
    pub(crate) async fn move_out(&self, source: &Arc<Queue>, moves: Vec<MoveOut>) {
        for m in moves {
            if let Err(error) = self.move_one(source, &m).await {
                tracing::warn!(queue = %source.name, offset = m.offset, %error, "Moving a message failed; it stays in its queue.");
                source.lock().engine.abort_move(m.offset);
            }
        }
        source.notify.notify_waiters();
    }

    async fn move_one(&self, source: &Arc<Queue>, m: &MoveOut) -> Result<(), SqsError> {
        let original = source
            .read_messages(&[m.offset])?
            .pop()
            .ok_or_else(|| SqsError::Storage("moved message not found".into()))?;
        let now = source.now_ms();
        let (target_arn, copy, task) = match &m.reason {
            MoveReason::DeadLetter { target_arn } => {
                let copy =
                    original.dead_lettered(&source.arn, m.first_receive_ms, source.fifo, now);
                (target_arn.clone(), copy, false)
            }
            MoveReason::Task {
                destination_arn, ..
            } => {
                let target = match destination_arn {
                    Some(d) => d.clone(),
                    None => match &original.dead_letter {
                        Some(origin) => origin.source_arn.clone(),
                        None => {
                            self.fail_task(source, "CouldNotDetermineMessageSource")
                                .await?;
                            return Err(SqsError::Sqs(Error::invalid_parameter(
                                "The message has no DeadLetterQueueSourceArn.",
                            )));
                        }
                    },
                };
                (target, original.redriven(now), true)
            }
        };
        let Some(target) = self.queue_by_arn(&target_arn) else {
            if task {
                self.fail_task(source, "AWS.SimpleQueueService.NonExistentQueue")
                    .await?;
            }
            return Err(Error::QueueDoesNotExist.into());
        };
        target.append_moved(copy).await?;
        let _gate = source.gate.read().await;
        let entry = source.lock().engine.complete_move(m.offset);
        source.persist_opt(entry.as_ref()).await
    }

    async fn fail_task(&self, source: &Queue, reason: &str) -> Result<(), SqsError> {
        let _gate = source.gate.read().await;
        let entry = source.lock().engine.fail_move_task(reason, source.now_ms());
        source.persist_opt(entry.as_ref()).await
    }

    /// DeleteMessage.
    pub(crate) async fn delete_message(&self, q: &Queue, handle: &str) -> Result<(), SqsError> {
        q.check()?;
        let _gate = q.gate.read().await;
        let entry = q.lock().engine.delete(handle, q.now_ms())?;
        q.persist_opt(entry.as_ref()).await?;
        // AWS counts a repeated delete with a valid handle too.
        q.metrics.deleted.record(1.0);
        if entry.is_some() {
            q.notify.notify_waiters();
        }
        Ok(())
    }

    /// DeleteMessageBatch entries `(Id, ReceiptHandle)`.
    pub(crate) async fn delete_message_batch(
        &self,
        q: &Queue,
        entries: &[(String, String)],
    ) -> Result<BatchOutcome, SqsError> {
        q.check()?;
        let _gate = q.gate.read().await;
        let out = q.lock().engine.delete_batch(entries, q.now_ms());
        q.persist_opt(out.journal.as_ref()).await?;
        if out.journal.is_some() {
            q.notify.notify_waiters();
        }
        Ok(out)
    }

    /// ChangeMessageVisibility.
    pub(crate) async fn change_visibility(
        &self,
        q: &Queue,
        handle: &str,
        timeout: i64,
    ) -> Result<(), SqsError> {
        q.check()?;
        let _gate = q.gate.read().await;
        let entry = q
            .lock()
            .engine
            .change_visibility(handle, timeout, q.now_ms())?;
        q.persist_opt(entry.as_ref()).await?;
        q.notify.notify_waiters();
        Ok(())
    }

    /// ChangeMessageVisibilityBatch entries `(Id, ReceiptHandle, VisibilityTimeout)`.
    pub(crate) async fn change_visibility_batch(
        &self,
        q: &Queue,
        entries: &[(String, String, i64)],
    ) -> Result<BatchOutcome, SqsError> {
        q.check()?;
        let _gate = q.gate.read().await;
        let out = q.lock().engine.change_visibility_batch(entries, q.now_ms());
        q.persist_opt(out.journal.as_ref()).await?;
        q.notify.notify_waiters();
        Ok(out)
    }

    /// PurgeQueue.
    pub(crate) async fn purge(&self, q: &Queue) -> Result<(), SqsError> {
        q.check()?;
        let _gate = q.gate.read().await;
        let entry = q.lock().engine.purge(q.now_ms())?;
        q.persist(&entry).await?;
        q.notify.notify_waiters();
        Ok(())
    }
}
