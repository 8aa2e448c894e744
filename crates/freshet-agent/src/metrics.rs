// SPDX-License-Identifier: Apache-2.0
//! What the agent counts: the Kinesis Agent's CloudWatch metrics per destination (namespace
//! `AWSKinesisAgent` unless `cloudwatch.namespace` says otherwise, dimension `Destination`),
//! recorded into a [`Recorder`], and the totals of the progress line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use freshet_metrics::{MetricKey, Recorder, Series, Unit};

use crate::sink::Destination;

/// The metrics of one destination.
#[derive(Debug, Clone)]
pub struct DestinationMetrics {
    /// Bytes of records stored.
    pub bytes_sent: Series,
    /// Records attempted, retries included.
    pub record_send_attempts: Series,
    /// Records refused or lost in a failed call, retries included.
    pub record_send_errors: Series,
    /// Calls that failed as a whole.
    pub service_errors: Series,
    /// Records stored.
    pub records_sent: Series,
}

impl DestinationMetrics {
    /// The series of `dest` in `namespace`.
    pub fn new(recorder: &Recorder, namespace: &str, dest: &Destination) -> Self {
        let dim = dest.dimension();
        let series = |name: &str, unit: Unit| {
            recorder.series(
                MetricKey::new(namespace, name, [("Destination", dim.as_str())]),
                unit,
            )
        };
        Self {
            bytes_sent: series("BytesSent", Unit::Bytes),
            record_send_attempts: series("RecordSendAttempts", Unit::Count),
            record_send_errors: series("RecordSendErrors", Unit::Count),
            service_errors: series("ServiceErrors", Unit::Count),
            records_sent: series("RecordsSent", Unit::Count),
        }
    }
}

/// The agent's running totals (the progress line).
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    parsed: AtomicU64,
    parsed_bytes: AtomicU64,
    sent: AtomicU64,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            parsed: AtomicU64::new(0),
            parsed_bytes: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }
}

impl Progress {
    /// Counts records read from files.
    pub fn parsed(&self, records: u64, bytes: u64) {
        self.parsed.fetch_add(records, Ordering::Relaxed);
        self.parsed_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts records the destinations stored.
    pub fn sent(&self, records: u64) {
        self.sent.fetch_add(records, Ordering::Relaxed);
    }

    /// (records parsed, bytes parsed, records sent).
    pub fn totals(&self) -> (u64, u64, u64) {
        (
            self.parsed.load(Ordering::Relaxed),
            self.parsed_bytes.load(Ordering::Relaxed),
            self.sent.load(Ordering::Relaxed),
        )
    }

    /// The Kinesis Agent's progress line (scripts parse it, so the words are its words).
    pub fn line(&self) -> String {
        let (parsed, bytes, sent) = self.totals();
        format!(
            "Agent: Progress: {parsed} records parsed ({bytes} bytes), and {sent} records sent \
             successfully to destinations. Uptime: {}ms",
            self.started.elapsed().as_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_progress_line_reads_like_the_kinesis_agents() {
        let p = Progress::default();
        p.parsed(3, 42);
        p.sent(2);
        assert!(p.line().starts_with(
            "Agent: Progress: 3 records parsed (42 bytes), and 2 records sent successfully to \
             destinations. Uptime: "
        ));
    }

    #[test]
    fn metrics_carry_the_destination_dimension() {
        let recorder = Recorder::new(Arc::new(freshet_types::SystemClock));
        let m = DestinationMetrics::new(
            &recorder,
            "AWSKinesisAgent",
            &Destination::KinesisStream("s".into()),
        );
        m.records_sent.record_n(1.0, 5.0);
        let points = recorder.drain();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].key.name, "RecordsSent");
        assert_eq!(
            points[0].key.dimension("Destination"),
            Some("KinesisStream:s")
        );
        assert_eq!(points[0].value.stats.sum, 5.0);
    }
}
