// SPDX-License-Identifier: Apache-2.0
//! The AWS/Firehose metrics a delivery stream publishes (dimension `DeliveryStreamName`).
//!
//! Handles are built once per stream ([`Firehose::stream_metrics`]) and kept with its live
//! state, so a put records without looking a metric up. One sample per call: a
//! PutRecordBatch of 500 records is one IncomingRecords sample valued 500. Delivery records
//! one sample per object written. DeliveryToS3.DataFreshness (the age of the oldest
//! undelivered DirectPut record, in seconds) is a gauge sampled once a minute
//! (DeliveryToHttpEndpoint.DataFreshness for an HTTP endpoint stream). The transform
//! records once per Lambda invocation, a Kinesis source once per read batch, an HTTP
//! endpoint once per request.

use std::sync::Arc;

use freshet_metrics::{GaugeSource, MetricKey, Recorder, Series, Unit};

use crate::firehose::{Firehose, Inner, lock};
use crate::model::Destination;

/// The namespace.
pub const NAMESPACE: &str = "AWS/Firehose";

/// Which API call a put was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOp {
    /// PutRecord.
    PutRecord,
    /// PutRecordBatch.
    PutRecordBatch,
}

/// One delivery stream's handles.
#[derive(Debug)]
pub struct StreamMetrics {
    pub(crate) incoming_bytes: Series,
    pub(crate) incoming_records: Series,
    pub(crate) incoming_put_requests: Series,
    pub(crate) throttled_records: Series,
    pub(crate) put_record_bytes: Series,
    pub(crate) put_record_latency: Series,
    pub(crate) put_record_requests: Series,
    pub(crate) batch_bytes: Series,
    pub(crate) batch_latency: Series,
    pub(crate) batch_records: Series,
    pub(crate) batch_requests: Series,
    pub(crate) s3_bytes: Series,
    pub(crate) s3_records: Series,
    pub(crate) s3_success: Series,
    pub(crate) s3_objects: Series,
    pub(crate) backup_bytes: Series,
    pub(crate) backup_records: Series,
    pub(crate) backup_success: Series,
    pub(crate) execute_duration: Series,
    pub(crate) execute_success: Series,
    pub(crate) succeed_records: Series,
    pub(crate) succeed_bytes: Series,
    pub(crate) http_bytes: Series,
    pub(crate) http_records: Series,
    pub(crate) http_success: Series,
    pub(crate) kinesis_read_bytes: Series,
    pub(crate) kinesis_read_records: Series,
    pub(crate) kinesis_behind: Series,
}

impl StreamMetrics {
    /// The handles of stream `name`.
    pub fn new(r: &Recorder, name: &str) -> Self {
        let key = |m: &str| MetricKey::new(NAMESPACE, m, [("DeliveryStreamName", name)]);
        let count = |m: &str| r.series(key(m), Unit::Count);
        let bytes = |m: &str| r.series(key(m), Unit::Bytes);
        Self {
            incoming_bytes: bytes("IncomingBytes"),
            incoming_records: count("IncomingRecords"),
            incoming_put_requests: count("IncomingPutRequests"),
            throttled_records: count("ThrottledRecords"),
            put_record_bytes: bytes("PutRecord.Bytes"),
            put_record_latency: r.distribution(key("PutRecord.Latency"), Unit::Milliseconds),
            put_record_requests: count("PutRecord.Requests"),
            batch_bytes: bytes("PutRecordBatch.Bytes"),
            batch_latency: r.distribution(key("PutRecordBatch.Latency"), Unit::Milliseconds),
            batch_records: count("PutRecordBatch.Records"),
            batch_requests: count("PutRecordBatch.Requests"),
            s3_bytes: bytes("DeliveryToS3.Bytes"),
            s3_records: count("DeliveryToS3.Records"),
            s3_success: count("DeliveryToS3.Success"),
            s3_objects: count("DeliveryToS3.ObjectCount"),
            backup_bytes: bytes("BackupToS3.Bytes"),
            backup_records: count("BackupToS3.Records"),
            backup_success: count("BackupToS3.Success"),
            execute_duration: r.distribution(key("ExecuteProcessing.Duration"), Unit::Milliseconds),
            execute_success: count("ExecuteProcessing.Success"),
            succeed_records: count("SucceedProcessing.Records"),
            succeed_bytes: bytes("SucceedProcessing.Bytes"),
            http_bytes: bytes("DeliveryToHttpEndpoint.Bytes"),
            http_records: count("DeliveryToHttpEndpoint.Records"),
            http_success: count("DeliveryToHttpEndpoint.Success"),
            kinesis_read_bytes: bytes("DataReadFromKinesisStream.Bytes"),
            kinesis_read_records: count("DataReadFromKinesisStream.Records"),
            kinesis_behind: r.series(key("KinesisMillisBehindLatest"), Unit::Milliseconds),
        }
    }

    /// A DirectPut call that stored `records` records of `bytes` bytes and throttled
    /// `throttled` more.
    pub(crate) fn put(
        &self,
        op: Option<PutOp>,
        records: u64,
        bytes: u64,
        throttled: u64,
        latency_ms: f64,
    ) {
        self.incoming_put_requests.record(1.0);
        self.incoming_records.record(records as f64);
        self.incoming_bytes.record(bytes as f64);
        self.throttled_records.record(throttled as f64);
        match op {
            Some(PutOp::PutRecord) => {
                self.put_record_requests.record(1.0);
                self.put_record_bytes.record(bytes as f64);
                self.put_record_latency.record(latency_ms);
            }
            Some(PutOp::PutRecordBatch) => {
                self.batch_requests.record(1.0);
                self.batch_records.record(records as f64);
                self.batch_bytes.record(bytes as f64);
                self.batch_latency.record(latency_ms);
            }
            None => {}
        }
    }

    /// An object written to S3: `backup` for the source-record backup.
    pub(crate) fn delivered(&self, backup: bool, records: u64, bytes: u64) {
        let (b, r, s) = if backup {
            (
                &self.backup_bytes,
                &self.backup_records,
                &self.backup_success,
            )
        } else {
            (&self.s3_bytes, &self.s3_records, &self.s3_success)
        };
        b.record(bytes as f64);
        r.record(records as f64);
        s.record(1.0);
        if !backup {
            self.s3_objects.record(1.0);
        }
    }

    /// One Lambda invocation of the transform that took `duration_ms` and succeeded or not
    /// (a failed attempt that is retried counts as one failed invocation).
    pub(crate) fn executed(&self, duration_ms: f64, ok: bool) {
        self.execute_duration.record(duration_ms);
        self.execute_success.record(if ok { 1.0 } else { 0.0 });
    }

    /// The records (and their bytes) one invocation returned `Ok`.
    pub(crate) fn processed(&self, records: u64, bytes: u64) {
        self.succeed_records.record(records as f64);
        self.succeed_bytes.record(bytes as f64);
    }

    /// One HTTP endpoint delivery attempt: `Some((records, bytes))` when the endpoint took
    /// the request, `None` for a failed attempt (Success 0).
    pub(crate) fn http_attempt(&self, delivered: Option<(u64, u64)>) {
        match delivered {
            Some((records, bytes)) => {
                self.http_records.record(records as f64);
                self.http_bytes.record(bytes as f64);
                self.http_success.record(1.0);
            }
            None => self.http_success.record(0.0),
        }
    }

    /// One read batch of a `KinesisStreamAsSource` stream: its records, their bytes, and how
    /// far behind the tip of the source stream the read was.
    pub(crate) fn kinesis_read(&self, records: u64, bytes: u64, behind_ms: Option<i64>) {
        self.kinesis_read_records.record(records as f64);
        self.kinesis_read_bytes.record(bytes as f64);
        if let Some(ms) = behind_ms {
            self.kinesis_behind.record(ms.max(0) as f64);
        }
    }
}

impl Firehose {
    /// The metric handles of stream `name` (built on first use, then shared).
    pub fn stream_metrics(&self, name: &str) -> Arc<StreamMetrics> {
        let mut map = self.inner.metrics.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_owned())
            .or_insert_with(|| Arc::new(StreamMetrics::new(&self.inner.opts.recorder, name)))
            .clone()
    }

    /// Forgets a deleted stream's handles.
    pub(crate) fn forget_metrics(&self, name: &str) {
        self.inner
            .metrics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }
}

/// Samples DeliveryToS3.DataFreshness of every DirectPut stream with live state.
pub(crate) struct Freshness {
    pub(crate) fh: std::sync::Weak<Inner>,
}

impl GaugeSource for Freshness {
    fn sample(&self, now_ms: i64, out: &mut Vec<(MetricKey, Unit, f64)>) {
        let Some(inner) = self.fh.upgrade() else {
            return;
        };
        let fh = Firehose { inner };
        let Ok(records) = fh.records() else { return };
        for rec in records {
            let Some(live) = lock(&fh.inner.live).get(&rec.id).cloned() else {
                continue;
            };
            let next = fh.checkpoint(&rec.id).map_or(0, |cp| cp.next_offset);
            // The oldest undelivered record is the first one after the checkpoint.
            let age_s = if live.log.next_offset() > next {
                live.log
                    .read(next, 1, 1 << 20, i64::MIN)
                    .ok()
                    .and_then(|b| {
                        b.records
                            .first()
                            .map(|r| (now_ms - r.arrival_ms).max(0) / 1000)
                    })
                    .unwrap_or(0)
            } else {
                0
            };
            // An HTTP endpoint stream's freshness is its endpoint's (its bucket gets only
            // failures).
            let metric = match rec.destination {
                Destination::HttpEndpoint(_) => "DeliveryToHttpEndpoint.DataFreshness",
                Destination::ExtendedS3(_) => "DeliveryToS3.DataFreshness",
            };
            out.push((
                MetricKey::new(
                    NAMESPACE,
                    metric,
                    [("DeliveryStreamName", rec.name.as_str())],
                ),
                Unit::Seconds,
                age_s as f64,
            ));
        }
    }
}
