//! Configuration of a [`crate::LogStore`]: durability mode and segment/index sizing.

use std::time::Duration;

use crate::error::LogError;
use crate::format::{MAX_BATCH_BYTES, MAX_SEGMENT_BYTES};

/// When an append is acknowledged relative to fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Acknowledge an append only after an fdatasync that covers it (shared by concurrent
    /// appends on every shard: group commit). Records become visible to readers only once durable.
    #[default]
    Fsync,
    /// Acknowledge after the write syscall; the syncer fsyncs dirty shards every interval.
    Interval(Duration),
    /// Acknowledge after the write syscall; fsync only on segment roll, close and shutdown.
    None,
}

/// Settings shared by every shard log of one [`crate::LogStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// Roll to a new segment when appending to the active one would push it past this size.
    pub segment_bytes: u64,
    /// Add a sparse index entry every time this many bytes were appended since the last one.
    pub index_interval_bytes: u32,
}

/// Default segment roll size: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Default sparse index interval: 16 KiB.
pub const DEFAULT_INDEX_INTERVAL_BYTES: u32 = 16 * 1024;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            durability: Durability::Fsync,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
        }
    }
}

impl LogConfig {
    /// Checks the limits the on-disk format imposes (positions in the index are u32).
    pub fn validate(&self) -> Result<(), LogError> {
        if self.segment_bytes == 0 {
            return Err(LogError::InvalidConfig {
                reason: "segment_bytes must be positive",
            });
        }
        if self.segment_bytes > MAX_SEGMENT_BYTES - MAX_BATCH_BYTES {
            return Err(LogError::InvalidConfig {
                reason: "segment_bytes must leave room for one maximal batch below 4 GiB",
            });
        }
        if self.index_interval_bytes == 0 {
            return Err(LogError::InvalidConfig {
                reason: "index_interval_bytes must be positive",
            });
        }
        if let Durability::Interval(d) = self.durability
            && d.is_zero()
        {
            return Err(LogError::InvalidConfig {
                reason: "the fsync interval must be positive",
            });
        }
        Ok(())
    }
}
