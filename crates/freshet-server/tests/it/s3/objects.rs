// SPDX-License-Identifier: Apache-2.0
//! Objects through the Rust SDK.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};
use freshet_testkit::TestServer;

use super::client;

async fn body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

#[tokio::test]
async fn objects_put_with_default_crc_trailers_read_back_with_their_checksums() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket()
        .bucket("sdk-bucket")
        .send()
        .await
        .expect("create");
    let put = c
        .put_object()
        .bucket("sdk-bucket")
        .key("a/b.txt")
        .body(ByteStream::from_static(b"hello world"))
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .content_type("text/plain")
        .metadata("k", "v")
        .send()
        .await
        .expect("put");
    assert_eq!(put.e_tag(), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));
    let got = c
        .get_object()
        .bucket("sdk-bucket")
        .key("a/b.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("k")).map(String::as_str),
        Some("v")
    );
    assert_eq!(got.checksum_crc32_c(), put.checksum_crc32_c());
    assert_eq!(body(got).await, b"hello world");
    let ranged = c
        .get_object()
        .bucket("sdk-bucket")
        .key("a/b.txt")
        .range("bytes=6-")
        .send()
        .await
        .expect("range");
    assert_eq!(ranged.content_range(), Some("bytes 6-10/11"));
    assert_eq!(body(ranged).await, b"world");
}

#[tokio::test]
async fn errors_have_aws_codes() {
    let server = TestServer::start().await;
    let c = client(&server);
    let e = c
        .get_object()
        .bucket("nope-bucket")
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(e.code(), Some("NoSuchBucket"));
    c.create_bucket()
        .bucket("sdk-bucket")
        .send()
        .await
        .expect("create");
    let e = c
        .get_object()
        .bucket("sdk-bucket")
        .key("k")
        .send()
        .await
        .expect_err("no key");
    assert_eq!(e.code(), Some("NoSuchKey"));
    assert_eq!(e.message(), Some("The specified key does not exist."));
    c.put_object()
        .bucket("sdk-bucket")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let e = c
        .delete_bucket()
        .bucket("sdk-bucket")
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(e.code(), Some("BucketNotEmpty"));
    let e = c
        .create_bucket()
        .bucket("Bad_Bucket")
        .send()
        .await
        .expect_err("invalid");
    assert_eq!(e.code(), Some("InvalidBucketName"));
    let e = c
        .get_object()
        .bucket("sdk-bucket")
        .key("k")
        .range("bytes=5-9")
        .send()
        .await
        .expect_err("range");
    assert_eq!(e.code(), Some("InvalidRange"));
}

#[tokio::test]
async fn listing_paginates_with_delimiters() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket()
        .bucket("list-bucket")
        .send()
        .await
        .expect("create");
    for k in ["a", "d/1", "d/2", "e/x/1", "z"] {
        c.put_object()
            .bucket("list-bucket")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let mut entries = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket("list-bucket")
            .delimiter("/")
            .max_keys(2)
            .set_continuation_token(token)
            .send()
            .await
            .expect("list");
        entries.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        entries.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    entries.sort();
    assert_eq!(entries, ["a", "d/", "e/", "z"]);
}

#[tokio::test]
async fn multipart_uploads_and_copies_work() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket()
        .bucket("mp-bucket")
        .send()
        .await
        .expect("create");
    let up = c
        .create_multipart_upload()
        .bucket("mp-bucket")
        .key("big")
        .send()
        .await
        .expect("create mpu");
    let id = up.upload_id().expect("id").to_owned();
    let p1 = vec![7u8; 5 * 1024 * 1024];
    let mut parts = Vec::new();
    for (n, data) in [(1, p1.clone()), (2, b"end".to_vec())] {
        let r = c
            .upload_part()
            .bucket("mp-bucket")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(data))
            .send()
            .await
            .expect("part");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(r.e_tag().map(str::to_owned))
                .build(),
        );
    }
    let done = c
        .complete_multipart_upload()
        .bucket("mp-bucket")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert!(done.e_tag().is_some_and(|e| e.ends_with("-2\"")));
    c.copy_object()
        .bucket("mp-bucket")
        .key("copy")
        .copy_source("mp-bucket/big")
        .send()
        .await
        .expect("copy");
    let got = c
        .get_object()
        .bucket("mp-bucket")
        .key("copy")
        .send()
        .await
        .expect("get");
    let got = body(got).await;
    assert_eq!(got.len(), p1.len() + 3);
    assert!(got.ends_with(b"end"));
    let e = c
        .abort_multipart_upload()
        .bucket("mp-bucket")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .expect_err("completed");
    assert_eq!(e.code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn presigned_urls_and_virtual_hosts_address_objects() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket()
        .bucket("pre-bucket")
        .send()
        .await
        .expect("create");
    c.put_object()
        .bucket("pre-bucket")
        .key("k")
        .body(ByteStream::from_static(b"secret"))
        .send()
        .await
        .expect("put");
    let req = c
        .get_object()
        .bucket("pre-bucket")
        .key("k")
        .presigned(
            PresigningConfig::expires_in(std::time::Duration::from_secs(60)).expect("config"),
        )
        .await
        .expect("presign");
    assert!(req.uri().contains("X-Amz-Signature="));
    // A raw GET of the presigned URL (no Authorization header).
    let url = req.uri().to_owned();
    let (host_port, path) = url
        .strip_prefix("http://")
        .and_then(|r| r.split_once('/'))
        .expect("http url");
    let mut stream = tokio::net::TcpStream::connect(host_port)
        .await
        .expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("write");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await.expect("read");
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("secret"), "{resp}");
    // Virtual-host style: the SDK puts the bucket in the Host; connect to the server anyway.
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let port = server.addr().port();
    stream
        .write_all(
            format!(
                "GET /k HTTP/1.1\r\nHost: pre-bucket.localhost:{port}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await.expect("read");
    let resp = String::from_utf8_lossy(&resp);
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.ends_with("secret"),
        "{resp}"
    );
}

#[tokio::test]
async fn configured_credentials_turn_signature_verification_on() {
    let server = TestServer::start_with(|c| {
        c.s3.credentials = vec![freshet_server::config::S3Credential {
            access_key_id: "AKIDGOOD".into(),
            secret_access_key: "good-secret".into(),
        }];
    })
    .await;
    let good = aws_sdk_s3::Client::from_conf(
        client(&server)
            .config()
            .to_builder()
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDGOOD",
                "good-secret",
                None,
                None,
                "test",
            ))
            .build(),
    );
    good.create_bucket()
        .bucket("signed-bucket")
        .send()
        .await
        .expect("create");
    good.put_object()
        .bucket("signed-bucket")
        .key("k")
        .body(ByteStream::from_static(b"signed"))
        .send()
        .await
        .expect("signed chunked put");
    let got = good
        .get_object()
        .bucket("signed-bucket")
        .key("k")
        .send()
        .await
        .expect("get");
    assert_eq!(body(got).await, b"signed");
    // The default test client signs with another secret.
    let e = client(&server)
        .list_objects_v2()
        .bucket("signed-bucket")
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(e.code(), Some("InvalidAccessKeyId"));
}
