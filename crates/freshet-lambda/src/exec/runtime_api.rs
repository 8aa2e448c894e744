// SPDX-License-Identifier: Apache-2.0
//! The Lambda Runtime API (`/2018-06-01/runtime/...`) for ONE execution environment, on its
//! own listener on 127.0.0.1 (port 0): runtime clients use fixed paths, so the listener is
//! what tells environments apart. Never served on the public endpoint.
//!
//! The environment hands invocations in through [`RuntimeApi::deliver`]; `GET
//! invocation/next` takes them out one at a time. What the runtime posts (response, error,
//! init error) comes back as [`RuntimeEvent`]s. Invariants: at most one invocation is in
//! flight; an invocation is answered at most once (a second answer gets 403, an unknown id
//! 400); bodies are read up to [`MAX_RESPONSE_BYTES`] and no further (413).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::exec::format::MAX_RESPONSE_BYTES;

/// An invocation waiting for the runtime's `next` call.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The request id.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// The ARN the caller invoked.
    pub invoked_arn: String,
    /// Client context JSON, if any.
    pub client_context: Option<String>,
    /// The invocation timeout; the deadline is computed when the runtime takes the event.
    pub timeout: Duration,
}

/// What the runtime told the Runtime API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeEvent {
    /// The runtime asked for its next invocation (init is over).
    Next,
    /// `invocation/{id}/response`.
    Response {
        /// The request id.
        request_id: String,
        /// The body as posted.
        body: Bytes,
    },
    /// `invocation/{id}/error`.
    Error {
        /// The request id.
        request_id: String,
        /// `Lambda-Runtime-Function-Error-Type`, else the body's `errorType`.
        error_type: Option<String>,
        /// The body as posted.
        body: Bytes,
    },
    /// A response or error body over the limit.
    TooLarge {
        /// The request id.
        request_id: String,
    },
    /// `init/error`.
    InitError {
        /// The error type, from the header or the body.
        error_type: Option<String>,
        /// The body as posted.
        body: Bytes,
    },
}

#[derive(Default)]
struct InFlight {
    /// The invocation the runtime took with its last `next`.
    current: Option<String>,
    answered: bool,
    initialized: bool,
}

struct Shared {
    next_rx: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    events: mpsc::Sender<RuntimeEvent>,
    state: Mutex<InFlight>,
}

/// One environment's Runtime API: its address, the way in for invocations and the way out
/// for what the runtime posts. Dropping it stops the listener and its connections.
pub struct RuntimeApi {
    addr: SocketAddr,
    deliver: mpsc::Sender<Delivery>,
    /// What the runtime posted, in order.
    pub events: mpsc::Receiver<RuntimeEvent>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1:0 and starts serving.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (deliver, next_rx) = mpsc::channel(1);
        let (events_tx, events) = mpsc::channel(64);
        let shared = Arc::new(Shared {
            next_rx: tokio::sync::Mutex::new(next_rx),
            events: events_tx,
            state: Mutex::new(InFlight::default()),
        });
        let server = tokio::spawn(serve(listener, shared));
        Ok(RuntimeApi {
            addr,
            deliver,
            events,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation for the runtime's next `next` call. Fails when one is already
    /// queued (one invocation in flight per environment) or the API is gone.
    pub fn deliver(&self, d: Delivery) -> Result<(), Delivery> {
        self.deliver.try_send(d).map_err(|e| match e {
            mpsc::error::TrySendError::Full(d) | mpsc::error::TrySendError::Closed(d) => d,
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in this set: aborting the accept task drops them all.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

const PREFIX: &str = "/2018-06-01/runtime/";

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (req.method(), parts.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(&shared).await,
        (&Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let id = (*id).to_owned();
            let is_error = *kind == "error";
            answer(&shared, req, id, is_error).await
        }
        (&Method::POST, ["init", "error"]) => init_error(&shared, req).await,
        (_, ["invocation", "next"]) | (_, ["invocation", _, "response" | "error"]) => {
            text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    // Concurrent `next` calls queue here: one invocation in flight per environment.
    let mut rx = shared.next_rx.lock().await;
    if let Ok(mut st) = shared.state.lock() {
        st.initialized = true;
    }
    let _ = shared.events.try_send(RuntimeEvent::Next);
    let Some(d) = rx.recv().await else {
        return error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Runtime.ExitError",
            "The execution environment is shutting down",
        );
    };
    if let Ok(mut st) = shared.state.lock() {
        st.current = Some(d.request_id.clone());
        st.answered = false;
    }
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let deadline = now_ms + d.timeout.as_millis();
    let mut resp = Response::new(Full::new(d.payload));
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    put(h, "lambda-runtime-aws-request-id", &d.request_id);
    put(h, "lambda-runtime-deadline-ms", &deadline.to_string());
    put(h, "lambda-runtime-invoked-function-arn", &d.invoked_arn);
    put(h, "lambda-runtime-trace-id", &trace_id(now_ms));
    if let Some(cc) = &d.client_context {
        put(h, "lambda-runtime-client-context", cc);
    }
    resp
}

fn put(h: &mut http::HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// An X-Ray trace header (`Root=1-<8 hex seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`), so
/// runtimes that forward it to `_X_AMZN_TRACE_ID` see a well-formed value.
fn trace_id(now_ms: u128) -> String {
    let r = uuid::Uuid::new_v4().simple().to_string();
    let p = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        now_ms / 1000,
        r.get(..24).unwrap_or(&r),
        p.get(..16).unwrap_or(&p)
    )
}

async fn answer(
    shared: &Shared,
    req: Request<Incoming>,
    id: String,
    is_error: bool,
) -> Response<Full<Bytes>> {
    {
        let Ok(st) = shared.state.lock() else {
            return error_json(StatusCode::INTERNAL_SERVER_ERROR, "Internal", "poisoned");
        };
        if st.current.as_deref() != Some(id.as_str()) {
            return error_json(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            );
        }
        if st.answered {
            return error_json(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                "Invocation has already been answered",
            );
        }
    }
    let header_type = header_error_type(&req);
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(BodyTooLarge) => {
            mark_answered(shared);
            let _ = shared
                .events
                .try_send(RuntimeEvent::TooLarge { request_id: id });
            return error_json(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
            );
        }
    };
    if !mark_answered(shared) {
        return error_json(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "Invocation has already been answered",
        );
    }
    let event = if is_error {
        RuntimeEvent::Error {
            request_id: id,
            error_type: header_type.or_else(|| body_error_type(&body)),
            body,
        }
    } else {
        RuntimeEvent::Response {
            request_id: id,
            body,
        }
    };
    let _ = shared.events.try_send(event);
    accepted()
}

/// Marks the current invocation answered; false when it already was.
fn mark_answered(shared: &Shared) -> bool {
    match shared.state.lock() {
        Ok(mut st) if !st.answered => {
            st.answered = true;
            true
        }
        _ => false,
    }
}

async fn init_error(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let initialized = shared.state.lock().map(|s| s.initialized).unwrap_or(true);
    if initialized {
        return error_json(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "Init has already completed",
        );
    }
    let header_type = header_error_type(&req);
    let Ok(body) = read_body(req).await else {
        return error_json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
        );
    };
    let error_type = header_type.or_else(|| body_error_type(&body));
    let _ = shared
        .events
        .try_send(RuntimeEvent::InitError { error_type, body });
    accepted()
}

fn header_error_type(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `errorType` of an error body (runtimes that send no header, like awslambdaric's).
pub fn body_error_type(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("errorType")?.as_str().map(str::to_owned)
}

struct BodyTooLarge;

async fn read_body(req: Request<Incoming>) -> Result<Bytes, BodyTooLarge> {
    let limited = Limited::new(req.into_body(), MAX_RESPONSE_BYTES);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(BodyTooLarge),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}\n")));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn error_json(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn error_type_comes_from_the_body_when_there_is_no_header() {
        assert_eq!(
            body_error_type(br#"{"errorMessage":"x","errorType":"ValueError","stackTrace":[]}"#),
            Some("ValueError".to_owned())
        );
        assert_eq!(
            body_error_type(br#"{"errorType":"Error","errorMessage":"x","trace":["Error: x"]}"#),
            Some("Error".to_owned())
        );
        assert_eq!(body_error_type(b"not json"), None);
    }

    #[test]
    fn trace_ids_are_well_formed() {
        let t = trace_id(1_700_000_000_000);
        assert!(t.starts_with("Root=1-6553f100-"), "{t}");
        assert!(t.ends_with(";Sampled=0"));
    }

    proptest! {
        #[test]
        fn body_error_type_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = body_error_type(&body);
        }
    }
}
