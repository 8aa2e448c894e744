// SPDX-License-Identifier: Apache-2.0
//! The in-process stream reader: what pipelines (event source mappings, delivery streams)
//! read Kinesis streams with, instead of GetRecords over HTTP.
//!
//! A [`StreamReader`] has a name and keeps its position in the metadata store
//! (`kinesis.readers`, JSON [`ReaderRecord`] under the reader's id). Its caller drives it:
//!
//! 1. [`StreamReader::poll`] returns at most one [`ShardBatch`] per readable shard, each
//!    starting where the previous poll of that shard stopped;
//! 2. the caller processes a batch and makes its output safe (the function answered, the
//!    object is written), then [`StreamReader::commit`]s it. Only committed positions are
//!    durable: after a crash or restart the reader resumes from them and re-delivers what
//!    was read but not committed (at least once, never skipped);
//! 3. [`StreamReader::rewind`] forgets what was read but not committed (a failed batch is
//!    delivered again).
//!
//! # Lineage
//!
//! A shard is readable once each of its parents (`ParentShardId`, `AdjacentParentShardId`)
//! is finished **and that is committed** — read to its end and the batch that reached the end
//! committed, or expired. So the children of a split or merge are never handed out before the
//! caller has made every record of their parents safe, and records of one partition key are
//! processed in order across resharding. A parent that expired (its records left the
//! retention period) counts as finished.
//!
//! # Positions
//!
//! A position is a shard offset (the shard's sequence numbers derive from it). Records that
//! left the retention period before the reader got to them are skipped; [`ShardBatch::skipped`]
//! says how many. If the stream was deleted and created again (a new incarnation), the old
//! positions mean nothing and the reader starts over from its [`StartAt`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use freshet_meta::Table;
use freshet_types::ShardId;
use serde::{Deserialize, Serialize};

use crate::model::{RecordOut, StreamRef};
use crate::state::{Shard, ShardSet, Stream};
use crate::store::NAMESPACE;
use crate::{Error, Streams};

/// Reader positions by reader id.
const READERS: Table = Table::new(NAMESPACE, "readers");

/// Where a reader with no committed position starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartAt {
    /// The oldest record still retained, oldest shards first.
    TrimHorizon,
    /// Only records written after the reader was created.
    Latest,
    /// The first record that arrived at or after this time (ms since the epoch).
    AtTimestamp(i64),
}

/// Where a reader is in one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardPosition {
    /// The next record to deliver is at this offset.
    At(u64),
    /// Every record of this closed shard was delivered.
    Finished,
}

/// What a reader keeps in the metadata store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderRecord {
    /// The stream read.
    pub stream: String,
    /// The incarnation the positions belong to.
    pub incarnation: u64,
    /// Where a shard with no position starts.
    pub start: StartAt,
    /// When the reader was created (AT_TIMESTAMP for shards reached later uses `start`).
    pub created_ms: i64,
    /// Committed positions by shard index.
    pub shards: BTreeMap<u32, ShardPosition>,
}

/// Records of one shard, in sequence order.
#[derive(Debug, Clone)]
pub struct ShardBatch {
    /// The shard.
    pub shard: ShardId,
    /// The records (possibly none, when `finished` says the shard ended).
    pub records: Vec<RecordOut>,
    /// The position this batch starts at.
    pub from: u64,
    /// The position after this batch: commit it once the batch is safe.
    pub next: ShardPosition,
    /// Records that left the retention period (whole segments deleted) before they were read.
    pub skipped: u64,
    /// How far the last record is behind the newest record of the stream, in ms.
    pub millis_behind_latest: i64,
}

/// A named, checkpointed reader of one stream. Cheap to clone; clones share positions.
#[derive(Debug, Clone)]
pub struct StreamReader {
    inner: Arc<ReaderInner>,
}

#[derive(Debug)]
struct ReaderInner {
    id: String,
    streams: Streams,
    state: Mutex<ReaderState>,
    /// Serializes durable commits, so a slow one never overwrites a newer one.
    commit_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone)]
struct ReaderState {
    /// Durable positions (what the metadata store holds).
    committed: ReaderRecord,
    /// Where the next poll of each shard starts: at or ahead of `committed`.
    read: BTreeMap<u32, ShardPosition>,
}

fn lock(m: &Mutex<ReaderState>) -> MutexGuard<'_, ReaderState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

impl Streams {
    /// Opens the reader `id` of `stream`: resumes from its committed positions if it has
    /// any (for this incarnation of the stream), else starts at `start`. A `Latest` start
    /// is fixed (and committed) now, so records written before a restart are not skipped.
    pub async fn open_reader(
        &self,
        id: &str,
        stream: &StreamRef,
        start: StartAt,
    ) -> Result<StreamReader, Error> {
        let s = self.data_stream(stream)?;
        let stored: Option<ReaderRecord> =
            self.inner.meta.get_json(READERS, id).map_err(storage)?;
        let committed = match stored {
            Some(rec) if rec.stream == s.name && rec.incarnation == s.incarnation => rec,
            Some(rec) => {
                tracing::warn!(reader = id, stream = %rec.stream, "The stream was recreated; the reader starts over.");
                self.new_reader_record(&s, start)
            }
            None => self.new_reader_record(&s, start),
        };
        let reader = StreamReader {
            inner: Arc::new(ReaderInner {
                id: id.to_owned(),
                streams: self.clone(),
                state: Mutex::new(ReaderState {
                    read: committed.shards.clone(),
                    committed: committed.clone(),
                }),
                commit_lock: tokio::sync::Mutex::new(()),
            }),
        };
        reader.persist(committed).await?;
        Ok(reader)
    }

    /// Forgets the reader `id` and its positions.
    pub fn delete_reader(&self, id: &str) -> Result<(), Error> {
        self.inner
            .meta
            .delete(READERS, id)
            .map(|_| ())
            .map_err(storage)
    }

    fn new_reader_record(&self, s: &Stream, start: StartAt) -> ReaderRecord {
        let mut shards = BTreeMap::new();
        if start == StartAt::Latest {
            for shard in s.shards().iter() {
                let pos = match shard.end_offset {
                    Some(_) => ShardPosition::Finished,
                    None => ShardPosition::At(shard.log.next_offset()),
                };
                shards.insert(shard.id.0, pos);
            }
        }
        ReaderRecord {
            stream: s.name.clone(),
            incarnation: s.incarnation,
            start,
            created_ms: self.now(),
            shards,
        }
    }
}

impl StreamReader {
    /// The reader's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The committed positions.
    pub fn committed(&self) -> ReaderRecord {
        lock(&self.inner.state).committed.clone()
    }

    /// Reads the next batch of every readable shard: at most `max_records` records per shard
    /// (and about 10 MiB), from where the previous poll of that shard stopped. Shards with
    /// nothing new are left out, except that a shard that just reached its end yields an
    /// empty batch whose commit finishes it.
    pub fn poll(&self, max_records: u32) -> Result<Vec<ShardBatch>, Error> {
        let streams = &self.inner.streams;
        let stream = self.stream()?;
        let shards = stream.shards();
        let mut state = lock(&self.inner.state);
        self.reset_if_recreated(&stream, &mut state);
        let mut out = Vec::new();
        for shard in shards.iter() {
            let Some(from) = Self::position(&shards, shard, &mut state) else {
                continue;
            };
            let start = shard.log.start_offset();
            let skipped = start.saturating_sub(from);
            let page =
                streams.read_page(&stream, &shards, shard, from.max(start), Some(max_records))?;
            let next = match page.next_offset {
                Some(n) => ShardPosition::At(n),
                None => ShardPosition::Finished,
            };
            let moved = next != ShardPosition::At(from);
            if page.records.is_empty() && !moved {
                continue;
            }
            state.read.insert(shard.id.0, next);
            out.push(ShardBatch {
                shard: shard.id,
                records: page.records,
                from,
                next,
                skipped,
                millis_behind_latest: page.millis_behind_latest,
            });
        }
        Ok(out)
    }

    /// Like [`StreamReader::poll`], but when nothing is readable waits up to `wait` for new
    /// records (or a reshard) before answering, possibly with nothing.
    pub async fn poll_wait(
        &self,
        max_records: u32,
        wait: Duration,
    ) -> Result<Vec<ShardBatch>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Subscribe before reading, so a record appended in between still wakes us.
            let mut watches: Vec<_> = self
                .stream()?
                .shards()
                .iter()
                .map(|s| s.log.watch_visible())
                .collect();
            let batches = self.poll(max_records)?;
            if !batches.is_empty() {
                return Ok(batches);
            }
            if watches.is_empty() {
                tokio::time::sleep_until(deadline).await;
                return Ok(Vec::new());
            }
            let changed =
                futures_util::future::select_all(watches.iter_mut().map(|w| Box::pin(w.changed())));
            tokio::select! {
                _ = changed => {}
                () = tokio::time::sleep_until(deadline) => return Ok(Vec::new()),
            }
        }
    }

    /// Makes `next` the durable position of `shard` (normally a batch's [`ShardBatch::next`],
    /// once the batch's output is safe). A position behind the committed one is ignored.
    pub async fn commit(&self, shard: ShardId, next: ShardPosition) -> Result<(), Error> {
        let _serial = self.inner.commit_lock.lock().await;
        let record = {
            let mut state = lock(&self.inner.state);
            let current = state.committed.shards.get(&shard.0).copied();
            if !is_ahead(next, current) {
                return Ok(());
            }
            let mut record = state.committed.clone();
            record.shards.insert(shard.0, next);
            // A read position behind the commit (after a rewind) moves up to it.
            let read = state.read.get(&shard.0).copied();
            if is_ahead(next, read) {
                state.read.insert(shard.0, next);
            }
            record
        };
        self.persist(record.clone()).await?;
        lock(&self.inner.state).committed = record;
        Ok(())
    }

    /// Commits every batch's end position, in order.
    pub async fn commit_batches(&self, batches: &[ShardBatch]) -> Result<(), Error> {
        for b in batches {
            self.commit(b.shard, b.next).await?;
        }
        Ok(())
    }

    /// Forgets what was read but not committed: the next poll starts at the committed
    /// positions again.
    pub fn rewind(&self) {
        let mut state = lock(&self.inner.state);
        state.read = state.committed.shards.clone();
    }

    fn stream(&self) -> Result<Arc<Stream>, Error> {
        let name = lock(&self.inner.state).committed.stream.clone();
        self.inner.streams.data_stream(&StreamRef::name(name))
    }

    fn reset_if_recreated(&self, stream: &Stream, state: &mut ReaderState) {
        if state.committed.incarnation != stream.incarnation {
            tracing::warn!(reader = %self.inner.id, stream = %stream.name, "The stream was recreated; the reader starts over.");
            let fresh = self
                .inner
                .streams
                .new_reader_record(stream, state.committed.start);
            state.read = fresh.shards.clone();
            state.committed = fresh;
        }
    }

    /// Where the next poll of `shard` starts, or `None` if it is not readable (finished, or a
    /// parent's end is not committed yet). Decides the start of a shard seen the first time.
    fn position(shards: &ShardSet, shard: &Shard, state: &mut ReaderState) -> Option<u64> {
        match state.read.get(&shard.id.0) {
            Some(ShardPosition::Finished) => return None,
            Some(ShardPosition::At(o)) => return Some(*o),
            None => {}
        }
        let parents_done = shard.parent.iter().chain(&shard.adjacent_parent).all(|p| {
            shards.get(*p).is_none()
                || state.committed.shards.get(&p.0) == Some(&ShardPosition::Finished)
        });
        if !parents_done {
            return None;
        }
        let start = match state.committed.start {
            // Shards created after the reader (children) are read from their beginning.
            StartAt::TrimHorizon | StartAt::Latest => shard.log.start_offset(),
            StartAt::AtTimestamp(ts) => shard.log.offset_at_time(ts),
        };
        state.read.insert(shard.id.0, ShardPosition::At(start));
        Some(start)
    }

    async fn persist(&self, record: ReaderRecord) -> Result<(), Error> {
        let meta = self.inner.streams.inner.meta.clone();
        let id = self.inner.id.clone();
        // A durable metadata commit fsyncs: keep it off the async workers.
        tokio::task::spawn_blocking(move || meta.put_json(READERS, &id, &record))
            .await
            .map_err(storage)?
            .map_err(storage)
    }
}

/// Whether `next` is strictly ahead of `current`.
fn is_ahead(next: ShardPosition, current: Option<ShardPosition>) -> bool {
    match (current, next) {
        (None, _) => true,
        (Some(ShardPosition::Finished), _) => false,
        (Some(ShardPosition::At(_)), ShardPosition::Finished) => true,
        (Some(ShardPosition::At(c)), ShardPosition::At(n)) => n > c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_only_move_forward() {
        use ShardPosition::{At, Finished};
        assert!(is_ahead(At(0), None));
        assert!(is_ahead(At(5), Some(At(4))));
        assert!(!is_ahead(At(4), Some(At(4))));
        assert!(!is_ahead(At(3), Some(At(4))));
        assert!(is_ahead(Finished, Some(At(4))));
        assert!(!is_ahead(At(9), Some(Finished)));
        assert!(!is_ahead(Finished, Some(Finished)));
    }

    #[test]
    fn records_round_trip_as_json() {
        let rec = ReaderRecord {
            stream: "s".into(),
            incarnation: 3,
            start: StartAt::AtTimestamp(5),
            created_ms: 7,
            shards: BTreeMap::from([(0, ShardPosition::Finished), (2, ShardPosition::At(9))]),
        };
        let json = serde_json::to_string(&rec).expect("json");
        assert_eq!(
            serde_json::from_str::<ReaderRecord>(&json).expect("back"),
            rec
        );
    }
}
