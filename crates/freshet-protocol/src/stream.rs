// SPDX-License-Identifier: Apache-2.0
//! Streamed requests and responses, for services whose bodies do not fit in memory (S3
//! objects of GiBs).
//!
//! A service that claims a [`crate::Route::Streaming`] route is called with
//! [`Service::call_stream`](crate::Service::call_stream) instead of `call`: it gets the
//! request head and a [`RequestBody`] stream that the front door still guards (the gap
//! between two pieces is bounded by `server.body_read_timeout`, the total by the service's
//! [`max_body`](crate::Service::max_body)), and answers with a [`StreamResponse`] whose body
//! may be a stream too. No part of the shared body budget is reserved: the body is pulled as
//! the service consumes it, so a slow consumer slows the client (back pressure) and memory
//! stays bounded by what the service buffers.
//!
//! Invariants the front door keeps: a guarded stream ends with exactly one error item when a
//! limit is hit (then yields nothing more), and never yields more than the limit in total.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use http::{HeaderMap, Method, Uri, Version};

/// Why a streamed request body ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Nothing arrived for `gap`.
    #[error("the request body stopped arriving: nothing for {gap:?} after {received} bytes")]
    Stalled {
        /// The gap timeout (`server.body_read_timeout`).
        gap: Duration,
        /// Bytes received before the stall.
        received: u64,
    },
    /// More than the service's limit arrived.
    #[error("the request body is larger than the limit of {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The connection failed (reset, protocol error).
    #[error("the request body could not be read: {0}")]
    Broken(String),
}

/// A guarded request body: pieces as they arrive, or the one error that ended it.
pub type RequestBody = BoxStream<'static, Result<Bytes, BodyError>>;

/// An error while producing a response body (a read that failed mid-object); the front door
/// aborts the connection, so the client sees a short body, never wrong bytes.
pub type ResponseError = std::io::Error;

/// One streamed request.
pub struct StreamRequest {
    /// HTTP method.
    pub method: Method,
    /// The request URI as received (path and query, percent-encoded).
    pub uri: Uri,
    /// HTTP version (SigV4 needs it to find the `host` of HTTP/2 requests).
    pub version: Version,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body, guarded by the front door.
    pub body: RequestBody,
    /// The request id the front door answers under (`x-amzn-RequestId`), for services that
    /// repeat it in their own header or body (S3's `x-amz-request-id`).
    pub request_id: String,
}

impl std::fmt::Debug for StreamRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The body of a [`StreamResponse`].
pub enum ResponseBody {
    /// All of it, in memory (errors, XML listings).
    Full(Bytes),
    /// Pieces produced as the client reads them. The length, when known, belongs in the
    /// `Content-Length` header.
    Stream(BoxStream<'static, Result<Bytes, ResponseError>>),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Full(b) => write!(f, "Full({} bytes)", b.len()),
            ResponseBody::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

/// A service's answer to a [`StreamRequest`]. The front door adds request ids and CORS.
#[derive(Debug)]
pub struct StreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, content type included.
    pub headers: HeaderMap,
    /// The body.
    pub body: ResponseBody,
}

impl StreamResponse {
    /// A whole-body answer.
    pub fn full(status: u16, headers: HeaderMap, body: impl Into<Bytes>) -> StreamResponse {
        StreamResponse {
            status,
            headers,
            body: ResponseBody::Full(body.into()),
        }
    }
}
