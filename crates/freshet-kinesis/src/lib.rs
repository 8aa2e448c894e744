// SPDX-License-Identifier: Apache-2.0
//! Kinesis Data Streams: streams and shards on the durable log, and the Kinesis API.
//!
//! [`Streams`] owns the live streams: their metadata (records in the `kinesis` tables of the
//! metadata store, see `store.rs`), their shard logs (one [`freshet_log::Log`] per shard),
//! routing of records to shards, iterators, retention and status transitions. It does not
//! know HTTP or JSON. [`api::KinesisService`] is the Kinesis API over it (JSON 1.1 and CBOR
//! 1.1, one module per operation under `ops/`), plugged into the shared front door as a
//! [`freshet_protocol::Service`]; it maps [`Error`] to AWS errors in one place.
//!
//! Concurrency: control-plane changes (create, delete, retention, resharding, scaling, shard
//! expiry) are serialized by one async mutex; the data path takes no global lock: it clones the
//! stream's `Arc` out of a read-locked map, holds the stream's gate shared while it routes and
//! appends (a reshard takes it exclusively, see `reshard.rs`), and writes through the shard's
//! own log, which serializes appends per shard.
//!
//! Storage: see `store.rs` for the tables and log names.

pub mod account;
mod account_record;
pub mod api;
#[doc(hidden)]
pub mod bench;
pub mod capacity;
mod consumers;
mod data;
mod describe;
pub mod encryption;
pub mod error;
mod lifecycle;
mod metrics;
pub mod model;
pub mod monitoring;
mod ops;
pub mod policy;
pub mod quota;
mod reader;
mod record;
mod reshard;
mod resource;
mod scaler;
mod state;
mod store;
mod subscribe;
pub mod tags;
pub mod time;
pub mod token;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_log::{LogBackend, LogConfig, LogName};
use freshet_meta::Meta;
use freshet_runtime::{Platform, Tasks};
use freshet_types::{Clock, ShardId, StreamArn, parse_stream_arn};
use rand::RngCore;

pub use crate::account::Limits;
pub use crate::account_record::{AccountSettings, Commitment, CommitmentStatus};
pub use crate::api::KinesisService;
pub use crate::capacity::WarmThroughputChange;
pub use crate::consumers::{ConsumerInfo, ConsumerList, ConsumerRef, ListConsumers};
pub use crate::error::{Error, ErrorKind};
pub use crate::model::*;
pub use crate::monitoring::MonitoringChange;
pub use crate::reader::{ReaderRecord, ShardBatch, ShardPosition, StartAt, StreamReader};
pub use crate::record::{
    ConsumerRecord, ConsumerStatus, EncryptionChange, ShardRecord, StreamRecord, WarmThroughput,
};
pub use crate::scaler::ScalerOptions;
use crate::state::{Shard, ShardSet, Stream};
use crate::store::KinesisMeta;
pub use crate::subscribe::{ShardEvent, SubscribeToShard, Subscription};
pub use crate::tags::TagPage;
use crate::token::TokenKey;

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
    /// Where the AWS/Kinesis metrics are recorded (disabled by default).
    pub recorder: freshet_metrics::Recorder,
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
            recorder: freshet_metrics::Recorder::disabled(),
        }
    }
}

/// Why the streams service could not open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The platform (data directory, log backend, metadata store) failed to open.
    #[error(transparent)]
    Platform(#[from] freshet_runtime::PlatformError),
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
    meta: Arc<Meta>,
    logs: Arc<dyn LogBackend>,
    tasks: Tasks,
    /// The platform, when this service opened it itself ([`Streams::open`]) and so shuts it
    /// down with itself.
    owned_platform: Option<Platform>,
    /// Makes every iterator unique, even two for the same position in the same millisecond.
    iterator_nonce: std::sync::atomic::AtomicU64,
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
    /// Opens a data directory of its own (an embedded [`Platform`] in `data_dir`), recovering
    /// every stream's logs; [`Streams::shutdown`] then shuts that platform down too. For tests
    /// and tools; the server shares one platform between services with [`Streams::open_on`].
    pub async fn open(
        data_dir: &Path,
        log_config: LogConfig,
        opts: StreamsOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Streams, OpenError> {
        let platform = Platform::open_local(data_dir, log_config, clock, Tasks::detached())?;
        Self::open_with(&platform, opts, Some(platform.clone())).await
    }

    /// Opens the streams of `platform`, recovering every stream's logs, and finishes any
    /// status transition a restart interrupted.
    pub async fn open_on(platform: &Platform, opts: StreamsOptions) -> Result<Streams, OpenError> {
        Self::open_with(platform, opts, None).await
    }

    async fn open_with(
        platform: &Platform,
        opts: StreamsOptions,
        owned_platform: Option<Platform>,
    ) -> Result<Streams, OpenError> {
        let meta = platform.meta.clone();
        store::migrate(&meta)?;
        let key_bytes = meta.get_or_init(store::SETTINGS, store::TOKEN_KEY, || {
            let mut k = vec![0u8; 32];
            rand::rng().fill_bytes(&mut k);
            k
        })?;
        let key = TokenKey::from_bytes(&key_bytes).ok_or_else(|| {
            freshet_meta::MetaError::Db("stored token key is not 32 bytes".to_owned())
        })?;
        let inner = Arc::new(Inner {
            opts,
            clock: platform.clock.clone(),
            meta,
            logs: platform.logs.clone(),
            tasks: platform.tasks.clone(),
            owned_platform,
            iterator_nonce: std::sync::atomic::AtomicU64::new(rand::rng().next_u64()),
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
        let mut live = Vec::new();
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
            live.push(stream.logs.parts().to_vec());
            self.streams_mut()
                .insert(stream.name.clone(), Arc::new(stream));
        }
        // Logs with no live stream belong to deleted streams whose removal a crash
        // interrupted: finish it.
        let root = LogName::root(store::NAMESPACE)?;
        for child in self.inner.logs.list(&root)? {
            if !live.iter().any(|parts| parts.first() == Some(&child)) {
                tracing::info!(logs = %child, "Removing data of a deleted stream.");
                if let Err(error) = self.inner.logs.remove(&root.child(child)?) {
                    tracing::warn!(%error, "Could not remove the logs of a deleted stream.");
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
    /// are closed again (they take no appends); shard logs the record does not know
    /// (children of a reshard a crash interrupted, expired shards) are removed.
    fn load_stream(&self, rec: StreamRecord) -> Result<Stream, OpenError> {
        let logs = store::stream_logs(&rec.name, rec.incarnation)?;
        let mut all = Vec::with_capacity(rec.shards.len());
        for s in &rec.shards {
            if s.expired {
                all.push(None);
                continue;
            }
            let log = self
                .inner
                .logs
                .open(&store::shard_log(&logs, ShardId(s.index))?)?;
            if !s.is_open() {
                log.close()?;
            }
            all.push(Some(Arc::new(Shard::from_record(s, log))));
        }
        self.remove_unknown_shard_logs(&logs, &rec)?;
        let arn = self.arn(&rec.name);
        let metrics = metrics::StreamMetrics::new(
            &self.inner.opts.recorder,
            &rec.name,
            &rec.shard_level_metrics,
        );
        Ok(Stream::new(rec, arn, logs, ShardSet::new(all), metrics))
    }

    /// Removes the logs under a stream's prefix that hold no live shard of `rec`.
    fn remove_unknown_shard_logs(
        &self,
        logs: &LogName,
        rec: &StreamRecord,
    ) -> Result<(), OpenError> {
        for child in self.inner.logs.list(logs)? {
            let live = rec
                .shards
                .iter()
                .any(|s| !s.expired && ShardId(s.index).to_string() == child);
            if !live {
                tracing::info!(stream = %rec.name, shard = %child, "Removing a shard log no stream owns.");
                if let Err(error) = self.inner.logs.remove(&logs.child(child)?) {
                    tracing::warn!(stream = %rec.name, %error, "Could not remove a shard log.");
                }
            }
        }
        Ok(())
    }

    /// Makes every shard log durable and closes it. Call once at shutdown, after the last
    /// request. When this service opened its own platform ([`Streams::open`]), that platform
    /// is shut down too (so later calls that need storage fail with an internal error).
    pub fn shutdown(&self) {
        for stream in self.streams().values() {
            for shard in stream.shards().iter() {
                if let Err(error) = shard.log.close() {
                    tracing::warn!(stream = %stream.name, shard = %shard.id, %error, "Shard log did not close cleanly.");
                }
            }
        }
        if let Some(platform) = &self.inner.owned_platform {
            platform.shutdown();
        }
    }

    /// Runs `f` on the metadata store.
    fn with_meta<T>(
        &self,
        f: impl FnOnce(&Meta) -> Result<T, freshet_meta::MetaError>,
    ) -> Result<T, freshet_meta::MetaError> {
        f(&self.inner.meta)
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
