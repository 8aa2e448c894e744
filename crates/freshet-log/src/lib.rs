//! The durable per-shard append-only log behind Freshet streams.
//!
//! Services reach logs by name through a [`LogBackend`] (see [`backend`]): a Kinesis shard,
//! an SQS queue's messages, a CloudWatch Logs group are each one [`Log`]. The local backend
//! keeps every log in its own directory as a [`ShardLog`]; one [`LogStore`] per data directory
//! owns the group-commit syncer thread that all of them share. The crate never loses
//! an acknowledged record: in the default [`Durability::Fsync`] mode an append resolves only
//! after an fdatasync covering it, a failed write or fsync makes the shard read-only
//! ([`LogError::Poisoned`]), and recovery at open truncates a torn tail and rebuilds indexes.
//!
//! Modules:
//! * [`format`](mod@format): the byte layout of segment and index files (also in `docs/FORMAT.md`).
//! * `index`: the sparse offset/time index.
//! * `segment`: active and sealed segments, the batch cursor and the recovery scan.
//! * `recovery`: opening a shard directory.
//! * `shard`: [`ShardLog`]: append, read, time seek, retention, poisoning.
//! * `pending`: batches appended in `Fsync` mode that the next sync round writes.
//! * `syncer`: the group-commit thread.
//! * `lanes`: the long-lived helper threads that fsync a round's shards concurrently.
//! * `store`: [`LogStore`].
//! * [`backend`]: [`LogName`], the [`Log`] and [`LogBackend`] traits, [`LocalBackend`].
//! * [`inspect`]: read-only dumps for `freshet inspect`.

pub mod backend;
mod config;
mod crc;
mod error;
pub mod format;
mod fsutil;
mod index;
pub mod inspect;
mod lanes;
mod pending;
mod recovery;
mod segment;
mod shard;
mod store;
mod syncer;

pub use backend::{LocalBackend, Log, LogBackend, LogName};
pub use config::{DEFAULT_INDEX_INTERVAL_BYTES, DEFAULT_SEGMENT_BYTES, Durability, LogConfig};
pub use error::{Corruption, LogError};
pub use format::{MAX_BATCH_BYTES, RecordIn};
#[doc(hidden)]
pub use shard::InjectedFailure;
pub use shard::{Appended, LogStats, ReadBatch, ShardLog, StoredRecord};
pub use store::LogStore;
