// SPDX-License-Identifier: Apache-2.0
//! What every flow of an agent shares: the sink, the progress totals, and the checkpoint
//! store with its writer.
//!
//! The writer persists the acknowledged offsets whenever they change, one write at a time:
//! offsets acknowledged while a write is in progress go out with the next one. So after a
//! crash, at most the buffers acknowledged during one checkpoint write (plus the buffer being
//! sent) are sent again; none is skipped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::checkpoint::{self, CheckpointError, Checkpoints, Entry};
use crate::metrics::Progress;
use crate::sink::Sink;

/// The agent-wide state flows share.
pub(crate) struct Shared {
    pub sink: Arc<dyn Sink>,
    pub progress: Arc<Progress>,
    pub checkpoints: CheckpointStore,
    pub shutdown_timeout: Duration,
}

/// Checkpoints in memory plus their durable copy.
pub(crate) struct CheckpointStore {
    state: Mutex<Checkpoints>,
    dirty: Notify,
    ttl: Duration,
}

impl CheckpointStore {
    pub fn new(checkpoints: Checkpoints, ttl: Duration) -> Self {
        Self {
            state: Mutex::new(checkpoints),
            dirty: Notify::new(),
            ttl,
        }
    }

    /// The entries of `flow`.
    pub fn for_flow(&self, flow: &str) -> Vec<Entry> {
        lock(&self.state).for_flow(flow)
    }

    /// Records acknowledged offsets; the writer saves them soon.
    pub fn update(&self, entries: impl Iterator<Item = Entry>) {
        let mut state = lock(&self.state);
        let mut any = false;
        for e in entries {
            state.set(e);
            any = true;
        }
        drop(state);
        if any {
            self.dirty.notify_one();
        }
    }

    /// Saves now (blocking I/O).
    pub fn save(&self) -> Result<(), CheckpointError> {
        let (path, entries) = {
            let mut state = lock(&self.state);
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            state.expire(now_ms - self.ttl.as_millis() as i64);
            (state.path().to_owned(), state.snapshot())
        };
        checkpoint::save(&path, &entries)
    }
}

impl Shared {
    /// Saves the checkpoints whenever offsets change, until `stop`.
    pub async fn run_writer(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = self.checkpoints.dirty.notified() => {}
                _ = stop.changed() => return,
            }
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.checkpoints.save()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "Cannot save checkpoints; retrying at the next change.");
                }
                Err(error) => tracing::error!(%error, "Checkpoint writer failed."),
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
