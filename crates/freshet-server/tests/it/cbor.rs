// SPDX-License-Identifier: Apache-2.0
//! CBOR 1.1, as the Java SDKs and the KCL speak it: a small CBOR client built from ciborium
//! and the request shapes the Java SDK sends (byte-string blobs, tag 1 + integer epoch
//! milliseconds for timestamps), run differentially against JSON 1.1 for every operation of
//! the model, plus the encodings AWS clients depend on and the protocol errors.
//!
//! The differential test runs one scenario on two servers in lockstep, one spoken to in JSON
//! and one in CBOR, and compares each answer after normalising the encodings (bytes ↔ base64,
//! tag-1 millis ↔ seconds) and the values that differ between any two servers (sequence
//! numbers, iterators, timestamps). Operations this build does not implement answer
//! UnknownOperationException in both protocols, which compares equal; the table covers all 39
//! operations so each one is checked as soon as it exists.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ConsumerStatus, StreamStatus};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ciborium::Value;
use freshet_testkit::{AMZ_CBOR, AMZ_JSON, RawResponse};
use serde_json::json;

use super::common::*;

// ---------------------------------------------------------------------------------------------
// The CBOR client: values shaped like the Java SDK's, their JSON 1.1 twins, and normalisation.

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// A timestamp as the Java SDK writes it: tag 1 + integer epoch milliseconds.
fn millis(ms: i64) -> Value {
    Value::Tag(1, Box::new(int(ms)))
}

fn list(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("encode CBOR");
    out
}

fn decode(body: &[u8]) -> Value {
    ciborium::de::from_reader(body)
        .unwrap_or_else(|e| panic!("response is not CBOR ({e:?}): {body:02x?}"))
}

/// The JSON 1.1 form of a CBOR value, as a JSON SDK sends it and as a JSON response carries
/// it: byte strings as base64, tag-1 millis as epoch seconds. For responses (`response`), a
/// tag-1 timestamp must be an integer: Java SDKs read a float 1000 times wrong.
fn to_json(v: &Value, response: bool) -> serde_json::Value {
    match v {
        Value::Integer(i) => {
            let i = i128::from(*i);
            match i64::try_from(i) {
                Ok(n) => json!(n),
                Err(_) => json!(u64::try_from(i).expect("64-bit integer")),
            }
        }
        Value::Float(f) => json!(f),
        Value::Bytes(b) => json!(STANDARD.encode(b)),
        Value::Text(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Null => serde_json::Value::Null,
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Integer(ms) => {
                let ms = i64::try_from(i128::from(*ms)).expect("millis fit in i64");
                json!(ms as f64 / 1000.0)
            }
            other => {
                assert!(
                    !response,
                    "timestamps must be tag 1 + integer millis, got {other:?}"
                );
                to_json(other, response)
            }
        },
        Value::Tag(tag, inner) => panic!("unexpected CBOR tag {tag} on {inner:?}"),
        Value::Array(items) => items.iter().map(|x| to_json(x, response)).collect(),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let Value::Text(k) = k else {
                        panic!("map keys are text, got {k:?}");
                    };
                    (k.clone(), to_json(v, response))
                })
                .collect(),
        ),
        other => panic!("unexpected CBOR value {other:?}"),
    }
}

/// Members whose values differ between any two servers (time, randomness): their presence
/// and JSON type are compared, not their values.
const VARYING: &[&str] = &[
    "SequenceNumber",
    "StartingSequenceNumber",
    "EndingSequenceNumber",
    "ContinuationSequenceNumber",
    "ShardIterator",
    "NextShardIterator",
    "NextToken",
    "MillisBehindLatest",
    "ApproximateArrivalTimestamp",
    "StreamCreationTimestamp",
    "ConsumerCreationTimestamp",
    "ConsumerARN",
    "StartedAt",
    "EndedAt",
    "EarliestAllowedEndAt",
];

fn normalise(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if VARYING.contains(&k.as_str()) {
                    let kind = match x {
                        serde_json::Value::String(_) => "<string>",
                        serde_json::Value::Number(_) => "<number>",
                        serde_json::Value::Null => "<null>",
                        _ => "<other>",
                    };
                    *x = json!(kind);
                } else {
                    normalise(x);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// One answer, reduced to what must agree across protocols.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: u16,
    error: Option<String>,
    body: serde_json::Value,
}

fn outcome(resp: &RawResponse, protocol: &str) -> Outcome {
    let content_type = resp.header("content-type").unwrap_or("");
    let mut body = if resp.body.is_empty() {
        serde_json::Value::Null
    } else if content_type == AMZ_CBOR {
        to_json(&decode(&resp.body), true)
    } else if content_type == AMZ_JSON {
        resp.json()
    } else {
        // An event stream or anything else: compared by content type only.
        json!({ "content-type": content_type })
    };
    if !resp.body.is_empty() && (content_type == AMZ_CBOR || content_type == AMZ_JSON) {
        assert_eq!(
            content_type, protocol,
            "a {protocol} request is answered in {protocol}"
        );
    }
    let error = body
        .get("__type")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    if error.as_deref() == Some("SerializationException") {
        // Type-error texts come from different decoders; the code is what clients act on.
        body = json!({ "__type": "SerializationException" });
    }
    normalise(&mut body);
    Outcome {
        status: resp.status,
        error,
        body,
    }
}

async fn call(server: &TestServer, op: &str, request: &Value, protocol: &str) -> RawResponse {
    let body = if protocol == AMZ_CBOR {
        Bytes::from(encode(request))
    } else {
        Bytes::from(to_json(request, false).to_string())
    };
    // A hung call (an event stream that never ends) fails the test instead of the suite.
    tokio::time::timeout(
        Duration::from_secs(60),
        server.raw_post(Some(op), body, Some(protocol)),
    )
    .await
    .unwrap_or_else(|_| panic!("{op} over {protocol} did not answer within 60 s"))
}

// ---------------------------------------------------------------------------------------------
// The operation table.

/// What the requests of one server's scenario refer to.
struct Ctx {
    arn: String,
    reshard_arn: String,
    iterator: String,
    created_ms: i64,
}

const STREAM: &str = "cbor-main";
const RESHARD: &str = "cbor-reshard";
const CREATED: &str = "cbor-created";
const CONSUMER: &str = "cbor-consumer";
/// Streams the scenario waits on between operations, so both servers see the same states.
const STREAMS: [&str; 3] = [STREAM, RESHARD, CREATED];

/// One request per operation of the model, in an order whose state changes keep the later
/// requests meaningful. Add an operation by adding its line.
#[allow(clippy::type_complexity)]
const OPERATIONS: &[(&str, fn(&Ctx) -> Value)] = &[
    ("DescribeLimits", |_| map(vec![])),
    ("DescribeAccountSettings", |_| map(vec![])),
    ("ListStreams", |_| map(vec![("Limit", int(10))])),
    ("DescribeStream", |_| {
        map(vec![("StreamName", text(STREAM)), ("Limit", int(100))])
    }),
    ("DescribeStreamSummary", |c| {
        map(vec![("StreamARN", text(&c.arn))])
    }),
    ("ListShards", |c| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("StreamCreationTimestamp", millis(c.created_ms)),
            (
                "ShardFilter",
                map(vec![
                    ("Type", text("AT_TIMESTAMP")),
                    ("Timestamp", millis(c.created_ms)),
                ]),
            ),
        ])
    }),
    ("PutRecord", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("Data", bytes(&[0, 1, 2, 0xff, b'x'])),
            ("PartitionKey", text("pk-1")),
        ])
    }),
    ("PutRecords", |c| {
        map(vec![
            (
                "Records",
                list(vec![
                    map(vec![
                        ("Data", bytes(b"hello")),
                        ("PartitionKey", text("pk-2")),
                    ]),
                    map(vec![
                        ("Data", bytes(&[])),
                        ("PartitionKey", text("pk-3")),
                        ("ExplicitHashKey", text("1")),
                    ]),
                ]),
            ),
            ("StreamARN", text(&c.arn)),
        ])
    }),
    ("GetShardIterator", |c| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("ShardId", text("shardId-000000000000")),
            ("ShardIteratorType", text("AT_TIMESTAMP")),
            ("Timestamp", millis(c.created_ms)),
        ])
    }),
    ("GetRecords", |c| {
        map(vec![
            ("ShardIterator", text(&c.iterator)),
            ("Limit", int(100)),
        ])
    }),
    ("AddTagsToStream", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            (
                "Tags",
                map(vec![("team", text("data")), ("env", text("test"))]),
            ),
        ])
    }),
    ("ListTagsForStream", |_| {
        map(vec![("StreamName", text(STREAM)), ("Limit", int(10))])
    }),
    ("RemoveTagsFromStream", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("TagKeys", list(vec![text("env")])),
        ])
    }),
    ("TagResource", |c| {
        map(vec![
            ("ResourceARN", text(&c.arn)),
            ("Tags", map(vec![("owner", text("cbor"))])),
        ])
    }),
    ("ListTagsForResource", |c| {
        map(vec![("ResourceARN", text(&c.arn))])
    }),
    ("UntagResource", |c| {
        map(vec![
            ("ResourceARN", text(&c.arn)),
            ("TagKeys", list(vec![text("owner")])),
        ])
    }),
    ("IncreaseStreamRetentionPeriod", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("RetentionPeriodHours", int(48)),
        ])
    }),
    ("DecreaseStreamRetentionPeriod", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("RetentionPeriodHours", int(24)),
        ])
    }),
    ("EnableEnhancedMonitoring", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("ShardLevelMetrics", list(vec![text("IncomingBytes")])),
        ])
    }),
    ("DisableEnhancedMonitoring", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("ShardLevelMetrics", list(vec![text("IncomingBytes")])),
        ])
    }),
    ("StartStreamEncryption", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("EncryptionType", text("KMS")),
            ("KeyId", text("alias/aws/kinesis")),
        ])
    }),
    ("StopStreamEncryption", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("EncryptionType", text("KMS")),
            ("KeyId", text("alias/aws/kinesis")),
        ])
    }),
    ("RegisterStreamConsumer", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("ConsumerName", text(CONSUMER)),
        ])
    }),
    ("DescribeStreamConsumer", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("ConsumerName", text(CONSUMER)),
        ])
    }),
    ("ListStreamConsumers", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("MaxResults", int(10)),
            ("StreamCreationTimestamp", millis(c.created_ms)),
        ])
    }),
    // A consumer that does not exist: the pre-stream error, never a 5-minute event stream.
    ("SubscribeToShard", |c| {
        map(vec![
            (
                "ConsumerARN",
                text(&format!("{}/consumer/absent:1700000000", c.arn)),
            ),
            ("ShardId", text("shardId-000000000000")),
            (
                "StartingPosition",
                map(vec![
                    ("Type", text("AT_TIMESTAMP")),
                    ("Timestamp", millis(c.created_ms)),
                ]),
            ),
        ])
    }),
    ("DeregisterStreamConsumer", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("ConsumerName", text(CONSUMER)),
        ])
    }),
    ("PutResourcePolicy", |c| {
        map(vec![
            ("ResourceARN", text(&c.arn)),
            (
                "Policy",
                text(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#,
                ),
            ),
        ])
    }),
    ("GetResourcePolicy", |c| {
        map(vec![("ResourceARN", text(&c.arn))])
    }),
    ("DeleteResourcePolicy", |c| {
        map(vec![("ResourceARN", text(&c.arn))])
    }),
    ("UpdateShardCount", |_| {
        map(vec![
            ("StreamName", text(STREAM)),
            ("TargetShardCount", int(4)),
            ("ScalingType", text("UNIFORM_SCALING")),
        ])
    }),
    ("SplitShard", |_| {
        map(vec![
            ("StreamName", text(RESHARD)),
            ("ShardToSplit", text("shardId-000000000000")),
            (
                "NewStartingHashKey",
                text("85070591730234615865843651857942052864"),
            ),
        ])
    }),
    ("MergeShards", |_| {
        map(vec![
            ("StreamName", text(RESHARD)),
            ("ShardToMerge", text("shardId-000000000002")),
            ("AdjacentShardToMerge", text("shardId-000000000003")),
        ])
    }),
    ("UpdateStreamMode", |c| {
        map(vec![
            ("StreamARN", text(&c.reshard_arn)),
            (
                "StreamModeDetails",
                map(vec![("StreamMode", text("ON_DEMAND"))]),
            ),
        ])
    }),
    ("UpdateStreamWarmThroughput", |c| {
        map(vec![
            ("StreamARN", text(&c.reshard_arn)),
            ("WarmThroughputMiBps", int(10)),
        ])
    }),
    ("UpdateMaxRecordSize", |c| {
        map(vec![
            ("StreamARN", text(&c.arn)),
            ("MaxRecordSizeInKiB", int(2048)),
        ])
    }),
    ("UpdateAccountSettings", |_| {
        map(vec![(
            "MinimumThroughputBillingCommitment",
            map(vec![("Status", text("DISABLED"))]),
        )])
    }),
    ("CreateStream", |_| {
        map(vec![
            ("StreamName", text(CREATED)),
            ("ShardCount", int(1)),
            (
                "StreamModeDetails",
                map(vec![("StreamMode", text("PROVISIONED"))]),
            ),
            ("Tags", map(vec![("made-by", text("cbor-test"))])),
        ])
    }),
    ("DeleteStream", |_| {
        map(vec![
            ("StreamName", text(CREATED)),
            ("EnforceConsumerDeletion", Value::Bool(true)),
        ])
    }),
];

/// Creates the scenario's streams and data on one server; returns what requests refer to.
async fn set_up(server: &TestServer) -> Ctx {
    let client = server.client();
    create_active_stream(&client, STREAM, 2).await;
    create_active_stream(&client, RESHARD, 2).await;
    for i in 0..3 {
        client
            .put_record()
            .stream_name(STREAM)
            .partition_key("pk-1")
            .data(Blob::new(format!("record {i}")))
            .send()
            .await
            .expect("put");
    }
    let summary = client
        .describe_stream_summary()
        .stream_name(STREAM)
        .send()
        .await
        .expect("describe");
    let summary = summary.stream_description_summary().expect("summary");
    // The SDK parsed seconds with a fraction: round back to the server's milliseconds.
    let created_ms = (summary.stream_creation_timestamp().as_secs_f64() * 1000.0).round() as i64;
    let iterator = client
        .get_shard_iterator()
        .stream_name(STREAM)
        .shard_id(shard_id(0))
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("iterator")
        .shard_iterator()
        .expect("iterator")
        .to_owned();
    Ctx {
        arn: server.stream_arn(STREAM),
        reshard_arn: server.stream_arn(RESHARD),
        iterator,
        created_ms,
    }
}

/// Waits until every scenario stream is ACTIVE or gone and every consumer of the main stream
/// ACTIVE, so the next request meets the same state on both servers.
async fn settle(client: &Client, stream_arn: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match client
            .list_stream_consumers()
            .stream_arn(stream_arn)
            .send()
            .await
        {
            Ok(out) => {
                let busy = out
                    .consumers()
                    .iter()
                    .any(|c| c.consumer_status() != &ConsumerStatus::Active);
                if !busy {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "consumers still busy");
            }
            // A build without consumers, or a stream not there: nothing to wait for.
            Err(_) => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for name in STREAMS {
        loop {
            match client
                .describe_stream_summary()
                .stream_name(name)
                .send()
                .await
            {
                Ok(out) => {
                    let status = out
                        .stream_description_summary()
                        .map(|s| s.stream_status().clone());
                    if status == Some(StreamStatus::Active) {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{name} still {status:?}"
                    );
                }
                Err(e) if e.code() == Some("ResourceNotFoundException") => break,
                Err(e) => panic!("DescribeStreamSummary {name}: {e:?}"),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_the_same_in_cbor_and_json() {
    let names: std::collections::BTreeSet<&str> = OPERATIONS.iter().map(|(op, _)| *op).collect();
    assert_eq!(names.len(), 39, "one entry per operation of the model");
    assert_eq!(OPERATIONS.len(), 39);

    let (json_server, cbor_server) = tokio::join!(TestServer::start(), TestServer::start());
    let (json_ctx, cbor_ctx) = tokio::join!(set_up(&json_server), set_up(&cbor_server));
    let (json_client, cbor_client) = (json_server.client(), cbor_server.client());
    let mut implemented = Vec::new();
    for (op, request) in OPERATIONS {
        let json_resp = call(&json_server, op, &request(&json_ctx), AMZ_JSON).await;
        let cbor_resp = call(&cbor_server, op, &request(&cbor_ctx), AMZ_CBOR).await;
        let (j, c) = (outcome(&json_resp, AMZ_JSON), outcome(&cbor_resp, AMZ_CBOR));
        assert_eq!(
            c, j,
            "{op}: CBOR (left) and JSON (right) disagree\nCBOR body {:02x?}",
            cbor_resp.body
        );
        if j.error.as_deref() != Some("UnknownOperationException") {
            implemented.push(*op);
        }
        tokio::join!(
            settle(&json_client, &json_ctx.arn),
            settle(&cbor_client, &cbor_ctx.arn)
        );
    }
    // The operations every build has: the table is exercised for real, not only for
    // UnknownOperationException.
    for op in [
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
    ] {
        assert!(implemented.contains(&op), "{op} answered UnknownOperation");
    }
}

// ---------------------------------------------------------------------------------------------
// The encodings clients depend on.

fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_millis()).expect("fits")
}

/// The member `key` of a CBOR map.
fn member<'a>(v: &'a Value, key: &str) -> &'a Value {
    let Value::Map(entries) = v else {
        panic!("not a map: {v:?}");
    };
    entries
        .iter()
        .find(|(k, _)| k == &text(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
}

/// The integer inside a tag-1 timestamp; panics on any other encoding (a float above all).
#[track_caller]
fn tag_one_millis(v: &Value) -> i64 {
    match v {
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Integer(ms) => i64::try_from(i128::from(*ms)).expect("fits"),
            other => panic!("tag 1 must hold integer millis, not {other:?}"),
        },
        other => panic!("a timestamp must be tag 1 + integer millis, not {other:?}"),
    }
}

async fn cbor_call(server: &TestServer, op: &str, request: Value) -> (u16, Value) {
    let resp = call(server, op, &request, AMZ_CBOR).await;
    assert_eq!(resp.header("content-type"), Some(AMZ_CBOR), "{op}");
    let body = if resp.body.is_empty() {
        Value::Null
    } else {
        decode(&resp.body)
    };
    (resp.status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_carry_byte_string_data_and_tag_one_integer_millis() {
    let server = TestServer::start().await;
    create_active_stream(&server.client(), "cbor-rec", 1).await;
    let before = now_ms();
    let payload = [0u8, 159, 146, 150, 0xff];
    let (status, put) = cbor_call(
        &server,
        "PutRecord",
        map(vec![
            ("StreamName", text("cbor-rec")),
            ("Data", bytes(&payload)),
            ("PartitionKey", text("k")),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{put:?}");
    let after = now_ms();
    let (_, it) = cbor_call(
        &server,
        "GetShardIterator",
        map(vec![
            ("StreamName", text("cbor-rec")),
            ("ShardId", text("shardId-000000000000")),
            ("ShardIteratorType", text("TRIM_HORIZON")),
        ]),
    )
    .await;
    let (status, out) = cbor_call(
        &server,
        "GetRecords",
        map(vec![(
            "ShardIterator",
            member(&it, "ShardIterator").clone(),
        )]),
    )
    .await;
    assert_eq!(status, 200, "{out:?}");
    let Value::Array(records) = member(&out, "Records") else {
        panic!("Records is an array: {out:?}");
    };
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(
        member(record, "Data"),
        &bytes(&payload),
        "Data is a byte string"
    );
    assert_eq!(
        member(record, "SequenceNumber"),
        member(&put, "SequenceNumber")
    );
    let arrival = tag_one_millis(member(record, "ApproximateArrivalTimestamp"));
    // Milliseconds, not seconds: within the put's own bounds (with slack for clock steps).
    assert!(
        (before - 60_000..=after + 60_000).contains(&arrival),
        "arrival {arrival} ms outside [{before}, {after}]"
    );
    assert!(
        matches!(member(&out, "MillisBehindLatest"), Value::Integer(_)),
        "MillisBehindLatest is an integer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_creation_timestamps_are_tag_one_integers_never_floats() {
    let server = TestServer::start().await;
    create_active_stream(&server.client(), "cbor-ts", 1).await;
    for (op, path) in [
        ("DescribeStream", "StreamDescription"),
        ("DescribeStreamSummary", "StreamDescriptionSummary"),
    ] {
        let resp = call(
            &server,
            op,
            &map(vec![("StreamName", text("cbor-ts"))]),
            AMZ_CBOR,
        )
        .await;
        assert_eq!(resp.status, 200);
        // The AWS-recorded check: the bytes tag-1 + float64 never follow the member name.
        let bad = b"StreamCreationTimestamp\xc1\xfb";
        assert!(
            !resp.body.windows(bad.len()).any(|w| w == bad),
            "{op} sent a float timestamp"
        );
        let v = decode(&resp.body);
        let ms = tag_one_millis(member(member(&v, path), "StreamCreationTimestamp"));
        assert!(
            (now_ms() - ms).abs() < 3_600_000,
            "{op}: {ms} is not epoch millis"
        );
    }
    let (_, listed) = cbor_call(&server, "ListStreams", map(vec![])).await;
    let Value::Array(summaries) = member(&listed, "StreamSummaries") else {
        panic!("StreamSummaries: {listed:?}");
    };
    tag_one_millis(member(&summaries[0], "StreamCreationTimestamp"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_timestamp_iterators_read_tag_one_millis_as_millis() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "cbor-at", 1).await;
    for i in 0..3 {
        client
            .put_record()
            .stream_name("cbor-at")
            .partition_key("k")
            .data(Blob::new(format!("r{i}")))
            .send()
            .await
            .expect("put");
    }
    let iterator_at = |ms: i64| {
        map(vec![
            ("StreamName", text("cbor-at")),
            ("ShardId", text("shardId-000000000000")),
            ("ShardIteratorType", text("AT_TIMESTAMP")),
            ("Timestamp", millis(ms)),
        ])
    };
    let (_, it) = cbor_call(&server, "GetShardIterator", iterator_at(0)).await;
    let all = read_from(&server, it).await;
    assert_eq!(all.len(), 3);
    // Starting at the second record's own arrival millis includes it (ties start there).
    let second = tag_one_millis(member(&all[1], "ApproximateArrivalTimestamp"));
    let (_, it) = cbor_call(&server, "GetShardIterator", iterator_at(second)).await;
    let from_second = read_from(&server, it).await;
    // Records that arrived in the same millisecond share the timestamp, so the iterator starts
    // at the first record stamped at or after `second`.
    let expected = all
        .iter()
        .filter(|r| tag_one_millis(member(r, "ApproximateArrivalTimestamp")) >= second)
        .count();
    assert_eq!(
        from_second.len(),
        expected,
        "AT_TIMESTAMP {second} ms read {} records",
        from_second.len()
    );
    assert_eq!(
        member(from_second.last().expect("one"), "Data"),
        &bytes(b"r2")
    );
    // One hour ahead is in the future, which AWS refuses, quoting the very millis sent (read
    // as seconds they would be ~50,000 years ahead); one hour back reads everything.
    let ahead = now_ms() + 3_600_000;
    let (status, err) = cbor_call(&server, "GetShardIterator", iterator_at(ahead)).await;
    assert_eq!(status, 400);
    assert_eq!(member(&err, "__type"), &text("InvalidArgumentException"));
    let Value::Text(message) = member(&err, "message") else {
        panic!("message: {err:?}");
    };
    assert!(
        message.contains(&format!("timestampInMillis: {ahead},")),
        "{message}"
    );
    let (_, it) = cbor_call(
        &server,
        "GetShardIterator",
        iterator_at(now_ms() - 3_600_000),
    )
    .await;
    assert_eq!(read_from(&server, it).await.len(), 3);
}

/// GetRecords over CBOR with the iterator in a GetShardIterator answer.
async fn read_from(server: &TestServer, iterator_answer: Value) -> Vec<Value> {
    let (status, out) = cbor_call(
        server,
        "GetRecords",
        map(vec![(
            "ShardIterator",
            member(&iterator_answer, "ShardIterator").clone(),
        )]),
    )
    .await;
    assert_eq!(status, 200, "{out:?}");
    let Value::Array(records) = member(&out, "Records").clone() else {
        panic!("Records: {out:?}");
    };
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_stream_is_the_aws_recorded_cbor_error() {
    let server = TestServer::start_with(|c| c.aws.account_id = "111111111111".into()).await;
    let resp = call(
        &server,
        "DescribeStream",
        &map(vec![(
            "StreamARN",
            text("arn:aws:kinesis:us-east-1:111111111111:stream/wrong-stream-name"),
        )]),
        AMZ_CBOR,
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("content-type"), Some(AMZ_CBOR));
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        decode(&resp.body),
        map(vec![
            ("__type", text("ResourceNotFoundException")),
            (
                "message",
                text("Stream wrong-stream-name under account 111111111111 not found.")
            ),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indefinite_length_requests_decode() {
    let server = TestServer::start().await;
    create_active_stream(&server.client(), "cbor-indef", 1).await;
    // {_ "StreamName": "cbor-indef", "PartitionKey": (_ "k", "1"), "Data": (_ h'01', h'02')}
    let mut body = vec![0xbf];
    body.extend(encode(&text("StreamName")));
    body.extend(encode(&text("cbor-indef")));
    body.extend(encode(&text("PartitionKey")));
    body.extend([0x7f, 0x61, b'k', 0x61, b'1', 0xff]);
    body.extend(encode(&text("Data")));
    body.extend([0x5f, 0x41, 0x01, 0x41, 0x02, 0xff, 0xff]);
    let resp = server
        .raw_post(Some("PutRecord"), body, Some(AMZ_CBOR))
        .await;
    assert_eq!(resp.status, 200, "{:?}", decode(&resp.body));
    let out = decode(&resp.body);
    assert_eq!(member(&out, "ShardId"), &text("shardId-000000000000"));
}

// ---------------------------------------------------------------------------------------------
// Protocol errors in CBOR.

async fn cbor_error(server: &TestServer, op: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = server.raw_post(Some(op), body, Some(AMZ_CBOR)).await;
    assert_eq!(resp.header("content-type"), Some(AMZ_CBOR), "{op}");
    (resp.status, decode(&resp.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_cbor_and_wrong_types_are_serialization_exceptions() {
    let server = TestServer::start().await;
    let bare = map(vec![("__type", text("SerializationException"))]);
    // Empty, truncated, trailing bytes, a lone break, a 4 GiB byte string in a few bytes.
    let mut huge = encode(&text("Data"));
    huge.insert(0, 0xa1);
    huge.extend([0x5a, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    for body in [vec![], vec![0xa1, 0x6a], vec![0xa0, 0xa0], vec![0xff], huge] {
        assert_eq!(
            cbor_error(&server, "PutRecord", body.clone()).await,
            (400, bare.clone()),
            "{body:02x?}"
        );
    }
    // Well-formed CBOR of the wrong shape: the Coral message, under `Message`.
    let (status, v) = cbor_error(
        &server,
        "CreateStream",
        encode(&map(vec![
            ("StreamName", text("x")),
            ("ShardCount", text("2")),
        ])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        v,
        map(vec![
            ("__type", text("SerializationException")),
            (
                "Message",
                text("class java.lang.String can not be converted to an Integer")
            ),
        ])
    );
    // Validation errors are the same as in JSON.
    let (status, v) = cbor_error(
        &server,
        "CreateStream",
        encode(&map(vec![
            ("StreamName", text("x")),
            ("ShardCount", int(0)),
        ])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(member(&v, "__type"), &text("ValidationException"));
    assert_eq!(
        member(&v, "message"),
        &text(
            "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_operations_and_content_types_answer_as_aws_does() {
    let server = TestServer::start().await;
    let unknown = map(vec![("__type", text("UnknownOperationException"))]);
    assert_eq!(
        cbor_error(&server, "NoSuchOperation", encode(&map(vec![]))).await,
        (400, unknown.clone())
    );
    assert_eq!(
        cbor_error(&server, "Kinesis_20131202", encode(&map(vec![]))).await,
        (400, unknown.clone())
    );
    // Missing or unknown content type, empty body: CBOR UnknownOperationException.
    for ct in [None, Some("application/x-amz-json-1.0")] {
        let resp = server.raw_post(Some("ListStreams"), "", ct).await;
        assert_eq!(resp.status, 400, "{ct:?}");
        assert_eq!(resp.header("content-type"), Some(AMZ_CBOR));
        assert_eq!(decode(&resp.body), unknown);
    }
    // With a body: a full target gets 404 <UnknownOperationException/>, a partial one 403.
    let resp = server
        .raw_post(Some("ListStreams"), "{}", Some("text/plain"))
        .await;
    assert_eq!(resp.status, 404);
    assert!(
        String::from_utf8_lossy(&resp.body).contains("<UnknownOperationException/>"),
        "{:?}",
        resp.body
    );
    let resp = server
        .raw_post(Some("Kinesis_20131202."), "{}", Some("text/plain"))
        .await;
    assert_eq!(resp.status, 403);
    // And JSON stays JSON: an empty JSON body is a JSON SerializationException.
    let resp = server
        .raw_post(Some("ListStreams"), "", Some(AMZ_JSON))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("content-type"), Some(AMZ_JSON));
    assert_eq!(resp.json(), json!({"__type": "SerializationException"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_sees_what_cbor_clients_wrote() {
    // Data written over CBOR reads back unchanged through the JSON SDK.
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "cbor-mixed", 1).await;
    let (status, _) = cbor_call(
        &server,
        "PutRecords",
        map(vec![
            ("StreamName", text("cbor-mixed")),
            (
                "Records",
                list(vec![map(vec![
                    ("Data", bytes(&[0xde, 0xad, 0xbe, 0xef])),
                    ("PartitionKey", text("k")),
                ])]),
            ),
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let out = read_all(&client, "cbor-mixed", 0).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data().as_ref(), &[0xde, 0xad, 0xbe, 0xef]);
}

/// Every record of one shard from TRIM_HORIZON, through the SDK.
async fn read_all(
    client: &Client,
    stream: &str,
    shard: u32,
) -> Vec<aws_sdk_kinesis::types::Record> {
    let it = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard_id(shard))
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("iterator");
    let out = client
        .get_records()
        .shard_iterator(it.shard_iterator().expect("iterator"))
        .send()
        .await
        .expect("records");
    out.records().to_vec()
}
