// SPDX-License-Identifier: Apache-2.0
//! Identifiers the data-plane responses carry once per record (sequence numbers, shard ids),
//! formatted on the stack with exactly the text of their `Display`.
//!
//! A 500-record PutRecords answer or a 10,000-record GetRecords page formatted these through
//! `to_string()`: the formatting machinery plus an allocation and a free per value. The
//! layouts are fixed-width decimal, so a digit loop into a small buffer does the same; the
//! tests compare every one with `Display` over the whole input range.

use freshet_types::{SequenceNumber, ShardId};
use serde::{Serialize, Serializer};

/// The longest sequence number text: a marker, a 20-digit incarnation (it is meant to fit in
/// ten, but `Display` would print all of a larger one), 10 + 20 digits, 15 zeros.
const SEQUENCE_TEXT_MAX: usize = 1 + 20 + 10 + 20 + 15;
/// `shardId-` and twelve digits (a u32 has at most ten).
const SHARD_ID_TEXT_LEN: usize = 8 + 12;

/// ASCII text of at most `N` bytes, built on the stack; serializes as a string.
pub(crate) struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

/// A sequence number's text (`SequenceNumber`'s `Display`).
pub(crate) type SequenceText = StackText<SEQUENCE_TEXT_MAX>;
/// A shard id's text (`ShardId`'s `Display`).
pub(crate) type ShardIdText = StackText<SHARD_ID_TEXT_LEN>;

impl<const N: usize> StackText<N> {
    fn empty() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    fn push(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    /// Appends `n` zero-padded to at least `width` digits, as `{:0width$}` does.
    fn push_padded(&mut self, mut n: u64, width: usize) {
        let digits = n.checked_ilog10().map_or(1, |l| l as usize + 1).max(width);
        let end = self.len + digits;
        for slot in self.buf[self.len..end].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len = end;
    }

    /// The text's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed, so this never falls back.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl<const N: usize> Serialize for StackText<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `4`, incarnation (10), shard (10), offset (20), fifteen zeros: see `freshet_types::seqno`.
pub(crate) fn sequence_text(s: SequenceNumber) -> SequenceText {
    let mut t = SequenceText::empty();
    t.push(b"4");
    t.push_padded(s.incarnation, 10);
    t.push_padded(u64::from(s.shard), 10);
    t.push_padded(s.offset, 20);
    t.push(b"000000000000000");
    t
}

/// `shardId-` and the index in twelve digits.
pub(crate) fn shard_id_text(id: ShardId) -> ShardIdText {
    let mut t = ShardIdText::empty();
    t.push(b"shardId-");
    t.push_padded(u64::from(id.0), 12);
    t
}

#[cfg(test)]
mod tests {
    use freshet_types::seqno::MAX_INCARNATION;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sequence_text_is_what_display_writes(
            incarnation in prop_oneof![0..=MAX_INCARNATION, any::<u64>()],
            shard: u32,
            offset: u64,
        ) {
            let s = SequenceNumber { incarnation, shard, offset };
            let text = sequence_text(s);
            prop_assert_eq!(text.as_str(), s.to_string());
        }

        #[test]
        fn shard_id_text_is_what_display_writes(id: u32) {
            let text = shard_id_text(ShardId(id));
            prop_assert_eq!(text.as_str(), ShardId(id).to_string());
        }
    }

    #[test]
    fn texts_at_the_edges_are_what_display_writes() {
        for s in [
            SequenceNumber::new(0, 0, 0),
            SequenceNumber::new(MAX_INCARNATION, u32::MAX, u64::MAX),
            SequenceNumber::new(1, 9, 10),
            SequenceNumber {
                incarnation: u64::MAX,
                shard: 0,
                offset: 0,
            },
        ] {
            assert_eq!(sequence_text(s).as_str(), s.to_string());
        }
        for id in [0, 1, 9, 10, 999_999_999, 1_000_000_000, u32::MAX] {
            assert_eq!(shard_id_text(ShardId(id)).as_str(), ShardId(id).to_string());
        }
    }
}
