// SPDX-License-Identifier: Apache-2.0
//! SubscribeToShard: a consumer's push subscription to one shard.
//!
//! A [`Subscription`] is a cursor over the shard log plus three wake-ups: the log's
//! visibility watch (new records became durable), the lease (another call took the slot over,
//! or the consumer or stream went away) and a timer (heartbeat or end of life). It holds no
//! records between events and spawns no task: the transport pulls the next event when it can
//! send one, so a slow client slows its own reads and nothing queues in memory. Each event
//! carries at most [`MAX_EVENT_BYTES`] of records, and one subscription reads at most
//! [`READ_BUDGET_BYTES`] per second (AWS: 2 MiB/s per consumer per shard).
//!
//! Leases: one slot per (consumer ARN, shard). A call within [`TAKEOVER_WINDOW_MS`] of the last
//! successful one is refused with ResourceInUseException; a later call takes the slot over and
//! the older subscription ends with a ResourceInUseException event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freshet_types::{SequenceNumber, ShardId};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::model::{ChildShard, IteratorStart, RecordOut};
use crate::record::ConsumerStatus;
use crate::state::{Shard, Stream, retention_start};
use crate::{Error, Streams};

/// A second SubscribeToShard for the same consumer and shard within this many milliseconds
/// of a successful one is refused.
pub const TAKEOVER_WINDOW_MS: i64 = 5_000;
/// Most record bytes (data plus partition keys) in one event.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Most records in one event.
pub const MAX_EVENT_RECORDS: usize = 10_000;
/// Record bytes one subscription may read per second.
pub const READ_BUDGET_BYTES: usize = 2 * 1024 * 1024;

/// SubscribeToShard.
#[derive(Debug, Clone)]
pub struct SubscribeToShard {
    /// ConsumerARN.
    pub consumer_arn: String,
    /// Shard id as given.
    pub shard_id: String,
    /// Where to start.
    pub start: IteratorStart,
}

/// One `SubscribeToShardEvent`.
#[derive(Debug, Clone)]
pub struct ShardEvent {
    /// Records, in sequence order; empty for a heartbeat.
    pub records: Vec<RecordOut>,
    /// Where a new subscription with AFTER_SEQUENCE_NUMBER resumes; `None` once the end of a
    /// closed shard is reached (the last event of the subscription).
    pub continuation_sequence: Option<String>,
    /// How far the last record is behind the shard's newest, in ms.
    pub millis_behind_latest: i64,
    /// Children of a closed shard, on the last event only.
    pub child_shards: Vec<ChildShard>,
}

/// The SubscribeToShard slots of one data directory.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    slots: Mutex<HashMap<(String, u32), Lease>>,
}

#[derive(Debug)]
struct Lease {
    /// When the last successful call for the slot was made (clock ms).
    started_ms: i64,
    /// Bumped to wake the slot's subscriptions: a takeover or the end of the consumer.
    generation: watch::Sender<u64>,
}

impl Leases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32), Lease>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the slot of `consumer_arn` on `shard` at `now_ms`, waking its current holder, or
    /// refuses if the last successful call was within the takeover window.
    fn acquire(&self, consumer_arn: &str, shard: ShardId, now_ms: i64) -> Option<LeaseHold> {
        let mut slots = self.lock();
        // Forget slots nobody holds whose window has passed, so the map stays small.
        slots.retain(|_, l| {
            l.generation.receiver_count() > 0 || now_ms - l.started_ms < TAKEOVER_WINDOW_MS
        });
        let lease = slots
            .entry((consumer_arn.to_owned(), shard.0))
            .or_insert_with(|| Lease {
                started_ms: i64::MIN,
                generation: watch::Sender::new(0),
            });
        if lease.started_ms != i64::MIN && now_ms - lease.started_ms < TAKEOVER_WINDOW_MS {
            return None;
        }
        lease.started_ms = now_ms;
        lease.generation.send_modify(|g| *g += 1);
        let rx = lease.generation.subscribe();
        let generation = *rx.borrow();
        Some(LeaseHold { rx, generation })
    }

    /// Subscriptions alive now: each holds one receiver of its slot's generation.
    fn open(&self) -> usize {
        self.lock()
            .values()
            .map(|l| l.generation.receiver_count())
            .sum()
    }

    /// Wakes every subscription of the consumer `arn`, which then finds it gone.
    pub(crate) fn end_consumer(&self, arn: &str) {
        for ((consumer, _), lease) in self.lock().iter() {
            if consumer == arn {
                lease.generation.send_modify(|g| *g += 1);
            }
        }
    }

    /// Wakes every subscription of every consumer of the stream `stream_arn`.
    pub(crate) fn end_stream(&self, stream_arn: &str) {
        let prefix = format!("{stream_arn}/consumer/");
        for ((consumer, _), lease) in self.lock().iter() {
            if consumer.starts_with(&prefix) {
                lease.generation.send_modify(|g| *g += 1);
            }
        }
    }
}

#[derive(Debug)]
struct LeaseHold {
    rx: watch::Receiver<u64>,
    /// The generation this subscription was granted; any other value means it lost the slot.
    generation: u64,
}

/// A live SubscribeToShard: call [`Subscription::next_event`] until it returns `None`.
#[derive(Debug)]
pub struct Subscription {
    streams: Streams,
    stream: Arc<Stream>,
    shard: Arc<Shard>,
    consumer_arn: String,
    /// Next offset to deliver.
    offset: u64,
    visible: watch::Receiver<u64>,
    lease: LeaseHold,
    ends_at: Instant,
    heartbeat: Duration,
    next_heartbeat: Instant,
    budget_window: Instant,
    budget_used: usize,
    /// Arrival of the last record delivered, for MillisBehindLatest on heartbeats.
    last_arrival_ms: Option<i64>,
    done: bool,
    metrics: EventMetrics,
}

/// SubscribeToShardEvent.* of the subscription's consumer, and the shard's outgoing metrics.
struct EventMetrics {
    bytes: freshet_metrics::Series,
    records: freshet_metrics::Series,
    millis_behind: freshet_metrics::Series,
    success: freshet_metrics::Series,
    shard: Option<Arc<crate::metrics::ShardMetrics>>,
}

impl std::fmt::Debug for EventMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventMetrics").finish_non_exhaustive()
    }
}

impl EventMetrics {
    fn new(stream: &Stream, consumer: &str, shard: ShardId) -> Self {
        use freshet_metrics::Unit;
        let m = &stream.metrics;
        Self {
            bytes: m.consumer(consumer, "SubscribeToShardEvent.Bytes", Unit::Bytes),
            records: m.consumer(consumer, "SubscribeToShardEvent.Records", Unit::Count),
            millis_behind: m.consumer(
                consumer,
                "SubscribeToShardEvent.MillisBehindLatest",
                Unit::Milliseconds,
            ),
            success: m.consumer(consumer, "SubscribeToShardEvent.Success", Unit::Count),
            shard: m.shard(shard.0),
        }
    }

    fn event(&self, result: Option<&Result<ShardEvent, Error>>) {
        match result {
            Some(Ok(e)) => {
                let bytes: usize = e
                    .records
                    .iter()
                    .map(|r| r.data.len() + r.partition_key.len())
                    .sum();
                let records = e.records.len() as f64;
                self.success.record(1.0);
                self.bytes.record(bytes as f64);
                self.records.record(records);
                self.millis_behind.record(e.millis_behind_latest as f64);
                if let Some(s) = &self.shard {
                    s.outgoing_bytes.record(bytes as f64);
                    s.outgoing_records.record(records);
                }
            }
            Some(Err(_)) => self.success.record(0.0),
            None => {}
        }
    }
}

impl Streams {
    /// SubscribeToShard: checks the consumer, shard and starting position, takes the
    /// (consumer, shard) slot and returns the subscription. Failures here are ordinary error
    /// responses; failures later are events of the stream.
    pub fn subscribe_to_shard(&self, req: SubscribeToShard) -> Result<Subscription, Error> {
        let (stream, consumer) = self.consumer_by_arn(&req.consumer_arn)?;
        if consumer.status != ConsumerStatus::Active {
            return Err(Error::ConsumerNotActive {
                consumer_arn: consumer.arn,
                state: consumer.status.as_str(),
            });
        }
        let success = stream.metrics.consumer(
            &consumer.name,
            "SubscribeToShard.Success",
            freshet_metrics::Unit::Count,
        );
        let rate_exceeded = stream.metrics.consumer(
            &consumer.name,
            "SubscribeToShard.RateExceeded",
            freshet_metrics::Unit::Count,
        );
        let result = self.subscribe_on(&stream, &consumer, &req);
        success.record(if result.is_ok() { 1.0 } else { 0.0 });
        rate_exceeded.record(if matches!(result, Err(Error::SubscriptionInUse { .. })) {
            1.0
        } else {
            0.0
        });
        result
    }

    fn subscribe_on(
        &self,
        stream: &Arc<Stream>,
        consumer: &crate::record::ConsumerRecord,
        req: &SubscribeToShard,
    ) -> Result<Subscription, Error> {
        let stream = stream.clone();
        let consumer = consumer.clone();
        let shard = self.find_shard(&stream, &req.shard_id)?;
        let now = self.now();
        let offset = match req.start.clone() {
            // The continuation of a subscription that delivered nothing from the very start of
            // the shard: "before every record".
            IteratorStart::AfterSequence(s) if s == "0" => {
                self.start_offset(&stream, &shard, IteratorStart::TrimHorizon, now)?
            }
            start => self.start_offset(&stream, &shard, start, now)?,
        };
        let lease = self
            .inner
            .leases
            .acquire(&consumer.arn, shard.id, now)
            .ok_or_else(|| Error::SubscriptionInUse {
                consumer_arn: consumer.arn.clone(),
                shard: shard.id,
            })?;
        let visible = shard.log.watch_visible();
        let started = Instant::now();
        let heartbeat = self.inner.opts.subscription_heartbeat;
        tracing::debug!(consumer = %consumer.arn, shard = %shard.id, offset, "Subscription started.");
        let metrics = EventMetrics::new(&stream, &consumer.name, shard.id);
        Ok(Subscription {
            metrics,
            streams: self.clone(),
            stream,
            shard,
            consumer_arn: consumer.arn,
            offset,
            visible,
            lease,
            ends_at: started + self.inner.opts.subscription_lifetime,
            heartbeat,
            next_heartbeat: started + heartbeat,
            budget_window: started,
            budget_used: 0,
            last_arrival_ms: None,
            done: false,
        })
    }
}

impl Streams {
    /// How many SubscribeToShard streams are open (for health checks and tests: a client that
    /// went away must not leave one behind).
    pub fn open_subscriptions(&self) -> usize {
        self.inner.leases.open()
    }
}

impl Subscription {
    /// The shard subscribed to.
    pub fn shard(&self) -> ShardId {
        self.shard.id
    }

    /// Waits for the next event: records as soon as they are durable, a heartbeat when none
    /// arrived for the heartbeat interval, the final event at the end of a closed shard, or
    /// an error (the consumer went away, another call took over, storage failed), after
    /// which the subscription is over. `None` once it is over, including at the end of its
    /// lifetime.
    pub async fn next_event(&mut self) -> Option<Result<ShardEvent, Error>> {
        let event = self.next_event_inner().await;
        self.metrics.event(event.as_ref());
        event
    }

    async fn next_event_inner(&mut self) -> Option<Result<ShardEvent, Error>> {
        if self.done {
            return None;
        }
        loop {
            if let Err(e) = self.check_alive() {
                self.done = true;
                return Some(Err(e));
            }
            let now = Instant::now();
            if now >= self.ends_at {
                self.done = true;
                return None;
            }
            if now >= self.budget_window + Duration::from_secs(1) {
                self.budget_window = now;
                self.budget_used = 0;
            }
            let budget_left = READ_BUDGET_BYTES.saturating_sub(self.budget_used);
            if budget_left > 0 {
                match self.read(budget_left.min(MAX_EVENT_BYTES)) {
                    Ok(Some(event)) => {
                        self.next_heartbeat = now + self.heartbeat;
                        if event.continuation_sequence.is_none() {
                            self.done = true;
                        }
                        return Some(Ok(event));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            if now >= self.next_heartbeat {
                self.next_heartbeat = now + self.heartbeat;
                return Some(Ok(ShardEvent {
                    records: Vec::new(),
                    continuation_sequence: Some(self.continuation()),
                    millis_behind_latest: self.millis_behind(),
                    child_shards: Vec::new(),
                }));
            }
            let mut wake = self.next_heartbeat.min(self.ends_at);
            if budget_left == 0 {
                wake = wake.min(self.budget_window + Duration::from_secs(1));
            }
            tokio::select! {
                changed = self.visible.changed(), if budget_left > 0 => {
                    if changed.is_err() {
                        // The log is gone; the next round finds out why.
                        tokio::time::sleep_until(wake).await;
                    }
                }
                _ = self.lease.rx.changed() => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// Fails when the consumer (or its stream) is gone or another call took the slot over.
    fn check_alive(&self) -> Result<(), Error> {
        let streams = &self.streams;
        let current = streams.streams().get(&self.stream.name).cloned();
        let consumer_ok = current.is_some_and(|c| Arc::ptr_eq(&c, &self.stream))
            && self
                .stream
                .record()
                .consumers
                .iter()
                .any(|c| c.arn == self.consumer_arn && c.status == ConsumerStatus::Active);
        if !consumer_ok {
            let name = self
                .consumer_arn
                .rsplit_once("/consumer/")
                .and_then(|(_, rest)| rest.rsplit_once(':'))
                .map_or(self.consumer_arn.as_str(), |(name, _)| name);
            return Err(streams.consumer_not_found(name));
        }
        if *self.lease.rx.borrow() != self.lease.generation {
            return Err(Error::SubscriptionTakenOver {
                consumer_arn: self.consumer_arn.clone(),
                shard: self.shard.id,
            });
        }
        Ok(())
    }

    /// Reads the next records, or the shard's end. `None` when there is nothing new.
    fn read(&mut self, max_bytes: usize) -> Result<Option<ShardEvent>, Error> {
        let now = self.streams.now();
        let retention_hours = self.stream.record().retention_hours;
        // The shard as it is now: it may have been closed by a reshard since the subscription
        // started.
        let closed = self
            .stream
            .shards()
            .get(self.shard.id)
            .is_some_and(|s| s.end_offset.is_some());
        let log = &self.shard.log;
        let batch = log
            .read(
                self.offset,
                MAX_EVENT_RECORDS,
                max_bytes,
                retention_start(retention_hours, now),
            )
            .map_err(|e| Error::Storage(e.to_string()))?;
        if let Some(last) = batch.records.last() {
            self.offset = batch.next_offset;
            self.last_arrival_ms = Some(last.arrival_ms);
            let millis_behind_latest = self.millis_behind();
            self.budget_used += batch
                .records
                .iter()
                .map(|r| r.data.len() + r.partition_key.len())
                .sum::<usize>();
            let encryption = self.streams.shard_encryption(&self.stream, self.shard.id.0);
            let records = batch
                .records
                .into_iter()
                .map(|r| RecordOut {
                    sequence: self.stream.seq(self.shard.id, r.offset),
                    arrival_ms: r.arrival_ms,
                    partition_key: r.partition_key,
                    data: r.data,
                    encrypted: encryption.encrypted(r.offset),
                })
                .collect();
            return Ok(Some(ShardEvent {
                records,
                continuation_sequence: Some(self.continuation()),
                millis_behind_latest,
                child_shards: Vec::new(),
            }));
        }
        // A closed shard takes no more records, and a read returns one whenever any is left:
        // an empty read of a closed shard is its end.
        if closed {
            return Ok(Some(ShardEvent {
                records: Vec::new(),
                continuation_sequence: None,
                millis_behind_latest: 0,
                child_shards: self.children(),
            }));
        }
        Ok(None)
    }

    /// How far the cursor is behind the shard's newest record: zero when caught up (or when
    /// nothing was delivered yet to measure from).
    fn millis_behind(&self) -> i64 {
        let log = &self.shard.log;
        match (self.last_arrival_ms, log.last_arrival_ms()) {
            (Some(last), Some(newest)) if self.offset < log.next_offset() => (newest - last).max(0),
            _ => 0,
        }
    }

    /// Where a new subscription with AFTER_SEQUENCE_NUMBER picks up: the last record before
    /// the cursor, or `"0"` (before every record) at the very start of the shard.
    fn continuation(&self) -> String {
        match self.offset.checked_sub(1) {
            Some(last) => self.stream.seq(self.shard.id, last).to_string(),
            None => "0".to_owned(),
        }
    }

    /// The shards a split or merge of this shard created.
    fn children(&self) -> Vec<ChildShard> {
        self.stream.shards().children(self.shard.id)
    }

    /// The sequence number of the next record this subscription delivers (for logs and
    /// tests).
    pub fn position(&self) -> SequenceNumber {
        self.stream.seq(self.shard.id, self.offset)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        tracing::debug!(consumer = %self.consumer_arn, shard = %self.shard.id, "Subscription ended.");
    }
}
