// SPDX-License-Identifier: Apache-2.0
//! The collector: drains the services' [`Recorder`] into the [`MetricStore`] about once a
//! second, and samples their gauges once a minute. Deltas the store could not take (a
//! storage failure) are kept and offered again on the next tick, up to
//! [`MAX_RETRY_POINTS`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freshet_metrics::{Point, Recorder};
use freshet_runtime::{Component, Periodic};

use crate::store::MetricStore;

/// How often the recorder is drained.
pub const DRAIN_EVERY: Duration = Duration::from_secs(1);

/// The most deltas kept for a retry while the store fails (the oldest go first).
pub const MAX_RETRY_POINTS: usize = 100_000;

/// Drains one recorder into one store.
#[derive(Debug)]
pub struct Collector {
    recorder: Recorder,
    store: Arc<MetricStore>,
    last_gauge_minute: AtomicI64,
    retry: Mutex<Vec<Point>>,
}

impl Collector {
    /// A collector of `recorder` into `store`.
    pub fn new(recorder: Recorder, store: Arc<MetricStore>) -> Self {
        Self {
            recorder,
            store,
            last_gauge_minute: AtomicI64::new(i64::MIN),
            retry: Mutex::new(Vec::new()),
        }
    }

    /// One round: samples the gauges when a new minute started, drains the recorder and
    /// stores the deltas (with any the store refused last time).
    pub async fn tick(&self) {
        let minute = freshet_metrics::minute_of(self.store.clock().now_ms());
        if self.last_gauge_minute.swap(minute, Ordering::Relaxed) != minute {
            self.recorder.sample_gauges();
        }
        let mut points = std::mem::take(&mut *lock(&self.retry));
        points.extend(self.recorder.drain());
        if points.is_empty() {
            return;
        }
        if let Err(e) = self.store.ingest(points.clone()).await {
            tracing::warn!(
                error = %e,
                points = points.len(),
                "Could not store collected metrics; retrying on the next tick."
            );
            let over = points.len().saturating_sub(MAX_RETRY_POINTS);
            points.drain(..over);
            let mut retry = lock(&self.retry);
            points.append(&mut retry);
            *retry = points;
        }
    }
}

/// The collector component.
pub fn component(recorder: Recorder, store: Arc<MetricStore>) -> Arc<dyn Component> {
    let collector = Arc::new(Collector::new(recorder, store));
    Periodic::new("cloudwatch-collector", DRAIN_EVERY, move || {
        let collector = collector.clone();
        async move { collector.tick().await }
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Query;
    use freshet_log::LogConfig;
    use freshet_metrics::{MetricKey, Unit};
    use freshet_runtime::{Platform, Tasks};
    use freshet_types::ManualClock;
    use freshet_types::clock::Clock;

    #[tokio::test]
    async fn a_tick_moves_what_services_recorded_into_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_800_000_000_000);
        let platform = Platform::open_local(
            dir.path(),
            LogConfig::default(),
            Arc::new(clock.clone()),
            Tasks::detached(),
        )
        .unwrap();
        let store = MetricStore::open(&platform).unwrap();
        let recorder = Recorder::new(Arc::new(clock.clone()));
        let key = MetricKey::new("AWS/Kinesis", "IncomingRecords", [("StreamName", "s")]);
        let series = recorder.series(key.clone(), Unit::Count);
        let collector = Collector::new(recorder, store.clone());
        series.record_n(1.0, 3.0);
        collector.tick().await;
        series.record_n(1.0, 2.0);
        collector.tick().await;
        let minute = freshet_metrics::minute_of(clock.now_ms());
        let got = store
            .query(&Query {
                key: &key,
                start_ms: minute,
                end_ms: minute + 60_000,
                period_s: 60,
                unit: None,
            })
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.stats.sum, 5.0);
    }
}
