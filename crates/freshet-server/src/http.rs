// SPDX-License-Identifier: Apache-2.0
//! The HTTP front: connections (HTTP/1.1 and h2c prior knowledge on the plain port, HTTPS with
//! ALPN `h2`/`http/1.1` on the optional TLS port), request routing, body limits, AWS response
//! headers and CORS.
//!
//! Routing follows what AWS endpoints do: `POST` with `X-Amz-Target` is an API call in JSON
//! 1.1 or CBOR 1.1 by its content type; `GET /health` is ours; anything else gets AWS's
//! `AccessDeniedException` XML. Both ports share the accept loop, the hyper auto builder and
//! the routing; only the TLS handshake differs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use freshet_aws::{
    ApiError, CBOR_1_1, JSON_1_1, KINESIS_TARGET_PREFIX, Kinesis, Protocol, Response as ApiResponse,
};
use futures_util::stream::{self, BoxStream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// What request handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub kinesis: Kinesis,
    pub max_body: u64,
    /// Request-body memory budget, one permit per byte.
    pub in_flight: Semaphore,
    /// Turns true at shutdown; ends event streams (SubscribeToShard) at once, so graceful
    /// shutdown does not wait for them.
    pub stop: watch::Receiver<bool>,
}

/// A streamed response body: event-stream messages, sent as the client reads them.
type EventBody = StreamBody<BoxStream<'static, Result<Frame<Bytes>, Infallible>>>;
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
    builder.http1().keep_alive(true);
    builder.http2().max_concurrent_streams(1024);
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
    let mut resp = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => health(state),
        (&Method::OPTIONS, _) if origin.is_some() => preflight(req.headers()),
        (&Method::POST, _) => api_call(state, req, started).await,
        _ => access_denied(),
    };
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

async fn api_call(state: &State, req: Request<Incoming>, started: Instant) -> Response<Body> {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let protocol = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(protocol_of);
    // Errors raised before the body is decoded answer in CBOR unless the request was JSON, as
    // AWS does.
    let early = protocol.unwrap_or(Protocol::Cbor);
    let Some(target) = target else {
        return access_denied();
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body) {
        return too_large(state.max_body, early);
    }
    // Reserve the body's memory before reading it: the declared length, or the most a body
    // may be when the length is not declared (chunked). Released as soon as it is read.
    let reserve = declared.unwrap_or(state.max_body).max(1);
    let Ok(permit) = state.in_flight.acquire_many(reserve as u32).await else {
        return api_response(
            ApiResponse::error_in(&ApiError::serialization(None), early),
            None,
        );
    };
    let body = match Limited::new(req.into_body(), state.max_body as usize)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return too_large(state.max_body, early);
        }
        Err(error) => {
            tracing::debug!(%error, "Reading the request body failed.");
            return api_response(
                ApiResponse::error_in(&ApiError::serialization(None), early),
                None,
            );
        }
    };
    // The body is read: its memory budget is not held while the call runs or streams.
    drop(permit);
    let Some(protocol) = protocol else {
        return unsupported_content_type(&target, &body);
    };
    let resp = state.kinesis.handle(&target, protocol, body).await;
    let op = target.rsplit('.').next().unwrap_or("");
    tracing::debug!(
        op,
        status = resp.status,
        error = resp.error_code.unwrap_or(""),
        micros = started.elapsed().as_micros() as u64,
        "Request handled."
    );
    api_response(resp, Some(state.stop.clone()))
}

/// The protocol a `Content-Type` selects: AWS JSON 1.1 (also for plain `application/json`,
/// which AWS parses as JSON too) or CBOR 1.1.
fn protocol_of(content_type: &str) -> Option<Protocol> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(JSON_1_1) || media.eq_ignore_ascii_case("application/json") {
        Some(Protocol::Json)
    } else if media.eq_ignore_ascii_case(CBOR_1_1) {
        Some(Protocol::Cbor)
    } else {
        None
    }
}

/// A missing or unknown content type, answered as AWS does (reference §1.6): an empty body
/// gets a CBOR `UnknownOperationException`; with a body, a full Kinesis target gets 404
/// `<UnknownOperationException/>` and anything else the `AccessDeniedException` XML.
fn unsupported_content_type(target: &str, body: &[u8]) -> Response<Body> {
    if body.is_empty() {
        return api_response(
            ApiResponse::error_in(&ApiError::unknown_operation(), Protocol::Cbor),
            None,
        );
    }
    let full_target = target
        .strip_prefix(KINESIS_TARGET_PREFIX)
        .is_some_and(|op| !op.is_empty());
    if !full_target {
        return access_denied();
    }
    let mut resp = Response::new(full(Bytes::from_static(b"<UnknownOperationException/>\n")));
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("UnknownOperationException"),
    );
    add_request_ids(resp.headers_mut());
    resp
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
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    add_request_ids(h);
    if let Some(code) = r.error_code {
        h.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    resp
}

/// `x-amzn-RequestId` (a UUID) and `x-amz-id-2`, which SDKs log and surface as request ids.
///
/// The id's randomness comes from the thread-local generator, not the OS: a `getrandom`
/// syscall per response showed up in profiles of single-record puts.
fn add_request_ids(h: &mut HeaderMap) {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text);
    if let Ok(v) = HeaderValue::from_str(text) {
        h.insert("x-amzn-requestid", v);
    }
    // 64 bytes encode to 88 base64 characters.
    let mut id2 = [0u8; 88];
    let raw = [*id.as_bytes(); 4];
    if let Ok(n) = STANDARD.encode_slice(raw.as_flattened(), &mut id2)
        && let Ok(v) = HeaderValue::from_bytes(&id2[..n])
    {
        h.insert("x-amz-id-2", v);
    }
}

fn too_large(max: u64, protocol: Protocol) -> Response<Body> {
    let e = ApiError {
        code: "SerializationException",
        status: 413,
        message: Some(format!(
            "Request body is larger than the limit of {max} bytes."
        )),
    };
    api_response(ApiResponse::error_in(&e, protocol), None)
}

fn access_denied() -> Response<Body> {
    let body = "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n";
    let mut resp = Response::new(full(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    add_request_ids(resp.headers_mut());
    resp
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
    let healthy = state.kinesis.streams().healthy();
    let body = if healthy {
        r#"{"status":"ok"}"#.to_owned()
    } else {
        r#"{"status":"degraded","reason":"a shard log is read-only after a storage failure; restart the server to recover"}"#.to_owned()
    };
    let mut resp = Response::new(full(body));
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
        add_request_ids(&mut a);
        add_request_ids(&mut b);
        let id = |h: &HeaderMap, name: &str| h[name].to_str().expect("ascii").to_owned();
        let parsed = uuid::Uuid::parse_str(&id(&a, "x-amzn-requestid")).expect("a UUID");
        assert_eq!(parsed.get_version(), Some(uuid::Version::Random));
        assert_eq!(id(&a, "x-amzn-requestid"), parsed.hyphenated().to_string());
        let id2 = STANDARD.decode(id(&a, "x-amz-id-2")).expect("base64");
        assert_eq!(id2.len(), 64);
        assert_eq!(&id2[..16], parsed.as_bytes());
        assert_ne!(id(&a, "x-amzn-requestid"), id(&b, "x-amzn-requestid"));
    }
}
