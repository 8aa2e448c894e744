// SPDX-License-Identifier: Apache-2.0
//! What an AWS service looks like to the front door: the [`Route`]s it claims, the
//! [`ApiRequest`] it is called with, and its health.
//!
//! A service never sees hyper: the front door reads the body (within its budget and
//! timeouts), the [`crate::Router`] picks the service and operation, and the service answers
//! with a [`Response`]. Request ids, CORS and body limits are the front door's business.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method};

use crate::router::Head;
use crate::stream::{StreamRequest, StreamResponse};
use crate::{ApiError, Protocol, Response};

/// One request routed to a service.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// How the body is encoded; the answer must use the same protocol.
    pub protocol: Protocol,
    /// The operation named by `X-Amz-Target`, the RPC v2 path or the Query `Action`; empty
    /// for REST protocols, where the method and path name it.
    pub operation: String,
    /// HTTP method.
    pub method: Method,
    /// The request path, percent-encoded as received.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Query protocol: the decoded parameters (from the form body, or the query string of a
    /// GET), in order. Empty for other protocols.
    pub params: Vec<(String, String)>,
    /// The id the front door answers under (`x-amzn-RequestId`), for bodies that repeat it
    /// (Query's `<RequestId>`).
    pub request_id: String,
}

impl ApiRequest {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Host` the client addressed (`host:port`), for URLs a service hands out (SQS queue
    /// URLs); `:authority` on HTTP/2 arrives as `Host` too.
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }
}

/// A service's health, for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Serving normally.
    Ok,
    /// Serving, but something needs attention (e.g. storage is read-only); the reason says what.
    Degraded(String),
}

/// How requests reach a service. A service lists every way AWS SDKs address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `X-Amz-Target: <prefix>.<Operation>` with one of `protocols`' content types
    /// (AWS JSON 1.0/1.1, CBOR 1.1).
    Target {
        /// The target prefix before the dot, e.g. `Kinesis_20131202`.
        prefix: &'static str,
        /// The protocols the service speaks under that prefix.
        protocols: &'static [Protocol],
    },
    /// Smithy RPC v2 CBOR: `POST /service/<service>/operation/<Operation>`.
    RpcV2Cbor {
        /// The service segment of the path, e.g. `GraniteServiceVersion20100801`.
        service: &'static str,
    },
    /// The AWS Query protocol: a form with `Action=<Operation>&Version=<version>`, told apart
    /// by the SigV4 credential scope's service (the service's signing name) or, unsigned, by
    /// `Version`.
    Query {
        /// The API version the service's Query requests carry.
        version: &'static str,
    },
    /// REST: every request whose path starts with `path_prefix`.
    Rest {
        /// E.g. `/2015-03-31/functions`.
        path_prefix: &'static str,
        /// REST-JSON or REST-XML.
        protocol: Protocol,
    },
    /// Browser-facing pages that are not an AWS API (the web console, `/metrics`): unsigned
    /// `GET`/`HEAD` requests whose path is one of `exact` or lies below one of `prefixes`.
    /// Matched after every AWS route and before the unsigned fallback of
    /// [`Route::Streaming`], so these paths are reserved for unsigned requests only: a signed
    /// S3 request for a bucket of the same name still reaches S3. The service is called as a
    /// REST service ([`crate::Protocol::RestJson`], operation empty) and answers with
    /// whatever content type the page has.
    Web {
        /// Whole paths, e.g. `/` and `/metrics`.
        exact: &'static [&'static str],
        /// Path prefixes, matched on a segment boundary: `/console` takes `/console` and
        /// `/console/app.js`, not `/consoles`.
        prefixes: &'static [&'static str],
    },
    /// Streamed requests ([`Service::call_stream`]): every request signed for the service's
    /// signing name (SigV4 `Authorization` or a presigned `X-Amz-Credential`), every request
    /// whose `Host` is a subdomain of one of `virtual_hosts` (S3's
    /// `<bucket>.localhost:4566`), and, with `unsigned_fallback`, every unsigned request no
    /// other route claims (S3's path-style `GET /bucket/key`). At most one service should
    /// set `unsigned_fallback`; the first one wins.
    Streaming {
        /// Host suffixes whose subdomains are this service's (without a port), e.g.
        /// `localhost`.
        virtual_hosts: Vec<String>,
        /// Whether unsigned requests no other route claims come here.
        unsigned_fallback: bool,
    },
}

/// What the router and `/health` know about a service.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    /// The service's name for people, e.g. `Kinesis Data Streams`.
    pub name: &'static str,
    /// The SigV4 signing name (credential scope service), e.g. `kinesis`, `sqs`, `logs`.
    pub signing_name: &'static str,
    /// Every way requests reach it.
    pub routes: Vec<Route>,
}

/// An AWS service served on the shared endpoint.
pub trait Service: Send + Sync + 'static {
    /// Its name, signing name and routes.
    fn info(&self) -> &ServiceInfo;

    /// Answers one request. Never panics on any input; every failure is an AWS error in the
    /// request's protocol.
    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response>;

    /// Answers one request of a [`Route::Streaming`] route, with the body still arriving.
    /// Services that claim no such route never get here; the default answers 501.
    fn call_stream(&self, req: StreamRequest) -> BoxFuture<'_, StreamResponse> {
        let name = self.info().name;
        drop(req);
        Box::pin(async move {
            let e = ApiError::new(
                "NotImplemented",
                501,
                format!("{name} does not take streamed requests."),
            );
            let r = Response::error_in(&e, Protocol::Json11);
            StreamResponse::full(r.status, HeaderMap::new(), r.body)
        })
    }

    /// Its health, for `/health`.
    fn health(&self) -> Health {
        Health::Ok
    }

    /// The largest request body it takes, when that is not the endpoint's
    /// `server.max_body_size` (Lambda's CreateFunction carries a 50 MB zip in base64, about
    /// 70 MB). The front door enforces it while reading, within the shared body budget, and
    /// answers a larger body with [`Service::body_too_large`].
    fn max_body(&self) -> Option<u64> {
        None
    }

    /// The answer to a request whose body is over this service's limit, in the error shape
    /// its clients expect (e.g. Lambda's `RequestEntityTooLargeException`); `None` for the
    /// front door's generic 413.
    fn body_too_large(&self, _head: &Head<'_>, _limit: u64) -> Option<Response> {
        None
    }

    /// The answer to a request whose `X-Amz-Target` this service claims but whose content
    /// type it does not speak. The default is an `UnknownOperationException` saying so.
    fn unsupported_content_type(
        &self,
        target: &str,
        content_type: Option<&str>,
        _body: &[u8],
    ) -> Response {
        let e = ApiError::new(
            "UnknownOperationException",
            400,
            format!(
                "{} does not accept content type {} for {target}.",
                self.info().name,
                content_type.unwrap_or("(none)")
            ),
        );
        Response::error_in(&e, Protocol::Json11)
    }
}
