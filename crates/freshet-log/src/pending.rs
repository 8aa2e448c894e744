//! Pending writes: batches appended in `Fsync` mode that a sync round has yet to write.
//!
//! In `Fsync` mode an append is neither visible nor acknowledged before the next sync round, so
//! it does not write its batch itself: it assigns the batch its position and queues the encoded
//! buffer here (moved, not copied), under the shard's writer mutex. The round takes the whole
//! list together with its sync mark and writes it before any of its fsyncs, with one `pwritev`
//! per segment file touched (more only past 1,024 batches or after a short write), instead of one
//! `pwrite` per append on the async workers.
//!
//! Memory is bounded: a round takes the list when it starts, so the list holds at most what was
//! appended to its shard since the previous round started, that is what arrives during one
//! write-and-fdatasync (about a millisecond), and each of those appends is a request still
//! waiting for its answer.
//!
//! Invariants: batches are queued in position order and back to back within a segment file, so
//! each run is one contiguous range of its file; a segment's run is written before the segment is
//! fsynced or sealed on disk (the round writes everything it took first).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::fsutil::write_all_vectored_at;
use crate::segment::SegmentFile;

/// Batches for one segment file, back to back from `pos`.
#[derive(Debug)]
struct Run {
    file: Arc<SegmentFile>,
    pos: u64,
    batches: Vec<Vec<u8>>,
}

/// The queued batches of one shard, in position order.
#[derive(Debug, Default)]
pub(crate) struct PendingWrites {
    runs: Vec<Run>,
    bytes: u64,
}

impl PendingWrites {
    /// Queues `batch`, which goes at `pos` in `file`, right after the batches queued before it.
    pub(crate) fn push(&mut self, file: &Arc<SegmentFile>, pos: u64, batch: Vec<u8>) {
        self.bytes += batch.len() as u64;
        match self.runs.last_mut() {
            Some(run) if Arc::ptr_eq(&run.file, file) => run.batches.push(batch),
            _ => self.runs.push(Run {
                file: file.clone(),
                pos,
                batches: vec![batch],
            }),
        }
    }

    /// Total length of the queued batches.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The file the first write would go to, to name it in errors.
    pub(crate) fn first_path(&self) -> Option<&PathBuf> {
        self.runs.first().map(|r| &r.file.path)
    }

    /// Writes every queued batch to its file, stopping at the first error (with the path of
    /// the file that failed).
    pub(crate) fn write_all(&self) -> Result<(), (PathBuf, io::Error)> {
        for run in &self.runs {
            write_all_vectored_at(&run.file.file, &run.batches, run.pos)
                .map_err(|e| (run.file.path.clone(), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::fs::OpenOptions;
    use std::sync::Arc;

    use super::PendingWrites;
    use crate::segment::SegmentFile;

    fn file(dir: &std::path::Path, name: &str) -> Arc<SegmentFile> {
        let path = dir.join(name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        Arc::new(SegmentFile { path, file })
    }

    #[test]
    fn batches_land_back_to_back_in_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (file(dir.path(), "a"), file(dir.path(), "b"));
        let mut p = PendingWrites::default();
        p.push(&a, 3, b"one".to_vec());
        p.push(&a, 6, b"two".to_vec());
        p.push(&b, 0, b"three".to_vec());
        assert_eq!(p.bytes(), 11);
        assert_eq!(p.runs.len(), 2);
        p.write_all().unwrap();
        assert_eq!(std::fs::read(&a.path).unwrap(), b"\0\0\0onetwo");
        assert_eq!(std::fs::read(&b.path).unwrap(), b"three");
    }

    #[test]
    fn more_batches_than_one_pwritev_takes_are_all_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path(), "f");
        let mut p = PendingWrites::default();
        let mut expected = Vec::new();
        let mut pos = 0u64;
        for i in 0..2_500u32 {
            let batch = i.to_le_bytes()[..1 + (i % 4) as usize].to_vec();
            expected.extend_from_slice(&batch);
            let len = batch.len() as u64;
            p.push(&f, pos, batch);
            pos += len;
        }
        assert_eq!(p.runs.len(), 1);
        p.write_all().unwrap();
        assert_eq!(std::fs::read(&f.path).unwrap(), expected);
    }
}
