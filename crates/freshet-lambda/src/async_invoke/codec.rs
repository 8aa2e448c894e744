// SPDX-License-Identifier: Apache-2.0
//! The records of the asynchronous invocation queue: one [`EventRecord`] per queued event in
//! the events log, one [`JournalEntry`] per batch of finished events in the journal. The log
//! frames each batch with its own CRC; these are the record payloads.
//!
//! Integers are little-endian; `str16` = u16 length + UTF-8; `str32`/`bytes32` = u32 length
//! + bytes; `opt` = u8 0/1, then the value. Persisted: a new layout gets a new version byte.
//!
//! # Event record (version 1)
//!
//! | field            | encoding                                                        |
//! |------------------|-----------------------------------------------------------------|
//! | version          | u8, [`EVENT_VERSION`]                                           |
//! | accepted         | i64 ms: when Invoke accepted it (MaximumEventAge counts from it) |
//! | due              | i64 ms: not to be run before                                    |
//! | attempts         | u32: runs that ended in a function error so far                 |
//! | function         | str16: the function's name                                      |
//! | qualifier        | opt str16: version or alias, as invoked                         |
//! | request id       | str16: kept across retries, as Lambda does                      |
//! | client context   | opt str32                                                       |
//! | last response    | opt (status u16, executed version str16, function error u8 [0 none, 1 Unhandled, 2 Handled], payload bytes32) |
//! | payload          | bytes32: the event                                              |
//!
//! # Journal entry (version 1)
//!
//! | field   | encoding                                           |
//! |---------|----------------------------------------------------|
//! | version | u8, [`JOURNAL_VERSION`]                            |
//! | kind    | u8: 1 = finished (persisted: never renumber)       |
//! | offsets | u16 n × u64: events-log offsets that are finished  |

use bytes::Bytes;

use crate::spec::FunctionError;

/// The event record layout version. Persisted: never reuse.
pub const EVENT_VERSION: u8 = 1;
/// The journal entry layout version. Persisted: never reuse.
pub const JOURNAL_VERSION: u8 = 1;
/// Journal kind: these events are finished (succeeded, handed to a destination, dropped,
/// or re-queued under a new offset). Persisted: never renumber.
const K_FINISHED: u8 = 1;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than a field needs.
    #[error("truncated {what}")]
    Truncated {
        /// The field.
        what: &'static str,
    },
    /// A version or kind this build does not know.
    #[error("unknown {what} {value}")]
    Unknown {
        /// What it was.
        what: &'static str,
        /// The value found.
        value: u8,
    },
    /// A string that is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// The field.
        what: &'static str,
    },
    /// Bytes after the last field.
    #[error("trailing bytes after {what}")]
    Trailing {
        /// The record type.
        what: &'static str,
    },
}

/// The function's answer to the last run of an event, kept for its destination record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastResponse {
    /// 200: the function ran.
    pub status: u16,
    /// The version that ran.
    pub executed_version: String,
    /// Set when the function failed.
    pub function_error: Option<FunctionError>,
    /// The response, or the error document.
    pub payload: Bytes,
}

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// When Invoke accepted it, ms.
    pub accepted_ms: i64,
    /// Not to be run before, ms.
    pub due_ms: i64,
    /// Runs that ended in a function error so far.
    pub attempts: u32,
    /// The function's name.
    pub function: String,
    /// The version or alias invoked.
    pub qualifier: Option<String>,
    /// The invocation's request id.
    pub request_id: String,
    /// `ClientContext`, decoded.
    pub client_context: Option<String>,
    /// The last run's answer.
    pub last_response: Option<LastResponse>,
    /// The event.
    pub payload: Bytes,
}

/// A journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalEntry {
    /// These events are finished.
    Finished(Vec<u64>),
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    // Names, qualifiers, request ids and versions are far below 64 KiB; cut, never panic.
    let b = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

fn put_bytes32(out: &mut Vec<u8>, b: &[u8]) {
    let b = &b[..b.len().min(u32::MAX as usize)];
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn function_error_code(e: Option<FunctionError>) -> u8 {
    match e {
        None => 0,
        Some(FunctionError::Unhandled) => 1,
        Some(FunctionError::Handled) => 2,
    }
}

impl EventRecord {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.payload.len());
        out.push(EVENT_VERSION);
        out.extend_from_slice(&self.accepted_ms.to_le_bytes());
        out.extend_from_slice(&self.due_ms.to_le_bytes());
        out.extend_from_slice(&self.attempts.to_le_bytes());
        put_str16(&mut out, &self.function);
        match &self.qualifier {
            Some(q) => {
                out.push(1);
                put_str16(&mut out, q);
            }
            None => out.push(0),
        }
        put_str16(&mut out, &self.request_id);
        match &self.client_context {
            Some(c) => {
                out.push(1);
                put_bytes32(&mut out, c.as_bytes());
            }
            None => out.push(0),
        }
        match &self.last_response {
            Some(r) => {
                out.push(1);
                out.extend_from_slice(&r.status.to_le_bytes());
                put_str16(&mut out, &r.executed_version);
                out.push(function_error_code(r.function_error));
                put_bytes32(&mut out, &r.payload);
            }
            None => out.push(0),
        }
        put_bytes32(&mut out, &self.payload);
        out
    }

    /// Decodes a record.
    pub fn decode(bytes: &[u8]) -> Result<EventRecord, DecodeError> {
        let mut r = Reader { buf: bytes };
        let version = r.u8("version")?;
        if version != EVENT_VERSION {
            return Err(DecodeError::Unknown {
                what: "event record version",
                value: version,
            });
        }
        let accepted_ms = r.i64("accepted")?;
        let due_ms = r.i64("due")?;
        let attempts = r.u32("attempts")?;
        let function = r.str16("function")?;
        let qualifier = match r.flag("qualifier")? {
            true => Some(r.str16("qualifier")?),
            false => None,
        };
        let request_id = r.str16("request id")?;
        let client_context = match r.flag("client context")? {
            true => Some(r.string32("client context")?),
            false => None,
        };
        let last_response = match r.flag("last response")? {
            true => {
                let status = r.u16("status")?;
                let executed_version = r.str16("executed version")?;
                let function_error = match r.u8("function error")? {
                    0 => None,
                    1 => Some(FunctionError::Unhandled),
                    2 => Some(FunctionError::Handled),
                    value => {
                        return Err(DecodeError::Unknown {
                            what: "function error",
                            value,
                        });
                    }
                };
                let payload = Bytes::copy_from_slice(r.bytes32("response")?);
                Some(LastResponse {
                    status,
                    executed_version,
                    function_error,
                    payload,
                })
            }
            false => None,
        };
        let payload = Bytes::copy_from_slice(r.bytes32("payload")?);
        r.end("event record")?;
        Ok(EventRecord {
            accepted_ms,
            due_ms,
            attempts,
            function,
            qualifier,
            request_id,
            client_context,
            last_response,
            payload,
        })
    }
}

impl JournalEntry {
    /// The entry's bytes. At most `u16::MAX` offsets per entry (callers split larger sets).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            JournalEntry::Finished(offsets) => {
                let n = offsets.len().min(usize::from(u16::MAX));
                let mut out = Vec::with_capacity(4 + n * 8);
                out.push(JOURNAL_VERSION);
                out.push(K_FINISHED);
                out.extend_from_slice(&(n as u16).to_le_bytes());
                for o in &offsets[..n] {
                    out.extend_from_slice(&o.to_le_bytes());
                }
                out
            }
        }
    }

    /// Decodes an entry.
    pub fn decode(bytes: &[u8]) -> Result<JournalEntry, DecodeError> {
        let mut r = Reader { buf: bytes };
        let version = r.u8("version")?;
        if version != JOURNAL_VERSION {
            return Err(DecodeError::Unknown {
                what: "journal version",
                value: version,
            });
        }
        let kind = r.u8("kind")?;
        if kind != K_FINISHED {
            return Err(DecodeError::Unknown {
                what: "journal kind",
                value: kind,
            });
        }
        let n = r.u16("count")?;
        let mut offsets = Vec::with_capacity(usize::from(n).min(r.buf.len() / 8));
        for _ in 0..n {
            offsets.push(r.u64("offset")?);
        }
        r.end("journal entry")?;
        Ok(JournalEntry::Finished(offsets))
    }
}

/// A cursor that checks every length against what is left before it reads or allocates.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { what });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn flag(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::Unknown { what, value }),
        }
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    fn str16(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let n = self.u16(what)?;
        let b = self.take(usize::from(n), what)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::NotUtf8 { what })
    }

    fn bytes32(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u32(what)?;
        let n = usize::try_from(n).map_err(|_| DecodeError::Truncated { what })?;
        self.take(n, what)
    }

    fn string32(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let b = self.bytes32(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::NotUtf8 { what })
    }

    fn end(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing { what })
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn response() -> impl Strategy<Value = Option<LastResponse>> {
        proptest::option::of(
            (
                any::<u16>(),
                "[$A-Z0-9]{0,8}",
                0u8..3,
                proptest::collection::vec(any::<u8>(), 0..64),
            )
                .prop_map(|(status, executed_version, e, payload)| LastResponse {
                    status,
                    executed_version,
                    function_error: match e {
                        0 => None,
                        1 => Some(FunctionError::Unhandled),
                        _ => Some(FunctionError::Handled),
                    },
                    payload: Bytes::from(payload),
                }),
        )
    }

    prop_compose! {
        fn event()(
            accepted_ms in any::<i64>(),
            due_ms in any::<i64>(),
            attempts in any::<u32>(),
            function in "[a-zA-Z0-9_-]{1,64}",
            qualifier in proptest::option::of("[a-zA-Z0-9$_-]{1,16}"),
            request_id in "[a-f0-9-]{0,36}",
            client_context in proptest::option::of(".{0,40}"),
            last_response in response(),
            payload in proptest::collection::vec(any::<u8>(), 0..256),
        ) -> EventRecord {
            EventRecord {
                accepted_ms, due_ms, attempts, function, qualifier, request_id,
                client_context, last_response, payload: Bytes::from(payload),
            }
        }
    }

    #[test]
    fn unknown_versions_are_refused() {
        assert_eq!(
            EventRecord::decode(&[2]),
            Err(DecodeError::Unknown {
                what: "event record version",
                value: 2
            })
        );
        assert!(JournalEntry::decode(&[1, 9, 0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn event_records_round_trip(e in event()) {
            prop_assert_eq!(EventRecord::decode(&e.encode()), Ok(e));
        }

        #[test]
        fn journal_entries_round_trip(offsets in proptest::collection::vec(any::<u64>(), 0..100)) {
            let j = JournalEntry::Finished(offsets);
            prop_assert_eq!(JournalEntry::decode(&j.encode()), Ok(j));
        }

        #[test]
        fn truncated_records_are_errors_not_panics(e in event(), cut in 0usize..400) {
            let bytes = e.encode();
            if cut < bytes.len() {
                prop_assert!(EventRecord::decode(&bytes[..cut]).is_err());
            }
        }

        #[test]
        fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = EventRecord::decode(&bytes);
            let _ = JournalEntry::decode(&bytes);
        }
    }
}
