// SPDX-License-Identifier: Apache-2.0
//! What a benchmark measures: per-worker recorders merged into one report.
//!
//! Each worker owns a [`Recorder`] (no sharing on the request path); the live progress line
//! reads a few shared atomics in [`Live`]. Latencies are kept in microseconds in an HDR
//! histogram with 3 significant digits, so p99.9 and max are exact enough at any rate.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histograms track (60 s); slower samples are clamped to it.
const MAX_TRACKED_US: u64 = 60_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds"))
    }
}

impl Latencies {
    /// Records one sample.
    pub fn record(&mut self, d: Duration) {
        self.record_us(d.as_micros().min(u128::from(MAX_TRACKED_US)) as u64);
    }

    /// Records one sample given in microseconds.
    pub fn record_us(&mut self, us: u64) {
        self.0.saturating_record(us.clamp(1, MAX_TRACKED_US));
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// The summary, or `None` without samples.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.0.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(LatencySummary {
            samples: self.0.len(),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            p999_ms: ms(self.0.value_at_quantile(0.999)),
            max_ms: ms(self.0.max()),
        })
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub samples: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest sample.
    pub max_ms: f64,
}

/// What one worker saw during the measured window.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Successful requests.
    pub requests: u64,
    /// Records written or read successfully.
    pub records: u64,
    /// Payload bytes (data plus partition keys) of those records.
    pub bytes: u64,
    /// Latency of every request, successful or not.
    pub latency: Latencies,
    /// Failures by AWS error code (or transport error kind); entry-level failures inside
    /// PutRecords count once per record.
    pub errors: BTreeMap<String, u64>,
}

impl Recorder {
    /// Counts one failure of `kind`.
    pub fn error(&mut self, kind: impl Into<String>, n: u64) {
        *self.errors.entry(kind.into()).or_default() += n;
    }

    /// Counts one answered write of `sent` records carrying `bytes`, of which `stored` were
    /// stored (sizes are uniform, so stored bytes are proportional) and the rest failed with
    /// the codes in `failures`.
    pub fn answered(
        &mut self,
        sent: u64,
        stored: u64,
        bytes: u64,
        latency: Duration,
        failures: impl IntoIterator<Item = impl Into<String>>,
    ) {
        self.requests += 1;
        self.records += stored;
        self.bytes += bytes * stored / sent.max(1);
        self.latency.record(latency);
        for code in failures {
            self.error(code, 1);
        }
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, other: &Recorder) {
        self.requests += other.requests;
        self.records += other.records;
        self.bytes += other.bytes;
        self.latency.merge(&other.latency);
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }

    /// The report section for this traffic over `elapsed`.
    pub fn traffic(&self, elapsed: Duration) -> Traffic {
        let secs = elapsed.as_secs_f64().max(1e-9);
        Traffic {
            requests: self.requests,
            records: self.records,
            bytes: self.bytes,
            requests_per_s: self.requests as f64 / secs,
            records_per_s: self.records as f64 / secs,
            mib_per_s: self.bytes as f64 / secs / (1024.0 * 1024.0),
            latency: self.latency.summary(),
            errors: self.errors.clone(),
        }
    }
}

/// Throughput, latency and errors of one kind of request.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    /// Successful requests.
    pub requests: u64,
    /// Records moved.
    pub records: u64,
    /// Bytes moved (data plus partition keys).
    pub bytes: u64,
    /// Successful requests per second.
    pub requests_per_s: f64,
    /// Records per second.
    pub records_per_s: f64,
    /// MiB per second.
    pub mib_per_s: f64,
    /// Request latency; absent when nothing completed.
    pub latency: Option<LatencySummary>,
    /// Failures by error code.
    pub errors: BTreeMap<String, u64>,
}

/// Counters the progress line reads while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    /// Records written (or read, for read-only scenarios).
    pub records: AtomicU64,
    /// Failed requests or entries.
    pub errors: AtomicU64,
}

impl Live {
    /// Adds `n` records.
    pub fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `n` failures.
    pub fn add_errors(&self, n: u64) {
        self.errors.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_merge() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=100u64 {
            a.latency.record_us(i * 1000);
        }
        b.latency.record_us(500_000);
        a.records = 10;
        b.records = 5;
        b.error("ProvisionedThroughputExceededException", 3);
        a.merge(&b);
        let t = a.traffic(Duration::from_secs(5));
        assert_eq!(t.records, 15);
        assert!((t.records_per_s - 3.0).abs() < 1e-9);
        let l = t.latency.expect("samples");
        assert_eq!(l.samples, 101);
        assert!((l.p50_ms - 51.0).abs() < 0.1, "{l:?}");
        assert!((l.max_ms - 500.0).abs() < 0.5, "{l:?}");
        assert_eq!(t.errors["ProvisionedThroughputExceededException"], 3);
    }

    #[test]
    fn empty_has_no_latency() {
        assert!(
            Recorder::default()
                .traffic(Duration::ZERO)
                .latency
                .is_none()
        );
    }
}
