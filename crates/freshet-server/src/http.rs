// SPDX-License-Identifier: Apache-2.0
//! The HTTP front door: connections (HTTP/1.1 and h2c prior knowledge on the plain port, HTTPS
//! with ALPN `h2`/`http/1.1` on the optional TLS port), body limits and timeouts, request ids,
//! CORS and `/health`; everything else goes to the service the [`Router`] picks.
//!
//! Slow or hostile clients cannot stall the server:
//! - a connection must send its first bytes within `server.header_read_timeout`, and hyper
//!   holds every request head to the same limit;
//! - body memory comes from one budget (`server.max_in_flight`), reserved **as bytes arrive**,
//!   never from the declared `Content-Length`, so a client that announces 16 MiB and sends one
//!   byte holds one byte;
//! - every gap between two pieces of a body is bounded by `server.body_read_timeout`: a body
//!   that stops short of its length is answered 408 and its memory released;
//! - a request waiting for budget waits at most that long too, then is answered 503 (which
//!   SDKs retry), so partly-read bodies can never deadlock the budget.

mod body;
mod idle;
mod streamed;

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use freshet_protocol::query::{QueryError, parse_form};
use freshet_protocol::router::Head;
use freshet_protocol::{
    ApiError, ApiRequest, Health, Protocol, Response as ApiResponse, ResponseBody, Router, Routing,
    StreamRequest, StreamResponse,
};
use futures_util::stream::{self, BoxStream, StreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use self::body::{BodyError, read_body};

/// What request handlers share.
pub(crate) struct State {
    pub router: Router,
    /// `server.max_body_size`: the body limit of services that set none of their own.
    pub max_body: u64,
    /// Request-body memory budget, one permit per byte.
    pub in_flight: Arc<Semaphore>,
    /// The whole budget (`server.max_in_flight`): no body can be larger.
    pub in_flight_total: u64,
    /// Longest gap between two pieces of a request body (and longest wait for budget).
    pub body_read_timeout: Duration,
    /// Longest a new connection may stay silent, and a request head may take.
    pub header_read_timeout: Duration,
    /// Turns true at shutdown; ends event streams (SubscribeToShard) at once, so graceful
    /// shutdown does not wait for them.
    pub stop: watch::Receiver<bool>,
}

/// A streamed response body: event-stream messages or a streaming service's body, sent as
/// the client reads them. An error aborts the response (the client sees a short body).
type EventBody =
    StreamBody<BoxStream<'static, Result<Frame<Bytes>, freshet_protocol::stream::ResponseError>>>;
type Body = Either<Full<Bytes>, EventBody>;

fn full(b: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(b.into()))
}

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a listener's connections speak below HTTP.
#[derive(Clone)]
pub(crate) enum Transport {
    /// Plain TCP: HTTP/1.1, or HTTP/2 with prior knowledge (h2c).
    Plain,
    /// TLS, with ALPN choosing HTTP/2 or HTTP/1.1.
    Tls(TlsAcceptor),
}

/// Accepts connections until `stop` turns true, then waits up to `grace` for open
/// connections to finish their requests.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(state.header_read_timeout);
    builder
        .http2()
        .max_concurrent_streams(1024)
        .timer(TokioTimer::new());
    let builder = Arc::new(builder);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "Accept failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // Watch before the handshake, so shutdown also waits for (and bounds)
                // connections still negotiating TLS.
                let watcher = graceful.watcher();
                tokio::spawn(connection(
                    stream,
                    peer,
                    transport.clone(),
                    builder.clone(),
                    state.clone(),
                    watcher,
                ));
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(grace) => {
            tracing::warn!("Connections still open after the shutdown grace period; closing them.");
        }
    }
}

/// One accepted connection: the TLS handshake when the port has one (bounded by
/// [`TLS_HANDSHAKE_TIMEOUT`]), then HTTP.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    builder: Arc<auto::Builder<TokioExecutor>>,
    state: Arc<State>,
    watcher: Watcher,
) {
    match transport {
        Transport::Plain => serve_connection(stream, &builder, watcher, state, peer).await,
        Transport::Tls(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_connection(tls, &builder, watcher, state, peer).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed."),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out."),
            }
        }
    }
}

/// Serves HTTP/1.1 or HTTP/2 (detected from the first bytes) on one connection of any
/// transport until it closes or graceful shutdown ends it.
async fn serve_connection<IO>(
    io: IO,
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
    state: Arc<State>,
    peer: SocketAddr,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // hyper waits for the first bytes (to tell HTTP/1.1 from h2c) without a timeout.
    let io = idle::FirstByteDeadline::new(io, state.header_read_timeout);
    let svc = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(route(&state, req).await) }
    });
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(io), svc)
        .into_owned();
    if let Err(error) = watcher.watch(conn).await {
        tracing::debug!(%peer, %error, "Connection ended with an error.");
    }
}

async fn route(state: &State, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let origin = req.headers().get(http::header::ORIGIN).cloned();
    let (id, request_id) = new_request_id();
    let mut resp = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => health(state),
        (&Method::OPTIONS, _) if origin.is_some() => preflight(req.headers()),
        _ => api_call(state, req, &request_id, started).await,
    };
    add_request_ids(resp.headers_mut(), &id, &request_id);
    if origin.is_some() {
        let h = resp.headers_mut();
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert(
            "access-control-expose-headers",
            HeaderValue::from_static(
                "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date",
            ),
        );
    }
    resp
}

async fn api_call(
    state: &State,
    req: Request<Incoming>,
    request_id: &str,
    started: Instant,
) -> Response<Body> {
    let (parts, incoming) = req.into_parts();
    let head = Head {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    let routing = state.router.route(&head);
    // Errors raised before a service decodes the body answer in CBOR unless the request was
    // JSON, as AWS does for Kinesis; services with one protocol answer in it.
    let early = match &routing {
        Routing::To { protocol, .. } => *protocol,
        _ => head
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(Protocol::of_target_content_type)
            .unwrap_or(Protocol::Cbor11),
    };
    let (service, protocol, operation, params) = match routing {
        Routing::Stream { service } => {
            return call_stream(state, service, parts, incoming, request_id, started).await;
        }
        Routing::Unrecognized => return api_response(freshet_kinesis::api::access_denied(), None),
        Routing::NotServed(n) => return api_response(n.response(&served(state)), None),
        Routing::To {
            service,
            protocol,
            operation,
        } => (service, protocol, operation, Vec::new()),
        Routing::UnsupportedContentType { service, target } => {
            let body = match read(state, &head, incoming, early, None).await {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            let svc = &state.router.services()[service];
            let content_type = head
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            return api_response(
                svc.unsupported_content_type(&target, content_type, &body),
                None,
            );
        }
        Routing::Form => {
            let body = match read(state, &head, incoming, Protocol::Query, None).await {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            let params = match query_params(head.query, &head, &body) {
                Ok(p) => p,
                Err(e) => return api_response(query_codec_error(&e), None),
            };
            match state.router.route_query(&head, &params) {
                Routing::To {
                    service,
                    protocol,
                    operation,
                } => {
                    let req = api_request(parts, protocol, operation, body, params, request_id);
                    return call(state, service, req, started).await;
                }
                Routing::NotServed(n) => {
                    return api_response(n.response(&served(state)), None);
                }
                _ => return api_response(freshet_kinesis::api::access_denied(), None),
            }
        }
    };
    let body = match read(state, &head, incoming, early, Some(service)).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let req = api_request(parts, protocol, operation, body, params, request_id);
    call(state, service, req, started).await
}

/// The request a service is called with. The head is moved, not copied: cloning the header
/// map (its buckets and every value) was a measurable share of a single-record put.
fn api_request(
    parts: http::request::Parts,
    protocol: Protocol,
    operation: String,
    body: Bytes,
    params: Vec<(String, String)>,
    request_id: &str,
) -> ApiRequest {
    ApiRequest {
        protocol,
        operation,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        method: parts.method,
        headers: parts.headers,
        body,
        params,
        request_id: request_id.to_owned(),
    }
}

async fn call(state: &State, service: usize, req: ApiRequest, started: Instant) -> Response<Body> {
    let svc = &state.router.services()[service];
    // Only kept for the debug line below; most servers run without it.
    let op = tracing::enabled!(tracing::Level::DEBUG).then(|| req.operation.clone());
    let resp = svc.call(req).await;
    if let Some(op) = op {
        tracing::debug!(
            service = svc.info().signing_name,
            op,
            status = resp.status,
            error = resp.error_code.unwrap_or(""),
            micros = started.elapsed().as_micros() as u64,
            "Request handled."
        );
    }
    api_response(resp, Some(state.stop.clone()))
}

/// Calls a streaming service with the body still arriving, guarded by the gap timeout and the
/// service's limit (a declared length over the limit is refused before any byte is read).
async fn call_stream(
    state: &State,
    service: usize,
    parts: http::request::Parts,
    incoming: Incoming,
    request_id: &str,
    started: Instant,
) -> Response<Body> {
    let svc = &state.router.services()[service];
    let max = svc.max_body().unwrap_or(state.max_body);
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|d| d > max) {
        let head = Head {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
        };
        return match svc.body_too_large(&head, max) {
            Some(answer) => api_response(answer, None),
            None => body_error(BodyError::TooLarge { max }, Protocol::RestXml),
        };
    }
    let req = StreamRequest {
        method: parts.method,
        uri: parts.uri,
        version: parts.version,
        headers: parts.headers,
        body: streamed::guarded(incoming, max, state.body_read_timeout),
        request_id: request_id.to_owned(),
    };
    let method = tracing::enabled!(tracing::Level::DEBUG).then(|| req.method.clone());
    let resp = svc.call_stream(req).await;
    if let Some(method) = method {
        tracing::debug!(
            service = svc.info().signing_name,
            %method,
            status = resp.status,
            micros = started.elapsed().as_micros() as u64,
            "Streamed request handled."
        );
    }
    stream_response(resp)
}

/// The HTTP response for a streaming service's answer.
fn stream_response(r: StreamResponse) -> Response<Body> {
    let body = match r.body {
        ResponseBody::Full(b) => full(b),
        ResponseBody::Stream(s) => {
            Either::Right(StreamBody::new(s.map(|r| r.map(Frame::data)).boxed()))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *resp.headers_mut() = r.headers;
    resp
}

/// Reads the whole body within the budget and timeouts, or the error response.
async fn read(
    state: &State,
    head: &Head<'_>,
    incoming: Incoming,
    protocol: Protocol,
    service: Option<usize>,
) -> Result<Bytes, Response<Body>> {
    let svc = service.map(|i| &state.router.services()[i]);
    // A service's own limit, never above the budget (a body larger than the budget could
    // never be admitted, so it is refused at once instead of waiting for budget).
    let max = svc
        .and_then(|s| s.max_body())
        .map_or(state.max_body, |m| m.min(state.in_flight_total));
    let declared = head
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limits = body::Limits {
        max,
        gap: state.body_read_timeout,
    };
    match read_body(incoming, declared, &state.in_flight, limits).await {
        // RPC and Query bodies may come gzipped (the models' requestcompression trait); REST
        // services (S3's aws-chunked) read Content-Encoding themselves.
        Ok(b) if !matches!(protocol, Protocol::RestJson | Protocol::RestXml) => {
            let coding = head
                .headers
                .get(http::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok());
            match freshet_protocol::encoding::decode_body(coding, b, max) {
                Ok(b) => Ok(b),
                Err(freshet_protocol::encoding::DecodeError::TooLarge { max }) => {
                    Err(body_error(BodyError::TooLarge { max }, protocol))
                }
                Err(e) => {
                    let e = ApiError::serialization(Some(e.to_string()));
                    // As for other body errors: Query clients read a JSON error body too.
                    let protocol = if protocol == Protocol::Query {
                        Protocol::Json11
                    } else {
                        protocol
                    };
                    Err(api_response(ApiResponse::error_in(&e, protocol), None))
                }
            }
        }
        Ok(b) => Ok(b),
        Err(BodyError::TooLarge { max }) => match svc.and_then(|s| s.body_too_large(head, max)) {
            Some(answer) => Err(api_response(answer, None)),
            None => Err(body_error(BodyError::TooLarge { max }, protocol)),
        },
        Err(e) => Err(body_error(e, protocol)),
    }
}

/// The Query parameters: the form body of a POST, else the URL's query string.
fn query_params(
    query: Option<&str>,
    head: &Head<'_>,
    body: &[u8],
) -> Result<Vec<(String, String)>, QueryError> {
    let form_body = head.method == Method::POST
        && head
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with(freshet_protocol::FORM));
    let source: &[u8] = if form_body {
        body
    } else {
        query.unwrap_or("").as_bytes()
    };
    parse_form(source)
}

/// A form the Query codec cannot read, answered before any service is chosen.
fn query_codec_error(e: &QueryError) -> ApiResponse {
    let mut r = ApiResponse::ok(Protocol::Query, Bytes::new());
    r.status = e.status();
    r.error_code = Some(e.code());
    r.body = Bytes::from(format!(
        "<ErrorResponse><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error>\
         <RequestId></RequestId></ErrorResponse>",
        e.fault().as_str(),
        e.code(),
        xml_text(&e.message())
    ));
    r
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The signing names of the AWS services served (the web pages are not one).
fn served(state: &State) -> Vec<&'static str> {
    state
        .router
        .services()
        .iter()
        .filter(|s| {
            s.info()
                .routes
                .iter()
                .any(|r| !matches!(r, freshet_protocol::Route::Web { .. }))
        })
        .map(|s| s.info().signing_name)
        .collect()
}

fn body_error(e: BodyError, protocol: Protocol) -> Response<Body> {
    let e = match e {
        BodyError::TooLarge { max } => {
            let mut e = ApiError::serialization(Some(format!(
                "Request body is larger than the limit of {max} bytes."
            )));
            e.status = 413;
            e
        }
        BodyError::Stalled {
            gap,
            received,
            declared,
        } => ApiError::new(
            "RequestTimeoutException",
            408,
            match declared {
                Some(d) => format!(
                    "The request body stopped arriving: nothing for {gap:?} after {received} of \
                     its {d} bytes."
                ),
                None => format!(
                    "The request body stopped arriving: nothing for {gap:?} after {received} bytes."
                ),
            },
        ),
        BodyError::NoMemory { waited } => ApiError::new(
            "ServiceUnavailableException",
            503,
            format!(
                "The server is holding as many request bodies in memory as it may \
                 (server.max_in_flight) and none was released within {waited:?}; retry."
            ),
        ),
        BodyError::Broken(error) => {
            tracing::debug!(%error, "Reading the request body failed.");
            ApiError::serialization(Some("The request body could not be read.".to_owned()))
        }
    };
    let protocol = if matches!(protocol, Protocol::Query | Protocol::RestXml) {
        Protocol::Json11
    } else {
        protocol
    };
    api_response(ApiResponse::error_in(&e, protocol), None)
}

/// The HTTP response for an API response. An event stream's messages follow its body until
/// the stream ends or `stop` turns true.
fn api_response(r: ApiResponse, stop: Option<watch::Receiver<bool>>) -> Response<Body> {
    let body = match (r.events, stop) {
        (Some(events), Some(mut stop)) => {
            let stopped = async move {
                // Either shutdown began or the server is gone: end the stream in both cases.
                let _ = stop.wait_for(|s| *s).await;
            };
            let frames = stream::once(std::future::ready(r.body))
                .chain(events.0)
                .take_until(stopped)
                .map(|b| Ok(Frame::data(b)));
            Either::Right(StreamBody::new(frames.boxed()))
        }
        _ => full(r.body),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    let content_type = match r.content_type {
        // The usual case (a protocol's type): no copy. A static type is valid by construction.
        Cow::Borrowed(t) => static_value(t),
        Cow::Owned(t) => HeaderValue::from_str(&t).ok(),
    };
    if let Some(v) = content_type {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    if let Some(code) = r.error_code {
        h.insert(X_AMZN_ERROR_TYPE.clone(), HeaderValue::from_static(code));
    }
    for (name, value) in r.headers {
        // Names may come from a service model (REST `location: header`, any case): parsed,
        // never `from_static`, which panics on upper case.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.append(n, v);
        }
    }
    resp
}

/// A header value from a static string without copying it; `None` for text a header cannot
/// carry (what `from_static` would panic on).
fn static_value(t: &'static str) -> Option<HeaderValue> {
    t.bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then(|| HeaderValue::from_static(t))
}

/// A request id: a random UUID from the thread-local generator (a `getrandom` syscall per
/// response showed up in profiles of single-record puts), and its text.
fn new_request_id() -> (uuid::Uuid, String) {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text).to_owned();
    (id, text)
}

// Response header names set on every answer: built once, so a response hashes them but never
// parses them (`insert("name", ..)` parses the text each time).
static X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
static X_AMZ_ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
static X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// `x-amzn-RequestId` (the UUID) and `x-amz-id-2`, which SDKs log and surface as request ids.
fn add_request_ids(h: &mut HeaderMap, id: &uuid::Uuid, text: &str) {
    if let Ok(v) = HeaderValue::from_str(text) {
        h.insert(X_AMZN_REQUEST_ID.clone(), v);
    }
    // 64 bytes encode to 88 base64 characters.
    let mut id2 = [0u8; 88];
    let raw = [*id.as_bytes(); 4];
    if let Ok(n) = STANDARD.encode_slice(raw.as_flattened(), &mut id2)
        && let Ok(v) = HeaderValue::from_bytes(&id2[..n])
    {
        h.insert(X_AMZ_ID_2.clone(), v);
    }
}

fn preflight(req: &HeaderMap) -> Response<Body> {
    let mut resp = Response::new(full(Bytes::new()));
    let h = resp.headers_mut();
    if let Some(v) = req.get("access-control-request-headers") {
        h.insert("access-control-allow-headers", v.clone());
    }
    if let Some(v) = req.get("access-control-request-method") {
        h.insert("access-control-allow-methods", v.clone());
    }
    h.insert("access-control-max-age", HeaderValue::from_static("172800"));
    resp
}

fn health(state: &State) -> Response<Body> {
    let mut services = serde_json::Map::new();
    let mut reasons = Vec::new();
    for s in state.router.services() {
        let name = s.info().signing_name;
        match s.health() {
            Health::Ok => {
                services.insert(name.to_owned(), "ok".into());
            }
            Health::Degraded(reason) => {
                services.insert(name.to_owned(), "degraded".into());
                reasons.push(format!("{name}: {reason}"));
            }
        }
    }
    let healthy = reasons.is_empty();
    let mut body = serde_json::json!({
        "status": if healthy { "ok" } else { "degraded" },
        "services": services,
    });
    if !healthy {
        body["reason"] = reasons.join("; ").into();
    }
    let mut resp = Response::new(full(body.to_string()));
    if !healthy {
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_aws_ones_and_differ() {
        let mut a = HeaderMap::new();
        let mut b = HeaderMap::new();
        let ((ida, texta), (idb, textb)) = (new_request_id(), new_request_id());
        add_request_ids(&mut a, &ida, &texta);
        add_request_ids(&mut b, &idb, &textb);
        let id = |h: &HeaderMap, name: &str| h[name].to_str().expect("ascii").to_owned();
        let parsed = uuid::Uuid::parse_str(&id(&a, "x-amzn-requestid")).expect("a UUID");
        assert_eq!(parsed.get_version(), Some(uuid::Version::Random));
        assert_eq!(id(&a, "x-amzn-requestid"), parsed.hyphenated().to_string());
        let id2 = STANDARD.decode(id(&a, "x-amz-id-2")).expect("base64");
        assert_eq!(id2.len(), 64);
        assert_eq!(&id2[..16], parsed.as_bytes());
        assert_ne!(id(&a, "x-amzn-requestid"), id(&b, "x-amzn-requestid"));
    }

    #[test]
    fn rest_responses_keep_model_cased_headers_and_error_types_without_panicking() {
        let mut r = ApiResponse::ok(Protocol::RestJson, Bytes::new());
        r.headers
            .push(("X-Amz-Function-Error".into(), "Unhandled".to_owned()));
        r.headers.push(("bad header".into(), "dropped".to_owned()));
        let resp = api_response(r, None);
        assert_eq!(resp.headers()["x-amz-function-error"], "Unhandled");
        assert_eq!(resp.headers().len(), 2, "{:?}", resp.headers());
        let e = ApiError::new("ResourceNotFoundException", 404, "Function not found: f");
        let resp = api_response(ApiResponse::error_in(&e, Protocol::RestJson), None);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            resp.headers()["x-amzn-errortype"],
            "ResourceNotFoundException"
        );
        assert_eq!(resp.headers()["content-type"], "application/json");
    }

    #[test]
    fn body_limits_answer_rest_json_clients_in_their_envelope() {
        let resp = body_error(BodyError::TooLarge { max: 10 }, Protocol::RestJson);
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(resp.headers()["x-amzn-errortype"], "SerializationException");
    }
}
