// SPDX-License-Identifier: Apache-2.0
//! Sending: validation against the queue's rules, FIFO deduplication (5 minutes, by id or
//! SHA-256 of the body, per queue or per group), sequence numbers, and applying durable
//! appends to the window.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{DEDUP_WINDOW_MS, DedupEntry, QueueEngine, SEQUENCE_BASE};
use crate::attributes::DedupScope;
use crate::error::Error;
use crate::md5::{hex, md5_of_attributes, md5_of_body, md5_of_system_attributes};
use crate::message::{AttributeValue, DeadLetterOrigin, MessageMeta, StoredMessage};
use crate::names::validate_fifo_id;
use crate::validate::{
    validate_body, validate_delay, validate_message_attributes, validate_system_attributes,
};

/// A SendMessage (or one SendMessageBatch entry), decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendRequest {
    /// The MessageId to give it (a UUID the caller allocates).
    pub message_id: String,
    /// SenderId.
    pub sender_id: String,
    /// MessageBody.
    pub body: String,
    /// DelaySeconds as given.
    pub delay_seconds: Option<i64>,
    /// MessageAttributes.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// MessageSystemAttributes.
    pub system_attributes: BTreeMap<String, AttributeValue>,
    /// MessageDeduplicationId.
    pub dedup_id: Option<String>,
    /// MessageGroupId.
    pub group_id: Option<String>,
}

/// What SendMessage answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// MessageId (for a FIFO duplicate: the original's).
    pub message_id: String,
    /// MD5OfMessageBody.
    pub md5_of_body: String,
    /// MD5OfMessageAttributes.
    pub md5_of_attributes: Option<String>,
    /// MD5OfMessageSystemAttributes.
    pub md5_of_system_attributes: Option<String>,
    /// SequenceNumber (FIFO; for a duplicate: the original's).
    pub sequence_number: Option<String>,
}

/// A prepared send to append to the messages log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSend {
    /// The record.
    pub message: StoredMessage,
    /// The answer once durable.
    pub result: SendResult,
    dedup_key: Option<String>,
}

impl PendingSend {
    /// The log record's partition key: the message id.
    pub fn partition_key(&self) -> &str {
        &self.message.message_id
    }

    /// The log record's data.
    pub fn record(&self) -> Vec<u8> {
        self.message.encode()
    }
}

/// The outcome of [`QueueEngine::prepare_send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// Append this record, then [`QueueEngine::apply_sent`], then answer.
    Append(Box<PendingSend>),
    /// A FIFO duplicate inside the deduplication interval: answer now, store nothing.
    Duplicate(SendResult),
}

/// Formats a sequence number as AWS does (a large decimal string).
pub fn format_sequence(n: u128) -> String {
    n.to_string()
}

impl QueueEngine {
    fn dedup_key(&self, group: Option<&str>, dedup_id: &str) -> String {
        match (self.attrs.deduplication_scope, group) {
            (DedupScope::MessageGroup, Some(g)) => format!("{g}\u{1f}{dedup_id}"),
            _ => dedup_id.to_owned(),
        }
    }

    /// FIFO SendMessageBatch checks AWS applies to the whole request before any entry is
    /// sent: every entry needs a MessageGroupId, and a MessageDeduplicationId unless
    /// ContentBasedDeduplication is on.
    pub fn check_fifo_batch<'a>(
        &self,
        entries: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    ) -> Result<(), Error> {
        if !self.fifo() {
            return Ok(());
        }
        for (group, dedup) in entries {
            if !self.attrs.content_based_deduplication && dedup.is_none() {
                return Err(Error::invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            if group.is_none() {
                return Err(Error::invalid_parameter(
                    "The request must contain the parameter MessageGroupId.",
                ));
            }
        }
        Ok(())
    }

    /// Validates a send and decides it. `in_batch` selects the error AWS gives for a missing
    /// MessageGroupId in a batch entry.
    pub fn prepare_send(
        &mut self,
        req: SendRequest,
        in_batch: bool,
        now_ms: i64,
    ) -> Result<Prepared, Error> {
        validate_message_attributes(&req.attributes)?;
        let trace_header = validate_system_attributes(&req.system_attributes)?;
        validate_body(
            &req.body,
            &req.attributes,
            self.attrs.maximum_message_size as usize,
        )?;
        let fifo = self.fifo();
        let delay_seconds = match (fifo, req.delay_seconds) {
            (true, Some(d)) if d != 0 => {
                return Err(Error::invalid_value(
                    d,
                    "DelaySeconds",
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
            (true, _) | (false, None) => self.attrs.delay_seconds,
            (false, Some(d)) => validate_delay(d)?,
        };
        let (group_id, dedup_id) = if fifo {
            let Some(group) = req.group_id else {
                return Err(if in_batch {
                    Error::invalid_parameter(
                        "The request must contain the parameter MessageGroupId.",
                    )
                } else {
                    Error::MissingParameter {
                        parameter: "MessageGroupId",
                    }
                });
            };
            validate_fifo_id(&group, "MessageGroupId")?;
            let dedup = match req.dedup_id {
                Some(d) => {
                    validate_fifo_id(&d, "MessageDeduplicationId")?;
                    d
                }
                None if self.attrs.content_based_deduplication => {
                    hex(&Sha256::digest(req.body.as_bytes()))
                }
                None => {
                    return Err(Error::invalid_parameter(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ));
                }
            };
            (Some(group), Some(dedup))
        } else {
            if let Some(d) = &req.dedup_id {
                return Err(Error::invalid_value(
                    d,
                    "MessageDeduplicationId",
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
            if let Some(g) = &req.group_id {
                validate_fifo_id(g, "MessageGroupId")?;
            }
            (req.group_id, None)
        };
        let mut result = SendResult {
            message_id: req.message_id.clone(),
            md5_of_body: md5_of_body(&req.body),
            md5_of_attributes: md5_of_attributes(&req.attributes),
            md5_of_system_attributes: md5_of_system_attributes(trace_header.as_deref()),
            sequence_number: None,
        };
        self.expire_caches(now_ms);
        let mut dedup_key = None;
        let mut sequence_number = None;
        if fifo && let Some(d) = &dedup_id {
            let key = self.dedup_key(group_id.as_deref(), d);
            if let Some(orig) = self.dedup.get(&key).filter(|e| e.expires_ms > now_ms) {
                result.message_id = orig.message_id.clone();
                result.sequence_number = orig.sequence_number.map(format_sequence);
                return Ok(Prepared::Duplicate(result));
            }
            let seq = SEQUENCE_BASE.saturating_add(self.next_sequence);
            self.next_sequence = self.next_sequence.saturating_add(1);
            sequence_number = Some(seq);
            result.sequence_number = Some(format_sequence(seq));
            self.dedup.insert(
                key.clone(),
                DedupEntry {
                    message_id: req.message_id.clone(),
                    sequence_number,
                    expires_ms: now_ms.saturating_add(DEDUP_WINDOW_MS),
                },
            );
            self.pending_dedup.insert(key.clone());
            dedup_key = Some(key);
        }
        let message = StoredMessage {
            message_id: req.message_id,
            sender_id: req.sender_id,
            sent_ms: now_ms,
            delay_seconds,
            body: req.body,
            attributes: req.attributes,
            trace_header,
            group_id,
            dedup_id,
            sequence_number,
            dead_letter: None,
        };
        Ok(Prepared::Append(Box::new(PendingSend {
            message,
            result,
            dedup_key,
        })))
    }

    /// Prepares a message moved in from another queue (dead-lettering or a move task): a new
    /// sequence number on a FIFO queue, no deduplication.
    pub fn prepare_move_in(&mut self, mut message: StoredMessage) -> PendingSend {
        if self.fifo() {
            let seq = SEQUENCE_BASE.saturating_add(self.next_sequence);
            self.next_sequence = self.next_sequence.saturating_add(1);
            message.sequence_number = Some(seq);
        } else {
            message.sequence_number = None;
        }
        let result = SendResult {
            message_id: message.message_id.clone(),
            md5_of_body: md5_of_body(&message.body),
            md5_of_attributes: md5_of_attributes(&message.attributes),
            md5_of_system_attributes: md5_of_system_attributes(message.trace_header.as_deref()),
            sequence_number: message.sequence_number.map(format_sequence),
        };
        PendingSend {
            message,
            result,
            dedup_key: None,
        }
    }

    /// The append of `pending` failed: forget its deduplication reservation.
    pub fn abort_send(&mut self, pending: &PendingSend) {
        if let Some(key) = &pending.dedup_key {
            self.pending_dedup.remove(key);
            if self
                .dedup
                .get(key)
                .is_some_and(|e| e.message_id == pending.message.message_id)
            {
                self.dedup.remove(key);
            }
        }
    }

    /// A messages-log record at `offset` is durable (live sends, moves in, and the recovery
    /// scan of the log's tail). Offsets must increase; an offset already applied is ignored.
    pub fn apply_sent(&mut self, offset: u64, meta: &MessageMeta) {
        if offset < self.next_offset {
            return;
        }
        self.next_offset = offset.saturating_add(1);
        if self.fifo() {
            if let Some(seq) = meta.sequence_number {
                let n = seq.saturating_sub(SEQUENCE_BASE).saturating_add(1);
                self.next_sequence = self.next_sequence.max(n);
            }
            if let Some(d) = &meta.dedup_id {
                let key = self.dedup_key(meta.group_id.as_deref(), d);
                self.pending_dedup.remove(&key);
                let expires_ms = meta.sent_ms.saturating_add(DEDUP_WINDOW_MS);
                let keep = self
                    .dedup
                    .get(&key)
                    .is_some_and(|e| e.message_id != meta.message_id);
                if !keep {
                    self.dedup.insert(
                        key.clone(),
                        DedupEntry {
                            message_id: meta.message_id.clone(),
                            sequence_number: meta.sequence_number,
                            expires_ms,
                        },
                    );
                    self.dedup_expiry.push_back((expires_ms, key));
                }
            }
        }
        if self.window.loaded_end == offset && self.window.slots.len() < self.config.window_cap {
            let fifo = self.fifo();
            self.window.load(offset, meta, fifo);
        }
    }
}

impl StoredMessage {
    /// This message as moved to a dead-letter queue: the source ARN and first receive are
    /// kept; a standard queue keeps the original SentTimestamp (retention still counts from
    /// it), a FIFO queue's gets the move time.
    pub fn dead_lettered(
        &self,
        source_arn: &str,
        first_receive_ms: Option<i64>,
        fifo: bool,
        now_ms: i64,
    ) -> StoredMessage {
        let mut m = self.clone();
        m.delay_seconds = 0;
        if fifo {
            m.sent_ms = now_ms;
        }
        m.dead_letter = Some(DeadLetterOrigin {
            source_arn: source_arn.to_owned(),
            first_receive_ms: first_receive_ms
                .or(self.dead_letter.as_ref().and_then(|d| d.first_receive_ms)),
        });
        m
    }

    /// This message as a move task sends it on (back to its source or elsewhere): a new
    /// SentTimestamp, no dead-letter origin.
    pub fn redriven(&self, now_ms: i64) -> StoredMessage {
        let mut m = self.clone();
        m.delay_seconds = 0;
        m.sent_ms = now_ms;
        m.dead_letter = None;
        m
    }
}
