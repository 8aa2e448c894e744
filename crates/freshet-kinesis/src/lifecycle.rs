// SPDX-License-Identifier: Apache-2.0
//! Stream lifecycle: create, delete, retention changes, and the timed status transitions
//! (CREATING → ACTIVE, DELETING → gone, UPDATING → ACTIVE).

use std::sync::Arc;

use freshet_types::even_hash_ranges;
use freshet_types::limits::{
    DEFAULT_RETENTION_HOURS, DEFAULT_SHARD_COUNT, MAX_RETENTION_HOURS, MIN_RETENTION_HOURS,
};
use freshet_types::seqno::MAX_INCARNATION;
use rand::Rng;

use crate::model::{CreateStream, StreamRef};
use crate::record::{ShardRecord, StreamMode, StreamRecord, StreamStatus};
use crate::state::Stream;
use crate::store::KinesisMeta;
use crate::{Error, Streams};

impl Streams {
    /// CreateStream: the stream exists at once in CREATING and becomes ACTIVE after the
    /// configured delay.
    pub async fn create_stream(&self, req: CreateStream) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        if self.streams().contains_key(&req.name) {
            return Err(Error::StreamExists {
                stream: req.name,
                account: self.inner.opts.account_id.clone(),
            });
        }
        let warm_throughput =
            self.check_create(&req.name, req.mode, req.warm_throughput_mibps, &req.tags)?;
        let count = match req.mode {
            StreamMode::OnDemand => DEFAULT_SHARD_COUNT,
            StreamMode::Provisioned => req.shard_count.unwrap_or(DEFAULT_SHARD_COUNT),
        };
        let current = self.open_shard_count();
        let limit = self.inner.opts.shard_limit;
        if u64::from(current) + u64::from(count) > u64::from(limit) {
            return Err(Error::ShardLimit {
                account: self.inner.opts.account_id.clone(),
                region: self.inner.opts.region.clone(),
                current,
                limit,
                additional: count,
            });
        }
        let now = self.now();
        let shards = even_hash_ranges(count)
            .into_iter()
            .enumerate()
            .map(|(i, r)| ShardRecord {
                index: i as u32,
                hash_start: r.start,
                hash_end: r.end,
                parent: None,
                adjacent_parent: None,
                created_ms: now,
                closed_ms: None,
                ending_offset: None,
                expired: false,
            })
            .collect();
        let delay = self.inner.opts.create_delay;
        let rec = StreamRecord {
            name: req.name.clone(),
            incarnation: rand::rng().random_range(1..=MAX_INCARNATION),
            status: if delay.is_zero() {
                StreamStatus::Active
            } else {
                StreamStatus::Creating
            },
            mode: req.mode,
            created_ms: now,
            retention_hours: DEFAULT_RETENTION_HOURS,
            shards,
            tags: req.tags,
            max_record_size_kib: req.max_record_size_kib.unwrap_or(1024),
            scalings_ms: Vec::new(),
            consumers: Vec::new(),
            encryption_key_id: None,
            encryption_changes: Vec::new(),
            encryption_starts_ms: Vec::new(),
            encryption_stops_ms: Vec::new(),
            shard_level_metrics: Vec::new(),
            warm_throughput,
            resource_policy: None,
        };
        // Logs first, metadata second: a crash in between leaves only an orphan directory,
        // which recovery removes.
        let stream = self
            .load_stream(rec.clone())
            .map_err(|e| Error::Storage(e.to_string()))?;
        self.persist(&rec)?;
        let stream = Arc::new(stream);
        self.streams_mut().insert(req.name, stream.clone());
        tracing::info!(stream = %stream.name, shards = count, "Stream created.");
        if !delay.is_zero() {
            self.finish_later(stream, delay, StreamStatus::Creating);
        }
        Ok(())
    }

    /// DeleteStream: the stream turns DELETING and disappears after the configured delay,
    /// taking its data with it.
    pub async fn delete_stream(
        &self,
        r: &StreamRef,
        enforce_consumer_deletion: bool,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        if stream.status() == StreamStatus::Deleting {
            return Ok(());
        }
        let rec = {
            let mut rec = stream.record_mut();
            if !rec.consumers.is_empty() && !enforce_consumer_deletion {
                return Err(Error::StreamHasConsumers {
                    stream: stream.name.clone(),
                    account: self.inner.opts.account_id.clone(),
                });
            }
            rec.consumers.clear();
            rec.status = StreamStatus::Deleting;
            rec.clone()
        };
        self.persist(&rec)?;
        self.inner.leases.end_stream(&stream.arn);
        let delay = self.inner.opts.delete_delay;
        if delay.is_zero() {
            self.remove_stream(&stream);
        } else {
            self.finish_later(stream, delay, StreamStatus::Deleting);
        }
        Ok(())
    }

    /// IncreaseStreamRetentionPeriod.
    pub async fn increase_retention(&self, r: &StreamRef, hours: i64) -> Result<(), Error> {
        self.change_retention(r, hours, true).await
    }

    /// DecreaseStreamRetentionPeriod.
    pub async fn decrease_retention(&self, r: &StreamRef, hours: i64) -> Result<(), Error> {
        self.change_retention(r, hours, false).await
    }

    async fn change_retention(
        &self,
        r: &StreamRef,
        hours: i64,
        increase: bool,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        if hours < i64::from(MIN_RETENTION_HOURS) {
            return Err(Error::RetentionTooShort { hours });
        }
        if hours > i64::from(MAX_RETENTION_HOURS) {
            return Err(Error::RetentionTooLong { hours });
        }
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(&stream));
        }
        let rec = {
            let mut rec = stream.record_mut();
            let current = rec.retention_hours;
            if increase && hours < i64::from(current) {
                return Err(Error::RetentionIncreaseTooSmall {
                    hours,
                    stream: stream.name.clone(),
                    current,
                });
            }
            if !increase && hours > i64::from(current) {
                return Err(Error::RetentionDecreaseTooLarge {
                    hours,
                    stream: stream.name.clone(),
                    current,
                });
            }
            // Bounds were checked above, so this fits.
            rec.retention_hours = hours as u32;
            rec.clone()
        };
        self.persist(&rec)?;
        Ok(())
    }

    pub(crate) fn persist(&self, rec: &StreamRecord) -> Result<(), Error> {
        self.with_meta(|m| m.put_stream(rec))
            .map_err(|e| Error::Storage(e.to_string()))
    }

    /// Completes a timed transition from `from` after `delay`, unless something else changed
    /// the stream in the meantime.
    pub(crate) fn finish_later(
        &self,
        stream: Arc<Stream>,
        delay: std::time::Duration,
        from: StreamStatus,
    ) {
        let this = self.clone();
        // Cancelled at shutdown; recovery completes the transition at the next start.
        self.inner.tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            let _guard = this.inner.control.lock().await;
            let current = this.streams().get(&stream.name).cloned();
            let Some(current) = current.filter(|c| Arc::ptr_eq(c, &stream)) else {
                return;
            };
            if current.status() != from {
                return;
            }
            match from {
                StreamStatus::Deleting => this.remove_stream(&current),
                StreamStatus::Creating | StreamStatus::Updating | StreamStatus::Active => {
                    let rec = {
                        let mut rec = current.record_mut();
                        rec.status = StreamStatus::Active;
                        crate::capacity::settle_update(&mut rec);
                        rec.clone()
                    };
                    current.set_layout_before_update(None);
                    if let Err(error) = this.persist(&rec) {
                        tracing::error!(stream = %rec.name, %error, "Could not persist stream status.");
                    }
                }
            }
        });
    }

    /// Forgets a stream and removes its data. Called with the control lock held.
    fn remove_stream(&self, stream: &Arc<Stream>) {
        self.streams_mut().remove(&stream.name);
        if let Err(error) = self.with_meta(|m| m.remove_stream(&stream.name)) {
            tracing::error!(stream = %stream.name, %error, "Could not remove stream metadata.");
        }
        for shard in stream.shards().iter() {
            if let Err(error) = shard.log.close() {
                tracing::warn!(stream = %stream.name, shard = %shard.id, %error, "Closing shard log failed.");
            }
        }
        let logs = stream.logs.clone();
        let backend = self.inner.logs.clone();
        // Removing many files can take a while; keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            if let Err(error) = backend.remove(&logs) {
                tracing::warn!(logs = %logs, %error, "Could not remove the stream's logs.");
            }
        });
        tracing::info!(stream = %stream.name, "Stream deleted.");
    }

    pub(crate) fn open_shard_count(&self) -> u32 {
        self.streams()
            .values()
            .map(|s| s.shards().open_by_hash.len() as u32)
            .sum()
    }
}
