//! Opening a shard directory: find its segments, validate or rebuild sealed indexes, scan the
//! active (last) segment, truncate a torn or corrupt tail, and hand back the recovered state.
//!
//! Invariants after recovery: the active segment ends exactly after its last valid batch and
//! that length is fsynced; every sealed segment has a valid `.idx` on disk; no `*.tmp` and no
//! orphaned `.idx` remain; the next append's offset is one past the last valid record.
//! Sealed segments are never modified: if one has a corrupt tail (only possible after media
//! damage, since a segment is fsynced before its index is written) its valid prefix is served.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::config::LogConfig;
use crate::error::{Corruption, LogError};
use crate::format::{
    IndexEntry, SegmentHeader, index_file_name, parse_file_name, segment_file_name, segment_header,
};
use crate::fsutil::fsync_dir;
use crate::index::{IndexLoadError, load_index_file, persist_index_file};
use crate::segment::{
    ActiveSegment, SealedSegment, SegmentFile, read_segment_header, scan_segment,
};

/// The state of a shard directory after recovery.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) sealed: Vec<Arc<SealedSegment>>,
    pub(crate) active: ActiveSegment,
    pub(crate) active_index: Vec<IndexEntry>,
}

/// Opens (creating if missing) and recovers the shard log in `dir`.
pub(crate) fn recover(dir: &Path, config: &LogConfig) -> Result<Recovered, LogError> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|e| LogError::io("create directory", dir, e))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fsync_dir(parent)?;
        }
    }
    let mut logs = BTreeSet::new();
    let mut idxs = BTreeSet::new();
    let mut dir_dirty = false;
    let entries = fs::read_dir(dir).map_err(|e| LogError::io("list directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LogError::io("list directory", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(base) = parse_file_name(name, "log") {
            logs.insert(base);
        } else if let Some(base) = parse_file_name(name, "idx") {
            idxs.insert(base);
        } else if name.ends_with(".idx.tmp") {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| LogError::io("remove", &p, e))?;
            dir_dirty = true;
        }
    }
    let interval = config.index_interval_bytes;
    let Some(&last) = logs.last() else {
        let active = ActiveSegment::create(dir, 0, interval)
            .map_err(|e| LogError::io("create segment", dir.join(segment_file_name(0)), e))?;
        active
            .file
            .file
            .sync_all()
            .map_err(|e| LogError::io("fsync", &active.file.path, e))?;
        fsync_dir(dir)?;
        tracing::info!(dir = %dir.display(), "Created a new shard log.");
        return Ok(Recovered {
            sealed: Vec::new(),
            active,
            active_index: Vec::new(),
        });
    };

    let mut sealed = Vec::with_capacity(logs.len() - 1);
    for &base in logs.iter().filter(|&&b| b != last) {
        sealed.push(Arc::new(open_sealed(dir, base, interval)?));
    }
    for &base in &idxs {
        // Index files of the active segment (a crash right after sealing it, before the next
        // segment was created) or of deleted segments are stale: the active index is rebuilt.
        if base == last || !logs.contains(&base) {
            let p = dir.join(index_file_name(base));
            fs::remove_file(&p).map_err(|e| LogError::io("remove", &p, e))?;
            dir_dirty = true;
        }
    }
    let (active, active_index, truncated) = open_active(dir, last, interval)?;
    if let Some(prev) = sealed.last()
        && prev.next_offset != active.base_offset
    {
        tracing::warn!(
            dir = %dir.display(),
            expected = prev.next_offset,
            found = active.base_offset,
            "Active segment does not start where the previous one ends.",
        );
    }
    if dir_dirty {
        fsync_dir(dir)?;
    }
    tracing::info!(
        dir = %dir.display(),
        sealed_segments = sealed.len(),
        next_offset = active.next_offset,
        active_bytes = active.pos,
        truncated_bytes = truncated,
        "Recovered shard log.",
    );
    Ok(Recovered {
        sealed,
        active,
        active_index,
    })
}

fn check_header(path: &Path, file: &File, len: u64, base: u64) -> Result<(), LogError> {
    let header = read_segment_header(file, len).map_err(|e| LogError::io("read", path, e))?;
    match header {
        Ok(SegmentHeader { base_offset, .. }) if base_offset == base => Ok(()),
        Ok(SegmentHeader { base_offset, .. }) => Err(LogError::corrupt(
            path,
            0,
            Corruption::BaseOffsetMismatch {
                expected: base,
                found: base_offset,
            },
        )),
        Err(c) => Err(LogError::corrupt(path, 0, c)),
    }
}

fn open_sealed(dir: &Path, base: u64, interval: u32) -> Result<SealedSegment, LogError> {
    let path = dir.join(segment_file_name(base));
    let idx_path = dir.join(index_file_name(base));
    let file = File::open(&path).map_err(|e| LogError::io("open", &path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| LogError::io("stat", &path, e))?
        .len();
    check_header(&path, &file, file_len, base)?;
    let why = match load_index_file(&idx_path, base, file_len)? {
        Ok(idx) => {
            // Readers stop at `next_offset`, so a corrupt tail found when this index was
            // rebuilt is never read even though `len` covers the whole file.
            let seg = SealedSegment {
                base_offset: base,
                file: Arc::new(SegmentFile { path, file }),
                idx_path,
                len: file_len,
                file_len,
                next_offset: idx.next_offset,
                last_arrival_ms: idx.last_arrival_ms,
                index: idx.entries,
                durable: AtomicBool::new(true),
            };
            return Ok(seg);
        }
        Err(IndexLoadError::Missing) => None,
        Err(IndexLoadError::Invalid(c)) => Some(c),
    };
    tracing::warn!(
        path = %idx_path.display(),
        reason = why.as_ref().map_or_else(|| "missing".to_owned(), |c| c.to_string()),
        "Rebuilding a sealed segment's index.",
    );
    let scan = scan_segment(&file, base, file_len, interval)
        .map_err(|e| LogError::io("read", &path, e))?;
    if let Some((position, reason)) = &scan.stop {
        tracing::error!(
            path = %path.display(),
            position = *position,
            reason = %reason,
            "Sealed segment has a corrupt tail; serving its valid prefix.",
        );
    }
    let seg = SealedSegment {
        base_offset: base,
        file: Arc::new(SegmentFile { path, file }),
        idx_path,
        len: scan.valid_len,
        file_len,
        next_offset: scan.next_offset,
        last_arrival_ms: scan.last_arrival_ms,
        index: scan.index,
        durable: AtomicBool::new(true),
    };
    persist_index_file(dir, &seg.idx_path, &seg.index_file())?;
    Ok(seg)
}

fn open_active(
    dir: &Path,
    base: u64,
    interval: u32,
) -> Result<(ActiveSegment, Vec<IndexEntry>, u64), LogError> {
    let path = dir.join(segment_file_name(base));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io("open", &path, e))?;
    let mut file_len = file
        .metadata()
        .map_err(|e| LogError::io("stat", &path, e))?
        .len();
    if file_len <= segment_header::LEN as u64
        && !matches!(read_segment_header(&file, file_len), Ok(Ok(_)))
    {
        // A crash while the segment was being created: nothing was ever appended to it.
        tracing::warn!(path = %path.display(), "Rewriting the torn header of an empty segment.");
        rewrite_header(&file, base).map_err(|e| LogError::io("write", &path, e))?;
        file_len = segment_header::LEN as u64;
    }
    check_header(&path, &file, file_len, base)?;
    let scan = scan_segment(&file, base, file_len, interval)
        .map_err(|e| LogError::io("read", &path, e))?;
    let truncated = file_len - scan.valid_len;
    if let Some((position, reason)) = &scan.stop {
        tracing::warn!(
            path = %path.display(),
            position = *position,
            reason = %reason,
            truncated_bytes = truncated,
            valid_batches = scan.batches,
            valid_records = scan.records,
            "Truncating a torn or corrupt tail of the active segment.",
        );
        file.set_len(scan.valid_len)
            .map_err(|e| LogError::io("truncate", &path, e))?;
    }
    // Also makes data written by a previous process that never fsynced durable before any of
    // it becomes visible.
    file.sync_all()
        .map_err(|e| LogError::io("fsync", &path, e))?;
    let active = ActiveSegment {
        base_offset: base,
        file: Arc::new(SegmentFile { path, file }),
        pos: scan.valid_len,
        next_offset: scan.next_offset,
        last_arrival_ms: scan.last_arrival_ms,
        builder: scan.builder,
    };
    Ok((active, scan.index, truncated))
}

fn rewrite_header(file: &File, base: u64) -> io::Result<()> {
    file.set_len(0)?;
    file.write_all_at(&SegmentHeader::encode(base), 0)?;
    file.sync_all()
}
