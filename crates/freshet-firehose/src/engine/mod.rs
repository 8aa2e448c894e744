// SPDX-License-Identifier: Apache-2.0
//! The delivery engine: one delivery run per ACTIVE delivery stream, started and stopped by
//! the [`DeliveryManager`] component under the server's `Supervisor`.
//!
//! A run ([`pipeline::run`]) reads its stream's [`source`] (the DirectPut log, or a Kinesis
//! stream through the in-process reader), applies the processors ([`chain`], [`lambda`]),
//! writes records into per-partition [`buffers`] backed by [`staging`] files, writes each
//! due buffer as one object ([`s3`], or a request to an HTTP endpoint, [`http`]) and only
//! then commits the source position below which everything is safe ([`watermark`]). A
//! crash anywhere re-delivers from the last commit: duplicates are possible only for
//! objects written after it.
//!
//! A failed run (a destination down, a missing Glue table or function) is started again
//! with back-off (1 s doubling to 30 s), from the last commit; meanwhile undelivered data
//! stays in the source, and DirectPut's byte budget throttles producers.

pub mod buffer;
pub mod buffers;
pub mod chain;
pub mod http;
pub mod lambda;
pub mod pipeline;
pub mod plan;
pub mod s3;
pub mod source;
pub mod staging;
pub mod watermark;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use freshet_runtime::{Component, ComponentError, Context};
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::firehose::Firehose;
use crate::store::{Status, StreamRecord};
use pipeline::Exit;

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
                let run = pipeline::run(&fh, &name, &id, &token);
                let outcome = tokio::select! {
                    r = run => r,
                    () = token.cancelled() => return,
                };
                match outcome {
                    Ok(Exit::Stop) => return,
                    Ok(Exit::Restart) => {
                        backoff = Duration::from_secs(1);
                        continue;
                    }
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
