// SPDX-License-Identifier: Apache-2.0
//! The `Record` list that GetRecords and SubscribeToShardEvent carry: its serde view (CBOR 1.1
//! and the generic JSON path) and a JSON 1.1 writer for the whole body.
//!
//! A GetRecords page is up to 10,000 records and 10 MiB, and in JSON nearly all of it is
//! base64. Through serde, every record cost a base64 `String`, serde_json escaping and
//! copying that text again, and a `String` for the sequence number. The writer here puts
//! each record straight into one pre-sized buffer: base64 into the body, sequence numbers
//! formatted on the stack (`ops::text`), and serde_json still writing the pieces whose
//! exact text matters (escaped strings, the timestamp's float, child shards), so its output
//! is byte for byte what serde produced, which the tests check against the old DTOs.

use freshet_protocol::json::{Timestamp, encode_blob_into};
use serde::{Serialize, Serializer};

use super::ChildShardDto;
use super::text::{SequenceText, sequence_text};
use crate::RecordOut;

/// `Record`, a view of the domain record with the AWS member names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecordDto<'a> {
    sequence_number: SequenceText,
    approximate_arrival_timestamp: Timestamp,
    data: BlobRef<'a>,
    partition_key: &'a str,
    /// Present only for records written encrypted, as AWS answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_type: Option<&'static str>,
}

impl<'a> From<&'a RecordOut> for RecordDto<'a> {
    fn from(r: &'a RecordOut) -> Self {
        Self {
            sequence_number: sequence_text(r.sequence),
            approximate_arrival_timestamp: Timestamp(r.arrival_ms),
            data: BlobRef(&r.data),
            partition_key: &r.partition_key,
            encryption_type: r.encrypted.then_some("KMS"),
        }
    }
}

/// An output blob by reference: a byte string in CBOR 1.1, base64 text in JSON 1.1 (the
/// borrowed twin of `json::Blob`).
struct BlobRef<'a>(&'a [u8]);

impl Serialize for BlobRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&freshet_protocol::json::encode_blob(self.0))
        } else {
            s.serialize_bytes(self.0)
        }
    }
}

/// Serializes domain records as the `Records` member (`serialize_with` of the output DTOs).
pub(crate) fn serialize_records<S: Serializer>(
    records: &[RecordOut],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(records.iter().map(RecordDto::from))
}

/// A records body to write as JSON 1.1: GetRecords' output or a SubscribeToShardEvent.
pub(crate) struct RecordsJson<'a> {
    /// `Records`.
    pub records: &'a [RecordOut],
    /// The member that says where to go on (`NextShardIterator`,
    /// `ContinuationSequenceNumber`) and its value, left out when `None`.
    pub continuation: (&'static str, Option<&'a str>),
    /// `MillisBehindLatest`.
    pub millis_behind_latest: i64,
    /// `ChildShards`, left out when empty.
    pub child_shards: &'a [ChildShardDto],
}

/// Bytes of one record's JSON besides its base64, key and timestamp, rounded up: member
/// names, quotes and punctuation (75), the sequence number (56) and `EncryptionType` (23).
const RECORD_JSON_OVERHEAD: usize = 160;
/// Room for a timestamp such as `1790000000.123` (serde_json writes at most 24 bytes).
const TIMESTAMP_JSON_MAX: usize = 24;

impl RecordsJson<'_> {
    /// The body, written the way serde_json writes the output DTOs (compact, members in
    /// declaration order), into one buffer sized up front.
    pub(crate) fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        let records_len: usize = self
            .records
            .iter()
            .map(|r| {
                RECORD_JSON_OVERHEAD
                    + TIMESTAMP_JSON_MAX
                    + r.data.len().div_ceil(3) * 4
                    + r.partition_key.len()
            })
            .sum();
        let tail_len =
            128 + self.continuation.1.map_or(0, str::len) + 256 * self.child_shards.len();
        let mut out = Vec::with_capacity(records_len + tail_len);
        out.extend_from_slice(b"{\"Records\":[");
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"SequenceNumber\":\"");
            out.extend_from_slice(sequence_text(r.sequence).as_bytes());
            out.extend_from_slice(b"\",\"ApproximateArrivalTimestamp\":");
            serde_json::to_writer(&mut out, &Timestamp(r.arrival_ms))?;
            // Base64 text never needs escaping.
            out.extend_from_slice(b",\"Data\":\"");
            encode_blob_into(&r.data, &mut out);
            out.extend_from_slice(b"\",\"PartitionKey\":");
            serde_json::to_writer(&mut out, r.partition_key.as_str())?;
            if r.encrypted {
                out.extend_from_slice(b",\"EncryptionType\":\"KMS\"");
            }
            out.push(b'}');
        }
        out.push(b']');
        if let (name, Some(value)) = self.continuation {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            serde_json::to_writer(&mut out, value)?;
        }
        out.extend_from_slice(b",\"MillisBehindLatest\":");
        serde_json::to_writer(&mut out, &self.millis_behind_latest)?;
        if !self.child_shards.is_empty() {
            out.extend_from_slice(b",\"ChildShards\":");
            serde_json::to_writer(&mut out, self.child_shards)?;
        }
        out.push(b'}');
        Ok(out)
    }
}

/// The DTOs as they were before the JSON writer, kept as the reference its tests compare
/// with, and random pages to compare on.
#[cfg(test)]
pub(crate) mod reference {
    use crate::ChildShard;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use freshet_types::SequenceNumber;
    use freshet_types::seqno::MAX_INCARNATION;
    use freshet_types::{HashKeyRange, ShardId};
    use proptest::prelude::*;

    use super::*;

    /// `json::Blob` as it was: the `base64` crate's encoding, in a `String`.
    #[derive(Debug)]
    pub(crate) struct OldBlob(pub Bytes);

    impl Serialize for OldBlob {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if s.is_human_readable() {
                s.serialize_str(&STANDARD.encode(&self.0))
            } else {
                s.serialize_bytes(&self.0)
            }
        }
    }

    /// `RecordDto` as it was.
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    pub(crate) struct OldRecordDto {
        sequence_number: String,
        approximate_arrival_timestamp: Timestamp,
        data: OldBlob,
        partition_key: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        encryption_type: Option<&'static str>,
    }

    impl From<RecordOut> for OldRecordDto {
        fn from(r: RecordOut) -> Self {
            Self {
                sequence_number: r.sequence.to_string(),
                approximate_arrival_timestamp: Timestamp(r.arrival_ms),
                data: OldBlob(r.data),
                partition_key: r.partition_key,
                encryption_type: r.encrypted.then_some("KMS"),
            }
        }
    }

    /// Partition keys: anything, and mostly the characters JSON must escape.
    fn partition_key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9-]{1,20}",
            "[\"\\\\/\u{0}-\u{1f}\u{7f}\u{80}-\u{ff}\u{2028}\u{2029}a\u{e9}\u{1f600}]{1,16}",
            any::<String>(),
        ]
    }

    /// Any record the streams layer may hand out (incarnations are at most ten digits by
    /// construction).
    pub(crate) fn record() -> impl Strategy<Value = RecordOut> {
        let sequence = (0..=MAX_INCARNATION, any::<u32>(), any::<u64>()).prop_map(
            |(incarnation, shard, offset)| SequenceNumber {
                incarnation,
                shard,
                offset,
            },
        );
        let arrival_ms = prop_oneof![1_000_000_000_000..2_000_000_000_000i64, any::<i64>()];
        let data = prop_oneof![
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 0..300),
        ];
        (sequence, arrival_ms, partition_key(), data, any::<bool>()).prop_map(
            |(sequence, arrival_ms, partition_key, data, encrypted)| RecordOut {
                sequence,
                arrival_ms,
                partition_key,
                data: Bytes::from(data),
                encrypted,
            },
        )
    }

    /// Child shards of a closed shard.
    pub(crate) fn child_shards() -> impl Strategy<Value = Vec<ChildShard>> {
        let child = (
            any::<u32>(),
            proptest::collection::vec(any::<u32>(), 1..3),
            any::<u128>(),
            any::<u128>(),
        )
            .prop_map(|(id, parents, start, end)| ChildShard {
                id: ShardId(id),
                parents: parents.into_iter().map(ShardId).collect(),
                hash_range: HashKeyRange { start, end },
            });
        prop_oneof![
            2 => Just(Vec::new()),
            1 => proptest::collection::vec(child, 1..3),
        ]
    }

    /// A continuation value (iterator or sequence number), or none at a closed shard's end.
    pub(crate) fn continuation() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof!["[A-Za-z0-9+/=]{1,200}", any::<String>()])
    }
}
