// SPDX-License-Identifier: Apache-2.0
//! The byte layouts of the metric store's log records: WAL records (points with their keys)
//! and block records (one series' points in one tier window, and a block's series index).
//!
//! Every record starts with a format version byte and a kind byte; the log's CRC per batch
//! guards the bytes, these layouts only have to be decodable (any malformed input is a
//! [`DecodeError`], never a panic). Integers are LEB128 varints (signed ones zigzagged),
//! floats are their IEEE-754 bits little-endian, strings are a varint length and UTF-8.
//!
//! ```text
//! datapoint := flags:u8 (bit0 sketch present) unit:u8 count:f64 sum:f64 min:f64 max:f64
//!              [sketch := zero:f64 side(positive) side(negative)]
//! side      := n:varint { index_delta:zigzag, count:f64 }*n      (indexes ascending)
//! key       := namespace:str name:str n:varint { name:str value:str }*n
//! wal       := VERSION KIND_WAL n:varint { key ts:zigzag res:u8 datapoint }*n
//! chunk     := VERSION KIND_CHUNK series:varint n:varint { ts_delta:zigzag src:u8 datapoint }*n
//! index     := VERSION KIND_INDEX tier:u8 window:zigzag n:varint
//!              { series_delta:varint offset_delta:zigzag }*n
//! ```
//!
//! A block is some chunk records followed by one index record listing the series in
//! ascending id order with the log offset of each one's chunk (deltas from the previous).

use std::collections::BTreeMap;
use std::sync::Arc;

use freshet_metrics::{Datapoint, Dimension, MetricKey, Point, Sketch, StatSet, Unit};

/// Format version of every record (persisted: bump on any layout change).
pub const VERSION: u8 = 1;
/// A WAL record (persisted: never renumber or reuse).
pub const KIND_WAL: u8 = 1;
/// A block's chunk of one series (persisted: never renumber or reuse).
pub const KIND_CHUNK: u8 = 2;
/// A block's series index (persisted: never renumber or reuse).
pub const KIND_INDEX: u8 = 3;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable metric record: {0}")]
pub struct DecodeError(pub &'static str);

/// One stored point of a series: its timestamp, the resolution of what was merged into it
/// (1 for high-resolution points, 60 otherwise) and its values.
pub type StoredPoint = (i64, u8, Datapoint);

/// A block's index: which tier and window, and its series ids in chunk order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockIndex {
    /// The tier's persisted number.
    pub tier: u8,
    /// The window's start (epoch ms).
    pub window_ms: i64,
    /// Series ids, ascending.
    pub series: Vec<u64>,
    /// The log offset of each series' chunk record.
    pub offsets: Vec<u64>,
}

/// Appends a WAL record holding `points`.
pub fn encode_wal(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + points.len() * 96);
    out.push(VERSION);
    out.push(KIND_WAL);
    put_varint(&mut out, points.len() as u64);
    for p in points {
        put_key(&mut out, &p.key);
        put_zigzag(&mut out, p.timestamp_ms);
        out.push(u8::try_from(p.resolution_s).unwrap_or(60));
        put_datapoint(&mut out, &p.value);
    }
    out
}

/// The points of a WAL record.
pub fn decode_wal(bytes: &[u8]) -> Result<Vec<Point>, DecodeError> {
    let mut r = Reader::new(bytes);
    r.header(KIND_WAL)?;
    let n = r.count()?;
    let mut points = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        let key = Arc::new(r.key()?);
        let timestamp_ms = r.zigzag()?;
        let resolution_s = u32::from(r.u8()?);
        let value = r.datapoint()?;
        points.push(Point {
            key,
            timestamp_ms,
            resolution_s,
            value,
        });
    }
    r.end()?;
    Ok(points)
}

/// A chunk record: series `series`'s points in time order.
pub fn encode_chunk(series: u64, points: &[StoredPoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + points.len() * 40);
    out.push(VERSION);
    out.push(KIND_CHUNK);
    put_varint(&mut out, series);
    put_varint(&mut out, points.len() as u64);
    let mut prev = 0i64;
    for (ts, src, dp) in points {
        put_zigzag(&mut out, ts.wrapping_sub(prev));
        prev = *ts;
        out.push(*src);
        put_datapoint(&mut out, dp);
    }
    out
}

/// The series id and points of a chunk record.
pub fn decode_chunk(bytes: &[u8]) -> Result<(u64, Vec<StoredPoint>), DecodeError> {
    let mut r = Reader::new(bytes);
    r.header(KIND_CHUNK)?;
    let series = r.varint()?;
    let n = r.count()?;
    let mut points = Vec::with_capacity(n.min(4096));
    let mut prev = 0i64;
    for _ in 0..n {
        let ts = prev.wrapping_add(r.zigzag()?);
        prev = ts;
        let src = r.u8()?;
        points.push((ts, src, r.datapoint()?));
    }
    r.end()?;
    Ok((series, points))
}

/// An index record.
pub fn encode_index(index: &BlockIndex) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + index.series.len() * 2);
    out.push(VERSION);
    out.push(KIND_INDEX);
    out.push(index.tier);
    put_zigzag(&mut out, index.window_ms);
    put_varint(&mut out, index.series.len() as u64);
    let (mut prev, mut prev_offset) = (0u64, 0u64);
    for (s, o) in index.series.iter().zip(&index.offsets) {
        put_varint(&mut out, s.wrapping_sub(prev));
        put_zigzag(&mut out, o.wrapping_sub(prev_offset) as i64);
        prev = *s;
        prev_offset = *o;
    }
    out
}

/// The index record's contents.
pub fn decode_index(bytes: &[u8]) -> Result<BlockIndex, DecodeError> {
    let mut r = Reader::new(bytes);
    r.header(KIND_INDEX)?;
    let tier = r.u8()?;
    let window_ms = r.zigzag()?;
    let n = r.count()?;
    let mut series = Vec::with_capacity(n.min(1 << 16));
    let mut offsets = Vec::with_capacity(n.min(1 << 16));
    let (mut prev, mut prev_offset) = (0u64, 0u64);
    for _ in 0..n {
        prev = prev.wrapping_add(r.varint()?);
        prev_offset = prev_offset.wrapping_add(r.zigzag()? as u64);
        series.push(prev);
        offsets.push(prev_offset);
    }
    r.end()?;
    Ok(BlockIndex {
        tier,
        window_ms,
        series,
        offsets,
    })
}

/// A metric key on its own (the series table's values).
pub fn encode_key(key: &MetricKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    put_key(&mut out, key);
    out
}

/// The key [`encode_key`] wrote, and the bytes after it.
pub fn decode_key(bytes: &[u8]) -> Result<(MetricKey, &[u8]), DecodeError> {
    let mut r = Reader::new(bytes);
    if r.u8()? != VERSION {
        return Err(DecodeError("unknown version"));
    }
    let key = r.key()?;
    Ok((key, &bytes[r.pos..]))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_key(out: &mut Vec<u8>, key: &MetricKey) {
    put_str(out, &key.namespace);
    put_str(out, &key.name);
    put_varint(out, key.dimensions.len() as u64);
    for d in &key.dimensions {
        put_str(out, &d.name);
        put_str(out, &d.value);
    }
}

fn unit_code(u: Unit) -> u8 {
    Unit::ALL
        .iter()
        .position(|x| *x == u)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn put_datapoint(out: &mut Vec<u8>, dp: &Datapoint) {
    out.push(u8::from(dp.sketch.is_some()));
    out.push(unit_code(dp.unit));
    put_f64(out, dp.stats.count);
    put_f64(out, dp.stats.sum);
    put_f64(out, dp.stats.min);
    put_f64(out, dp.stats.max);
    if let Some(s) = &dp.sketch {
        put_f64(out, s.zero);
        for side in [&s.positive, &s.negative] {
            put_varint(out, side.len() as u64);
            let mut prev = 0i64;
            for (i, c) in side {
                put_zigzag(out, i64::from(*i) - prev);
                prev = i64::from(*i);
                put_f64(out, *c);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn header(&mut self, kind: u8) -> Result<(), DecodeError> {
        if self.u8()? != VERSION {
            return Err(DecodeError("unknown version"));
        }
        if self.u8()? != kind {
            return Err(DecodeError("unexpected record kind"));
        }
        Ok(())
    }

    fn end(&self) -> Result<(), DecodeError> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(DecodeError("trailing bytes"))
        }
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError("truncated"))?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    /// A count of items that each take at least one byte: never more than what is left.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.bytes.len() - self.pos)
            .ok_or(DecodeError("count larger than the record"))
    }

    fn zigzag(&mut self) -> Result<i64, DecodeError> {
        let v = self.varint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.count()?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("invalid UTF-8"))
    }

    fn key(&mut self) -> Result<MetricKey, DecodeError> {
        let namespace = self.str()?;
        let name = self.str()?;
        let n = self.count()?;
        let mut dimensions = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            dimensions.push(Dimension {
                name: self.str()?,
                value: self.str()?,
            });
        }
        Ok(MetricKey {
            namespace,
            name,
            dimensions,
        })
    }

    fn side(&mut self) -> Result<BTreeMap<i32, f64>, DecodeError> {
        let n = self.count()?;
        let mut side = BTreeMap::new();
        let mut prev = 0i64;
        for _ in 0..n {
            prev = prev.wrapping_add(self.zigzag()?);
            let i = i32::try_from(prev).map_err(|_| DecodeError("sketch index out of range"))?;
            side.insert(i, self.f64()?);
        }
        Ok(side)
    }

    fn datapoint(&mut self) -> Result<Datapoint, DecodeError> {
        let flags = self.u8()?;
        let unit = *Unit::ALL
            .get(usize::from(self.u8()?))
            .ok_or(DecodeError("unknown unit"))?;
        let stats = StatSet {
            count: self.f64()?,
            sum: self.f64()?,
            min: self.f64()?,
            max: self.f64()?,
        };
        let sketch = if flags & 1 == 1 {
            let zero = self.f64()?;
            let positive = self.side()?;
            let negative = self.side()?;
            Some(Sketch {
                positive,
                negative,
                zero,
            })
        } else {
            None
        };
        Ok(Datapoint {
            stats,
            sketch,
            unit,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn datapoint() -> impl Strategy<Value = Datapoint> {
        (
            proptest::collection::vec(-1e6f64..1e6, 1..20),
            any::<bool>(),
            0..Unit::ALL.len(),
        )
            .prop_map(|(values, sketched, unit)| {
                let unit = Unit::ALL[unit];
                let mut dp = Datapoint::one(values[0], unit);
                let mut sketch = Sketch::new();
                sketch.add(values[0], 1.0);
                for v in &values[1..] {
                    dp.stats.record(*v);
                    sketch.add(*v, 1.0);
                }
                if sketched {
                    dp.sketch = Some(sketch);
                }
                dp
            })
    }

    fn key() -> impl Strategy<Value = MetricKey> {
        (
            "[A-Za-z/]{1,12}",
            "[A-Za-z]{1,12}",
            proptest::collection::vec(("[A-Za-z]{1,6}", "\\PC{0,8}"), 0..4),
        )
            .prop_map(|(ns, name, dims)| MetricKey::new(ns, name, dims))
    }

    fn point() -> impl Strategy<Value = Point> {
        (
            key(),
            any::<i64>(),
            prop_oneof![Just(1u32), Just(60u32)],
            datapoint(),
        )
            .prop_map(|(key, timestamp_ms, resolution_s, value)| Point {
                key: Arc::new(key),
                timestamp_ms,
                resolution_s,
                value,
            })
    }

    proptest! {
        #[test]
        fn wal_records_decode_to_the_points_encoded(points in proptest::collection::vec(point(), 0..20)) {
            prop_assert_eq!(decode_wal(&encode_wal(&points)).unwrap(), points);
        }

        #[test]
        fn chunks_decode_to_the_points_encoded(
            series in any::<u64>(),
            points in proptest::collection::vec((any::<i64>(), any::<u8>(), datapoint()), 0..20),
        ) {
            let (s, back) = decode_chunk(&encode_chunk(series, &points)).unwrap();
            prop_assert_eq!(s, series);
            prop_assert_eq!(back, points);
        }

        #[test]
        fn indexes_decode_to_the_index_encoded(
            tier in any::<u8>(),
            window_ms in any::<i64>(),
            mut entries in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..50),
        ) {
            entries.sort_unstable();
            let (series, offsets) = entries.into_iter().unzip();
            let index = BlockIndex { tier, window_ms, series, offsets };
            prop_assert_eq!(decode_index(&encode_index(&index)).unwrap(), index);
        }

        #[test]
        fn keys_decode_with_the_bytes_after_them(k in key(), rest in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = encode_key(&k);
            bytes.extend_from_slice(&rest);
            let (back, tail) = decode_key(&bytes).unwrap();
            prop_assert_eq!(back, k);
            prop_assert_eq!(tail, &rest[..]);
        }

        #[test]
        fn truncated_or_altered_records_fail_to_decode_without_panicking(
            points in proptest::collection::vec(point(), 1..5),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bits in 1u8..=255,
        ) {
            let bytes = encode_wal(&points);
            let cut = cut.index(bytes.len());
            prop_assert!(decode_wal(&bytes[..cut]).is_err());
            let mut altered = bytes.clone();
            let at = flip.index(altered.len());
            altered[at] ^= bits;
            let _ = decode_wal(&altered);
            let _ = decode_chunk(&altered);
            let _ = decode_index(&altered);
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_wal(&bytes);
            let _ = decode_chunk(&bytes);
            let _ = decode_index(&bytes);
            let _ = decode_key(&bytes);
        }
    }
}
