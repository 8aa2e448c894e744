// SPDX-License-Identifier: Apache-2.0
//! The collector: drains the services' [`Recorder`] into the [`MetricStore`] about once a
//! second, and samples their gauges once a minute.

use std::sync::Arc;
use std::time::Duration;

use freshet_metrics::Recorder;
use freshet_runtime::{Component, Periodic};

use crate::store::MetricStore;

/// How often the recorder is drained.
pub const DRAIN_EVERY: Duration = Duration::from_secs(1);

/// The collector component.
pub fn component(recorder: Recorder, store: Arc<MetricStore>) -> Arc<dyn Component> {
    let last_gauge_minute = Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN));
    Periodic::new("cloudwatch-collector", DRAIN_EVERY, move || {
        let recorder = recorder.clone();
        let store = store.clone();
        let last = last_gauge_minute.clone();
        async move {
            let minute = freshet_metrics::minute_of(store.clock().now_ms());
            if last.swap(minute, std::sync::atomic::Ordering::Relaxed) != minute {
                recorder.sample_gauges();
            }
            let points = recorder.drain();
            if !points.is_empty()
                && let Err(e) = store.ingest(points).await
            {
                tracing::warn!(error = %e, "Could not store collected metrics.");
            }
        }
    })
}
