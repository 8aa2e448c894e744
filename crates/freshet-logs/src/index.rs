// SPDX-License-Identifier: Apache-2.0
//! The sparse, bounded, in-memory index of one log stream's events in its group's log.
//!
//! A group's streams share one log, so reading one stream means skipping the others' records.
//! The index records where a stream's events are: a list of [`Chunk`]s, each the offset range
//! `[first, last]` of a run of the stream's events (and the range of their timestamps). A run
//! ends after [`MAX_CHUNK_EVENTS`] events or when the next event is more than [`MAX_GAP`]
//! records further on, so a busy stream has chunks of neighbouring records and a rare stream
//! in a busy group has small chunks far apart, which readers jump between.
//!
//! Invariants:
//! * chunks are sorted and disjoint, and every event pushed lies inside one chunk whose
//!   timestamp range covers it (chunks may also cover other streams' records: readers check
//!   each record anyway);
//! * at most [`MAX_CHUNKS`] chunks: past that, neighbouring chunks in the older half are merged
//!   pairwise, so old data is indexed ever more coarsely and recent data finely, in bounded
//!   memory whatever the volume.
//!
//! Nothing here is persisted: the index is rebuilt from the log after a restart (see
//! `group.rs`); until then a conservative "unknown" chunk stands for the unscanned range.

/// Most events in one chunk.
pub const MAX_CHUNK_EVENTS: u32 = 256;
/// Largest offset gap between consecutive events of one chunk.
pub const MAX_GAP: u64 = 1024;
/// Most chunks per stream.
pub const MAX_CHUNKS: usize = 128;

/// A run of one stream's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the first event.
    pub first: u64,
    /// Offset of the last event.
    pub last: u64,
    /// Events in the run (saturating; approximate for an unknown chunk).
    pub events: u32,
    /// Smallest timestamp in the run.
    pub min_ts: i64,
    /// Largest timestamp in the run.
    pub max_ts: i64,
}

impl Chunk {
    /// One past the last offset.
    pub fn end(&self) -> u64 {
        self.last.saturating_add(1)
    }

    /// Whether the run may hold an event with a timestamp in `[lo, hi]`.
    pub fn may_hold(&self, lo: i64, hi: i64) -> bool {
        self.max_ts >= lo && self.min_ts <= hi
    }

    fn merge(self, later: Chunk) -> Chunk {
        Chunk {
            first: self.first,
            last: later.last,
            events: self.events.saturating_add(later.events),
            min_ts: self.min_ts.min(later.min_ts),
            max_ts: self.max_ts.max(later.max_ts),
        }
    }
}

/// The index of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseIndex {
    chunks: Vec<Chunk>,
}

impl SparseIndex {
    /// An index that knows only that the stream's events, if any, lie in `[first, last]` with
    /// timestamps in `[min_ts, max_ts]`.
    pub fn unknown(first: u64, last: u64, min_ts: i64, max_ts: i64) -> SparseIndex {
        SparseIndex {
            chunks: vec![Chunk {
                first,
                last,
                events: u32::MAX,
                min_ts,
                max_ts,
            }],
        }
    }

    /// The chunks, oldest first.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Records an event. Events come in offset order; an offset not beyond the last chunk
    /// only widens that chunk's timestamps (it is already covered or a duplicate).
    pub fn push(&mut self, offset: u64, ts: i64) {
        if let Some(c) = self.chunks.last_mut() {
            if offset <= c.last {
                c.min_ts = c.min_ts.min(ts);
                c.max_ts = c.max_ts.max(ts);
                return;
            }
            if c.events < MAX_CHUNK_EVENTS && offset - c.last <= MAX_GAP {
                c.last = offset;
                c.events += 1;
                c.min_ts = c.min_ts.min(ts);
                c.max_ts = c.max_ts.max(ts);
                return;
            }
        }
        self.chunks.push(Chunk {
            first: offset,
            last: offset,
            events: 1,
            min_ts: ts,
            max_ts: ts,
        });
        self.compact();
    }

    /// Merges the older half pairwise while there are too many chunks.
    fn compact(&mut self) {
        while self.chunks.len() > MAX_CHUNKS {
            let half = self.chunks.len() / 2;
            let mut merged: Vec<Chunk> = Vec::with_capacity(self.chunks.len());
            let mut older = self.chunks[..half].chunks(2);
            for pair in older.by_ref() {
                merged.push(match pair {
                    [a, b] => a.merge(*b),
                    [a] => *a,
                    _ => continue,
                });
            }
            merged.extend_from_slice(&self.chunks[half..]);
            self.chunks = merged;
        }
    }

    /// Replaces every chunk below `upto` with `built` (the chunks a scan of that range found),
    /// keeping the chunks at or above it.
    pub fn replace_below(&mut self, upto: u64, built: SparseIndex) {
        let keep = self.chunks.partition_point(|c| c.last < upto);
        let mut chunks = built.chunks;
        chunks.retain(|c| c.last < upto);
        chunks.extend_from_slice(&self.chunks[keep..]);
        self.chunks = chunks;
        self.compact();
    }

    /// Forgets chunks wholly below `start` (their segments are gone) and trims one that
    /// straddles it.
    pub fn prune_below(&mut self, start: u64) {
        self.chunks.retain(|c| c.last >= start);
        if let Some(c) = self.chunks.first_mut() {
            c.first = c.first.max(start);
        }
    }

    /// Position of the first chunk that ends after `pos`.
    pub fn first_ending_after(&self, pos: u64) -> usize {
        self.chunks.partition_point(|c| c.last < pos)
    }

    /// Number of chunks that start before `pos`.
    pub fn starting_before(&self, pos: u64) -> usize {
        self.chunks.partition_point(|c| c.first < pos)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check_invariants(ix: &SparseIndex) {
        assert!(ix.chunks.len() <= MAX_CHUNKS);
        for w in ix.chunks.windows(2) {
            assert!(w[0].last < w[1].first, "sorted and disjoint: {w:?}");
        }
        for c in &ix.chunks {
            assert!(c.first <= c.last && c.min_ts <= c.max_ts);
        }
    }

    fn covers(ix: &SparseIndex, offset: u64, ts: i64) -> bool {
        ix.chunks
            .iter()
            .any(|c| c.first <= offset && offset <= c.last && c.min_ts <= ts && ts <= c.max_ts)
    }

    #[test]
    fn a_dense_stream_fills_chunks_of_the_maximum_size() {
        let mut ix = SparseIndex::default();
        for o in 0..1000u64 {
            ix.push(o, o as i64);
        }
        assert_eq!(ix.chunks().len(), 4);
        assert_eq!(ix.chunks()[0].events, MAX_CHUNK_EVENTS);
        assert_eq!(ix.chunks()[3].last, 999);
    }

    #[test]
    fn a_rare_stream_gets_a_chunk_per_distant_event_and_stays_bounded() {
        let mut ix = SparseIndex::default();
        for i in 0..10_000u64 {
            ix.push(i * 100_000, 0);
        }
        check_invariants(&ix);
        assert!(ix.chunks().len() <= MAX_CHUNKS);
        // The newest events keep their own chunks.
        let last = ix.chunks().last().unwrap();
        assert_eq!((last.first, last.last), (999_900_000, 999_900_000));
    }

    #[test]
    fn replacing_an_unknown_prefix_keeps_the_newer_chunks() {
        let mut ix = SparseIndex::unknown(0, 99, 5, 50);
        ix.push(150, 60);
        let mut built = SparseIndex::default();
        built.push(10, 5);
        built.push(20, 7);
        ix.replace_below(100, built);
        assert_eq!(ix.chunks().len(), 2);
        assert_eq!((ix.chunks()[0].first, ix.chunks()[0].last), (10, 20));
        assert_eq!(ix.chunks()[1].first, 150);
    }

    #[test]
    fn pruning_drops_chunks_below_the_log_start() {
        let mut ix = SparseIndex::default();
        for o in [0, 5000, 10_000] {
            ix.push(o, 0);
        }
        ix.prune_below(5001);
        assert_eq!(ix.chunks().len(), 1);
        assert_eq!(ix.first_ending_after(0), 0);
        assert_eq!(ix.starting_before(10_001), 1);
    }

    proptest! {
        #[test]
        fn every_pushed_event_stays_covered(gaps in proptest::collection::vec((1u64..5000, -1000i64..1000), 1..3000)) {
            let mut ix = SparseIndex::default();
            let mut offset = 0u64;
            let mut events = Vec::new();
            for (gap, ts) in gaps {
                offset += gap;
                ix.push(offset, ts);
                events.push((offset, ts));
            }
            check_invariants(&ix);
            for (o, ts) in events {
                prop_assert!(covers(&ix, o, ts), "event at {} not covered", o);
            }
        }
    }
}
