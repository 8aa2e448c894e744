// SPDX-License-Identifier: Apache-2.0
//! The Logs service's background work, run by components the server starts: checkpoints of
//! the in-memory statistics, and retention that deletes expired data. Both block (metadata
//! commits, file deletion): call them where blocking is allowed.
//!
//! Retention: a group with `retentionInDays = d` shows no event older than `now - d days`
//! (the read paths filter), and this task deletes the log's sealed segments whose newest
//! record arrived before `now - d days - max_ahead` (an event can be at most `max_ahead`
//! ahead of its arrival, so every event in such a segment has expired). The active segment
//! is kept until it rolls (`storage.segment_size`), so expired data can stay on disk, hidden,
//! up to that size per group; AWS too deletes expired events up to 72 hours late.

use std::sync::Arc;

use freshet_meta::TxnExt;

use crate::error::Result;
use crate::group::{CheckpointWrite, Group};
use crate::service::{DAY_MS, Logs};
use crate::store;

impl Logs {
    /// Writes the statistics of every group that changed since its last checkpoint, in one
    /// metadata transaction. Returns how many groups it wrote. Blocks.
    pub fn checkpoint(&self) -> Result<usize> {
        // Excludes stream deletion, so no statistics row outlives its stream.
        let _control = self.inner.control.blocking_lock();
        let groups: Vec<Arc<Group>> = self.groups().values().cloned().collect();
        let mut writes: Vec<(Arc<Group>, CheckpointWrite)> = Vec::new();
        for g in groups {
            g.bounds();
            if let Some(w) = g.take_checkpoint() {
                writes.push((g, w));
            }
        }
        if writes.is_empty() {
            return Ok(0);
        }
        let written = self.inner.meta.transaction(|t| {
            for (g, w) in &writes {
                t.put_json(store::CHECKPOINTS, &store::group_key(g.id), &w.checkpoint)?;
                for (id, stats) in &w.stats {
                    t.put_json(store::STATS, &store::stats_key(*id), stats)?;
                }
            }
            Ok::<_, freshet_meta::MetaError>(())
        });
        match written {
            Ok(()) => {
                for (g, w) in &writes {
                    g.checkpoint_written(w);
                }
                Ok(writes.len())
            }
            Err(e) => {
                for (g, w) in &writes {
                    g.checkpoint_failed(w);
                }
                Err(e.into())
            }
        }
    }

    /// Deletes the segments of every group with a retention policy that hold only expired
    /// events. Returns how many segments it deleted. Blocks.
    pub fn enforce_retention(&self) -> usize {
        let now = self.now_ms();
        let groups: Vec<Arc<Group>> = self.groups().values().cloned().collect();
        let mut deleted = 0;
        for g in groups {
            let Some(days) = g.retention_days() else {
                continue;
            };
            let ahead = g.data().max_ahead_ms.max(0);
            let cutoff = now
                .saturating_sub(i64::from(days).saturating_mul(DAY_MS))
                .saturating_sub(ahead);
            match g.log.delete_segments_before(cutoff) {
                Ok(0) => {}
                Ok(n) => {
                    deleted += n;
                    g.prune_indexes();
                    tracing::debug!(group = %g.name, segments = n, "Retention deleted expired log segments.");
                }
                Err(error) => {
                    tracing::warn!(group = %g.name, %error, "Retention could not delete expired segments.");
                }
            }
        }
        deleted
    }

    /// Writes a last checkpoint. Call once at shutdown, after the last request. Blocks.
    pub fn shutdown(&self) {
        if let Err(error) = self.checkpoint() {
            tracing::warn!(%error, "Could not write the CloudWatch Logs checkpoint at shutdown; the next start replays the logs instead.");
        }
    }
}
