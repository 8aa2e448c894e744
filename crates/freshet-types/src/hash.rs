// SPDX-License-Identifier: Apache-2.0
//! The 128-bit hash-key space and how records and shards divide it.
//!
//! A record's hash key is MD5 of its partition key's UTF-8 bytes read as a big-endian unsigned
//! 128-bit integer, unless the producer gives an ExplicitHashKey. A new stream of N shards
//! splits the space the way AWS does: `h = floor(2^128 / N)`, shard i owns `[i*h, (i+1)*h - 1]`
//! and the last shard ends at `2^128 - 1`.

use md5::{Digest, Md5};

/// The largest hash key, `2^128 - 1`.
pub const HASH_KEY_MAX: u128 = u128::MAX;

/// An inclusive range of hash keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashKeyRange {
    /// First hash key in the range.
    pub start: u128,
    /// Last hash key in the range, inclusive.
    pub end: u128,
}

impl HashKeyRange {
    /// The whole key space.
    pub const FULL: HashKeyRange = HashKeyRange {
        start: 0,
        end: HASH_KEY_MAX,
    };

    /// Whether `key` falls in this range.
    pub fn contains(&self, key: u128) -> bool {
        self.start <= key && key <= self.end
    }
}

/// The hash key of a partition key.
pub fn partition_key_hash(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    u128::from_be_bytes(digest.into())
}

/// The ranges of a new stream of `shards` shards, in shard order. `shards` must be at least 1.
pub fn even_hash_ranges(shards: u32) -> Vec<HashKeyRange> {
    let n = u128::from(shards.max(1));
    if n == 1 {
        return vec![HashKeyRange::FULL];
    }
    // floor(2^128 / n) computed without 2^128: (2^128 - 1) / n is one short exactly when n
    // divides 2^128, i.e. when n is a power of two (and n >= 2, so this cannot overflow).
    let mut step = HASH_KEY_MAX / n;
    if n.is_power_of_two() {
        step += 1;
    }
    (0..n)
        .map(|i| {
            let start = i * step;
            let end = if i + 1 == n {
                HASH_KEY_MAX
            } else {
                (i + 1) * step - 1
            };
            HashKeyRange { start, end }
        })
        .collect()
}

/// Parses a decimal hash key (`0|[1-9]\d{0,38}`), returning `None` when it is not a number in
/// `[0, 2^128 - 1]`.
pub fn parse_hash_key(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u128>().ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn three_shards_split_as_aws_does() {
        let r = even_hash_ranges(3);
        assert_eq!(r[0].start, 0);
        assert_eq!(r[0].end, 113427455640312821154458202477256070484);
        assert_eq!(r[1].start, 113427455640312821154458202477256070485);
        assert_eq!(r[1].end, 226854911280625642308916404954512140969);
        assert_eq!(r[2].start, 226854911280625642308916404954512140970);
        assert_eq!(r[2].end, 340282366920938463463374607431768211455);
    }

    #[test]
    fn one_shard_owns_the_whole_space() {
        assert_eq!(even_hash_ranges(1), vec![HashKeyRange::FULL]);
    }

    #[test]
    fn powers_of_two_split_exactly() {
        let r = even_hash_ranges(4);
        assert_eq!(r[1].start, 1u128 << 126);
        assert_eq!(r[2].start, 2u128 << 126);
        assert_eq!(r[3].start, 3u128 << 126);
    }

    #[test]
    fn md5_of_partition_key_is_read_big_endian() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_key_hash("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn hash_key_parsing_rejects_out_of_range_and_junk() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("-1"), None);
        assert_eq!(parse_hash_key(""), None);
        assert_eq!(parse_hash_key("1e5"), None);
    }

    proptest! {
        #[test]
        fn even_ranges_tile_the_key_space(n in 1u32..5000) {
            let r = even_hash_ranges(n);
            prop_assert_eq!(r.len(), n as usize);
            prop_assert_eq!(r[0].start, 0);
            prop_assert_eq!(r[r.len() - 1].end, HASH_KEY_MAX);
            for w in r.windows(2) {
                prop_assert!(w[0].start <= w[0].end);
                prop_assert_eq!(w[0].end + 1, w[1].start);
            }
            // Every shard but the last has exactly floor(2^128 / n) keys. (With one shard there
            // is nothing to compare, and its 2^128 keys do not fit a u128.)
            if n > 1 {
                let step = r[0].end - r[0].start + 1;
                for x in &r[..r.len() - 1] {
                    prop_assert_eq!(x.end - x.start + 1, step);
                }
            }
        }

        #[test]
        fn every_key_lands_in_exactly_one_range(n in 1u32..64, key in any::<u128>()) {
            let r = even_hash_ranges(n);
            prop_assert_eq!(r.iter().filter(|x| x.contains(key)).count(), 1);
        }
    }
}
