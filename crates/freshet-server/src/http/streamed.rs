// SPDX-License-Identifier: Apache-2.0
//! Streamed calls ([`freshet_protocol::Route::Streaming`]): the request body handed to the
//! service as a guarded stream, the answer sent as the service produces it.
//!
//! The guard keeps the front door's promises without buffering: every gap between two pieces
//! is bounded by `server.body_read_timeout` (then the stream ends with
//! [`BodyError::Stalled`]), and the total by the service's limit (then
//! [`BodyError::TooLarge`]). Nothing is reserved from the shared body budget: the body is read
//! only as fast as the service consumes it.

use std::time::Duration;

use bytes::Bytes;
use freshet_protocol::{BodyError, RequestBody};
use futures_util::stream::{self, StreamExt};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// State of a guarded body between two pieces.
struct Guard {
    incoming: Incoming,
    received: u64,
    max: u64,
    gap: Duration,
    done: bool,
}

/// `incoming` as a stream of data pieces, ended by the first limit it breaks.
pub(crate) fn guarded(incoming: Incoming, max: u64, gap: Duration) -> RequestBody {
    let guard = Guard {
        incoming,
        received: 0,
        max,
        gap,
        done: false,
    };
    stream::unfold(guard, |mut g| async move {
        loop {
            if g.done {
                return None;
            }
            let frame = match tokio::time::timeout(g.gap, g.incoming.frame()).await {
                Err(_) => {
                    g.done = true;
                    let e = BodyError::Stalled {
                        gap: g.gap,
                        received: g.received,
                    };
                    return Some((Err(e), g));
                }
                Ok(None) => return None,
                Ok(Some(Err(e))) => {
                    g.done = true;
                    return Some((Err(BodyError::Broken(e.to_string())), g));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers of HTTP/2 requests are not data: skip them.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            g.received += data.len() as u64;
            if g.received > g.max {
                g.done = true;
                return Some((Err(BodyError::TooLarge { max: g.max }), g));
            }
            if data.is_empty() {
                continue;
            }
            return Some((Ok::<Bytes, BodyError>(data), g));
        }
    })
    .boxed()
}
