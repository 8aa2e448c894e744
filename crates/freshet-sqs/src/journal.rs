// SPDX-License-Identifier: Apache-2.0
//! Journal entries: the state changes of a queue, one log record each (partition key empty),
//! in a queue's journal log. Each is acknowledged to the client only once durable, and
//! [`crate::engine::QueueEngine::replay`] applies them after a checkpoint.
//!
//! Every entry assigns absolute values (a receive count, a visibility deadline), never
//! increments, so replaying the entries after a checkpoint in journal order always ends in
//! the state they were decided in.
//!
//! # Record data layout (version 1)
//!
//! Integers little-endian; `str16` = u16 length + UTF-8; `opt` = u8 0/1 then the value.
//!
//! | bytes | field   | notes                                  |
//! |-------|---------|----------------------------------------|
//! | 0     | version | u8, [`JOURNAL_VERSION`]                |
//! | 1     | kind    | u8, below (persisted: never renumber)  |
//! | 2..   | fields  | per kind                               |
//!
//! | kind | entry               | fields                                                                 |
//! |------|---------------------|------------------------------------------------------------------------|
//! | 1    | Received            | at i64, visible-until i64, attempt id opt str16, u16 n × (offset u64, receive count u32, first receive i64) |
//! | 2    | VisibilityChanged   | u16 n × (offset u64, receive count u32, visible-until i64)             |
//! | 3    | Deleted             | u16 n × offset u64                                                     |
//! | 4    | Purged              | below u64, at i64                                                      |
//! | 5    | MovedOut            | offset u64, task id opt str16                                          |
//! | 6    | MoveTaskStarted     | task id str16, destination opt str16, rate opt u32, to-move u64, started i64 |
//! | 7    | MoveTaskEnded       | task id str16, status u8, failure reason opt str16, at i64             |

use crate::codec::{DecodeError, Reader, put_bytes16};

/// The current entry version. Persisted: a new layout gets a new number.
pub const JOURNAL_VERSION: u8 = 1;

const K_RECEIVED: u8 = 1;
const K_VISIBILITY: u8 = 2;
const K_DELETED: u8 = 3;
const K_PURGED: u8 = 4;
const K_MOVED_OUT: u8 = 5;
const K_TASK_STARTED: u8 = 6;
const K_TASK_ENDED: u8 = 7;

/// Status of a message move task. Persisted as u8: never renumber or reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MoveTaskStatus {
    /// Moving.
    Running = 1,
    /// Done: the source had no more visible messages.
    Completed = 2,
    /// Cancel requested, moves in progress finishing.
    Cancelling = 3,
    /// Cancelled.
    Cancelled = 4,
    /// Failed (see the failure reason).
    Failed = 5,
}

impl MoveTaskStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveTaskStatus::Running => "RUNNING",
            MoveTaskStatus::Completed => "COMPLETED",
            MoveTaskStatus::Cancelling => "CANCELLING",
            MoveTaskStatus::Cancelled => "CANCELLED",
            MoveTaskStatus::Failed => "FAILED",
        }
    }

    fn from_u8(v: u8) -> Result<Self, DecodeError> {
        Ok(match v {
            1 => MoveTaskStatus::Running,
            2 => MoveTaskStatus::Completed,
            3 => MoveTaskStatus::Cancelling,
            4 => MoveTaskStatus::Cancelled,
            5 => MoveTaskStatus::Failed,
            other => {
                return Err(DecodeError::Unknown {
                    what: "move task status",
                    value: u64::from(other),
                });
            }
        })
    }
}

/// One message of a receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedItem {
    /// Message offset.
    pub offset: u64,
    /// Its receive count after this receive (the receipt nonce).
    pub receive_count: u32,
    /// ApproximateFirstReceiveTimestamp.
    pub first_receive_ms: i64,
}

/// One message of a visibility change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibilityItem {
    /// Message offset.
    pub offset: u64,
    /// The receive count of the handle used.
    pub receive_count: u32,
    /// New deadline.
    pub visible_until_ms: i64,
}

/// A state change of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalEntry {
    /// A ReceiveMessage delivered these messages, hidden until `visible_until_ms`.
    Received {
        /// When.
        at_ms: i64,
        /// Visibility deadline of all of them.
        visible_until_ms: i64,
        /// FIFO ReceiveRequestAttemptId, remembered 5 minutes.
        attempt_id: Option<String>,
        /// The messages.
        items: Vec<ReceivedItem>,
    },
    /// ChangeMessageVisibility(Batch).
    VisibilityChanged {
        /// The changes.
        items: Vec<VisibilityItem>,
    },
    /// DeleteMessage(Batch).
    Deleted {
        /// The deleted messages.
        offsets: Vec<u64>,
    },
    /// PurgeQueue: every message below `below` is gone.
    Purged {
        /// One past the last purged offset.
        below: u64,
        /// When (for PurgeQueueInProgress).
        at_ms: i64,
    },
    /// A message left this queue: moved to the dead-letter queue, or by a move task.
    MovedOut {
        /// The message.
        offset: u64,
        /// The move task that moved it, if any.
        task_id: Option<String>,
    },
    /// StartMessageMoveTask.
    MoveTaskStarted {
        /// Task id.
        task_id: String,
        /// DestinationArn (absent: back to each message's source queue).
        destination_arn: Option<String>,
        /// MaxNumberOfMessagesPerSecond.
        max_per_second: Option<u32>,
        /// ApproximateNumberOfMessagesToMove.
        to_move: u64,
        /// StartedTimestamp (ms).
        started_ms: i64,
    },
    /// A move task stopped.
    MoveTaskEnded {
        /// Task id.
        task_id: String,
        /// COMPLETED, CANCELLED or FAILED.
        status: MoveTaskStatus,
        /// FailureReason.
        failure_reason: Option<String>,
        /// When.
        at_ms: i64,
    },
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_bytes16(out, s.as_bytes());
        }
        None => out.push(0),
    }
}

fn get_opt_str(r: &mut Reader<'_>, what: &'static str) -> Result<Option<String>, DecodeError> {
    match r.u8(what)? {
        0 => Ok(None),
        1 => Ok(Some(r.str16(what)?.to_owned())),
        _ => Err(DecodeError::Invalid { what }),
    }
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes());
}

impl JournalEntry {
    /// The record data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![JOURNAL_VERSION];
        match self {
            JournalEntry::Received {
                at_ms,
                visible_until_ms,
                attempt_id,
                items,
            } => {
                out.push(K_RECEIVED);
                out.extend_from_slice(&at_ms.to_le_bytes());
                out.extend_from_slice(&visible_until_ms.to_le_bytes());
                put_opt_str(&mut out, attempt_id.as_deref());
                put_count(&mut out, items.len());
                for i in items.iter().take(usize::from(u16::MAX)) {
                    out.extend_from_slice(&i.offset.to_le_bytes());
                    out.extend_from_slice(&i.receive_count.to_le_bytes());
                    out.extend_from_slice(&i.first_receive_ms.to_le_bytes());
                }
            }
            JournalEntry::VisibilityChanged { items } => {
                out.push(K_VISIBILITY);
                put_count(&mut out, items.len());
                for i in items.iter().take(usize::from(u16::MAX)) {
                    out.extend_from_slice(&i.offset.to_le_bytes());
                    out.extend_from_slice(&i.receive_count.to_le_bytes());
                    out.extend_from_slice(&i.visible_until_ms.to_le_bytes());
                }
            }
            JournalEntry::Deleted { offsets } => {
                out.push(K_DELETED);
                put_count(&mut out, offsets.len());
                for o in offsets.iter().take(usize::from(u16::MAX)) {
                    out.extend_from_slice(&o.to_le_bytes());
                }
            }
            JournalEntry::Purged { below, at_ms } => {
                out.push(K_PURGED);
                out.extend_from_slice(&below.to_le_bytes());
                out.extend_from_slice(&at_ms.to_le_bytes());
            }
            JournalEntry::MovedOut { offset, task_id } => {
                out.push(K_MOVED_OUT);
                out.extend_from_slice(&offset.to_le_bytes());
                put_opt_str(&mut out, task_id.as_deref());
            }
            JournalEntry::MoveTaskStarted {
                task_id,
                destination_arn,
                max_per_second,
                to_move,
                started_ms,
            } => {
                out.push(K_TASK_STARTED);
                put_bytes16(&mut out, task_id.as_bytes());
                put_opt_str(&mut out, destination_arn.as_deref());
                match max_per_second {
                    Some(r) => {
                        out.push(1);
                        out.extend_from_slice(&r.to_le_bytes());
                    }
                    None => out.push(0),
                }
                out.extend_from_slice(&to_move.to_le_bytes());
                out.extend_from_slice(&started_ms.to_le_bytes());
            }
            JournalEntry::MoveTaskEnded {
                task_id,
                status,
                failure_reason,
                at_ms,
            } => {
                out.push(K_TASK_ENDED);
                put_bytes16(&mut out, task_id.as_bytes());
                out.push(*status as u8);
                put_opt_str(&mut out, failure_reason.as_deref());
                out.extend_from_slice(&at_ms.to_le_bytes());
            }
        }
        out
    }

    /// Decodes record data.
    pub fn decode(data: &[u8]) -> Result<JournalEntry, DecodeError> {
        let mut r = Reader::new(data);
        let version = r.u8("version")?;
        if version != JOURNAL_VERSION {
            return Err(DecodeError::Unknown {
                what: "journal version",
                value: u64::from(version),
            });
        }
        let entry = match r.u8("kind")? {
            K_RECEIVED => {
                let at_ms = r.i64("at")?;
                let visible_until_ms = r.i64("visible until")?;
                let attempt_id = get_opt_str(&mut r, "attempt id")?;
                let n = r.u16("count")?;
                let n = r.count(u64::from(n), 20, "received items")?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(ReceivedItem {
                        offset: r.u64("offset")?,
                        receive_count: r.u32("receive count")?,
                        first_receive_ms: r.i64("first receive")?,
                    });
                }
                JournalEntry::Received {
                    at_ms,
                    visible_until_ms,
                    attempt_id,
                    items,
                }
            }
            K_VISIBILITY => {
                let n = r.u16("count")?;
                let n = r.count(u64::from(n), 20, "visibility items")?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(VisibilityItem {
                        offset: r.u64("offset")?,
                        receive_count: r.u32("receive count")?,
                        visible_until_ms: r.i64("visible until")?,
                    });
                }
                JournalEntry::VisibilityChanged { items }
            }
            K_DELETED => {
                let n = r.u16("count")?;
                let n = r.count(u64::from(n), 8, "deleted offsets")?;
                let mut offsets = Vec::with_capacity(n);
                for _ in 0..n {
                    offsets.push(r.u64("offset")?);
                }
                JournalEntry::Deleted { offsets }
            }
            K_PURGED => JournalEntry::Purged {
                below: r.u64("below")?,
                at_ms: r.i64("at")?,
            },
            K_MOVED_OUT => JournalEntry::MovedOut {
                offset: r.u64("offset")?,
                task_id: get_opt_str(&mut r, "task id")?,
            },
            K_TASK_STARTED => {
                let task_id = r.str16("task id")?.to_owned();
                let destination_arn = get_opt_str(&mut r, "destination")?;
                let max_per_second = match r.u8("rate flag")? {
                    0 => None,
                    1 => Some(r.u32("rate")?),
                    _ => return Err(DecodeError::Invalid { what: "rate flag" }),
                };
                JournalEntry::MoveTaskStarted {
                    task_id,
                    destination_arn,
                    max_per_second,
                    to_move: r.u64("to move")?,
                    started_ms: r.i64("started")?,
                }
            }
            K_TASK_ENDED => JournalEntry::MoveTaskEnded {
                task_id: r.str16("task id")?.to_owned(),
                status: MoveTaskStatus::from_u8(r.u8("status")?)?,
                failure_reason: get_opt_str(&mut r, "failure reason")?,
                at_ms: r.i64("at")?,
            },
            other => {
                return Err(DecodeError::Unknown {
                    what: "journal kind",
                    value: u64::from(other),
                });
            }
        };
        r.finish("journal entry")?;
        Ok(entry)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    fn status() -> impl Strategy<Value = MoveTaskStatus> {
        prop_oneof![
            Just(MoveTaskStatus::Running),
            Just(MoveTaskStatus::Completed),
            Just(MoveTaskStatus::Cancelling),
            Just(MoveTaskStatus::Cancelled),
            Just(MoveTaskStatus::Failed),
        ]
    }

    pub(crate) fn arb_entry() -> impl Strategy<Value = JournalEntry> {
        prop_oneof![
            (
                any::<i64>(),
                any::<i64>(),
                proptest::option::of("[!-~]{1,128}"),
                proptest::collection::vec((any::<u64>(), any::<u32>(), any::<i64>()), 0..12)
            )
                .prop_map(|(at_ms, visible_until_ms, attempt_id, items)| {
                    JournalEntry::Received {
                        at_ms,
                        visible_until_ms,
                        attempt_id,
                        items: items
                            .into_iter()
                            .map(|(offset, receive_count, first_receive_ms)| ReceivedItem {
                                offset,
                                receive_count,
                                first_receive_ms,
                            })
                            .collect(),
                    }
                }),
            proptest::collection::vec((any::<u64>(), any::<u32>(), any::<i64>()), 0..12).prop_map(
                |items| JournalEntry::VisibilityChanged {
                    items: items
                        .into_iter()
                        .map(|(offset, receive_count, visible_until_ms)| VisibilityItem {
                            offset,
                            receive_count,
                            visible_until_ms
                        })
                        .collect()
                }
            ),
            proptest::collection::vec(any::<u64>(), 0..12)
                .prop_map(|offsets| JournalEntry::Deleted { offsets }),
            (any::<u64>(), any::<i64>())
                .prop_map(|(below, at_ms)| JournalEntry::Purged { below, at_ms }),
            (any::<u64>(), proptest::option::of("[a-z0-9-]{1,36}"))
                .prop_map(|(offset, task_id)| JournalEntry::MovedOut { offset, task_id }),
            (
                "[a-z0-9-]{1,36}",
                proptest::option::of("[a-z0-9:]{1,60}"),
                proptest::option::of(any::<u32>()),
                any::<u64>(),
                any::<i64>()
            )
                .prop_map(
                    |(task_id, destination_arn, max_per_second, to_move, started_ms)| {
                        JournalEntry::MoveTaskStarted {
                            task_id,
                            destination_arn,
                            max_per_second,
                            to_move,
                            started_ms,
                        }
                    }
                ),
            (
                "[a-z0-9-]{1,36}",
                status(),
                proptest::option::of("\\PC{0,40}"),
                any::<i64>()
            )
                .prop_map(|(task_id, status, failure_reason, at_ms)| {
                    JournalEntry::MoveTaskEnded {
                        task_id,
                        status,
                        failure_reason,
                        at_ms,
                    }
                }),
        ]
    }

    proptest! {
        #[test]
        fn entries_round_trip(e in arb_entry()) {
            prop_assert_eq!(JournalEntry::decode(&e.encode()), Ok(e));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = JournalEntry::decode(&bytes);
        }

        #[test]
        fn truncated_entries_are_errors(e in arb_entry(), cut in 0usize..400) {
            let bytes = e.encode();
            let cut = cut.min(bytes.len().saturating_sub(1));
            prop_assert!(JournalEntry::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn a_huge_count_with_few_bytes_is_refused_before_allocating() {
        let bytes = [JOURNAL_VERSION, K_DELETED, 0xFF, 0xFF, 1, 2, 3];
        assert!(matches!(
            JournalEntry::decode(&bytes),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
