// SPDX-License-Identifier: Apache-2.0
//! The AWS/Kinesis metrics a stream publishes.
//!
//! Every stream owns one [`StreamMetrics`], built when the stream is created or loaded and
//! dropped with it, holding a [`Series`] handle per stream-level metric (dimension
//! `StreamName`), so the data path never looks a metric up: recording is one clock read and
//! one uncontended lock per metric, once per request (never per record).
//!
//! Shard-level metrics (dimensions `StreamName` + `ShardId`) exist only for the metrics
//! EnableEnhancedMonitoring switched on: [`StreamMetrics::set_shard_level`] installs the
//! enabled set and forgets the per-shard handles; [`StreamMetrics::shard`] builds a shard's
//! handles on first use (one lookup per shard, not per request). While nothing is enabled
//! the shard path is one atomic load.
//!
//! What a sample is follows AWS: one sample per call, valued as AWS values it (records and
//! bytes of the call, 1/0 for success, throttled records for WriteProvisionedThroughputExceeded,
//! 1/0 per GetRecords call for ReadProvisionedThroughputExceeded).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use freshet_metrics::{MetricKey, Recorder, Series, Unit};

use crate::monitoring::SHARD_LEVEL_METRICS;

/// The namespace.
pub const NAMESPACE: &str = "AWS/Kinesis";

/// One stream's metric handles.
pub(crate) struct StreamMetrics {
    recorder: Recorder,
    stream: String,
    pub incoming_bytes: Series,
    pub incoming_records: Series,
    pub put_record_bytes: Series,
    pub put_record_latency: Series,
    pub put_record_success: Series,
    pub put_records_bytes: Series,
    pub put_records_latency: Series,
    pub put_records_records: Series,
    pub put_records_success: Series,
    pub put_records_total: Series,
    pub put_records_successful: Series,
    pub put_records_failed: Series,
    pub put_records_throttled: Series,
    pub get_records_bytes: Series,
    pub get_records_records: Series,
    pub get_records_latency: Series,
    pub get_records_success: Series,
    pub get_records_iterator_age: Series,
    pub read_exceeded: Series,
    pub write_exceeded: Series,
    /// Whether any shard-level metric is enabled (the hot path reads only this when not).
    shard_level_on: AtomicBool,
    shard_level: RwLock<ShardLevel>,
}

#[derive(Default)]
struct ShardLevel {
    /// Which of [`SHARD_LEVEL_METRICS`] are enabled.
    enabled: [bool; 7],
    /// Handles per shard index, built on first use.
    shards: HashMap<u32, Arc<ShardMetrics>>,
}

/// One shard's handles; a disabled metric's handle records nothing.
pub(crate) struct ShardMetrics {
    pub incoming_bytes: Series,
    pub incoming_records: Series,
    pub outgoing_bytes: Series,
    pub outgoing_records: Series,
    pub write_exceeded: Series,
    pub read_exceeded: Series,
    pub iterator_age: Series,
}

impl std::fmt::Debug for StreamMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamMetrics")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl StreamMetrics {
    /// The handles of stream `name`, with `shard_level` (EnableEnhancedMonitoring's names)
    /// enabled.
    pub fn new(recorder: &Recorder, name: &str, shard_level: &[String]) -> Self {
        let key = |metric: &str| MetricKey::new(NAMESPACE, metric, [("StreamName", name)]);
        let count = |metric: &str| recorder.series(key(metric), Unit::Count);
        let bytes = |metric: &str| recorder.series(key(metric), Unit::Bytes);
        let latency = |metric: &str| recorder.distribution(key(metric), Unit::Milliseconds);
        let this = Self {
            recorder: recorder.clone(),
            stream: name.to_owned(),
            incoming_bytes: bytes("IncomingBytes"),
            incoming_records: count("IncomingRecords"),
            put_record_bytes: bytes("PutRecord.Bytes"),
            put_record_latency: latency("PutRecord.Latency"),
            put_record_success: count("PutRecord.Success"),
            put_records_bytes: bytes("PutRecords.Bytes"),
            put_records_latency: latency("PutRecords.Latency"),
            put_records_records: count("PutRecords.Records"),
            put_records_success: count("PutRecords.Success"),
            put_records_total: count("PutRecords.TotalRecords"),
            put_records_successful: count("PutRecords.SuccessfulRecords"),
            put_records_failed: count("PutRecords.FailedRecords"),
            put_records_throttled: count("PutRecords.ThrottledRecords"),
            get_records_bytes: bytes("GetRecords.Bytes"),
            get_records_records: count("GetRecords.Records"),
            get_records_latency: latency("GetRecords.Latency"),
            get_records_success: count("GetRecords.Success"),
            get_records_iterator_age: recorder.series(
                key("GetRecords.IteratorAgeMilliseconds"),
                Unit::Milliseconds,
            ),
            read_exceeded: count("ReadProvisionedThroughputExceeded"),
            write_exceeded: count("WriteProvisionedThroughputExceeded"),
            shard_level_on: AtomicBool::new(false),
            shard_level: RwLock::new(ShardLevel::default()),
        };
        this.set_shard_level(shard_level);
        this
    }

    /// Switches the shard-level metrics to exactly `names` (as the stream record keeps them);
    /// handles of metrics switched off are dropped, so they stop.
    pub fn set_shard_level(&self, names: &[String]) {
        let mut enabled = [false; 7];
        for (on, metric) in enabled.iter_mut().zip(SHARD_LEVEL_METRICS) {
            *on = names.iter().any(|n| n == metric);
        }
        let mut level = self.shard_level.write().unwrap_or_else(|p| p.into_inner());
        level.enabled = enabled;
        level.shards.clear();
        self.shard_level_on.store(
            self.recorder.enabled() && enabled.iter().any(|e| *e),
            Ordering::Release,
        );
    }

    /// Whether any shard-level metric is being recorded.
    pub fn shard_level_on(&self) -> bool {
        self.shard_level_on.load(Ordering::Acquire)
    }

    /// The handles of shard `index`, if any shard-level metric is enabled.
    pub fn shard(&self, index: u32) -> Option<Arc<ShardMetrics>> {
        if !self.shard_level_on() {
            return None;
        }
        if let Some(s) = self
            .shard_level
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .shards
            .get(&index)
        {
            return Some(s.clone());
        }
        let mut level = self.shard_level.write().unwrap_or_else(|p| p.into_inner());
        let enabled = level.enabled;
        let made = level
            .shards
            .entry(index)
            .or_insert_with(|| Arc::new(self.shard_handles(index, &enabled)))
            .clone();
        Some(made)
    }

    fn shard_handles(&self, index: u32, enabled: &[bool; 7]) -> ShardMetrics {
        let shard = freshet_types::ShardId(index).to_string();
        let off = Recorder::disabled();
        let make = |i: usize, unit: Unit| {
            let r = if enabled[i] { &self.recorder } else { &off };
            let key = MetricKey::new(
                NAMESPACE,
                SHARD_LEVEL_METRICS[i],
                [("StreamName", self.stream.as_str()), ("ShardId", &shard)],
            );
            r.series(key, unit)
        };
        ShardMetrics {
            incoming_bytes: make(0, Unit::Bytes),
            incoming_records: make(1, Unit::Count),
            outgoing_bytes: make(2, Unit::Bytes),
            outgoing_records: make(3, Unit::Count),
            write_exceeded: make(4, Unit::Count),
            read_exceeded: make(5, Unit::Count),
            iterator_age: make(6, Unit::Milliseconds),
        }
    }

    /// The series of an enhanced fan-out consumer's metric (once per subscription).
    pub fn consumer(&self, consumer: &str, metric: &str, unit: Unit) -> Series {
        self.recorder.series(
            MetricKey::new(
                NAMESPACE,
                metric,
                [
                    ("StreamName", self.stream.as_str()),
                    ("ConsumerName", consumer),
                ],
            ),
            unit,
        )
    }
}

/// Milliseconds since `start`, as a latency sample.
pub(crate) fn elapsed_ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// What one PutRecords call did, for its metrics.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PutRecordsOutcome {
    pub total: u64,
    pub stored: u64,
    pub stored_bytes: u64,
    pub throttled: u64,
}

impl StreamMetrics {
    /// Records one PutRecords call (`None`: it failed as a whole).
    pub fn put_records(&self, o: Option<PutRecordsOutcome>, latency_ms: f64) {
        // One clock read for the call's dozen series.
        let now = self.recorder.now_ms();
        self.put_records_latency.record_at(now, latency_ms);
        let Some(o) = o else {
            self.put_records_success.record_at(now, 0.0);
            return;
        };
        self.put_records_success
            .record_at(now, if o.stored > 0 { 1.0 } else { 0.0 });
        self.put_records_total.record_at(now, o.total as f64);
        self.put_records_successful.record_at(now, o.stored as f64);
        self.put_records_failed
            .record_at(now, (o.total - o.stored - o.throttled) as f64);
        self.put_records_throttled
            .record_at(now, o.throttled as f64);
        self.put_records_records.record_at(now, o.stored as f64);
        self.put_records_bytes.record_at(now, o.stored_bytes as f64);
        self.write_exceeded.record_at(now, o.throttled as f64);
        if o.stored > 0 {
            self.incoming_records.record_at(now, o.stored as f64);
            self.incoming_bytes.record_at(now, o.stored_bytes as f64);
        }
    }

    /// Records one PutRecord call: `Some(bytes)` when stored; `throttled` when refused by
    /// the shard's write quota.
    pub fn put_record(&self, stored_bytes: Option<u64>, throttled: bool, latency_ms: f64) {
        let now = self.recorder.now_ms();
        self.put_record_latency.record_at(now, latency_ms);
        self.write_exceeded
            .record_at(now, if throttled { 1.0 } else { 0.0 });
        match stored_bytes {
            Some(b) => {
                self.put_record_success.record_at(now, 1.0);
                self.put_record_bytes.record_at(now, b as f64);
                self.incoming_records.record_at(now, 1.0);
                self.incoming_bytes.record_at(now, b as f64);
            }
            None => self.put_record_success.record_at(now, 0.0),
        }
    }
}
