// SPDX-License-Identifier: Apache-2.0
//! In-memory state of live streams: the metadata snapshot and the open shard logs.
//!
//! The metadata store is the source of truth; this is its cache plus the log handles. A stream
//! is reached through an `Arc<Stream>` so that the data path holds no map lock while it writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use freshet_log::{Log, LogName};
use freshet_types::{HashKeyRange, SequenceNumber, ShardId};

use crate::model::ChildShard;
use crate::record::{ShardRecord, StreamRecord, StreamStatus};

/// One shard and its log. Immutable: closing a shard installs a new `Shard` (sharing the log)
/// in a new [`ShardSet`].
#[derive(Debug)]
pub(crate) struct Shard {
    pub id: ShardId,
    pub range: HashKeyRange,
    pub parent: Option<ShardId>,
    pub adjacent_parent: Option<ShardId>,
    /// Once closed: one past the offset of its last record. The log takes no more appends.
    pub end_offset: Option<u64>,
    pub log: Arc<dyn Log>,
    /// Writes since the on-demand scaler last looked.
    pub written: WriteCounter,
}

impl Shard {
    /// The in-memory shard of a metadata record.
    pub fn from_record(s: &ShardRecord, log: Arc<dyn Log>) -> Shard {
        Shard {
            id: ShardId(s.index),
            range: range_of(s),
            parent: s.parent.map(ShardId),
            adjacent_parent: s.adjacent_parent.map(ShardId),
            end_offset: s.closed_ms.map(|_| s.ending_offset.unwrap_or(0)),
            log,
            written: WriteCounter::default(),
        }
    }
}

/// Bytes and records written to a shard since the last [`WriteCounter::take`]. Two relaxed
/// atomic adds per put batch: cheap enough for the hot path.
#[derive(Debug, Default)]
pub(crate) struct WriteCounter {
    bytes: AtomicU64,
    records: AtomicU64,
}

impl WriteCounter {
    pub fn add(&self, bytes: u64, records: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
    }

    /// The counts so far, resetting them: `(bytes, records)`.
    pub fn take(&self) -> (u64, u64) {
        (
            self.bytes.swap(0, Ordering::Relaxed),
            self.records.swap(0, Ordering::Relaxed),
        )
    }
}

/// The shards of a stream: all of them by index, and the open ones ordered by hash key.
#[derive(Debug, Default)]
pub(crate) struct ShardSet {
    /// Every shard, position = index; `None` once a closed shard expired.
    pub all: Vec<Option<Arc<Shard>>>,
    /// The open shards, sorted by `range.start`.
    pub open_by_hash: Vec<Arc<Shard>>,
}

impl ShardSet {
    /// A set of these shards (position = index).
    pub fn new(all: Vec<Option<Arc<Shard>>>) -> ShardSet {
        let mut open_by_hash: Vec<Arc<Shard>> = all
            .iter()
            .flatten()
            .filter(|s| s.end_offset.is_none())
            .cloned()
            .collect();
        open_by_hash.sort_by_key(|s| s.range.start);
        ShardSet { all, open_by_hash }
    }

    /// The open shard that owns `hash`. Open shards tile the key space, so one always does.
    pub fn route(&self, hash: u128) -> &Arc<Shard> {
        let pos = self.open_by_hash.partition_point(|s| s.range.start <= hash);
        // partition_point returns the first shard starting after `hash`; the owner precedes it.
        &self.open_by_hash[pos.saturating_sub(1)]
    }

    /// The shard with this id, if it exists and has not expired.
    pub fn get(&self, id: ShardId) -> Option<&Arc<Shard>> {
        self.all.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// Every shard that has not expired, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Shard>> {
        self.all.iter().flatten()
    }

    /// The shards created by closing `id`, as GetRecords reports them at its end.
    pub fn children(&self, id: ShardId) -> Vec<ChildShard> {
        self.iter()
            .filter(|s| s.parent == Some(id) || s.adjacent_parent == Some(id))
            .map(|s| ChildShard {
                id: s.id,
                parents: s.parent.into_iter().chain(s.adjacent_parent).collect(),
                hash_range: s.range,
            })
            .collect()
    }
}

/// A live stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub name: String,
    pub incarnation: u64,
    pub arn: String,
    /// The prefix of its shard logs.
    pub logs: LogName,
    record: RwLock<StreamRecord>,
    shards: RwLock<Arc<ShardSet>>,
    /// Puts hold it shared from routing until their append resolves; a reshard holds it
    /// exclusively while it closes parents and installs children, so no put can land in a
    /// shard after its end offset was taken.
    pub gate: tokio::sync::RwLock<()>,
    /// Per-shard throughput quotas, used only when they are enabled.
    pub quotas: crate::quota::StreamQuotas,
    /// While a reshard's UPDATING lasts: the shard records before it, which DescribeStream
    /// shows until the stream is ACTIVE (AWS switches the described layout at the end).
    layout_before_update: std::sync::Mutex<Option<Vec<ShardRecord>>>,
    /// Its AWS/Kinesis metric handles.
    pub metrics: crate::metrics::StreamMetrics,
}

impl Stream {
    pub fn new(
        record: StreamRecord,
        arn: String,
        logs: LogName,
        shards: ShardSet,
        metrics: crate::metrics::StreamMetrics,
    ) -> Self {
        Self {
            name: record.name.clone(),
            incarnation: record.incarnation,
            arn,
            logs,
            record: RwLock::new(record),
            shards: RwLock::new(Arc::new(shards)),
            gate: tokio::sync::RwLock::new(()),
            quotas: Default::default(),
            layout_before_update: std::sync::Mutex::new(None),
            metrics,
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

    /// Sets (or clears) the layout DescribeStream shows while the stream is UPDATING.
    pub fn set_layout_before_update(&self, layout: Option<Vec<ShardRecord>>) {
        *self
            .layout_before_update
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = layout;
    }

    /// The layout before the reshard the stream is UPDATING for, if any.
    pub fn layout_before_update(&self) -> Option<Vec<ShardRecord>> {
        self.layout_before_update
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Installs a new shard set; readers holding the old one keep it.
    pub fn set_shards(&self, shards: ShardSet) {
        *self.shards.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(shards);
    }

    pub fn seq(&self, shard: ShardId, offset: u64) -> SequenceNumber {
        SequenceNumber::new(self.incarnation, shard.0, offset)
    }
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
