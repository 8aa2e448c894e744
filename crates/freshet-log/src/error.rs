//! Errors returned by the shard log.
//!
//! One enum, [`LogError`], covers every public operation of this crate: the log's operations
//! share one failure vocabulary (I/O, poisoning, corruption, closed, limits), so a per-operation
//! enum would only repeat it. [`Corruption`] says precisely why bytes on disk were rejected; it is
//! also what [`crate::inspect`] reports for a torn or corrupt tail.

use std::io;
use std::path::PathBuf;

/// Why bytes read from a segment or index file were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// The file does not start with the expected magic bytes.
    #[error("bad magic bytes")]
    BadMagic,
    /// The file's format version is not one this build can read.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u16),
    /// The file header's checksum does not match its contents.
    #[error("file header checksum mismatch")]
    BadHeaderCrc,
    /// The base offset in the header does not match the file name.
    #[error("base offset {found} in the header does not match {expected} from the file name")]
    BaseOffsetMismatch {
        /// Offset taken from the file name.
        expected: u64,
        /// Offset found in the header.
        found: u64,
    },
    /// The file or batch ends before a complete structure could be read (a torn write).
    #[error("truncated: needed {needed} bytes but only {available} remain")]
    Truncated {
        /// Bytes the structure needs.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// A batch length field is outside the allowed range.
    #[error("batch length {0} is out of bounds")]
    BadLength(u64),
    /// A batch's CRC32C does not match its contents.
    #[error("batch checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc {
        /// Checksum stored in the batch header.
        stored: u32,
        /// Checksum computed over the batch bytes.
        computed: u32,
    },
    /// A batch's base offset is not the one that must follow the previous batch.
    #[error("batch base offset {found} where {expected} was expected")]
    OffsetGap {
        /// The offset that must come next.
        expected: u64,
        /// The base offset found in the batch header.
        found: u64,
    },
    /// A batch's records do not add up to its header (count or lengths disagree).
    #[error("batch records are malformed: {0}")]
    BadRecords(&'static str),
    /// An unknown codec byte in a batch header.
    #[error("unknown batch codec {0}")]
    UnknownCodec(u8),
    /// An index file's entries are not sorted or point outside the segment.
    #[error("index entries are inconsistent: {0}")]
    BadIndex(&'static str),
}

/// An error from the shard log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// An I/O operation failed.
    #[error("I/O error while trying to {op} {path}: {source}")]
    Io {
        /// What was being done (`"open"`, `"write"`, `"fsync"`, ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The shard log refuses writes after a failed write or fsync.
    #[error(
        "shard log {dir} is read-only after a failed fsync/write; restart the server to recover"
    )]
    Poisoned {
        /// The shard directory.
        dir: PathBuf,
    },
    /// Stored bytes failed validation.
    #[error("corrupt data in {path} at byte {position}: {reason}")]
    Corrupt {
        /// The file holding the bad bytes.
        path: PathBuf,
        /// Byte position in that file where the bad structure starts.
        position: u64,
        /// What is wrong.
        reason: Corruption,
    },
    /// The shard log (or the whole store) was closed and accepts no more appends.
    #[error("shard log is closed")]
    Closed,
    /// An append would produce a batch larger than the format allows.
    #[error("batch of {bytes} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Encoded size of the batch.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// An append's records cannot be stored as given.
    #[error("invalid batch: {reason}")]
    InvalidBatch {
        /// What is wrong with the records.
        reason: &'static str,
    },
    /// A [`crate::LogName`] part is not a safe file name / object key.
    #[error(
        "invalid log name part {name:?}: use 1-200 ASCII letters, digits, '_', '.', '-' or '='"
    )]
    InvalidName {
        /// The refused part.
        name: String,
    },
    /// The [`crate::LogConfig`] is unusable.
    #[error("invalid log configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
}

impl LogError {
    /// Builds an [`LogError::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        LogError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`LogError::Corrupt`].
    pub(crate) fn corrupt(path: impl Into<PathBuf>, position: u64, reason: Corruption) -> Self {
        LogError::Corrupt {
            path: path.into(),
            position,
            reason,
        }
    }
}
