// SPDX-License-Identifier: Apache-2.0
//! PutRecords.

use freshet_protocol::json::{JBlob, JList, JStr};
use freshet_protocol::validate::{ListMember, Validator};
use freshet_protocol::{ApiError, Operation};
use freshet_types::limits::{
    MAX_PARTITION_KEY_LEN, MAX_PUT_RECORDS_ENTRIES, MAX_RECORD_BYTES_LIMIT,
};
use serde::{Deserialize, Serialize};

use super::put_record::explicit_hash_key;
use super::text::{SequenceText, ShardIdText, sequence_text, shard_id_text};
use super::{stream_ref, validate_stream};
use crate::ops::patterns::{HASH_KEY_PATTERN, is_hash_key};
use crate::{PutEntry, PutOutcome, Streams};

pub(crate) struct PutRecords;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    records: Option<JList<Entry>>,
    stream_name: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Entry {
    data: Option<JBlob>,
    explicit_hash_key: Option<JStr>,
    partition_key: Option<JStr>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    failed_record_count: u32,
    records: Vec<ResultEntry>,
    /// Present only when records were written encrypted, as AWS answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_type: Option<&'static str>,
}

/// One record's result. The sequence number and shard id are formatted as they are written,
/// not into two `String`s per record.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<SequenceText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_id: Option<ShardIdText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

impl Operation<Streams> for PutRecords {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("records", &i.records);
        if let Some(records) = &i.records {
            let n = records.0.len();
            // Coral prints the list's elements with Java's default toString.
            let shown = format!(
                "[{}]",
                (0..n.min(3))
                    .map(|k| format!(
                        "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@{:08x}",
                        0xc965_e310u32.wrapping_add(k as u32)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + if n > 3 { ", ..." } else { "" }
            );
            v.list_len("records", Some(n), &shown, 1, MAX_PUT_RECORDS_ENTRIES);
            for (index, e) in records.0.iter().enumerate() {
                let p = |member| ListMember {
                    list: "records",
                    index,
                    member,
                };
                v.required(p("data"), &e.data);
                v.blob(
                    p("data"),
                    e.data.as_ref().map(|d| d.0.as_slice()),
                    MAX_RECORD_BYTES_LIMIT,
                );
                v.string(
                    p("explicitHashKey"),
                    e.explicit_hash_key.as_ref().map(|s| s.0.as_str()),
                    0,
                    None,
                    Some((is_hash_key, HASH_KEY_PATTERN)),
                );
                v.required(p("partitionKey"), &e.partition_key);
                v.string(
                    p("partitionKey"),
                    e.partition_key.as_ref().map(|s| s.0.as_str()),
                    1,
                    Some(MAX_PARTITION_KEY_LEN),
                    None,
                );
            }
        }
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let records = i.records.map(|r| r.0).unwrap_or_default();
        let mut keys = Vec::with_capacity(records.len());
        for r in &records {
            keys.push(explicit_hash_key(r.explicit_hash_key.as_ref())?);
        }
        let entries: Vec<PutEntry<'_>> = records
            .iter()
            .zip(keys)
            .map(|(r, explicit_hash_key)| PutEntry {
                data: r.data.as_ref().map_or(&[][..], |d| d.0.as_slice()),
                partition_key: r.partition_key.as_ref().map_or("", |k| k.0.as_str()),
                explicit_hash_key,
            })
            .collect();
        let outcomes = streams
            .put_records(&stream_ref(i.stream_name, i.stream_arn), &entries)
            .await?;
        Ok(Output::from(outcomes))
    }
}

impl From<Vec<PutOutcome>> for Output {
    fn from(outcomes: Vec<PutOutcome>) -> Self {
        let mut failed = 0;
        let mut encrypted = false;
        let records = outcomes
            .into_iter()
            .map(|o| match o {
                PutOutcome::Stored {
                    shard,
                    sequence,
                    encrypted: e,
                } => {
                    encrypted |= e;
                    ResultEntry {
                        sequence_number: Some(sequence_text(sequence)),
                        shard_id: Some(shard_id_text(shard)),
                        error_code: None,
                        error_message: None,
                    }
                }
                PutOutcome::Failed { code, message } => {
                    failed += 1;
                    ResultEntry {
                        sequence_number: None,
                        shard_id: None,
                        error_code: Some(code),
                        error_message: Some(message),
                    }
                }
            })
            .collect();
        Output {
            failed_record_count: failed,
            records,
            encryption_type: encrypted.then_some("KMS"),
        }
    }
}

#[cfg(test)]
mod tests {
    use freshet_types::{SequenceNumber, ShardId};
    use proptest::prelude::*;

    use super::*;
    use freshet_protocol::{Protocol, decode_input, encode_output};

    /// The output DTOs as they were, with a `String` per sequence number and shard id.
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct OldOutput {
        failed_record_count: u32,
        records: Vec<OldResultEntry>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encryption_type: Option<&'static str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct OldResultEntry {
        #[serde(skip_serializing_if = "Option::is_none")]
        sequence_number: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        shard_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_code: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    }

    fn old_output(outcomes: &[PutOutcome]) -> OldOutput {
        let mut encrypted = false;
        let records: Vec<OldResultEntry> = outcomes
            .iter()
            .map(|o| match o {
                PutOutcome::Stored {
                    shard,
                    sequence,
                    encrypted: e,
                } => {
                    encrypted |= e;
                    OldResultEntry {
                        sequence_number: Some(sequence.to_string()),
                        shard_id: Some(shard.to_string()),
                        error_code: None,
                        error_message: None,
                    }
                }
                PutOutcome::Failed { code, message } => OldResultEntry {
                    sequence_number: None,
                    shard_id: None,
                    error_code: Some(code),
                    error_message: Some(message.clone()),
                },
            })
            .collect();
        OldOutput {
            failed_record_count: records.iter().filter(|r| r.error_code.is_some()).count() as u32,
            records,
            encryption_type: encrypted.then_some("KMS"),
        }
    }

    fn outcome() -> impl Strategy<Value = PutOutcome> {
        prop_oneof![
            4 => (0..=freshet_types::seqno::MAX_INCARNATION, any::<u32>(), any::<u64>(), any::<bool>())
                .prop_map(|(incarnation, shard, offset, encrypted)| PutOutcome::Stored {
                    shard: ShardId(shard),
                    sequence: SequenceNumber::new(incarnation, shard, offset),
                    encrypted,
                }),
            1 => (
                prop_oneof![
                    Just("ProvisionedThroughputExceededException"),
                    Just("InternalFailure"),
                ],
                any::<String>(),
            )
                .prop_map(|(code, message)| PutOutcome::Failed { code, message }),
        ]
    }

    proptest! {
        #[test]
        fn outputs_encode_byte_for_byte_as_before(
            outcomes in proptest::collection::vec(outcome(), 0..20),
        ) {
            let old = old_output(&outcomes);
            let new = Output::from(outcomes);
            for protocol in [Protocol::Json11, Protocol::Cbor11] {
                prop_assert_eq!(
                    encode_output(protocol, &new).expect("encodes"),
                    encode_output(protocol, &old).expect("encodes")
                );
            }
        }
    }

    #[test]
    fn record_members_are_reported_by_their_one_based_path() {
        let body = br#"{"StreamName":"s","Records":[
            {"Data":"aGk=","PartitionKey":"k"},
            {"Data":"aGk=","ExplicitHashKey":"x","PartitionKey":""},
            {"PartitionKey":"k"}
        ]}"#;
        let e = decode_input::<Input>(Protocol::Json11, body, PutRecords::validate)
            .expect_err("invalid");
        assert_eq!(
            e.message.as_deref(),
            Some(
                "3 validation errors detected: \
                 Value 'x' at 'records.2.member.explicitHashKey' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); \
                 Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: \
                 Member must have length greater than or equal to 1; \
                 Value null at 'records.3.member.data' failed to satisfy constraint: \
                 Member must not be null"
            )
        );
    }
}
