//! The on-disk format of segment (`.log`) and index (`.idx`) files: byte layouts, encoding,
//! decoding and checksums. No I/O happens here.
//!
//! `docs/FORMAT.md` repeats this layout for readers who do not read Rust.
//!
//! # Files in a shard directory
//!
//! ```text
//! <dir>/<base_offset:020>.log   segment: header, then batches back to back
//! <dir>/<base_offset:020>.idx   sparse index of a SEALED segment (written once, at roll)
//! <dir>/*.tmp                   an index being written; deleted by recovery
//! ```
//!
//! `base_offset` is the offset of the first record the segment holds (or will hold). The last
//! segment (highest base offset) is the active one; every other one is sealed and immutable.
//!
//! All integers are little-endian and fixed width. Every CRC is CRC32C (Castagnoli).
//!
//! # Segment header (24 bytes, [`segment_header`])
//!
//! | bytes  | field        | notes                                            |
//! |--------|--------------|--------------------------------------------------|
//! | 0..8   | magic        | `FRSHTLOG`                                       |
//! | 8..10  | version      | u16, currently 1                                 |
//! | 10..12 | reserved     | zero                                             |
//! | 12..20 | base offset  | u64, equals the number in the file name          |
//! | 20..24 | header CRC   | u32, CRC32C of bytes 0..20                       |
//!
//! # Batch (one per append, [`batch_header`] then records)
//!
//! | bytes  | field        | notes                                                      |
//! |--------|--------------|------------------------------------------------------------|
//! | 0..4   | length       | u32, whole batch including this header; 32..=64 MiB        |
//! | 4..8   | CRC          | u32, CRC32C of bytes 8..length (everything after this field)|
//! | 8..16  | base offset  | u64, offset of the first record; the next batch starts at base + count |
//! | 16..20 | record count | u32, at least 1                                            |
//! | 20..28 | arrival ms   | i64, Unix ms shared by all records; never decreases in a shard |
//! | 28     | codec        | u8, [`Codec`]; 0 = uncompressed                           |
//! | 29..32 | reserved     | zero                                                       |
//!
//! Each record ([`record_header`]), `record count` times, fills the rest of the batch exactly:
//!
//! | bytes    | field          | notes                          |
//! |----------|----------------|--------------------------------|
//! | 0..2     | key length `k` | u16                            |
//! | 2..6     | data length `d`| u32                            |
//! | 6..6+k   | partition key  | UTF-8                          |
//! | 6+k..+d  | data           | opaque bytes                   |
//!
//! Record `i` of a batch has offset `base offset + i`.
//!
//! # Index file (sealed segments only, [`index_header`] then entries)
//!
//! | bytes  | field         | notes                                                    |
//! |--------|---------------|----------------------------------------------------------|
//! | 0..8   | magic         | `FRSHTIDX`                                               |
//! | 8..10  | version       | u16, currently 1                                         |
//! | 10..12 | reserved      | zero                                                     |
//! | 12..20 | base offset   | u64, same as the segment's                               |
//! | 20..24 | entry count   | u32                                                      |
//! | 24..32 | log length    | u64, size of the `.log` file this index describes        |
//! | 32..40 | next offset   | u64, one past the segment's last record                  |
//! | 40..48 | last arrival  | i64, arrival ms of the newest record (`i64::MIN` if none)|
//! | 48..52 | CRC           | u32, CRC32C of bytes 0..48 followed by all entries       |
//!
//! Each entry ([`index_entry`], 16 bytes) points at the start of a batch:
//!
//! | bytes | field           | notes                                |
//! |-------|-----------------|--------------------------------------|
//! | 0..4  | relative offset | u32, batch base offset - segment base |
//! | 4..8  | position        | u32, byte position of the batch      |
//! | 8..16 | arrival ms      | i64, the batch's arrival time        |
//!
//! The first batch of a segment always has an entry; later entries follow whenever at least
//! `index_interval_bytes` were appended since the previous one. Offsets, positions and arrival
//! times all increase (arrival weakly), so one binary search serves seek-by-offset and
//! seek-by-time. An index that fails any check is rebuilt from its segment.
//!
//! # Invariants
//!
//! * A segment never exceeds [`MAX_SEGMENT_BYTES`] (positions fit in u32).
//! * A batch never exceeds [`MAX_BATCH_BYTES`]; a larger length field is corruption, so no
//!   allocation is ever sized by an unvalidated length.

use std::ops::Range;

use bytes::Bytes;

use crate::error::{Corruption, LogError};

/// Magic bytes at the start of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"FRSHTLOG";
/// Magic bytes at the start of every index file.
pub const INDEX_MAGIC: [u8; 8] = *b"FRSHTIDX";
/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest allowed batch, header included. Appends that encode larger fail with `TooLarge`.
pub const MAX_BATCH_BYTES: u64 = 64 * 1024 * 1024;
/// Largest allowed segment file (index positions are u32).
pub const MAX_SEGMENT_BYTES: u64 = u32::MAX as u64;
/// Stored in place of an absent arrival time (an empty segment).
pub const NO_ARRIVAL: i64 = i64::MIN;

/// Byte ranges of the segment file header.
pub mod segment_header {
    use super::Range;
    /// `FRSHTLOG`.
    pub const MAGIC: Range<usize> = 0..8;
    /// u16 format version.
    pub const VERSION: Range<usize> = 8..10;
    /// Zero.
    pub const RESERVED: Range<usize> = 10..12;
    /// u64 base offset.
    pub const BASE_OFFSET: Range<usize> = 12..20;
    /// u32 CRC32C of bytes `0..20`.
    pub const CRC: Range<usize> = 20..24;
    /// Header length.
    pub const LEN: usize = 24;
}

/// Byte ranges of the batch header.
pub mod batch_header {
    use super::Range;
    /// u32 length of the whole batch.
    pub const LENGTH: Range<usize> = 0..4;
    /// u32 CRC32C of bytes `8..length`.
    pub const CRC: Range<usize> = 4..8;
    /// u64 offset of the first record.
    pub const BASE_OFFSET: Range<usize> = 8..16;
    /// u32 number of records.
    pub const RECORD_COUNT: Range<usize> = 16..20;
    /// i64 arrival time in Unix ms.
    pub const ARRIVAL_MS: Range<usize> = 20..28;
    /// u8 codec.
    pub const CODEC: usize = 28;
    /// Zero.
    pub const RESERVED: Range<usize> = 29..32;
    /// Where the CRC coverage starts.
    pub const CRC_START: usize = 8;
    /// Header length.
    pub const LEN: usize = 32;
}

/// Byte ranges of a record header inside a batch.
pub mod record_header {
    use super::Range;
    /// u16 partition key length.
    pub const KEY_LEN: Range<usize> = 0..2;
    /// u32 data length.
    pub const DATA_LEN: Range<usize> = 2..6;
    /// Header length.
    pub const LEN: usize = 6;
}

/// Byte ranges of the index file header.
pub mod index_header {
    use super::Range;
    /// `FRSHTIDX`.
    pub const MAGIC: Range<usize> = 0..8;
    /// u16 format version.
    pub const VERSION: Range<usize> = 8..10;
    /// Zero.
    pub const RESERVED: Range<usize> = 10..12;
    /// u64 base offset of the segment.
    pub const BASE_OFFSET: Range<usize> = 12..20;
    /// u32 number of entries.
    pub const ENTRY_COUNT: Range<usize> = 20..24;
    /// u64 length of the described `.log` file.
    pub const LOG_LEN: Range<usize> = 24..32;
    /// u64 one past the last record of the segment.
    pub const NEXT_OFFSET: Range<usize> = 32..40;
    /// i64 arrival of the newest record, or `i64::MIN`.
    pub const LAST_ARRIVAL_MS: Range<usize> = 40..48;
    /// u32 CRC32C of bytes `0..48` followed by all entries.
    pub const CRC: Range<usize> = 48..52;
    /// Header length.
    pub const LEN: usize = 52;
}

/// Byte ranges of one index entry.
pub mod index_entry {
    use super::Range;
    /// u32 batch base offset minus segment base offset.
    pub const REL_OFFSET: Range<usize> = 0..4;
    /// u32 byte position of the batch in the segment.
    pub const POSITION: Range<usize> = 4..8;
    /// i64 arrival time of the batch.
    pub const ARRIVAL_MS: Range<usize> = 8..16;
    /// Entry length.
    pub const LEN: usize = 16;
}

/// How a batch's records are encoded.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Records stored as is. Persisted: never renumber or reuse.
    Uncompressed = 0,
}

impl Codec {
    /// Parses the persisted codec byte.
    pub fn from_u8(v: u8) -> Result<Codec, Corruption> {
        match v {
            0 => Ok(Codec::Uncompressed),
            other => Err(Corruption::UnknownCodec(other)),
        }
    }
}

fn u16_at(b: &[u8], r: Range<usize>) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[r]);
    u16::from_le_bytes(a)
}

fn u32_at(b: &[u8], r: Range<usize>) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[r]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], r: Range<usize>) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[r]);
    u64::from_le_bytes(a)
}

fn i64_at(b: &[u8], r: Range<usize>) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[r]);
    i64::from_le_bytes(a)
}

/// Name of the segment file with this base offset.
pub fn segment_file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.log")
}

/// Name of the index file of the segment with this base offset.
pub fn index_file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.idx")
}

/// Parses `<20 digits>.<ext>` into the base offset, if the name has that shape.
pub fn parse_file_name(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// A decoded segment file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Format version.
    pub version: u16,
    /// Offset of the segment's first record.
    pub base_offset: u64,
}

impl SegmentHeader {
    /// Encodes a current-version header for `base_offset`.
    pub fn encode(base_offset: u64) -> [u8; segment_header::LEN] {
        let mut b = [0u8; segment_header::LEN];
        b[segment_header::MAGIC].copy_from_slice(&SEGMENT_MAGIC);
        b[segment_header::VERSION].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[segment_header::BASE_OFFSET].copy_from_slice(&base_offset.to_le_bytes());
        let crc = crc32c::crc32c(&b[..segment_header::CRC.start]);
        b[segment_header::CRC].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and validates a header (magic, version, CRC).
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, Corruption> {
        if b.len() < segment_header::LEN {
            return Err(Corruption::Truncated {
                needed: segment_header::LEN as u64,
                available: b.len() as u64,
            });
        }
        if b[segment_header::MAGIC] != SEGMENT_MAGIC {
            return Err(Corruption::BadMagic);
        }
        let crc = crc32c::crc32c(&b[..segment_header::CRC.start]);
        if crc != u32_at(b, segment_header::CRC) {
            return Err(Corruption::BadHeaderCrc);
        }
        let version = u16_at(b, segment_header::VERSION);
        if version != FORMAT_VERSION {
            return Err(Corruption::UnsupportedVersion(version));
        }
        Ok(SegmentHeader {
            version,
            base_offset: u64_at(b, segment_header::BASE_OFFSET),
        })
    }
}

/// The fixed-width header of a batch, as stored (not yet validated beyond its shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Whole batch length including the header.
    pub length: u32,
    /// Stored CRC32C of bytes `8..length`.
    pub crc: u32,
    /// Offset of the first record.
    pub base_offset: u64,
    /// Number of records.
    pub record_count: u32,
    /// Arrival time shared by the records (Unix ms).
    pub arrival_ms: i64,
    /// Codec byte.
    pub codec: u8,
}

impl BatchHeader {
    /// Reads the header fields from the first [`batch_header::LEN`] bytes of `b`.
    ///
    /// `b` must hold at least that many bytes.
    pub fn decode(b: &[u8]) -> BatchHeader {
        BatchHeader {
            length: u32_at(b, batch_header::LENGTH),
            crc: u32_at(b, batch_header::CRC),
            base_offset: u64_at(b, batch_header::BASE_OFFSET),
            record_count: u32_at(b, batch_header::RECORD_COUNT),
            arrival_ms: i64_at(b, batch_header::ARRIVAL_MS),
            codec: b[batch_header::CODEC],
        }
    }

    /// Checks the length field against the format's bounds.
    pub fn check_length(&self) -> Result<(), Corruption> {
        let len = u64::from(self.length);
        if len < batch_header::LEN as u64 || len > MAX_BATCH_BYTES {
            return Err(Corruption::BadLength(len));
        }
        Ok(())
    }

    /// One past the last offset in the batch.
    pub fn next_offset(&self) -> u64 {
        self.base_offset
            .saturating_add(u64::from(self.record_count))
    }
}

/// One record to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordIn<'a> {
    /// The record's partition key (at most `u16::MAX` bytes).
    pub partition_key: &'a str,
    /// The record's payload.
    pub data: &'a [u8],
}

/// Records encoded into batch form, waiting for their base offset and arrival time.
///
/// Encoding and the records' CRC are computed before the shard's write lock is taken;
/// [`EncodedBatch::finish`] fills in the header under the lock.
#[derive(Debug)]
pub struct EncodedBatch {
    buf: Vec<u8>,
    body_crc: u32,
    record_count: u32,
}

/// Encodes `records` into a batch buffer (header left blank).
pub fn encode_records(records: &[RecordIn<'_>]) -> Result<EncodedBatch, LogError> {
    if records.is_empty() {
        return Err(LogError::InvalidBatch {
            reason: "a batch needs at least one record",
        });
    }
    let record_count = u32::try_from(records.len()).map_err(|_| LogError::InvalidBatch {
        reason: "too many records in one batch",
    })?;
    let mut total = batch_header::LEN as u64;
    for r in records {
        if r.partition_key.len() > usize::from(u16::MAX) {
            return Err(LogError::InvalidBatch {
                reason: "partition key longer than 65535 bytes",
            });
        }
        total += (record_header::LEN + r.partition_key.len() + r.data.len()) as u64;
    }
    if total > MAX_BATCH_BYTES {
        return Err(LogError::TooLarge {
            bytes: total,
            max: MAX_BATCH_BYTES,
        });
    }
    // `total` is bounded by MAX_BATCH_BYTES, so the allocation is too.
    let mut buf = Vec::with_capacity(total as usize);
    buf.resize(batch_header::LEN, 0);
    for r in records {
        buf.extend_from_slice(&(r.partition_key.len() as u16).to_le_bytes());
        buf.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        buf.extend_from_slice(r.partition_key.as_bytes());
        buf.extend_from_slice(r.data);
    }
    let body_crc = crc32c::crc32c(&buf[batch_header::LEN..]);
    Ok(EncodedBatch {
        buf,
        body_crc,
        record_count,
    })
}

impl EncodedBatch {
    /// Encoded length of the whole batch.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Always false: a batch has a header.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Number of records in the batch.
    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    /// Fills in the header for `base_offset` and `arrival_ms` and returns the finished bytes.
    pub fn finish(&mut self, base_offset: u64, arrival_ms: i64) -> &[u8] {
        let len = self.buf.len();
        let h = &mut self.buf[..batch_header::LEN];
        h[batch_header::LENGTH].copy_from_slice(&(len as u32).to_le_bytes());
        h[batch_header::BASE_OFFSET].copy_from_slice(&base_offset.to_le_bytes());
        h[batch_header::RECORD_COUNT].copy_from_slice(&self.record_count.to_le_bytes());
        h[batch_header::ARRIVAL_MS].copy_from_slice(&arrival_ms.to_le_bytes());
        h[batch_header::CODEC] = Codec::Uncompressed as u8;
        h[batch_header::RESERVED].fill(0);
        let head_crc = crc32c::crc32c(&h[batch_header::CRC_START..]);
        let crc = crate::crc::crc32c_combine(head_crc, self.body_crc, len - batch_header::LEN);
        h[batch_header::CRC].copy_from_slice(&crc.to_le_bytes());
        &self.buf
    }

    /// [`EncodedBatch::finish`], handing over the buffer instead of lending it, so the batch can
    /// be written later without a copy.
    pub fn into_finished(mut self, base_offset: u64, arrival_ms: i64) -> Vec<u8> {
        self.finish(base_offset, arrival_ms);
        self.buf
    }
}

/// Validates a complete batch's header and CRC (but not its records).
pub fn check_batch(batch: &[u8]) -> Result<BatchHeader, Corruption> {
    if batch.len() < batch_header::LEN {
        return Err(Corruption::Truncated {
            needed: batch_header::LEN as u64,
            available: batch.len() as u64,
        });
    }
    let h = BatchHeader::decode(batch);
    h.check_length()?;
    if h.length as usize != batch.len() {
        return Err(Corruption::BadLength(u64::from(h.length)));
    }
    let computed = crc32c::crc32c(&batch[batch_header::CRC_START..]);
    if computed != h.crc {
        return Err(Corruption::BadCrc {
            stored: h.crc,
            computed,
        });
    }
    Codec::from_u8(h.codec)?;
    if h.record_count == 0 {
        return Err(Corruption::BadRecords(
            "a batch must hold at least one record",
        ));
    }
    Ok(h)
}

/// One record decoded from a batch; both fields share the batch's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Partition key bytes (valid UTF-8).
    pub partition_key: Bytes,
    /// Payload.
    pub data: Bytes,
}

/// Validates a complete batch (header, CRC, records) and splits it into records.
pub fn decode_batch(batch: &Bytes) -> Result<(BatchHeader, Vec<RawRecord>), Corruption> {
    let h = check_batch(batch)?;
    let mut records = Vec::with_capacity((h.record_count as usize).min(batch.len() / 6));
    let mut pos = batch_header::LEN;
    for _ in 0..h.record_count {
        let rest = &batch[pos..];
        if rest.len() < record_header::LEN {
            return Err(Corruption::BadRecords(
                "record header runs past the batch end",
            ));
        }
        let k = usize::from(u16_at(rest, record_header::KEY_LEN));
        let d = u32_at(rest, record_header::DATA_LEN) as usize;
        let start = pos + record_header::LEN;
        if batch.len() - start < k || batch.len() - start - k < d {
            return Err(Corruption::BadRecords("record runs past the batch end"));
        }
        let key = batch.slice(start..start + k);
        if std::str::from_utf8(&key).is_err() {
            return Err(Corruption::BadRecords("partition key is not UTF-8"));
        }
        records.push(RawRecord {
            partition_key: key,
            data: batch.slice(start + k..start + k + d),
        });
        pos = start + k + d;
    }
    if pos != batch.len() {
        return Err(Corruption::BadRecords(
            "bytes left over after the last record",
        ));
    }
    Ok((h, records))
}

/// One sparse index entry: where a batch starts and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Batch base offset minus the segment's base offset.
    pub rel_offset: u32,
    /// Byte position of the batch in the segment file.
    pub position: u32,
    /// The batch's arrival time.
    pub arrival_ms: i64,
}

impl IndexEntry {
    /// Encodes the entry.
    pub fn encode(&self) -> [u8; index_entry::LEN] {
        let mut b = [0u8; index_entry::LEN];
        b[index_entry::REL_OFFSET].copy_from_slice(&self.rel_offset.to_le_bytes());
        b[index_entry::POSITION].copy_from_slice(&self.position.to_le_bytes());
        b[index_entry::ARRIVAL_MS].copy_from_slice(&self.arrival_ms.to_le_bytes());
        b
    }

    /// Decodes an entry from the first [`index_entry::LEN`] bytes of `b`.
    pub fn decode(b: &[u8]) -> IndexEntry {
        IndexEntry {
            rel_offset: u32_at(b, index_entry::REL_OFFSET),
            position: u32_at(b, index_entry::POSITION),
            arrival_ms: i64_at(b, index_entry::ARRIVAL_MS),
        }
    }
}

/// The contents of a sealed segment's `.idx` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// The segment's base offset.
    pub base_offset: u64,
    /// Length of the `.log` file the index describes.
    pub log_len: u64,
    /// One past the segment's last record.
    pub next_offset: u64,
    /// Arrival of the segment's newest record.
    pub last_arrival_ms: Option<i64>,
    /// Sparse entries, sorted.
    pub entries: Vec<IndexEntry>,
}

impl IndexFile {
    /// Encodes the whole file.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; index_header::LEN];
        b[index_header::MAGIC].copy_from_slice(&INDEX_MAGIC);
        b[index_header::VERSION].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[index_header::BASE_OFFSET].copy_from_slice(&self.base_offset.to_le_bytes());
        b[index_header::ENTRY_COUNT].copy_from_slice(&(self.entries.len() as u32).to_le_bytes());
        b[index_header::LOG_LEN].copy_from_slice(&self.log_len.to_le_bytes());
        b[index_header::NEXT_OFFSET].copy_from_slice(&self.next_offset.to_le_bytes());
        let last = self.last_arrival_ms.unwrap_or(NO_ARRIVAL);
        b[index_header::LAST_ARRIVAL_MS].copy_from_slice(&last.to_le_bytes());
        for e in &self.entries {
            b.extend_from_slice(&e.encode());
        }
        let crc = crc32c::crc32c_append(
            crc32c::crc32c(&b[..index_header::CRC.start]),
            &b[index_header::LEN..],
        );
        b[index_header::CRC].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and validates a whole file: magic, version, CRC, length and entry order.
    pub fn decode(b: &[u8]) -> Result<IndexFile, Corruption> {
        if b.len() < index_header::LEN {
            return Err(Corruption::Truncated {
                needed: index_header::LEN as u64,
                available: b.len() as u64,
            });
        }
        if b[index_header::MAGIC] != INDEX_MAGIC {
            return Err(Corruption::BadMagic);
        }
        let count = u32_at(b, index_header::ENTRY_COUNT) as u64;
        let needed = index_header::LEN as u64 + count * index_entry::LEN as u64;
        if b.len() as u64 != needed {
            return Err(Corruption::Truncated {
                needed,
                available: b.len() as u64,
            });
        }
        let computed = crc32c::crc32c_append(
            crc32c::crc32c(&b[..index_header::CRC.start]),
            &b[index_header::LEN..],
        );
        let stored = u32_at(b, index_header::CRC);
        if computed != stored {
            return Err(Corruption::BadCrc { stored, computed });
        }
        let version = u16_at(b, index_header::VERSION);
        if version != FORMAT_VERSION {
            return Err(Corruption::UnsupportedVersion(version));
        }
        let entries: Vec<IndexEntry> = b[index_header::LEN..]
            .chunks_exact(index_entry::LEN)
            .map(IndexEntry::decode)
            .collect();
        let sorted = entries.windows(2).all(|w| {
            w[0].rel_offset < w[1].rel_offset
                && w[0].position < w[1].position
                && w[0].arrival_ms <= w[1].arrival_ms
        });
        if !sorted {
            return Err(Corruption::BadIndex("entries are not strictly increasing"));
        }
        let last = i64_at(b, index_header::LAST_ARRIVAL_MS);
        Ok(IndexFile {
            base_offset: u64_at(b, index_header::BASE_OFFSET),
            log_len: u64_at(b, index_header::LOG_LEN),
            next_offset: u64_at(b, index_header::NEXT_OFFSET),
            last_arrival_ms: (last != NO_ARRIVAL).then_some(last),
            entries,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn batch_of(records: &[(String, Vec<u8>)], base: u64, arrival: i64) -> Bytes {
        let ins: Vec<RecordIn<'_>> = records
            .iter()
            .map(|(k, d)| RecordIn {
                partition_key: k,
                data: d,
            })
            .collect();
        let mut enc = encode_records(&ins).unwrap();
        Bytes::copy_from_slice(enc.finish(base, arrival))
    }

    #[test]
    fn segment_header_round_trips_and_rejects_damage() {
        let b = SegmentHeader::encode(42);
        assert_eq!(
            SegmentHeader::decode(&b).unwrap(),
            SegmentHeader {
                version: FORMAT_VERSION,
                base_offset: 42
            }
        );
        let mut bad = b;
        bad[13] ^= 1;
        assert_eq!(SegmentHeader::decode(&bad), Err(Corruption::BadHeaderCrc));
        let mut bad = b;
        bad[0] = b'X';
        assert_eq!(SegmentHeader::decode(&bad), Err(Corruption::BadMagic));
        assert!(SegmentHeader::decode(&b[..10]).is_err());
    }

    #[test]
    fn empty_batch_is_rejected() {
        assert!(matches!(
            encode_records(&[]),
            Err(LogError::InvalidBatch { .. })
        ));
    }

    #[test]
    fn oversized_batch_is_rejected_before_allocating() {
        let data = vec![0u8; 1024 * 1024];
        let records: Vec<RecordIn<'_>> = (0..65)
            .map(|_| RecordIn {
                partition_key: "k",
                data: &data,
            })
            .collect();
        assert!(matches!(
            encode_records(&records),
            Err(LogError::TooLarge { .. })
        ));
    }

    #[test]
    fn flipped_bit_anywhere_in_a_batch_is_detected() {
        let b = batch_of(
            &[("key".into(), b"hello".to_vec()), ("k2".into(), vec![])],
            7,
            99,
        );
        for i in 0..b.len() {
            let mut v = b.to_vec();
            v[i] ^= 0x10;
            assert!(
                decode_batch(&Bytes::from(v)).is_err(),
                "flip at byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn oversized_length_field_is_corruption() {
        let mut v = batch_of(&[("k".into(), b"x".to_vec())], 0, 0).to_vec();
        v[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            BatchHeader::decode(&v).check_length(),
            Err(Corruption::BadLength(u64::from(u32::MAX)))
        );
    }

    #[test]
    fn file_names_round_trip() {
        assert_eq!(segment_file_name(5), "00000000000000000005.log");
        assert_eq!(parse_file_name(&segment_file_name(123), "log"), Some(123));
        assert_eq!(
            parse_file_name(&index_file_name(u64::MAX), "idx"),
            Some(u64::MAX)
        );
        assert_eq!(parse_file_name("5.log", "log"), None);
        assert_eq!(parse_file_name("0000000000000000000a.log", "log"), None);
    }

    fn records_strategy() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
        prop::collection::vec(
            (".{0,20}", prop::collection::vec(any::<u8>(), 0..300)),
            1..20,
        )
    }

    proptest! {
        #[test]
        fn batch_round_trips(records in records_strategy(), base in any::<u64>(), arrival in any::<i64>()) {
            let b = batch_of(&records, base, arrival);
            let (h, decoded) = decode_batch(&b).unwrap();
            prop_assert_eq!(h.base_offset, base);
            prop_assert_eq!(h.arrival_ms, arrival);
            prop_assert_eq!(h.record_count as usize, records.len());
            prop_assert_eq!(h.length as usize, b.len());
            prop_assert_eq!(decoded.len(), records.len());
            for (d, (k, v)) in decoded.iter().zip(&records) {
                prop_assert_eq!(&d.partition_key[..], k.as_bytes());
                prop_assert_eq!(&d.data[..], &v[..]);
            }
        }

        #[test]
        fn truncated_batch_never_decodes(records in records_strategy(), cut in any::<prop::sample::Index>()) {
            let b = batch_of(&records, 1, 2);
            let cut = cut.index(b.len());
            prop_assert!(decode_batch(&b.slice(..cut)).is_err());
        }

        #[test]
        fn index_entry_round_trips(rel in any::<u32>(), pos in any::<u32>(), arrival in any::<i64>()) {
            let e = IndexEntry { rel_offset: rel, position: pos, arrival_ms: arrival };
            prop_assert_eq!(IndexEntry::decode(&e.encode()), e);
        }

        #[test]
        fn index_file_round_trips(
            base in any::<u64>(),
            log_len in any::<u64>(),
            next in any::<u64>(),
            last in proptest::option::of(-1_000_000i64..1_000_000),
            steps in prop::collection::vec((1u32..1000, 1u32..1000, 0i64..1000), 0..50),
        ) {
            let mut entries = Vec::new();
            let (mut r, mut p, mut a) = (0u32, 0u32, 0i64);
            for (dr, dp, da) in steps {
                r += dr; p += dp; a += da;
                entries.push(IndexEntry { rel_offset: r, position: p, arrival_ms: a });
            }
            let f = IndexFile { base_offset: base, log_len, next_offset: next, last_arrival_ms: last, entries };
            let bytes = f.encode();
            prop_assert_eq!(IndexFile::decode(&bytes).unwrap(), f);
            if bytes.len() > index_header::LEN {
                let mut bad = bytes.clone();
                let i = bad.len() - 1;
                bad[i] ^= 1;
                prop_assert!(IndexFile::decode(&bad).is_err());
            }
            prop_assert!(IndexFile::decode(&bytes[..bytes.len() - 1]).is_err());
        }
    }
}
