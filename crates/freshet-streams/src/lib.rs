// SPDX-License-Identifier: Apache-2.0
//! Streams and shards: the domain behind the Kinesis API.
//!
//! [`Streams`] owns the live streams of one data directory: their metadata (persisted in
//! `freshet-meta`), their shard logs (`freshet-log`), routing of records to shards, iterators,
//! retention and status transitions. It does not know HTTP or JSON; the wire layer calls it
//! with domain types from [`model`] and maps [`Error`] to AWS errors.
//!
//! Concurrency: control-plane changes (create, delete, retention, resharding, scaling, shard
//! expiry) are serialized by one async mutex; the data path takes no global lock: it clones the
//! stream's `Arc` out of a read-locked map, holds the stream's gate shared while it routes and
//! appends (a reshard takes it exclusively, see `reshard.rs`), and writes through the shard's
//! own log, which serializes appends per shard.
//!
//! Layout of the data directory:
//!
//! ```text
//! <data>/meta.redb                                   metadata store
//! <data>/streams/<name>.<incarnation>/shardId-<12>/  one log directory per shard
//! ```
//!
//! The incarnation in the directory name keeps a re-created stream's data apart from the old
//! one's while the old directory is still being removed.

pub mod account;
pub mod capacity;
mod consumers;
mod data;
mod describe;
pub mod encryption;
pub mod error;
mod lifecycle;
pub mod model;
pub mod monitoring;
pub mod policy;
pub mod quota;
mod reshard;
mod resource;
mod scaler;
mod state;
mod subscribe;
pub mod tags;
pub mod time;
pub mod token;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_log::{LogConfig, LogStore};
use freshet_meta::{Meta, StreamRecord};
use freshet_types::{Clock, ShardId, StreamArn, parse_stream_arn};
use rand::RngCore;

pub use crate::account::Limits;
pub use crate::capacity::WarmThroughputChange;
pub use crate::consumers::{ConsumerInfo, ConsumerList, ConsumerRef, ListConsumers};
pub use crate::error::{Error, ErrorKind};
pub use crate::model::*;
pub use crate::monitoring::MonitoringChange;
pub use crate::scaler::ScalerOptions;
use crate::state::{Shard, ShardSet, Stream, shard_dir};
pub use crate::subscribe::{ShardEvent, SubscribeToShard, Subscription};
pub use crate::tags::TagPage;
use crate::token::TokenKey;
pub use freshet_meta::{Commitment, CommitmentStatus, WarmThroughput};

/// Settings of the streams service.
#[derive(Debug, Clone)]
pub struct StreamsOptions {
    /// Account id in ARNs and messages.
    pub account_id: String,
    /// Region in ARNs.
    pub region: String,
    /// CREATING → ACTIVE delay.
    pub create_delay: Duration,
    /// DELETING → gone delay.
    pub delete_delay: Duration,
    /// UPDATING → ACTIVE delay.
    pub update_delay: Duration,
    /// Most open shards across all streams.
    pub shard_limit: u32,
    /// Lifetime of shard iterators, ms.
    pub iterator_ttl_ms: i64,
    /// On-demand scaling.
    pub scaler: ScalerOptions,
    /// Consumer CREATING → ACTIVE and DELETING → gone delay.
    pub consumer_delay: Duration,
    /// How long a SubscribeToShard event stream stays open (AWS: 5 minutes).
    pub subscription_lifetime: Duration,
    /// Longest a subscription goes without an event when no records arrive (AWS: 5 seconds).
    pub subscription_heartbeat: Duration,
    /// Most streams in ON_DEMAND mode.
    pub on_demand_stream_limit: u32,
    /// Whether shards of provisioned streams are throttled at the AWS shard limits
    /// (see [`quota`]).
    pub shard_quotas: bool,
}

impl Default for StreamsOptions {
    fn default() -> Self {
        Self {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            create_delay: Duration::from_millis(100),
            delete_delay: Duration::from_millis(100),
            update_delay: Duration::from_millis(100),
            shard_limit: 10_000,
            iterator_ttl_ms: freshet_types::limits::ITERATOR_TTL_MS,
            scaler: ScalerOptions::default(),
            consumer_delay: Duration::from_millis(100),
            subscription_lifetime: Duration::from_secs(300),
            subscription_heartbeat: Duration::from_secs(5),
            on_demand_stream_limit: 50,
            shard_quotas: false,
        }
    }
}

/// Why the streams service could not open its data directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The metadata store failed.
    #[error(transparent)]
    Meta(#[from] freshet_meta::MetaError),
    /// A shard log failed to open or recover.
    #[error(transparent)]
    Log(#[from] freshet_log::LogError),
}

/// The streams of one data directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opts: StreamsOptions,
    clock: Arc<dyn Clock>,
    /// `None` once shut down, so the database is closed even while tasks still hold clones.
    meta: RwLock<Option<Meta>>,
    logs: LogStore,
    /// Makes every iterator unique, even two for the same position in the same millisecond.
    iterator_nonce: std::sync::atomic::AtomicU64,
    streams_dir: PathBuf,
    key: TokenKey,
    streams: RwLock<BTreeMap<String, Arc<Stream>>>,
    /// Serializes control-plane changes so check-then-act sequences are atomic.
    control: tokio::sync::Mutex<()>,
    /// What the on-demand scaler remembers between runs.
    scaler: std::sync::Mutex<scaler::ScalerState>,
    /// Who holds each (consumer, shard) SubscribeToShard slot.
    leases: subscribe::Leases,
}

impl Streams {
    /// Opens the data directory, recovering every stream's logs, and finishes any status
    /// transition a restart interrupted.
    pub async fn open(
        data_dir: &Path,
        log_config: LogConfig,
        opts: StreamsOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Streams, OpenError> {
        let streams_dir = data_dir.join("streams");
        std::fs::create_dir_all(&streams_dir).map_err(|source| OpenError::Io {
            path: streams_dir.clone(),
            source,
        })?;
        let meta = Meta::open(&data_dir.join("meta.redb"))?;
        let key_bytes = meta.setting_or_init("token-key", || {
            let mut k = vec![0u8; 32];
            rand::rng().fill_bytes(&mut k);
            k
        })?;
        let key = TokenKey::from_bytes(&key_bytes).ok_or_else(|| {
            freshet_meta::MetaError::Db("stored token key is not 32 bytes".to_owned())
        })?;
        let logs = LogStore::open(log_config)?;
        let inner = Arc::new(Inner {
            opts,
            clock,
            meta: RwLock::new(Some(meta)),
            logs,
            iterator_nonce: std::sync::atomic::AtomicU64::new(rand::rng().next_u64()),
            streams_dir,
            key,
            streams: RwLock::new(BTreeMap::new()),
            control: tokio::sync::Mutex::new(()),
            scaler: std::sync::Mutex::default(),
            leases: subscribe::Leases::default(),
        });
        let this = Streams { inner };
        this.recover()?;
        Ok(this)
    }

    fn recover(&self) -> Result<(), OpenError> {
        let records = self.with_meta(Meta::load_streams)?;
        let mut live_dirs = Vec::new();
        let mut finished_deletes = Vec::new();
        for mut rec in records {
            if rec.status == StreamStatus::Deleting {
                finished_deletes.push(rec.name.clone());
                self.with_meta(|m| m.remove_stream(&rec.name))?;
                continue;
            }
            let consumers_changed = consumers::finish_interrupted(&mut rec);
            if rec.status != StreamStatus::Active || consumers_changed {
                // The delay of an interrupted transition has long passed.
                rec.status = StreamStatus::Active;
                capacity::settle_update(&mut rec);
                self.with_meta(|m| m.put_stream(&rec))?;
            }
            let stream = self.load_stream(rec)?;
            live_dirs.push(stream.dir.clone());
            self.streams_mut()
                .insert(stream.name.clone(), Arc::new(stream));
        }
        // Directories with no live stream belong to deleted streams whose removal a crash
        // interrupted: finish it.
        let entries =
            std::fs::read_dir(&self.inner.streams_dir).map_err(|source| OpenError::Io {
                path: self.inner.streams_dir.clone(),
                source,
            })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if !live_dirs.contains(&path) {
                tracing::info!(dir = %path.display(), "Removing data of a deleted stream.");
                if let Err(error) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(dir = %path.display(), %error, "Could not remove directory.");
                }
            }
        }
        tracing::info!(
            streams = self.streams().len(),
            finished_deletes = finished_deletes.len(),
            "Streams recovered."
        );
        Ok(())
    }

    /// Opens the logs of a stream record and builds its in-memory state. Closed shards' logs
    /// are closed again (they take no appends); shard directories the record does not know
    /// (children of a reshard a crash interrupted, expired shards) are removed.
    fn load_stream(&self, rec: StreamRecord) -> Result<Stream, OpenError> {
        let dir = self.stream_dir(&rec.name, rec.incarnation);
        let mut all = Vec::with_capacity(rec.shards.len());
        for s in &rec.shards {
            if s.expired {
                all.push(None);
                continue;
            }
            let log = self
                .inner
                .logs
                .open_shard(&shard_dir(&dir, ShardId(s.index)))?;
            if !s.is_open() {
                log.close()?;
            }
            all.push(Some(Arc::new(Shard::from_record(s, log))));
        }
        remove_unknown_shard_dirs(&dir, &rec);
        let arn = self.arn(&rec.name);
        Ok(Stream::new(rec, arn, dir, ShardSet::new(all)))
    }

    /// Flushes and fsyncs every log and closes the metadata store. Call once at shutdown,
    /// after the last request; later calls that need storage fail with an internal error.
    pub fn shutdown(&self) {
        self.inner.logs.shutdown();
        let meta = self
            .inner
            .meta
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(meta);
    }

    /// Runs `f` on the metadata store, unless it was closed at shutdown.
    fn with_meta<T>(
        &self,
        f: impl FnOnce(&Meta) -> Result<T, freshet_meta::MetaError>,
    ) -> Result<T, freshet_meta::MetaError> {
        let guard = self.inner.meta.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(meta) => f(meta),
            None => Err(freshet_meta::MetaError::Closed),
        }
    }

    /// A value that differs for every iterator this process issues.
    fn next_nonce(&self) -> u64 {
        self.inner
            .iterator_nonce
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Deletes whole log segments that only hold records older than their stream's retention.
    /// Returns the number of segments deleted.
    pub fn enforce_retention(&self) -> usize {
        let now = self.now();
        let mut deleted = 0;
        for stream in self.streams().values() {
            let cutoff = state::retention_start(stream.record().retention_hours, now);
            for shard in stream.shards().iter() {
                match shard.log.delete_segments_before(cutoff) {
                    Ok(n) => deleted += n,
                    Err(error) => tracing::warn!(
                        stream = %stream.name, shard = %shard.id, %error,
                        "Retention could not delete expired segments."
                    ),
                }
            }
        }
        deleted
    }

    /// Whether every shard log accepts writes; `false` after a storage failure.
    pub fn healthy(&self) -> bool {
        self.streams()
            .values()
            .all(|s| s.shards().iter().all(|sh| !sh.log.is_poisoned()))
    }

    /// Makes the next write or fsync of one shard's log fail, to test how storage failures
    /// surface. Returns whether the shard exists.
    #[doc(hidden)]
    pub fn inject_log_failure_for_tests(
        &self,
        stream: &str,
        shard: ShardId,
        failure: freshet_log::InjectedFailure,
    ) -> bool {
        let Some(s) = self.streams().get(stream).cloned() else {
            return false;
        };
        let Some(sh) = s.shards().get(shard).cloned() else {
            return false;
        };
        sh.log.inject_failure_for_tests(Some(failure));
        true
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.inner.opts.account_id
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn arn(&self, name: &str) -> String {
        StreamArn::new(&self.inner.opts.region, &self.inner.opts.account_id, name).to_string()
    }

    fn stream_dir(&self, name: &str, incarnation: u64) -> PathBuf {
        self.inner
            .streams_dir
            .join(format!("{name}.{incarnation:010}"))
    }

    fn streams(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Stream>>> {
        self.inner.streams.read().unwrap_or_else(|p| p.into_inner())
    }

    fn streams_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Stream>>> {
        self.inner
            .streams
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn not_found(&self, name: &str) -> Error {
        Error::StreamNotFound {
            stream: name.to_owned(),
            account: self.inner.opts.account_id.clone(),
        }
    }

    /// Resolves a StreamName/StreamARN pair to a stream name.
    fn resolve_name(&self, r: &StreamRef) -> Result<String, Error> {
        match (&r.name, &r.arn) {
            (None, None) => Err(Error::StreamUnnamed),
            (Some(name), None) => Ok(name.clone()),
            (name, Some(arn)) => {
                let parsed = parse_stream_arn(arn).ok_or_else(|| self.not_found(arn))?;
                if let Some(name) = name
                    && *name != parsed.stream
                {
                    return Err(Error::StreamNameArnMismatch {
                        stream: name.clone(),
                        arn: arn.clone(),
                    });
                }
                // An ARN of another account or region names a stream this server does not
                // have; AWS names the stream, not the ARN, in the message.
                if parsed.account != self.inner.opts.account_id
                    || parsed.region != self.inner.opts.region
                {
                    return Err(self.not_found(&parsed.stream));
                }
                Ok(parsed.stream)
            }
        }
    }

    /// The live stream a request names, in any status.
    fn stream(&self, r: &StreamRef) -> Result<Arc<Stream>, Error> {
        let name = self.resolve_name(r)?;
        self.streams()
            .get(&name)
            .cloned()
            .ok_or_else(|| self.not_found(&name))
    }

    /// The stream, if its data can be read or written: not while it is still being created.
    fn data_stream(&self, r: &StreamRef) -> Result<Arc<Stream>, Error> {
        let stream = self.stream(r)?;
        if stream.status() == StreamStatus::Creating {
            return Err(self.not_found(&stream.name));
        }
        Ok(stream)
    }

    fn not_active(&self, stream: &Stream) -> Error {
        Error::StreamNotActive {
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
            state: stream.status().as_str(),
        }
    }
}

/// Removes the directories under `stream_dir` that hold no live shard of `rec`.
fn remove_unknown_shard_dirs(stream_dir: &Path, rec: &StreamRecord) {
    let Ok(entries) = std::fs::read_dir(stream_dir) else {
        return;
    };
    let live: std::collections::HashSet<PathBuf> = rec
        .shards
        .iter()
        .filter(|s| !s.expired)
        .map(|s| shard_dir(stream_dir, ShardId(s.index)))
        .collect();
    for entry in entries.flatten() {
        let path = entry.path();
        if !live.contains(&path) {
            tracing::info!(dir = %path.display(), "Removing a shard directory no stream owns.");
            if let Err(error) = std::fs::remove_dir_all(&path) {
                tracing::warn!(dir = %path.display(), %error, "Could not remove directory.");
            }
        }
    }
}
