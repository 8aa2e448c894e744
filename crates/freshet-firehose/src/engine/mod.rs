// SPDX-License-Identifier: Apache-2.0
//! The delivery engine: one delivery loop per ACTIVE delivery stream, run by the
//! [`DeliveryManager`] component under the server's `Supervisor`.
//!
//! A loop reads its stream's DirectPut log from the checkpoint, keeps a [`buffer::Buffer`]
//! of positions and sizes (never record bytes), and when the buffer is due by BufferingHints
//! (size, or age of its oldest record on the injected clock) it delivers it
//! ([`s3::deliver`]): reads the records back, streams them into a staging file, fsyncs it,
//! hands it to the `ObjectSink`, and only then commits the checkpoint and trims the log
//! below it. A crash anywhere re-delivers from the checkpoint: duplicates are possible only
//! for an object that was written but whose checkpoint was not yet committed.
//!
//! Destination down: the loop retries the same object with back-off (1 s doubling to 30 s)
//! and reads no further, so undelivered data accumulates in the log until DirectPut's byte
//! budget throttles producers.

pub mod buffer;
pub mod http;
pub mod kinesis;
pub mod s3;
pub mod source;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use freshet_runtime::{Component, ComponentError, Context};
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::model::{DEFAULT_INTERVAL_S, DEFAULT_SIZE_MB, Destination};
use crate::store::{SourceKind, Status, StreamRecord};
use buffer::{Buffer, Hints};

/// How often an idle loop looks at the clock (buffers fall due by the injected clock, which
/// tests move by hand, so loops poll it rather than sleep until a deadline).
const TICK: Duration = Duration::from_millis(200);
/// Most records read from the log at once.
const READ_RECORDS: usize = 1000;
/// About the most bytes read from the log at once.
const READ_BYTES: usize = 4 << 20;

/// Runs one delivery loop per ACTIVE stream; starts and stops loops as streams come and go.
#[derive(Debug)]
pub struct DeliveryManager {
    fh: Firehose,
}

impl Firehose {
    /// The component that delivers every stream (start it once under the supervisor).
    pub fn component(&self) -> Arc<DeliveryManager> {
        Arc::new(DeliveryManager { fh: self.clone() })
    }
}

impl Component for DeliveryManager {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("firehose-delivery")
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            let root = CancellationToken::new();
            let mut loops: HashMap<String, CancellationToken> = HashMap::new();
            let result = loop {
                let changed = self.fh.changed();
                match self.fh.records() {
                    Ok(records) => reconcile(&self.fh, &records, &mut loops, &root),
                    Err(e) => break Err(ComponentError(e.to_string())),
                }
                tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = ctx.cancelled() => break Ok(()),
                }
            };
            root.cancel();
            result
        })
    }
}

fn reconcile(
    fh: &Firehose,
    records: &[StreamRecord],
    loops: &mut HashMap<String, CancellationToken>,
    root: &CancellationToken,
) {
    let active: HashMap<&str, &StreamRecord> = records
        .iter()
        .filter(|r| r.status == Status::Active)
        .map(|r| (r.id.as_str(), r))
        .collect();
    loops.retain(|id, token| {
        let keep = active.contains_key(id.as_str()) && !token.is_cancelled();
        if !keep {
            token.cancel();
        }
        keep
    });
    for (id, rec) in active {
        if loops.contains_key(id) {
            continue;
        }
        let token = root.child_token();
        loops.insert(id.to_owned(), token.clone());
        let (fh, name, id) = (fh.clone(), rec.name.clone(), rec.id.clone());
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let run = run_stream(&fh, &name, &id, &token);
                let outcome = tokio::select! {
                    r = run => r,
                    () = token.cancelled() => return,
                };
                match outcome {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::error!(stream = %name, error = %e, retry_in = ?backoff, "Delivery failed; retrying.");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = token.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        });
    }
}

/// The buffering hints of a destination, with AWS's defaults.
pub fn hints_of(dest: &Destination) -> Hints {
    let h = match dest {
        Destination::ExtendedS3(d) => d.buffering_hints.clone(),
        Destination::HttpEndpoint(d) => d.buffering_hints.clone(),
    }
    .unwrap_or_default();
    let mb = h.size_in_mbs.unwrap_or(DEFAULT_SIZE_MB).max(1) as u64;
    let s = h.interval_in_seconds.unwrap_or(DEFAULT_INTERVAL_S).max(0);
    Hints {
        size_bytes: mb << 20,
        interval_ms: s * 1000,
    }
}

/// Delivers one stream until `cancel` (Ok) or a failure the caller retries (Err).
async fn run_stream(fh: &Firehose, name: &str, id: &str, cancel: &CancellationToken) -> Result<()> {
    let rec = fh.record(name)?;
    if rec.id != id {
        return Ok(());
    }
    if rec.source == SourceKind::KinesisStreamAsSource {
        // Kinesis sources are read by a StreamReader, not from a DirectPut log.
        cancel.cancelled().await;
        return Ok(());
    }
    let live = fh.live(&rec).await?;
    let mut visible = live.log.watch_visible();
    let mut cursor = fh.checkpoint(id)?.next_offset.max(live.log.start_offset());
    let mut buf = Buffer::default();
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        // Configuration changes (UpdateDestination) apply from the next object on.
        let rec = fh.record(name)?;
        if rec.id != id || rec.status != Status::Active {
            return Ok(());
        }
        let hints = hints_of(&rec.destination);
        let batch = live
            .log
            .read(cursor, READ_RECORDS, READ_BYTES, i64::MIN)
            .map_err(Error::from)?;
        let got = !batch.records.is_empty();
        for r in &batch.records {
            let size = r.data.len() as u64;
            if buf.would_overflow(size, hints)
                && let Some(f) = buf.take()
            {
                deliver(fh, &rec, &live, f, cancel).await?;
            }
            buf.push(r.offset, size, r.arrival_ms);
        }
        // Drop the bytes now: the buffer keeps positions only.
        drop(batch.records);
        cursor = batch.next_offset.max(cursor);
        if buf.due(fh.now_ms(), hints)
            && let Some(f) = buf.take()
        {
            deliver(fh, &rec, &live, f, cancel).await?;
        }
        if got {
            continue;
        }
        tokio::select! {
            r = visible.changed() => {
                if r.is_err() {
                    tokio::time::sleep(TICK).await;
                }
            }
            () = tokio::time::sleep(TICK) => {}
            () = cancel.cancelled() => return Ok(()),
        }
    }
}

async fn deliver(
    fh: &Firehose,
    rec: &StreamRecord,
    live: &Arc<crate::Live>,
    flush: buffer::Flush,
    cancel: &CancellationToken,
) -> Result<()> {
    match rec.destination {
        Destination::ExtendedS3(_) => s3::deliver(fh, rec, live, flush, cancel).await,
        Destination::HttpEndpoint(_) => http::deliver(fh, rec, live, flush, cancel).await,
    }
}
