// SPDX-License-Identifier: Apache-2.0
//! Bad input never panics, never hangs and always gets an AWS error: property tests that throw
//! random and mutated bodies at every operation through [`Kinesis::handle`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_aws::{Kinesis, Protocol};
use freshet_log::LogConfig;
use freshet_streams::{Streams, StreamsOptions};
use freshet_types::SystemClock;
use proptest::prelude::*;

const OPS: &[&str] = &[
    "CreateStream",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "ListShards",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "UpdateStreamMode",
    "DescribeLimits",
    "DescribeAccountSettings",
    "UpdateAccountSettings",
    "UpdateMaxRecordSize",
    "UpdateStreamWarmThroughput",
    "PutResourcePolicy",
    "GetResourcePolicy",
    "DeleteResourcePolicy",
    "NoSuchOperation",
];

struct Fixture {
    rt: tokio::runtime::Runtime,
    api: Kinesis,
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
    let api = Kinesis::new(streams);
    let setup = r#"{"StreamName":"s","ShardCount":2}"#;
    let r = rt.block_on(api.handle(
        "Kinesis_20131202.CreateStream",
        Protocol::Json,
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
    ]
    .prop_map(str::to_owned)
}

fn check(f: &Fixture, op: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let target = format!("Kinesis_20131202.{op}");
    let r =
        f.rt.block_on(f.api.handle(&target, Protocol::Json, Bytes::from(body)));
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

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
    let r = f.rt.block_on(f.api.handle(
        "Kinesis_20131202.PutRecords",
        Protocol::Json,
        Bytes::from(body),
    ));
    assert_eq!(r.status, 400);
}

#[test]
fn put_records_with_501_entries_is_a_validation_error() {
    let f = fixture();
    let records: Vec<_> = (0..501)
        .map(|i| serde_json::json!({"Data": "aGk=", "PartitionKey": format!("k{i}")}))
        .collect();
    let body = serde_json::json!({"StreamName": "s", "Records": records}).to_string();
    let r = f.rt.block_on(f.api.handle(
        "Kinesis_20131202.PutRecords",
        Protocol::Json,
        Bytes::from(body),
    ));
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["__type"], "ValidationException");
    let msg = v["message"].as_str().expect("message");
    assert!(msg.starts_with("1 validation error detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@"), "{msg}");
    assert!(msg.ends_with("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"), "{msg}");
}
