// SPDX-License-Identifier: Apache-2.0
//! One log group in memory: its record, its log, its streams with their statistics and
//! sparse indexes, its metric filters, and how all of that follows the log.
//!
//! Invariants:
//! * `applied` is a log offset; the statistics and indexes reflect exactly the records below
//!   it, applied once each and in offset order. An append applies its own batch after it is
//!   durable; if batches completed out of order (group commit wakes appenders in any order),
//!   the appender that finds a gap reads the missing records back from the log first, and the
//!   late appender finds its batch already applied. A dropped request future leaves at most a
//!   gap that the next append (or reader, or checkpoint) fills from the log.
//! * A record counts for a stream only if the stream of its partition key has the id the
//!   record carries; a deleted stream's records are skipped by everyone.
//! * `max_ahead_ms` and `max_behind_ms` bound `timestamp - ingestion` of every event ever
//!   applied (they only grow), so readers can turn time ranges into log offset ranges.
//! * Lock order: the service's group map, then `record`, then `data`. No lock is held across
//!   an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use freshet_log::{Log, StoredRecord};

use crate::codec;
use crate::index::SparseIndex;
use crate::store::{CheckpointRecord, GroupRecord, MetricFilterRecord, StatsRecord, StreamRecord};

/// Records read per call while catching up.
const CATCH_UP_RECORDS: usize = 4096;
/// Bytes read per call while catching up.
const CATCH_UP_BYTES: usize = 8 * 1024 * 1024;

/// A stream's live state.
#[derive(Debug, Clone)]
pub struct StreamState {
    /// Incarnation id.
    pub id: u64,
    /// Creation time.
    pub created_ms: i64,
    /// Statistics as of the group's `applied` offset.
    pub stats: StatsRecord,
    /// Where its events are.
    pub index: SparseIndex,
    /// Changed since the last checkpoint.
    pub dirty: bool,
}

/// The mutable part of a group.
#[derive(Debug, Default)]
pub struct GroupData {
    /// Streams by name.
    pub streams: BTreeMap<String, StreamState>,
    /// Records below this offset are applied.
    pub applied: u64,
    /// See the module doc.
    pub max_ahead_ms: i64,
    /// See the module doc.
    pub max_behind_ms: i64,
    /// The checkpoint last written (`None`: never).
    pub checkpointed: Option<CheckpointRecord>,
    /// Metric filters by name.
    pub filters: BTreeMap<String, MetricFilterRecord>,
}

/// What a reader needs of a group's state, copied out under the lock.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Records below this are in the indexes.
    pub applied: u64,
    /// See the module doc.
    pub max_ahead_ms: i64,
    /// See the module doc.
    pub max_behind_ms: i64,
}

/// A checkpoint to write: the group's and its changed streams'.
#[derive(Debug, Clone)]
pub struct CheckpointWrite {
    /// The group's checkpoint.
    pub checkpoint: CheckpointRecord,
    /// Changed streams' statistics by stream id.
    pub stats: Vec<(u64, StatsRecord)>,
}

/// A log group.
#[derive(Debug)]
pub struct Group {
    /// Incarnation id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Its events.
    pub log: Arc<dyn Log>,
    record: RwLock<GroupRecord>,
    data: Mutex<GroupData>,
    deleted: AtomicBool,
    /// Its AWS/Logs handles and parsed metric filters, built on first use.
    pub(crate) metrics: std::sync::OnceLock<crate::metrics::GroupMetrics>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Group {
    /// A group over its log, with the streams, checkpoint and filters the metadata store holds.
    pub fn new(
        record: GroupRecord,
        log: Arc<dyn Log>,
        streams: Vec<(StreamRecord, StatsRecord)>,
        checkpoint: Option<CheckpointRecord>,
        filters: Vec<MetricFilterRecord>,
    ) -> Group {
        let start = log.start_offset();
        let next = log.next_offset();
        let cp = checkpoint.unwrap_or_default();
        if cp.applied > next {
            tracing::warn!(
                group = %record.name,
                checkpoint = cp.applied,
                log_end = next,
                "The log ends before the statistics checkpoint (acknowledged writes were lost in a non-fsync durability mode); statistics may count events that are gone."
            );
        }
        let applied = cp.applied.clamp(start, next);
        // Without a checkpoint, `applied` is the log start and the replay reads every record,
        // so the bounds start from nothing and end exact.
        let (max_ahead_ms, max_behind_ms) = if checkpoint.is_some() {
            (cp.max_ahead_ms, cp.max_behind_ms)
        } else {
            (0, 0)
        };
        let streams = streams
            .into_iter()
            .map(|(s, stats)| {
                let index = match (stats.first_event_ms, stats.last_event_ms) {
                    (Some(lo), Some(hi)) if applied > start => {
                        SparseIndex::unknown(start, applied - 1, lo, hi)
                    }
                    _ => SparseIndex::default(),
                };
                let state = StreamState {
                    id: s.id,
                    created_ms: s.created_ms,
                    stats,
                    index,
                    dirty: false,
                };
                (s.name, state)
            })
            .collect();
        let data = GroupData {
            streams,
            applied,
            max_ahead_ms,
            max_behind_ms,
            checkpointed: checkpoint,
            filters: filters.into_iter().map(|f| (f.name.clone(), f)).collect(),
        };
        Group {
            id: record.id,
            name: record.name.clone(),
            log,
            record: RwLock::new(record),
            data: Mutex::new(data),
            deleted: AtomicBool::new(false),
            metrics: std::sync::OnceLock::new(),
        }
    }

    /// The group's record.
    pub fn record(&self) -> RwLockReadGuard<'_, GroupRecord> {
        self.record.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The group's record, to change (after the change is durable).
    pub fn record_mut(&self) -> RwLockWriteGuard<'_, GroupRecord> {
        self.record.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The mutable state.
    pub fn data(&self) -> MutexGuard<'_, GroupData> {
        lock(&self.data)
    }

    /// Marks the group deleted; appends and reads through old handles then fail as not found.
    pub fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::SeqCst);
    }

    /// Whether DeleteLogGroup ran.
    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::SeqCst)
    }

    /// The retention in days, if set.
    pub fn retention_days(&self) -> Option<u32> {
        self.record().retention_days
    }

    /// The id of the stream `name`, if it exists.
    pub fn stream_id(&self, name: &str) -> Option<u64> {
        self.data().streams.get(name).map(|s| s.id)
    }

    /// Reader bounds, after catching up with what the log holds (so indexes are current).
    pub fn bounds(&self) -> Bounds {
        let mut data = self.data();
        let end = self.log.next_offset();
        if data.applied < end {
            self.catch_up(&mut data, end);
        }
        Bounds {
            applied: data.applied,
            max_ahead_ms: data.max_ahead_ms,
            max_behind_ms: data.max_behind_ms,
        }
    }

    /// Applies a batch this process appended at `first_offset`: one stream's events, as
    /// (timestamp, message bytes), ingested at `arrival_ms`.
    pub fn apply_batch(
        &self,
        first_offset: u64,
        arrival_ms: i64,
        stream: &str,
        stream_id: u64,
        events: &[(i64, usize)],
    ) {
        let mut data = self.data();
        let end = first_offset.saturating_add(events.len() as u64);
        if end <= data.applied {
            return;
        }
        if first_offset > data.applied {
            self.catch_up(&mut data, first_offset);
        }
        if data.applied != first_offset {
            // The catch-up could not read the gap, or an overlap (impossible: batches apply
            // whole): fall back to the log for the rest.
            self.catch_up(&mut data, end);
            return;
        }
        for (i, &(ts, bytes)) in events.iter().enumerate() {
            apply_event(
                &mut data,
                first_offset + i as u64,
                arrival_ms,
                stream,
                stream_id,
                ts,
                bytes,
            );
        }
        data.applied = end;
    }

    /// Reads records `[applied, to)` back from the log and applies them.
    fn catch_up(&self, data: &mut GroupData, to: u64) {
        data.applied = data.applied.max(self.log.start_offset());
        while data.applied < to {
            let batch = match self.log.read(
                data.applied,
                CATCH_UP_RECORDS,
                CATCH_UP_BYTES,
                i64::MIN,
            ) {
                Ok(b) => b,
                Err(error) => {
                    tracing::error!(group = %self.name, %error, "Cannot read the log back to update statistics.");
                    return;
                }
            };
            if batch.records.is_empty() {
                return;
            }
            for r in &batch.records {
                if r.offset >= to {
                    return;
                }
                apply_record(data, r);
                data.applied = r.offset + 1;
            }
        }
    }

    /// Brings statistics and indexes up to the end of the log (recovery).
    pub fn replay(&self) -> u64 {
        let mut data = self.data();
        let before = data.applied;
        let end = self.log.next_offset();
        self.catch_up(&mut data, end);
        if data.checkpointed.is_none() {
            // The whole log was replayed: the bounds are now exact.
            tracing::debug!(group = %self.name, "Replayed the whole group log.");
        }
        data.applied - before
    }

    /// The checkpoint to write, if anything changed since the last one; clears the changed
    /// marks (call [`Group::checkpoint_failed`] if the write fails).
    pub fn take_checkpoint(&self) -> Option<CheckpointWrite> {
        let mut data = self.data();
        let checkpoint = CheckpointRecord {
            applied: data.applied,
            max_ahead_ms: data.max_ahead_ms,
            max_behind_ms: data.max_behind_ms,
        };
        if data.checkpointed == Some(checkpoint) {
            return None;
        }
        let stats = data
            .streams
            .values_mut()
            .filter(|s| s.dirty)
            .map(|s| {
                s.dirty = false;
                (s.id, s.stats)
            })
            .collect();
        Some(CheckpointWrite { checkpoint, stats })
    }

    /// Records that `w` is durable.
    pub fn checkpoint_written(&self, w: &CheckpointWrite) {
        self.data().checkpointed = Some(w.checkpoint);
    }

    /// Marks the streams of a failed checkpoint changed again.
    pub fn checkpoint_failed(&self, w: &CheckpointWrite) {
        let mut data = self.data();
        let ids: HashMap<u64, ()> = w.stats.iter().map(|(id, _)| (*id, ())).collect();
        for s in data.streams.values_mut() {
            if ids.contains_key(&s.id) {
                s.dirty = true;
            }
        }
    }

    /// Builds the stream indexes of `[start, upto)` by reading the log, and puts them in place
    /// of the conservative ones recovery left. Blocks (reads the log).
    pub fn build_index(&self, upto: u64) -> Result<(), freshet_log::LogError> {
        let ids: HashMap<u64, String> = self
            .data()
            .streams
            .iter()
            .map(|(name, s)| (s.id, name.clone()))
            .collect();
        let mut built: HashMap<u64, SparseIndex> = HashMap::new();
        let mut pos = self.log.start_offset();
        while pos < upto {
            let batch = self
                .log
                .read(pos, CATCH_UP_RECORDS, CATCH_UP_BYTES, i64::MIN)?;
            if batch.records.is_empty() {
                break;
            }
            for r in &batch.records {
                if r.offset >= upto {
                    break;
                }
                if let Ok((id, ts)) = codec::peek(&r.data)
                    && ids.get(&id).is_some_and(|n| *n == r.partition_key)
                {
                    built.entry(id).or_default().push(r.offset, ts);
                }
            }
            pos = batch.next_offset;
        }
        let mut data = self.data();
        for s in data.streams.values_mut() {
            let index = built.remove(&s.id).unwrap_or_default();
            s.index.replace_below(upto, index);
        }
        Ok(())
    }

    /// Forgets index chunks below the log's first stored offset (after retention).
    pub fn prune_indexes(&self) {
        let start = self.log.start_offset();
        let mut data = self.data();
        for s in data.streams.values_mut() {
            s.index.prune_below(start);
        }
    }
}

fn apply_record(data: &mut GroupData, r: &StoredRecord) {
    match codec::decode(&r.data) {
        Ok(e) => apply_event(
            data,
            r.offset,
            r.arrival_ms,
            &r.partition_key,
            e.stream_id,
            e.timestamp_ms,
            e.message.len(),
        ),
        Err(error) => {
            tracing::warn!(offset = r.offset, %error, "Skipping a log record that is not an event.");
        }
    }
}

fn apply_event(
    data: &mut GroupData,
    offset: u64,
    arrival_ms: i64,
    stream: &str,
    stream_id: u64,
    ts: i64,
    bytes: usize,
) {
    // Kept for every event, live stream or not: the bounds must hold for whatever the log has.
    data.max_ahead_ms = data.max_ahead_ms.max(ts.saturating_sub(arrival_ms));
    data.max_behind_ms = data.max_behind_ms.max(arrival_ms.saturating_sub(ts));
    let Some(s) = data.streams.get_mut(stream) else {
        return;
    };
    if s.id != stream_id {
        return;
    }
    let st = &mut s.stats;
    st.events = st.events.saturating_add(1);
    st.bytes = st.bytes.saturating_add(bytes as u64);
    st.first_event_ms = Some(st.first_event_ms.map_or(ts, |v| v.min(ts)));
    st.last_event_ms = Some(st.last_event_ms.map_or(ts, |v| v.max(ts)));
    st.last_ingestion_ms = Some(
        st.last_ingestion_ms
            .map_or(arrival_ms, |v| v.max(arrival_ms)),
    );
    s.index.push(offset, ts);
    s.dirty = true;
}
