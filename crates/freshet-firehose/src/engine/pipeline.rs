// SPDX-License-Identifier: Apache-2.0
//! One delivery run of one stream: source → processors → (Lambda transform) → buffers →
//! objects → checkpoint.
//!
//! 1. A [`Source`] batch is registered in the watermark; its records are backed up (S3
//!    backup), go through the built-in processors ([`chain`]) and, without a transform,
//!    straight into their buffers.
//! 2. With a transform, items wait in a bounded buffer (the processor's BufferSizeInMBs and
//!    BufferIntervalInSeconds) and are sent to the function; outcomes go to buffers or the
//!    error output. A batch is closed once all its items went through.
//! 3. Buffers due by their hints are finished and written (the sink, or the HTTP endpoint),
//!    one object at a time, retrying until written; a written object releases its batches.
//! 4. Positions of batches that are closed and fully released are committed to the source.
//!
//! A crash or cancellation at any point loses only uncommitted work: the next run resumes
//! from the last committed position and delivers those records again (at least once).
//! Memory: one source batch, the transform buffer (≤ 3 MB by AWS's limit) and a bounded
//! writer per open buffer; buffered records live in staging files.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::buffers::{Buffers, Ready, Target};
use super::chain::{self, Item};
use super::kinesis::KinesisSource;
use super::lambda::{Outcome, Transform};
use super::plan::Plan;
use super::source::{DirectPutSource, Source, SourceBatch};
use super::watermark::BatchId;
use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::store::{SourceKind, Status, StreamRecord};

/// How often an idle run looks at the clock and the stream's configuration (buffers fall
/// due by the injected clock, which tests move by hand).
const TICK: Duration = Duration::from_millis(200);

/// How a run ended without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Cancelled, or the stream is gone: stop.
    Stop,
    /// The configuration changed: start a new run with a new plan.
    Restart,
}

/// Items waiting for the transform.
#[derive(Default)]
struct Pending {
    items: Vec<Item>,
    bytes: u64,
    oldest_ms: Option<i64>,
    /// Items per batch still waiting (a batch closes when it reaches none).
    per_batch: BTreeMap<BatchId, usize>,
}

/// Runs the buffers' blocking work off the runtime, handing them back afterwards.
async fn with_buffers<T: Send + 'static>(
    slot: &mut Option<Buffers>,
    f: impl FnOnce(&mut Buffers) -> Result<T> + Send + 'static,
) -> Result<T> {
    let mut b = slot
        .take()
        .ok_or_else(|| Error::Storage("the delivery buffers were lost".to_owned()))?;
    let (b, r) = tokio::task::spawn_blocking(move || {
        let r = f(&mut b);
        (b, r)
    })
    .await
    .map_err(|e| Error::Storage(format!("delivery task failed: {e}")))?;
    *slot = Some(b);
    r
}

/// Opens the source of stream `rec`.
async fn open_source(fh: &Firehose, rec: &StreamRecord) -> Result<Option<Box<dyn Source>>> {
    match rec.source {
        SourceKind::DirectPut => {
            let live = fh.live(rec).await?;
            Ok(Some(Box::new(DirectPutSource::new(fh, &rec.id, live)?)))
        }
        SourceKind::KinesisStreamAsSource => {
            Ok(Some(Box::new(KinesisSource::open(fh, rec).await?)))
        }
    }
}

/// Delivers stream `name` (id `id`) until cancelled, deleted or reconfigured.
pub async fn run(fh: &Firehose, name: &str, id: &str, cancel: &CancellationToken) -> Result<Exit> {
    let rec = fh.record(name)?;
    if rec.id != id || rec.status != Status::Active {
        return Ok(Exit::Stop);
    }
    let Some(mut source) = open_source(fh, &rec).await? else {
        cancel.cancelled().await;
        return Ok(Exit::Stop);
    };
    let plan = Arc::new(Plan::resolve(fh, &rec)?);
    let mut transform = match (&plan.processing.lambda, plan.processing.enabled) {
        (Some(l), true) => {
            let invoker = fh.peers().invoker.ok_or_else(|| {
                Error::Storage("Lambda is not available for the transform".to_owned())
            })?;
            Some(
                Transform::new(
                    invoker,
                    l.clone(),
                    plan.stream_arn.clone(),
                    plan.source_arn.clone(),
                    fh.options().region.clone(),
                )
                .with_metrics(fh.stream_metrics(&plan.stream)),
            )
        }
        _ => None,
    };
    let mut slot = Some(Buffers::new(plan.clone()));
    let mut pending = Pending::default();
    loop {
        if cancel.is_cancelled() {
            return Ok(Exit::Stop);
        }
        let now = fh.now_ms();
        let wait = slot
            .as_ref()
            .and_then(Buffers::next_deadline)
            .into_iter()
            .chain(
                pending
                    .oldest_ms
                    .zip(transform.as_ref())
                    .map(|(o, t)| o + t.hints().1),
            )
            .min()
            .map_or(TICK, |d| {
                Duration::from_millis(u64::try_from(d - now).unwrap_or(0)).min(TICK)
            });
        let batch = tokio::select! {
            b = source.next(wait) => b?,
            () = cancel.cancelled() => return Ok(Exit::Stop),
        };
        // Checked after every wait, so a change is seen within a tick. A batch read just
        // now belongs to the new configuration: it is not registered, so nothing commits
        // past it, and the next run reads it again from the source's committed position.
        if let Some(exit) = changed(fh, name, id, &rec)? {
            return finish(
                fh,
                &plan,
                &mut slot,
                &mut pending,
                transform.as_mut(),
                &mut *source,
                exit,
                cancel,
            )
            .await;
        }
        if let Some(b) = batch {
            take_batch(fh, &plan, &mut slot, &mut pending, transform.is_some(), b).await?;
        }
        if let Some(t) = transform.as_mut() {
            let (size, interval) = t.hints();
            let due = pending.bytes >= size
                || pending
                    .oldest_ms
                    .is_some_and(|o| fh.now_ms() - o >= interval);
            if due {
                run_transform(fh, &mut slot, &mut pending, t, cancel).await?;
            }
        }
        let now = fh.now_ms();
        with_buffers(&mut slot, move |b| b.flush_due(now)).await?;
        settle(fh, &plan, &mut slot, &mut *source, cancel).await?;
    }
}

/// Whether the run must end: the stream is gone or not ACTIVE (`Stop`), or its configuration
/// is no longer the one the run started with (`Restart`).
fn changed(fh: &Firehose, name: &str, id: &str, rec: &StreamRecord) -> Result<Option<Exit>> {
    let current = fh.record(name)?;
    if current.id != id || current.status != Status::Active {
        return Ok(Some(Exit::Stop));
    }
    if current.version != rec.version || current.destination != rec.destination {
        return Ok(Some(Exit::Restart));
    }
    Ok(None)
}

/// Registers a source batch and routes its records.
async fn take_batch(
    fh: &Firehose,
    plan: &Arc<Plan>,
    slot: &mut Option<Buffers>,
    pending: &mut Pending,
    transforms: bool,
    b: SourceBatch,
) -> Result<()> {
    let now = fh.now_ms();
    let plan = plan.clone();
    let SourceBatch {
        records,
        position,
        bytes,
    } = b;
    let (id, items) = with_buffers(slot, move |bufs| {
        let id = bufs.watermark.begin(position, bytes);
        let (mut items, mut failures) = (Vec::new(), Vec::new());
        for r in records {
            bufs.backup(&r, id)?;
            chain::before_transform(&plan.processing, r, id, now, &mut items, &mut failures);
        }
        for f in failures {
            bufs.fail(f)?;
        }
        if transforms {
            return Ok((id, items));
        }
        for item in items {
            bufs.route(chain::finish(&plan.processing, item), now)?;
        }
        bufs.watermark.close(id);
        Ok((id, Vec::new()))
    })
    .await?;
    if transforms {
        if items.is_empty() {
            if let Some(b) = slot.as_mut() {
                b.watermark.close(id);
            }
        } else {
            pending.per_batch.insert(id, items.len());
            pending.bytes += items.iter().map(|i| i.data.len() as u64).sum::<u64>();
            let oldest = items.iter().map(|i| i.arrival_ms).min();
            pending.oldest_ms = pending.oldest_ms.into_iter().chain(oldest).min();
            pending.items.extend(items);
        }
    }
    Ok(())
}

/// Sends the waiting items to the function and routes the outcomes.
async fn run_transform(
    fh: &Firehose,
    slot: &mut Option<Buffers>,
    pending: &mut Pending,
    t: &mut Transform,
    cancel: &CancellationToken,
) -> Result<()> {
    let items = std::mem::take(&mut pending.items);
    let per_batch = std::mem::take(&mut pending.per_batch);
    pending.bytes = 0;
    pending.oldest_ms = None;
    if items.is_empty() {
        return Ok(());
    }
    let clock = fh.clone();
    let outcomes = t.run(items, move || clock.now_ms(), cancel).await?;
    let processing = slot
        .as_ref()
        .map(|b| b.plan().processing.clone())
        .unwrap_or_default();
    let now = fh.now_ms();
    with_buffers(slot, move |bufs| {
        for o in outcomes {
            match o {
                Outcome::Ok(item) => bufs.route(chain::finish(&processing, item), now)?,
                Outcome::Dropped(_) => {}
                Outcome::Failed(f) => bufs.fail(f)?,
            }
        }
        for id in per_batch.keys() {
            bufs.watermark.close(*id);
        }
        Ok(())
    })
    .await
}

/// Writes every flushed buffer, then commits what is safe.
async fn settle(
    fh: &Firehose,
    plan: &Arc<Plan>,
    slot: &mut Option<Buffers>,
    source: &mut dyn Source,
    cancel: &CancellationToken,
) -> Result<()> {
    let ready = slot.as_mut().map(Buffers::take_ready).unwrap_or_default();
    for r in ready {
        let held = r.held.clone();
        deliver(fh, plan, r, cancel).await?;
        if let Some(b) = slot.as_mut() {
            b.release(&held);
        }
    }
    loop {
        let Some((position, bytes)) = slot.as_mut().and_then(|b| b.watermark.take_committable())
        else {
            return Ok(());
        };
        source.commit(position, bytes).await?;
    }
}

/// Ends the run: before a restart, delivers what is buffered under the old configuration.
#[allow(clippy::too_many_arguments)]
async fn finish(
    fh: &Firehose,
    plan: &Arc<Plan>,
    slot: &mut Option<Buffers>,
    pending: &mut Pending,
    transform: Option<&mut Transform>,
    source: &mut dyn Source,
    exit: Exit,
    cancel: &CancellationToken,
) -> Result<Exit> {
    if exit == Exit::Restart {
        drain(fh, plan, slot, pending, transform, source, cancel).await?;
    }
    Ok(exit)
}

/// Flushes everything (the transform's buffer included), writes it and commits.
async fn drain(
    fh: &Firehose,
    plan: &Arc<Plan>,
    slot: &mut Option<Buffers>,
    pending: &mut Pending,
    transform: Option<&mut Transform>,
    source: &mut dyn Source,
    cancel: &CancellationToken,
) -> Result<()> {
    if let Some(t) = transform {
        run_transform(fh, slot, pending, t, cancel).await?;
    }
    with_buffers(slot, |b| b.flush_due(i64::MAX)).await?;
    settle(fh, plan, slot, source, cancel).await
}

/// Writes one flushed buffer to where it goes.
async fn deliver(
    fh: &Firehose,
    plan: &Arc<Plan>,
    r: Ready,
    cancel: &CancellationToken,
) -> Result<()> {
    if let (Target::Data(_), Some(endpoint)) = (&r.target, &plan.http) {
        return super::http::deliver(fh, plan, endpoint, r, cancel).await;
    }
    super::s3::put_file(fh, &plan.stream, &r.bucket, &r.key, &r.file, cancel).await?;
    fh.stream_metrics(&plan.stream).delivered(
        matches!(r.target, super::buffers::Target::Backup),
        r.records,
        r.file.len,
    );
    tracing::debug!(stream = %plan.stream, key = %r.key, records = r.records, "Delivered.");
    r.file.remove();
    Ok(())
}
