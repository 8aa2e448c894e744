//! Segment files: the active segment (the only one ever written), sealed segments (immutable,
//! with a persisted sparse index) and a bounded cursor that walks batches by positional reads.
//!
//! Invariants: bytes below a segment's position are complete batches once written (in
//! `Interval` and `None` modes the writer advances the position after a full `write_all_at`; in
//! `Fsync` mode it advances it when it queues the batch for the next sync round, and readers stop
//! at the visible end, which only covers written batches); a cursor never reads past the end it
//! is given, and never allocates more than one batch (at most `MAX_BATCH_BYTES`) plus a
//! read-ahead chunk.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;

use crate::error::Corruption;
use crate::format::{
    BatchHeader, IndexEntry, IndexFile, SegmentHeader, batch_header, check_batch,
    segment_file_name, segment_header,
};
use crate::fsutil::read_at;
use crate::index::IndexBuilder;

/// How much a cursor reads ahead when batches are small.
const READ_AHEAD: u64 = 64 * 1024;

/// An open segment file and its path, shared by the writer, readers and the syncer.
#[derive(Debug)]
pub(crate) struct SegmentFile {
    pub(crate) path: PathBuf,
    pub(crate) file: File,
}

/// A segment that will never be written again.
#[derive(Debug)]
pub(crate) struct SealedSegment {
    pub(crate) base_offset: u64,
    pub(crate) file: Arc<SegmentFile>,
    pub(crate) idx_path: PathBuf,
    /// End of the valid batches; readers never go past it.
    pub(crate) len: u64,
    /// Length of the `.log` file (equal to `len` unless recovery found a corrupt tail).
    pub(crate) file_len: u64,
    /// One past the last record.
    pub(crate) next_offset: u64,
    pub(crate) last_arrival_ms: Option<i64>,
    pub(crate) index: Vec<IndexEntry>,
    /// True once the segment and its `.idx` are fsynced. Only durable segments are deleted.
    pub(crate) durable: AtomicBool,
}

impl SealedSegment {
    /// The persisted form of this segment's index.
    pub(crate) fn index_file(&self) -> IndexFile {
        IndexFile {
            base_offset: self.base_offset,
            log_len: self.file_len,
            next_offset: self.next_offset,
            last_arrival_ms: self.last_arrival_ms,
            entries: self.index.clone(),
        }
    }
}

/// The segment currently appended to. Owned by the shard's writer.
#[derive(Debug)]
pub(crate) struct ActiveSegment {
    pub(crate) base_offset: u64,
    pub(crate) file: Arc<SegmentFile>,
    /// Bytes appended so far (the next batch goes here); in `Fsync` mode the last of them may
    /// still be waiting for the sync round to write them.
    pub(crate) pos: u64,
    /// Offset of the next record appended here.
    pub(crate) next_offset: u64,
    pub(crate) last_arrival_ms: Option<i64>,
    pub(crate) builder: IndexBuilder,
}

impl ActiveSegment {
    /// Creates `<dir>/<base:020>.log` with its header. The caller fsyncs file and directory.
    pub(crate) fn create(dir: &Path, base_offset: u64, index_interval: u32) -> io::Result<Self> {
        let path = dir.join(segment_file_name(base_offset));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all_at(&SegmentHeader::encode(base_offset), 0)?;
        Ok(ActiveSegment {
            base_offset,
            file: Arc::new(SegmentFile { path, file }),
            pos: segment_header::LEN as u64,
            next_offset: base_offset,
            last_arrival_ms: None,
            builder: IndexBuilder::new(index_interval),
        })
    }

    /// Turns this segment into a sealed one with the given index entries.
    pub(crate) fn seal(self, idx_path: PathBuf, index: Vec<IndexEntry>) -> SealedSegment {
        SealedSegment {
            base_offset: self.base_offset,
            file: self.file,
            idx_path,
            len: self.pos,
            file_len: self.pos,
            next_offset: self.next_offset,
            last_arrival_ms: self.last_arrival_ms,
            index,
            durable: AtomicBool::new(false),
        }
    }
}

/// What stopped a cursor.
#[derive(Debug)]
pub(crate) enum CursorError {
    /// A read failed.
    Io(io::Error),
    /// The bytes at `position` are not a valid batch.
    Corrupt {
        /// Where the bad batch starts.
        position: u64,
        /// Why it is bad.
        reason: Corruption,
    },
}

/// Walks the batches of one segment file between two positions using positional reads.
pub(crate) struct BatchCursor<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    buf: Bytes,
    buf_start: u64,
}

impl<'a> BatchCursor<'a> {
    /// A cursor over `[pos, end)`; `pos` must be a batch start.
    pub(crate) fn new(file: &'a File, pos: u64, end: u64) -> Self {
        BatchCursor {
            file,
            pos,
            end,
            buf: Bytes::new(),
            buf_start: pos,
        }
    }

    /// Position of the next batch.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Makes sure `n` bytes from `self.pos` are buffered (`n` is at most the remaining bytes).
    fn fill(&mut self, n: u64) -> io::Result<()> {
        let have = (self.buf_start + self.buf.len() as u64).saturating_sub(self.pos);
        if self.pos >= self.buf_start && have >= n {
            return Ok(());
        }
        let want = n.max(READ_AHEAD).min(self.end - self.pos);
        // `want` is bounded by MAX_BATCH_BYTES or READ_AHEAD: `n` is checked by the caller.
        self.buf = Bytes::from(read_at(self.file, self.pos, want as usize)?);
        self.buf_start = self.pos;
        Ok(())
    }

    fn slice(&self, len: u64) -> Bytes {
        let from = (self.pos - self.buf_start) as usize;
        self.buf.slice(from..from + len as usize)
    }

    /// The next batch's bytes (length-checked, CRC not yet verified) and its position, or
    /// `None` at the end.
    pub(crate) fn next_raw(&mut self) -> Result<Option<(u64, Bytes)>, CursorError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let remaining = self.end - self.pos;
        let corrupt = |reason| CursorError::Corrupt {
            position: self.pos,
            reason,
        };
        if remaining < batch_header::LEN as u64 {
            return Err(corrupt(Corruption::Truncated {
                needed: batch_header::LEN as u64,
                available: remaining,
            }));
        }
        self.fill(batch_header::LEN as u64)
            .map_err(CursorError::Io)?;
        let header = BatchHeader::decode(&self.slice(batch_header::LEN as u64));
        if let Err(reason) = header.check_length() {
            return Err(CursorError::Corrupt {
                position: self.pos,
                reason,
            });
        }
        let len = u64::from(header.length);
        if len > remaining {
            return Err(CursorError::Corrupt {
                position: self.pos,
                reason: Corruption::Truncated {
                    needed: len,
                    available: remaining,
                },
            });
        }
        self.fill(len).map_err(CursorError::Io)?;
        let batch = self.slice(len);
        let at = self.pos;
        self.pos += len;
        Ok(Some((at, batch)))
    }
}

/// The valid prefix of a segment, as found by [`scan_segment`].
#[derive(Debug)]
pub(crate) struct ScanOutcome {
    /// Length of the valid prefix (header included).
    pub(crate) valid_len: u64,
    /// One past the last valid record.
    pub(crate) next_offset: u64,
    pub(crate) last_arrival_ms: Option<i64>,
    pub(crate) batches: u64,
    pub(crate) records: u64,
    /// Sparse index of the valid prefix.
    pub(crate) index: Vec<IndexEntry>,
    /// Index builder state, to continue appending after the prefix.
    pub(crate) builder: IndexBuilder,
    /// Where and why the valid prefix ends, if before `file_len`.
    pub(crate) stop: Option<(u64, Corruption)>,
}

/// Scans a segment from its first batch, validating length, CRC and offset continuity of
/// every batch, and stops at the first bad one.
pub(crate) fn scan_segment(
    file: &File,
    base_offset: u64,
    file_len: u64,
    index_interval: u32,
) -> io::Result<ScanOutcome> {
    let mut out = ScanOutcome {
        valid_len: segment_header::LEN as u64,
        next_offset: base_offset,
        last_arrival_ms: None,
        batches: 0,
        records: 0,
        index: Vec::new(),
        builder: IndexBuilder::new(index_interval),
        stop: None,
    };
    let mut cursor = BatchCursor::new(file, segment_header::LEN as u64, file_len);
    loop {
        let (pos, batch) = match cursor.next_raw() {
            Ok(Some(b)) => b,
            Ok(None) => break,
            Err(CursorError::Io(e)) => return Err(e),
            Err(CursorError::Corrupt { position, reason }) => {
                out.stop = Some((position, reason));
                break;
            }
        };
        let h = match check_batch(&batch) {
            Ok(h) => h,
            Err(reason) => {
                out.stop = Some((pos, reason));
                break;
            }
        };
        if h.base_offset != out.next_offset {
            out.stop = Some((
                pos,
                Corruption::OffsetGap {
                    expected: out.next_offset,
                    found: h.base_offset,
                },
            ));
            break;
        }
        if let Some(e) = out.builder.observe(
            base_offset,
            h.base_offset,
            pos,
            u64::from(h.length),
            h.arrival_ms,
        ) {
            out.index.push(e);
        }
        out.valid_len = cursor.position();
        out.next_offset = h.next_offset();
        out.last_arrival_ms = Some(h.arrival_ms);
        out.batches += 1;
        out.records += u64::from(h.record_count);
    }
    Ok(out)
}

/// Reads and validates a segment header.
pub(crate) fn read_segment_header(
    file: &File,
    file_len: u64,
) -> io::Result<Result<SegmentHeader, Corruption>> {
    if file_len < segment_header::LEN as u64 {
        return Ok(Err(Corruption::Truncated {
            needed: segment_header::LEN as u64,
            available: file_len,
        }));
    }
    let b = read_at(file, 0, segment_header::LEN)?;
    Ok(SegmentHeader::decode(&b))
}
