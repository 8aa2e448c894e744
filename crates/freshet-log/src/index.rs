//! The sparse offset/time index: building it while batches are appended or scanned, seeking
//! in it, and persisting it as a sealed segment's `.idx` file.
//!
//! Invariants: entries are sorted by relative offset, position and (weakly) arrival time; the
//! first batch of a non-empty segment always has an entry; an entry is added at most once per
//! `index_interval_bytes` appended, so memory stays bounded by segment size / interval.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::{Corruption, LogError};
use crate::format::{IndexEntry, IndexFile, segment_header};
use crate::fsutil::fsync_dir;

/// Decides which batches get an index entry.
#[derive(Debug, Clone)]
pub(crate) struct IndexBuilder {
    interval: u64,
    /// Bytes appended since the last entry; `None` until the first batch is seen.
    bytes_since_entry: Option<u64>,
}

impl IndexBuilder {
    /// A builder for a fresh, empty segment.
    pub(crate) fn new(interval_bytes: u32) -> Self {
        IndexBuilder {
            interval: u64::from(interval_bytes),
            bytes_since_entry: None,
        }
    }

    /// Notes a batch of `len` bytes at `position`; returns the entry to add, if one is due.
    pub(crate) fn observe(
        &mut self,
        segment_base: u64,
        batch_base: u64,
        position: u64,
        len: u64,
        arrival_ms: i64,
    ) -> Option<IndexEntry> {
        let due = self.bytes_since_entry.is_none_or(|b| b >= self.interval);
        let since = if due {
            0
        } else {
            self.bytes_since_entry.unwrap_or(0)
        };
        self.bytes_since_entry = Some(since + len);
        due.then_some(IndexEntry {
            // Both fit: segments are capped below 4 GiB and hold fewer than 2^32 records.
            rel_offset: (batch_base - segment_base) as u32,
            position: position as u32,
            arrival_ms,
        })
    }
}

/// Byte position from which to scan for `target` (an absolute offset) in a segment.
pub(crate) fn seek_offset(entries: &[IndexEntry], segment_base: u64, target: u64) -> u64 {
    let i = entries.partition_point(|e| segment_base + u64::from(e.rel_offset) <= target);
    if i == 0 {
        segment_header::LEN as u64
    } else {
        u64::from(entries[i - 1].position)
    }
}

/// Where to look for the first batch with arrival >= `ts_ms`.
pub(crate) enum TimeSeek {
    /// The entry at this index is already at or after `ts_ms`: its batch is the answer
    /// (given that earlier segments are entirely before `ts_ms`).
    Exact(IndexEntry),
    /// Scan from this entry's batch: it is before `ts_ms`, later ones may not be.
    ScanFrom(IndexEntry),
    /// The segment has no entries.
    Empty,
}

/// Seeks by arrival time; valid because arrival times never decrease within a shard.
pub(crate) fn seek_time(entries: &[IndexEntry], ts_ms: i64) -> TimeSeek {
    let i = entries.partition_point(|e| e.arrival_ms < ts_ms);
    match (i, entries.first()) {
        (_, None) => TimeSeek::Empty,
        (0, Some(first)) => TimeSeek::Exact(*first),
        (i, Some(_)) => TimeSeek::ScanFrom(entries[i - 1]),
    }
}

/// Writes an index file atomically: temp file, fsync, rename. The caller fsyncs `dir`.
pub(crate) fn write_index_file(path: &Path, index: &IndexFile) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = Path::new(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    f.write_all(&index.encode())?;
    f.sync_all()?;
    drop(f);
    fs::rename(tmp, path)
}

/// Writes an index file atomically and makes the rename durable.
pub(crate) fn persist_index_file(
    dir: &Path,
    path: &Path,
    index: &IndexFile,
) -> Result<(), LogError> {
    write_index_file(path, index).map_err(|e| LogError::io("write index", path, e))?;
    fsync_dir(dir)
}

/// Why a stored index could not be used.
#[derive(Debug)]
pub(crate) enum IndexLoadError {
    /// No `.idx` file.
    Missing,
    /// The file exists but is unusable.
    Invalid(Corruption),
}

/// Loads and validates the index of a sealed segment whose `.log` is `log_len` bytes long.
pub(crate) fn load_index_file(
    path: &Path,
    base_offset: u64,
    log_len: u64,
) -> Result<Result<IndexFile, IndexLoadError>, LogError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Err(IndexLoadError::Missing)),
        Err(e) => return Err(LogError::io("open index", path, e)),
    };
    // An index holds at most one 16-byte entry per batch of a < 4 GiB segment; refuse to read
    // anything bigger than the segment itself plus a header, so a bad file cannot balloon memory.
    let meta_len = f
        .metadata()
        .map_err(|e| LogError::io("stat index", path, e))?
        .len();
    if meta_len > log_len.saturating_add(4096) {
        return Ok(Err(IndexLoadError::Invalid(Corruption::BadIndex(
            "index larger than segment",
        ))));
    }
    let mut bytes = Vec::with_capacity(meta_len as usize);
    f.read_to_end(&mut bytes)
        .map_err(|e| LogError::io("read index", path, e))?;
    let idx = match IndexFile::decode(&bytes) {
        Ok(idx) => idx,
        Err(c) => return Ok(Err(IndexLoadError::Invalid(c))),
    };
    if idx.base_offset != base_offset {
        return Ok(Err(IndexLoadError::Invalid(
            Corruption::BaseOffsetMismatch {
                expected: base_offset,
                found: idx.base_offset,
            },
        )));
    }
    if idx.log_len != log_len {
        return Ok(Err(IndexLoadError::Invalid(Corruption::BadIndex(
            "index describes a segment of another length",
        ))));
    }
    let in_range = idx.entries.iter().all(|e| {
        u64::from(e.position) >= segment_header::LEN as u64
            && u64::from(e.position) < log_len
            && base_offset + u64::from(e.rel_offset) < idx.next_offset
    });
    if !in_range || idx.next_offset < base_offset {
        return Ok(Err(IndexLoadError::Invalid(Corruption::BadIndex(
            "entry out of range",
        ))));
    }
    Ok(Ok(idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<IndexEntry> {
        vec![
            IndexEntry {
                rel_offset: 0,
                position: 24,
                arrival_ms: 10,
            },
            IndexEntry {
                rel_offset: 10,
                position: 1000,
                arrival_ms: 20,
            },
            IndexEntry {
                rel_offset: 25,
                position: 2000,
                arrival_ms: 20,
            },
            IndexEntry {
                rel_offset: 40,
                position: 3000,
                arrival_ms: 30,
            },
        ]
    }

    #[test]
    fn seek_offset_picks_the_last_entry_at_or_before_the_target() {
        let e = entries();
        assert_eq!(seek_offset(&e, 100, 99), 24);
        assert_eq!(seek_offset(&e, 100, 100), 24);
        assert_eq!(seek_offset(&e, 100, 109), 24);
        assert_eq!(seek_offset(&e, 100, 110), 1000);
        assert_eq!(seek_offset(&e, 100, 1000), 3000);
        assert_eq!(seek_offset(&[], 100, 1000), 24);
    }

    #[test]
    fn seek_time_scans_from_the_last_entry_before_the_time() {
        let e = entries();
        assert!(matches!(seek_time(&e, 5), TimeSeek::Exact(x) if x.rel_offset == 0));
        assert!(matches!(seek_time(&e, 10), TimeSeek::Exact(x) if x.rel_offset == 0));
        assert!(matches!(seek_time(&e, 11), TimeSeek::ScanFrom(x) if x.position == 24));
        assert!(matches!(seek_time(&e, 20), TimeSeek::ScanFrom(x) if x.position == 24));
        assert!(matches!(seek_time(&e, 21), TimeSeek::ScanFrom(x) if x.position == 2000));
        assert!(matches!(seek_time(&e, 31), TimeSeek::ScanFrom(x) if x.position == 3000));
        assert!(matches!(seek_time(&[], 31), TimeSeek::Empty));
    }

    #[test]
    fn builder_indexes_the_first_batch_and_then_every_interval() {
        let mut b = IndexBuilder::new(100);
        let mut got = Vec::new();
        let mut pos = 24;
        for i in 0..10u64 {
            if let Some(e) = b.observe(0, i, pos, 40, i as i64) {
                got.push(e.rel_offset);
            }
            pos += 40;
        }
        assert_eq!(got, vec![0, 3, 6, 9]);
    }
}
