// SPDX-License-Identifier: Apache-2.0
//! Slow and hostile clients cannot stall the API: clients that announce big bodies and send a
//! byte, bodies shorter than their Content-Length, connections that never send a request.
//!
//! The outer `timeout`s only detect hangs (before the fix these tests hung forever); nothing
//! here asserts how fast anything is.

use std::time::Duration;

use freshet_testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HANG: Duration = Duration::from_secs(90);

/// Opens a connection and sends a PutRecords head announcing `declared` bytes, then `sent`.
async fn start_body(server: &TestServer, declared: usize, sent: &[u8]) -> TcpStream {
    let mut conn = TcpStream::connect(server.addr()).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-amz-json-1.1\r\n\
         x-amz-target: Kinesis_20131202.PutRecords\r\ncontent-length: {declared}\r\n\r\n",
        server.addr()
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(sent).await.expect("body start");
    conn
}

/// Reads until the peer closes or a whole response head arrived.
async fn read_response(conn: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") {
                    // Give the body a moment to follow the head.
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await
                    {
                        out.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_announce_big_bodies_and_send_a_byte_do_not_block_the_api() {
    // Longer than the hang detector: the slow clients are still connected throughout.
    let server = TestServer::start_with(|c| {
        c.server.body_read_timeout = HANG * 2;
    })
    .await;
    let client = server.client();
    freshet_testkit::create_active_stream(&client, "slow", 2).await;
    // Sixteen clients announce the largest body (16 x 16 MiB is the whole default budget),
    // send one byte and stop.
    let max = server.config().server.max_body_size.0 as usize;
    let mut slow = Vec::new();
    for _ in 0..16 {
        slow.push(start_body(&server, max, b"{").await);
    }
    // Every API call still works, a 1 MB put included.
    tokio::time::timeout(HANG, async {
        for i in 0..5 {
            client
                .put_record()
                .stream_name("slow")
                .partition_key(format!("k{i}"))
                .data(aws_sdk_kinesis::primitives::Blob::new(vec![1u8; 1_000_000]))
                .send()
                .await
                .expect("put while slow clients are connected");
        }
        let streams = client.list_streams().send().await.expect("list streams");
        assert_eq!(streams.stream_names(), ["slow"]);
    })
    .await
    .expect("the API answered while slow clients held connections");
    // They were not answered (or cut off) to make room: each still waits for its body.
    for conn in &slow {
        let mut buf = [0u8; 16];
        assert!(
            matches!(conn.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a slow client was answered before the API calls went through"
        );
    }
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_shorter_than_its_content_length_is_answered_408() {
    let server = TestServer::start_with(|c| {
        c.server.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut conn = start_body(&server, 100, br#"{"StreamName":"#).await;
    let resp = tokio::time::timeout(HANG, read_response(&mut conn))
        .await
        .expect("an answer, not a hang");
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("RequestTimeoutException"), "{resp}");
    assert!(resp.contains("after 14 of its 100 bytes"), "{resp}");
    // The server goes on serving.
    let streams = server.client().list_streams().send().await.expect("list");
    assert!(streams.stream_names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_a_request_is_closed() {
    let server = TestServer::start_with(|c| {
        c.server.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut silent = TcpStream::connect(server.addr()).await.expect("connect");
    let mut half = TcpStream::connect(server.addr()).await.expect("connect");
    half.write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("partial head");
    for conn in [&mut silent, &mut half] {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(HANG, conn.read(&mut buf))
            .await
            .expect("closed, not left open");
        // Closed (0 bytes or a reset), or hyper's 408 for the half-sent head.
        match read {
            Ok(0) | Err(_) => {}
            Ok(n) => assert!(
                String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
                "{:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bodies_larger_than_the_budget_all_complete() {
    let server = TestServer::start_with(|c| {
        c.server.max_body_size = freshet_server::config::ByteSize(2 << 20);
        c.server.max_in_flight = freshet_server::config::ByteSize(3 << 20);
    })
    .await;
    let client = server.client();
    freshet_testkit::create_active_stream(&client, "big", 1).await;
    // Twelve 1.3 MiB bodies (base64 of 1 MB) against 3 MiB: admitted two at a time, never
    // deadlocked half-read.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .put_record()
                .stream_name("big")
                .partition_key(format!("k{i}"))
                .data(aws_sdk_kinesis::primitives::Blob::new(vec![9u8; 1_000_000]))
                .send()
                .await
        }));
    }
    tokio::time::timeout(HANG, async {
        for t in tasks {
            t.await.expect("task").expect("put");
        }
    })
    .await
    .expect("every put finished");
}
