// SPDX-License-Identifier: Apache-2.0
//! S3 on the shared endpoint: a [`Service`] with a [`Route::Streaming`] route that hands each
//! request, body still arriving, to s3s and streams s3s's answer back.
//!
//! Credentials: like every Freshet service, any credentials are accepted by default. s3s
//! verifies every signature it sees (it needs the secret key), so in that mode the signature
//! is removed before s3s parses the request ([`strip_signature`]): the `Authorization`
//! header and the presigned-URL parameters go, and an `aws-chunked` body is decoded by
//! [`crate::chunked`] (its trailers are left in the request's extensions). With
//! `s3.credentials` configured, requests go to s3s untouched and s3s verifies them (SigV4,
//! SigV2, presigned, chunk signatures) against those keys.
//!
//! Addressing: virtual-host style (`<bucket>.<suffix>[:port]` for each configured suffix) is
//! read by [`Hosts`]; anything else is path style.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use freshet_protocol::router::Head;
use freshet_protocol::{
    ApiError, ApiRequest, Protocol, Response, ResponseBody, Route, Service, ServiceInfo,
    StreamRequest, StreamResponse,
};
use futures_util::future::BoxFuture;
use futures_util::stream::StreamExt as _;
use http::{HeaderMap, HeaderValue, Uri};
use http_body::Frame;
use http_body_util::StreamBody;
use s3s::host::{S3Host, VirtualHost};

use crate::chunked::{self, TrailerSlot};

type StdError = Box<dyn std::error::Error + Send + Sync>;

/// Virtual-host addressing: `<bucket>.<suffix>` for each suffix; other hosts are path style.
#[derive(Debug, Clone)]
pub(crate) struct Hosts {
    suffixes: Vec<String>,
}

impl Hosts {
    pub(crate) fn new(suffixes: Vec<String>) -> Hosts {
        Hosts { suffixes }
    }

    /// The bucket a `Host` header names, if it is virtual-host style.
    pub(crate) fn bucket<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        };
        self.suffixes.iter().find_map(|s| {
            let cut = name.len().checked_sub(s.len() + 1)?;
            let (bucket, rest) = (name.get(..cut)?, name.get(cut..)?);
            (rest.starts_with('.') && rest[1..].eq_ignore_ascii_case(s) && !bucket.is_empty())
                .then_some(bucket)
        })
    }
}

impl S3Host for Hosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> s3s::S3Result<VirtualHost<'a>> {
        Ok(match self.bucket(host) {
            Some(b) => VirtualHost::new(host).with_bucket(b),
            None => VirtualHost::new(host),
        })
    }
}

/// Query parameters of presigned URLs (SigV4 and SigV2).
const PRESIGN_PARAMS: [&str; 9] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "Signature",
];

/// Removes a request's signature (accept-any-credentials mode) and decodes an aws-chunked
/// body; the body to give s3s.
pub(crate) fn strip_signature(
    uri: &mut Uri,
    headers: &mut HeaderMap,
    ext: &mut http::Extensions,
    body: freshet_protocol::RequestBody,
) -> futures_util::stream::BoxStream<'static, Result<Bytes, StdError>> {
    headers.remove(http::header::AUTHORIZATION);
    if let Some(q) = uri.query()
        && q.split('&').any(|kv| {
            let name = kv.split('=').next().unwrap_or("");
            PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
        })
    {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| {
                let name = kv.split('=').next().unwrap_or("");
                !PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)) && !kv.is_empty()
            })
            .collect();
        let pq = if kept.is_empty() {
            uri.path().to_owned()
        } else {
            format!("{}?{}", uri.path(), kept.join("&"))
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(u) = Uri::from_parts(parts) {
                *uri = u;
            }
        }
    }
    let body = body.map(|r| r.map_err(StdError::from)).boxed();
    let streaming = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    let chunked_encoding = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == "aws-chunked"));
    if !(streaming || chunked_encoding) {
        return body;
    }
    // The decoded length replaces the framed one; aws-chunked is not stored as an encoding.
    match headers.remove("x-amz-decoded-content-length") {
        Some(len) => {
            headers.insert(http::header::CONTENT_LENGTH, len);
        }
        None => {
            headers.remove(http::header::CONTENT_LENGTH);
        }
    }
    if let Some(enc) = headers.remove(http::header::CONTENT_ENCODING)
        && let Ok(enc) = enc.to_str()
    {
        let rest: Vec<&str> = enc
            .split(',')
            .map(str::trim)
            .filter(|t| *t != "aws-chunked" && !t.is_empty())
            .collect();
        if !rest.is_empty()
            && let Ok(v) = HeaderValue::from_str(&rest.join(","))
        {
            headers.insert(http::header::CONTENT_ENCODING, v);
        }
    }
    headers.remove("x-amz-content-sha256");
    let slot: TrailerSlot = Arc::new(Mutex::new(None));
    ext.insert(slot.clone());
    chunked::decode(body, slot)
}

/// The configured credentials; unknown keys get AWS's `InvalidAccessKeyId`.
struct Keys(std::collections::HashMap<String, String>);

#[async_trait::async_trait]
impl s3s::auth::S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> s3s::S3Result<s3s::auth::SecretKey> {
        match self.0.get(access_key) {
            Some(secret) => Ok(secret.clone().into()),
            None => Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )),
        }
    }
}

/// The S3 service on the shared endpoint.
pub struct S3Service {
    info: ServiceInfo,
    s3s: s3s::service::S3Service,
    /// Whether s3s verifies signatures (credentials configured).
    verify: bool,
    max_body: u64,
}

impl std::fmt::Debug for S3Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Service")
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

impl S3Service {
    pub(crate) fn new(
        ops: crate::ops::Ops,
        hosts: Vec<String>,
        credentials: &[(String, String)],
    ) -> S3Service {
        let max_body = ops.max_object;
        let mut b = s3s::service::S3ServiceBuilder::new(ops);
        b.set_host(Hosts::new(hosts.clone()));
        let verify = !credentials.is_empty();
        if verify {
            b.set_auth(Keys(credentials.iter().cloned().collect()));
        }
        S3Service {
            info: ServiceInfo {
                name: "S3",
                signing_name: "s3",
                routes: vec![Route::Streaming {
                    virtual_hosts: hosts,
                    unsigned_fallback: true,
                }],
            },
            s3s: b.build(),
            verify,
            // Room for aws-chunked framing around the largest object.
            max_body: max_body + max_body / 64 + 64 * 1024,
        }
    }

    async fn handle(&self, req: StreamRequest) -> StreamResponse {
        let StreamRequest {
            method,
            mut uri,
            version,
            mut headers,
            body,
            request_id,
        } = req;
        let mut ext = http::Extensions::new();
        let body = if self.verify {
            body.map(|r| r.map_err(StdError::from)).boxed()
        } else {
            strip_signature(&mut uri, &mut headers, &mut ext, body)
        };
        // An HTTP/1 request without Content-Length or Transfer-Encoding has no body; s3s must
        // see an empty one (it refuses signed unsigned-payload requests of unknown length).
        let bodyless = version < http::Version::HTTP_2
            && !headers.contains_key(http::header::CONTENT_LENGTH)
            && !headers.contains_key(http::header::TRANSFER_ENCODING);
        let s3s_body = if bodyless {
            s3s::Body::empty()
        } else {
            s3s::Body::http_body_unsync(StreamBody::new(body.map(|r| r.map(Frame::data))))
        };
        let mut http_req = http::Request::new(s3s_body);
        *http_req.method_mut() = method;
        *http_req.uri_mut() = uri;
        *http_req.version_mut() = version;
        *http_req.headers_mut() = headers;
        *http_req.extensions_mut() = ext;
        let resp = match self.s3s.call(http_req).await {
            Ok(r) => r,
            Err(e) => {
                let e: StdError = e.into();
                tracing::error!(error = %e, "S3 request failed.");
                return internal_error(&request_id);
            }
        };
        let (parts, body) = resp.into_parts();
        let mut headers = parts.headers;
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        // `bytes()`, not `take_bytes()`: the latter empties a streaming body it cannot return.
        let body = match body.bytes() {
            Some(b) => ResponseBody::Full(b),
            None => ResponseBody::Stream(
                body.map(|r| {
                    r.map_err(|error| {
                        tracing::warn!(%error, "An S3 response body failed mid-stream.");
                        std::io::Error::other(error)
                    })
                })
                .boxed(),
            ),
        };
        StreamResponse {
            status: parts.status.as_u16(),
            headers,
            body,
        }
    }
}

fn internal_error(request_id: &str) -> StreamResponse {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    StreamResponse::full(
        500,
        h,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
             <Message>We encountered an internal error. Please try again.</Message>\
             <RequestId>{request_id}</RequestId></Error>"
        ),
    )
}

impl Service for S3Service {
    fn info(&self) -> &ServiceInfo {
        &self.info
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        // Only streamed requests reach S3 (its route is Route::Streaming).
        drop(req);
        Box::pin(async {
            let e = ApiError::new("InternalError", 500, "S3 takes streamed requests only.");
            Response::error_in(&e, Protocol::Json11)
        })
    }

    fn call_stream(&self, req: StreamRequest) -> BoxFuture<'_, StreamResponse> {
        Box::pin(self.handle(req))
    }

    fn max_body(&self) -> Option<u64> {
        Some(self.max_body)
    }

    fn body_too_large(&self, _head: &Head<'_>, _limit: u64) -> Option<Response> {
        Some(Response {
            status: 400,
            content_type: Cow::Borrowed("application/xml"),
            headers: Vec::new(),
            body: Bytes::from_static(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>EntityTooLarge</Code>\
                  <Message>Your proposed upload exceeds the maximum allowed size</Message></Error>",
            ),
            error_code: Some("EntityTooLarge"),
            events: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts_name_buckets_only_below_a_configured_suffix() {
        let h = Hosts::new(vec!["localhost".into(), "s3.example.test".into()]);
        assert_eq!(h.bucket("my-bucket.localhost:4566"), Some("my-bucket"));
        assert_eq!(h.bucket("a.b.LOCALHOST"), Some("a.b"));
        assert_eq!(h.bucket("x.s3.example.test"), Some("x"));
        assert_eq!(h.bucket("localhost:4566"), None);
        assert_eq!(h.bucket("127.0.0.1:4566"), None);
        assert_eq!(h.bucket(".localhost"), None);
        assert_eq!(h.bucket("xlocalhost"), None);
    }

    #[test]
    fn presigned_parameters_are_removed_and_others_kept() {
        let mut uri: Uri = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&versionId=3&X-Amz-Signature=ff"
            .parse()
            .expect("uri");
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
        );
        let mut ext = http::Extensions::new();
        let _ = strip_signature(
            &mut uri,
            &mut h,
            &mut ext,
            futures_util::stream::empty().boxed(),
        );
        assert_eq!(uri.to_string(), "/b/k?versionId=3");
        assert!(h.get("authorization").is_none());
        assert!(ext.get::<TrailerSlot>().is_none());
    }

    #[test]
    fn chunked_uploads_get_their_decoded_length_and_a_trailer_slot() {
        let mut uri: Uri = "/b/k".parse().expect("uri");
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        );
        h.insert("content-length", HeaderValue::from_static("100"));
        h.insert(
            "x-amz-decoded-content-length",
            HeaderValue::from_static("5"),
        );
        h.insert(
            "content-encoding",
            HeaderValue::from_static("aws-chunked,gzip"),
        );
        let mut ext = http::Extensions::new();
        let _ = strip_signature(
            &mut uri,
            &mut h,
            &mut ext,
            futures_util::stream::empty().boxed(),
        );
        assert_eq!(h["content-length"], "5");
        assert_eq!(h["content-encoding"], "gzip");
        assert!(ext.get::<TrailerSlot>().is_some());
    }
}
