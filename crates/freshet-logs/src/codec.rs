// SPDX-License-Identifier: Apache-2.0
//! The encoding of one log event in its group's log record (the record's `data`; the record's
//! partition key is the log stream's name, its arrival time is the event's ingestion time).
//!
//! Version 1, all integers little-endian (also in `docs/FORMAT.md`):
//!
//! | bytes   | field     | notes                                                        |
//! |---------|-----------|--------------------------------------------------------------|
//! | 0       | version   | u8, [`EVENT_FORMAT_VERSION`]                                  |
//! | 1..9    | stream id | u64, the incarnation of the log stream that wrote the event   |
//! | 9..17   | timestamp | i64, the event's `timestamp` (ms since the epoch)            |
//! | 17..    | message   | the event's `message`, UTF-8                                  |
//!
//! The stream id is what keeps a deleted stream's events out of a stream re-created under
//! the same name: readers keep a record only if the stream of that name has that id. The
//! log's batch CRC already covers the bytes; a record that does not decode (a version this
//! build does not know) is skipped by readers.

use std::ops::Range;

use thiserror::Error;

/// The event format this build writes and reads.
pub const EVENT_FORMAT_VERSION: u8 = 1;

/// Byte ranges of the event header.
pub mod layout {
    use std::ops::Range;
    /// u8 format version.
    pub const VERSION: usize = 0;
    /// u64 stream id.
    pub const STREAM_ID: Range<usize> = 1..9;
    /// i64 timestamp in ms.
    pub const TIMESTAMP: Range<usize> = 9..17;
    /// Header length; the message follows.
    pub const LEN: usize = 17;
}

/// An event decoded from a record, borrowing the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedEvent<'a> {
    /// Id of the stream incarnation that wrote it.
    pub stream_id: u64,
    /// The event's timestamp.
    pub timestamp_ms: i64,
    /// The message.
    pub message: &'a str,
}

/// Why a record is not an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Shorter than the header.
    #[error("event record of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// A version this build does not read.
    #[error("unknown event format version {0}")]
    Version(u8),
    /// The message is not UTF-8.
    #[error("event message is not UTF-8")]
    NotUtf8,
}

/// Encodes an event into `out` (cleared first).
pub fn encode_into(stream_id: u64, timestamp_ms: i64, message: &str, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(layout::LEN + message.len());
    out.push(EVENT_FORMAT_VERSION);
    out.extend_from_slice(&stream_id.to_le_bytes());
    out.extend_from_slice(&timestamp_ms.to_le_bytes());
    out.extend_from_slice(message.as_bytes());
}

/// Encodes an event.
pub fn encode(stream_id: u64, timestamp_ms: i64, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(stream_id, timestamp_ms, message, &mut out);
    out
}

fn array<const N: usize>(data: &[u8], range: Range<usize>) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(src) = data.get(range) {
        a.copy_from_slice(src);
    }
    a
}

/// Reads the stream id and timestamp without looking at the message.
pub fn peek(data: &[u8]) -> Result<(u64, i64), CodecError> {
    if data.len() < layout::LEN {
        return Err(CodecError::Truncated(data.len()));
    }
    let version = data[layout::VERSION];
    if version != EVENT_FORMAT_VERSION {
        return Err(CodecError::Version(version));
    }
    Ok((
        u64::from_le_bytes(array(data, layout::STREAM_ID)),
        i64::from_le_bytes(array(data, layout::TIMESTAMP)),
    ))
}

/// Decodes a record's data.
pub fn decode(data: &[u8]) -> Result<DecodedEvent<'_>, CodecError> {
    let (stream_id, timestamp_ms) = peek(data)?;
    let message = std::str::from_utf8(&data[layout::LEN..]).map_err(|_| CodecError::NotUtf8)?;
    Ok(DecodedEvent {
        stream_id,
        timestamp_ms,
        message,
    })
}

/// Bytes an event of this message takes in a record's data.
pub fn encoded_len(message: &str) -> usize {
    layout::LEN + message.len()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_layout_is_pinned() {
        let bytes = encode(0x0102, -1, "hi");
        assert_eq!(
            bytes,
            [
                1, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                b'h', b'i'
            ]
        );
        assert_eq!(encoded_len("hi"), bytes.len());
    }

    #[test]
    fn short_unknown_and_non_utf8_records_are_refused() {
        assert_eq!(decode(&[1, 2, 3]), Err(CodecError::Truncated(3)));
        let mut v2 = encode(1, 2, "x");
        v2[0] = 2;
        assert_eq!(decode(&v2), Err(CodecError::Version(2)));
        let mut bad = encode(1, 2, "");
        bad.push(0xff);
        assert_eq!(decode(&bad), Err(CodecError::NotUtf8));
    }

    proptest! {
        #[test]
        fn events_round_trip(id in any::<u64>(), ts in any::<i64>(), msg in "\\PC{0,200}") {
            let bytes = encode(id, ts, &msg);
            let e = decode(&bytes).unwrap();
            prop_assert_eq!(e.stream_id, id);
            prop_assert_eq!(e.timestamp_ms, ts);
            prop_assert_eq!(e.message, msg.as_str());
            prop_assert_eq!(peek(&bytes).unwrap(), (id, ts));
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }
}
