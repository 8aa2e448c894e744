// SPDX-License-Identifier: Apache-2.0
//! DirectPut into objects: acknowledgements, batch semantics, buffering by interval and by
//! size on a ManualClock, object names.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;
use freshet_firehose::sinks::MemorySink;
use freshet_testkit::TestServer;
use freshet_types::ManualClock;

use super::{assert_code, client, create_active, fast, s3};

const T0: i64 = 1_700_000_000_000;

fn rec(s: &str) -> Record {
    Record::builder()
        .data(Blob::new(s))
        .build()
        .expect("record")
}

async fn wait_objects(sink: &MemorySink, n: usize) -> Vec<((String, String), bytes::Bytes)> {
    for _ in 0..1000 {
        let o = sink.objects();
        if o.len() >= n {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {n} objects, have {}", sink.objects().len());
}

#[tokio::test]
async fn put_records_become_one_object_when_the_interval_passes() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = TestServer::start_with_clock(clock.clone(), fast).await;
    let sink = Arc::new(MemorySink::new());
    server.server().firehose().set_sink(sink.clone());
    let c = client(&server);
    create_active(&c, "orders", s3("raw/", 5, 60)).await;
    let one = c
        .put_record()
        .delivery_stream_name("orders")
        .record(rec("a\n"))
        .send()
        .await
        .expect("put");
    assert!(!one.record_id().is_empty());
    assert_eq!(one.encrypted(), Some(false));
    let batch = c
        .put_record_batch()
        .delivery_stream_name("orders")
        .records(rec("b\n"))
        .records(rec("c\n"))
        .send()
        .await
        .expect("batch");
    assert_eq!(batch.failed_put_count(), 0);
    assert_eq!(batch.request_responses().len(), 2);
    assert!(
        batch
            .request_responses()
            .iter()
            .all(|r| r.record_id().is_some())
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sink.objects().is_empty(), "delivered before the interval");
    clock.advance(60_000);
    let objects = wait_objects(&sink, 1).await;
    let ((bucket, key), body) = &objects[0];
    assert_eq!(bucket, "bucket");
    assert!(
        key.starts_with("raw/2023/11/14/22/orders-1-2023-11-14-22-13-"),
        "{key}"
    );
    assert_eq!(body.as_ref(), b"a\nb\nc\n");
    server.stop().await;
}

#[tokio::test]
async fn zero_buffering_delivers_without_the_clock_moving() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = TestServer::start_with_clock(clock, fast).await;
    let sink = Arc::new(MemorySink::new());
    server.server().firehose().set_sink(sink.clone());
    let c = client(&server);
    create_active(&c, "now", s3("", 5, 0)).await;
    c.put_record()
        .delivery_stream_name("now")
        .record(rec("x"))
        .send()
        .await
        .expect("put");
    let objects = wait_objects(&sink, 1).await;
    assert!(objects[0].0.1.starts_with("2023/11/14/22/now-1-"));
    server.stop().await;
}

#[tokio::test]
async fn an_updated_destination_names_objects_with_the_new_version() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = TestServer::start_with_clock(clock, fast).await;
    let sink = Arc::new(MemorySink::new());
    server.server().firehose().set_sink(sink.clone());
    let c = client(&server);
    create_active(&c, "v", s3("p/", 5, 0)).await;
    c.update_destination()
        .delivery_stream_name("v")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            aws_sdk_firehose::types::ExtendedS3DestinationUpdate::builder()
                .prefix("q/")
                .build(),
        )
        .send()
        .await
        .expect("update");
    c.put_record()
        .delivery_stream_name("v")
        .record(rec("x"))
        .send()
        .await
        .expect("put");
    let objects = wait_objects(&sink, 1).await;
    assert!(
        objects[0].0.1.starts_with("q/2023/11/14/22/v-2-"),
        "{:?}",
        objects[0].0
    );
    server.stop().await;
}

#[tokio::test]
async fn batch_limits_are_enforced() {
    let (server, _) = super::server().await;
    let c = client(&server);
    create_active(&c, "lim", s3("p/", 5, 60)).await;
    let mut b = c.put_record_batch().delivery_stream_name("lim");
    for _ in 0..501 {
        b = b.records(rec("x"));
    }
    assert_code(b.send().await, "ValidationException");
    let big = "x".repeat(1_024_001);
    let r = c
        .put_record()
        .delivery_stream_name("lim")
        .record(rec(&big))
        .send()
        .await;
    assert_code(r, "ValidationException");
    let mut b = c.put_record_batch().delivery_stream_name("lim");
    for _ in 0..5 {
        b = b.records(rec(&"y".repeat(1_000_000)));
    }
    let msg = assert_code(b.send().await, "InvalidArgumentException");
    assert!(msg.contains("4194304"), "{msg}");
}

#[tokio::test]
async fn gzip_objects_under_an_expression_prefix_decompress_to_the_records() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = TestServer::start_with_clock(clock, fast).await;
    let sink = Arc::new(MemorySink::new());
    server.server().firehose().set_sink(sink.clone());
    let c = client(&server);
    let mut dest = s3("y=!{timestamp:yyyy}/r=!{firehose:random-string}/", 5, 0);
    dest.error_output_prefix = Some("err/!{firehose:error-output-type}/".into());
    dest.compression_format = Some(aws_sdk_firehose::types::CompressionFormat::Gzip);
    create_active(&c, "gz", dest).await;
    c.put_record()
        .delivery_stream_name("gz")
        .record(rec("hello\n"))
        .send()
        .await
        .expect("put");
    let objects = wait_objects(&sink, 1).await;
    let ((_, key), body) = &objects[0];
    assert!(key.starts_with("y=2023/r="), "{key}");
    assert!(key.ends_with(".gz"), "{key}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(body.as_ref()), &mut out)
        .expect("gunzip");
    assert_eq!(out, "hello\n");
    server.stop().await;
}

#[tokio::test]
async fn a_prefix_with_expressions_needs_an_error_output_prefix() {
    let (server, _) = super::server().await;
    let c = client(&server);
    let r = c
        .create_delivery_stream()
        .delivery_stream_name("p")
        .extended_s3_destination_configuration(s3("!{timestamp:yyyy/MM/dd}", 5, 60))
        .send()
        .await;
    assert_code(r, "InvalidArgumentException");
}
