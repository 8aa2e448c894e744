// SPDX-License-Identifier: Apache-2.0
//! The documents an event source mapping sends, exactly as AWS sends them:
//!
//! - the Kinesis event (<https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>):
//!   `{"Records": [{"kinesis": {...}, "eventID": "<shardId>:<seq>", ...}]}`, data in base64,
//!   `approximateArrivalTimestamp` in float epoch seconds with milliseconds, plus the
//!   tumbling-window members (`window`, `state`, `shardId`, `eventSourceARN`,
//!   `isFinalInvokeForWindow`, `isWindowTerminatedEarly`) when windows are on;
//! - the SQS event (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>): system
//!   attributes as strings, message attributes in Lambda's camel-case shape;
//! - the on-failure invocation record a stream mapping sends to its OnFailure destination
//!   (metadata only: the consumer re-reads the records from the stream);
//! - the per-record view filters match (the record with its payload decoded when JSON).
//!
//! Pure: no I/O, no clock (times are passed in).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use freshet_types::civil::civil_from_days;
use serde_json::{Map, Value, json};

/// Where a stream mapping's records come from and who invokes: the same for every record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisSource {
    /// The stream ARN (`eventSourceARN`).
    pub stream_arn: String,
    /// The region (`awsRegion`).
    pub region: String,
    /// The function's execution role (`invokeIdentityArn`).
    pub role_arn: String,
}

/// One Kinesis record as the mapping read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// The sequence number (decimal string).
    pub sequence: String,
    /// The partition key.
    pub partition_key: String,
    /// The payload, raw.
    pub data: Vec<u8>,
    /// Arrival time, ms since the epoch.
    pub arrival_ms: i64,
    /// Written while server-side encryption was on (adds `encryptionType: KMS`).
    pub encrypted: bool,
}

/// The tumbling-window part of a Kinesis event.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowInfo {
    /// Window start, ms since the epoch (inclusive).
    pub start_ms: i64,
    /// Window end, ms since the epoch (exclusive).
    pub end_ms: i64,
    /// The state the previous invocation of this window returned (`{}` at first).
    pub state: Value,
    /// The shard.
    pub shard_id: String,
    /// Whether this is the window's last invocation.
    pub is_final: bool,
    /// Whether the window ended early (its shard closed, or the state grew too big).
    pub terminated_early: bool,
}

/// The `kinesis` member of one record of a Kinesis event.
fn kinesis_member(r: &KinesisRecord) -> Value {
    let mut k = json!({
        "kinesisSchemaVersion": "1.0",
        "partitionKey": r.partition_key,
        "sequenceNumber": r.sequence,
        "data": B64.encode(&r.data),
        "approximateArrivalTimestamp": epoch_seconds(r.arrival_ms),
    });
    if r.encrypted {
        k["encryptionType"] = json!("KMS");
    }
    k
}

/// One element of a Kinesis event's `Records`.
pub fn kinesis_record(src: &KinesisSource, r: &KinesisRecord) -> Value {
    json!({
        "kinesis": kinesis_member(r),
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", r.shard_id, r.sequence),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": src.role_arn,
        "awsRegion": src.region,
        "eventSourceARN": src.stream_arn,
    })
}

/// The Kinesis event for one batch (records of one shard), with the window members when
/// tumbling windows are on.
pub fn kinesis_event(
    src: &KinesisSource,
    records: &[KinesisRecord],
    window: Option<&WindowInfo>,
) -> Value {
    let recs: Vec<Value> = records.iter().map(|r| kinesis_record(src, r)).collect();
    let mut event = json!({ "Records": recs });
    if let Some(w) = window {
        event["window"] = json!({
            "start": iso_seconds(w.start_ms),
            "end": iso_seconds(w.end_ms),
        });
        event["state"] = w.state.clone();
        event["shardId"] = json!(w.shard_id);
        event["eventSourceARN"] = json!(src.stream_arn);
        event["isFinalInvokeForWindow"] = json!(w.is_final);
        event["isWindowTerminatedEarly"] = json!(w.terminated_early);
    }
    event
}

/// What filters see of a Kinesis record: its `kinesis` member with `data` decoded and
/// parsed (absent when the data is not JSON), and whether it was JSON.
pub fn kinesis_filter_view(r: &KinesisRecord) -> (Value, bool) {
    let mut k = kinesis_member(r);
    let parsed = serde_json::from_slice::<Value>(&r.data).ok();
    let is_json = parsed.is_some();
    if let Value::Object(m) = &mut k {
        match parsed {
            Some(v) => {
                m.insert("data".into(), v);
            }
            None => {
                m.remove("data");
            }
        }
    }
    (k, is_json)
}

/// A message attribute as SQS stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeData {
    /// String and Number types.
    String(String),
    /// Binary types.
    Binary(Vec<u8>),
}

/// One received SQS message, with what the receive decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    /// MessageId.
    pub message_id: String,
    /// ReceiptHandle of this receive.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// ApproximateReceiveCount.
    pub receive_count: u32,
    /// SentTimestamp, ms.
    pub sent_ms: i64,
    /// SenderId.
    pub sender_id: String,
    /// ApproximateFirstReceiveTimestamp, ms.
    pub first_receive_ms: i64,
    /// MessageGroupId (FIFO).
    pub group_id: Option<String>,
    /// MessageDeduplicationId (FIFO).
    pub dedup_id: Option<String>,
    /// SequenceNumber (FIFO).
    pub sequence_number: Option<String>,
    /// AWSTraceHeader.
    pub trace_header: Option<String>,
    /// DeadLetterQueueSourceArn, for a message moved from another queue.
    pub dead_letter_source: Option<String>,
    /// Message attributes: DataType and value.
    pub attributes: BTreeMap<String, (String, AttributeData)>,
    /// MD5OfBody (hex).
    pub md5_of_body: String,
    /// MD5OfMessageAttributes (hex), when it has attributes.
    pub md5_of_attributes: Option<String>,
}

/// The queue messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsSource {
    /// The queue ARN.
    pub queue_arn: String,
    /// The region.
    pub region: String,
}

fn sqs_attributes(m: &SqsMessage) -> Value {
    let mut a = Map::new();
    a.insert(
        "ApproximateReceiveCount".into(),
        json!(m.receive_count.to_string()),
    );
    a.insert("SentTimestamp".into(), json!(m.sent_ms.to_string()));
    a.insert("SenderId".into(), json!(m.sender_id));
    a.insert(
        "ApproximateFirstReceiveTimestamp".into(),
        json!(m.first_receive_ms.to_string()),
    );
    let optional = [
        ("SequenceNumber", &m.sequence_number),
        ("MessageGroupId", &m.group_id),
        ("MessageDeduplicationId", &m.dedup_id),
        ("AWSTraceHeader", &m.trace_header),
        ("DeadLetterQueueSourceArn", &m.dead_letter_source),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            a.insert(k.into(), json!(v));
        }
    }
    Value::Object(a)
}

fn sqs_message_attributes(m: &SqsMessage) -> Value {
    let mut out = Map::new();
    for (name, (data_type, data)) in &m.attributes {
        let mut a = Map::new();
        match data {
            AttributeData::String(s) => {
                a.insert("stringValue".into(), json!(s));
            }
            AttributeData::Binary(b) => {
                a.insert("binaryValue".into(), json!(B64.encode(b)));
            }
        }
        a.insert("stringListValues".into(), json!([]));
        a.insert("binaryListValues".into(), json!([]));
        a.insert("dataType".into(), json!(data_type));
        out.insert(name.clone(), Value::Object(a));
    }
    Value::Object(out)
}

/// One element of an SQS event's `Records`.
pub fn sqs_record(src: &SqsSource, m: &SqsMessage) -> Value {
    let mut r = json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": sqs_attributes(m),
        "messageAttributes": sqs_message_attributes(m),
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": src.queue_arn,
        "awsRegion": src.region,
    });
    if let Some(md5) = &m.md5_of_attributes {
        r["md5OfMessageAttributes"] = json!(md5);
    }
    r
}

/// The SQS event for one batch.
pub fn sqs_event(src: &SqsSource, messages: &[SqsMessage]) -> Value {
    let recs: Vec<Value> = messages.iter().map(|m| sqs_record(src, m)).collect();
    json!({ "Records": recs })
}

/// What filters see of an SQS message: the record with `body` parsed when it is JSON
/// (left out otherwise), and whether it was.
pub fn sqs_filter_view(src: &SqsSource, m: &SqsMessage) -> (Value, bool) {
    let mut r = sqs_record(src, m);
    let parsed = serde_json::from_str::<Value>(&m.body).ok();
    let is_json = parsed.is_some();
    if let Value::Object(o) = &mut r {
        match parsed {
            Some(v) => {
                o.insert("body".into(), v);
            }
            None => {
                o.remove("body");
            }
        }
    }
    (r, is_json)
}

/// Why a batch went to the on-failure destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCondition {
    /// MaximumRetryAttempts were used up.
    RetryAttemptsExhausted,
    /// A record grew older than MaximumRecordAgeInSeconds.
    RecordAgeExceeded,
}

impl FailureCondition {
    /// The `condition` value.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCondition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            FailureCondition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// The last invocation's answer, as the failure record's `responseContext` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// 200 when the function ran; the error's status otherwise (429 for a throttle).
    pub status_code: u16,
    /// The version that ran (empty when it did not run).
    pub executed_version: String,
    /// `Unhandled`/`Handled` when the function failed.
    pub function_error: Option<String>,
}

/// One failed Kinesis batch, for the on-failure record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisFailure {
    /// A fresh request id (UUID).
    pub request_id: String,
    /// The function's ARN (as the mapping invokes it).
    pub function_arn: String,
    /// Why the batch was given up.
    pub condition: FailureCondition,
    /// How many times the batch was invoked.
    pub invoke_count: u32,
    /// The last answer, if the function was invoked at all.
    pub response: Option<ResponseContext>,
    /// When the record is written, ms.
    pub now_ms: i64,
    /// The shard.
    pub shard_id: String,
    /// First and last sequence numbers of the batch.
    pub start_sequence: String,
    /// Last sequence number of the batch.
    pub end_sequence: String,
    /// Arrival of the first record, ms.
    pub first_arrival_ms: i64,
    /// Arrival of the last record, ms.
    pub last_arrival_ms: i64,
    /// Records in the batch.
    pub batch_size: usize,
    /// The stream ARN.
    pub stream_arn: String,
}

/// The invocation record sent to an SQS (or SNS) on-failure destination.
pub fn kinesis_failure_record(f: &KinesisFailure) -> Value {
    let mut doc = json!({
        "requestContext": {
            "requestId": f.request_id,
            "functionArn": f.function_arn,
            "condition": f.condition.as_str(),
            "approximateInvokeCount": f.invoke_count,
        },
        "version": "1.0",
        "timestamp": iso_millis(f.now_ms),
        "KinesisBatchInfo": {
            "shardId": f.shard_id,
            "startSequenceNumber": f.start_sequence,
            "endSequenceNumber": f.end_sequence,
            "approximateArrivalOfFirstRecord": iso_millis(f.first_arrival_ms),
            "approximateArrivalOfLastRecord": iso_millis(f.last_arrival_ms),
            "batchSize": f.batch_size,
            "streamArn": f.stream_arn,
        },
    });
    if let Some(r) = &f.response {
        let mut rc = json!({
            "statusCode": r.status_code,
            "executedVersion": r.executed_version,
        });
        if let Some(e) = &r.function_error {
            rc["functionError"] = json!(e);
        }
        doc["responseContext"] = rc;
    }
    doc
}

/// Epoch seconds with milliseconds, as a JSON number (`1545084650.987`).
pub fn epoch_seconds(ms: i64) -> Value {
    // Integer division keeps the three decimals exact before the single conversion.
    let secs = ms.div_euclid(1000) as f64 + ms.rem_euclid(1000) as f64 / 1000.0;
    json!(secs)
}

/// `2019-11-14T00:38:06.021Z`.
pub fn iso_millis(ms: i64) -> String {
    let (date, rest) = iso_parts(ms);
    format!("{date}.{rest:03}Z")
}

/// `2020-07-30T17:00:00Z`.
pub fn iso_seconds(ms: i64) -> String {
    format!("{}Z", iso_parts(ms).0)
}

fn iso_parts(ms: i64) -> (String, i64) {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    (
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        ),
        ms.rem_euclid(1000),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn source() -> KinesisSource {
        KinesisSource {
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
            region: "us-east-2".into(),
            role_arn: "arn:aws:iam::123456789012:role/lambda-role".into(),
        }
    }

    fn record() -> KinesisRecord {
        KinesisRecord {
            shard_id: "shardId-000000000006".into(),
            sequence: "49590338271490256608559692538361571095921575989136588898".into(),
            partition_key: "1".into(),
            data: b"Hello, this is a test.".to_vec(),
            arrival_ms: 1_545_084_650_987,
            encrypted: false,
        }
    }

    /// The example event of the Lambda developer guide ("Using Lambda with Kinesis").
    #[test]
    fn the_kinesis_event_is_the_documented_example() {
        let golden: Value = serde_json::from_str(
            r#"{"Records": [{
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "1",
                    "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                    "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                    "approximateArrivalTimestamp": 1545084650.987
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                "awsRegion": "us-east-2",
                "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
            }]}"#,
        )
        .expect("golden");
        assert_eq!(kinesis_event(&source(), &[record()], None), golden);
        assert!(
            kinesis_event(&source(), &[record()], None)
                .to_string()
                .contains("\"approximateArrivalTimestamp\":1545084650.987")
        );
    }

    #[test]
    fn encrypted_records_say_kms() {
        let r = KinesisRecord {
            encrypted: true,
            ..record()
        };
        assert_eq!(
            kinesis_record(&source(), &r)["kinesis"]["encryptionType"],
            "KMS"
        );
    }

    /// The tumbling-window example of the developer guide.
    #[test]
    fn the_window_members_are_the_documented_ones() {
        let w = WindowInfo {
            start_ms: 1_596_128_400_000,
            end_ms: 1_596_128_700_000,
            state: json!({"1": 282, "2": 715}),
            shard_id: "shardId-000000000006".into(),
            is_final: false,
            terminated_early: false,
        };
        let e = kinesis_event(&source(), &[record()], Some(&w));
        assert_eq!(
            e["window"],
            json!({"start": "2020-07-30T17:00:00Z", "end": "2020-07-30T17:05:00Z"})
        );
        assert_eq!(e["state"], json!({"1": 282, "2": 715}));
        assert_eq!(e["shardId"], "shardId-000000000006");
        assert_eq!(e["eventSourceARN"], source().stream_arn.as_str());
        assert_eq!(e["isFinalInvokeForWindow"], false);
        assert_eq!(e["isWindowTerminatedEarly"], false);
    }

    fn message() -> SqsMessage {
        SqsMessage {
            message_id: "059f36b4-87a3-44ab-83d2-661975830a7d".into(),
            receipt_handle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a".into(),
            body: "Test message.".into(),
            receive_count: 1,
            sent_ms: 1_545_082_649_183,
            sender_id: "AIDAIENQZJOLO23YVJ4VO".into(),
            first_receive_ms: 1_545_082_649_185,
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            trace_header: None,
            dead_letter_source: None,
            attributes: BTreeMap::from([(
                "myAttribute".into(),
                ("String".into(), AttributeData::String("myValue".into())),
            )]),
            md5_of_body: "e4e68fb7bd0e697a0ae8f1bb342846b3".into(),
            md5_of_attributes: None,
        }
    }

    /// The example event of the developer guide ("Using Lambda with Amazon SQS").
    #[test]
    fn the_sqs_event_is_the_documented_example() {
        let golden: Value = serde_json::from_str(
            r#"{"Records": [{
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": "Test message.",
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1545082649183",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1545082649185"
                },
                "messageAttributes": {
                    "myAttribute": {
                        "stringValue": "myValue",
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "String"
                    }
                },
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
                "awsRegion": "us-east-2"
            }]}"#,
        )
        .expect("golden");
        let src = SqsSource {
            queue_arn: "arn:aws:sqs:us-east-2:123456789012:my-queue".into(),
            region: "us-east-2".into(),
        };
        assert_eq!(sqs_event(&src, &[message()]), golden);
    }

    #[test]
    fn fifo_messages_carry_group_dedup_and_sequence_and_binary_attributes_are_base64() {
        let m = SqsMessage {
            group_id: Some("g".into()),
            dedup_id: Some("d".into()),
            sequence_number: Some("18849496460467696128".into()),
            attributes: BTreeMap::from([(
                "b".into(),
                ("Binary".into(), AttributeData::Binary(vec![1, 2, 3])),
            )]),
            ..message()
        };
        let src = SqsSource {
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:q.fifo".into(),
            region: "us-east-1".into(),
        };
        let r = sqs_record(&src, &m);
        assert_eq!(r["attributes"]["MessageGroupId"], "g");
        assert_eq!(r["attributes"]["MessageDeduplicationId"], "d");
        assert_eq!(r["attributes"]["SequenceNumber"], "18849496460467696128");
        assert_eq!(r["messageAttributes"]["b"]["binaryValue"], "AQID");
        assert_eq!(r["messageAttributes"]["b"]["dataType"], "Binary");
    }

    /// The on-failure example of the developer guide (Kinesis, SQS destination).
    #[test]
    fn the_failure_record_is_the_documented_example() {
        let golden: Value = serde_json::from_str(
            r#"{
                "requestContext": {
                    "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
                    "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": 1
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled"
                },
                "version": "1.0",
                "timestamp": "2019-11-14T00:38:06.021Z",
                "KinesisBatchInfo": {
                    "shardId": "shardId-000000000001",
                    "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
                    "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
                    "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
                    "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
                    "batchSize": 500,
                    "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
                }
            }"#,
        )
        .expect("golden");
        let f = KinesisFailure {
            request_id: "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5".into(),
            function_arn: "arn:aws:lambda:us-east-2:123456789012:function:myfunction".into(),
            condition: FailureCondition::RetryAttemptsExhausted,
            invoke_count: 1,
            response: Some(ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".into(),
                function_error: Some("Unhandled".into()),
            }),
            now_ms: 1_573_691_886_021,
            shard_id: "shardId-000000000001".into(),
            start_sequence: "49601189658422359378836298521827638475320189012309704722".into(),
            end_sequence: "49601189658422359378836298522902373528957594348623495186".into(),
            first_arrival_ms: 1_573_691_884_835,
            last_arrival_ms: 1_573_691_885_580,
            batch_size: 500,
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/mystream".into(),
        };
        assert_eq!(kinesis_failure_record(&f), golden);
    }

    #[test]
    fn filters_see_decoded_json_data_and_no_data_otherwise() {
        let r = KinesisRecord {
            data: br#"{"t": 5}"#.to_vec(),
            ..record()
        };
        let (view, json) = kinesis_filter_view(&r);
        assert!(json);
        assert_eq!(view["data"], json!({"t": 5}));
        let (view, json) = kinesis_filter_view(&record());
        assert!(!json);
        assert!(view.get("data").is_none());
        assert_eq!(view["partitionKey"], "1");
    }

    proptest! {
        #[test]
        fn arrival_timestamps_keep_their_milliseconds(ms in 0i64..4_102_444_800_000) {
            let v = epoch_seconds(ms);
            let back = (v.as_f64().unwrap_or(-1.0) * 1000.0).round() as i64;
            prop_assert_eq!(back, ms);
            let iso = iso_millis(ms);
            prop_assert_eq!(iso.len(), 24);
            prop_assert!(iso.ends_with('Z'));
        }
    }
}
