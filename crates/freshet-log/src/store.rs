//! [`LogStore`]: one per data directory. Owns the group-commit syncer thread shared by all
//! shards and the registry of open shard logs (so shutdown can flush every one of them).
//!
//! Invariants: after `shutdown` starts, no shard accepts appends and none can be opened; every
//! append acknowledged before it is durable once it returns. Recovery never reads a shard
//! directory while an earlier log of it may still write there: a closed or dropped log can still
//! hold batches a sync round has not written (Fsync mode), so reopening its directory first
//! runs that round.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

use crate::config::LogConfig;
use crate::error::LogError;
use crate::recovery::recover;
use crate::shard::{ShardInner, ShardLog};
use crate::syncer::Syncer;

#[derive(Debug, Default)]
struct Registry {
    open: HashMap<PathBuf, Registered>,
    shut_down: bool,
}

/// A shard log handed out by [`LogStore::open_shard`]. Its innards can outlive it: the syncer
/// holds them while the shard is queued for a round.
#[derive(Debug)]
struct Registered {
    log: Weak<ShardLog>,
    inner: Weak<ShardInner>,
}

/// The shard logs of one data directory and their shared syncer thread.
#[derive(Debug)]
pub struct LogStore {
    config: LogConfig,
    syncer: Arc<Syncer>,
    thread: Mutex<Option<JoinHandle<()>>>,
    registry: Mutex<Registry>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LogStore {
    /// Validates `config` and starts the syncer thread.
    pub fn open(config: LogConfig) -> Result<LogStore, LogError> {
        config.validate()?;
        let syncer = Arc::new(Syncer::new(config.durability));
        let s = syncer.clone();
        let thread = std::thread::Builder::new()
            .name("freshet-log-syncer".into())
            .spawn(move || s.run())
            .map_err(|e| LogError::io("spawn syncer thread", PathBuf::new(), e))?;
        Ok(LogStore {
            config,
            syncer,
            thread: Mutex::new(Some(thread)),
            registry: Mutex::new(Registry::default()),
        })
    }

    /// The shared syncer, for unit tests.
    #[cfg(test)]
    pub(crate) fn syncer(&self) -> &Syncer {
        &self.syncer
    }

    /// The configuration every shard of this store uses.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Opens (creating if missing, with the directory fsynced) the shard log in `dir`, running
    /// recovery. Opening a directory that is already open returns the same log.
    pub fn open_shard(&self, dir: &Path) -> Result<Arc<ShardLog>, LogError> {
        let key = std::path::absolute(dir).map_err(|e| LogError::io("resolve", dir, e))?;
        let mut reg = lock(&self.registry);
        if reg.shut_down {
            return Err(LogError::Closed);
        }
        reg.open.retain(|_, r| r.inner.strong_count() > 0);
        if let Some(r) = reg.open.get(&key) {
            if let Some(existing) = r.log.upgrade()
                && !existing.is_closed()
            {
                return Ok(existing);
            }
            if let Some(previous) = r.inner.upgrade() {
                // Writes what the previous log still holds (its `close` may be running, or its
                // owner dropped it while queued); a poisoned one writes nothing, as it should.
                let _ = previous.sync_round();
            }
        }
        let recovered = recover(&key, &self.config)?;
        let shard = Arc::new(ShardLog::new(
            key.clone(),
            &self.config,
            self.syncer.clone(),
            recovered,
        ));
        reg.open.insert(
            key,
            Registered {
                log: Arc::downgrade(&shard),
                inner: Arc::downgrade(shard.inner()),
            },
        );
        Ok(shard)
    }

    /// Flushes and fsyncs every open shard, then stops the syncer. Idempotent; also run on drop.
    pub fn shutdown(&self) {
        let shards: Vec<Arc<ShardLog>> = {
            let mut reg = lock(&self.registry);
            if reg.shut_down {
                return;
            }
            reg.shut_down = true;
            reg.open
                .drain()
                .filter_map(|(_, r)| r.log.upgrade())
                .collect()
        };
        for shard in shards {
            if let Err(e) = shard.close() {
                tracing::warn!(dir = %shard.dir().display(), error = %e, "Shard log did not close cleanly.");
            }
        }
        // Shards dropped by their owners may still sit in the queue with unsynced data.
        self.syncer.stop();
        self.syncer.flush_queue();
        if let Some(t) = lock(&self.thread).take()
            && t.join().is_err()
        {
            tracing::error!("Log syncer thread panicked.");
        }
        self.syncer.stop_lanes();
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}
