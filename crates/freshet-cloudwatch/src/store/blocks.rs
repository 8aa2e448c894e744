// SPDX-License-Identifier: Apache-2.0
//! Sealed blocks on the tier logs: writing a tier window's series as chunk records plus an
//! index record, and reading one series' chunk back through the index (cached).
//!
//! A block is at most [`MAX_SERIES_PER_BLOCK`] series; a window with more series gets more
//! blocks, and a window sealed again (late points) gets more blocks too: a window's data is
//! the merge of all its blocks. Chunk records are appended in batches of about
//! [`BATCH_BYTES`] (reading one chunk decodes its whole batch, so batches stay small), up to
//! [`CONCURRENT_APPENDS`] at once so that group commit covers many with one fsync; the index
//! record, appended last, holds each chunk's offset.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use freshet_log::{Log, RecordIn};

use super::StoreError;
use super::codec::{self, BlockIndex, StoredPoint};
use super::tiers::Tier;

/// The most series in one block (bounds an index record's size).
pub const MAX_SERIES_PER_BLOCK: usize = 8_192;
/// About how many bytes of chunk records go into one append.
pub const BATCH_BYTES: usize = 8 * 1024;
/// How many chunk batches are appended at once.
pub const CONCURRENT_APPENDS: usize = 32;
/// How many series entries the cached block indexes hold at most (16 bytes each).
const INDEX_CACHE_ENTRIES: usize = 2 << 20;

/// The tier logs and the index cache.
#[derive(Debug)]
pub struct Blocks {
    logs: HashMap<Tier, Arc<dyn Log>>,
    cache: Mutex<IndexCache>,
}

/// Decoded block indexes, dropped all at once when they hold too many entries.
#[derive(Debug, Default)]
struct IndexCache {
    indexes: HashMap<(Tier, u64), Arc<BlockIndex>>,
    entries: usize,
}

fn storage(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("{what}: {e}"))
}

impl Blocks {
    /// Blocks on `logs` (one per tier).
    pub fn new(logs: HashMap<Tier, Arc<dyn Log>>) -> Self {
        Self {
            logs,
            cache: Mutex::new(IndexCache::default()),
        }
    }

    /// The log of `tier`.
    pub fn log(&self, tier: Tier) -> Result<&Arc<dyn Log>, StoreError> {
        self.logs
            .get(&tier)
            .ok_or_else(|| StoreError::Storage(format!("no log for tier {tier:?}")))
    }

    /// Writes `series` (ascending ids, non-empty point lists) as blocks of `tier`'s window
    /// `window_ms`; returns their index offsets once durable.
    pub async fn write(
        &self,
        tier: Tier,
        window_ms: i64,
        series: &[(u64, Vec<StoredPoint>)],
        now_ms: i64,
    ) -> Result<Vec<u64>, StoreError> {
        let log = self.log(tier)?;
        let mut offsets = Vec::new();
        for block in series.chunks(MAX_SERIES_PER_BLOCK) {
            let mut batches: Vec<Vec<Vec<u8>>> = vec![Vec::new()];
            let mut bytes = 0;
            for (id, points) in block {
                if bytes >= BATCH_BYTES {
                    batches.push(Vec::new());
                    bytes = 0;
                }
                let rec = codec::encode_chunk(*id, points);
                bytes += rec.len();
                if let Some(b) = batches.last_mut() {
                    b.push(rec);
                }
            }
            let mut chunk_offsets = Vec::with_capacity(block.len());
            for group in batches.chunks(CONCURRENT_APPENDS) {
                let firsts = futures_util::future::try_join_all(
                    group.iter().map(|b| append(log.as_ref(), b, now_ms)),
                )
                .await?;
                for (first, b) in firsts.into_iter().zip(group) {
                    chunk_offsets.extend((0..b.len() as u64).map(|i| first + i));
                }
            }
            let index = BlockIndex {
                tier: tier as u8,
                window_ms,
                series: block.iter().map(|(id, _)| *id).collect(),
                offsets: chunk_offsets,
            };
            offsets.push(append(log.as_ref(), &[codec::encode_index(&index)], now_ms).await?);
        }
        Ok(offsets)
    }

    /// The index of the block at `offset`.
    pub fn index(&self, tier: Tier, offset: u64) -> Result<Arc<BlockIndex>, StoreError> {
        if let Some(i) = lock(&self.cache).indexes.get(&(tier, offset)) {
            return Ok(i.clone());
        }
        let data = read_one(self.log(tier)?.as_ref(), offset)?;
        let index = Arc::new(codec::decode_index(&data).map_err(|e| storage("block index", e))?);
        if index.tier != tier as u8 {
            return Err(StoreError::Storage(format!(
                "block index at {offset} belongs to tier {}",
                index.tier
            )));
        }
        let mut cache = lock(&self.cache);
        if cache.entries + index.series.len() > INDEX_CACHE_ENTRIES {
            cache.indexes.clear();
            cache.entries = 0;
        }
        cache.entries += index.series.len();
        if let Some(old) = cache.indexes.insert((tier, offset), index.clone()) {
            cache.entries = cache.entries.saturating_sub(old.series.len());
        }
        Ok(index)
    }

    /// Series `id`'s points in the block at `offset` (none when the block lacks it).
    pub fn series(&self, tier: Tier, offset: u64, id: u64) -> Result<Vec<StoredPoint>, StoreError> {
        // Retention may delete a block between a query's plan and its read: it has expired.
        let log = self.log(tier)?;
        if offset < log.start_offset() {
            return Ok(Vec::new());
        }
        let index = self.index(tier, offset)?;
        let Some(at) = index
            .series
            .binary_search(&id)
            .ok()
            .and_then(|i| index.offsets.get(i).copied())
        else {
            return Ok(Vec::new());
        };
        if at < log.start_offset() {
            return Ok(Vec::new());
        }
        let data = read_one(log.as_ref(), at)?;
        let (got, points) = codec::decode_chunk(&data).map_err(|e| storage("block chunk", e))?;
        if got != id {
            return Err(StoreError::Storage(format!(
                "chunk at {at} holds series {got}, not {id}"
            )));
        }
        Ok(points)
    }

    /// The chunks `from..to` (positions in the index) of the block at `offset`, in id order.
    pub fn chunks(
        &self,
        tier: Tier,
        offset: u64,
        from: usize,
        to: usize,
    ) -> Result<Vec<(u64, Vec<StoredPoint>)>, StoreError> {
        let index = self.index(tier, offset)?;
        let log = self.log(tier)?;
        let wanted = index
            .offsets
            .get(from..to.min(index.offsets.len()))
            .unwrap_or(&[]);
        let mut out = Vec::with_capacity(wanted.len());
        let mut i = 0;
        while i < wanted.len() {
            // A run of consecutive offsets is read with one call.
            let mut run = 1;
            while wanted.get(i + run) == Some(&(wanted[i] + run as u64)) {
                run += 1;
            }
            let mut at = wanted[i];
            let end = at + run as u64;
            while at < end {
                let want = usize::try_from(end - at).unwrap_or(usize::MAX);
                let batch = log
                    .read(at, want, 4 << 20, i64::MIN)
                    .map_err(|e| storage("read block", e))?;
                if batch.records.first().map(|r| r.offset) != Some(at) {
                    return Err(StoreError::Storage(format!("block record {at} is gone")));
                }
                for r in batch.records.iter().filter(|r| r.offset < end) {
                    out.push(codec::decode_chunk(&r.data).map_err(|e| storage("block chunk", e))?);
                }
                at = batch.next_offset;
            }
            i += run;
        }
        Ok(out)
    }

    /// Forgets the cached indexes of `tier`'s blocks at `offsets` (deleted).
    pub fn forget(&self, tier: Tier, offsets: &[u64]) {
        let mut cache = lock(&self.cache);
        for o in offsets {
            if let Some(old) = cache.indexes.remove(&(tier, *o)) {
                cache.entries = cache.entries.saturating_sub(old.series.len());
            }
        }
    }
}

async fn append(log: &dyn Log, records: &[Vec<u8>], now_ms: i64) -> Result<u64, StoreError> {
    let ins: Vec<RecordIn<'_>> = records
        .iter()
        .map(|r| RecordIn {
            partition_key: "",
            data: r,
        })
        .collect();
    let done = log
        .append(&ins, now_ms)
        .await
        .map_err(|e| storage("append block", e))?;
    Ok(done.first_offset)
}

/// The record at `offset`, which must still exist.
pub fn read_one(log: &dyn Log, offset: u64) -> Result<bytes::Bytes, StoreError> {
    let batch = log
        .read(offset, 1, 1, i64::MIN)
        .map_err(|e| storage("read block", e))?;
    match batch.records.into_iter().next() {
        Some(r) if r.offset == offset => Ok(r.data),
        _ => Err(StoreError::Storage(format!(
            "record {offset} of {} is gone",
            log.name()
        ))),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
