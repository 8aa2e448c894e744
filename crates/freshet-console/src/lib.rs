// SPDX-License-Identifier: Apache-2.0
//! The Freshet web console and the other browser-facing pages, on the shared endpoint.
//!
//! [`ConsoleService`] claims a [`Route::Web`]: unsigned `GET`/`HEAD` of
//! - `/` and `/console` (the console's page; it routes by the URL fragment, `#/streams`),
//! - `/console/<asset>` (the embedded files of [`assets`]: JavaScript modules, CSS, the
//!   vendored uPlot charting library and its license),
//! - `/metrics` (every metric in the Prometheus text format, from the CloudWatch store).
//!
//! The console itself is static: it calls the AWS JSON APIs of the same endpoint from the
//! browser (same origin, unsigned), so this crate holds no state and no API of its own.
//! Signed requests never come here (the router sends them where their signature says), so a
//! signed S3 request for a bucket named `console` or `metrics` still reaches S3.

pub mod assets;

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use freshet_cloudwatch::CloudWatch;
use freshet_protocol::{ApiRequest, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;

/// The Prometheus text exposition format's content type.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Paths the console claims exactly.
const EXACT: &[&str] = &["/", "/metrics"];
/// Path prefixes the console claims (segment-bounded).
const PREFIXES: &[&str] = &["/console"];

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Console",
    signing_name: "console",
    routes: vec![Route::Web {
        exact: EXACT,
        prefixes: PREFIXES,
    }],
});

/// Renders `/metrics`.
type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

/// The web console, `/metrics` included.
#[derive(Clone)]
pub struct ConsoleService {
    metrics: MetricsSource,
}

impl std::fmt::Debug for ConsoleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleService").finish_non_exhaustive()
    }
}

impl ConsoleService {
    /// The console over `cloudwatch`, whose store `/metrics` renders.
    pub fn new(cloudwatch: CloudWatch) -> Self {
        Self::with_metrics(move || freshet_cloudwatch::prometheus::render(&cloudwatch.store))
    }

    /// The console with `/metrics` rendered by `render` (tests, or a server without the
    /// CloudWatch store).
    pub fn with_metrics(render: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            metrics: Arc::new(render),
        }
    }

    /// The answer to a `GET`/`HEAD` of `path` with the request's `If-None-Match` and
    /// `Accept-Encoding`. Pure apart from rendering `/metrics`.
    pub fn page(
        &self,
        path: &str,
        if_none_match: Option<&str>,
        accept_encoding: Option<&str>,
    ) -> Response {
        match path {
            "/metrics" => text(200, PROMETHEUS_CONTENT_TYPE, (self.metrics)().into())
                .with_header("cache-control", "no-store"),
            "/" | "/console" | "/console/" => asset("index.html", if_none_match, accept_encoding),
            _ => match path.strip_prefix("/console/") {
                Some(name) => asset(name, if_none_match, accept_encoding),
                None => not_found(path),
            },
        }
    }
}

impl Service for ConsoleService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        let resp = self.page(
            &req.path,
            req.header("if-none-match"),
            req.header("accept-encoding"),
        );
        Box::pin(std::future::ready(resp))
    }
}

/// The embedded asset `name`, or a 304 when the client's copy is current.
fn asset(name: &str, if_none_match: Option<&str>, accept_encoding: Option<&str>) -> Response {
    let Some(a) = assets::get(name) else {
        return not_found(name);
    };
    let current = if_none_match.is_some_and(|tags| {
        tags.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == a.etag || t == "*")
    });
    let gzip = a
        .gzip
        .as_ref()
        .filter(|_| accept_encoding.is_some_and(accepts_gzip));
    let (status, body) = match (current, gzip) {
        (true, _) => (304, Bytes::new()),
        (false, Some(g)) => (200, g.clone()),
        (false, None) => (200, a.bytes.clone()),
    };
    let mut resp = text(status, a.content_type, body)
        .with_header("etag", &a.etag)
        // Names carry no version: revalidate every time (a cheap 304) so an upgraded binary's
        // console is never mixed with cached modules of the old one.
        .with_header("cache-control", "no-cache")
        .with_header("vary", "Accept-Encoding");
    if gzip.is_some() && !current {
        resp = resp.with_header("content-encoding", "gzip");
    }
    if a.name == "index.html" {
        resp = resp.with_header(
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        );
    }
    resp
}

/// `Accept-Encoding` allows gzip (`gzip`, `gzip;q=0.5`, not `gzip;q=0`).
fn accepts_gzip(header: &str) -> bool {
    header.split(',').any(|part| {
        let mut it = part.split(';').map(str::trim);
        let coding = it.next().unwrap_or("");
        let q_zero = it.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

fn not_found(what: &str) -> Response {
    let body = format!("Not found: {what}\n");
    text(404, "text/plain; charset=utf-8", body.into())
}

fn text(status: u16, content_type: &'static str, body: Bytes) -> Response {
    Response {
        status,
        content_type: Cow::Borrowed(content_type),
        headers: vec![(Cow::Borrowed("x-content-type-options"), "nosniff".into())],
        body,
        error_code: None,
        events: None,
    }
}

trait WithHeader {
    fn with_header(self, name: &'static str, value: &str) -> Self;
}

impl WithHeader for Response {
    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((Cow::Borrowed(name), value.to_owned()));
        self
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, Method};
    use proptest::prelude::*;

    use super::*;

    fn console() -> ConsoleService {
        ConsoleService::with_metrics(|| "# TYPE x gauge\nx 1\n".to_owned())
    }

    fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_root_and_the_console_path_serve_the_console_page() {
        for path in ["/", "/console", "/console/", "/console/index.html"] {
            let r = console().page(path, None, None);
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.content_type, "text/html; charset=utf-8");
            let body = std::str::from_utf8(&r.body).expect("utf8");
            assert!(body.contains("/console/app.js"), "{path}");
            assert!(header(&r, "content-security-policy").is_some());
        }
    }

    #[test]
    fn assets_carry_their_type_an_etag_and_a_revalidation_policy() {
        let r = console().page("/console/app.js", None, None);
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "text/javascript; charset=utf-8");
        assert_eq!(header(&r, "cache-control"), Some("no-cache"));
        assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
        assert!(header(&r, "content-encoding").is_none());
        let etag = header(&r, "etag").expect("etag").to_owned();
        let again = console().page("/console/app.js", Some(&etag), None);
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        let stale = console().page("/console/app.js", Some("\"0\""), None);
        assert_eq!(stale.status, 200);
    }

    #[test]
    fn gzip_is_served_only_to_clients_that_accept_it() {
        let plain = console().page("/console/vendor/uPlot.iife.min.js", None, None);
        let gz = console().page(
            "/console/vendor/uPlot.iife.min.js",
            None,
            Some("gzip, deflate, br"),
        );
        assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
        assert!(gz.body.len() < plain.body.len());
        let refused = console().page("/console/vendor/uPlot.iife.min.js", None, Some("gzip;q=0"));
        assert!(header(&refused, "content-encoding").is_none());
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(!accepts_gzip("br"));
    }

    #[test]
    fn unknown_assets_are_not_found() {
        for path in ["/console/nope.js", "/console/../Cargo.toml", "/elsewhere"] {
            assert_eq!(console().page(path, None, None).status, 404, "{path}");
        }
    }

    #[test]
    fn metrics_are_prometheus_text_and_never_cached() {
        let r = console().page("/metrics", None, Some("gzip"));
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, PROMETHEUS_CONTENT_TYPE);
        assert!(r.content_type.starts_with("text/plain; version=0.0.4"));
        assert_eq!(&r.body[..], b"# TYPE x gauge\nx 1\n");
        assert_eq!(header(&r, "cache-control"), Some("no-store"));
    }

    #[tokio::test]
    async fn the_service_answers_requests_routed_to_it() {
        let req = ApiRequest {
            protocol: freshet_protocol::Protocol::RestJson,
            operation: String::new(),
            method: Method::GET,
            path: "/console/style.css".into(),
            query: None,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            params: Vec::new(),
            request_id: "r".into(),
        };
        let r = console().call(req).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "text/css; charset=utf-8");
        assert!(matches!(&INFO.routes[..], [Route::Web { .. }]));
    }

    proptest! {
        #[test]
        fn no_path_or_header_panics(
            path in "/[ -~]{0,60}",
            inm in proptest::option::of("[ -~]{0,40}"),
            ae in proptest::option::of("[ -~]{0,40}"),
        ) {
            let r = console().page(&path, inm.as_deref(), ae.as_deref());
            prop_assert!(matches!(r.status, 200 | 304 | 404));
        }
    }
}
