// SPDX-License-Identifier: Apache-2.0
//! Reading a request body within the shared memory budget, so that neither slow clients nor
//! concurrent large bodies can stall the server.
//!
//! Two rules together:
//!
//! - **Admission.** A body with a declared length first reserves that much of the budget,
//!   waiting its turn (FIFO) when the budget is spent. A reserved body never waits again, so
//!   concurrent large bodies cannot deadlock each other half-read.
//! - **Slow bodies hold only what they sent.** A body arriving slower than [`MIN_RATE`] (after
//!   [`GRACE`]) gives back the part of its reservation it has not received, and from then on
//!   reserves bytes as they arrive. A client that declares 16 MiB and trickles bytes holds
//!   the bytes it sent, not 16 MiB. Chunked bodies (no declared length) are read that way from
//!   the start.
//!
//! Every wait is bounded by the gap timeout: the next piece of the body (else 408), and budget
//! for it (else 503, which SDKs retry). The reservation is released once the body is read.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The slowest a body may arrive and keep its upfront reservation.
const MIN_RATE: u64 = 1024 * 1024;
/// How long a body may take before [`MIN_RATE`] applies (connection warm-up, TCP slow start).
const GRACE: Duration = Duration::from_secs(1);
/// How often a reserved body's rate is checked while nothing arrives.
const RATE_CHECK: Duration = Duration::from_millis(250);

/// The limits a body is read under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest body accepted.
    pub max: u64,
    /// Longest wait for the next piece of the body, or for budget to hold it.
    pub gap: Duration,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the limit (declared or received).
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// Nothing arrived for `gap`.
    Stalled {
        /// The gap timeout.
        gap: Duration,
        /// Bytes received before the stall.
        received: u64,
        /// The declared length, if any.
        declared: Option<u64>,
    },
    /// The budget stayed spent for `waited`.
    NoMemory {
        /// How long the request waited.
        waited: Duration,
    },
    /// The connection failed.
    Broken(hyper::Error),
}

/// Budget held by one body.
struct Reservation<'a> {
    permit: Option<SemaphorePermit<'a>>,
    /// Bytes of the permit not yet received (upfront reservation); 0 when reading as bytes
    /// arrive.
    ahead: u64,
}

impl<'a> Reservation<'a> {
    fn held(&self) -> u64 {
        self.permit.as_ref().map_or(0, |p| p.num_permits() as u64)
    }

    fn add(&mut self, p: SemaphorePermit<'a>) {
        match &mut self.permit {
            Some(held) => held.merge(p),
            None => self.permit = Some(p),
        }
    }

    /// Gives back the part reserved ahead of what arrived.
    fn release_ahead(&mut self) {
        if self.ahead == 0 {
            return;
        }
        if let Some(held) = &mut self.permit {
            let keep = held.num_permits().saturating_sub(self.ahead as usize);
            if let Some(rest) = held.split(held.num_permits() - keep) {
                drop(rest);
            }
        }
        self.ahead = 0;
    }
}

async fn acquire(
    budget: &Semaphore,
    n: u64,
    wait: Duration,
) -> Result<SemaphorePermit<'_>, BodyError> {
    // `n` <= max_body, which configuration keeps below u32::MAX permits.
    let n = u32::try_from(n).map_err(|_| BodyError::NoMemory { waited: wait })?;
    // Budget is usually there: take it without arming a timer (acquire_many's own fast path
    // takes free permits the same way, so this queues no one out).
    if let Ok(p) = budget.try_acquire_many(n) {
        return Ok(p);
    }
    match tokio::time::timeout(wait, budget.acquire_many(n)).await {
        Ok(Ok(p)) => Ok(p),
        // The budget is never closed; treat it like exhaustion if it were.
        Ok(Err(_)) | Err(_) => Err(BodyError::NoMemory { waited: wait }),
    }
}

/// Reads the whole body of a request that declared `declared` bytes (if it did).
pub(crate) async fn read_body(
    mut body: Incoming,
    declared: Option<u64>,
    budget: &Semaphore,
    limits: Limits,
) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|n| n > limits.max) {
        return Err(BodyError::TooLarge { max: limits.max });
    }
    let mut held = Reservation {
        permit: None,
        ahead: 0,
    };
    if let Some(n) = declared.filter(|n| *n > 0) {
        held.add(acquire(budget, n, limits.gap).await?);
        held.ahead = n;
    }
    let started = Instant::now();
    let mut last_piece = started;
    // Most bodies arrive as one piece: it is kept as is, and a list only starts at the second.
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<Bytes> = Vec::new();
    let mut received: u64 = 0;
    loop {
        // While reserved ahead, wake regularly to check the rate; otherwise only the gap.
        let wake = if held.ahead > 0 {
            RATE_CHECK.min(limits.gap)
        } else {
            limits.gap
        };
        // A piece hyper already holds needs no timer: most bodies are there at once.
        let next = match body.frame().now_or_never() {
            Some(next) => Ok(next),
            None => tokio::time::timeout(wake, body.frame()).await,
        };
        let frame = match next {
            Err(_) => {
                if last_piece.elapsed() >= limits.gap {
                    return Err(BodyError::Stalled {
                        gap: limits.gap,
                        received,
                        declared,
                    });
                }
                if too_slow(started, received) {
                    held.release_ahead();
                }
                continue;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(BodyError::Broken(e)),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            // Trailers carry nothing an API call reads.
            continue;
        };
        if data.is_empty() {
            continue;
        }
        last_piece = Instant::now();
        received += data.len() as u64;
        if received > limits.max {
            return Err(BodyError::TooLarge { max: limits.max });
        }
        let n = data.len() as u64;
        if held.ahead >= n {
            held.ahead -= n;
        } else {
            // Beyond the reservation (or none): reserve what arrived.
            let need = n - held.ahead;
            held.ahead = 0;
            held.add(acquire(budget, need, limits.gap).await?);
        }
        if held.ahead > 0 && too_slow(started, received) {
            held.release_ahead();
        }
        if first.is_none() {
            first = Some(data);
        } else {
            rest.push(data);
        }
    }
    debug_assert!(held.held() >= received || received == 0);
    let body = match first {
        None => Bytes::new(),
        Some(only) if rest.is_empty() => only,
        Some(first) => {
            let mut all = BytesMut::with_capacity(received as usize);
            all.extend_from_slice(&first);
            for c in &rest {
                all.extend_from_slice(c);
            }
            all.freeze()
        }
    };
    drop(held);
    Ok(body)
}

/// Whether a body that has delivered `received` bytes since `started` is below [`MIN_RATE`]
/// after [`GRACE`].
fn too_slow(started: Instant, received: u64) -> bool {
    let elapsed = started.elapsed();
    elapsed > GRACE && (received as f64) < MIN_RATE as f64 * elapsed.as_secs_f64()
}
