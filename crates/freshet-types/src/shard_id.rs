// SPDX-License-Identifier: Apache-2.0
//! Shard ids: `shardId-` and a 12-digit zero-padded index.
//!
//! AWS parses ids loosely: the part after the first `-` (or the whole id when there is none)
//! must be all digits and is read as the index, so `shardId-5`, `shard-5` and `5` all name
//! `shardId-000000000005`. Ids that do not parse name no shard.

use std::fmt;

use crate::limits::MAX_SHARD_INDEX;

/// A shard's index within its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u32);

impl ShardId {
    /// Parses an id the way AWS does, or `None` when it names no shard.
    pub fn parse(raw: &str) -> Option<ShardId> {
        let digits = match raw.split_once('-') {
            Some((_, rest)) => rest,
            None => raw,
        };
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index: u64 = digits.parse().ok()?;
        if index > u64::from(MAX_SHARD_INDEX) {
            return None;
        }
        Some(ShardId(index as u32))
    }

    /// The shard's index.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Characters in a shard id's text: `shardId-` and twelve digits.
pub const SHARD_ID_TEXT_LEN: usize = 20;

impl ShardId {
    /// The id's ASCII text, `shardId-` and the index in twelve digits. Every answered put names
    /// its shard, so this fills a fixed buffer instead of going through `format!` padding.
    pub fn to_text(self) -> [u8; SHARD_ID_TEXT_LEN] {
        let mut b = *b"shardId-000000000000";
        crate::seqno::write_padded(&mut b[8..], u64::from(self.0));
        b
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_text();
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formats_with_twelve_digits() {
        assert_eq!(ShardId(0).to_string(), "shardId-000000000000");
        assert_eq!(ShardId(12).to_string(), "shardId-000000000012");
    }

    #[test]
    fn parses_loosely_like_aws() {
        assert_eq!(ShardId::parse("shardId-000000000005"), Some(ShardId(5)));
        assert_eq!(ShardId::parse("shard-5"), Some(ShardId(5)));
        assert_eq!(ShardId::parse("5"), Some(ShardId(5)));
        assert_eq!(ShardId::parse("-00005"), Some(ShardId(5)));
        assert_eq!(ShardId::parse("shardId-"), None);
        assert_eq!(ShardId::parse("shardId-abc"), None);
        assert_eq!(ShardId::parse("shardId-2147483648"), None);
        assert_eq!(
            ShardId::parse("shardId-2147483647"),
            Some(ShardId(2147483647))
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(i in 0u32..=MAX_SHARD_INDEX) {
            prop_assert_eq!(ShardId::parse(&ShardId(i).to_string()), Some(ShardId(i)));
        }

        #[test]
        fn display_is_twelve_zero_padded_digits(i in any::<u32>()) {
            prop_assert_eq!(ShardId(i).to_string(), format!("shardId-{i:012}"));
        }
    }
}
