// SPDX-License-Identifier: Apache-2.0
//! Event source mappings on a real platform (streams, queues and the metadata store in a
//! temporary directory) with a fake invoker: delivery and per-key order, failures to the
//! on-failure queue, restart from the committed position, resharding, queues, validation.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use freshet_kinesis::{CreateStream, PutEntry, StreamMode, StreamRef, Streams, StreamsOptions};
use freshet_lambda::esm::{EsmOptions, FunctionRef, Mappings};
use freshet_lambda::spec::{
    BoxFuture, FunctionError, Invocation, InvocationResult, InvokeError, Invoker,
};
use freshet_log::{Durability, LogConfig};
use freshet_runtime::{Platform, Supervisor, Tasks};
use freshet_sqs::engine::ReceiveRequest;
use freshet_sqs::{Sqs, SqsOptions};
use freshet_types::SystemClock;
use serde_json::{Value, json};

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

/// Records every event; fails the invocations `fail` says to.
struct FakeInvoker {
    events: Mutex<Vec<Value>>,
    fail: Box<dyn Fn(&Value) -> bool + Send + Sync>,
}

impl FakeInvoker {
    fn new(fail: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Arc<FakeInvoker> {
        Arc::new(FakeInvoker {
            events: Mutex::new(Vec::new()),
            fail: Box::new(fail),
        })
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().expect("lock").clone()
    }

    /// (partition key, data) of every record delivered, in delivery order.
    fn records(&self) -> Vec<(String, String)> {
        self.events()
            .iter()
            .flat_map(|e| e["Records"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                let data = B64
                    .decode(r["kinesis"]["data"].as_str().unwrap_or_default())
                    .expect("base64");
                (
                    r["kinesis"]["partitionKey"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    String::from_utf8(data).expect("utf8"),
                )
            })
            .collect()
    }
}

impl Invoker for FakeInvoker {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        invocation: Invocation,
    ) -> BoxFuture<'a, Result<InvocationResult, InvokeError>> {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&invocation.payload).expect("json event");
            let fail = (self.fail)(&event);
            self.events.lock().expect("lock").push(event);
            Ok(InvocationResult {
                payload: if fail {
                    Bytes::from_static(br#"{"errorMessage":"boom","errorType":"Error"}"#)
                } else {
                    Bytes::from_static(b"null")
                },
                function_error: fail.then_some(FunctionError::Unhandled),
                log_tail: None,
                executed_version: "$LATEST".into(),
                duration: Duration::from_millis(1),
                init_duration: None,
            })
        })
    }
}

struct Env {
    platform: Platform,
    streams: Streams,
    sqs: Sqs,
    mappings: Mappings,
    supervisor: Supervisor,
}

async fn open(dir: &Path, invoker: Arc<FakeInvoker>) -> Env {
    let log = LogConfig {
        durability: Durability::None,
        ..LogConfig::default()
    };
    let platform =
        Platform::open_local(dir, log, Arc::new(SystemClock), Tasks::detached()).expect("platform");
    let streams = Streams::open_on(
        &platform,
        StreamsOptions {
            create_delay: Duration::ZERO,
            update_delay: Duration::ZERO,
            delete_delay: Duration::ZERO,
            ..StreamsOptions::default()
        },
    )
    .await
    .expect("streams");
    let sqs = Sqs::open_on(&platform, SqsOptions::default())
        .await
        .expect("sqs");
    let mappings = Mappings::open(
        &platform,
        invoker,
        streams.clone(),
        sqs.clone(),
        EsmOptions {
            retry_backoff: Duration::from_millis(10),
            ..EsmOptions::default()
        },
    )
    .expect("mappings");
    let supervisor = Supervisor::new(Arc::new(SystemClock));
    supervisor.start(mappings.component());
    Env {
        platform,
        streams,
        sqs,
        mappings,
        supervisor,
    }
}

impl Env {
    async fn close(self) {
        assert!(self.supervisor.shutdown(Duration::from_secs(30)).await);
        self.streams.shutdown();
        self.sqs.shutdown();
        self.platform.shutdown();
    }
}

fn function() -> FunctionRef {
    FunctionRef {
        arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        role: "arn:aws:iam::000000000000:role/r".into(),
    }
}

async fn create_stream(s: &Streams, shards: u32) {
    s.create_stream(CreateStream {
        name: "s".into(),
        shard_count: Some(shards),
        mode: StreamMode::Provisioned,
        tags: Default::default(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
    })
    .await
    .expect("create stream");
}

async fn put(s: &Streams, key: &str, data: &str) {
    s.put_record(
        &StreamRef::name("s"),
        PutEntry {
            data: data.as_bytes(),
            partition_key: key,
            explicit_hash_key: None,
        },
        None,
    )
    .await
    .expect("put");
}

/// Waits (bounded only to keep a broken build from hanging) until `done` holds.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..6000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never became true");
}

fn in_order_per_key(records: &[(String, String)]) -> bool {
    let mut last: BTreeMap<&str, u32> = BTreeMap::new();
    records.iter().all(|(k, d)| {
        let n: u32 = d.parse().unwrap_or(0);
        let ok = last.get(k.as_str()).is_none_or(|p| n > *p);
        last.insert(k, n);
        ok
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_mapping_delivers_every_record_in_order_per_key_and_settles_enabled() {
    let dir = tempfile::tempdir().expect("dir");
    let invoker = FakeInvoker::new(|_| false);
    let env = open(dir.path(), invoker.clone()).await;
    create_stream(&env.streams, 2).await;
    for i in 0..40 {
        put(&env.streams, &format!("k{}", i % 4), &i.to_string()).await;
    }
    let doc = env
        .mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "TRIM_HORIZON", "BatchSize": 7}),
            function(),
        )
        .await
        .expect("create");
    assert_eq!(doc["State"], "Creating");
    let uuid = doc["UUID"].as_str().expect("uuid").to_owned();
    until(|| invoker.records().len() >= 40).await;
    let records = invoker.records();
    assert_eq!(records.len(), 40, "each record once when nothing fails");
    assert!(in_order_per_key(&records));
    assert!(
        invoker
            .events()
            .iter()
            .all(|e| e["Records"].as_array().map_or(0, Vec::len) <= 7)
    );
    let first = &invoker.events()[0]["Records"][0];
    assert_eq!(first["eventSourceARN"], STREAM_ARN);
    assert_eq!(
        first["invokeIdentityArn"],
        "arn:aws:iam::000000000000:role/r"
    );
    assert!(
        first["eventID"]
            .as_str()
            .expect("id")
            .starts_with("shardId-")
    );
    until(|| {
        env.mappings
            .get(&uuid)
            .is_ok_and(|d| d["State"] == "Enabled")
    })
    .await;
    until(|| {
        env.mappings
            .get(&uuid)
            .is_ok_and(|d| d["LastProcessingResult"] == "OK")
    })
    .await;
    // New records arrive without any polling interval to wait for.
    put(&env.streams, "k0", "100").await;
    until(|| invoker.records().len() >= 41).await;
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_batches_go_to_the_on_failure_queue_as_aws_invocation_records() {
    let dir = tempfile::tempdir().expect("dir");
    let invoker = FakeInvoker::new(|_| true);
    let env = open(dir.path(), invoker.clone()).await;
    create_stream(&env.streams, 1).await;
    env.sqs
        .create_queue("dlq", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("queue");
    for i in 0..3 {
        put(&env.streams, "k", &i.to_string()).await;
    }
    env.mappings
        .create(
            &json!({
                "EventSourceArn": STREAM_ARN, "StartingPosition": "TRIM_HORIZON",
                "MaximumRetryAttempts": 1,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}}
            }),
            function(),
        )
        .await
        .expect("create");
    let mut got = Vec::new();
    for _ in 0..6000 {
        got = env
            .sqs
            .receive_by_name(
                "dlq",
                &ReceiveRequest {
                    max_messages: 10,
                    visibility_timeout: None,
                    attempt_id: None,
                },
            )
            .await
            .expect("receive");
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let doc: Value = serde_json::from_str(&got[0].message.body).expect("json");
    assert_eq!(doc["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(doc["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(doc["responseContext"]["functionError"], "Unhandled");
    assert_eq!(doc["KinesisBatchInfo"]["batchSize"], 3);
    assert_eq!(doc["KinesisBatchInfo"]["streamArn"], STREAM_ARN);
    assert_eq!(doc["KinesisBatchInfo"]["shardId"], "shardId-000000000000");
    assert_eq!(invoker.events().len(), 2, "one try and one retry");
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_mapping_resumes_from_its_committed_position() {
    let dir = tempfile::tempdir().expect("dir");
    let first = FakeInvoker::new(|_| false);
    let env = open(dir.path(), first.clone()).await;
    create_stream(&env.streams, 1).await;
    for i in 0..10 {
        put(&env.streams, "k", &i.to_string()).await;
    }
    let doc = env
        .mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "TRIM_HORIZON", "BatchSize": 2}),
            function(),
        )
        .await
        .expect("create");
    until(|| first.records().len() >= 10).await;
    env.close().await;

    let second = FakeInvoker::new(|_| false);
    let env = open(dir.path(), second.clone()).await;
    for i in 10..15 {
        put(&env.streams, "k", &i.to_string()).await;
    }
    until(|| second.records().iter().any(|(_, d)| d == "14")).await;
    let again: Vec<String> = second.records().into_iter().map(|(_, d)| d).collect();
    assert!(
        !again.contains(&"0".to_owned()),
        "committed records are not re-delivered: {again:?}"
    );
    for i in 10..15 {
        assert!(again.contains(&i.to_string()));
    }
    assert!(
        env.mappings
            .get(doc["UUID"].as_str().expect("uuid"))
            .is_ok()
    );
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_mid_mapping_keeps_every_record_and_per_key_order() {
    let dir = tempfile::tempdir().expect("dir");
    let invoker = FakeInvoker::new(|_| false);
    let env = open(dir.path(), invoker.clone()).await;
    create_stream(&env.streams, 1).await;
    env.mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "TRIM_HORIZON", "BatchSize": 5}),
            function(),
        )
        .await
        .expect("create");
    for i in 0..20 {
        put(&env.streams, &format!("k{}", i % 5), &i.to_string()).await;
    }
    env.streams
        .split_shard(
            &StreamRef::name("s"),
            "shardId-000000000000",
            "170141183460469231731687303715884105728",
        )
        .await
        .expect("split");
    for i in 20..40 {
        put(&env.streams, &format!("k{}", i % 5), &i.to_string()).await;
    }
    until(|| invoker.records().len() >= 40).await;
    let records = invoker.records();
    assert!(in_order_per_key(&records), "{records:?}");
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_out_records_are_skipped_and_count_as_processed() {
    let dir = tempfile::tempdir().expect("dir");
    let invoker = FakeInvoker::new(|_| false);
    let env = open(dir.path(), invoker.clone()).await;
    create_stream(&env.streams, 1).await;
    for d in [r#"{"t": 1}"#, "not json", r#"{"t": 50}"#, r#"{"t": 7}"#] {
        put(&env.streams, "k", d).await;
    }
    env.mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "TRIM_HORIZON",
                    "FilterCriteria": {"Filters": [{"Pattern": "{\"data\": {\"t\": [{\"numeric\": [\"<\", 10]}]}}"}]}}),
            function(),
        )
        .await
        .expect("create");
    until(|| invoker.records().len() >= 2).await;
    let data: Vec<String> = invoker.records().into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        data,
        vec![r#"{"t": 1}"#.to_owned(), r#"{"t": 7}"#.to_owned()]
    );
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_mapping_deletes_processed_messages_and_keeps_failed_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let invoker = FakeInvoker::new(|e| {
        e["Records"]
            .as_array()
            .is_some_and(|r| r.iter().any(|m| m["body"] == "bad"))
    });
    let env = open(dir.path(), invoker.clone()).await;
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:q";
    env.sqs
        .create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("queue");
    for body in ["a", "b", "c"] {
        env.sqs
            .send(queue_arn, body, BTreeMap::new())
            .await
            .expect("send");
    }
    let doc = env
        .mappings
        .create(
            &json!({"EventSourceArn": queue_arn, "BatchSize": 10}),
            function(),
        )
        .await
        .expect("create");
    assert!(doc.get("StartingPosition").is_none());
    until(|| {
        env.sqs
            .counts("q")
            .is_some_and(|c| c.visible == 0 && c.not_visible == 0)
    })
    .await;
    let r = &invoker.events()[0]["Records"][0];
    assert_eq!(r["eventSource"], "aws:sqs");
    assert_eq!(r["eventSourceARN"], queue_arn);
    assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
    env.sqs
        .send(queue_arn, "bad", BTreeMap::new())
        .await
        .expect("send");
    until(|| {
        invoker
            .events()
            .iter()
            .any(|e| e["Records"][0]["body"] == "bad")
    })
    .await;
    assert_eq!(
        env.sqs.counts("q").map(|c| c.visible + c.not_visible),
        Some(1)
    );
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_mappings_get_aws_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let env = open(dir.path(), FakeInvoker::new(|_| false)).await;
    let e = env
        .mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "LATEST"}),
            function(),
        )
        .await
        .expect_err("no stream");
    assert_eq!(e.code(), "InvalidParameterValueException");
    create_stream(&env.streams, 1).await;
    let doc = env
        .mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "LATEST"}),
            function(),
        )
        .await
        .expect("create");
    let e = env
        .mappings
        .create(
            &json!({"EventSourceArn": STREAM_ARN, "StartingPosition": "LATEST"}),
            function(),
        )
        .await
        .expect_err("duplicate");
    assert_eq!((e.code(), e.status()), ("ResourceConflictException", 409));
    let e = env.mappings.get("nope").expect_err("missing");
    assert_eq!((e.code(), e.status()), ("ResourceNotFoundException", 404));
    let uuid = doc["UUID"].as_str().expect("uuid");
    let d = env
        .mappings
        .update(uuid, &json!({"Enabled": false}), None)
        .await
        .expect("disable");
    assert_eq!(d["State"], "Disabling");
    until(|| {
        env.mappings
            .get(uuid)
            .is_ok_and(|d| d["State"] == "Disabled")
    })
    .await;
    let list = env
        .mappings
        .list(Some(STREAM_ARN), None, None, None)
        .expect("list");
    assert_eq!(
        list["EventSourceMappings"].as_array().map(Vec::len),
        Some(1)
    );
    let d = env.mappings.delete(uuid).await.expect("delete");
    assert_eq!(d["State"], "Deleting");
    until(|| env.mappings.get(uuid).is_err()).await;
    env.close().await;
}
