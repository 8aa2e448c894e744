//! Read-only dumps of segment files, index files and shard directories, for
//! `freshet inspect`. Nothing here ever writes, truncates or renames a file; it reports what
//! recovery would keep and where (and why) a torn or corrupt tail starts.

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::{Corruption, LogError};
use crate::format::{
    BatchHeader, IndexFile, SEGMENT_MAGIC, SegmentHeader, check_batch, decode_batch,
    parse_file_name, segment_header,
};
use crate::fsutil::read_at;
use crate::segment::{BatchCursor, CursorError};

/// The header of a segment file as found, even when invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderDump {
    /// The first 8 bytes (`FRSHTLOG` when valid).
    pub magic: [u8; 8],
    /// Format version field.
    pub version: u16,
    /// Base offset field.
    pub base_offset: u64,
    /// Why the header is invalid, if it is.
    pub problem: Option<Corruption>,
}

/// One record of a dumped batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDump {
    /// Offset of the record.
    pub offset: u64,
    /// Partition key.
    pub partition_key: String,
    /// Payload.
    pub data: Bytes,
}

/// One batch of a dumped segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDump {
    /// Byte position of the batch in the file.
    pub position: u64,
    /// Offset of its first record.
    pub base_offset: u64,
    /// Number of records (as stored in the header).
    pub record_count: u32,
    /// Arrival time (Unix ms).
    pub arrival_ms: i64,
    /// Length in bytes, header included.
    pub length: u32,
    /// Whether the stored CRC32C matches.
    pub crc_ok: bool,
    /// Decoded records (empty when the batch is invalid).
    pub records: Vec<RecordDump>,
}

/// Where the valid part of a segment ends early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailDump {
    /// Byte position of the first invalid byte (start of the bad batch).
    pub position: u64,
    /// Why it is invalid.
    pub reason: Corruption,
    /// Bytes from `position` to the end of the file (what recovery would truncate).
    pub bytes: u64,
}

/// Everything in one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDump {
    /// The file.
    pub path: PathBuf,
    /// Its length.
    pub file_len: u64,
    /// The header, or `None` when the file is shorter than a header.
    pub header: Option<HeaderDump>,
    /// Valid batches in order, then at most one invalid batch (with `crc_ok == false`).
    pub batches: Vec<BatchDump>,
    /// The torn or corrupt tail, if any.
    pub tail: Option<TailDump>,
}

/// One index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDump {
    /// The file.
    pub path: PathBuf,
    /// Its decoded contents, or why it could not be decoded.
    pub contents: Result<IndexFile, Corruption>,
}

/// Everything in a shard directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardDump {
    /// The directory.
    pub dir: PathBuf,
    /// Segment files by base offset.
    pub segments: Vec<SegmentDump>,
    /// Index files by base offset.
    pub indexes: Vec<IndexDump>,
    /// Any other files (for example an interrupted `.idx.tmp`).
    pub other_files: Vec<PathBuf>,
}

/// Dumps a segment file without modifying it.
pub fn dump_segment(path: &Path) -> Result<SegmentDump, LogError> {
    let file = File::open(path).map_err(|e| LogError::io("open", path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| LogError::io("stat", path, e))?
        .len();
    let mut dump = SegmentDump {
        path: path.to_owned(),
        file_len,
        header: None,
        batches: Vec::new(),
        tail: None,
    };
    if file_len < segment_header::LEN as u64 {
        dump.tail = Some(TailDump {
            position: 0,
            reason: Corruption::Truncated {
                needed: segment_header::LEN as u64,
                available: file_len,
            },
            bytes: file_len,
        });
        return Ok(dump);
    }
    let raw = read_at(&file, 0, segment_header::LEN).map_err(|e| LogError::io("read", path, e))?;
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&raw[segment_header::MAGIC]);
    let mut version = [0u8; 2];
    version.copy_from_slice(&raw[segment_header::VERSION]);
    let mut base = [0u8; 8];
    base.copy_from_slice(&raw[segment_header::BASE_OFFSET]);
    let base_offset = u64::from_le_bytes(base);
    let problem = SegmentHeader::decode(&raw).err();
    dump.header = Some(HeaderDump {
        magic,
        version: u16::from_le_bytes(version),
        base_offset,
        problem: problem.clone(),
    });
    if magic != SEGMENT_MAGIC {
        dump.tail = Some(TailDump {
            position: 0,
            reason: Corruption::BadMagic,
            bytes: file_len,
        });
        return Ok(dump);
    }
    let mut expected = base_offset;
    let mut cursor = BatchCursor::new(&file, segment_header::LEN as u64, file_len);
    loop {
        let (position, raw) = match cursor.next_raw() {
            Ok(Some(b)) => b,
            Ok(None) => break,
            Err(CursorError::Io(e)) => return Err(LogError::io("read", path, e)),
            Err(CursorError::Corrupt { position, reason }) => {
                dump.tail = Some(TailDump {
                    position,
                    reason,
                    bytes: file_len - position,
                });
                break;
            }
        };
        let h = BatchHeader::decode(&raw);
        let mut batch = BatchDump {
            position,
            base_offset: h.base_offset,
            record_count: h.record_count,
            arrival_ms: h.arrival_ms,
            length: h.length,
            crc_ok: false,
            records: Vec::new(),
        };
        let checked = check_batch(&raw).and_then(|_| decode_batch(&raw));
        let problem = match checked {
            Ok(_) if h.base_offset != expected => Some(Corruption::OffsetGap {
                expected,
                found: h.base_offset,
            }),
            Ok((_, records)) => {
                batch.crc_ok = true;
                batch.records = records
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| RecordDump {
                        offset: h.base_offset + i as u64,
                        partition_key: String::from_utf8_lossy(&r.partition_key).into_owned(),
                        data: r.data,
                    })
                    .collect();
                None
            }
            Err(reason) => {
                batch.crc_ok = !matches!(reason, Corruption::BadCrc { .. });
                Some(reason)
            }
        };
        dump.batches.push(batch);
        if let Some(reason) = problem {
            dump.tail = Some(TailDump {
                position,
                reason,
                bytes: file_len - position,
            });
            break;
        }
        expected = h.next_offset();
    }
    Ok(dump)
}

/// Dumps an index file without modifying it.
pub fn dump_index(path: &Path) -> Result<IndexDump, LogError> {
    let bytes = fs::read(path).map_err(|e| LogError::io("read", path, e))?;
    Ok(IndexDump {
        path: path.to_owned(),
        contents: IndexFile::decode(&bytes),
    })
}

/// Dumps every segment and index file of a shard directory without modifying anything.
pub fn dump_shard(dir: &Path) -> Result<ShardDump, LogError> {
    let mut segments = Vec::new();
    let mut indexes = Vec::new();
    let mut other_files = Vec::new();
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| LogError::io("list directory", dir, e))? {
        let entry = entry.map_err(|e| LogError::io("list directory", dir, e))?;
        names.push(entry.path());
    }
    names.sort();
    for p in names {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if parse_file_name(&name, "log").is_some() {
            segments.push(dump_segment(&p)?);
        } else if parse_file_name(&name, "idx").is_some() {
            indexes.push(dump_index(&p)?);
        } else {
            other_files.push(p);
        }
    }
    Ok(ShardDump {
        dir: dir.to_owned(),
        segments,
        indexes,
        other_files,
    })
}

impl fmt::Display for SegmentDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "segment {} ({} bytes)",
            self.path.display(),
            self.file_len
        )?;
        if let Some(h) = &self.header {
            write!(
                f,
                "  header: magic {:?} version {} base offset {}",
                String::from_utf8_lossy(&h.magic),
                h.version,
                h.base_offset
            )?;
            match &h.problem {
                Some(p) => writeln!(f, " INVALID: {p}")?,
                None => writeln!(f, " ok")?,
            }
        }
        for b in &self.batches {
            writeln!(
                f,
                "  batch @{} offsets {}..{} records {} arrival_ms {} length {} crc {}",
                b.position,
                b.base_offset,
                b.base_offset.saturating_add(u64::from(b.record_count)),
                b.record_count,
                b.arrival_ms,
                b.length,
                if b.crc_ok { "ok" } else { "BAD" }
            )?;
            for r in &b.records {
                writeln!(
                    f,
                    "    #{} key {:?} {} bytes",
                    r.offset,
                    r.partition_key,
                    r.data.len()
                )?;
            }
        }
        match &self.tail {
            Some(t) => writeln!(
                f,
                "  bad tail @{} ({} bytes): {}",
                t.position, t.bytes, t.reason
            ),
            None => writeln!(f, "  clean end"),
        }
    }
}
