// SPDX-License-Identifier: Apache-2.0
//! Delivery end to end inside the crate: DirectPut into the log, objects into an in-memory
//! sink, time driven by a ManualClock, restarts from the checkpoint.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_firehose::control::{CreateRequest, DestinationInput};
use freshet_firehose::ingest::PutOutcome;
use freshet_firehose::model::{BufferingHints, ExtendedS3};
use freshet_firehose::sink::SinkError;
use freshet_firehose::sinks::MemorySink;
use freshet_firehose::store::Status;
use freshet_firehose::{Firehose, FirehoseOptions};
use freshet_log::LogConfig;
use freshet_runtime::{Platform, Supervisor};
use freshet_types::ManualClock;

const T0: i64 = 1_700_000_000_000;

struct Harness {
    fh: Firehose,
    sink: Arc<MemorySink>,
    clock: Arc<ManualClock>,
    supervisor: Supervisor,
    platform: Platform,
    recorder: freshet_metrics::Recorder,
}

async fn start(dir: &std::path::Path, clock: Arc<ManualClock>) -> Harness {
    start_with(dir, clock, 10_000).await
}

async fn start_with(dir: &std::path::Path, clock: Arc<ManualClock>, budget: u64) -> Harness {
    let supervisor = Supervisor::new(clock.clone());
    let platform =
        Platform::open_local(dir, LogConfig::default(), clock.clone(), supervisor.tasks())
            .expect("platform");
    let recorder = freshet_metrics::Recorder::new(clock.clone());
    let fh = Firehose::open(
        &platform,
        FirehoseOptions {
            create_delay: Duration::from_millis(10),
            delete_delay: Duration::from_millis(10),
            staging_dir: dir.join("staging"),
            undelivered_budget_bytes: budget,
            recorder: recorder.clone(),
            ..FirehoseOptions::default()
        },
    )
    .await
    .expect("open");
    let sink = Arc::new(MemorySink::new());
    fh.set_sink(sink.clone());
    supervisor.start(fh.component());
    Harness {
        fh,
        sink,
        clock,
        supervisor,
        platform,
        recorder,
    }
}

impl Harness {
    /// The Firehose metrics of stream `name` recorded so far, merged per metric name.
    fn metrics(&self, name: &str) -> std::collections::HashMap<String, freshet_metrics::StatSet> {
        let mut m: std::collections::HashMap<String, freshet_metrics::StatSet> =
            std::collections::HashMap::new();
        for p in self.recorder.drain() {
            if p.key.dimension("DeliveryStreamName") != Some(name) {
                continue;
            }
            m.entry(p.key.name.clone())
                .and_modify(|s| s.merge(&p.value.stats))
                .or_insert(p.value.stats);
        }
        m
    }
}

impl Harness {
    async fn stop(self) {
        self.supervisor.shutdown(Duration::from_secs(5)).await;
        self.platform.shutdown();
    }
}

async fn create(fh: &Firehose, name: &str, size_mb: i64, interval_s: i64) {
    fh.create(CreateRequest {
        name: name.into(),
        destination: DestinationInput {
            extended_s3: Some(ExtendedS3 {
                role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
                bucket_arn: Some("arn:aws:s3:::bucket".into()),
                prefix: Some("out/".into()),
                buffering_hints: Some(BufferingHints {
                    size_in_mbs: Some(size_mb),
                    interval_in_seconds: Some(interval_s),
                }),
                ..ExtendedS3::default()
            }),
            ..DestinationInput::default()
        },
        ..CreateRequest::default()
    })
    .await
    .expect("create");
    for _ in 0..500 {
        if fh.record(name).expect("record").status == Status::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("stream never became ACTIVE");
}

async fn wait_objects(sink: &MemorySink, n: usize) -> Vec<((String, String), Bytes)> {
    for _ in 0..1000 {
        let o = sink.objects();
        if o.len() >= n {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {n} objects, have {:?}", sink.objects());
}

fn puts(n: usize) -> Vec<Bytes> {
    (0..n).map(|i| Bytes::from(format!("r{i}\n"))).collect()
}

#[tokio::test]
async fn records_are_delivered_in_one_object_once_the_interval_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start(dir.path(), Arc::new(ManualClock::new(T0))).await;
    create(&h.fh, "s", 5, 60).await;
    let out = h.fh.put_records("s", &puts(3)).await.expect("put");
    assert!(out.iter().all(|o| matches!(o, PutOutcome::Ok(_))));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(h.sink.objects().is_empty(), "delivered before the interval");
    h.clock.advance(60_000);
    let objects = wait_objects(&h.sink, 1).await;
    let ((bucket, key), body) = &objects[0];
    assert_eq!(bucket, "bucket");
    assert!(
        key.starts_with("out/2023/11/14/22/s-1-2023-11-14-22-13-20-"),
        "{key}"
    );
    assert_eq!(body.as_ref(), b"r0\nr1\nr2\n");
    h.stop().await;
}

#[tokio::test]
async fn an_undelivered_object_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start(dir.path(), clock.clone()).await;
    create(&h.fh, "s", 5, 0).await;
    h.sink.fail_with(Some(SinkError {
        code: "S3.ServiceUnavailable".into(),
        message: "down".into(),
        retryable: true,
    }));
    h.fh.put_records("s", &puts(2)).await.expect("put");
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.stop().await;
    let h = start(dir.path(), clock).await;
    let objects = wait_objects(&h.sink, 1).await;
    assert_eq!(objects[0].1.as_ref(), b"r0\nr1\n");
    h.stop().await;
}

#[tokio::test]
async fn puts_past_the_undelivered_budget_are_throttled_one_by_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start(dir.path(), Arc::new(ManualClock::new(T0))).await;
    create(&h.fh, "s", 5, 900).await;
    let big: Vec<Bytes> = (0..4).map(|_| Bytes::from(vec![b'x'; 4000])).collect();
    let out = h.fh.put_records("s", &big).await.expect("put");
    let ok = out
        .iter()
        .filter(|o| matches!(o, PutOutcome::Ok(_)))
        .count();
    assert_eq!(ok, 2, "{out:?}");
    assert!(matches!(
        out[3],
        PutOutcome::Failed("ServiceUnavailableException", _)
    ));
    h.stop().await;
}

#[tokio::test]
async fn a_full_buffer_is_delivered_without_waiting_for_the_interval() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    create(&h.fh, "s", 1, 900).await;
    let big: Vec<Bytes> = (0..3)
        .map(|i| Bytes::from(vec![b'a' + i; 600_000]))
        .collect();
    h.fh.put_records("s", &big).await.expect("put");
    // 1 MiB hint: any two of these records pass it, so the first and second go alone as
    // soon as the next one is read; the third waits for the interval.
    let objects = wait_objects(&h.sink, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.sink.objects().len(), 2, "{objects:?}");
    h.clock.advance(900_000);
    let objects = wait_objects(&h.sink, 3).await;
    let mut firsts: Vec<u8> = objects.iter().map(|(_, b)| b[0]).collect();
    firsts.sort_unstable();
    assert_eq!(firsts, b"abc");
    h.stop().await;
}

async fn create_s3(fh: &Firehose, name: &str, dest: ExtendedS3) {
    fh.create(CreateRequest {
        name: name.into(),
        destination: DestinationInput {
            extended_s3: Some(ExtendedS3 {
                role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
                bucket_arn: Some("arn:aws:s3:::bucket".into()),
                ..dest
            }),
            ..DestinationInput::default()
        },
        ..CreateRequest::default()
    })
    .await
    .expect("create");
    for _ in 0..500 {
        if fh.record(name).expect("record").status == Status::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("stream never became ACTIVE");
}

fn processors(list: serde_json::Value) -> Option<serde_json::Value> {
    Some(serde_json::json!({"Enabled": true, "Processors": list}))
}

fn immediate() -> Option<BufferingHints> {
    Some(BufferingHints {
        size_in_mbs: Some(1),
        interval_in_seconds: Some(0),
    })
}

fn by_prefix(objects: &[((String, String), Bytes)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = objects
        .iter()
        .map(|((_, key), body)| {
            let dir = key.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
            (dir, String::from_utf8_lossy(body).into_owned())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn jq_keys_partition_records_and_records_without_them_go_to_processing_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    create_s3(
        &h.fh,
        "p",
        ExtendedS3 {
            prefix: Some("c=!{partitionKeyFromQuery:c}/".into()),
            error_output_prefix: Some("err/!{firehose:error-output-type}/".into()),
            buffering_hints: immediate(),
            dynamic_partitioning_configuration: Some(
                freshet_firehose::model::DynamicPartitioning {
                    enabled: Some(true),
                    retry_options: None,
                },
            ),
            processing_configuration: processors(serde_json::json!([
                {"Type": "MetadataExtraction", "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{c:.c}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                {"Type": "AppendDelimiterToRecord", "Parameters": []}
            ])),
            ..ExtendedS3::default()
        },
    )
    .await;
    let recs: Vec<Bytes> = [
        r#"{"c":"a","n":1}"#,
        r#"{"c":"b","n":2}"#,
        "not json",
        r#"{"c":"a","n":3}"#,
    ]
    .iter()
    .map(|s| Bytes::from(*s))
    .collect();
    h.fh.put_records("p", &recs).await.expect("put");
    let objects = wait_objects(&h.sink, 3).await;
    let got = by_prefix(&objects);
    assert_eq!(
        got[0],
        (
            "c=a".into(),
            "{\"c\":\"a\",\"n\":1}\n{\"c\":\"a\",\"n\":3}\n".into()
        )
    );
    assert_eq!(got[1], ("c=b".into(), "{\"c\":\"b\",\"n\":2}\n".into()));
    assert_eq!(got[2].0, "err/processing-failed");
    let doc: serde_json::Value = serde_json::from_str(got[2].1.trim()).expect("json doc");
    assert_eq!(
        doc["errorCode"],
        "DynamicPartitioning.MetadataExtractionFailed"
    );
    assert_eq!(doc["rawData"], "bm90IGpzb24=");
    h.stop().await;
}

/// A transform that upper-cases records, drops `drop`, fails `fail`, and raises on `raise`.
struct Upper {
    calls: std::sync::atomic::AtomicUsize,
}

impl freshet_lambda::spec::Invoker for Upper {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        inv: freshet_lambda::spec::Invocation,
    ) -> freshet_lambda::spec::BoxFuture<
        'a,
        Result<freshet_lambda::spec::InvocationResult, freshet_lambda::spec::InvokeError>,
    > {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            let event: serde_json::Value = serde_json::from_slice(&inv.payload).expect("event");
            assert!(
                event["deliveryStreamArn"]
                    .as_str()
                    .expect("arn")
                    .ends_with("/t")
            );
            let mut raise = false;
            let records: Vec<serde_json::Value> = event["records"]
                .as_array()
                .expect("records")
                .iter()
                .map(|r| {
                    let data = b64.decode(r["data"].as_str().expect("data")).expect("b64");
                    let text = String::from_utf8(data).expect("utf8");
                    raise |= text == "raise";
                    let result = match text.as_str() {
                        "drop" => "Dropped",
                        "fail" => "ProcessingFailed",
                        _ => "Ok",
                    };
                    serde_json::json!({"recordId": r["recordId"], "result": result,
                        "data": b64.encode(text.to_uppercase())})
                })
                .collect();
            let (payload, function_error) = if raise {
                (
                    serde_json::json!({"errorMessage": "boom", "errorType": "Exception"}),
                    Some(freshet_lambda::spec::FunctionError::Unhandled),
                )
            } else {
                (serde_json::json!({"records": records}), None)
            };
            Ok(freshet_lambda::spec::InvocationResult {
                payload: Bytes::from(serde_json::to_vec(&payload).expect("json")),
                function_error,
                log_tail: None,
                executed_version: "$LATEST".into(),
                duration: Duration::ZERO,
                init_duration: None,
            })
        })
    }
}

/// Gives the stream service an `Upper` transform; returns it (for its call count).
fn with_upper(fh: &Firehose) -> Arc<Upper> {
    let upper = Arc::new(Upper {
        calls: Default::default(),
    });
    fh.set_peers(freshet_firehose::Peers {
        invoker: Some(upper.clone()),
        ..Default::default()
    });
    upper
}

fn lambda_processor(retries: u32) -> Option<serde_json::Value> {
    processors(serde_json::json!([
        {"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:upper"},
            {"ParameterName": "NumberOfRetries", "ParameterValue": retries.to_string()},
            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"}]}
    ]))
}

#[tokio::test]
async fn the_transform_replaces_drops_and_fails_records_as_the_function_says() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    with_upper(&h.fh);
    create_s3(
        &h.fh,
        "t",
        ExtendedS3 {
            prefix: Some("data/".into()),
            error_output_prefix: Some("err/".into()),
            buffering_hints: immediate(),
            processing_configuration: lambda_processor(0),
            ..ExtendedS3::default()
        },
    )
    .await;
    let recs: Vec<Bytes> = ["a", "drop", "fail", "b"]
        .iter()
        .map(|s| Bytes::from(*s))
        .collect();
    h.fh.put_records("t", &recs).await.expect("put");
    let objects = wait_objects(&h.sink, 2).await;
    let got = by_prefix(&objects);
    assert!(got[0].0.starts_with("data/"), "{got:?}");
    assert_eq!(got[0].1, "AB");
    // A static ErrorOutputPrefix is used as written (see rules::prefix).
    assert_eq!(got[1].0, "err", "{got:?}");
    let doc: serde_json::Value = serde_json::from_str(got[1].1.trim()).expect("doc");
    assert_eq!(doc["errorCode"], "Lambda.ProcessingFailed");
    assert_eq!(doc["rawData"], "ZmFpbA==");
    assert_eq!(
        doc["lambdaArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:upper"
    );
    // One invocation, which succeeded; two records came back Ok ("A", "B").
    let m = h.metrics("t");
    let success = m["ExecuteProcessing.Success"];
    assert_eq!((success.count, success.sum), (1.0, 1.0));
    let duration = m["ExecuteProcessing.Duration"];
    assert_eq!(duration.count, 1.0, "one sample per invocation");
    assert_eq!(duration.max, 0.0, "the manual clock did not move");
    assert_eq!(m["SucceedProcessing.Records"].sum, 2.0);
    assert_eq!(m["SucceedProcessing.Bytes"].sum, 2.0);
    h.stop().await;
}

#[tokio::test]
async fn a_failing_function_is_retried_then_its_records_go_to_processing_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    let upper = with_upper(&h.fh);
    create_s3(
        &h.fh,
        "t",
        ExtendedS3 {
            error_output_prefix: Some("err/".into()),
            buffering_hints: immediate(),
            processing_configuration: lambda_processor(2),
            ..ExtendedS3::default()
        },
    )
    .await;
    h.fh.put_records("t", &[Bytes::from("raise")])
        .await
        .expect("put");
    let objects = wait_objects(&h.sink, 1).await;
    assert_eq!(upper.calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    let doc: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&objects[0].1).trim()).expect("doc");
    assert_eq!(doc["errorCode"], "Lambda.FunctionError");
    assert_eq!(doc["attemptsMade"], 3);
    assert!(doc["errorMessage"].as_str().expect("msg").contains("boom"));
    // Three failed invocations, and nothing processed.
    let m = h.metrics("t");
    let success = m["ExecuteProcessing.Success"];
    assert_eq!((success.count, success.sum), (3.0, 0.0));
    assert_eq!(m["ExecuteProcessing.Duration"].count, 3.0);
    assert!(
        !m.contains_key("SucceedProcessing.Records"),
        "{:?}",
        m.keys()
    );
    h.stop().await;
}

#[tokio::test]
async fn backup_receives_the_source_records_before_the_transform() {
    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    with_upper(&h.fh);
    create_s3(
        &h.fh,
        "t",
        ExtendedS3 {
            prefix: Some("data/".into()),
            error_output_prefix: Some("err/".into()),
            buffering_hints: immediate(),
            processing_configuration: lambda_processor(0),
            s3_backup_mode: Some("Enabled".into()),
            s3_backup_configuration: Some(freshet_firehose::model::S3Destination {
                role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
                bucket_arn: Some("arn:aws:s3:::backup".into()),
                prefix: Some("source/".into()),
                buffering_hints: Some(BufferingHints {
                    size_in_mbs: Some(1),
                    interval_in_seconds: Some(60),
                }),
                ..Default::default()
            }),
            ..ExtendedS3::default()
        },
    )
    .await;
    h.fh.put_records("t", &[Bytes::from("x"), Bytes::from("y")])
        .await
        .expect("put");
    wait_objects(&h.sink, 1).await;
    h.clock.advance(60_000);
    let objects = wait_objects(&h.sink, 2).await;
    let backup: Vec<_> = objects.iter().filter(|((b, _), _)| b == "backup").collect();
    assert_eq!(backup.len(), 1, "{objects:?}");
    assert!(
        backup[0].0.1.starts_with("source/2023/11/14/22/"),
        "{:?}",
        backup[0].0
    );
    assert_eq!(backup[0].1.as_ref(), b"xy");
    let data: Vec<_> = objects.iter().filter(|((b, _), _)| b == "bucket").collect();
    assert_eq!(data[0].1.as_ref(), b"XY");
    h.stop().await;
}

#[tokio::test]
async fn records_are_converted_to_parquet_with_the_glue_tables_columns() {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let h = start_with(dir.path(), clock.clone(), 1 << 30).await;
    let glue = freshet_glue::Glue::new(h.platform.meta.clone(), clock, "000000000000");
    glue.create_database(
        "000000000000",
        serde_json::from_value(serde_json::json!({"Name": "db"})).expect("db"),
    )
    .expect("create database");
    glue.create_table(
        "000000000000",
        "db",
        serde_json::from_value(serde_json::json!({"Name": "trades", "StorageDescriptor": {
            "Columns": [{"Name": "sym", "Type": "string"}, {"Name": "qty", "Type": "int"}]}}))
        .expect("table"),
    )
    .expect("create table");
    h.fh.set_peers(freshet_firehose::Peers {
        glue: Some(glue),
        ..Default::default()
    });
    create_s3(
        &h.fh,
        "pq",
        ExtendedS3 {
            prefix: Some("pq/".into()),
            error_output_prefix: Some("err/!{firehose:error-output-type}/".into()),
            buffering_hints: Some(BufferingHints {
                size_in_mbs: Some(64),
                interval_in_seconds: Some(0),
            }),
            data_format_conversion_configuration: Some(serde_json::json!({
                "Enabled": true,
                "SchemaConfiguration": {"RoleARN": "arn:aws:iam::000000000000:role/r",
                    "DatabaseName": "db", "TableName": "trades"},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}}
            })),
            ..ExtendedS3::default()
        },
    )
    .await;
    let recs: Vec<Bytes> = [
        r#"{"sym":"A","qty":1}"#,
        "not json",
        r#"{"SYM":"B","qty":"2"}"#,
    ]
    .iter()
    .map(|s| Bytes::from(*s))
    .collect();
    h.fh.put_records("pq", &recs).await.expect("put");
    let objects = wait_objects(&h.sink, 2).await;
    let (data, errors): (Vec<_>, Vec<_>) =
        objects.iter().partition(|((_, k), _)| k.starts_with("pq/"));
    assert!(data[0].0.1.ends_with(".parquet"), "{:?}", data[0].0);
    let reader = SerializedFileReader::new(data[0].1.clone()).expect("parquet");
    let rows: Vec<String> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("row").to_string())
        .collect();
    assert_eq!(rows, vec![r#"{sym: "A", qty: 1}"#, r#"{sym: "B", qty: 2}"#]);
    assert!(
        errors[0].0.1.starts_with("err/format-conversion-failed/"),
        "{:?}",
        errors[0].0
    );
    let doc: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&errors[0].1).trim()).expect("doc");
    assert_eq!(doc["lastErrorCode"], "DataFormatConversion.ParseError");
    assert_eq!(doc["dataCatalogTable"]["tableName"], "trades");
    h.stop().await;
}

#[tokio::test]
async fn puts_and_deliveries_publish_their_firehose_metrics() {
    use std::collections::HashMap;

    use freshet_firehose::metrics::PutOp;
    use freshet_metrics::{MetricKey, Recorder, StatSet};

    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::new(T0));
    let supervisor = Supervisor::new(clock.clone());
    let platform = Platform::open_local(
        dir.path(),
        LogConfig::default(),
        clock.clone(),
        supervisor.tasks(),
    )
    .expect("platform");
    let recorder = Recorder::new(clock.clone());
    let fh = Firehose::open(
        &platform,
        FirehoseOptions {
            create_delay: Duration::from_millis(10),
            delete_delay: Duration::from_millis(10),
            staging_dir: dir.path().join("staging"),
            recorder: recorder.clone(),
            ..FirehoseOptions::default()
        },
    )
    .await
    .expect("open");
    let sink = Arc::new(MemorySink::new());
    fh.set_sink(sink.clone());
    supervisor.start(fh.component());
    create(&fh, "s", 5, 60).await;
    fh.put_records_as("s", &puts(3), Some(PutOp::PutRecordBatch))
        .await
        .expect("put");
    fh.put_records_as("s", &puts(1), Some(PutOp::PutRecord))
        .await
        .expect("put");
    clock.advance(30_000);
    recorder.sample_gauges();
    clock.advance(30_000);
    wait_objects(&sink, 1).await;
    // Deliveries are counted just after the sink took each object (under load the four
    // records may go out in more than one): drain until all four are counted.
    let delivered = MetricKey::new(
        "AWS/Firehose",
        "DeliveryToS3.Records",
        [("DeliveryStreamName", "s")],
    )
    .to_string();
    let mut m: HashMap<String, StatSet> = HashMap::new();
    for _ in 0..500 {
        for p in recorder.drain() {
            m.entry(p.key.to_string())
                .and_modify(|s| s.merge(&p.value.stats))
                .or_insert(p.value.stats);
        }
        if m.get(&delivered).is_some_and(|s| s.sum >= 4.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stat = |name: &str| {
        let key = MetricKey::new("AWS/Firehose", name, [("DeliveryStreamName", "s")]);
        *m.get(&key.to_string())
            .unwrap_or_else(|| panic!("no {key} in {:?}", m.keys()))
    };
    assert_eq!(stat("IncomingRecords").sum, 4.0);
    assert_eq!(stat("IncomingBytes").sum, 12.0);
    assert_eq!(stat("IncomingPutRequests").sum, 2.0);
    assert_eq!(stat("PutRecordBatch.Records").sum, 3.0);
    assert_eq!(stat("PutRecord.Requests").sum, 1.0);
    assert_eq!(stat("ThrottledRecords").sum, 0.0);
    assert_eq!(stat("DeliveryToS3.Records").sum, 4.0);
    assert_eq!(stat("DeliveryToS3.Bytes").sum, 12.0);
    let objects = sink.objects().len() as f64;
    assert_eq!(stat("DeliveryToS3.ObjectCount").sum, objects);
    assert_eq!(stat("DeliveryToS3.Success").sum, objects);
    assert_eq!(
        stat("DeliveryToS3.DataFreshness").max,
        30.0,
        "the oldest undelivered record was 30 s old when sampled"
    );
    supervisor.shutdown(Duration::from_secs(5)).await;
    platform.shutdown();
}

/// An HTTP endpoint that answers every request with `status` (200: the Firehose success
/// body echoing the request id); returns its URL and the request bodies it was sent.
async fn endpoint(status: u16) -> (String, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let body = req.into_body().collect().await.expect("body").to_bytes();
                        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                        let id = v["requestId"].as_str().unwrap_or_default().to_owned();
                        seen.lock().expect("lock").push(v);
                        let text = if status == 200 {
                            format!(r#"{{"requestId":"{id}","timestamp":1}}"#)
                        } else {
                            r#"{"errorMessage":"no"}"#.to_owned()
                        };
                        let mut resp = hyper::Response::new(Full::new(Bytes::from(text)));
                        *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/ingest"), seen)
}

#[tokio::test]
async fn an_http_endpoint_delivery_publishes_its_records_bytes_and_success() {
    use freshet_firehose::model::{EndpointConfiguration, HttpEndpoint, S3Destination};

    let dir = tempfile::tempdir().expect("tmp");
    let h = start_with(dir.path(), Arc::new(ManualClock::new(T0)), 1 << 30).await;
    let (url, seen) = endpoint(200).await;
    h.fh.create(CreateRequest {
        name: "web".into(),
        destination: DestinationInput {
            http_endpoint: Some(HttpEndpoint {
                endpoint_configuration: Some(EndpointConfiguration {
                    url: Some(url),
                    ..EndpointConfiguration::default()
                }),
                buffering_hints: Some(BufferingHints {
                    size_in_mbs: Some(1),
                    interval_in_seconds: Some(60),
                }),
                s3_configuration: Some(S3Destination {
                    role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
                    bucket_arn: Some("arn:aws:s3:::bucket".into()),
                    ..S3Destination::default()
                }),
                ..HttpEndpoint::default()
            }),
            ..DestinationInput::default()
        },
        ..CreateRequest::default()
    })
    .await
    .expect("create");
    for _ in 0..500 {
        if h.fh.record("web").expect("record").status == Status::Active {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.fh.put_records("web", &puts(3)).await.expect("put");
    h.clock.advance(30_000);
    h.recorder.sample_gauges();
    h.clock.advance(30_000);
    let mut m = std::collections::HashMap::new();
    for _ in 0..500 {
        for (k, v) in h.metrics("web") {
            m.entry(k)
                .and_modify(|s: &mut freshet_metrics::StatSet| s.merge(&v))
                .or_insert(v);
        }
        if m.contains_key("DeliveryToHttpEndpoint.Success") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let requests = seen.lock().expect("lock").len() as f64;
    assert_eq!(requests, 1.0, "one request for the buffer");
    let success = m["DeliveryToHttpEndpoint.Success"];
    assert_eq!((success.count, success.sum), (1.0, 1.0));
    assert_eq!(m["DeliveryToHttpEndpoint.Records"].sum, 3.0);
    assert_eq!(m["DeliveryToHttpEndpoint.Bytes"].sum, 9.0);
    assert_eq!(
        m["DeliveryToHttpEndpoint.DataFreshness"].max, 30.0,
        "the oldest undelivered record was 30 s old when sampled"
    );
    assert!(!m.contains_key("DeliveryToS3.Records"), "{:?}", m.keys());
    assert!(
        !m.contains_key("DeliveryToS3.DataFreshness"),
        "{:?}",
        m.keys()
    );
    h.stop().await;
}
