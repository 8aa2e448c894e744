// SPDX-License-Identifier: Apache-2.0
//! The REST APIs against a real streams service on a temp dir, called as the front door calls
//! them (no HTTP): every tutorial resource, the stream-bound API, and API Gateway's errors.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use freshet_apigateway::{ApiGatewayOptions, ApiGatewayService, StreamApi};
use freshet_kinesis::{Streams, StreamsOptions};
use freshet_log::LogConfig;
use freshet_protocol::{ApiRequest, Protocol, Response};
use freshet_types::ManualClock;
use http::{HeaderMap, Method};
use serde_json::{Value, json};

struct Fixture {
    svc: ApiGatewayService,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    let clock = ManualClock::new(1_800_000_000_000);
    let streams = Streams::open(dir.path(), LogConfig::default(), opts, Arc::new(clock))
        .await
        .expect("open streams");
    let svc = ApiGatewayService::new(
        streams,
        ApiGatewayOptions {
            kinesis_proxy: true,
            stream_apis: vec![StreamApi {
                name: "ingest".into(),
                stream: "bound".into(),
            }],
        },
    );
    Fixture { svc, _dir: dir }
}

impl Fixture {
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&'static str, &str)],
        body: &[u8],
    ) -> Response {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().expect("header"));
        }
        self.svc
            .handle(&ApiRequest {
                protocol: Protocol::RestJson,
                operation: String::new(),
                method,
                path,
                query,
                headers: h,
                body: Bytes::copy_from_slice(body),
                params: Vec::new(),
                request_id: "r".into(),
            })
            .await
    }

    async fn json(&self, method: Method, path: &str, body: &[u8]) -> (u16, Value) {
        let r = self.call(method, path, &[], body).await;
        let v = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).expect("json answer")
        };
        (r.status, v)
    }

    /// Every record of shard 0 of `stream`, read through the tutorial's own resources.
    async fn read_back(&self, stream: &str) -> Vec<(Vec<u8>, String)> {
        let (_, it) = self
            .json(
                Method::GET,
                &format!(
                    "/restapis/kinesis/test/streams/{stream}/sharditerator?shard-id=shardId-000000000000"
                ),
                b"",
            )
            .await;
        let iterator = it["ShardIterator"].as_str().expect("iterator").to_owned();
        let r = self
            .call(
                Method::GET,
                &format!("/restapis/kinesis/test/streams/{stream}/records"),
                &[("shard-iterator", &iterator)],
                b"",
            )
            .await;
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        v["Records"]
            .as_array()
            .expect("Records")
            .iter()
            .map(|rec| {
                let data = STANDARD
                    .decode(rec["Data"].as_str().expect("Data"))
                    .expect("base64");
                (data, rec["PartitionKey"].as_str().expect("pk").to_owned())
            })
            .collect()
    }
}

#[tokio::test]
async fn the_tutorial_api_creates_lists_writes_reads_and_deletes_a_stream() {
    let f = fixture().await;
    let (status, v) = f
        .json(
            Method::POST,
            "/restapis/kinesis/test/streams/orders",
            br#"{"ShardCount": 1}"#,
        )
        .await;
    assert_eq!((status, v), (200, Value::Null));
    let (_, v) = f
        .json(Method::GET, "/restapis/kinesis/test/streams", b"")
        .await;
    assert_eq!(v["StreamNames"], json!(["orders"]));
    let (_, v) = f
        .json(Method::GET, "/restapis/kinesis/test/streams/orders", b"")
        .await;
    assert_eq!(v["StreamDescription"]["StreamName"], "orders");
    assert_eq!(
        v["StreamDescription"]["Shards"].as_array().map(Vec::len),
        Some(1)
    );

    let (status, v) = f
        .json(
            Method::PUT,
            "/restapis/kinesis/test/streams/orders/record",
            br#"{"Data": "some data", "PartitionKey": "some key"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["ShardId"], "shardId-000000000000");
    let (_, v) = f
        .json(
            Method::PUT,
            "/restapis/kinesis/test/streams/orders/records",
            br#"{"records": [{"data": "some data", "partition-key": "some key"},
                            {"data": "some other data", "partition-key": "some key"}]}"#,
        )
        .await;
    assert_eq!(v["FailedRecordCount"], 0);
    assert_eq!(
        f.read_back("orders").await,
        vec![
            (b"\"some data\"".to_vec(), "some key".to_owned()),
            (b"some data".to_vec(), "some key".to_owned()),
            (b"some other data".to_vec(), "some key".to_owned()),
        ]
    );

    let (status, _) = f
        .json(
            Method::DELETE,
            "/restapis/kinesis/test/streams/orders",
            b"{}",
        )
        .await;
    assert_eq!(status, 200);
    let (_, v) = f
        .json(Method::GET, "/restapis/kinesis/test/streams", b"")
        .await;
    assert_eq!(v["StreamNames"], json!([]));
}

#[tokio::test]
async fn kinesis_errors_pass_through_as_200_except_delete_stream_which_maps_to_400() {
    let f = fixture().await;
    let (status, v) = f
        .json(Method::GET, "/restapis/kinesis/test/streams/nope", b"")
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["__type"], "ResourceNotFoundException");
    let r = f
        .call(
            Method::DELETE,
            "/restapis/kinesis/test/streams/nope",
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    assert_eq!(r.error_code, None);
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["__type"], "ResourceNotFoundException");
}

#[tokio::test]
async fn undefined_paths_and_methods_get_missing_authentication_token() {
    let f = fixture().await;
    for (m, p) in [
        (Method::GET, "/restapis/kinesis/test/nothing"),
        (Method::PATCH, "/restapis/kinesis/test/streams"),
        (Method::GET, "/restapis/unknown/test/streams"),
        (Method::GET, "/restapis/kinesis"),
        (Method::GET, "/restapis/ingest/test/record"),
        (Method::POST, "/restapis/ingest/test/streams"),
    ] {
        let r = f.call(m.clone(), p, &[], b"").await;
        assert_eq!(r.status, 403, "{m} {p}");
        assert_eq!(r.error_code, Some("MissingAuthenticationTokenException"));
        assert_eq!(
            &r.body[..],
            br#"{"message":"Missing Authentication Token"}"#
        );
    }
}

#[tokio::test]
async fn unparsable_json_is_refused_and_other_content_types_pass_through() {
    let f = fixture().await;
    // No body: the template's default of 5 shards.
    f.json(Method::POST, "/restapis/kinesis/t/streams/five", b"")
        .await;
    let (_, v) = f
        .json(Method::GET, "/restapis/kinesis/t/streams/five", b"")
        .await;
    assert_eq!(
        v["StreamDescription"]["Shards"].as_array().map(Vec::len),
        Some(5)
    );
    f.json(
        Method::POST,
        "/restapis/kinesis/t/streams/s",
        br#"{"ShardCount": 1}"#,
    )
    .await;
    let r = f
        .call(
            Method::PUT,
            "/restapis/kinesis/t/streams/s/record",
            &[],
            b"{\"Data\": ",
        )
        .await;
    assert_eq!(r.status, 400);
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    let message = v["message"].as_str().expect("message");
    assert!(
        message.starts_with("Could not parse request body into json: "),
        "{message}"
    );
    // No template for a form: the body reaches Kinesis as it is (WHEN_NO_MATCH) and Kinesis's
    // answer comes back as a 200.
    let r = f
        .call(
            Method::PUT,
            "/restapis/kinesis/t/streams/s/record",
            &[("content-type", "application/x-www-form-urlencoded")],
            br#"{"StreamName": "s", "Data": "AAE=", "PartitionKey": "k"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["ShardId"], "shardId-000000000000");
    assert_eq!(f.read_back("s").await, vec![(vec![0, 1], "k".to_owned())]);
}

#[tokio::test]
async fn the_stream_bound_api_validates_and_writes_to_its_stream() {
    let f = fixture().await;
    f.json(
        Method::POST,
        "/restapis/kinesis/t/streams/bound",
        br#"{"ShardCount": 1}"#,
    )
    .await;
    let (status, v) = f
        .json(
            Method::POST,
            "/restapis/ingest/prod/record",
            br#"{"data": "Hello World!", "partitionKey": "pk001"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert!(v["SequenceNumber"].is_string(), "{v}");
    let (_, v) = f
        .json(
            Method::PUT,
            "/restapis/ingest/prod/records",
            br#"{"records": [{"data": "abc", "partitionKey": "pk001"},
                            {"data": "xyz", "partitionKey": "pk001"}]}"#,
        )
        .await;
    assert_eq!(v["FailedRecordCount"], 0, "{v}");
    assert_eq!(
        f.read_back("bound").await,
        vec![
            (b"\"Hello World!\"".to_vec(), "pk001".to_owned()),
            (b"abc".to_vec(), "pk001".to_owned()),
            (b"xyz".to_vec(), "pk001".to_owned()),
        ]
    );
    for body in [
        &br#"{"data": "x"}"#[..],
        br#"{"records": [{"data": "x"}]}"#,
        b"not json",
        b"",
    ] {
        let r = f
            .call(Method::POST, "/restapis/ingest/prod/records", &[], body)
            .await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(&r.body[..], br#"{"message":"Invalid request body"}"#);
    }
    let r = f
        .call(
            Method::POST,
            "/restapis/ingest/prod/record",
            &[("content-type", "text/plain")],
            b"x",
        )
        .await;
    assert_eq!(r.status, 415);
    assert_eq!(r.error_code, Some("UnsupportedMediaTypeException"));
}
