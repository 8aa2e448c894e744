// SPDX-License-Identifier: Apache-2.0
//! Opaque, tamper-evident tokens: shard iterators and pagination NextTokens.
//!
//! A token is `base64(kind u8 | payload | HMAC-SHA256(key, kind | payload)[..16])`. The key is
//! 32 random bytes created with the data directory and kept in the metadata store, so tokens
//! survive restarts, and a client cannot forge one that reads another stream's data: any
//! change to the payload fails the MAC.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use freshet_types::{SequenceNumber, ShardId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAC_LEN: usize = 16;

/// What a token is for; part of the MAC so one kind cannot be replayed as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TokenKind {
    /// A shard iterator. Persisted: never renumber or reuse.
    ShardIterator = 1,
    /// A ListStreams NextToken. Persisted: never renumber or reuse.
    ListStreams = 2,
    /// A ListShards NextToken. Persisted: never renumber or reuse.
    ListShards = 3,
    /// A ListStreamConsumers NextToken. Persisted: never renumber or reuse.
    ListConsumers = 4,
}

/// Seals and opens tokens with one key.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from stored bytes; `None` unless exactly 32 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<TokenKey> {
        Some(TokenKey(b.try_into().ok()?))
    }

    fn mac(&self, kind: TokenKind, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(&[kind as u8]);
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// Seals `payload` into a token string.
    pub fn seal(&self, kind: TokenKind, payload: &[u8]) -> String {
        let mut raw = Vec::with_capacity(1 + payload.len() + MAC_LEN);
        raw.push(kind as u8);
        raw.extend_from_slice(payload);
        raw.extend_from_slice(&self.mac(kind, payload));
        STANDARD.encode(raw)
    }

    /// Opens a token of `kind`, returning its payload, or `None` if it is malformed, of another
    /// kind, or was not sealed with this key.
    pub fn open(&self, kind: TokenKind, token: &str) -> Option<Vec<u8>> {
        // AWS accepts an iterator wrapped in literal double quotes.
        let token = token
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(token);
        let raw = STANDARD.decode(token).ok()?;
        if raw.len() < 1 + MAC_LEN || raw[0] != kind as u8 {
            return None;
        }
        let (body, mac) = raw.split_at(raw.len() - MAC_LEN);
        let payload = &body[1..];
        let expected = self.mac(kind, payload);
        // Constant-time comparison.
        let diff = expected
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (diff == 0).then(|| payload.to_vec())
    }
}

/// A decoded shard iterator: where to read next, and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardIterator {
    /// Stream name.
    pub stream: String,
    /// Stream incarnation, so an iterator never reads a re-created stream of the same name.
    pub incarnation: u64,
    /// Shard.
    pub shard: ShardId,
    /// Next offset to read.
    pub offset: u64,
    /// Issue time, ms since epoch.
    pub issued_ms: i64,
    /// Distinguishes iterators issued for the same position in the same millisecond: clients
    /// expect every GetRecords to return a new iterator.
    pub nonce: u64,
}

impl ShardIterator {
    /// Seals the iterator.
    pub fn encode(&self, key: &TokenKey) -> String {
        let mut p = Vec::with_capacity(36 + self.stream.len());
        p.extend_from_slice(&self.issued_ms.to_le_bytes());
        p.extend_from_slice(&self.nonce.to_le_bytes());
        p.extend_from_slice(&self.incarnation.to_le_bytes());
        p.extend_from_slice(&self.shard.0.to_le_bytes());
        p.extend_from_slice(&self.offset.to_le_bytes());
        p.extend_from_slice(self.stream.as_bytes());
        key.seal(TokenKind::ShardIterator, &p)
    }

    /// Opens and decodes an iterator.
    pub fn decode(key: &TokenKey, token: &str) -> Option<ShardIterator> {
        let p = key.open(TokenKind::ShardIterator, token)?;
        if p.len() < 36 {
            return None;
        }
        let issued_ms = i64::from_le_bytes(p[0..8].try_into().ok()?);
        let nonce = u64::from_le_bytes(p[8..16].try_into().ok()?);
        let incarnation = u64::from_le_bytes(p[16..24].try_into().ok()?);
        let shard = ShardId(u32::from_le_bytes(p[24..28].try_into().ok()?));
        let offset = u64::from_le_bytes(p[28..36].try_into().ok()?);
        let stream = String::from_utf8(p[36..].to_vec()).ok()?;
        Some(ShardIterator {
            stream,
            incarnation,
            shard,
            offset,
            issued_ms,
            nonce,
        })
    }

    /// The sequence number of the record this iterator points at.
    pub fn position(&self) -> SequenceNumber {
        SequenceNumber::new(self.incarnation, self.shard.0, self.offset)
    }
}

/// Appends a length-prefixed string to a token payload.
pub(crate) fn put_str(p: &mut Vec<u8>, s: &str) {
    p.extend_from_slice(&(s.len() as u32).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

/// Reads what [`put_str`] wrote.
pub(crate) fn take_str<'a>(p: &mut &'a [u8]) -> Option<&'a str> {
    let len = u32::from_le_bytes(p.get(..4)?.try_into().ok()?) as usize;
    let s = std::str::from_utf8(p.get(4..4 + len)?).ok()?;
    *p = &p[4 + len..];
    Some(s)
}

/// Reads a little-endian i64 from a token payload.
pub(crate) fn take_i64(p: &mut &[u8]) -> Option<i64> {
    let v = i64::from_le_bytes(p.get(..8)?.try_into().ok()?);
    *p = &p[8..];
    Some(v)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(b: u8) -> TokenKey {
        TokenKey([b; 32])
    }

    proptest! {
        #[test]
        fn iterators_round_trip(stream in "[a-zA-Z0-9_.-]{1,128}", inc in 0u64..10_000_000_000,
                                shard in any::<u32>(), offset in any::<u64>(), issued in any::<i64>(), nonce in any::<u64>()) {
            let it = ShardIterator { stream, incarnation: inc, shard: ShardId(shard), offset, issued_ms: issued, nonce };
            let s = it.encode(&key(7));
            prop_assert!(s.len() <= 512);
            prop_assert_eq!(ShardIterator::decode(&key(7), &s), Some(it.clone()));
            prop_assert_eq!(ShardIterator::decode(&key(7), &format!("\"{s}\"")), Some(it));
            prop_assert_eq!(ShardIterator::decode(&key(8), &s), None);
        }

        #[test]
        fn any_bit_flip_is_rejected(offset in any::<u64>(), byte in 0usize..40, bit in 0u8..8) {
            let it = ShardIterator { stream: "s".into(), incarnation: 1, shard: ShardId(0), offset, issued_ms: 5, nonce: 9 };
            let mut raw = STANDARD.decode(it.encode(&key(1))).expect("base64");
            let i = byte % raw.len();
            raw[i] ^= 1 << bit;
            prop_assert_eq!(ShardIterator::decode(&key(1), &STANDARD.encode(raw)), None);
        }

        #[test]
        fn garbage_never_panics(s in "\\PC*") {
            let _ = ShardIterator::decode(&key(1), &s);
        }
    }

    #[test]
    fn kinds_do_not_mix() {
        let k = key(3);
        let t = k.seal(TokenKind::ListStreams, b"x");
        assert_eq!(k.open(TokenKind::ListShards, &t), None);
        assert_eq!(k.open(TokenKind::ListStreams, &t), Some(b"x".to_vec()));
    }
}
