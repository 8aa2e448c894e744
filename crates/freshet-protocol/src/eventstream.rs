// SPDX-License-Identifier: Apache-2.0
//! The AWS event-stream framing (`application/vnd.amazon.eventstream`) that carries
//! SubscribeToShard events.
//!
//! A message, all integers big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | total length (prelude + headers + payload + message CRC) |
//! | 4..8 | headers length |
//! | 8..12 | prelude CRC: CRC32 (IEEE) of bytes 0..8 |
//! | 12..12+h | headers: `name_len u8, name, type u8, value` each |
//! | ..total-4 | payload |
//! | total-4..total | message CRC: CRC32 (IEEE) of every preceding byte |
//!
//! Header value types: 0 true, 1 false, 2 i8, 3 i16, 4 i32, 5 i64, 6 bytes (u16 length),
//! 7 string (u16 length), 8 timestamp (i64 ms), 9 UUID (16 bytes). The encoder writes strings
//! only (all Kinesis needs); the decoder reads every type and never panics on any input.

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes before the headers: total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
/// The trailing message CRC.
const CRC_LEN: usize = 4;
/// Largest headers section botocore accepts.
pub const MAX_HEADERS_LEN: usize = 128 * 1024;
/// Largest payload botocore accepts.
pub const MAX_PAYLOAD_LEN: usize = 24 * 1024 * 1024;

/// A header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Type 0 / 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Short(i16),
    /// Type 4.
    Int(i32),
    /// Type 5.
    Long(i64),
    /// Type 6.
    Bytes(Bytes),
    /// Type 7.
    String(String),
    /// Type 8, ms since epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Headers in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    /// Payload.
    pub payload: Bytes,
}

impl Message {
    /// The value of a string header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Why bytes are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The prelude CRC does not match.
    #[error("prelude CRC mismatch")]
    PreludeCrc,
    /// The message CRC does not match.
    #[error("message CRC mismatch")]
    MessageCrc,
    /// The lengths in the prelude are inconsistent or too large.
    #[error("invalid lengths: total {total}, headers {headers}")]
    Lengths {
        /// Total length.
        total: u32,
        /// Headers length.
        headers: u32,
    },
    /// A header is truncated, has an unknown type or a name that is not UTF-8.
    #[error("malformed header: {0}")]
    Header(&'static str),
}

/// Encodes one message with string headers. A name longer than 255 bytes or a value longer
/// than 65,535 bytes is cut to fit the format (callers pass short constants).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut h = BytesMut::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(u8::MAX as usize)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        h.put_u8(name.len() as u8);
        h.put_slice(name);
        h.put_u8(7);
        h.put_u16(value.len() as u16);
        h.put_slice(value);
    }
    let total = PRELUDE_LEN + h.len() + payload.len() + CRC_LEN;
    let mut out = BytesMut::with_capacity(total);
    out.put_u32(total as u32);
    out.put_u32(h.len() as u32);
    let prelude_crc = crc32fast::hash(&out[..8]);
    out.put_u32(prelude_crc);
    out.put_slice(&h);
    out.put_slice(payload);
    let crc = crc32fast::hash(&out);
    out.put_u32(crc);
    out.freeze()
}

/// Decodes the message at the start of `buf`. `Ok(None)` when `buf` holds only part of a
/// message; otherwise the message and the number of bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, DecodeError> {
    if buf.len() < PRELUDE_LEN {
        return Ok(None);
    }
    let total = be_u32(&buf[0..4]);
    let headers_len = be_u32(&buf[4..8]);
    if crc32fast::hash(&buf[0..8]) != be_u32(&buf[8..12]) {
        return Err(DecodeError::PreludeCrc);
    }
    let bad = || DecodeError::Lengths {
        total,
        headers: headers_len,
    };
    let (t, hl) = (total as usize, headers_len as usize);
    if hl > MAX_HEADERS_LEN || t < PRELUDE_LEN + CRC_LEN + hl {
        return Err(bad());
    }
    if t - PRELUDE_LEN - CRC_LEN - hl > MAX_PAYLOAD_LEN {
        return Err(bad());
    }
    if buf.len() < t {
        return Ok(None);
    }
    if crc32fast::hash(&buf[..t - CRC_LEN]) != be_u32(&buf[t - CRC_LEN..t]) {
        return Err(DecodeError::MessageCrc);
    }
    let headers = decode_headers(&buf[PRELUDE_LEN..PRELUDE_LEN + hl])?;
    let payload = Bytes::copy_from_slice(&buf[PRELUDE_LEN + hl..t - CRC_LEN]);
    Ok(Some((Message { headers, payload }, t)))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn decode_headers(mut h: &[u8]) -> Result<Vec<(String, HeaderValue)>, DecodeError> {
    fn take<'a>(h: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
        if h.len() < n {
            return Err(DecodeError::Header("truncated"));
        }
        let (a, b) = h.split_at(n);
        *h = b;
        Ok(a)
    }
    fn array<const N: usize>(h: &mut &[u8]) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(take(h, N)?);
        Ok(a)
    }
    let mut out = Vec::new();
    while !h.is_empty() {
        let name_len = take(&mut h, 1)?[0] as usize;
        let name = std::str::from_utf8(take(&mut h, name_len)?)
            .map_err(|_| DecodeError::Header("name is not UTF-8"))?
            .to_owned();
        let value = match take(&mut h, 1)?[0] {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(array(&mut h)?)),
            3 => HeaderValue::Short(i16::from_be_bytes(array(&mut h)?)),
            4 => HeaderValue::Int(i32::from_be_bytes(array(&mut h)?)),
            5 => HeaderValue::Long(i64::from_be_bytes(array(&mut h)?)),
            6 => {
                let len = u16::from_be_bytes(array(&mut h)?) as usize;
                HeaderValue::Bytes(Bytes::copy_from_slice(take(&mut h, len)?))
            }
            7 => {
                let len = u16::from_be_bytes(array(&mut h)?) as usize;
                HeaderValue::String(
                    std::str::from_utf8(take(&mut h, len)?)
                        .map_err(|_| DecodeError::Header("string value is not UTF-8"))?
                        .to_owned(),
                )
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(array(&mut h)?)),
            9 => HeaderValue::Uuid(array(&mut h)?),
            _ => return Err(DecodeError::Header("unknown value type")),
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn encodes_the_documented_layout() {
        let m = encode(&[(":message-type", "event")], b"{}");
        // 12 prelude + (1 + 13 + 1 + 2 + 5) headers + 2 payload + 4 CRC.
        assert_eq!(m.len(), 12 + 22 + 2 + 4);
        assert_eq!(be_u32(&m[0..4]) as usize, m.len());
        assert_eq!(be_u32(&m[4..8]), 22);
        assert_eq!(be_u32(&m[8..12]), crc32fast::hash(&m[0..8]));
        let (msg, used) = decode(&m).expect("valid").expect("complete");
        assert_eq!(used, m.len());
        assert_eq!(msg.header(":message-type"), Some("event"));
        assert_eq!(&msg.payload[..], b"{}");
    }

    #[test]
    fn partial_messages_ask_for_more() {
        let m = encode(&[("a", "b")], b"payload");
        for cut in 0..m.len() {
            assert_eq!(decode(&m[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn corruption_is_detected() {
        let m = encode(&[("a", "b")], b"payload").to_vec();
        let mut bad = m.clone();
        bad[20] ^= 1;
        assert_eq!(decode(&bad), Err(DecodeError::MessageCrc));
        let mut bad = m;
        bad[1] ^= 1;
        assert_eq!(decode(&bad), Err(DecodeError::PreludeCrc));
    }

    proptest! {
        #[test]
        fn messages_round_trip(
            headers in proptest::collection::vec(("[a-z:-]{1,20}", "\\PC{0,40}"), 0..6),
            payload in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let hs: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let m = encode(&hs, &payload);
            let mut two = m.to_vec();
            two.extend_from_slice(&m);
            let (msg, used) = decode(&two).expect("valid").expect("complete");
            prop_assert_eq!(used, m.len());
            prop_assert_eq!(&msg.payload[..], &payload[..]);
            let expected: Vec<(String, HeaderValue)> = headers
                .iter()
                .map(|(n, v)| (n.clone(), HeaderValue::String(v.clone())))
                .collect();
            prop_assert_eq!(msg.headers, expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn arbitrary_headers_with_valid_crcs_never_panic(
            headers in proptest::collection::vec(any::<u8>(), 0..128),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            // Valid framing around garbage headers exercises the header parser itself.
            let total = PRELUDE_LEN + headers.len() + payload.len() + CRC_LEN;
            let mut m = BytesMut::new();
            m.put_u32(total as u32);
            m.put_u32(headers.len() as u32);
            let c = crc32fast::hash(&m[..8]);
            m.put_u32(c);
            m.put_slice(&headers);
            m.put_slice(&payload);
            let c = crc32fast::hash(&m);
            m.put_u32(c);
            let _ = decode(&m);
        }
    }
}
