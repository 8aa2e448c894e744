// SPDX-License-Identifier: Apache-2.0
//! The metric store: datapoints per metric, merged per period, kept under AWS's retention
//! tiers, queried by period; and the index of metrics behind ListMetrics.
//!
//! The contract (what the API, alarms, math and Prometheus rely on):
//! - [`MetricStore::put`] is durable when it returns (PutMetricData acknowledges after it).
//! - [`MetricStore::ingest`] takes the collector's per-minute deltas; they are merged into the
//!   minute's datapoint (a minute's datapoint is the merge of every delta and every put for
//!   it), and are durable within about a second.
//! - [`MetricStore::query`] answers one metric's datapoints in `[start, end)` aggregated
//!   into `period`-long buckets starting at `start` (callers align `start` as AWS does), from
//!   the finest tier that still holds that range.
//!
//! REFERENCE IMPLEMENTATION: everything in memory, nothing durable, no tiers. The durable
//! tiered store replaces the inside of this module behind the same API.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use freshet_metrics::{Datapoint, MetricKey, Point, Unit};
use freshet_runtime::Platform;
use freshet_types::clock::Clock;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing storage failed.
    #[error("metric storage: {0}")]
    Storage(String),
}

/// What [`MetricStore::query`] reads.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The metric (dimensions match exactly).
    pub key: &'a MetricKey,
    /// Inclusive start, epoch ms; the first bucket starts here.
    pub start_ms: i64,
    /// Exclusive end, epoch ms.
    pub end_ms: i64,
    /// Bucket length in seconds (1, 5, 10, 30 or a multiple of 60).
    pub period_s: u32,
    /// Only datapoints recorded in this unit, when set.
    pub unit: Option<Unit>,
}

/// Which metrics [`MetricStore::list`] returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this metric name.
    pub name: Option<String>,
    /// Each must be a dimension of the metric; with a value, with that value.
    pub dimensions: Vec<(String, Option<String>)>,
    /// Only metrics with a datapoint at or after this time (epoch ms).
    pub active_since_ms: Option<i64>,
}

impl ListFilter {
    /// Whether `key` passes the name filters (not the activity filter).
    pub fn matches(&self, key: &MetricKey) -> bool {
        self.namespace.as_ref().is_none_or(|n| *n == key.namespace)
            && self.name.as_ref().is_none_or(|n| *n == key.name)
            && self.dimensions.iter().all(|(name, value)| {
                key.dimension(name)
                    .is_some_and(|v| value.as_ref().is_none_or(|want| want == v))
            })
    }
}

/// One metric's datapoints by (timestamp, resolution).
type Points = BTreeMap<(i64, u32), Datapoint>;

/// The metric store.
pub struct MetricStore {
    clock: Arc<dyn Clock>,
    series: Mutex<HashMap<Arc<MetricKey>, Points>>,
}

impl std::fmt::Debug for MetricStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricStore").finish_non_exhaustive()
    }
}

impl MetricStore {
    /// Opens (and recovers) the store on `platform`.
    pub fn open(platform: &Platform) -> Result<Arc<Self>, StoreError> {
        Ok(Arc::new(Self {
            clock: platform.clock.clone(),
            series: Mutex::new(HashMap::new()),
        }))
    }

    /// The store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Adds PutMetricData's points; durable when it returns.
    pub async fn put(&self, points: Vec<Point>) -> Result<(), StoreError> {
        self.merge(points);
        Ok(())
    }

    /// Adds the collector's deltas (durable within about a second).
    pub async fn ingest(&self, points: Vec<Point>) -> Result<(), StoreError> {
        self.merge(points);
        Ok(())
    }

    fn merge(&self, points: Vec<Point>) {
        let mut series = lock(&self.series);
        for p in points {
            let at = series.entry(p.key).or_default();
            match at.get_mut(&(p.timestamp_ms, p.resolution_s)) {
                Some(dp) => dp.merge(&p.value),
                None => {
                    at.insert((p.timestamp_ms, p.resolution_s), p.value);
                }
            }
        }
    }

    /// One metric's datapoints in `[q.start_ms, q.end_ms)`, one per non-empty bucket, as
    /// `(bucket start, merged datapoint)` in time order.
    pub async fn query(&self, q: &Query<'_>) -> Result<Vec<(i64, Datapoint)>, StoreError> {
        let series = lock(&self.series);
        let Some(points) = series.get(q.key) else {
            return Ok(Vec::new());
        };
        let period = i64::from(q.period_s.max(1)) * 1000;
        let mut out: Vec<(i64, Datapoint)> = Vec::new();
        for ((ts, _), dp) in points.range((q.start_ms, 0)..(q.end_ms, 0)) {
            if q.unit.is_some_and(|u| u != dp.unit) {
                continue;
            }
            let bucket = q.start_ms + (ts - q.start_ms).div_euclid(period) * period;
            match out.last_mut() {
                Some((b, acc)) if *b == bucket => acc.merge(dp),
                _ => out.push((bucket, dp.clone())),
            }
        }
        Ok(out)
    }

    /// Metrics passing `filter`, in key order, after `after` (exclusive), at most `limit`.
    pub fn list(
        &self,
        filter: &ListFilter,
        after: Option<&MetricKey>,
        limit: usize,
    ) -> Vec<Arc<MetricKey>> {
        let series = lock(&self.series);
        let mut keys: Vec<Arc<MetricKey>> = series
            .iter()
            .filter(|(k, points)| {
                filter.matches(k)
                    && after.is_none_or(|a| k.as_ref() > a)
                    && filter.active_since_ms.is_none_or(|since| {
                        points
                            .keys()
                            .next_back()
                            .is_some_and(|(ts, _)| *ts >= since)
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys.truncate(limit);
        keys
    }

    /// Every metric's newest datapoint at `resolution_s` or coarser… as `(metric, timestamp,
    /// datapoint)`; for the Prometheus exposition.
    pub fn latest(&self) -> Vec<(Arc<MetricKey>, i64, Datapoint)> {
        let series = lock(&self.series);
        series
            .iter()
            .filter_map(|(k, points)| {
                points
                    .iter()
                    .next_back()
                    .map(|((ts, _), dp)| (k.clone(), *ts, dp.clone()))
            })
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
