// SPDX-License-Identifier: Apache-2.0
//! Identifiers the data-plane responses carry once per record (sequence numbers, shard ids),
//! kept as the fixed-width ASCII their types produce.
//!
//! A 500-record PutRecords answer or a 10,000-record GetRecords page formatted these through
//! `to_string()`: the formatting machinery plus an allocation and a free per value.
//! [`SequenceNumber::to_digits`] and [`ShardId::to_text`] fill stack buffers instead (their
//! tests pin the text against the documented layouts).

use freshet_types::seqno::SEQUENCE_NUMBER_DIGITS;
use freshet_types::shard_id::SHARD_ID_TEXT_LEN;
use freshet_types::{SequenceNumber, ShardId};
use serde::{Serialize, Serializer};

/// Fixed-width ASCII text on the stack; serializes as a string.
pub(crate) struct Ascii<const N: usize>([u8; N]);

/// A sequence number's text.
pub(crate) type SequenceText = Ascii<SEQUENCE_NUMBER_DIGITS>;
/// A shard id's text.
pub(crate) type ShardIdText = Ascii<SHARD_ID_TEXT_LEN>;

impl<const N: usize> Ascii<N> {
    /// The text's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        // The producers write ASCII digits and letters only, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> Serialize for Ascii<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

pub(crate) fn sequence_text(s: SequenceNumber) -> SequenceText {
    Ascii(s.to_digits())
}

pub(crate) fn shard_id_text(id: ShardId) -> ShardIdText {
    Ascii(id.to_text())
}
