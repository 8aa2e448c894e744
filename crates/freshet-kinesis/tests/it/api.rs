// SPDX-License-Identifier: Apache-2.0
//! Bad input never panics, never hangs and always gets an AWS error: property tests that throw
//! random and mutated bodies at every operation through [`KinesisService::handle`], in JSON 1.1 and
//! in CBOR 1.1 (where every answer must also be well-formed CBOR).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ciborium::Value;
use freshet_kinesis::{KinesisService, Streams, StreamsOptions};
use freshet_log::LogConfig;
use freshet_protocol::{CBOR_1_1, Protocol, Response};
use freshet_types::SystemClock;
use proptest::prelude::*;

/// Every operation of the model (those this build lacks answer UnknownOperationException),
/// and one that does not exist.
const OPS: &[&str] = &[
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteResourcePolicy",
    "DeleteStream",
    "DeregisterStreamConsumer",
    "DescribeAccountSettings",
    "DescribeLimits",
    "DescribeStream",
    "DescribeStreamConsumer",
    "DescribeStreamSummary",
    "DisableEnhancedMonitoring",
    "EnableEnhancedMonitoring",
    "GetRecords",
    "GetResourcePolicy",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreamConsumers",
    "ListStreams",
    "ListTagsForResource",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "PutResourcePolicy",
    "RegisterStreamConsumer",
    "RemoveTagsFromStream",
    "SplitShard",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "SubscribeToShard",
    "TagResource",
    "UntagResource",
    "UpdateAccountSettings",
    "UpdateMaxRecordSize",
    "UpdateShardCount",
    "UpdateStreamMode",
    "UpdateStreamWarmThroughput",
    "NoSuchOperation",
];

/// Calls the operation a full `X-Amz-Target` names, as the front door does.
async fn handle(api: &KinesisService, target: &str, protocol: Protocol, body: Bytes) -> Response {
    match target.strip_prefix("Kinesis_20131202.") {
        Some(op) => api.handle(op, protocol, &body).await,
        None => Response::error_in(&freshet_protocol::ApiError::unknown_operation(), protocol),
    }
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    api: KinesisService,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    let streams = rt
        .block_on(Streams::open(
            dir.path(),
            LogConfig::default(),
            opts,
            Arc::new(SystemClock),
        ))
        .expect("open");
    let api = KinesisService::new(streams);
    let setup = r#"{"StreamName":"s","ShardCount":2}"#;
    let r = rt.block_on(handle(
        &api,
        "Kinesis_20131202.CreateStream",
        Protocol::Json11,
        Bytes::from(setup),
    ));
    assert_eq!(r.status, 200);
    Fixture { rt, api, _dir: dir }
}

/// Plausible values for any member: every JSON type, the edges of the model's constraints.
fn value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    let leaf = prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!("s")),
        Just(json!("")),
        Just(json!("aGk=")),
        Just(json!("abcde")),
        Just(json!("shardId-000000000000")),
        Just(json!("TRIM_HORIZON")),
        Just(json!("AT_TIMESTAMP")),
        Just(json!("340282366920938463463374607431768211456")),
        Just(json!("arn:aws:kinesis:us-east-1:000000000000:stream/s")),
        Just(json!(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1"
        )),
        Just(json!("alias/aws/kinesis")),
        Just(json!("KMS")),
        Just(json!("ALL")),
        Just(json!("ON_DEMAND")),
        Just(json!("ENABLED")),
        Just(json!(r#"{"Statement":{}}"#)),
        "\\PC{0,40}".prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(member(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("StreamName"),
        Just("StreamARN"),
        Just("ShardCount"),
        Just("Limit"),
        Just("ExclusiveStartShardId"),
        Just("NextToken"),
        Just("MaxResults"),
        Just("ShardFilter"),
        Just("Type"),
        Just("Timestamp"),
        Just("Data"),
        Just("PartitionKey"),
        Just("ExplicitHashKey"),
        Just("SequenceNumberForOrdering"),
        Just("Records"),
        Just("ShardId"),
        Just("ShardIteratorType"),
        Just("StartingSequenceNumber"),
        Just("ShardIterator"),
        Just("RetentionPeriodHours"),
        Just("StreamModeDetails"),
        Just("TagKeys"),
        Just("ExclusiveStartTagKey"),
        Just("ResourceARN"),
        Just("Policy"),
        Just("EncryptionType"),
        Just("KeyId"),
        Just("ShardLevelMetrics"),
        Just("WarmThroughputMiBps"),
        Just("MaxRecordSizeInKiB"),
        Just("MinimumThroughputBillingCommitment"),
        Just("Status"),
        Just("StreamMode"),
        Just("Tags"),
        Just("EnforceConsumerDeletion"),
        Just("ExclusiveStartStreamName"),
        Just("StreamCreationTimestamp"),
        Just("ConsumerName"),
        Just("ConsumerARN"),
        Just("ResourceARN"),
        Just("TagKeys"),
        Just("ShardLevelMetrics"),
        Just("TargetShardCount"),
        Just("ScalingType"),
        Just("ShardToSplit"),
        Just("NewStartingHashKey"),
        Just("ShardToMerge"),
        Just("AdjacentShardToMerge"),
        Just("StartingPosition"),
        Just("MaxRecordSizeInKiB"),
        Just("WarmThroughputMiBps"),
    ]
    .prop_map(str::to_owned)
}

fn check(f: &Fixture, op: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let target = format!("Kinesis_20131202.{op}");
    let r =
        f.rt.block_on(handle(&f.api, &target, Protocol::Json11, Bytes::from(body)));
    prop_assert!(
        r.status == 200 || r.status == 400,
        "status {} body {:?}",
        r.status,
        r.body
    );
    if r.status == 400 {
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("error bodies are JSON");
        prop_assert!(v.get("__type").and_then(|t| t.as_str()).is_some(), "{v}");
    }
    Ok(())
}

/// Plausible CBOR values for any member: every major type, the encodings the Java SDK uses
/// (byte strings, tag-1 millis), other tags, non-finite floats and bignums.
fn cbor_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        any::<u64>().prop_map(|n| Value::Integer(n.into())),
        any::<f64>().prop_map(Value::Float),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        any::<i64>().prop_map(|n| Value::Tag(1, Box::new(Value::Integer(n.into())))),
        any::<f64>().prop_map(|f| Value::Tag(1, Box::new(Value::Float(f)))),
        (any::<u64>(), "\\PC{0,10}").prop_map(|(t, s)| Value::Tag(t, Box::new(Value::Text(s)))),
        prop::collection::vec(any::<u8>(), 0..20)
            .prop_map(|b| Value::Tag(2, Box::new(Value::Bytes(b)))),
        Just(Value::Text("s".into())),
        Just(Value::Text("shardId-000000000000".into())),
        Just(Value::Text("TRIM_HORIZON".into())),
        Just(Value::Text("AT_TIMESTAMP".into())),
        Just(Value::Text(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s".into()
        )),
        "\\PC{0,40}".prop_map(Value::Text),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((member().prop_map(Value::Text), inner), 0..4)
                .prop_map(Value::Map),
        ]
    })
}

fn encode_cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("encode");
    out
}

fn check_cbor(f: &Fixture, op: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let target = format!("Kinesis_20131202.{op}");
    let r =
        f.rt.block_on(handle(&f.api, &target, Protocol::Cbor11, Bytes::from(body)));
    prop_assert!(
        r.status == 200 || r.status == 400,
        "status {} body {:02x?}",
        r.status,
        r.body
    );
    prop_assert_eq!(r.content_type, CBOR_1_1);
    if r.status == 400 || !r.body.is_empty() {
        prop_assert!(
            freshet_protocol::cbor::well_formed(&r.body),
            "not one well-formed CBOR item: {:02x?}",
            r.body
        );
        let v: Value = ciborium::de::from_reader(r.body.as_ref()).expect("decodes");
        if r.status == 400 {
            let Value::Map(entries) = v else {
                return Err(TestCaseError::fail(format!("error body not a map: {v:?}")));
            };
            prop_assert!(
                entries
                    .iter()
                    .any(|(k, v)| k == &Value::Text("__type".into()) && v.is_text()),
                "{entries:?}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn structured_cbor_garbage_gets_a_cbor_aws_error_not_a_crash(
        op in prop::sample::select(OPS),
        body in prop::collection::vec((member(), cbor_value()), 0..6),
    ) {
        thread_local!(static F: Fixture = fixture());
        let body = Value::Map(body.into_iter().map(|(k, v)| (Value::Text(k), v)).collect());
        let body = encode_cbor(&body);
        F.with(|f| check_cbor(f, op, body))?;
    }

    #[test]
    fn raw_bytes_over_cbor_get_a_cbor_aws_error_not_a_crash(
        op in prop::sample::select(OPS),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        thread_local!(static F: Fixture = fixture());
        F.with(|f| check_cbor(f, op, body))?;
    }

    #[test]
    fn mutated_cbor_requests_get_a_cbor_aws_error_not_a_crash(
        op in prop::sample::select(OPS),
        body in prop::collection::vec((member(), cbor_value()), 1..6),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        thread_local!(static F: Fixture = fixture());
        let body = Value::Map(body.into_iter().map(|(k, v)| (Value::Text(k), v)).collect());
        let mut body = encode_cbor(&body);
        // Overwrite a few bytes (often a header: a length, a major type), then maybe truncate.
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        let keep = cut.index(body.len() + 1).max(body.len() / 2);
        body.truncate(keep);
        F.with(|f| check_cbor(f, op, body))?;
    }

    #[test]
    fn structured_garbage_gets_an_aws_error_not_a_crash(
        op in prop::sample::select(OPS),
        body in prop::collection::btree_map(member(), value(), 0..6),
    ) {
        thread_local!(static F: Fixture = fixture());
        let body = serde_json::to_vec(&body).expect("encode");
        F.with(|f| check(f, op, body))?;
    }

    #[test]
    fn raw_bytes_get_an_aws_error_not_a_crash(
        op in prop::sample::select(OPS),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        thread_local!(static F: Fixture = fixture());
        F.with(|f| check(f, op, body))?;
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let f = fixture();
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = f.rt.block_on(handle(
        &f.api,
        "Kinesis_20131202.PutRecords",
        Protocol::Json11,
        Bytes::from(body),
    ));
    assert_eq!(r.status, 400);
}

#[test]
fn deeply_nested_cbor_is_refused_without_overflowing_the_stack() {
    let f = fixture();
    for open in [0x81_u8, 0x9f, 0xc1] {
        // 100,000 nested one-item arrays, indefinite arrays, or tags under a member.
        let mut body = vec![0xa1, 0x64];
        body.extend_from_slice(b"Data");
        body.extend(std::iter::repeat_n(open, 100_000));
        body.push(0x00);
        let r = f.rt.block_on(handle(
            &f.api,
            "Kinesis_20131202.PutRecords",
            Protocol::Cbor11,
            Bytes::from(body),
        ));
        assert_eq!(r.status, 400);
        assert_eq!(r.content_type, CBOR_1_1);
    }
}

#[test]
fn cbor_lengths_claiming_more_than_the_body_are_refused() {
    let f = fixture();
    // A 100-byte body whose byte string, text, array and map headers claim 4 GiB or 2^64.
    for header in [
        &[0x5a, 0xff, 0xff, 0xff, 0xff][..],
        &[0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x9a, 0xff, 0xff, 0xff, 0xff],
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ] {
        let mut body = vec![0xa1, 0x64];
        body.extend_from_slice(b"Data");
        body.extend_from_slice(header);
        body.resize(100, 0);
        let r = f.rt.block_on(handle(
            &f.api,
            "Kinesis_20131202.PutRecord",
            Protocol::Cbor11,
            Bytes::from(body),
        ));
        assert_eq!(r.status, 400);
        let v: Value = ciborium::de::from_reader(r.body.as_ref()).expect("CBOR error");
        assert_eq!(
            v,
            Value::Map(vec![(
                Value::Text("__type".into()),
                Value::Text("SerializationException".into())
            )])
        );
    }
}

#[test]
fn put_records_with_501_entries_is_a_validation_error() {
    let f = fixture();
    let records: Vec<_> = (0..501)
        .map(|i| serde_json::json!({"Data": "aGk=", "PartitionKey": format!("k{i}")}))
        .collect();
    let body = serde_json::json!({"StreamName": "s", "Records": records}).to_string();
    let r = f.rt.block_on(handle(
        &f.api,
        "Kinesis_20131202.PutRecords",
        Protocol::Json11,
        Bytes::from(body),
    ));
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["__type"], "ValidationException");
    let msg = v["message"].as_str().expect("message");
    assert!(msg.starts_with("1 validation error detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@"), "{msg}");
    assert!(msg.ends_with("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"), "{msg}");
}
