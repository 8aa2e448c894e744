// SPDX-License-Identifier: Apache-2.0
//! The buffer of one delivery stream (or one partition): positions, sizes and arrival
//! times, never record bytes. Records are durable in the log; at flush, delivery reads the
//! buffered range back.
//!
//! Invariants: the buffer is a contiguous offset range `[first, next)` of the log; `bytes`
//! is the sum of the sizes pushed; `oldest_ms` is the smallest arrival pushed. Pure: time is
//! passed in.

use std::ops::Range;

/// When a buffer is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// Flush once this many bytes are buffered (SizeInMBs).
    pub size_bytes: u64,
    /// Flush once the oldest record is this old (IntervalInSeconds, in ms; 0 = at once).
    pub interval_ms: i64,
}

/// A contiguous run of buffered records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buffer {
    range: Option<Range<u64>>,
    bytes: u64,
    oldest_ms: i64,
}

/// What a flush delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush {
    /// The offsets.
    pub range: Range<u64>,
    /// Their bytes.
    pub bytes: u64,
    /// Arrival of the oldest (names the object).
    pub oldest_ms: i64,
}

impl Buffer {
    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.range.is_none()
    }

    /// Buffered bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether adding a record of `size` bytes would pass the size hint (so the buffer
    /// should be flushed first). A record alone is never too big: it gets its own object.
    pub fn would_overflow(&self, size: u64, hints: Hints) -> bool {
        !self.is_empty() && self.bytes + size > hints.size_bytes
    }

    /// Adds the record at `offset` (the next after the buffered ones).
    pub fn push(&mut self, offset: u64, size: u64, arrival_ms: i64) {
        match &mut self.range {
            Some(r) => {
                r.end = offset + 1;
                self.oldest_ms = self.oldest_ms.min(arrival_ms);
            }
            None => {
                self.range = Some(offset..offset + 1);
                self.oldest_ms = arrival_ms;
            }
        }
        self.bytes += size;
    }

    /// Whether the buffer should be flushed at `now_ms`: full, or its oldest record is as
    /// old as the interval.
    pub fn due(&self, now_ms: i64, hints: Hints) -> bool {
        !self.is_empty()
            && (self.bytes >= hints.size_bytes || now_ms - self.oldest_ms >= hints.interval_ms)
    }

    /// When the buffer falls due by time (ms), if it holds anything.
    pub fn deadline(&self, hints: Hints) -> Option<i64> {
        (!self.is_empty()).then(|| self.oldest_ms.saturating_add(hints.interval_ms))
    }

    /// Empties the buffer, returning what it held.
    pub fn take(&mut self) -> Option<Flush> {
        let range = self.range.take()?;
        let f = Flush {
            range,
            bytes: self.bytes,
            oldest_ms: self.oldest_ms,
        };
        self.bytes = 0;
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const H: Hints = Hints {
        size_bytes: 100,
        interval_ms: 1000,
    };

    #[test]
    fn a_buffer_is_due_by_size_or_by_the_age_of_its_oldest_record() {
        let mut b = Buffer::default();
        assert!(!b.due(10_000, H));
        b.push(5, 10, 1000);
        assert!(!b.due(1999, H));
        assert!(b.due(2000, H));
        b.push(6, 95, 1500);
        assert!(b.due(1001, H));
        assert_eq!(b.deadline(H), Some(2000));
    }

    #[test]
    fn a_record_that_would_pass_the_size_asks_for_a_flush_first() {
        let mut b = Buffer::default();
        assert!(!b.would_overflow(1000, H));
        b.push(0, 60, 0);
        assert!(b.would_overflow(41, H));
        assert!(!b.would_overflow(40, H));
    }

    proptest! {
        #[test]
        fn flushes_cover_every_pushed_offset_once(sizes in proptest::collection::vec(0u64..200, 0..200)) {
            let mut b = Buffer::default();
            let mut flushed: Vec<Range<u64>> = Vec::new();
            for (i, s) in sizes.iter().enumerate() {
                if b.would_overflow(*s, H) {
                    flushed.extend(b.take().map(|f| f.range));
                }
                b.push(i as u64, *s, i as i64);
            }
            flushed.extend(b.take().map(|f| f.range));
            let mut next = 0u64;
            for r in &flushed {
                prop_assert_eq!(r.start, next);
                prop_assert!(r.end > r.start);
                next = r.end;
            }
            prop_assert_eq!(next, sizes.len() as u64);
        }
    }
}
