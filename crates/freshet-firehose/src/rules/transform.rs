// SPDX-License-Identifier: Apache-2.0
//! The Lambda transformation contract: the event Firehose sends and the response it accepts.
//!
//! Source: [data transformation](https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html)
//! and the `KinesisFirehoseEvent` / `KinesisFirehoseResponse` types of the Lambda SDKs.
//!
//! Event: `{"invocationId", "deliveryStreamArn", "sourceKinesisStreamArn"? (Kinesis source
//! only), "region", "records": [{"recordId", "approximateArrivalTimestamp" (epoch ms, an
//! integer), "data" (base64), "kinesisRecordMetadata"? {"shardId", "partitionKey",
//! "approximateArrivalTimestamp" (ms integer), "sequenceNumber", "subsequenceNumber"
//! (integer)}}]}`. Integers, not the ISO string of AWS's sample event: the Go and Rust event
//! types (`aws_lambda_events`) fail to deserialize anything else.
//!
//! Response: `{"records": [{"recordId", "result": "Ok" | "Dropped" | "ProcessingFailed",
//! "data" (base64), "metadata"? {"partitionKeys": {k: v}}}]}`. Every sent record id must come
//! back exactly once (`Lambda.MissingRecordId`, `Lambda.DuplicatedRecordId`); anything else
//! malformed is `Lambda.JsonProcessingException`. A broken response fails the whole batch,
//! which delivery retries and then writes to `processing-failed`.
//!
//! Decisions where AWS does not say: `data` may be absent for Dropped and ProcessingFailed
//! (the original record is used), but is required for Ok; partition key values may be JSON
//! strings, numbers or booleans (stringified), as Jackson's `Map<String,String>` accepts.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// Largest synchronous Lambda payload, each way (6 MB).
pub const MAX_INVOKE_PAYLOAD: usize = 6 * 1024 * 1024;
/// Upper bound of the event's envelope without records (ids and ARNs are < 2 KiB together).
pub const EVENT_ENVELOPE_BYTES: usize = 4096;

/// Kinesis metadata of a record read from a Kinesis stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata {
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// The record's partition key.
    pub partition_key: String,
    /// Arrival in the stream, ms since the epoch.
    #[serde(rename = "approximateArrivalTimestamp")]
    pub approximate_arrival_ms: i64,
    /// The stream's sequence number.
    pub sequence_number: String,
    /// Position inside a KPL aggregate (0 when not aggregated).
    pub subsequence_number: i64,
}

/// One record sent to the transform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformRecord {
    /// Opaque id (see [`record_id`]).
    pub record_id: String,
    /// Arrival in Firehose, ms since the epoch.
    pub arrival_ms: i64,
    /// The payload.
    pub data: Bytes,
    /// Present for Kinesis stream sources only.
    pub kinesis: Option<KinesisRecordMetadata>,
}

/// One invocation's event.
#[derive(Clone, Copy, Debug)]
pub struct TransformRequest<'a> {
    /// A fresh id per invocation (a UUID).
    pub invocation_id: &'a str,
    /// The delivery stream's ARN.
    pub delivery_stream_arn: &'a str,
    /// The source stream's ARN (Kinesis sources only).
    pub source_kinesis_stream_arn: Option<&'a str>,
    /// The region.
    pub region: &'a str,
    /// The records.
    pub records: &'a [TransformRecord],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireEvent<'a> {
    invocation_id: &'a str,
    delivery_stream_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_kinesis_stream_arn: Option<&'a str>,
    region: &'a str,
    records: Vec<WireRecord<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireRecord<'a> {
    record_id: &'a str,
    approximate_arrival_timestamp: i64,
    data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kinesis_record_metadata: Option<&'a KinesisRecordMetadata>,
}

fn wire(r: &TransformRecord, data: String) -> WireRecord<'_> {
    WireRecord {
        record_id: &r.record_id,
        approximate_arrival_timestamp: r.arrival_ms,
        data,
        kinesis_record_metadata: r.kinesis.as_ref(),
    }
}

/// The event JSON.
pub fn encode_event(req: &TransformRequest<'_>) -> Vec<u8> {
    let event = WireEvent {
        invocation_id: req.invocation_id,
        delivery_stream_arn: req.delivery_stream_arn,
        source_kinesis_stream_arn: req.source_kinesis_stream_arn,
        region: req.region,
        records: req
            .records
            .iter()
            .map(|r| wire(r, B64.encode(&r.data)))
            .collect(),
    };
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_vec(&event).unwrap_or_default()
}

/// Size of one record in the event (exact: its JSON plus the separating comma).
pub fn record_event_size(r: &TransformRecord) -> usize {
    let without_data = serde_json::to_vec(&wire(r, String::new())).map_or(0, |v| v.len());
    without_data + r.data.len().div_ceil(3) * 4 + 1
}

/// An upper bound of the event's size for `records`: exact for the records, plus
/// [`EVENT_ENVELOPE_BYTES`]. Keep it ≤ [`MAX_INVOKE_PAYLOAD`] and ≤ `BufferSizeInMBs`.
pub fn event_size(records: &[TransformRecord]) -> usize {
    EVENT_ENVELOPE_BYTES + records.iter().map(record_event_size).sum::<usize>()
}

/// A record id shaped like AWS's (56 decimal digits, opaque), unique per
/// (`source_position`, `index`) and stable across retries of the same record.
pub fn record_id(source_position: u64, index: u32) -> String {
    format!("49{source_position:034}{index:020}")
}

/// The outcome for one sent record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransformResult {
    /// Transformed; `partition_keys` feed `partitionKeyFromLambda`.
    Ok {
        /// The new payload.
        data: Bytes,
        /// `metadata.partitionKeys`.
        partition_keys: BTreeMap<String, String>,
    },
    /// Intentionally dropped (counts as success).
    Dropped,
    /// The function marked it failed; it goes to `processing-failed`.
    ProcessingFailed {
        /// The data the function returned (the original when it returned none).
        data: Bytes,
    },
}

/// Why a response as a whole breaks the contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct TransformError {
    /// `Lambda.MissingRecordId`, `Lambda.DuplicatedRecordId` or
    /// `Lambda.JsonProcessingException`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

/// Error code: a sent record id is missing from the response (or an unknown one is in it).
pub const MISSING_RECORD_ID: &str = "Lambda.MissingRecordId";
/// Error code: a record id appears more than once.
pub const DUPLICATED_RECORD_ID: &str = "Lambda.DuplicatedRecordId";
/// Error code: the response is not the documented JSON.
pub const JSON_PROCESSING: &str = "Lambda.JsonProcessingException";

fn json_err(message: impl Into<String>) -> TransformError {
    TransformError {
        code: JSON_PROCESSING,
        message: message.into(),
    }
}

/// Outcomes in the order of `sent`; `Err` when the response breaks the contract.
pub fn decode_response(
    body: &[u8],
    sent: &[TransformRecord],
) -> Result<Vec<TransformResult>, TransformError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| json_err(format!("The response is not valid JSON: {e}")))?;
    let records = value
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| json_err("The response has no records array."))?;
    let index: HashMap<&str, usize> = sent
        .iter()
        .enumerate()
        .map(|(i, r)| (r.record_id.as_str(), i))
        .collect();
    let mut out: Vec<Option<TransformResult>> = vec![None; sent.len()];
    for record in records {
        let id = record
            .get("recordId")
            .and_then(Value::as_str)
            .ok_or_else(|| json_err("A record in the response has no recordId string."))?;
        let Some(&i) = index.get(id) else {
            return Err(TransformError {
                code: MISSING_RECORD_ID,
                message: format!("The response contains recordId {id}, which was not sent."),
            });
        };
        if out[i].is_some() {
            return Err(TransformError {
                code: DUPLICATED_RECORD_ID,
                message: format!("The response contains recordId {id} more than once."),
            });
        }
        out[i] = Some(decode_record(record, id, &sent[i])?);
    }
    out.into_iter()
        .zip(sent)
        .map(|(r, s)| {
            r.ok_or_else(|| TransformError {
                code: MISSING_RECORD_ID,
                message: format!("The response is missing recordId {}.", s.record_id),
            })
        })
        .collect()
}

fn decode_record(
    record: &Value,
    id: &str,
    sent: &TransformRecord,
) -> Result<TransformResult, TransformError> {
    let data =
        match record.get("data") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Bytes::from(B64.decode(s).map_err(|_| {
                json_err(format!("The data of recordId {id} is not valid base64."))
            })?)),
            Some(_) => {
                return Err(json_err(format!(
                    "The data of recordId {id} is not a string."
                )));
            }
        };
    match record.get("result").and_then(Value::as_str) {
        Some("Ok") => {
            let data =
                data.ok_or_else(|| json_err(format!("recordId {id} has result Ok but no data.")))?;
            Ok(TransformResult::Ok {
                data,
                partition_keys: partition_keys(record, id)?,
            })
        }
        Some("Dropped") => Ok(TransformResult::Dropped),
        Some("ProcessingFailed") => Ok(TransformResult::ProcessingFailed {
            data: data.unwrap_or_else(|| sent.data.clone()),
        }),
        Some(other) => Err(json_err(format!(
            "recordId {id} has an invalid result {other}; valid results are Ok, Dropped and ProcessingFailed."
        ))),
        None => Err(json_err(format!("recordId {id} has no result."))),
    }
}

fn partition_keys(record: &Value, id: &str) -> Result<BTreeMap<String, String>, TransformError> {
    let mut out = BTreeMap::new();
    let Some(metadata) = record.get("metadata").filter(|m| !m.is_null()) else {
        return Ok(out);
    };
    let keys = match metadata.get("partitionKeys") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(json_err(format!(
                "metadata.partitionKeys of recordId {id} is not an object."
            )));
        }
    };
    for (k, v) in keys {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(json_err(format!(
                    "Partition key {k} of recordId {id} is not a string."
                )));
            }
        };
        out.insert(k.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rec(i: u32, data: &[u8]) -> TransformRecord {
        TransformRecord {
            record_id: record_id(7, i),
            arrival_ms: 1_700_000_000_123,
            data: Bytes::copy_from_slice(data),
            kinesis: None,
        }
    }

    #[test]
    fn the_event_has_aws_field_names_and_integer_timestamps() {
        let mut r = rec(0, b"hello");
        r.kinesis = Some(KinesisRecordMetadata {
            shard_id: "shardId-000000000000".into(),
            partition_key: "pk".into(),
            approximate_arrival_ms: 1_700_000_000_000,
            sequence_number: "4959".into(),
            subsequence_number: 0,
        });
        let records = [r];
        let event = encode_event(&TransformRequest {
            invocation_id: "inv",
            delivery_stream_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
            source_kinesis_stream_arn: Some("arn:aws:kinesis:us-east-1:000000000000:stream/k"),
            region: "us-east-1",
            records: &records,
        });
        let v: Value = serde_json::from_slice(&event).unwrap();
        assert_eq!(v["invocationId"], "inv");
        assert_eq!(v["region"], "us-east-1");
        assert_eq!(
            v["sourceKinesisStreamArn"],
            "arn:aws:kinesis:us-east-1:000000000000:stream/k"
        );
        let r0 = &v["records"][0];
        assert_eq!(r0["recordId"], records[0].record_id.as_str());
        assert_eq!(r0["approximateArrivalTimestamp"], 1_700_000_000_123i64);
        assert_eq!(r0["data"], "aGVsbG8=");
        assert_eq!(
            r0["kinesisRecordMetadata"]["shardId"],
            "shardId-000000000000"
        );
        assert_eq!(
            r0["kinesisRecordMetadata"]["approximateArrivalTimestamp"],
            1_700_000_000_000i64
        );
        assert_eq!(r0["kinesisRecordMetadata"]["subsequenceNumber"], 0);
    }

    #[test]
    fn a_direct_put_event_has_no_kinesis_fields() {
        let records = [rec(0, b"")];
        let event = encode_event(&TransformRequest {
            invocation_id: "i",
            delivery_stream_arn: "a",
            source_kinesis_stream_arn: None,
            region: "r",
            records: &records,
        });
        let text = String::from_utf8(event).unwrap();
        assert!(!text.contains("kinesis"), "{text}");
    }

    #[test]
    fn record_ids_look_like_aws_ids_and_are_unique() {
        let a = record_id(1, 0);
        assert_eq!(a.len(), 56);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(a, record_id(1, 1));
        assert_ne!(a, record_id(0, 1));
    }

    #[test]
    fn responses_decode_in_sent_order() {
        let sent = [rec(0, b"a"), rec(1, b"b"), rec(2, b"c")];
        let body = format!(
            r#"{{"records":[
            {{"recordId":"{}","result":"ProcessingFailed"}},
            {{"recordId":"{}","result":"Ok","data":"eHg=","metadata":{{"partitionKeys":{{"k":"v","n":3}}}}}},
            {{"recordId":"{}","result":"Dropped"}}]}}"#,
            sent[2].record_id, sent[0].record_id, sent[1].record_id
        );
        let out = decode_response(body.as_bytes(), &sent).unwrap();
        assert_eq!(
            out,
            vec![
                TransformResult::Ok {
                    data: Bytes::from_static(b"xx"),
                    partition_keys: BTreeMap::from([
                        ("k".into(), "v".into()),
                        ("n".into(), "3".into())
                    ])
                },
                TransformResult::Dropped,
                TransformResult::ProcessingFailed {
                    data: Bytes::from_static(b"c")
                },
            ]
        );
    }

    #[test]
    fn contract_violations_have_aws_error_codes() {
        let sent = [rec(0, b"a"), rec(1, b"b")];
        let (a, b) = (&sent[0].record_id, &sent[1].record_id);
        let cases = [
            (
                format!(r#"{{"records":[{{"recordId":"{a}","result":"Ok","data":""}}]}}"#),
                MISSING_RECORD_ID,
            ),
            (
                format!(
                    r#"{{"records":[{{"recordId":"{a}","result":"Dropped"}},{{"recordId":"{a}","result":"Dropped"}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                DUPLICATED_RECORD_ID,
            ),
            (
                format!(
                    r#"{{"records":[{{"recordId":"x","result":"Dropped"}},{{"recordId":"{a}","result":"Dropped"}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                MISSING_RECORD_ID,
            ),
            ("not json".to_owned(), JSON_PROCESSING),
            (r#"{"records":{}}"#.to_owned(), JSON_PROCESSING),
            (
                format!(
                    r#"{{"records":[{{"recordId":"{a}","result":"Fine","data":""}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                JSON_PROCESSING,
            ),
            (
                format!(
                    r#"{{"records":[{{"recordId":"{a}","result":"Ok"}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                JSON_PROCESSING,
            ),
            (
                format!(
                    r#"{{"records":[{{"recordId":"{a}","result":"Ok","data":"!!"}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                JSON_PROCESSING,
            ),
            (
                format!(
                    r#"{{"records":[{{"recordId":"{a}","result":"Ok","data":"","metadata":{{"partitionKeys":{{"k":[1]}}}}}},{{"recordId":"{b}","result":"Dropped"}}]}}"#
                ),
                JSON_PROCESSING,
            ),
        ];
        for (body, code) in cases {
            let err = decode_response(body.as_bytes(), &sent).unwrap_err();
            assert_eq!(err.code, code, "{body}");
        }
    }

    proptest! {
        #[test]
        fn event_size_bounds_the_encoded_event(datas in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20), pk in ".{0,20}") {
            let records: Vec<TransformRecord> = datas.iter().enumerate().map(|(i, d)| {
                let mut r = rec(i as u32, d);
                if i % 2 == 0 {
                    r.kinesis = Some(KinesisRecordMetadata { shard_id: "s".into(), partition_key: pk.clone(),
                        approximate_arrival_ms: 1, sequence_number: "2".into(), subsequence_number: 3 });
                }
                r
            }).collect();
            let req = TransformRequest { invocation_id: "00000000-0000-0000-0000-000000000000",
                delivery_stream_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
                source_kinesis_stream_arn: None, region: "us-east-1", records: &records };
            let len = encode_event(&req).len();
            prop_assert!(len <= event_size(&records));
            prop_assert!(event_size(&records) - len <= EVENT_ENVELOPE_BYTES);
        }

        #[test]
        fn an_echo_response_round_trips_every_record(datas in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 1..20)) {
            let sent: Vec<TransformRecord> = datas.iter().enumerate().map(|(i, d)| rec(i as u32, d)).collect();
            let records: Vec<Value> = sent.iter().rev().map(|r| serde_json::json!({
                "recordId": r.record_id, "result": "Ok", "data": B64.encode(&r.data)})).collect();
            let body = serde_json::to_vec(&serde_json::json!({"records": records})).unwrap();
            let out = decode_response(&body, &sent).unwrap();
            for (o, s) in out.iter().zip(&sent) {
                prop_assert_eq!(o, &TransformResult::Ok { data: s.data.clone(), partition_keys: BTreeMap::new() });
            }
        }

        #[test]
        fn any_body_decodes_or_fails_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_response(&body, &[rec(0, b"a")]);
        }
    }
}
