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
}

async fn start(dir: &std::path::Path, clock: Arc<ManualClock>) -> Harness {
    start_with(dir, clock, 10_000).await
}

async fn start_with(dir: &std::path::Path, clock: Arc<ManualClock>, budget: u64) -> Harness {
    let supervisor = Supervisor::new(clock.clone());
    let platform =
        Platform::open_local(dir, LogConfig::default(), clock.clone(), supervisor.tasks())
            .expect("platform");
    let fh = Firehose::open(
        &platform,
        FirehoseOptions {
            create_delay: Duration::from_millis(10),
            delete_delay: Duration::from_millis(10),
            staging_dir: dir.join("staging"),
            undelivered_budget_bytes: budget,
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
