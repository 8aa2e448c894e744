// SPDX-License-Identifier: Apache-2.0
//! Picks the service and operation of a request, the way AWS SDKs put them on the wire.
//!
//! In order:
//! 1. `X-Amz-Target: <prefix>.<Op>`: the service claiming `<prefix>` ([`Route::Target`]); the
//!    content type picks JSON 1.0, JSON 1.1 or CBOR 1.1.
//! 2. `POST /service/<Service>/operation/<Op>`: smithy RPC v2 CBOR ([`Route::RpcV2Cbor`]).
//! 3. A path prefix ([`Route::Rest`]), whatever the body's content type.
//! 4. A form (`application/x-www-form-urlencoded` body, or `Action=` in a query string): the
//!    Query protocol. The front door reads the form and calls [`Router::route_query`], which
//!    picks the service by the SigV4 credential scope (`Credential=.../<region>/sqs/aws4_request`)
//!    or, for unsigned requests, by the `Version` parameter.
//! 5. An unsigned `GET`/`HEAD` of a browser-facing page ([`Route::Web`]: the console at `/`
//!    and `/console/...`, `/metrics`).
//!
//! Streaming services ([`Route::Streaming`], S3) claim, before steps 2-4: requests signed for
//! their signing name and requests whose `Host` is a subdomain of one of their virtual-host
//! suffixes; after step 5, unsigned requests nothing else claimed (when they ask for it).
//!
//! A request that names a service Freshet does not serve (by target prefix or signing name)
//! gets [`Routing::NotServed`]: an error that says so plainly, in the envelope that client
//! parses, instead of an authorization error that reads like a credentials problem.
//!
//! Routing is pure (no I/O, no allocation beyond the operation name) and property-tested.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, header};

use crate::service::{Route, Service};
use crate::{FORM, Protocol, Response};

/// The part of a request routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Path, as received.
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Headers.
    pub headers: &'a HeaderMap,
}

/// `X-Amz-Target`, looked up on every request: a constant name is hashed, never parsed.
static X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");

impl Head<'_> {
    fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// To the service at this index, in this protocol, for this operation (empty for REST).
    To {
        /// Index into [`Router::services`].
        service: usize,
        /// The request's protocol.
        protocol: Protocol,
        /// The operation name.
        operation: String,
    },
    /// The service claims the `X-Amz-Target` but does not speak the content type:
    /// [`Service::unsupported_content_type`] answers.
    UnsupportedContentType {
        /// Index into [`Router::services`].
        service: usize,
        /// The whole target.
        target: String,
    },
    /// A Query-protocol request: read the parameters, then ask [`Router::route_query`].
    Form,
    /// To the streaming service at this index ([`Service::call_stream`]).
    Stream {
        /// Index into [`Router::services`].
        service: usize,
    },
    /// Addressed to a service Freshet does not serve.
    NotServed(NotServed),
    /// Carries no sign of any service (no target, no signature scope, no known path).
    Unrecognized,
}

/// A request for a service (or Query action) Freshet does not serve, and how to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotServed {
    /// What the request named: `X-Amz-Target prefix 'Foo_2020'`, `service 'lambda'`, ...
    pub what: String,
    /// The error envelope the client parses.
    pub style: ErrorStyle,
}

/// The error envelope a client of an unserved service parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"__type","message"}` plus `x-amzn-ErrorType` (JSON and REST-JSON services).
    Json,
    /// `<ErrorResponse><Error>...` (Query services).
    QueryXml,
    /// `<Error><Code/><Message/></Error>` (S3).
    S3Xml,
}

/// The services of one endpoint and how to reach them.
#[derive(Clone)]
pub struct Router {
    services: Vec<Arc<dyn Service>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.services.iter().map(|s| s.info().signing_name))
            .finish()
    }
}

impl Router {
    /// A router over `services` (the order breaks no ties: each route is claimed once).
    pub fn new(services: Vec<Arc<dyn Service>>) -> Self {
        Self { services }
    }

    /// The services, in the order given.
    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }

    /// Routes a request by what its head shows.
    pub fn route(&self, head: &Head<'_>) -> Routing {
        if let Some(target) = head.header(&X_AMZ_TARGET) {
            return self.route_target(head, target);
        }
        let signed_for = signing_name(head);
        if let Some(service) = self.streaming_claim(head, signed_for.as_deref()) {
            return Routing::Stream { service };
        }
        if let Some(rest) = head.path.strip_prefix("/service/")
            && let Some((service, op)) = rest.split_once("/operation/")
        {
            return self.route_rpc_v2(service, op);
        }
        // A path a REST service claims is that service's whatever its body: an unsigned form
        // POST to API Gateway's `/restapis/...` (curl's default `-d` content type) is an API
        // Gateway request, not a Query one.
        for (i, s) in self.services.iter().enumerate() {
            for r in &s.info().routes {
                if let Route::Rest {
                    path_prefix,
                    protocol,
                } = r
                    && path_starts_with(head.path, path_prefix)
                {
                    return Routing::To {
                        service: i,
                        protocol: *protocol,
                        operation: String::new(),
                    };
                }
            }
        }
        if is_form(head) {
            return Routing::Form;
        }
        if signed_for.is_none()
            && let Some(service) = self.web_page(head)
        {
            return Routing::To {
                service,
                protocol: Protocol::RestJson,
                operation: String::new(),
            };
        }
        if signed_for.is_none()
            && let Some(service) = self.unsigned_fallback()
        {
            return Routing::Stream { service };
        }
        match signed_for {
            // Signed for a service that is served, but naming no operation of it: AWS's
            // answer for an unattributable request, not "not served".
            Some(name) if self.serves(&name) => Routing::Unrecognized,
            Some(name) => Routing::NotServed(NotServed {
                what: format!("service '{name}'"),
                style: if name == "s3" {
                    ErrorStyle::S3Xml
                } else {
                    ErrorStyle::Json
                },
            }),
            None => Routing::Unrecognized,
        }
    }

    /// The streaming service a request is addressed to by signature or virtual host.
    fn streaming_claim(&self, head: &Head<'_>, signed_for: Option<&str>) -> Option<usize> {
        let host = head.header(&header::HOST).map(strip_port);
        self.services.iter().position(|s| {
            let info = s.info();
            info.routes.iter().any(|r| match r {
                Route::Streaming { virtual_hosts, .. } => {
                    signed_for == Some(info.signing_name)
                        || host.is_some_and(|h| {
                            virtual_hosts.iter().any(|suffix| is_subdomain(h, suffix))
                        })
                }
                _ => false,
            })
        })
    }

    /// The service whose [`Route::Web`] claims this `GET`/`HEAD` path.
    fn web_page(&self, head: &Head<'_>) -> Option<usize> {
        if head.method != Method::GET && head.method != Method::HEAD {
            return None;
        }
        self.services.iter().position(|s| {
            s.info().routes.iter().any(|r| match r {
                Route::Web { exact, prefixes } => {
                    exact.contains(&head.path)
                        || prefixes.iter().any(|p| path_starts_with(head.path, p))
                }
                _ => false,
            })
        })
    }

    /// The streaming service that takes unsigned requests nothing else claims.
    fn unsigned_fallback(&self) -> Option<usize> {
        self.services.iter().position(|s| {
            s.info().routes.iter().any(|r| {
                matches!(
                    r,
                    Route::Streaming {
                        unsigned_fallback: true,
                        ..
                    }
                )
            })
        })
    }

    /// Whether a service with this signing name is served.
    fn serves(&self, signing_name: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.info().signing_name == signing_name)
    }

    fn route_target(&self, head: &Head<'_>, target: &str) -> Routing {
        let prefix = target.split_once('.').map_or(target, |(p, _)| p);
        let op = target.split_once('.').map_or("", |(_, op)| op);
        let content_type = head.header(&header::CONTENT_TYPE);
        for (i, s) in self.services.iter().enumerate() {
            for r in &s.info().routes {
                if let Route::Target {
                    prefix: claimed,
                    protocols,
                } = r
                    && *claimed == prefix
                {
                    return match content_type.and_then(Protocol::of_target_content_type) {
                        Some(p) if protocols.contains(&p) => Routing::To {
                            service: i,
                            protocol: p,
                            operation: op.to_owned(),
                        },
                        _ => Routing::UnsupportedContentType {
                            service: i,
                            target: target.to_owned(),
                        },
                    };
                }
            }
        }
        Routing::NotServed(NotServed {
            what: match signing_name(head) {
                Some(name) => format!("service '{name}' (X-Amz-Target {target})"),
                None => format!("X-Amz-Target {target}"),
            },
            style: ErrorStyle::Json,
        })
    }

    fn route_rpc_v2(&self, service: &str, op: &str) -> Routing {
        for (i, s) in self.services.iter().enumerate() {
            for r in &s.info().routes {
                if let Route::RpcV2Cbor { service: claimed } = r
                    && *claimed == service
                {
                    return Routing::To {
                        service: i,
                        protocol: Protocol::RpcV2Cbor,
                        operation: op.to_owned(),
                    };
                }
            }
        }
        Routing::NotServed(NotServed {
            what: format!("RPC v2 service '{service}'"),
            style: ErrorStyle::Json,
        })
    }

    /// Routes a Query-protocol request once its parameters are read: by the signing name of
    /// the credential scope, else by the `Version` parameter.
    pub fn route_query(&self, head: &Head<'_>, params: &[(String, String)]) -> Routing {
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let action = param("Action").unwrap_or("").to_owned();
        let version = param("Version");
        let signed_for = signing_name(head);
        for (i, s) in self.services.iter().enumerate() {
            let info = s.info();
            for r in &info.routes {
                if let Route::Query { version: v } = r {
                    let matches = match signed_for.as_deref() {
                        Some(name) => name == info.signing_name,
                        None => version == Some(*v),
                    };
                    if matches {
                        return Routing::To {
                            service: i,
                            protocol: Protocol::Query,
                            operation: action,
                        };
                    }
                }
            }
        }
        let what = match (signed_for, version) {
            (Some(name), _) => format!("service '{name}' (Query action {action})"),
            (None, Some(v)) => format!("Query API version {v} (action {action})"),
            (None, None) => format!("Query action {action} without a Version or signature"),
        };
        Routing::NotServed(NotServed {
            what,
            style: ErrorStyle::QueryXml,
        })
    }
}

impl NotServed {
    /// The answer: `501 NotImplemented` (which SDKs do not retry) saying what was asked for
    /// and what this endpoint serves.
    pub fn response(&self, served: &[&str]) -> Response {
        let message = format!(
            "Freshet does not serve {} on this endpoint. It serves: {}.",
            self.what,
            served.join(", ")
        );
        let (content_type, body) = match self.style {
            ErrorStyle::Json => (
                "application/x-amz-json-1.1",
                crate::ApiError::new("NotImplemented", 501, message.clone()).body(),
            ),
            ErrorStyle::QueryXml => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>NotImplemented</Code>\
                     <Message>{}</Message></Error><RequestId></RequestId></ErrorResponse>",
                    xml_escape(&message)
                )
                .into_bytes(),
            ),
            ErrorStyle::S3Xml => (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code>\
                     <Message>{}</Message></Error>",
                    xml_escape(&message)
                )
                .into_bytes(),
            ),
        };
        Response {
            status: 501,
            content_type: Cow::Borrowed(content_type),
            headers: Vec::new(),
            body: Bytes::from(body),
            error_code: Some("NotImplemented"),
            events: None,
        }
    }
}

/// Whether the request carries a Query-protocol form: a form body, or `Action=` in the query
/// string (GET, or a POST to a queue URL with the parameters in the URL).
fn is_form(head: &Head<'_>) -> bool {
    let form_body = head.header(&header::CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(FORM))
    });
    let action_in_query = head
        .query
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("Action=")));
    (form_body && head.method == Method::POST) || action_in_query
}

/// A `Host` header without its port (`[::1]:80` keeps its brackets).
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port))
            if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') =>
        {
            h
        }
        _ => host,
    }
}

/// `host` is `<label(s)>.<suffix>` (case-insensitive), e.g. `bucket.localhost` of `localhost`.
fn is_subdomain(host: &str, suffix: &str) -> bool {
    host.len() > suffix.len() + 1
        && host.is_char_boundary(host.len() - suffix.len())
        && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
}

/// `path` is `prefix` or below it (`/2015-03-31/functions` matches `/2015-03-31/functions/f`
/// but not `/2015-03-31/functionsX`).
fn path_starts_with(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
}

/// The service of the SigV4 credential scope: from `Authorization` (`Credential=<key>/<date>/
/// <region>/<service>/aws4_request`) or a presigned URL's `X-Amz-Credential`.
pub fn signing_name(head: &Head<'_>) -> Option<String> {
    if let Some(auth) = head.header(&header::AUTHORIZATION)
        && let Some(i) = auth.find("Credential=")
    {
        let cred = &auth[i + "Credential=".len()..];
        let cred = cred.split([',', ' ']).next().unwrap_or("");
        return scope_service(cred).map(str::to_owned);
    }
    let query = head.query?;
    let cred = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?;
    let decoded = cred.replace("%2F", "/").replace("%2f", "/");
    scope_service(&decoded).map(str::to_owned)
}

fn scope_service(credential: &str) -> Option<&str> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [.., service, "aws4_request"] if !service.is_empty() && parts.len() >= 5 => Some(service),
        _ => None,
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use futures_util::future::BoxFuture;
    use proptest::prelude::*;

    use super::*;
    use crate::service::{ApiRequest, ServiceInfo};

    struct Fake(ServiceInfo);

    impl Service for Fake {
        fn info(&self) -> &ServiceInfo {
            &self.0
        }
        fn call(&self, _req: ApiRequest) -> BoxFuture<'_, Response> {
            Box::pin(async { Response::ok(Protocol::Json11, Bytes::new()) })
        }
    }

    fn router() -> Router {
        let kinesis = ServiceInfo {
            name: "Kinesis",
            signing_name: "kinesis",
            routes: vec![Route::Target {
                prefix: "Kinesis_20131202",
                protocols: &[Protocol::Json11, Protocol::Cbor11],
            }],
        };
        let sqs = ServiceInfo {
            name: "SQS",
            signing_name: "sqs",
            routes: vec![
                Route::Target {
                    prefix: "AmazonSQS",
                    protocols: &[Protocol::Json10],
                },
                Route::Query {
                    version: "2012-11-05",
                },
            ],
        };
        let cw = ServiceInfo {
            name: "CloudWatch",
            signing_name: "monitoring",
            routes: vec![
                Route::RpcV2Cbor {
                    service: "GraniteServiceVersion20100801",
                },
                Route::Query {
                    version: "2010-08-01",
                },
            ],
        };
        let lambda = ServiceInfo {
            name: "Lambda",
            signing_name: "lambda",
            routes: vec![Route::Rest {
                path_prefix: "/2015-03-31/functions",
                protocol: Protocol::RestJson,
            }],
        };
        Router::new(vec![
            Arc::new(Fake(kinesis)),
            Arc::new(Fake(sqs)),
            Arc::new(Fake(cw)),
            Arc::new(Fake(lambda)),
        ])
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    fn route(method: Method, path: &str, query: Option<&str>, h: &HeaderMap) -> Routing {
        router().route(&Head {
            method: &method,
            path,
            query,
            headers: h,
        })
    }

    fn to(service: usize, protocol: Protocol, op: &str) -> Routing {
        Routing::To {
            service,
            protocol,
            operation: op.to_owned(),
        }
    }

    const SQS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn targets_pick_the_service_and_the_content_type_the_protocol() {
        let h = headers(&[
            ("x-amz-target", "Kinesis_20131202.PutRecord"),
            ("content-type", "application/x-amz-cbor-1.1"),
        ]);
        assert_eq!(
            route(Method::POST, "/", None, &h),
            to(0, Protocol::Cbor11, "PutRecord")
        );
        let h = headers(&[
            ("x-amz-target", "AmazonSQS.SendMessage"),
            ("content-type", "application/x-amz-json-1.0"),
        ]);
        assert_eq!(
            route(Method::POST, "/", None, &h),
            to(1, Protocol::Json10, "SendMessage")
        );
        let h = headers(&[
            ("x-amz-target", "AmazonSQS.SendMessage"),
            ("content-type", "application/x-amz-cbor-1.1"),
        ]);
        assert_eq!(
            route(Method::POST, "/", None, &h),
            Routing::UnsupportedContentType {
                service: 1,
                target: "AmazonSQS.SendMessage".into()
            }
        );
    }

    #[test]
    fn rpc_v2_paths_and_rest_prefixes_route() {
        let h = headers(&[("smithy-protocol", "rpc-v2-cbor")]);
        assert_eq!(
            route(
                Method::POST,
                "/service/GraniteServiceVersion20100801/operation/PutMetricData",
                None,
                &h
            ),
            to(2, Protocol::RpcV2Cbor, "PutMetricData")
        );
        let h = HeaderMap::new();
        assert_eq!(
            route(
                Method::GET,
                "/2015-03-31/functions/f/configuration",
                None,
                &h
            ),
            to(3, Protocol::RestJson, "")
        );
        assert_eq!(
            route(Method::GET, "/2015-03-31/functionsX", None, &h),
            Routing::Unrecognized
        );
    }

    #[test]
    fn forms_sent_to_a_rest_prefix_go_to_the_rest_service() {
        let h = headers(&[("content-type", FORM)]);
        assert_eq!(
            route(
                Method::POST,
                "/2015-03-31/functions/f/invocations",
                None,
                &h
            ),
            to(3, Protocol::RestJson, "")
        );
        let none = HeaderMap::new();
        assert_eq!(
            route(
                Method::GET,
                "/2015-03-31/functions",
                Some("Action=ListFunctions"),
                &none
            ),
            to(3, Protocol::RestJson, "")
        );
        assert_eq!(route(Method::POST, "/", None, &h), Routing::Form);
    }

    #[test]
    fn query_requests_route_by_signature_scope_then_by_version() {
        let h = headers(&[("content-type", FORM), ("authorization", SQS_AUTH)]);
        assert_eq!(route(Method::POST, "/", None, &h), Routing::Form);
        let head = Head {
            method: &Method::POST,
            path: "/000000000000/q",
            query: None,
            headers: &h,
        };
        let params = vec![("Action".to_owned(), "SendMessage".to_owned())];
        assert_eq!(
            router().route_query(&head, &params),
            to(1, Protocol::Query, "SendMessage")
        );
        let unsigned = HeaderMap::new();
        let head = Head {
            method: &Method::GET,
            path: "/",
            query: Some("Action=ListMetrics&Version=2010-08-01"),
            headers: &unsigned,
        };
        assert_eq!(router().route(&head), Routing::Form);
        let params = vec![
            ("Action".to_owned(), "ListMetrics".to_owned()),
            ("Version".to_owned(), "2010-08-01".to_owned()),
        ];
        assert_eq!(
            router().route_query(&head, &params),
            to(2, Protocol::Query, "ListMetrics")
        );
    }

    #[test]
    fn unserved_services_are_named_in_the_envelope_their_clients_parse() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        let Routing::NotServed(n) = route(Method::GET, "/schedules", None, &h) else {
            panic!("not served");
        };
        assert_eq!(n.style, ErrorStyle::Json);
        let resp = n.response(&["kinesis", "sqs"]);
        assert_eq!(resp.status, 501);
        let body: serde_json::Value = serde_json::from_slice(&resp.body).expect("json");
        assert_eq!(body["__type"], "NotImplemented");
        assert_eq!(
            body["message"],
            "Freshet does not serve service 'scheduler' on this endpoint. It serves: kinesis, sqs."
        );
        let h = headers(&[
            ("x-amz-target", "Firehose_20150804.ListDeliveryStreams"),
            ("content-type", "application/x-amz-json-1.1"),
        ]);
        assert!(matches!(
            route(Method::POST, "/", None, &h),
            Routing::NotServed(NotServed {
                style: ErrorStyle::Json,
                ..
            })
        ));
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        let head = Head {
            method: &Method::POST,
            path: "/",
            query: None,
            headers: &h,
        };
        let params = vec![("Action".to_owned(), "ListTopics".to_owned())];
        let Routing::NotServed(n) = router().route_query(&head, &params) else {
            panic!("not served");
        };
        let body = String::from_utf8(n.response(&["sqs"]).body.to_vec()).expect("utf8");
        assert!(body.contains("<Code>NotImplemented</Code>"), "{body}");
        assert!(
            body.contains("service &apos;sns&apos; (Query action ListTopics)"),
            "{body}"
        );
    }

    #[test]
    fn a_served_service_signed_for_without_an_operation_is_unrecognized_not_unserved() {
        let h = headers(&[("authorization", SQS_AUTH)]);
        assert_eq!(route(Method::GET, "/", None, &h), Routing::Unrecognized);
    }

    #[test]
    fn presigned_credentials_name_the_service_too() {
        let h = HeaderMap::new();
        let head = Head {
            method: &Method::GET,
            path: "/b/k",
            query: Some(
                "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=x",
            ),
            headers: &h,
        };
        assert_eq!(signing_name(&head).as_deref(), Some("s3"));
        assert!(matches!(
            router().route(&head),
            Routing::NotServed(NotServed {
                style: ErrorStyle::S3Xml,
                ..
            })
        ));
    }

    fn router_with_s3() -> Router {
        let mut services = router().services().to_vec();
        services.push(Arc::new(Fake(ServiceInfo {
            name: "S3",
            signing_name: "s3",
            routes: vec![Route::Streaming {
                virtual_hosts: vec!["localhost".into()],
                unsigned_fallback: true,
            }],
        })));
        Router::new(services)
    }

    fn route_s3(method: Method, path: &str, query: Option<&str>, h: &HeaderMap) -> Routing {
        router_with_s3().route(&Head {
            method: &method,
            path,
            query,
            headers: h,
        })
    }

    #[test]
    fn requests_signed_for_a_streaming_service_stream_to_it() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        assert_eq!(
            route_s3(Method::PUT, "/b/k", None, &h),
            Routing::Stream { service: 4 }
        );
        // Even a path another route claims: the signature names the service.
        assert_eq!(
            route_s3(Method::GET, "/2015-03-31/functions/x", None, &h),
            Routing::Stream { service: 4 }
        );
        let none = HeaderMap::new();
        assert_eq!(
            route_s3(
                Method::GET,
                "/b/k",
                Some("X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"),
                &none
            ),
            Routing::Stream { service: 4 }
        );
    }

    #[test]
    fn virtual_hosts_and_unclaimed_unsigned_requests_stream_to_the_fallback() {
        let h = headers(&[("host", "my-bucket.LOCALHOST:4566")]);
        assert_eq!(
            route_s3(Method::GET, "/key", None, &h),
            Routing::Stream { service: 4 }
        );
        let h = headers(&[("host", "localhost:4566")]);
        assert_eq!(
            route_s3(Method::GET, "/bucket/key", None, &h),
            Routing::Stream { service: 4 }
        );
        // Other routes keep what they claim.
        assert_eq!(
            route_s3(Method::GET, "/2015-03-31/functions/f", None, &h),
            to(3, Protocol::RestJson, "")
        );
        let h = headers(&[("host", "localhost:4566"), ("authorization", SQS_AUTH)]);
        assert_eq!(route_s3(Method::GET, "/", None, &h), Routing::Unrecognized);
    }

    fn router_with_web() -> Router {
        let mut services = router_with_s3().services().to_vec();
        services.push(Arc::new(Fake(ServiceInfo {
            name: "Console",
            signing_name: "console",
            routes: vec![Route::Web {
                exact: &["/", "/metrics"],
                prefixes: &["/console"],
            }],
        })));
        Router::new(services)
    }

    fn route_web(method: Method, path: &str, h: &HeaderMap) -> Routing {
        router_with_web().route(&Head {
            method: &method,
            path,
            query: None,
            headers: h,
        })
    }

    #[test]
    fn unsigned_gets_of_web_pages_reach_the_web_service_before_the_s3_fallback() {
        let h = headers(&[("host", "localhost:4566")]);
        for path in [
            "/",
            "/metrics",
            "/console",
            "/console/app.js",
            "/console/a/b.css",
        ] {
            assert_eq!(
                route_web(Method::GET, path, &h),
                to(5, Protocol::RestJson, ""),
                "{path}"
            );
            assert_eq!(
                route_web(Method::HEAD, path, &h),
                to(5, Protocol::RestJson, ""),
                "{path}"
            );
        }
        // Neighbouring paths and other methods stay S3's (path-style buckets and keys).
        for path in ["/consoles", "/metrics/x", "/metricsx", "/bucket/key"] {
            assert_eq!(
                route_web(Method::GET, path, &h),
                Routing::Stream { service: 4 },
                "{path}"
            );
        }
        assert_eq!(
            route_web(Method::PUT, "/console", &h),
            Routing::Stream { service: 4 }
        );
    }

    #[test]
    fn signed_requests_for_web_paths_go_where_their_signature_says() {
        let s3 = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        assert_eq!(
            route_web(Method::GET, "/console", &s3),
            Routing::Stream { service: 4 }
        );
        assert_eq!(
            route_web(Method::GET, "/console/key", &s3),
            Routing::Stream { service: 4 }
        );
        let sqs = headers(&[("authorization", SQS_AUTH)]);
        assert_eq!(route_web(Method::GET, "/", &sqs), Routing::Unrecognized);
        // Virtual-host style names the bucket in the host: S3's, signed or not.
        let vhost = headers(&[("host", "console.localhost:4566")]);
        assert_eq!(
            route_web(Method::GET, "/", &vhost),
            Routing::Stream { service: 4 }
        );
    }

    #[test]
    fn aws_routes_keep_their_requests_when_a_web_service_is_present() {
        let h = headers(&[
            ("x-amz-target", "Kinesis_20131202.ListStreams"),
            ("content-type", "application/x-amz-json-1.1"),
        ]);
        assert_eq!(
            route_web(Method::POST, "/", &h),
            to(0, Protocol::Json11, "ListStreams")
        );
        let none = HeaderMap::new();
        assert_eq!(
            router_with_web().route(&Head {
                method: &Method::GET,
                path: "/",
                query: Some("Action=ListMetrics&Version=2010-08-01"),
                headers: &none,
            }),
            Routing::Form
        );
    }

    #[test]
    fn hosts_are_subdomains_only_below_a_dot() {
        assert!(is_subdomain("b.localhost", "localhost"));
        assert!(is_subdomain("a.b.localhost", "localhost"));
        assert!(!is_subdomain("localhost", "localhost"));
        assert!(!is_subdomain("xlocalhost", "localhost"));
        assert!(!is_subdomain(".localhost", "localhost"));
        assert_eq!(strip_port("b.localhost:4566"), "b.localhost");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }

    proptest! {
        #[test]
        fn routing_never_panics(
            target in proptest::option::of(".{0,40}"),
            path in "/[a-zA-Z0-9/._-]{0,40}",
            query in proptest::option::of("[a-zA-Z0-9=&%._-]{0,60}"),
            auth in proptest::option::of("[ -~]{0,80}"),
        ) {
            let mut h = HeaderMap::new();
            if let Some(t) = &target && let Ok(v) = t.parse() {
                h.insert("x-amz-target", v);
            }
            if let Some(a) = &auth && let Ok(v) = a.parse() {
                h.insert("authorization", v);
            }
            let head = Head { method: &Method::POST, path: &path, query: query.as_deref(), headers: &h };
            let _ = router().route(&head);
            let _ = router_with_s3().route(&head);
            let _ = router_with_web().route(&head);
            let _ = router().route_query(&head, &[("Action".into(), "X".into())]);
        }
    }
}
