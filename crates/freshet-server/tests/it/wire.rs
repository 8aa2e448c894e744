// SPDX-License-Identifier: Apache-2.0
//! Wire-level behaviour over raw HTTP: the AWS JSON 1.1 envelope, protocol errors
//! (SerializationException, UnknownOperationException), oversized bodies, the health endpoint,
//! request ids, and HTTP/2 with prior knowledge.

use std::time::Duration;

use bytes::Bytes;
use freshet_testkit::AMZ_JSON;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::*;

/// Asserts a protocol or service error response: 400, `__type` ending in `code`, a request id.
#[track_caller]
fn assert_wire_error(resp: &freshet_testkit::RawResponse, code: &str) {
    assert_eq!(
        resp.status,
        400,
        "status; body {:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(
        resp.error_type().as_deref(),
        Some(code),
        "body {:?}",
        resp.json()
    );
    assert!(
        resp.header("x-amzn-requestid")
            .is_some_and(|v| !v.is_empty()),
        "errors carry x-amzn-RequestId: {:?}",
        resp.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_serialization_exception() {
    let server = TestServer::start().await;
    for body in ["{", "not json", "{\"StreamName\": }", "{} {}"] {
        let resp = server
            .raw_post(Some("ListStreams"), body, Some(AMZ_JSON))
            .await;
        assert_wire_error(&resp, "SerializationException");
        // AWS sends no message here; Freshet says what it could not parse, and where.
        let message = resp.json()["Message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with("The request body is not valid JSON") && message.contains("line 1"),
            "{body:?}: {message:?}"
        );
    }
    // A JSON value that is not an object is not a request either.
    let resp = server
        .raw_post(Some("CreateStream"), "[]", Some(AMZ_JSON))
        .await;
    assert_wire_error(&resp, "SerializationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrays_and_scalars_where_the_model_has_a_structure_are_refused_in_aws_words() {
    let server = TestServer::start().await;
    let resp = server
        .raw_call(
            "CreateStream",
            &json!({"StreamName": "w-shape", "ShardCount": 1}),
        )
        .await;
    assert_eq!(resp.status, 200);
    freshet_testkit::wait_for_active(&server.client(), "w-shape").await;
    let cases = [
        (
            "PutRecords",
            json!({"StreamName": "w-shape", "Records": [["ZGF0YQ==", null, "pk"]]}),
            "Start of list found where not expected",
        ),
        (
            "CreateStream",
            json!({"StreamName": "w-mode", "StreamModeDetails": ["ON_DEMAND"]}),
            "Start of list found where not expected",
        ),
        (
            "ListShards",
            json!({"StreamName": "w-shape", "ShardFilter": "x"}),
            "Expected null",
        ),
        (
            "ListShards",
            json!({"StreamName": "w-shape", "ShardFilter": 7}),
            "Expected null",
        ),
    ];
    for (op, body, message) in cases {
        let resp = server.raw_call(op, &body).await;
        assert_wire_error(&resp, "SerializationException");
        assert_eq!(resp.json()["Message"], message, "{op} {body}");
    }
    // Nothing was written or created.
    let resp = server.raw_call("ListStreams", &json!({})).await;
    assert_eq!(resp.json()["StreamNames"], json!(["w-shape"]));
    let resp = server
        .raw_call(
            "GetShardIterator",
            &json!({"StreamName": "w-shape", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
    let it = resp.json()["ShardIterator"].clone();
    let resp = server
        .raw_call("GetRecords", &json!({"ShardIterator": it}))
        .await;
    assert_eq!(resp.json()["Records"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_member_types_are_serialization_exceptions() {
    let server = TestServer::start().await;
    let cases = [
        (
            "CreateStream",
            json!({"StreamName": "w-types", "ShardCount": "2"}),
        ),
        ("CreateStream", json!({"StreamName": 5, "ShardCount": 1})),
        (
            "CreateStream",
            json!({"StreamName": {"a": 1}, "ShardCount": 1}),
        ),
        ("ListStreams", json!({"Limit": []})),
        (
            "PutRecords",
            json!({"StreamName": "w-types", "Records": {"a": 1}}),
        ),
        (
            "PutRecord",
            json!({"StreamName": "w-types", "PartitionKey": "k", "Data": "abcde"}),
        ),
    ];
    for (op, body) in cases {
        let resp = server.raw_call(op, &body).await;
        assert_wire_error(&resp, "SerializationException");
    }
    // None of those created anything.
    let resp = server.raw_call("ListStreams", &json!({})).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["StreamNames"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_operation_is_unknown_operation_exception() {
    let server = TestServer::start().await;
    let resp = server
        .raw_post(Some("Kinesis_20131202.NoSuchThing"), "{}", Some(AMZ_JSON))
        .await;
    assert_wire_error(&resp, "UnknownOperationException");
    let resp = server
        .raw_post(Some("Kinesis_20131202.NoSuchThing"), "", Some(AMZ_JSON))
        .await;
    assert_wire_error(&resp, "UnknownOperationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_for_a_known_operation_is_a_serialization_exception() {
    let server = TestServer::start().await;
    let resp = server
        .raw_post(Some("CreateStream"), "", Some(AMZ_JSON))
        .await;
    assert_wire_error(&resp, "SerializationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_responses_are_amz_json_with_a_request_id() {
    let server = TestServer::start().await;
    let resp = server.raw_call("ListStreams", &json!({})).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some(AMZ_JSON));
    assert!(
        resp.header("x-amzn-requestid")
            .is_some_and(|v| !v.is_empty()),
        "{:?}",
        resp.headers
    );
    let body = resp.json();
    assert_eq!(body["StreamNames"], json!([]));
    assert_eq!(body["HasMoreStreams"], json!(false));

    // Operations without an output shape answer 200 with an empty body.
    let resp = server
        .raw_call(
            "CreateStream",
            &json!({"StreamName": "w-ok", "ShardCount": 1}),
        )
        .await;
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert!(
        resp.body.is_empty(),
        "CreateStream body {:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert!(resp.header("x-amzn-requestid").is_some());

    // Request ids differ per request.
    let a = server.raw_call("ListStreams", &json!({})).await;
    let b = server.raw_call("ListStreams", &json!({})).await;
    assert_ne!(a.header("x-amzn-requestid"), b.header("x-amzn-requestid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_errors_use_the_aws_envelope() {
    let server = TestServer::start().await;
    let resp = server
        .raw_call("DescribeStream", &json!({"StreamName": "nope"}))
        .await;
    assert_wire_error(&resp, "ResourceNotFoundException");
    assert_eq!(resp.json()["message"], json!(stream_not_found("nope")));
    assert_eq!(resp.header("content-type"), Some(AMZ_JSON));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_members_are_ignored() {
    let server = TestServer::start().await;
    let body = json!({"StreamName": "w-extra", "ShardCount": 1, "NotAMember": {"x": [1]}});
    let resp = server.raw_call("CreateStream", &body).await;
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    // StreamId is reserved: accepted and ignored on input.
    let client = server.client();
    wait_for_active(&client, "w-extra").await;
    let body = json!({"StreamName": "w-extra", "StreamId": "abcdefghij0123456789-abc"});
    let resp = server.raw_call("DescribeStreamSummary", &body).await;
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert!(
        resp.json()["StreamDescriptionSummary"]
            .get("StreamId")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_and_the_server_stays_up() {
    let server = TestServer::start().await;
    let limit = usize::try_from(server.config().server.max_body_size.0).expect("fits");
    // A syntactically plausible request just over the configured maximum (16 MiB default).
    let mut body = Vec::with_capacity(limit + 64);
    body.extend_from_slice(br#"{"StreamName":"w-big","PartitionKey":"k","Data":""#);
    body.resize(limit + 1, b'A');
    body.extend_from_slice(b"\"}");

    // Raw HTTP/1.1, writing and reading at once: a server may answer as soon as it sees the
    // Content-Length, and then stop reading; the status must still reach the client.
    let stream = TcpStream::connect(server.addr()).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: {AMZ_JSON}\r\nX-Amz-Target: \
         Kinesis_20131202.PutRecord\r\nContent-Length: {}\r\n\r\n",
        server.addr(),
        body.len()
    );
    let writer = tokio::spawn(async move {
        // The server may close before taking it all; that is its right.
        if wr.write_all(head.as_bytes()).await.is_ok() {
            let _ = wr.write_all(&body).await;
        }
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to an oversized request");
    writer.abort();
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1).unwrap_or("");
    assert!(
        status == "413" || status == "400",
        "an oversized body must be answered 413 (or 400), got {text:?}"
    );

    let client = server.client();
    let out = client
        .list_streams()
        .send()
        .await
        .expect("server still answers");
    assert!(out.stream_names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoint_answers_ok() {
    let server = TestServer::start().await;
    let resp = server
        .try_raw(http::Method::GET, "/health", &[], Bytes::new())
        .await;
    let resp = resp.expect("GET /health");
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_with_prior_knowledge_is_served_on_the_same_port() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "w-h2", 1).await;
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "ListStreams")];
    let resp = server
        .try_raw_h2c(http::Method::POST, "/", &headers, Bytes::from_static(b"{}"))
        .await
        .expect("h2c request");
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.json()["StreamNames"], json!(["w-h2"]));

    let headers = [
        ("content-type", AMZ_JSON),
        ("x-amz-target", "DescribeStream"),
    ];
    let body = Bytes::from(json!({"StreamName": "missing"}).to_string());
    let resp = server
        .try_raw_h2c(http::Method::POST, "/", &headers, body)
        .await
        .expect("h2c");
    assert_wire_error(&resp, "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_is_base64_on_the_wire() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "w-b64", 1).await;
    // "aGVsbG8=" is base64 for "hello".
    let body = json!({"StreamName": "w-b64", "PartitionKey": "k", "Data": "aGVsbG8="});
    let resp = server.raw_call("PutRecord", &body).await;
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    let put = resp.json();
    assert_eq!(put["ShardId"], json!("shardId-000000000000"));
    assert_seq_shape(
        put["SequenceNumber"]
            .as_str()
            .expect("SequenceNumber string"),
    );

    let body = json!({"StreamName": "w-b64", "ShardId": "shardId-000000000000",
        "ShardIteratorType": "TRIM_HORIZON"});
    let resp = server.raw_call("GetShardIterator", &body).await;
    let it = resp.json()["ShardIterator"]
        .as_str()
        .expect("ShardIterator")
        .to_owned();
    assert!(
        it.len() <= 512,
        "iterators are at most 512 characters: {}",
        it.len()
    );
    let resp = server
        .raw_call("GetRecords", &json!({"ShardIterator": it}))
        .await;
    assert_eq!(resp.status, 200);
    let out = resp.json();
    let rec = &out["Records"][0];
    assert_eq!(rec["Data"], json!("aGVsbG8="));
    assert_eq!(rec["PartitionKey"], json!("k"));
    assert_eq!(rec["SequenceNumber"], put["SequenceNumber"]);
    assert!(
        rec["ApproximateArrivalTimestamp"].is_number(),
        "epoch seconds as a JSON number"
    );
    assert!(
        rec.get("EncryptionType").is_none(),
        "no EncryptionType on unencrypted records"
    );
    assert_eq!(out["MillisBehindLatest"], json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_memory_budget_wait_their_turn_instead_of_failing() {
    let server = freshet_testkit::TestServer::start_with(|c| {
        c.server.max_body_size = freshet_server::config::ByteSize(1 << 20);
        c.server.max_in_flight = freshet_server::config::ByteSize(1 << 20);
    })
    .await;
    let client = server.client();
    freshet_testkit::create_active_stream(&client, "budget", 2).await;
    // Eight concurrent ~600 KiB bodies against a 1 MiB budget: at most one is in memory at a
    // time, and every one is stored.
    let data = aws_sdk_kinesis::primitives::Blob::new(vec![7u8; 450 * 1024]);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = client.clone();
        let data = data.clone();
        tasks.push(tokio::spawn(async move {
            client
                .put_record()
                .stream_name("budget")
                .partition_key(format!("k{i}"))
                .data(data)
                .send()
                .await
        }));
    }
    for t in tasks {
        let out = t
            .await
            .expect("task")
            .expect("put succeeds once memory frees up");
        assert!(out.sequence_number().len() == 56);
    }
}
