// SPDX-License-Identifier: Apache-2.0
//! Sequence numbers: the 56-digit decimal strings Kinesis clients see.
//!
//! Internally a record is addressed by its shard's u64 offset. The string a client sees packs
//! everything needed to find the record again and to reject numbers from elsewhere, in fixed
//! widths so that string order, numeric order and offset order all agree:
//!
//! | digits | width | field |
//! |---|---|---|
//! | 0 | 1 | layout marker, always `4` (so the number has 56 significant digits) |
//! | 1..11 | 10 | stream incarnation: a random number chosen when the stream was created |
//! | 11..21 | 10 | shard index (0..=2147483647) |
//! | 21..41 | 20 | record offset within the shard (u64) |
//! | 41..56 | 15 | reserved, zero (room for sub-sequence numbers) |
//!
//! Within a shard, numbers increase strictly with the offset, which the log assigns one by
//! one, so they stay unique at any write rate. The incarnation makes a number from a deleted
//! and re-created stream of the same name recognisably foreign.

use std::fmt;

/// Digits in a sequence number.
pub const SEQUENCE_NUMBER_DIGITS: usize = 56;
/// Largest stream incarnation (ten decimal digits).
pub const MAX_INCARNATION: u64 = 9_999_999_999;

const MARKER: u8 = b'4';
const INCARNATION: std::ops::Range<usize> = 1..11;
const SHARD: std::ops::Range<usize> = 11..21;
const OFFSET: std::ops::Range<usize> = 21..41;
const RESERVED: std::ops::Range<usize> = 41..56;

/// A decoded sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceNumber {
    /// The incarnation of the stream that issued it.
    pub incarnation: u64,
    /// The index of the shard that holds the record.
    pub shard: u32,
    /// The record's offset in that shard's log.
    pub offset: u64,
}

impl SequenceNumber {
    /// A sequence number; `incarnation` must not exceed [`MAX_INCARNATION`].
    pub fn new(incarnation: u64, shard: u32, offset: u64) -> Self {
        debug_assert!(incarnation <= MAX_INCARNATION);
        Self {
            incarnation,
            shard,
            offset,
        }
    }

    /// Decodes a sequence number this server issued, or `None` when `s` is not one.
    pub fn parse(s: &str) -> Option<SequenceNumber> {
        let b = s.as_bytes();
        if b.len() != SEQUENCE_NUMBER_DIGITS || b[0] != MARKER {
            return None;
        }
        if !b.iter().all(u8::is_ascii_digit) || b[RESERVED].iter().any(|&d| d != b'0') {
            return None;
        }
        let incarnation = digits(&b[INCARNATION])?;
        let shard = u32::try_from(digits(&b[SHARD])?).ok()?;
        let offset = digits(&b[OFFSET])?;
        Some(SequenceNumber {
            incarnation,
            shard,
            offset,
        })
    }
}

fn digits(b: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &d in b {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

impl SequenceNumber {
    /// The 56 ASCII digits a client sees. Every answered put formats one, so this fills a
    /// fixed buffer instead of going through `format!`'s padding machinery.
    pub fn to_digits(&self) -> [u8; SEQUENCE_NUMBER_DIGITS] {
        let mut b = [b'0'; SEQUENCE_NUMBER_DIGITS];
        b[0] = MARKER;
        write_padded(&mut b[INCARNATION], self.incarnation);
        write_padded(&mut b[SHARD], u64::from(self.shard));
        write_padded(&mut b[OFFSET], self.offset);
        b
    }
}

/// Writes `v` in decimal into all of `out`, zero-padded on the left. `out` must be wide enough
/// for `v` (the callers' fields are: ten digits for an incarnation or a `u32`, twenty for a
/// `u64`, twelve for a shard index); wider values would lose their leading digits.
pub(crate) fn write_padded(out: &mut [u8], mut v: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    debug_assert_eq!(v, 0, "value wider than its field");
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.to_digits();
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

/// Whether `s` matches the model's pattern for sequence numbers, `0|([1-9]\d{0,128})`.
pub fn is_sequence_number_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [b'0'] => true,
        [first, rest @ ..] => {
            (b'1'..=b'9').contains(first)
                && rest.len() <= 128
                && rest.iter().all(u8::is_ascii_digit)
        }
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn encodes_56_digits() {
        let s = SequenceNumber::new(1234567890, 3, 42).to_string();
        assert_eq!(s.len(), 56);
        assert_eq!(
            s,
            "41234567890000000000300000000000000000042000000000000000"
        );
    }

    #[test]
    fn rejects_foreign_numbers() {
        assert_eq!(SequenceNumber::parse("0"), None);
        assert_eq!(
            SequenceNumber::parse("49546986683135544286507457936321625675700192471156785154"),
            None
        );
        // Reserved digits must be zero.
        assert_eq!(
            SequenceNumber::parse("41234567890000000000300000000000000000042000000000000001"),
            None
        );
        // Shard index beyond u32.
        assert_eq!(
            SequenceNumber::parse("41234567890999999999900000000000000000042000000000000000"),
            None
        );
        // Offset beyond u64.
        assert_eq!(
            SequenceNumber::parse("41234567890000000000399999999999999999999000000000000000"),
            None
        );
    }

    #[test]
    fn model_pattern() {
        assert!(is_sequence_number_pattern("0"));
        assert!(is_sequence_number_pattern("123"));
        assert!(!is_sequence_number_pattern("0123"));
        assert!(!is_sequence_number_pattern(""));
        assert!(!is_sequence_number_pattern("12a"));
    }

    fn seq() -> impl Strategy<Value = SequenceNumber> {
        (0..=MAX_INCARNATION, any::<u32>(), any::<u64>())
            .prop_map(|(i, s, o)| SequenceNumber::new(i, s, o))
    }

    proptest! {
        #[test]
        fn round_trips(s in seq()) {
            let text = s.to_string();
            prop_assert_eq!(text.len(), SEQUENCE_NUMBER_DIGITS);
            prop_assert!(is_sequence_number_pattern(&text));
            prop_assert_eq!(SequenceNumber::parse(&text), Some(s));
        }

        #[test]
        fn digits_are_the_documented_layout(s in seq()) {
            let expected = format!(
                "4{:010}{:010}{:020}000000000000000",
                s.incarnation, s.shard, s.offset
            );
            prop_assert_eq!(s.to_string(), expected);
        }

        #[test]
        fn string_order_is_numeric_and_structural_order(a in seq(), b in seq()) {
            let (sa, sb) = (a.to_string(), b.to_string());
            // Equal-length decimal strings compare like the numbers they spell.
            prop_assert_eq!(sa.cmp(&sb), a.cmp(&b));
        }

        #[test]
        fn offsets_order_numbers_within_a_shard(i in 0..=MAX_INCARNATION, s in any::<u32>(), o in 0u64..u64::MAX) {
            let a = SequenceNumber::new(i, s, o).to_string();
            let b = SequenceNumber::new(i, s, o + 1).to_string();
            prop_assert!(a < b);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = SequenceNumber::parse(&s);
        }
    }
}
