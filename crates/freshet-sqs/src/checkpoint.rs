// SPDX-License-Identifier: Apache-2.0
//! The checkpoint: a snapshot of one queue engine's state, stored as one blob in the metadata
//! store (written periodically and at clean shutdown).
//!
//! Recovery is `restore(checkpoint)`, then `replay` of every journal entry from
//! `journal_next`, then `apply_sent` for every messages-log record from `next_offset`, then
//! loading the window from the low watermark as the engine asks. After a checkpoint is
//! stored, journal segments below `journal_next` and messages segments below
//! `low_watermark` may be deleted.
//!
//! What it holds: every live message below `reload_end` with its state (those not listed are
//! gone: deleted, expired, moved or purged), offsets at or above `reload_end` known to be
//! gone, the FIFO deduplication entries still inside their 5 minutes, the live
//! ReceiveRequestAttemptIds, the sequence counter, the last purge and the move tasks.
//!
//! # Layout (version 1)
//!
//! Little-endian; `str16` = u16 length + UTF-8; `opt` = u8 0/1 then the value; `opt i64`
//! uses `i64::MIN` for none.
//!
//! | field            | encoding                                                        |
//! |------------------|-----------------------------------------------------------------|
//! | magic            | `FSQC`                                                          |
//! | version          | u16, [`CHECKPOINT_VERSION`]                                     |
//! | reserved         | u16, zero                                                       |
//! | journal next     | u64                                                             |
//! | next offset      | u64: messages-log records below it were applied                 |
//! | reload end       | u64                                                             |
//! | low watermark    | u64                                                             |
//! | purge floor      | u64                                                             |
//! | last purge       | opt i64                                                         |
//! | next sequence    | u128                                                            |
//! | live             | u32 n × (offset u64, receive count u32, visible-until opt i64, first receive opt i64, last receive opt i64) |
//! | dead             | u32 n × offset u64                                              |
//! | dedup            | u32 n × (key str16, message id str16, sequence opt u128 (u8 + u128), expires i64) |
//! | attempts         | u32 n × (attempt id str16, expires i64, visible-until i64, u16 m × (offset u64, receive count u32)) |
//! | move tasks       | u16 n × (task id str16, destination opt str16, rate opt u32, to-move u64, moved u64, started i64, status u8, failure opt str16) |
//! | CRC32C           | u32 of everything before it                                     |

use crate::codec::{DecodeError, Reader, put_bytes16};
use crate::journal::MoveTaskStatus;

/// Magic bytes.
pub const CHECKPOINT_MAGIC: &[u8; 4] = b"FSQC";
/// Layout version. Persisted: a new layout gets a new number.
pub const CHECKPOINT_VERSION: u16 = 1;

/// The state of one live message that is not derivable from its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageState {
    /// Message offset.
    pub offset: u64,
    /// Receives so far.
    pub receive_count: u32,
    /// Visibility deadline set by a receive or visibility change (`None`: pristine, visible
    /// at sent time + delay).
    pub visible_until_ms: Option<i64>,
    /// ApproximateFirstReceiveTimestamp.
    pub first_receive_ms: Option<i64>,
    /// Time of the latest receive (the 12-hour visibility limit counts from it).
    pub last_receive_ms: Option<i64>,
}

/// A FIFO deduplication entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupRecord {
    /// The dedup key (group-qualified in messageGroup scope).
    pub key: String,
    /// The original MessageId.
    pub message_id: String,
    /// The original SequenceNumber.
    pub sequence_number: Option<u128>,
    /// When it stops deduplicating.
    pub expires_ms: i64,
}

/// A remembered ReceiveRequestAttemptId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The attempt id.
    pub attempt_id: String,
    /// When it is forgotten.
    pub expires_ms: i64,
    /// The visibility deadline the attempt set (a change in between means "modified").
    pub visible_until_ms: i64,
    /// The messages it returned with their receive counts.
    pub items: Vec<(u64, u32)>,
}

/// A message move task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTaskRecord {
    /// Task id.
    pub task_id: String,
    /// DestinationArn.
    pub destination_arn: Option<String>,
    /// MaxNumberOfMessagesPerSecond.
    pub max_per_second: Option<u32>,
    /// ApproximateNumberOfMessagesToMove.
    pub to_move: u64,
    /// ApproximateNumberOfMessagesMoved.
    pub moved: u64,
    /// StartedTimestamp (ms).
    pub started_ms: i64,
    /// Status.
    pub status: MoveTaskStatus,
    /// FailureReason.
    pub failure_reason: Option<String>,
}

/// A queue engine snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The journal offset the snapshot covers up to (exclusive).
    pub journal_next: u64,
    /// Messages-log records below this were applied.
    pub next_offset: u64,
    /// Below this, messages not in `live` are gone.
    pub reload_end: u64,
    /// Every message below this is gone.
    pub low_watermark: u64,
    /// Every message below this was purged.
    pub purge_floor: u64,
    /// The last PurgeQueue.
    pub last_purge_ms: Option<i64>,
    /// The next FIFO sequence number.
    pub next_sequence: u128,
    /// Live messages below `reload_end`, by offset.
    pub live: Vec<MessageState>,
    /// Gone messages at or above `reload_end`.
    pub dead: Vec<u64>,
    /// FIFO deduplication entries.
    pub dedup: Vec<DedupRecord>,
    /// ReceiveRequestAttemptIds.
    pub attempts: Vec<AttemptRecord>,
    /// Move tasks, oldest first.
    pub move_tasks: Vec<MoveTaskRecord>,
}

fn put_opt_i64(out: &mut Vec<u8>, v: Option<i64>) {
    out.extend_from_slice(&v.unwrap_or(i64::MIN).to_le_bytes());
}

fn get_opt_i64(r: &mut Reader<'_>, what: &'static str) -> Result<Option<i64>, DecodeError> {
    let v = r.i64(what)?;
    Ok((v != i64::MIN).then_some(v))
}

fn put_opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
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

fn put_u32_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

impl Checkpoint {
    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.live.len() * 36);
        out.extend_from_slice(CHECKPOINT_MAGIC);
        out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        for v in [
            self.journal_next,
            self.next_offset,
            self.reload_end,
            self.low_watermark,
            self.purge_floor,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        put_opt_i64(&mut out, self.last_purge_ms);
        out.extend_from_slice(&self.next_sequence.to_le_bytes());
        put_u32_len(&mut out, self.live.len());
        for m in &self.live {
            out.extend_from_slice(&m.offset.to_le_bytes());
            out.extend_from_slice(&m.receive_count.to_le_bytes());
            put_opt_i64(&mut out, m.visible_until_ms);
            put_opt_i64(&mut out, m.first_receive_ms);
            put_opt_i64(&mut out, m.last_receive_ms);
        }
        put_u32_len(&mut out, self.dead.len());
        for d in &self.dead {
            out.extend_from_slice(&d.to_le_bytes());
        }
        put_u32_len(&mut out, self.dedup.len());
        for d in &self.dedup {
            put_bytes16(&mut out, d.key.as_bytes());
            put_bytes16(&mut out, d.message_id.as_bytes());
            match d.sequence_number {
                Some(s) => {
                    out.push(1);
                    out.extend_from_slice(&s.to_le_bytes());
                }
                None => out.push(0),
            }
            out.extend_from_slice(&d.expires_ms.to_le_bytes());
        }
        put_u32_len(&mut out, self.attempts.len());
        for a in &self.attempts {
            put_bytes16(&mut out, a.attempt_id.as_bytes());
            out.extend_from_slice(&a.expires_ms.to_le_bytes());
            out.extend_from_slice(&a.visible_until_ms.to_le_bytes());
            out.extend_from_slice(
                &u16::try_from(a.items.len())
                    .unwrap_or(u16::MAX)
                    .to_le_bytes(),
            );
            for (o, c) in a.items.iter().take(usize::from(u16::MAX)) {
                out.extend_from_slice(&o.to_le_bytes());
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        out.extend_from_slice(
            &u16::try_from(self.move_tasks.len())
                .unwrap_or(u16::MAX)
                .to_le_bytes(),
        );
        for t in self.move_tasks.iter().take(usize::from(u16::MAX)) {
            put_bytes16(&mut out, t.task_id.as_bytes());
            put_opt_str(&mut out, t.destination_arn.as_deref());
            match t.max_per_second {
                Some(r) => {
                    out.push(1);
                    out.extend_from_slice(&r.to_le_bytes());
                }
                None => out.push(0),
            }
            out.extend_from_slice(&t.to_move.to_le_bytes());
            out.extend_from_slice(&t.moved.to_le_bytes());
            out.extend_from_slice(&t.started_ms.to_le_bytes());
            out.push(t.status as u8);
            put_opt_str(&mut out, t.failure_reason.as_deref());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a blob, checking magic, version and CRC first.
    pub fn decode(blob: &[u8]) -> Result<Checkpoint, DecodeError> {
        if blob.len() < 12 {
            return Err(DecodeError::Truncated {
                what: "checkpoint",
                needed: 12,
                left: blob.len(),
            });
        }
        let (body, crc) = blob.split_at(blob.len() - 4);
        let mut crc_bytes = [0u8; 4];
        crc_bytes.copy_from_slice(crc);
        if crc32c::crc32c(body) != u32::from_le_bytes(crc_bytes) {
            return Err(DecodeError::Checksum { what: "checkpoint" });
        }
        let mut r = Reader::new(body);
        if r.take(4, "magic")? != CHECKPOINT_MAGIC {
            return Err(DecodeError::Invalid {
                what: "checkpoint magic",
            });
        }
        let version = r.u16("version")?;
        if version != CHECKPOINT_VERSION {
            return Err(DecodeError::Unknown {
                what: "checkpoint version",
                value: u64::from(version),
            });
        }
        r.u16("reserved")?;
        let mut c = Checkpoint {
            journal_next: r.u64("journal next")?,
            next_offset: r.u64("next offset")?,
            reload_end: r.u64("reload end")?,
            low_watermark: r.u64("low watermark")?,
            purge_floor: r.u64("purge floor")?,
            last_purge_ms: get_opt_i64(&mut r, "last purge")?,
            next_sequence: r.u128("next sequence")?,
            ..Checkpoint::default()
        };
        let n = r.u32("live count")?;
        let n = r.count(u64::from(n), 36, "live")?;
        c.live.reserve(n);
        for _ in 0..n {
            c.live.push(MessageState {
                offset: r.u64("offset")?,
                receive_count: r.u32("receive count")?,
                visible_until_ms: get_opt_i64(&mut r, "visible until")?,
                first_receive_ms: get_opt_i64(&mut r, "first receive")?,
                last_receive_ms: get_opt_i64(&mut r, "last receive")?,
            });
        }
        let n = r.u32("dead count")?;
        let n = r.count(u64::from(n), 8, "dead")?;
        c.dead.reserve(n);
        for _ in 0..n {
            c.dead.push(r.u64("dead offset")?);
        }
        let n = r.u32("dedup count")?;
        let n = r.count(u64::from(n), 13, "dedup")?;
        for _ in 0..n {
            let key = r.str16("dedup key")?.to_owned();
            let message_id = r.str16("message id")?.to_owned();
            let sequence_number = match r.u8("sequence flag")? {
                0 => None,
                1 => Some(r.u128("sequence")?),
                _ => {
                    return Err(DecodeError::Invalid {
                        what: "sequence flag",
                    });
                }
            };
            c.dedup.push(DedupRecord {
                key,
                message_id,
                sequence_number,
                expires_ms: r.i64("expires")?,
            });
        }
        let n = r.u32("attempt count")?;
        let n = r.count(u64::from(n), 20, "attempts")?;
        for _ in 0..n {
            let attempt_id = r.str16("attempt id")?.to_owned();
            let expires_ms = r.i64("expires")?;
            let visible_until_ms = r.i64("visible until")?;
            let m = r.u16("attempt items")?;
            let m = r.count(u64::from(m), 12, "attempt items")?;
            let mut items = Vec::with_capacity(m);
            for _ in 0..m {
                items.push((r.u64("offset")?, r.u32("receive count")?));
            }
            c.attempts.push(AttemptRecord {
                attempt_id,
                expires_ms,
                visible_until_ms,
                items,
            });
        }
        let n = r.u16("task count")?;
        let n = r.count(u64::from(n), 30, "move tasks")?;
        for _ in 0..n {
            let task_id = r.str16("task id")?.to_owned();
            let destination_arn = get_opt_str(&mut r, "destination")?;
            let max_per_second = match r.u8("rate flag")? {
                0 => None,
                1 => Some(r.u32("rate")?),
                _ => return Err(DecodeError::Invalid { what: "rate flag" }),
            };
            let to_move = r.u64("to move")?;
            let moved = r.u64("moved")?;
            let started_ms = r.i64("started")?;
            let status = match r.u8("status")? {
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
            };
            let failure_reason = get_opt_str(&mut r, "failure reason")?;
            c.move_tasks.push(MoveTaskRecord {
                task_id,
                destination_arn,
                max_per_second,
                to_move,
                moved,
                started_ms,
                status,
                failure_reason,
            });
        }
        r.finish("checkpoint")?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn opt_i64() -> impl Strategy<Value = Option<i64>> {
        proptest::option::of(any::<i64>().prop_filter("MIN means none", |v| *v != i64::MIN))
    }

    fn arb_checkpoint() -> impl Strategy<Value = Checkpoint> {
        let live = proptest::collection::vec(
            (any::<u64>(), any::<u32>(), opt_i64(), opt_i64(), opt_i64()).prop_map(
                |(offset, receive_count, visible_until_ms, first_receive_ms, last_receive_ms)| {
                    MessageState {
                        offset,
                        receive_count,
                        visible_until_ms,
                        first_receive_ms,
                        last_receive_ms,
                    }
                },
            ),
            0..8,
        );
        let dedup = proptest::collection::vec(
            (
                "[!-~]{1,40}",
                "[a-f0-9-]{1,36}",
                proptest::option::of(any::<u128>()),
                any::<i64>(),
            )
                .prop_map(|(key, message_id, sequence_number, expires_ms)| {
                    DedupRecord {
                        key,
                        message_id,
                        sequence_number,
                        expires_ms,
                    }
                }),
            0..4,
        );
        let attempts = proptest::collection::vec(
            (
                "[!-~]{1,40}",
                any::<i64>(),
                any::<i64>(),
                proptest::collection::vec((any::<u64>(), any::<u32>()), 0..4),
            )
                .prop_map(|(attempt_id, expires_ms, visible_until_ms, items)| {
                    AttemptRecord {
                        attempt_id,
                        expires_ms,
                        visible_until_ms,
                        items,
                    }
                }),
            0..3,
        );
        let tasks = proptest::collection::vec(
            (
                "[a-z0-9-]{1,36}",
                proptest::option::of("[a-z0-9:]{1,50}"),
                proptest::option::of(any::<u32>()),
                any::<u64>(),
                any::<u64>(),
                any::<i64>(),
                prop_oneof![Just(MoveTaskStatus::Running), Just(MoveTaskStatus::Failed)],
                proptest::option::of("\\PC{0,30}"),
            )
                .prop_map(
                    |(
                        task_id,
                        destination_arn,
                        max_per_second,
                        to_move,
                        moved,
                        started_ms,
                        status,
                        failure_reason,
                    )| {
                        MoveTaskRecord {
                            task_id,
                            destination_arn,
                            max_per_second,
                            to_move,
                            moved,
                            started_ms,
                            status,
                            failure_reason,
                        }
                    },
                ),
            0..3,
        );
        (
            (
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                opt_i64(),
                any::<u128>(),
            ),
            live,
            proptest::collection::vec(any::<u64>(), 0..5),
            dedup,
            attempts,
            tasks,
        )
            .prop_map(
                |(
                    (
                        journal_next,
                        next_offset,
                        reload_end,
                        low_watermark,
                        purge_floor,
                        last_purge_ms,
                        next_sequence,
                    ),
                    live,
                    dead,
                    dedup,
                    attempts,
                    move_tasks,
                )| Checkpoint {
                    journal_next,
                    next_offset,
                    reload_end,
                    low_watermark,
                    purge_floor,
                    last_purge_ms,
                    next_sequence,
                    live,
                    dead,
                    dedup,
                    attempts,
                    move_tasks,
                },
            )
    }

    proptest! {
        #[test]
        fn checkpoints_round_trip(c in arb_checkpoint()) {
            prop_assert_eq!(Checkpoint::decode(&c.encode()), Ok(c));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Checkpoint::decode(&bytes);
        }

        #[test]
        fn any_corrupted_byte_is_detected(c in arb_checkpoint(), i in any::<usize>(), x in 1u8..=255) {
            let mut bytes = c.encode();
            let i = i % bytes.len();
            bytes[i] ^= x;
            prop_assert!(Checkpoint::decode(&bytes).is_err());
        }
    }
}
