// SPDX-License-Identifier: Apache-2.0
//! In-memory state of live streams: the metadata snapshot and the open shard logs.
//!
//! The metadata store is the source of truth; this is its cache plus the log handles. A stream
//! is reached through an `Arc<Stream>` so that the data path holds no map lock while it writes.

use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use freshet_log::ShardLog;
use freshet_meta::{ShardRecord, StreamRecord, StreamStatus};
use freshet_types::{HashKeyRange, SequenceNumber, ShardId};

/// One shard and its log.
#[derive(Debug)]
pub(crate) struct Shard {
    pub id: ShardId,
    pub range: HashKeyRange,
    pub log: Arc<ShardLog>,
}

/// The shards of a stream: all of them by index, and the open ones ordered by hash key.
#[derive(Debug, Default)]
pub(crate) struct ShardSet {
    /// Every shard, position = index.
    pub all: Vec<Arc<Shard>>,
    /// Indexes into `all` of open shards, sorted by `range.start`.
    pub open_by_hash: Vec<usize>,
}

impl ShardSet {
    /// The open shard that owns `hash`. Open shards tile the key space, so one always does.
    pub fn route(&self, hash: u128) -> &Arc<Shard> {
        let pos = self
            .open_by_hash
            .partition_point(|&i| self.all[i].range.start <= hash);
        // partition_point returns the first shard starting after `hash`; the owner precedes it.
        &self.all[self.open_by_hash[pos.saturating_sub(1)]]
    }

    /// The shard with this id, if any.
    pub fn get(&self, id: ShardId) -> Option<&Arc<Shard>> {
        self.all.get(id.0 as usize)
    }
}

/// A live stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub name: String,
    pub incarnation: u64,
    pub arn: String,
    pub dir: PathBuf,
    record: RwLock<StreamRecord>,
    shards: RwLock<Arc<ShardSet>>,
    /// Per-shard throughput quotas, used only when they are enabled.
    pub quotas: crate::quota::StreamQuotas,
}

impl Stream {
    pub fn new(record: StreamRecord, arn: String, dir: PathBuf, shards: ShardSet) -> Self {
        Self {
            name: record.name.clone(),
            incarnation: record.incarnation,
            arn,
            dir,
            record: RwLock::new(record),
            shards: RwLock::new(Arc::new(shards)),
            quotas: Default::default(),
        }
    }

    /// The metadata snapshot. Held only briefly; never across an await.
    pub fn record(&self) -> RwLockReadGuard<'_, StreamRecord> {
        self.record.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The metadata snapshot, for a change that is then persisted.
    pub fn record_mut(&self) -> RwLockWriteGuard<'_, StreamRecord> {
        self.record.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> StreamStatus {
        self.record().status
    }

    pub fn shards(&self) -> Arc<ShardSet> {
        self.shards
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn seq(&self, shard: ShardId, offset: u64) -> SequenceNumber {
        SequenceNumber::new(self.incarnation, shard.0, offset)
    }
}

/// The directory name of a shard.
pub(crate) fn shard_dir(stream_dir: &std::path::Path, id: ShardId) -> PathBuf {
    stream_dir.join(id.to_string())
}

/// The oldest arrival time still within a retention of `hours`, at `now_ms`.
pub(crate) fn retention_start(hours: u32, now_ms: i64) -> i64 {
    now_ms - i64::from(hours) * 3_600_000
}

/// The range of a shard record.
pub(crate) fn range_of(s: &ShardRecord) -> HashKeyRange {
    HashKeyRange {
        start: s.hash_start,
        end: s.hash_end,
    }
}
