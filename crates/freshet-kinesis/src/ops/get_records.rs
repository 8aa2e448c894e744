// SPDX-License-Identifier: Apache-2.0
//! GetRecords.

use bytes::Bytes;
use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation, Protocol, encode_failure, encode_output};
use serde::{Deserialize, Serialize};

use super::ChildShardDto;
use super::records::{RecordsJson, serialize_records};
use crate::ops::patterns::{STREAM_ARN_PATTERN, is_stream_arn};
use crate::{RecordOut, RecordsPage, Streams};

pub(crate) struct GetRecords;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    shard_iterator: Option<JStr>,
    limit: Option<JInt>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(serialize_with = "serialize_records")]
    records: Vec<RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_shard_iterator: Option<String>,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    child_shards: Vec<ChildShardDto>,
}

impl Operation<Streams> for GetRecords {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("shardIterator", &i.shard_iterator);
        v.string(
            "shardIterator",
            i.shard_iterator.as_ref().map(|s| s.0.as_str()),
            1,
            Some(512),
            None,
        );
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.string(
            "streamARN",
            i.stream_arn.as_ref().map(|s| s.0.as_str()),
            1,
            Some(2048),
            Some((is_stream_arn, STREAM_ARN_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let iterator = i.shard_iterator.map(|s| s.0).unwrap_or_default();
        // Validated to 1..=10000.
        let page = streams.get_records(&iterator, i.limit.map(|n| n.0 as u32))?;
        Ok(Output::from(page))
    }

    fn encode(protocol: Protocol, o: &Output) -> Result<Bytes, ApiError> {
        match protocol.is_cbor() {
            false => RecordsJson {
                records: &o.records,
                continuation: ("NextShardIterator", o.next_shard_iterator.as_deref()),
                millis_behind_latest: o.millis_behind_latest,
                child_shards: &o.child_shards,
            }
            .to_vec()
            .map(Bytes::from)
            .map_err(encode_failure),
            true => encode_output(protocol, o),
        }
    }
}

impl From<RecordsPage> for Output {
    fn from(page: RecordsPage) -> Self {
        Output {
            records: page.records,
            next_shard_iterator: page.next_iterator,
            millis_behind_latest: page.millis_behind_latest,
            child_shards: page
                .child_shards
                .into_iter()
                .map(ChildShardDto::from)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ChildShard;
    use freshet_types::{HashKeyRange, SequenceNumber, ShardId};
    use proptest::prelude::*;

    use super::super::records::reference::{OldRecordDto, child_shards, continuation, record};
    use super::*;

    /// The output DTO as it was before the JSON writer.
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct OldOutput {
        records: Vec<OldRecordDto>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_shard_iterator: Option<String>,
        millis_behind_latest: i64,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        child_shards: Vec<ChildShardDto>,
    }

    impl From<RecordsPage> for OldOutput {
        fn from(page: RecordsPage) -> Self {
            OldOutput {
                records: page.records.into_iter().map(OldRecordDto::from).collect(),
                next_shard_iterator: page.next_iterator,
                millis_behind_latest: page.millis_behind_latest,
                child_shards: page
                    .child_shards
                    .into_iter()
                    .map(ChildShardDto::from)
                    .collect(),
            }
        }
    }

    /// Every encoding of `page`, new and old, must be the same bytes.
    fn assert_encodes_as_before(page: RecordsPage) {
        let new = Output::from(page.clone());
        let old = OldOutput::from(page);
        let old_json = serde_json::to_vec(&old).expect("encodes");
        let json = GetRecords::encode(Protocol::Json11, &new).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&json),
            String::from_utf8_lossy(&old_json)
        );
        // The serde view (CBOR, and JSON through serde) has not changed either.
        assert_eq!(serde_json::to_vec(&new).expect("encodes"), old_json);
        assert_eq!(
            GetRecords::encode(Protocol::Cbor11, &new).expect("encodes"),
            encode_output(Protocol::Cbor11, &old).expect("encodes")
        );
    }

    fn page() -> impl Strategy<Value = RecordsPage> {
        (
            proptest::collection::vec(record(), 0..12),
            continuation(),
            prop_oneof![Just(0i64), any::<i64>()],
            child_shards(),
        )
            .prop_map(
                |(records, next_iterator, millis_behind_latest, child_shards)| RecordsPage {
                    records,
                    next_iterator,
                    millis_behind_latest,
                    child_shards,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn random_pages_encode_byte_for_byte_as_serde_did(page in page()) {
            assert_encodes_as_before(page);
        }
    }

    #[test]
    fn an_encrypted_empty_record_at_a_closed_shard_end_encodes_as_serde_did() {
        let page = RecordsPage {
            records: vec![RecordOut {
                sequence: SequenceNumber::new(7, 1, 2),
                arrival_ms: 1_506_440_188_749,
                partition_key: "k\"\u{1}\u{2028}\u{e9}".into(),
                data: Bytes::new(),
                encrypted: true,
            }],
            next_iterator: None,
            millis_behind_latest: 5,
            child_shards: vec![ChildShard {
                id: ShardId(2),
                parents: vec![ShardId(0), ShardId(1)],
                hash_range: HashKeyRange {
                    start: 0,
                    end: u128::MAX,
                },
            }],
        };
        let json = GetRecords::encode(Protocol::Json11, &Output::from(page.clone())).expect("json");
        let text = String::from_utf8(json.to_vec()).expect("utf-8");
        assert_eq!(
            text,
            "{\"Records\":[{\"SequenceNumber\":\"40000000007000000000100000000000000000002000000000000000\",\
             \"ApproximateArrivalTimestamp\":1506440188.749,\"Data\":\"\",\
             \"PartitionKey\":\"k\\\"\\u0001\u{2028}\u{e9}\",\"EncryptionType\":\"KMS\"}],\
             \"MillisBehindLatest\":5,\"ChildShards\":[{\"ShardId\":\"shardId-000000000002\",\
             \"ParentShards\":[\"shardId-000000000000\",\"shardId-000000000001\"],\
             \"HashKeyRange\":{\"StartingHashKey\":\"0\",\
             \"EndingHashKey\":\"340282366920938463463374607431768211455\"}}]}"
        );
        assert_encodes_as_before(page);
    }
}
