// SPDX-License-Identifier: Apache-2.0
//! HTTP/2 and TLS with real clients: a hyper HTTP/2 client with prior knowledge (h2c) making
//! API calls in JSON and CBOR on the plain port, rustls clients negotiating `h2` and
//! `http/1.1` by ALPN on the TLS port and trusting the generated certificate, and the AWS SDK
//! for Rust over `https://`.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use bytes::Bytes;
use ciborium::Value;
use freshet_testkit::{AMZ_CBOR, AMZ_JSON};
use serde_json::json;

use super::common::*;

/// A server with the TLS port on an ephemeral port and a generated certificate.
async fn tls_server() -> TestServer {
    TestServer::start_with(|c| c.server.tls_listen = Some("127.0.0.1:0".parse().expect("addr")))
        .await
}

fn cbor(v: &Value) -> Bytes {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("encode");
    Bytes::from(out)
}

fn cbor_map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    )
}

fn cbor_member(v: &Value, key: &str) -> Value {
    let Value::Map(entries) = v else {
        panic!("not a map: {v:?}");
    };
    entries
        .iter()
        .find(|(k, _)| k == &Value::Text(key.into()))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_serves_json_and_cbor_calls() {
    let server = TestServer::start().await;
    create_active_stream(&server.client(), "h2c", 1).await;

    // JSON over h2c: put and list.
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "PutRecord")];
    let body = json!({"StreamName": "h2c", "PartitionKey": "k", "Data": "aGk="}).to_string();
    let resp = server
        .try_raw_h2c(http::Method::POST, "/", &headers, Bytes::from(body))
        .await
        .expect("h2c JSON PutRecord");
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.json()["ShardId"], json!("shardId-000000000000"));

    // CBOR over h2c, as the Java SDK v2 sends on http://: iterator, then the record back.
    let headers = [
        ("content-type", AMZ_CBOR),
        ("x-amz-target", "GetShardIterator"),
    ];
    let request = cbor_map(vec![
        ("StreamName", Value::Text("h2c".into())),
        ("ShardId", Value::Text("shardId-000000000000".into())),
        ("ShardIteratorType", Value::Text("TRIM_HORIZON".into())),
    ]);
    let resp = server
        .try_raw_h2c(http::Method::POST, "/", &headers, cbor(&request))
        .await
        .expect("h2c CBOR GetShardIterator");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some(AMZ_CBOR));
    let out: Value = ciborium::de::from_reader(resp.body.as_ref()).expect("CBOR");
    let iterator = cbor_member(&out, "ShardIterator");
    let headers = [("content-type", AMZ_CBOR), ("x-amz-target", "GetRecords")];
    let resp = server
        .try_raw_h2c(
            http::Method::POST,
            "/",
            &headers,
            cbor(&cbor_map(vec![("ShardIterator", iterator)])),
        )
        .await
        .expect("h2c CBOR GetRecords");
    assert_eq!(resp.status, 200);
    let out: Value = ciborium::de::from_reader(resp.body.as_ref()).expect("CBOR");
    let Value::Array(records) = cbor_member(&out, "Records") else {
        panic!("Records: {out:?}");
    };
    assert_eq!(
        cbor_member(&records[0], "Data"),
        Value::Bytes(b"hi".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_port_negotiates_h2_and_http1_by_alpn() {
    let server = tls_server().await;
    create_active_stream(&server.client(), "alpn", 1).await;
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "ListStreams")];
    for (offer, alpn, version) in [
        (&["h2", "http/1.1"][..], Some("h2"), http::Version::HTTP_2),
        (&["http/1.1"][..], Some("http/1.1"), http::Version::HTTP_11),
        (&["h2"][..], Some("h2"), http::Version::HTTP_2),
        // No ALPN at all (older clients): HTTP/1.1.
        (&[][..], None, http::Version::HTTP_11),
    ] {
        let out = server
            .try_raw_tls(offer, http::Method::POST, "/", &headers, Bytes::from("{}"))
            .await
            .unwrap_or_else(|e| panic!("TLS request offering {offer:?}: {e}"));
        assert_eq!(out.alpn.as_deref(), alpn, "offered {offer:?}");
        assert_eq!(out.version, version, "offered {offer:?}");
        assert_eq!(out.response.status, 200);
        assert_eq!(out.response.json()["StreamNames"], json!(["alpn"]));
    }
    // CBOR over TLS + h2, the Java SDK v2's https:// default.
    let headers = [
        ("content-type", AMZ_CBOR),
        ("x-amz-target", "DescribeStreamSummary"),
    ];
    let body = cbor(&cbor_map(vec![("StreamName", Value::Text("alpn".into()))]));
    let out = server
        .try_raw_tls(&["h2", "http/1.1"], http::Method::POST, "/", &headers, body)
        .await
        .expect("TLS CBOR call");
    assert_eq!(out.response.status, 200);
    assert_eq!(out.response.header("content-type"), Some(AMZ_CBOR));
    // The plain port still works beside it.
    let resp = server.raw_call("ListStreams", &json!({})).await;
    assert_eq!(resp.json()["StreamNames"], json!(["alpn"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_sdk_works_over_https_trusting_the_generated_certificate() {
    let server = tls_server().await;
    let client = server.tls_client();
    create_active_stream(&client, "https", 2).await;
    client
        .put_record()
        .stream_name("https")
        .partition_key("k")
        .data(Blob::new("over tls"))
        .send()
        .await
        .expect("PutRecord over https");
    let shard = client
        .list_shards()
        .stream_name("https")
        .send()
        .await
        .expect("ListShards")
        .shards()
        .iter()
        .find(|s| {
            let start: u128 = s
                .hash_key_range()
                .expect("range")
                .starting_hash_key()
                .parse()
                .expect("u128");
            let end: u128 = s
                .hash_key_range()
                .expect("range")
                .ending_hash_key()
                .parse()
                .expect("u128");
            (start..=end).contains(&partition_key_hash("k"))
        })
        .expect("owning shard")
        .shard_id()
        .to_owned();
    let it = client
        .get_shard_iterator()
        .stream_name("https")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator");
    let out = client
        .get_records()
        .shard_iterator(it.shard_iterator().expect("iterator"))
        .send()
        .await
        .expect("GetRecords");
    assert_eq!(out.records()[0].data().as_ref(), b"over tls");
    // A service error comes through TLS like any answer.
    let err = expect_err(client.describe_stream().stream_name("nope").send().await);
    assert_eq!(err.code.as_deref(), Some("ResourceNotFoundException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_certificate_is_kept_across_restarts() {
    let server = tls_server().await;
    let pem = server.tls_cert_pem();
    assert!(
        String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----"),
        "PEM certificate"
    );
    assert_eq!(
        std::fs::read(server.data_dir().join("tls").join("cert.pem")).expect("in the data dir"),
        pem
    );
    let server = server.restart().await;
    assert_eq!(
        server.tls_cert_pem(),
        pem,
        "same certificate after a restart"
    );
    // Clients that trusted it before still connect.
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "ListStreams")];
    let out = server
        .try_raw_tls(
            &["h2"],
            http::Method::POST,
            "/",
            &headers,
            Bytes::from("{}"),
        )
        .await
        .expect("TLS after restart");
    assert_eq!(out.response.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_certificate_is_served_instead_of_generating_one() {
    // Borrow a certificate generated by another server as "the operator's" PEM files.
    let donor = tls_server().await;
    let files = tempfile::tempdir().expect("tempdir");
    let cert = files.path().join("cert.pem");
    let key = files.path().join("key.pem");
    std::fs::copy(donor.data_dir().join("tls/cert.pem"), &cert).expect("copy cert");
    std::fs::copy(donor.data_dir().join("tls/key.pem"), &key).expect("copy key");
    let server = TestServer::start_with(|c| {
        c.server.tls_listen = Some("127.0.0.1:0".parse().expect("addr"));
        c.server.tls_cert = Some(cert.clone());
        c.server.tls_key = Some(key.clone());
    })
    .await;
    assert!(!server.data_dir().join("tls").exists(), "nothing generated");
    assert_eq!(server.tls_cert_pem(), donor.tls_cert_pem());
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "ListStreams")];
    let out = server
        .try_raw_tls(
            &["h2"],
            http::Method::POST,
            "/",
            &headers,
            Bytes::from("{}"),
        )
        .await
        .expect("TLS with the configured certificate");
    assert_eq!(out.response.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_tls_port_too() {
    let server = tls_server().await;
    let tls_addr = server.tls_addr().expect("TLS port");
    let plain_addr = server.addr();
    // A client connected over TLS before the shutdown.
    let headers = [("content-type", AMZ_JSON), ("x-amz-target", "ListStreams")];
    server
        .try_raw_tls(
            &["h2"],
            http::Method::POST,
            "/",
            &headers,
            Bytes::from("{}"),
        )
        .await
        .expect("TLS before shutdown");
    server.stop().await;
    for addr in [tls_addr, plain_addr] {
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "{addr} still accepts connections after shutdown"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_certificate_is_refused_by_its_own_tls() {
    // The certificate is really checked: a client trusting only the server's certificate
    // accepts it, and the SDK with the system roots alone does not.
    let server = tls_server().await;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .endpoint_url(server.tls_endpoint())
        .http_client(http)
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_kinesis::Client::from_conf(config);
    let err = client
        .list_streams()
        .send()
        .await
        .expect_err("an untrusted certificate fails the handshake");
    assert!(
        matches!(err, aws_sdk_kinesis::error::SdkError::DispatchFailure(_)),
        "{err:?}"
    );
}
