// SPDX-License-Identifier: Apache-2.0
//! KPL aggregated records: detection, de-aggregation and aggregation.
//!
//! The Kinesis Producer Library packs many user records into one Kinesis record. Its layout
//! (the KPL's `aggregation-format.md`):
//!
//! ```text
//! 0..4      magic F3 89 9A C2
//! 4..n-16   protobuf AggregatedRecord
//! n-16..n   MD5 of the protobuf bytes
//!
//! message AggregatedRecord {
//!   repeated string partition_key_table     = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records                 = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index     = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes  data                    = 3;
//!   repeated Tag    tags                    = 4;
//! }
//! message Tag {
//!   required string key   = 1;
//!   optional string value = 2;
//! }
//! ```
//!
//! [`deaggregate`] behaves like the KCL: a record whose magic or MD5 does not match, or whose
//! protobuf does not parse as the messages above, is not an aggregate and the caller passes it
//! through as a plain record. It never fails and never panics, and it borrows from the input,
//! allocating only one entry per parsed field (so at most in proportion to the input).
//!
//! The protobuf is decoded by hand rather than with `prost`: the KCL's Java protobuf rejects an
//! aggregate that lacks a `required` field (which makes it a plain record), and `prost` does
//! not check required fields (tokio-rs/prost#986), so it would split records the KCL passes
//! through. Three messages of a few scalar fields do not justify a code generator either.
//!
//! Parsing follows protobuf-java: fields may come in any order, a repeated scalar field's last
//! value wins, unknown fields (and known field numbers with another wire type) are skipped.
//! Two deliberate strictnesses: strings must be UTF-8 (partition keys are Unicode strings),
//! and deprecated group fields (wire types 3 and 4) make the record plain.

use md5::{Digest, Md5};

/// The four bytes every KPL aggregate starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// Length of the MD5 digest that ends an aggregate.
const DIGEST_LEN: usize = 16;

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A tag of a user record (the KPL defines them; it does not send any today).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// Key.
    pub key: &'a str,
    /// Value, if any.
    pub value: Option<&'a str>,
}

/// One user record of an aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord<'a> {
    /// Position within the aggregate, from 0: the KCL's sub-sequence number.
    pub sub_sequence: u64,
    /// The user record's own partition key.
    pub partition_key: &'a str,
    /// The user record's explicit hash key, if it had one.
    pub explicit_hash_key: Option<&'a str>,
    /// Payload.
    pub data: &'a [u8],
    /// Tags.
    pub tags: Vec<Tag<'a>>,
}

/// Whether `data` starts with the aggregate magic (it may still not be a valid aggregate).
pub fn has_magic(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// The user records of a KPL aggregate, or `None` when `data` is not one (wrong magic or MD5,
/// or a protobuf that does not parse): then it is a plain record. An aggregate may hold no
/// user records.
pub fn deaggregate(data: &[u8]) -> Option<Vec<UserRecord<'_>>> {
    if data.len() < MAGIC.len() + DIGEST_LEN || !has_magic(data) {
        return None;
    }
    let (proto, digest) = data[MAGIC.len()..].split_at(data.len() - MAGIC.len() - DIGEST_LEN);
    if Md5::digest(proto).as_slice() != digest {
        return None;
    }
    let mut partition_keys = Vec::new();
    let mut hash_keys = Vec::new();
    let mut records = Vec::new();
    let mut r = Reader::new(proto);
    while let Some((field, wire)) = r.key()? {
        match (field, wire) {
            (1, LEN) => partition_keys.push(r.string()?),
            (2, LEN) => hash_keys.push(r.string()?),
            (3, LEN) => records.push(RawRecord::parse(r.bytes()?)?),
            _ => r.skip(wire)?,
        }
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, rec) in records.into_iter().enumerate() {
        let partition_key = *partition_keys.get(usize::try_from(rec.partition_key).ok()?)?;
        let explicit_hash_key = match rec.explicit_hash_key {
            Some(k) => Some(*hash_keys.get(usize::try_from(k).ok()?)?),
            None => None,
        };
        out.push(UserRecord {
            sub_sequence: i as u64,
            partition_key,
            explicit_hash_key,
            data: rec.data,
            tags: rec.tags,
        });
    }
    Some(out)
}

/// A `Record` message before its table indexes are resolved.
struct RawRecord<'a> {
    partition_key: u64,
    explicit_hash_key: Option<u64>,
    data: &'a [u8],
    tags: Vec<Tag<'a>>,
}

impl<'a> RawRecord<'a> {
    fn parse(buf: &'a [u8]) -> Option<Self> {
        let (mut partition_key, mut explicit_hash_key, mut data) = (None, None, None);
        let mut tags = Vec::new();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, VARINT) => partition_key = Some(r.varint()?),
                (2, VARINT) => explicit_hash_key = Some(r.varint()?),
                (3, LEN) => data = Some(r.bytes()?),
                (4, LEN) => tags.push(parse_tag(r.bytes()?)?),
                _ => r.skip(wire)?,
            }
        }
        Some(Self {
            partition_key: partition_key?,
            explicit_hash_key,
            data: data?,
            tags,
        })
    }
}

fn parse_tag(buf: &[u8]) -> Option<Tag<'_>> {
    let (mut key, mut value) = (None, None);
    let mut r = Reader::new(buf);
    while let Some((field, wire)) = r.key()? {
        match (field, wire) {
            (1, LEN) => key = Some(r.string()?),
            (2, LEN) => value = Some(r.string()?),
            _ => r.skip(wire)?,
        }
    }
    Some(Tag { key: key?, value })
}

/// A protobuf reader over a borrowed buffer. Every method returns `None` on malformed input.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The next field's number and wire type; `Some(None)` at the end of the buffer.
    fn key(&mut self) -> Option<Option<(u64, u8)>> {
        if self.pos == self.buf.len() {
            return Some(None);
        }
        let key = self.varint()?;
        // protobuf-java reads keys as 32-bit values and rejects field number 0.
        if key > u64::from(u32::MAX) || key >> 3 == 0 {
            return None;
        }
        Some(Some((key >> 3, (key & 7) as u8)))
    }

    /// A base-128 varint of at most ten bytes; bits beyond 64 are dropped, as protobuf-java does.
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }

    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    fn skip(&mut self, wire: u8) -> Option<()> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.bytes().map(drop),
            FIXED32 => self.take(4).map(drop),
            _ => None,
        }
    }
}

/// Builds KPL aggregates, deduplicating partition and explicit hash keys into the tables as
/// the KPL does. The output de-aggregates to the records pushed, in order.
#[derive(Debug, Default, Clone)]
pub struct Aggregator {
    partition_keys: KeyTable,
    hash_keys: KeyTable,
    /// Encoded `records` fields (key, length, Record message) in push order.
    records: Vec<u8>,
    count: usize,
}

/// A string table and the encoded size of its protobuf fields.
#[derive(Debug, Default, Clone)]
struct KeyTable {
    keys: Vec<String>,
    encoded_len: usize,
}

impl KeyTable {
    fn index(&self, key: &str) -> Option<u64> {
        self.keys.iter().position(|k| k == key).map(|i| i as u64)
    }

    /// The index `key` has or would get, and the bytes adding it would cost.
    fn lookup(&self, key: &str) -> (u64, usize) {
        match self.index(key) {
            Some(i) => (i, 0),
            None => (self.keys.len() as u64, len_field_size(key.len())),
        }
    }

    fn insert(&mut self, key: &str) -> u64 {
        let (i, cost) = self.lookup(key);
        if cost > 0 {
            self.keys.push(key.to_owned());
            self.encoded_len += cost;
        }
        i
    }
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// User records pushed so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no user record was pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size of the aggregate [`Aggregator::finish`] would return now.
    pub fn encoded_len(&self) -> usize {
        MAGIC.len() + self.proto_len() + DIGEST_LEN
    }

    /// The size the aggregate would have after pushing this record.
    pub fn encoded_len_with(
        &self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
    ) -> usize {
        let (pk, pk_cost) = self.partition_keys.lookup(partition_key);
        let (ehk, ehk_cost) = match explicit_hash_key {
            Some(k) => {
                let (i, cost) = self.hash_keys.lookup(k);
                (Some(i), cost)
            }
            None => (None, 0),
        };
        let record = record_len(pk, ehk, data.len(), &[]);
        self.encoded_len() + pk_cost + ehk_cost + len_field_size(record)
    }

    /// Adds a user record.
    pub fn push(&mut self, partition_key: &str, explicit_hash_key: Option<&str>, data: &[u8]) {
        self.push_tagged(partition_key, explicit_hash_key, data, &[]);
    }

    /// Adds a user record with tags.
    pub fn push_tagged(
        &mut self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
        tags: &[Tag<'_>],
    ) {
        let pk = self.partition_keys.insert(partition_key);
        let ehk = explicit_hash_key.map(|k| self.hash_keys.insert(k));
        let out = &mut self.records;
        put_key(out, 3, LEN);
        put_varint(out, record_len(pk, ehk, data.len(), tags) as u64);
        put_key(out, 1, VARINT);
        put_varint(out, pk);
        if let Some(i) = ehk {
            put_key(out, 2, VARINT);
            put_varint(out, i);
        }
        put_bytes(out, 3, data);
        for t in tags {
            put_key(out, 4, LEN);
            put_varint(out, tag_len(t) as u64);
            put_bytes(out, 1, t.key.as_bytes());
            if let Some(v) = t.value {
                put_bytes(out, 2, v.as_bytes());
            }
        }
        self.count += 1;
    }

    /// The aggregate: magic, protobuf, MD5. The aggregator is left empty.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&MAGIC);
        for k in &self.partition_keys.keys {
            put_bytes(&mut out, 1, k.as_bytes());
        }
        for k in &self.hash_keys.keys {
            put_bytes(&mut out, 2, k.as_bytes());
        }
        out.extend_from_slice(&self.records);
        let digest = Md5::digest(&out[MAGIC.len()..]);
        out.extend_from_slice(&digest);
        *self = Self::default();
        out
    }

    fn proto_len(&self) -> usize {
        self.partition_keys.encoded_len + self.hash_keys.encoded_len + self.records.len()
    }
}

/// Aggregates `(partition key, explicit hash key, data)` records into one KPL aggregate.
pub fn aggregate<'a>(
    records: impl IntoIterator<Item = (&'a str, Option<&'a str>, &'a [u8])>,
) -> Vec<u8> {
    let mut agg = Aggregator::new();
    for (pk, ehk, data) in records {
        agg.push(pk, ehk, data);
    }
    agg.finish()
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Size of a length-delimited field with a one-byte key (field numbers below 16).
fn len_field_size(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn record_len(pk: u64, ehk: Option<u64>, data_len: usize, tags: &[Tag<'_>]) -> usize {
    1 + varint_len(pk)
        + ehk.map_or(0, |i| 1 + varint_len(i))
        + len_field_size(data_len)
        + tags
            .iter()
            .map(|t| len_field_size(tag_len(t)))
            .sum::<usize>()
}

fn tag_len(t: &Tag<'_>) -> usize {
    len_field_size(t.key.len()) + t.value.map_or(0, |v| len_field_size(v.len()))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u8, wire: u8) {
    out.push((field << 3) | wire);
}

fn put_bytes(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// An aggregate from raw protobuf bytes, with a correct magic and MD5.
    fn wrap(proto: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(proto);
        out.extend_from_slice(&Md5::digest(proto));
        out
    }

    #[test]
    fn a_known_aggregate_decodes_field_by_field() {
        // Built by hand from the KPL format: tables ["a", "b"] and ["7"], then two records.
        let proto = [
            0x0a, 1, b'a', // partition_key_table "a"
            0x0a, 1, b'b', // partition_key_table "b"
            0x12, 1, b'7', // explicit_hash_key_table "7"
            0x1a, 5, 0x08, 1, 0x1a, 1, b'x', // record {pk 1, data "x"}
            0x1a, 17, 0x08, 0, 0x10, 0, 0x1a, 2, b'h', b'i', // record {pk 0, ehk 0, "hi",
            0x22, 7, 0x0a, 1, b'k', 0x12, 2, b'v', b'1', //   tags [k=v1]}
        ];
        let data = wrap(&proto);
        let recs = deaggregate(&data).expect("an aggregate");
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0],
            UserRecord {
                sub_sequence: 0,
                partition_key: "b",
                explicit_hash_key: None,
                data: b"x",
                tags: vec![],
            }
        );
        assert_eq!(recs[1].sub_sequence, 1);
        assert_eq!(recs[1].partition_key, "a");
        assert_eq!(recs[1].explicit_hash_key, Some("7"));
        assert_eq!(recs[1].data, b"hi");
        assert_eq!(
            recs[1].tags,
            vec![Tag {
                key: "k",
                value: Some("v1")
            }]
        );
    }

    #[test]
    fn the_aggregator_writes_what_the_kpl_writes() {
        let data = aggregate([("a", None, &b"x"[..]), ("a", Some("7"), &b"hi"[..])]);
        let proto = [
            0x0a, 1, b'a', 0x12, 1, b'7', 0x1a, 5, 0x08, 0, 0x1a, 1, b'x', 0x1a, 8, 0x08, 0, 0x10,
            0, 0x1a, 2, b'h', b'i',
        ];
        assert_eq!(data, wrap(&proto));
    }

    /// What `aws-kinesis-agg` 1.2.3 (AWS's Python aggregator) produced for
    /// `add_user_record("pk-1", b"hello", explicit_hash_key="42")` then
    /// `add_user_record("pk-2", b"world")`.
    const PYTHON_AGGREGATE: &str = "f3899ac20a04706b2d310a04706b2d32120234321a0b080010001a0568656c6c\
                                    6f1a0908011a05776f726c648540a1546a5770b0d449a0b77d8f5765";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn aggregates_match_aws_kinesis_agg_byte_for_byte() {
        let python = unhex(PYTHON_AGGREGATE);
        let recs = deaggregate(&python).expect("an aggregate");
        let got: Vec<_> = recs
            .iter()
            .map(|r| (r.sub_sequence, r.partition_key, r.explicit_hash_key, r.data))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "pk-1", Some("42"), &b"hello"[..]),
                (1, "pk-2", None, &b"world"[..])
            ]
        );
        let ours = aggregate([
            ("pk-1", Some("42"), &b"hello"[..]),
            ("pk-2", None, b"world"),
        ]);
        assert_eq!(ours, python);
    }

    #[test]
    fn plain_records_are_not_aggregates() {
        assert!(deaggregate(b"").is_none());
        assert!(deaggregate(b"hello world, this is a plain record").is_none());
        assert!(deaggregate(&MAGIC).is_none());
        let mut bad_md5 = aggregate([("k", None, &b"v"[..])]);
        let n = bad_md5.len();
        bad_md5[n - 1] ^= 1;
        assert!(deaggregate(&bad_md5).is_none());
    }

    #[test]
    fn missing_required_fields_or_bad_indexes_make_a_plain_record() {
        let no_data = [0x0a, 1, b'a', 0x1a, 2, 0x08, 0];
        assert!(deaggregate(&wrap(&no_data)).is_none());
        let no_key_index = [0x0a, 1, b'a', 0x1a, 3, 0x1a, 1, b'x'];
        assert!(deaggregate(&wrap(&no_key_index)).is_none());
        let index_out_of_table = [0x0a, 1, b'a', 0x1a, 5, 0x08, 1, 0x1a, 1, b'x'];
        assert!(deaggregate(&wrap(&index_out_of_table)).is_none());
        let ehk_out_of_table = [0x0a, 1, b'a', 0x1a, 7, 0x08, 0, 0x10, 0, 0x1a, 1, b'x'];
        assert!(deaggregate(&wrap(&ehk_out_of_table)).is_none());
        let tag_without_key = [
            0x0a, 1, b'a', 0x1a, 9, 0x08, 0, 0x1a, 1, b'x', 0x22, 2, 0x12, 0,
        ];
        assert!(deaggregate(&wrap(&tag_without_key)).is_none());
        let not_utf8 = [0x0a, 1, 0xff, 0x1a, 5, 0x08, 0, 0x1a, 1, b'x'];
        assert!(deaggregate(&wrap(&not_utf8)).is_none());
        let field_zero = [0x00, 0x00];
        assert!(deaggregate(&wrap(&field_zero)).is_none());
        let truncated = [0x0a, 5, b'a'];
        assert!(deaggregate(&wrap(&truncated)).is_none());
    }

    #[test]
    fn unknown_fields_are_skipped_and_an_empty_aggregate_has_no_records() {
        assert_eq!(deaggregate(&wrap(&[])), Some(vec![]));
        let with_unknown = [
            0x28, 0x96, 0x01, // field 5 varint
            0x31, 1, 2, 3, 4, 5, 6, 7, 8, // field 6 fixed64
            0x3d, 1, 2, 3, 4, // field 7 fixed32
            0x0a, 1, b'a', 0x1a, 8, 0x08, 0, 0x1a, 1, b'x', 0x42, 1,
            b'?', // field 8 in Record
        ];
        let data = wrap(&with_unknown);
        let recs = deaggregate(&data).expect("an aggregate");
        assert_eq!(recs.len(), 1);
        assert_eq!((recs[0].partition_key, recs[0].data), ("a", &b"x"[..]));
    }

    #[test]
    fn encoded_len_predicts_the_aggregate_size() {
        let mut agg = Aggregator::new();
        assert_eq!(agg.encoded_len(), agg.clone().finish().len());
        for (i, size) in [0usize, 1, 127, 128, 300, 20_000].into_iter().enumerate() {
            let key = format!("key-{}", i % 2);
            let data = vec![7u8; size];
            let predicted = agg.encoded_len_with(&key, Some("12345"), &data);
            agg.push(&key, Some("12345"), &data);
            assert_eq!(predicted, agg.encoded_len());
            assert_eq!(agg.encoded_len(), agg.clone().finish().len());
        }
        assert_eq!(agg.len(), 6);
    }

    /// A user record for the property tests: key, explicit hash key, data, tags.
    type Input = (
        String,
        Option<String>,
        Vec<u8>,
        Vec<(String, Option<String>)>,
    );

    fn user_records() -> impl Strategy<Value = Vec<Input>> {
        let key = prop_oneof![Just("k".to_owned()), "\\PC{1,8}"];
        let ehk = proptest::option::of(prop_oneof![Just("0".to_owned()), "[0-9]{1,39}"]);
        let tags =
            proptest::collection::vec(("\\PC{0,4}", proptest::option::of("\\PC{0,4}")), 0..3);
        proptest::collection::vec(
            (
                key,
                ehk,
                proptest::collection::vec(any::<u8>(), 0..300),
                tags,
            ),
            0..20,
        )
    }

    proptest! {
        #[test]
        fn aggregates_round_trip(records in user_records()) {
            let mut agg = Aggregator::new();
            for (pk, ehk, data, tags) in &records {
                let tags: Vec<Tag<'_>> = tags
                    .iter()
                    .map(|(k, v)| Tag { key: k, value: v.as_deref() })
                    .collect();
                agg.push_tagged(pk, ehk.as_deref(), data, &tags);
            }
            let bytes = agg.finish();
            let out = deaggregate(&bytes).expect("an aggregate");
            prop_assert_eq!(out.len(), records.len());
            for (i, (got, (pk, ehk, data, tags))) in out.iter().zip(&records).enumerate() {
                prop_assert_eq!(got.sub_sequence, i as u64);
                prop_assert_eq!(got.partition_key, pk.as_str());
                prop_assert_eq!(got.explicit_hash_key, ehk.as_deref());
                prop_assert_eq!(got.data, data.as_slice());
                let got_tags: Vec<(&str, Option<&str>)> =
                    got.tags.iter().map(|t| (t.key, t.value)).collect();
                let want_tags: Vec<(&str, Option<&str>)> =
                    tags.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                prop_assert_eq!(got_tags, want_tags);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = deaggregate(&data);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&data);
            let _ = deaggregate(&with_magic);
            // A valid digest gets the bytes past the MD5 check, into the protobuf parser.
            let _ = deaggregate(&wrap(&data));
        }

        #[test]
        fn corrupting_any_byte_makes_a_plain_record(
            records in user_records(),
            pos in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut bytes = aggregate(
                records.iter().map(|(pk, ehk, data, _)| (pk.as_str(), ehk.as_deref(), data.as_slice())),
            );
            let i = pos.index(bytes.len());
            bytes[i] ^= flip;
            prop_assert!(deaggregate(&bytes).is_none(), "byte {} corrupted", i);
        }
    }
}
