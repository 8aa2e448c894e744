//! One shard's log: appends (offset assignment under a short mutex), visibility, reads by
//! positional I/O, time seeks, retention and poisoning.
//!
//! # Writes
//!
//! In `Interval` and `None` modes an append writes its batch itself (`pwrite`, under the writer
//! mutex): its records are visible at once, and readers read the file. In `Fsync` mode nothing
//! is visible or acknowledged before a sync round anyway, so an append only queues its batch on
//! the writer's [`PendingWrites`], which the next sync round takes together with its mark and
//! writes (one `pwritev` per segment file) before it fdatasyncs.
//!
//! # Locks (always taken in this order, never the other way)
//!
//! `sync` (held by whoever runs a sync round: the syncer thread, `close`, retention) →
//! `writer` (offset assignment + the write or the queuing of the batch, and the capture of a
//! sync mark with the pending writes) → `state` (RwLock: segment list, active index and the
//! visibility watermark; readers hold it only to locate a segment) → `waiters`.
//!
//! # Invariants
//!
//! * Offsets are dense and assigned under `writer`; batches are written in offset order.
//! * `state.visible_next` only grows, and every batch below it is completely written; in
//!   `Fsync` mode it is also fsynced. Readers never return a record at or above it, and never
//!   read a file past `state.visible_end`, so they never touch bytes a round has yet to write.
//! * The pending writes of a segment are written before that segment is fsynced or sealed on
//!   disk: a round writes everything it took before any of its fsyncs.
//! * After a failed write or fsync the shard is poisoned: no further append succeeds, the next
//!   round drops the writes still queued instead of writing them, and no pending waiter is told
//!   its data is durable (only a round already under way when a failed roll poisoned the shard
//!   still writes, fsyncs and acknowledges what it took, which is then durable).

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use crate::config::{Durability, LogConfig};
use crate::error::LogError;
use crate::format::{
    BatchHeader, EncodedBatch, IndexEntry, RecordIn, decode_batch, encode_records, index_file_name,
    segment_header,
};
use crate::fsutil::fsync_dir_io;
use crate::index::{TimeSeek, seek_offset, seek_time, write_index_file};
use crate::pending::PendingWrites;
use crate::recovery::Recovered;
use crate::segment::{ActiveSegment, BatchCursor, CursorError, SealedSegment, SegmentFile};
use crate::syncer::Syncer;

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Offset of the batch's first record; record `i` has `first_offset + i`.
    pub first_offset: u64,
    /// Arrival time stamped on every record of the batch (Unix ms).
    pub arrival_ms: i64,
}

/// A record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The record's offset in its shard.
    pub offset: u64,
    /// When the record's batch was appended (Unix ms).
    pub arrival_ms: i64,
    /// The partition key.
    pub partition_key: String,
    /// The payload.
    pub data: Bytes,
}

/// The result of [`ShardLog::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBatch {
    /// Records in offset order.
    pub records: Vec<StoredRecord>,
    /// Where the next read should start.
    pub next_offset: u64,
}

/// A snapshot of a shard log's size and bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStats {
    /// Segment files, the active one included.
    pub segments: usize,
    /// Bytes in segment files.
    pub bytes_on_disk: u64,
    /// First offset still on disk.
    pub start_offset: u64,
    /// One past the last visible record.
    pub next_offset: u64,
    /// Arrival of the newest visible record.
    pub last_arrival_ms: Option<i64>,
    /// Whether the shard is read-only after a failed write or fsync.
    pub poisoned: bool,
}

/// A failure to inject, for tests of poisoning.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFailure {
    /// The next write syscall fails.
    Write = 1,
    /// The next fsync fails.
    Fsync = 2,
}

/// The durable log of one shard. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct ShardLog {
    inner: Arc<ShardInner>,
}

/// A task waiting for its batch to become durable (Fsync mode).
#[derive(Debug)]
struct Waiter {
    /// One past the batch's last offset.
    end_offset: u64,
    /// `Err(())` means the shard was poisoned before the batch was known durable.
    tx: oneshot::Sender<Result<(), ()>>,
}

#[derive(Debug)]
struct Writer {
    active: ActiveSegment,
    /// Segments rolled away from but not yet fsynced and indexed on disk (syncer's job).
    pending_seals: Vec<Arc<SealedSegment>>,
    /// `Fsync` mode: batches assigned positions but not yet written (the sync round's job).
    /// Bounded by what was appended since the last round started (see [`PendingWrites`]).
    pending_writes: PendingWrites,
    closed: bool,
    /// Arrival of the newest appended record in the shard.
    last_arrival_ms: Option<i64>,
}

/// The reader-visible part of the active segment.
#[derive(Debug)]
struct ActiveView {
    base_offset: u64,
    file: Arc<SegmentFile>,
    index: Vec<IndexEntry>,
}

/// Where the visible (hence written) bytes end: below `pos` in the segment starting at
/// `base_offset`, all of every earlier segment, nothing of later ones. Ordered like positions
/// in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct VisibleEnd {
    base_offset: u64,
    pos: u64,
}

#[derive(Debug)]
struct State {
    sealed: Vec<Arc<SealedSegment>>,
    active: ActiveView,
    visible_next: u64,
    visible_last_arrival_ms: Option<i64>,
    visible_end: VisibleEnd,
}

impl State {
    fn start_offset(&self) -> u64 {
        self.sealed
            .first()
            .map_or(self.active.base_offset, |s| s.base_offset)
    }

    /// How far readers may read the segment starting at `base_offset`, whose batches end at
    /// `len`: in `Fsync` mode a segment rolled away from may still have batches that a sync
    /// round has not written, so the file can be shorter than `len`.
    fn readable_end(&self, base_offset: u64, len: u64) -> u64 {
        match base_offset.cmp(&self.visible_end.base_offset) {
            std::cmp::Ordering::Less => len,
            std::cmp::Ordering::Equal => self.visible_end.pos,
            std::cmp::Ordering::Greater => segment_header::LEN as u64,
        }
    }
}

/// What a sync round covers: everything written before it was captured.
#[derive(Debug, Clone, Copy)]
struct Mark {
    base_offset: u64,
    pos: u64,
    next_offset: u64,
    last_arrival_ms: Option<i64>,
}

/// The shared innards of a [`ShardLog`], also held by the syncer thread.
#[derive(Debug)]
pub(crate) struct ShardInner {
    dir: PathBuf,
    durability: Durability,
    segment_bytes: u64,
    index_interval: u32,
    syncer: Arc<Syncer>,
    /// Held while a sync round runs; holds the (segment base, position) last fsynced.
    sync: Mutex<(u64, u64)>,
    writer: Mutex<Writer>,
    state: RwLock<State>,
    waiters: Mutex<VecDeque<Waiter>>,
    /// Bytes appended but not yet written to their files (`Fsync` mode): added under `writer`,
    /// subtracted once a round has written them, so it never undercounts.
    unwritten_bytes: AtomicU64,
    poisoned: AtomicBool,
    closed: AtomicBool,
    /// True while the shard sits in the syncer's queue.
    pub(crate) enqueued: AtomicBool,
    inject: AtomicU8,
    /// Mirrors `state.visible_next`, so readers can wait for new records instead of polling.
    visible: watch::Sender<u64>,
}

/// Locks a mutex, ignoring poisoning: every critical section leaves its data consistent
/// before anything that could panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read_lock<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write_lock<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// A segment located for reading.
struct SegRef {
    file: Arc<SegmentFile>,
    start: u64,
    end: u64,
    next_offset: u64,
}

impl ShardLog {
    pub(crate) fn new(
        dir: PathBuf,
        config: &LogConfig,
        syncer: Arc<Syncer>,
        recovered: Recovered,
    ) -> ShardLog {
        let Recovered {
            sealed,
            active,
            active_index,
        } = recovered;
        let last_arrival_ms = active
            .last_arrival_ms
            .or_else(|| sealed.last().and_then(|s| s.last_arrival_ms));
        let state = State {
            sealed,
            active: ActiveView {
                base_offset: active.base_offset,
                file: active.file.clone(),
                index: active_index,
            },
            visible_next: active.next_offset,
            visible_last_arrival_ms: last_arrival_ms,
            visible_end: VisibleEnd {
                base_offset: active.base_offset,
                pos: active.pos,
            },
        };
        let synced = (active.base_offset, active.pos);
        let visible = watch::Sender::new(state.visible_next);
        let inner = ShardInner {
            dir,
            durability: config.durability,
            segment_bytes: config.segment_bytes,
            index_interval: config.index_interval_bytes,
            syncer,
            sync: Mutex::new(synced),
            writer: Mutex::new(Writer {
                active,
                pending_seals: Vec::new(),
                pending_writes: PendingWrites::default(),
                closed: false,
                last_arrival_ms,
            }),
            state: RwLock::new(state),
            waiters: Mutex::new(VecDeque::new()),
            unwritten_bytes: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            enqueued: AtomicBool::new(false),
            inject: AtomicU8::new(0),
            visible,
        };
        ShardLog {
            inner: Arc::new(inner),
        }
    }

    /// The shard's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Appends `records` (at least one) as one batch with consecutive offsets.
    ///
    /// `arrival_ms = max(now_ms, last arrival in this shard)`, so arrival times never go
    /// backwards in a shard. Resolves once the batch is durable per the durability mode:
    /// in `Fsync` mode after an fdatasync covering it (shared with concurrent appends on every
    /// shard, and written by that round too), otherwise after the write syscall. Never blocks
    /// the async runtime on an fsync.
    ///
    /// Once this future has been polled, dropping it does not take the records back: they
    /// still become visible.
    pub async fn append(
        &self,
        records: &[RecordIn<'_>],
        now_ms: i64,
    ) -> Result<Appended, LogError> {
        let inner = &self.inner;
        inner.check_writable()?;
        let batch = encode_records(records)?;
        let (appended, rx, rolled) = inner.write_batch(batch, now_ms)?;
        match inner.durability {
            Durability::Fsync => {
                inner.syncer.enqueue(&self.inner, true);
                match rx {
                    Some(rx) => match rx.await {
                        Ok(Ok(())) => Ok(appended),
                        Ok(Err(())) => Err(inner.poisoned_error()),
                        Err(_) => Err(LogError::Closed),
                    },
                    None => Err(LogError::Closed),
                }
            }
            Durability::Interval(_) => {
                inner.syncer.enqueue(&self.inner, rolled);
                Ok(appended)
            }
            Durability::None => {
                if rolled {
                    inner.syncer.enqueue(&self.inner, true);
                }
                Ok(appended)
            }
        }
    }

    /// Reads visible records with `offset >= from` (clamped up to [`ShardLog::start_offset`])
    /// and `arrival_ms >= not_before_ms`: at most `max_records`, stopping before the sum of
    /// data and partition key lengths would exceed `max_bytes`, but at least one record if any
    /// is available. Batch CRCs are verified.
    pub fn read(
        &self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
        not_before_ms: i64,
    ) -> Result<ReadBatch, LogError> {
        let (start, visible_next) = {
            let st = read_lock(&self.inner.state);
            (st.start_offset(), st.visible_next)
        };
        let from = from.max(start);
        let mut records: Vec<StoredRecord> = Vec::new();
        let mut bytes = 0usize;
        let mut cur = from;
        'segments: while cur < visible_next && records.len() < max_records {
            let Some(seg) = self.inner.locate(cur, not_before_ms) else {
                break;
            };
            let limit = seg.next_offset.min(visible_next);
            let path = &seg.file.path;
            let mut cursor = BatchCursor::new(&seg.file.file, seg.start, seg.end);
            while cur < limit {
                let (pos, raw) = match cursor.next_raw() {
                    Ok(Some(b)) => b,
                    Ok(None) => break,
                    Err(CursorError::Io(e)) => return Err(LogError::io("read", path, e)),
                    Err(CursorError::Corrupt { position, reason }) => {
                        return Err(LogError::corrupt(path, position, reason));
                    }
                };
                let peek = BatchHeader::decode(&raw);
                if peek.base_offset >= limit {
                    break;
                }
                if peek.next_offset() <= cur || peek.arrival_ms < not_before_ms {
                    cur = cur.max(peek.next_offset());
                    continue;
                }
                let (h, batch) = decode_batch(&raw).map_err(|r| LogError::corrupt(path, pos, r))?;
                for (i, r) in batch.into_iter().enumerate() {
                    let offset = h.base_offset + i as u64;
                    if offset < cur {
                        continue;
                    }
                    let size = r.partition_key.len() + r.data.len();
                    if records.len() >= max_records
                        || (!records.is_empty() && bytes.saturating_add(size) > max_bytes)
                    {
                        break 'segments;
                    }
                    bytes += size;
                    records.push(StoredRecord {
                        offset,
                        arrival_ms: h.arrival_ms,
                        partition_key: String::from_utf8_lossy(&r.partition_key).into_owned(),
                        data: r.data,
                    });
                }
                cur = cur.max(h.next_offset());
            }
            // Skips any gap after this segment; `locate` only returns segments ending past `cur`.
            cur = cur.max(limit);
        }
        let next_offset = records.last().map_or(from, |r| r.offset + 1);
        Ok(ReadBatch {
            records,
            next_offset,
        })
    }

    /// A receiver of [`ShardLog::next_offset`] that is told whenever new records become
    /// visible (in `Fsync` mode: durable), so a reader can wait for them without polling.
    pub fn watch_visible(&self) -> watch::Receiver<u64> {
        self.inner.visible.subscribe()
    }

    /// First offset still on disk.
    pub fn start_offset(&self) -> u64 {
        read_lock(&self.inner.state).start_offset()
    }

    /// One past the last visible record.
    pub fn next_offset(&self) -> u64 {
        read_lock(&self.inner.state).visible_next
    }

    /// Arrival of the newest visible record.
    pub fn last_arrival_ms(&self) -> Option<i64> {
        read_lock(&self.inner.state).visible_last_arrival_ms
    }

    /// First visible offset whose arrival is at or after `ts_ms`, or [`ShardLog::next_offset`]
    /// if there is none. Uses the sparse index, then scans at most one index interval.
    pub fn offset_at_time(&self, ts_ms: i64) -> u64 {
        self.inner.offset_at_time(ts_ms)
    }

    /// Deletes whole sealed segments whose newest record arrived before `cutoff_ms`, oldest
    /// first; the active segment is never deleted. Returns how many were deleted.
    pub fn delete_segments_before(&self, cutoff_ms: i64) -> Result<usize, LogError> {
        self.inner.delete_sealed("expired", |s| {
            s.last_arrival_ms.is_none_or(|a| a < cutoff_ms)
        })
    }

    /// Deletes whole sealed segments whose records all lie below `offset` (their owner no
    /// longer needs them: an SQS queue's deleted messages, a journal behind its checkpoint),
    /// oldest first; the active segment is never deleted. Returns how many were deleted.
    pub fn delete_segments_below(&self, offset: u64) -> Result<usize, LogError> {
        self.inner
            .delete_sealed("consumed", |s| s.next_offset <= offset)
    }

    /// True after a failed write or fsync: the shard is then read-only until restart.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::SeqCst)
    }

    /// True once [`ShardLog::close`] (or store shutdown) ran.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Sizes and bounds of the log.
    pub fn stats(&self) -> LogStats {
        // Writer before state: the lock order of this module.
        let w = lock(&self.inner.writer);
        // Read under `writer`, so it covers every byte `active.pos` counts and has not written.
        let unwritten = self.inner.unwritten_bytes.load(Ordering::SeqCst);
        let st = read_lock(&self.inner.state);
        let appended = st.sealed.iter().map(|s| s.file_len).sum::<u64>() + w.active.pos;
        LogStats {
            segments: st.sealed.len() + 1,
            bytes_on_disk: appended.saturating_sub(unwritten),
            start_offset: st.start_offset(),
            next_offset: st.visible_next,
            last_arrival_ms: st.visible_last_arrival_ms,
            poisoned: self.is_poisoned(),
        }
    }

    /// Stops accepting appends and writes and fsyncs everything appended (used when a reshard
    /// closes a shard, when a stream is deleted and at shutdown). Reads keep working. Idempotent.
    pub fn close(&self) -> Result<(), LogError> {
        lock(&self.inner.writer).closed = true;
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.sync_round()
    }

    /// Wakes the [`ShardLog::watch_visible`] watchers without new records, so that a reader
    /// waiting for records looks again (after a reshard closed the shard, say).
    pub fn wake_watchers(&self) {
        self.inner.visible.send_modify(|_| {});
    }

    /// Makes the next write (or fsync) of this shard fail, to test poisoning. `None` clears it.
    #[doc(hidden)]
    pub fn inject_failure_for_tests(&self, failure: Option<InjectedFailure>) {
        self.inner
            .inject
            .store(failure.map_or(0, |f| f as u8), Ordering::SeqCst);
    }

    /// The innards the syncer works on.
    pub(crate) fn inner(&self) -> &Arc<ShardInner> {
        &self.inner
    }
}

impl ShardInner {
    /// Whether everything written so far has been through a sync round, for unit tests.
    #[cfg(test)]
    pub(crate) fn is_synced(&self) -> bool {
        let synced = *lock(&self.sync);
        let w = lock(&self.writer);
        synced == (w.active.base_offset, w.active.pos)
    }

    fn poisoned_error(&self) -> LogError {
        LogError::Poisoned {
            dir: self.dir.clone(),
        }
    }

    fn check_writable(&self) -> Result<(), LogError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(LogError::Closed);
        }
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(self.poisoned_error());
        }
        Ok(())
    }

    fn injected(&self, what: InjectedFailure) -> io::Result<()> {
        if self
            .inject
            .compare_exchange(what as u8, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Err(io::Error::other(format!("injected {what:?} failure")));
        }
        Ok(())
    }

    fn poison(&self, what: InjectedFailure, e: &io::Error) {
        if !self.poisoned.swap(true, Ordering::SeqCst) {
            match what {
                InjectedFailure::Write => tracing::error!(
                    dir = %self.dir.display(),
                    error = %e,
                    "Write failed; shard is now read-only.",
                ),
                InjectedFailure::Fsync => tracing::error!(
                    dir = %self.dir.display(),
                    error = %e,
                    "Fsync failed; shard is now read-only.",
                ),
            }
        }
    }

    /// Assigns offsets and writes the batch (`Fsync` mode: queues it for the next sync round).
    /// Returns the waiter to await in Fsync mode and whether a segment was rolled.
    #[allow(clippy::type_complexity)]
    fn write_batch(
        &self,
        batch: EncodedBatch,
        now_ms: i64,
    ) -> Result<(Appended, Option<oneshot::Receiver<Result<(), ()>>>, bool), LogError> {
        let mut w = lock(&self.writer);
        if w.closed {
            return Err(LogError::Closed);
        }
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(self.poisoned_error());
        }
        let len = batch.len() as u64;
        let count = u64::from(batch.record_count());
        let a = &w.active;
        let has_data = a.pos > segment_header::LEN as u64;
        let too_many = a.next_offset - a.base_offset + count > u64::from(u32::MAX);
        let rolled = has_data && (a.pos + len > self.segment_bytes || too_many);
        if rolled {
            self.roll(&mut w)?;
        }
        let base = w.active.next_offset;
        let arrival = w.last_arrival_ms.map_or(now_ms, |last| last.max(now_ms));
        let pos = w.active.pos;
        let bytes = batch.into_finished(base, arrival);
        let visible_now = !matches!(self.durability, Durability::Fsync);
        if visible_now {
            let written = self
                .injected(InjectedFailure::Write)
                .and_then(|()| w.active.file.file.write_all_at(&bytes, pos));
            if let Err(e) = written {
                self.poison(InjectedFailure::Write, &e);
                return Err(LogError::io("write", &w.active.file.path, e));
            }
        } else {
            self.unwritten_bytes.fetch_add(len, Ordering::SeqCst);
            let Writer {
                active,
                pending_writes,
                ..
            } = &mut *w;
            pending_writes.push(&active.file, pos, bytes);
        }
        let end = pos + len;
        let next = base + count;
        let segment_base = w.active.base_offset;
        let active = &mut w.active;
        active.pos = end;
        active.next_offset = next;
        active.last_arrival_ms = Some(arrival);
        let entry = active
            .builder
            .observe(active.base_offset, base, pos, len, arrival);
        w.last_arrival_ms = Some(arrival);
        if entry.is_some() || visible_now {
            let mut st = write_lock(&self.state);
            if let Some(e) = entry {
                st.active.index.push(e);
            }
            if visible_now {
                st.visible_next = next;
                st.visible_last_arrival_ms = Some(arrival);
                st.visible_end = VisibleEnd {
                    base_offset: segment_base,
                    pos: end,
                };
            }
        }
        if visible_now {
            self.signal_visible(next);
        }
        let rx = if visible_now {
            None
        } else {
            let (tx, rx) = oneshot::channel();
            lock(&self.waiters).push_back(Waiter {
                end_offset: next,
                tx,
            });
            Some(rx)
        };
        drop(w);
        Ok((
            Appended {
                first_offset: base,
                arrival_ms: arrival,
            },
            rx,
            rolled,
        ))
    }

    /// Seals the active segment in memory and starts a new one. The syncer makes the old one
    /// durable (fsync, `.idx`) and the new file's directory entry durable before anything
    /// written after the roll is acknowledged in Fsync mode.
    fn roll(&self, w: &mut Writer) -> Result<(), LogError> {
        let new_base = w.active.next_offset;
        let created = self
            .injected(InjectedFailure::Write)
            .and_then(|()| ActiveSegment::create(&self.dir, new_base, self.index_interval));
        let new = match created {
            Ok(s) => s,
            Err(e) => {
                self.poison(InjectedFailure::Write, &e);
                return Err(LogError::io("create segment in", &self.dir, e));
            }
        };
        let new_file = new.file.clone();
        let old = std::mem::replace(&mut w.active, new);
        let mut st = write_lock(&self.state);
        let index = std::mem::take(&mut st.active.index);
        let idx_path = self.dir.join(index_file_name(old.base_offset));
        let sealed = Arc::new(old.seal(idx_path, index));
        st.sealed.push(sealed.clone());
        st.active = ActiveView {
            base_offset: new_base,
            file: new_file,
            index: Vec::new(),
        };
        drop(st);
        w.pending_seals.push(sealed);
        tracing::debug!(dir = %self.dir.display(), base_offset = new_base, "Rolled to a new segment.");
        Ok(())
    }

    /// Makes everything appended so far durable: writes the pending batches (Fsync mode), seals
    /// pending segments (fsync, `.idx`, directory fsync) and fdatasyncs the active segment, then
    /// (Fsync mode) publishes visibility and completes the waiters it covers. Run by the syncer
    /// thread, `close` and shutdown.
    pub(crate) fn sync_round(&self) -> Result<(), LogError> {
        let mut synced = lock(&self.sync);
        if self.poisoned.load(Ordering::SeqCst) {
            // Never written now; dropping them frees the memory.
            lock(&self.writer).pending_writes = PendingWrites::default();
            self.fail_waiters();
            return Err(self.poisoned_error());
        }
        // Cleared before the capture so that any write after it re-enqueues the shard.
        self.enqueued.store(false, Ordering::SeqCst);
        let (seals, writes, file, mark) = {
            let mut w = lock(&self.writer);
            let mark = Mark {
                base_offset: w.active.base_offset,
                pos: w.active.pos,
                next_offset: w.active.next_offset,
                last_arrival_ms: w.last_arrival_ms,
            };
            (
                std::mem::take(&mut w.pending_seals),
                std::mem::take(&mut w.pending_writes),
                w.active.file.clone(),
                mark,
            )
        };
        if !seals.is_empty() || !writes.is_empty() || *synced != (mark.base_offset, mark.pos) {
            // Every pending write goes before any fsync, so a segment rolled away from is
            // complete before it is fsynced and its index written.
            if let Err((path, e)) = self.write_pending(&writes) {
                self.poison(InjectedFailure::Write, &e);
                self.fail_waiters();
                return Err(LogError::io("write", path, e));
            }
            drop(writes);
            if let Err((path, e)) = self.sync_files(&seals, &file) {
                self.poison(InjectedFailure::Fsync, &e);
                self.fail_waiters();
                return Err(LogError::io("fsync", path, e));
            }
            *synced = (mark.base_offset, mark.pos);
            for s in &seals {
                s.durable.store(true, Ordering::SeqCst);
            }
        }
        if self.durability == Durability::Fsync {
            self.publish(mark);
            self.complete_waiters(mark.next_offset);
        }
        Ok(())
    }

    /// Writes the batches a round took (the injected write failure fires here in Fsync mode).
    fn write_pending(&self, writes: &PendingWrites) -> Result<(), (PathBuf, io::Error)> {
        let Some(path) = writes.first_path() else {
            return Ok(());
        };
        self.injected(InjectedFailure::Write)
            .map_err(|e| (path.clone(), e))?;
        writes.write_all()?;
        self.unwritten_bytes
            .fetch_sub(writes.bytes(), Ordering::SeqCst);
        Ok(())
    }

    fn sync_files(
        &self,
        seals: &[Arc<SealedSegment>],
        active: &SegmentFile,
    ) -> Result<(), (PathBuf, io::Error)> {
        for s in seals {
            self.injected(InjectedFailure::Fsync)
                .and_then(|()| s.file.file.sync_data())
                .map_err(|e| (s.file.path.clone(), e))?;
            write_index_file(&s.idx_path, &s.index_file()).map_err(|e| (s.idx_path.clone(), e))?;
        }
        self.injected(InjectedFailure::Fsync)
            .and_then(|()| active.file.sync_data())
            .map_err(|e| (active.path.clone(), e))?;
        if !seals.is_empty() {
            fsync_dir_io(&self.dir).map_err(|e| (self.dir.clone(), e))?;
        }
        Ok(())
    }

    fn publish(&self, mark: Mark) {
        {
            let mut st = write_lock(&self.state);
            if mark.next_offset > st.visible_next {
                st.visible_next = mark.next_offset;
                st.visible_last_arrival_ms = mark.last_arrival_ms;
            }
            let end = VisibleEnd {
                base_offset: mark.base_offset,
                pos: mark.pos,
            };
            if end > st.visible_end {
                st.visible_end = end;
            }
        }
        self.signal_visible(mark.next_offset);
    }

    /// Wakes readers waiting in [`ShardLog::watch_visible`]: an atomic version bump and a
    /// notify, and nothing at all when the watermark did not move.
    fn signal_visible(&self, next: u64) {
        self.visible.send_if_modified(|v| {
            let moved = next > *v;
            if moved {
                *v = next;
            }
            moved
        });
    }

    fn complete_waiters(&self, durable_next: u64) {
        let mut ws = lock(&self.waiters);
        while ws.front().is_some_and(|w| w.end_offset <= durable_next) {
            if let Some(w) = ws.pop_front() {
                let _ = w.tx.send(Ok(()));
            }
        }
    }

    fn fail_waiters(&self) {
        for w in lock(&self.waiters).drain(..) {
            let _ = w.tx.send(Err(()));
        }
    }

    /// Finds the segment holding `off` (or the first one after it), skipping sealed segments
    /// that end at or before `off` or whose records all arrived before `not_before_ms`.
    fn locate(&self, off: u64, not_before_ms: i64) -> Option<SegRef> {
        let st = read_lock(&self.state);
        // Both keys grow along the list, so the predicate is monotone.
        let i = st.sealed.partition_point(|s| {
            s.next_offset <= off || s.last_arrival_ms.is_some_and(|a| a < not_before_ms)
        });
        if let Some(s) = st.sealed.get(i) {
            return Some(SegRef {
                file: s.file.clone(),
                start: seek_start(&s.index, s.base_offset, off, not_before_ms),
                end: st.readable_end(s.base_offset, s.len),
                next_offset: s.next_offset,
            });
        }
        let a = &st.active;
        (off < st.visible_next).then(|| SegRef {
            file: a.file.clone(),
            start: seek_start(&a.index, a.base_offset, off, not_before_ms),
            // The visible end is never past the active segment's start.
            end: st.readable_end(a.base_offset, u64::MAX),
            next_offset: st.visible_next,
        })
    }

    fn offset_at_time(&self, ts_ms: i64) -> u64 {
        let (file, end, seek, base, limit) = {
            let st = read_lock(&self.state);
            if st.visible_last_arrival_ms.is_none_or(|a| a < ts_ms) {
                return st.visible_next;
            }
            let found = st
                .sealed
                .iter()
                .find(|s| s.last_arrival_ms.is_some_and(|a| a >= ts_ms));
            match found {
                Some(s) => (
                    s.file.clone(),
                    st.readable_end(s.base_offset, s.len),
                    seek_time(&s.index, ts_ms),
                    s.base_offset,
                    s.next_offset.min(st.visible_next),
                ),
                None => (
                    st.active.file.clone(),
                    st.readable_end(st.active.base_offset, u64::MAX),
                    seek_time(&st.active.index, ts_ms),
                    st.active.base_offset,
                    st.visible_next,
                ),
            }
        };
        let from = match seek {
            TimeSeek::Empty => return limit,
            TimeSeek::Exact(e) => return base + u64::from(e.rel_offset),
            TimeSeek::ScanFrom(e) => e,
        };
        let mut cursor = BatchCursor::new(&file.file, u64::from(from.position), end);
        loop {
            match cursor.next_raw() {
                Ok(Some((_, raw))) => {
                    let h = BatchHeader::decode(&raw);
                    if h.base_offset >= limit {
                        return limit;
                    }
                    if h.arrival_ms >= ts_ms {
                        return h.base_offset;
                    }
                }
                Ok(None) => return limit,
                Err(e) => {
                    tracing::warn!(
                        path = %file.path.display(),
                        error = ?e,
                        "Time seek failed; answering with the nearest earlier index entry.",
                    );
                    return base + u64::from(from.rel_offset);
                }
            }
        }
    }

    /// Deletes the oldest sealed segments for which `doomed` holds, stopping at the first
    /// one it does not (so the log stays contiguous).
    fn delete_sealed(
        &self,
        why: &'static str,
        doomed: impl Fn(&SealedSegment) -> bool,
    ) -> Result<usize, LogError> {
        // Serialized with sync rounds so a segment being sealed is never deleted under them.
        let _sync = lock(&self.sync);
        let doomed: Vec<Arc<SealedSegment>> = {
            let mut st = write_lock(&self.state);
            let n = st
                .sealed
                .iter()
                .take_while(|s| {
                    s.durable.load(Ordering::SeqCst)
                        && doomed(s)
                        && s.next_offset <= st.visible_next
                })
                .count();
            st.sealed.drain(..n).collect()
        };
        if doomed.is_empty() {
            return Ok(0);
        }
        for s in &doomed {
            // The log goes first: an index without its log is removed by recovery.
            remove_if_exists(&s.file.path)?;
            remove_if_exists(&s.idx_path)?;
        }
        fsync_dir_io(&self.dir).map_err(|e| LogError::io("fsync directory", &self.dir, e))?;
        tracing::info!(
            dir = %self.dir.display(),
            deleted = doomed.len(),
            why,
            "Deleted segments.",
        );
        Ok(doomed.len())
    }
}

/// Where to start reading a segment for offset `off` and arrival >= `not_before_ms`: the later
/// of the offset seek and the time seek (every batch before the time seek's entry arrived
/// before `not_before_ms`).
fn seek_start(index: &[IndexEntry], base_offset: u64, off: u64, not_before_ms: i64) -> u64 {
    let by_offset = seek_offset(index, base_offset, off);
    let by_time = match seek_time(index, not_before_ms) {
        TimeSeek::ScanFrom(e) => u64::from(e.position),
        TimeSeek::Exact(_) | TimeSeek::Empty => segment_header::LEN as u64,
    };
    by_offset.max(by_time)
}

fn remove_if_exists(path: &Path) -> Result<(), LogError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LogError::io("remove", path, e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::config::LogConfig;
    use crate::format::{RecordIn, encode_records};
    use crate::store::LogStore;

    #[test]
    fn reopening_a_dropped_log_writes_its_pending_batches_before_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let store = LogStore::open(LogConfig::default()).unwrap();
        let shard = store.open_shard(dir.path()).unwrap();
        let first = [RecordIn {
            partition_key: "k",
            data: b"queued",
        }];
        // Queued as `append` queues it, but not handed to the syncer: the test runs the round.
        let batch = encode_records(&first).unwrap();
        let (a, _rx, _) = shard.inner.write_batch(batch, 1).unwrap();
        assert_eq!(a.first_offset, 0);
        // What the syncer's queue would still hold after the log's owner dropped it.
        let old = shard.inner.clone();
        drop(shard);
        let reopened = store.open_shard(dir.path()).unwrap();
        assert_eq!(reopened.next_offset(), 1, "recovery saw the queued batch");
        let second = [RecordIn {
            partition_key: "k",
            data: b"after reopen",
        }];
        let b = rt.block_on(reopened.append(&second, 2)).unwrap();
        assert_eq!(b.first_offset, 1);
        // The old log's round runs late and must find nothing left to write over the new log.
        old.sync_round().unwrap();
        let got = reopened.read(0, 10, 1 << 20, i64::MIN).unwrap();
        let data: Vec<&[u8]> = got.records.iter().map(|r| &r.data[..]).collect();
        assert_eq!(data, vec![&b"queued"[..], &b"after reopen"[..]]);
        store.shutdown();
    }
}
