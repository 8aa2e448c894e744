// SPDX-License-Identifier: Apache-2.0
//! Buffering hints: when a buffer is flushed.

/// When a buffer is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// Flush once this many bytes are buffered (SizeInMBs).
    pub size_bytes: u64,
    /// Flush once the oldest record is this old (IntervalInSeconds, in ms; 0 = at once).
    pub interval_ms: i64,
}
