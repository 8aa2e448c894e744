// SPDX-License-Identifier: Apache-2.0
//! `--client raw`: a lean HTTP/1.1 client for the write scenarios.
//!
//! The AWS SDK signs every request and builds it through a deep middleware stack; on a small
//! machine that costs more CPU than a fast server spends answering, so single-record puts
//! measure the client, not the server (see the no-op baseline). This client sends the same
//! JSON 1.1 requests over one kept-alive connection per worker, with a fixed, well-formed but
//! unverified SigV4 `Authorization` header, which local Kinesis servers accept (they do not
//! check signatures). It cannot talk to real AWS: use the default SDK client for that.
//!
//! The function scenarios (`lambda/`) send their REST-JSON Lambda calls through the same
//! connection type with [`RawConn::request`].

use std::fmt::Write as _;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// A syntactically complete SigV4 header: servers that check for its parts are satisfied.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=freshet/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";
/// The same for Lambda's REST-JSON calls (credential scope `lambda`).
pub(super) const LAMBDA_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=freshet/20260101/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// One kept-alive connection to the endpoint.
pub(super) struct RawConn {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

/// A whole HTTP answer.
pub(super) struct RawAnswer {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// What a call answered.
pub(super) enum RawOutcome {
    /// HTTP 200 and its body.
    Ok(Bytes),
    /// An AWS error, by its `__type`.
    Aws(String),
    /// The connection failed; a new one is needed.
    Transport,
}

impl RawConn {
    /// Connects to `endpoint` (`http://host:port`).
    pub(super) async fn connect(endpoint: &str) -> anyhow::Result<Self> {
        let uri: http::Uri = endpoint.parse().context("endpoint URL")?;
        anyhow::ensure!(
            uri.scheme_str() == Some("http"),
            "--client raw speaks plain HTTP only; use the SDK client for {endpoint}"
        );
        let host = uri.host().context("endpoint has no host")?.to_owned();
        let port = uri.port_u16().unwrap_or(80);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .with_context(|| format!("cannot connect to {endpoint}"))?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(conn);
        Ok(Self {
            send,
            host: format!("{host}:{port}"),
        })
    }

    /// Sends one Kinesis JSON 1.1 call.
    pub(super) async fn call(&mut self, operation: &str, body: String) -> RawOutcome {
        let target = format!("Kinesis_20131202.{operation}");
        let headers = [
            (
                http::header::CONTENT_TYPE.as_str(),
                "application/x-amz-json-1.1",
            ),
            ("x-amz-target", target.as_str()),
            ("x-amz-date", "20260101T000000Z"),
            (http::header::AUTHORIZATION.as_str(), AUTHORIZATION),
        ];
        let Some(answer) = self
            .request(Method::POST, "/", &headers, Bytes::from(body))
            .await
        else {
            return RawOutcome::Transport;
        };
        if answer.status == StatusCode::OK {
            RawOutcome::Ok(answer.body)
        } else {
            RawOutcome::Aws(
                error_type(&answer.body)
                    .unwrap_or_else(|| format!("HTTP{}", answer.status.as_u16())),
            )
        }
    }

    /// Sends one request with `headers` (plus `Host`) and reads the whole answer; `None` when
    /// the connection failed (a new one is needed).
    pub(super) async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Option<RawAnswer> {
        self.send.ready().await.ok()?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.host);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(body)).ok()?;
        let resp = self.send.send_request(req).await.ok()?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        Some(RawAnswer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// The `__type` of an AWS JSON error body, without a namespace prefix.
pub(super) fn error_type(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        kind: String,
    }
    let e: ErrorBody = serde_json::from_slice(body).ok()?;
    Some(e.kind.rsplit('#').next().unwrap_or(&e.kind).to_owned())
}

/// A PutRecord body. Stream names and the benchmark's keys need no JSON escaping.
pub(super) fn put_record_body(stream: &str, key: &str, data: &[u8]) -> String {
    format!(
        r#"{{"StreamName":"{stream}","PartitionKey":"{key}","Data":"{}"}}"#,
        STANDARD.encode(data)
    )
}

/// A PutRecords body.
pub(super) fn put_records_body<'a>(
    stream: &str,
    records: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> String {
    let mut out = format!(r#"{{"StreamName":"{stream}","Records":["#);
    for (i, (key, data)) in records.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"PartitionKey":"{key}","Data":""#);
        STANDARD.encode_string(data, &mut out);
        out.push_str("\"}");
    }
    out.push_str("]}");
    out
}

/// The error codes of the failed entries of a PutRecords answer (empty when all succeeded),
/// or `None` when the answer is not a PutRecords output.
pub(super) fn put_records_failures(body: &[u8]) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "ErrorCode")]
        error_code: Option<String>,
    }
    #[derive(Deserialize)]
    struct Output {
        #[serde(rename = "Records")]
        records: Vec<Entry>,
    }
    let out: Output = serde_json::from_slice(body).ok()?;
    Some(
        out.records
            .into_iter()
            .filter_map(|e| e.error_code)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_the_json_the_sdk_sends() {
        let v: serde_json::Value =
            serde_json::from_str(&put_record_body("s", "k", b"hi")).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"StreamName":"s","PartitionKey":"k","Data":"aGk="})
        );
        let body = put_records_body("s", [("a", &b"x"[..]), ("b", &b"yz"[..])].into_iter());
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"StreamName":"s","Records":[
                {"PartitionKey":"a","Data":"eA=="},{"PartitionKey":"b","Data":"eXo="}]})
        );
    }

    #[test]
    fn answers_are_read() {
        let ok = br#"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"s"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"m"}]}"#;
        assert_eq!(
            put_records_failures(ok),
            Some(vec!["ProvisionedThroughputExceededException".to_owned()])
        );
        assert_eq!(
            error_type(br#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#),
            Some("UnknownOperationException".to_owned())
        );
    }
}
