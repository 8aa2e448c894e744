// SPDX-License-Identifier: Apache-2.0
//! [`Firehose`]: the delivery streams of one server, and the control plane over them
//! (create, delete, describe, list, update the destination, tags, encryption).
//!
//! Invariants:
//! - Every change to a [`StreamRecord`] is one metadata transaction that reads the current
//!   record and writes the new one, so concurrent UpdateDestination calls with the same
//!   `CurrentDeliveryStreamVersionId` cannot both win.
//! - A stream's DirectPut log and checkpoint are keyed by its id, never by its name.
//! - Status moves CREATING → ACTIVE after `create_delay` and DELETING → gone after
//!   `delete_delay`, on the platform's task handle (cancelled at shutdown; a stream left
//!   CREATING or DELETING by a crash is finished at the next start).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use freshet_log::Log;
use freshet_meta::TxnExt;
use freshet_runtime::Platform;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::model::Destination;
use crate::sink::ObjectSink;
use crate::sinks::Unconfigured;
use crate::store::{CHECKPOINTS, Checkpoint, STREAMS, Status, StreamRecord};

/// Settings of the Firehose service.
#[derive(Debug, Clone)]
pub struct FirehoseOptions {
    /// The account in ARNs and messages.
    pub account_id: String,
    /// The region in ARNs and transformation events.
    pub region: String,
    /// How long a new stream stays CREATING.
    pub create_delay: Duration,
    /// How long a deleted stream stays DELETING.
    pub delete_delay: Duration,
    /// Most delivery streams per server (AWS: 5,000 per region).
    pub stream_limit: usize,
    /// Undelivered DirectPut bytes a stream accepts before puts get
    /// ServiceUnavailableException ("Slow down.").
    pub undelivered_budget_bytes: u64,
    /// Where delivery assembles objects before handing them to the sink. Must be on the same
    /// file system as the local S3 store so the sink can adopt files by rename.
    pub staging_dir: PathBuf,
    /// Where the AWS/Firehose metrics are recorded (disabled by default).
    pub recorder: freshet_metrics::Recorder,
}

impl Default for FirehoseOptions {
    fn default() -> Self {
        FirehoseOptions {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            create_delay: Duration::from_millis(500),
            delete_delay: Duration::from_millis(500),
            stream_limit: 5000,
            undelivered_budget_bytes: DEFAULT_UNDELIVERED_BUDGET,
            staging_dir: std::env::temp_dir().join("freshet-firehose-staging"),
            recorder: freshet_metrics::Recorder::disabled(),
        }
    }
}

/// Default per-stream budget of undelivered DirectPut data: 1 GiB.
pub const DEFAULT_UNDELIVERED_BUDGET: u64 = 1 << 30;

/// The services a delivery stream calls in process (set by the server; tests may leave
/// some out, and a stream that needs a missing one fails delivery with a clear error).
#[derive(Clone, Default)]
pub struct Peers {
    /// Kinesis data streams, read by `KinesisStreamAsSource` streams.
    pub streams: Option<freshet_kinesis::Streams>,
    /// Lambda, for the transform processor.
    pub invoker: Option<Arc<dyn freshet_lambda::spec::Invoker>>,
    /// The Glue Data Catalog, for record format conversion schemas.
    pub glue: Option<freshet_glue::Glue>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("streams", &self.streams.is_some())
            .field("invoker", &self.invoker.is_some())
            .field("glue", &self.glue.is_some())
            .finish()
    }
}

/// A stream's in-memory state beside its record: the open log and the byte count of what is
/// in it and not yet delivered.
#[derive(Debug)]
pub struct Live {
    /// The DirectPut log.
    pub log: Arc<dyn Log>,
    /// Bytes appended and not yet delivered (approximate after a restart: counted from the
    /// checkpoint).
    pub undelivered: AtomicU64,
    /// Its AWS/Firehose metric handles.
    pub metrics: Arc<crate::metrics::StreamMetrics>,
}

/// The delivery streams of one server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Firehose {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) platform: Platform,
    pub(crate) opts: FirehoseOptions,
    pub(crate) live: Mutex<HashMap<String, Arc<Live>>>,
    sink: RwLock<Arc<dyn ObjectSink>>,
    peers: RwLock<Peers>,
    /// Metric handles by stream name.
    pub(crate) metrics: Mutex<HashMap<String, Arc<crate::metrics::StreamMetrics>>>,
    /// The DataFreshness gauge source (the recorder holds it weakly).
    freshness: Mutex<Option<Arc<dyn freshet_metrics::GaugeSource>>>,
    /// Woken when streams are created, changed or deleted (the delivery manager listens).
    pub(crate) changed: Notify,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firehose")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Firehose {
    /// Opens the Firehose service on `platform`: finishes status transitions a restart
    /// interrupted.
    pub async fn open(platform: &Platform, opts: FirehoseOptions) -> Result<Firehose> {
        std::fs::create_dir_all(&opts.staging_dir)
            .map_err(|e| Error::Storage(format!("staging directory: {e}")))?;
        let fh = Firehose {
            inner: Arc::new(Inner {
                platform: platform.clone(),
                opts,
                live: Mutex::new(HashMap::new()),
                metrics: Mutex::new(HashMap::new()),
                freshness: Mutex::new(None),
                sink: RwLock::new(Arc::new(Unconfigured)),
                peers: RwLock::new(Peers::default()),
                changed: Notify::new(),
            }),
        };
        let freshness: Arc<dyn freshet_metrics::GaugeSource> =
            Arc::new(crate::metrics::Freshness {
                fh: Arc::downgrade(&fh.inner),
            });
        fh.inner
            .opts
            .recorder
            .add_gauges(Arc::downgrade(&freshness));
        *lock(&fh.inner.freshness) = Some(freshness);
        for rec in fh.records()? {
            match rec.status {
                Status::Creating => fh.set_status(&rec.name, &rec.id, Status::Active).await?,
                Status::Deleting => fh.remove(&rec).await?,
                Status::Active => {}
            }
        }
        Ok(fh)
    }

    /// The options.
    pub fn options(&self) -> &FirehoseOptions {
        &self.inner.opts
    }

    /// Sets where delivered objects go (the server installs the S3 store or remote stores).
    pub fn set_sink(&self, sink: Arc<dyn ObjectSink>) {
        *self.inner.sink.write().unwrap_or_else(|p| p.into_inner()) = sink;
    }

    /// The current sink.
    pub fn sink(&self) -> Arc<dyn ObjectSink> {
        self.inner
            .sink
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets the other services delivery calls in process.
    pub fn set_peers(&self, peers: Peers) {
        *self.inner.peers.write().unwrap_or_else(|p| p.into_inner()) = peers;
        self.inner.changed.notify_waiters();
    }

    /// The other services delivery calls in process.
    pub fn peers(&self) -> Peers {
        self.inner
            .peers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The ARN of stream `name`.
    pub fn arn_of(&self, name: &str) -> String {
        format!(
            "arn:aws:firehose:{}:{}:deliverystream/{name}",
            self.inner.opts.region, self.inner.opts.account_id
        )
    }

    pub(crate) fn not_found(&self, name: &str) -> Error {
        Error::NotFound {
            name: name.to_owned(),
            account: self.inner.opts.account_id.clone(),
        }
    }

    /// Every stream, by name.
    pub fn records(&self) -> Result<Vec<StreamRecord>> {
        Ok(self
            .inner
            .platform
            .meta
            .scan_json::<StreamRecord>(STREAMS, "")?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// The stream `name`.
    pub fn record(&self, name: &str) -> Result<StreamRecord> {
        self.inner
            .platform
            .meta
            .get_json::<StreamRecord>(STREAMS, name)?
            .ok_or_else(|| self.not_found(name))
    }

    /// The delivery checkpoint of stream `id`.
    pub fn checkpoint(&self, id: &str) -> Result<Checkpoint> {
        Ok(self
            .inner
            .platform
            .meta
            .get_json::<Checkpoint>(CHECKPOINTS, id)?
            .unwrap_or_default())
    }

    /// Durably records that delivery of stream `id` reached `cp`.
    pub async fn commit_checkpoint(&self, id: &str, cp: &Checkpoint) -> Result<()> {
        let meta = self.inner.platform.meta.clone();
        let (id, cp) = (id.to_owned(), cp.clone());
        blocking(move || meta.put_json(CHECKPOINTS, &id, &cp).map_err(Error::from)).await
    }

    /// The live state of stream `rec` (opening its log on first use).
    pub async fn live(&self, rec: &StreamRecord) -> Result<Arc<Live>> {
        if let Some(l) = lock(&self.inner.live).get(&rec.id) {
            return Ok(l.clone());
        }
        let backend = self.inner.platform.logs.clone();
        let name = rec.log_name()?;
        let log = blocking(move || backend.open(&name).map_err(Error::from)).await?;
        let cp = self.checkpoint(&rec.id)?;
        let undelivered = if log.next_offset() > cp.next_offset {
            log.stats().bytes_on_disk
        } else {
            0
        };
        let metrics = self.stream_metrics(&rec.name);
        let mut live = lock(&self.inner.live);
        let l = live.entry(rec.id.clone()).or_insert_with(|| {
            Arc::new(Live {
                log,
                undelivered: AtomicU64::new(undelivered),
                metrics,
            })
        });
        Ok(l.clone())
    }

    /// Stores a new stream (status CREATING) and schedules it ACTIVE.
    pub(crate) async fn insert(&self, rec: StreamRecord) -> Result<()> {
        let meta = self.inner.platform.meta.clone();
        let limit = self.inner.opts.stream_limit;
        let account = self.inner.opts.account_id.clone();
        let r = rec.clone();
        blocking(move || {
            meta.transaction(|txn| {
                if txn.get(STREAMS, &r.name)?.is_some() {
                    return Err(Error::AlreadyExists {
                        name: r.name.clone(),
                        account: account.clone(),
                    });
                }
                if txn.scan(STREAMS, "")?.len() >= limit {
                    return Err(Error::LimitExceeded(format!(
                        "You have already consumed your firehose quota of {limit} hoses. \
                         Firehose names: {}",
                        r.name
                    )));
                }
                txn.put_json(STREAMS, &r.name, &r)?;
                Ok(())
            })
        })
        .await?;
        let this = self.clone();
        let delay = self.inner.opts.create_delay;
        self.inner.platform.tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = this.set_status(&rec.name, &rec.id, Status::Active).await {
                tracing::error!(stream = %rec.name, error = %e, "Could not activate a delivery stream.");
            }
        });
        self.inner.changed.notify_waiters();
        Ok(())
    }

    async fn set_status(&self, name: &str, id: &str, status: Status) -> Result<()> {
        let id = id.to_owned();
        self.modify(name, move |r| {
            if r.id == id && r.status == Status::Creating {
                r.status = status;
            }
            Ok(())
        })
        .await?;
        self.inner.changed.notify_waiters();
        Ok(())
    }

    /// Changes stream `name` in one transaction; `f` may refuse with an error.
    pub(crate) async fn modify<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce(&mut StreamRecord) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let meta = self.inner.platform.meta.clone();
        let name = name.to_owned();
        let nf = self.not_found(&name);
        let out = blocking(move || {
            meta.transaction(|txn| {
                let Some(mut rec) = txn.get_json::<StreamRecord>(STREAMS, &name)? else {
                    return Err(nf);
                };
                let out = f(&mut rec)?;
                txn.put_json(STREAMS, &name, &rec)?;
                Ok(out)
            })
        })
        .await?;
        self.inner.changed.notify_waiters();
        Ok(out)
    }

    /// DeleteDeliveryStream: DELETING now, gone after the delete delay.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let rec = self
            .modify(name, |r| {
                if r.status == Status::Creating {
                    return Err(Error::InUse(format!(
                        "Firehose {} is not in the ACTIVE state.",
                        r.name
                    )));
                }
                r.status = Status::Deleting;
                Ok(r.clone())
            })
            .await?;
        let this = self.clone();
        let delay = self.inner.opts.delete_delay;
        self.inner.platform.tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = this.remove(&rec).await {
                tracing::error!(stream = %rec.name, error = %e, "Could not remove a deleted delivery stream.");
            }
        });
        Ok(())
    }

    /// Removes a DELETING stream: record, checkpoint, log and (Kinesis source) its reader.
    async fn remove(&self, rec: &StreamRecord) -> Result<()> {
        let meta = self.inner.platform.meta.clone();
        let (name, id) = (rec.name.clone(), rec.id.clone());
        blocking(move || {
            meta.transaction(|txn| {
                if let Some(cur) = txn.get_json::<StreamRecord>(STREAMS, &name)?
                    && cur.id == id
                {
                    txn.delete(STREAMS, &name)?;
                }
                txn.delete(CHECKPOINTS, &id)?;
                Ok::<_, Error>(())
            })
        })
        .await?;
        let (streams, r) = (self.peers().streams, rec.clone());
        blocking(move || crate::engine::kinesis::delete_reader(streams.as_ref(), &r)).await?;
        let live = lock(&self.inner.live).remove(&rec.id);
        self.forget_metrics(&rec.name);
        let backend = self.inner.platform.logs.clone();
        let log_name = rec.log_name()?;
        blocking(move || {
            if let Some(l) = live {
                l.log.close()?;
            }
            backend.remove(&log_name).map_err(Error::from)
        })
        .await?;
        self.inner.changed.notify_waiters();
        Ok(())
    }

    /// Forgets the live state of stream `id` after delivery has credited `bytes`.
    pub(crate) fn credit(&self, id: &str, bytes: u64) {
        if let Some(l) = lock(&self.inner.live).get(id) {
            let _ = l
                .undelivered
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                    Some(v.saturating_sub(bytes))
                });
        }
    }

    /// Resolves when a stream was created, changed or deleted.
    pub(crate) async fn changed(&self) {
        self.inner.changed.notified().await;
    }

    /// Replaces the destination of a stream after an UpdateDestination passed its checks.
    pub(crate) fn set_destination(rec: &mut StreamRecord, dest: Destination, now_ms: i64) {
        rec.destination = dest;
        rec.version += 1;
        rec.updated_ms = now_ms;
    }

    /// Now, on the platform clock.
    pub fn now_ms(&self) -> i64 {
        self.inner.platform.clock.now_ms()
    }
}

/// Runs blocking storage work off the runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Storage(format!("storage task failed: {e}")))?
}
