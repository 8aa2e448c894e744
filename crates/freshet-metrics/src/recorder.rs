// SPDX-License-Identifier: Apache-2.0
//! The in-process recorder services count into.
//!
//! A service asks the [`Recorder`] once for a [`Series`] handle per metric it publishes (per
//! stream, per function…) and keeps it; recording is then one clock read and one uncontended
//! lock. A series keeps what was recorded since the last [`Recorder::drain`] as per-minute
//! [`Datapoint`]s; CloudWatch's collector drains every series about once a second and merges
//! the deltas into its store, so a metric is visible a second after it happens and a minute's
//! datapoint is the merge of its deltas (count, sum, min, max and sketch all merge exactly).
//!
//! Values that describe a state rather than an event (queue depth, data freshness) come from
//! [`GaugeSource`]s, which the collector samples once a minute through
//! [`Recorder::sample_gauges`].
//!
//! A disabled recorder ([`Recorder::disabled`]) hands out series that do nothing, which is
//! how metrics are switched off (and how their cost is measured).
//!
//! Bounded: a series keeps at most [`MAX_PENDING_MINUTES`] undrained minutes (the oldest go
//! first, only if the collector has stopped), and series nobody holds and with nothing
//! pending are forgotten at the next drain.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use freshet_types::clock::Clock;

use crate::key::{MetricKey, Unit};
use crate::minute_of;
use crate::stats::{Datapoint, Point, Sketch, StatSet};

/// The most undrained minutes a series keeps.
pub const MAX_PENDING_MINUTES: usize = 1_440;

/// Where services record metrics; cheap to clone.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Option<Arc<Inner>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

struct Inner {
    clock: Arc<dyn Clock>,
    series: RwLock<HashMap<Arc<MetricKey>, Arc<Cell>>>,
    gauges: Mutex<Vec<Weak<dyn GaugeSource>>>,
}

struct Cell {
    key: Arc<MetricKey>,
    unit: Unit,
    percentiles: bool,
    /// Undrained (minute start, datapoint), oldest first, at most one per minute.
    pending: Mutex<Vec<(i64, Datapoint)>>,
}

/// A handle on one metric; recording through it is cheap. Cloning shares the series.
#[derive(Clone)]
pub struct Series {
    cell: Option<Arc<Cell>>,
    clock: Option<Arc<dyn Clock>>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cell {
            Some(c) => write!(f, "Series({})", c.key),
            None => f.write_str("Series(disabled)"),
        }
    }
}

/// Something whose state is sampled as metrics once a minute (queue depths, ages).
pub trait GaugeSource: Send + Sync {
    /// Appends `(metric, unit, value)` for each gauge as of `now_ms`.
    fn sample(&self, now_ms: i64, out: &mut Vec<(MetricKey, Unit, f64)>);
}

impl Recorder {
    /// A recorder on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Some(Arc::new(Inner {
                clock,
                series: RwLock::new(HashMap::new()),
                gauges: Mutex::new(Vec::new()),
            })),
        }
    }

    /// A recorder that records nothing (metrics off).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// The recorder's clock (0 when disabled): a caller recording several series for one
    /// request reads it once and records each with [`Series::record_at`].
    pub fn now_ms(&self) -> i64 {
        self.inner.as_ref().map_or(0, |i| i.clock.now_ms())
    }

    /// Whether it records.
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The series of `key` (created on first use; every call for one key shares it). Its
    /// datapoints carry `unit` and no percentiles.
    pub fn series(&self, key: MetricKey, unit: Unit) -> Series {
        self.handle(key, unit, false)
    }

    /// Like [`Recorder::series`], but its datapoints also keep a [`Sketch`], so percentile
    /// statistics (`p99`) can be asked of it. For latencies and durations.
    pub fn distribution(&self, key: MetricKey, unit: Unit) -> Series {
        self.handle(key, unit, true)
    }

    fn handle(&self, key: MetricKey, unit: Unit, percentiles: bool) -> Series {
        let Some(inner) = &self.inner else {
            return Series {
                cell: None,
                clock: None,
            };
        };
        if let Some(cell) = read(&inner.series).get(&key) {
            return Series {
                cell: Some(cell.clone()),
                clock: Some(inner.clock.clone()),
            };
        }
        let key = Arc::new(key);
        let cell = write(&inner.series)
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Cell {
                    key,
                    unit,
                    percentiles,
                    pending: Mutex::new(Vec::new()),
                })
            })
            .clone();
        Series {
            cell: Some(cell),
            clock: Some(inner.clock.clone()),
        }
    }

    /// Registers a gauge source; it is sampled until it is dropped.
    pub fn add_gauges(&self, source: Weak<dyn GaugeSource>) {
        if let Some(inner) = &self.inner {
            lock(&inner.gauges).push(source);
        }
    }

    /// Samples every live gauge source as of now and records the values.
    pub fn sample_gauges(&self) {
        let Some(inner) = &self.inner else { return };
        let sources: Vec<Arc<dyn GaugeSource>> = {
            let mut gauges = lock(&inner.gauges);
            gauges.retain(|g| g.strong_count() > 0);
            gauges.iter().filter_map(Weak::upgrade).collect()
        };
        let now = inner.clock.now_ms();
        let mut out = Vec::new();
        for s in sources {
            s.sample(now, &mut out);
        }
        for (key, unit, v) in out {
            self.series(key, unit).record(v);
        }
    }

    /// Takes everything recorded since the last drain, as one point per series and minute
    /// (the deltas: a store merges points of one series and minute). Forgets series nobody
    /// holds that have nothing pending.
    pub fn drain(&self) -> Vec<Point> {
        let Some(inner) = &self.inner else {
            return Vec::new();
        };
        let mut points = Vec::new();
        let mut idle = Vec::new();
        for (key, cell) in read(&inner.series).iter() {
            let pending = std::mem::take(&mut *lock(&cell.pending));
            if pending.is_empty() && Arc::strong_count(cell) == 1 {
                idle.push(key.clone());
            }
            points.extend(pending.into_iter().map(|(minute, value)| Point {
                key: cell.key.clone(),
                timestamp_ms: minute,
                resolution_s: 60,
                value,
            }));
        }
        if !idle.is_empty() {
            let mut series = write(&inner.series);
            for key in idle {
                // Still idle under the write lock: nobody took a handle in between.
                if series.get(&key).is_some_and(|c| Arc::strong_count(c) == 1) {
                    series.remove(&key);
                }
            }
        }
        points
    }

    /// How many series it tracks.
    pub fn series_count(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| read(&i.series).len())
    }
}

impl Series {
    /// Records one value now.
    pub fn record(&self, v: f64) {
        if let (Some(cell), Some(clock)) = (&self.cell, &self.clock) {
            cell.add(clock.now_ms(), &StatSet::one(v), Some((v, 1.0)));
        }
    }

    /// Records one value at `ts_ms` (metric filters count log events at their timestamp).
    pub fn record_at(&self, ts_ms: i64, v: f64) {
        if let Some(cell) = &self.cell {
            cell.add(ts_ms, &StatSet::one(v), Some((v, 1.0)));
        }
    }

    /// Records `count` occurrences of `v` now (one PutRecords call of 500 records is
    /// `record_n(1.0, 500.0)` for a per-record success count).
    pub fn record_n(&self, v: f64, count: f64) {
        if let (Some(cell), Some(clock)) = (&self.cell, &self.clock) {
            cell.add(
                clock.now_ms(),
                &StatSet::repeated(v, count),
                Some((v, count)),
            );
        }
    }

    /// Whether recording does anything (false when metrics are off).
    pub fn enabled(&self) -> bool {
        self.cell.is_some()
    }

    /// The metric it records.
    pub fn key(&self) -> Option<&MetricKey> {
        self.cell.as_deref().map(|c| &*c.key)
    }
}

impl Cell {
    fn add(&self, ts_ms: i64, stats: &StatSet, value: Option<(f64, f64)>) {
        let minute = minute_of(ts_ms);
        let mut pending = lock(&self.pending);
        // The common case: the newest minute.
        if let Some((m, dp)) = pending.last_mut()
            && *m == minute
        {
            merge(dp, stats, value);
            return;
        }
        if let Some((_, dp)) = pending.iter_mut().find(|(m, _)| *m == minute) {
            merge(dp, stats, value);
            return;
        }
        let mut dp = Datapoint {
            stats: *stats,
            sketch: None,
            unit: self.unit,
        };
        if self.percentiles {
            let mut s = Sketch::new();
            if let Some((v, c)) = value {
                s.add(v, c);
            }
            dp.sketch = Some(s);
        }
        let at = pending.partition_point(|(m, _)| *m < minute);
        pending.insert(at, (minute, dp));
        if pending.len() > MAX_PENDING_MINUTES {
            pending.remove(0);
        }
    }
}

fn merge(dp: &mut Datapoint, stats: &StatSet, value: Option<(f64, f64)>) {
    dp.stats.merge(stats);
    if let (Some(s), Some((v, c))) = (&mut dp.sketch, value) {
        s.add(v, c);
    }
}

// A panic while holding one of these locks leaves plain counters behind; keep going.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_types::clock::ManualClock;

    fn recorder() -> (Recorder, ManualClock) {
        let clock = ManualClock::new(1_700_000_000_000);
        (Recorder::new(Arc::new(clock.clone())), clock)
    }

    fn key(name: &str) -> MetricKey {
        MetricKey::new("AWS/Kinesis", name, [("StreamName", "s")])
    }

    #[test]
    fn values_of_one_minute_drain_as_one_datapoint() {
        let (r, _clock) = recorder();
        let s = r.series(key("IncomingRecords"), Unit::Count);
        s.record(500.0);
        s.record(100.0);
        let points = r.drain();
        assert_eq!(points.len(), 1);
        let p = &points[0];
        assert_eq!(p.timestamp_ms, minute_of(1_700_000_000_000));
        assert_eq!(p.resolution_s, 60);
        assert_eq!(p.value.stats.sum, 600.0);
        assert_eq!(p.value.stats.count, 2.0);
        assert_eq!(p.value.unit, Unit::Count);
        assert!(p.value.sketch.is_none());
        assert!(r.drain().is_empty(), "a drain takes what it returns");
    }

    #[test]
    fn a_new_minute_starts_a_new_datapoint() {
        let (r, clock) = recorder();
        let s = r.series(key("IncomingBytes"), Unit::Bytes);
        s.record(1.0);
        clock.advance(60_000);
        s.record(2.0);
        let mut points = r.drain();
        points.sort_by_key(|p| p.timestamp_ms);
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].timestamp_ms - points[0].timestamp_ms, 60_000);
        assert_eq!(points[1].value.stats.sum, 2.0);
    }

    #[test]
    fn handles_for_one_key_share_a_series() {
        let (r, _clock) = recorder();
        r.series(key("M"), Unit::Count).record(1.0);
        r.series(key("M"), Unit::Count).record(1.0);
        let points = r.drain();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].value.stats.count, 2.0);
    }

    #[test]
    fn distributions_keep_percentiles() {
        let (r, _clock) = recorder();
        let s = r.distribution(key("PutRecords.Latency"), Unit::Milliseconds);
        for v in 1..=100 {
            s.record(f64::from(v));
        }
        let p = r.drain().remove(0);
        let p99 = p.value.sketch.unwrap().quantile(0.99).unwrap();
        assert!((p99 - 99.0).abs() <= 1.0, "{p99}");
    }

    #[test]
    fn values_recorded_at_an_earlier_time_land_in_their_minute() {
        let (r, clock) = recorder();
        let s = r.series(key("M"), Unit::Count);
        s.record(1.0);
        s.record_at(clock.now_ms() - 120_000, 5.0);
        let mut points = r.drain();
        points.sort_by_key(|p| p.timestamp_ms);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].value.stats.sum, 5.0);
    }

    #[test]
    fn a_disabled_recorder_records_nothing() {
        let r = Recorder::disabled();
        let s = r.series(key("M"), Unit::Count);
        assert!(!s.enabled());
        s.record(1.0);
        assert!(r.drain().is_empty());
    }

    #[test]
    fn series_nobody_holds_are_forgotten_once_drained() {
        let (r, _clock) = recorder();
        let held = r.series(key("Held"), Unit::Count);
        r.series(key("Dropped"), Unit::Count).record(1.0);
        assert_eq!(r.series_count(), 2);
        assert_eq!(r.drain().len(), 1);
        r.drain();
        assert_eq!(r.series_count(), 1);
        held.record(1.0);
        assert_eq!(r.drain().len(), 1);
    }

    struct Depth(f64);
    impl GaugeSource for Depth {
        fn sample(&self, _now_ms: i64, out: &mut Vec<(MetricKey, Unit, f64)>) {
            out.push((
                MetricKey::new(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    [("QueueName", "q")],
                ),
                Unit::Count,
                self.0,
            ));
        }
    }

    #[test]
    fn gauges_are_sampled_while_their_source_lives() {
        let (r, _clock) = recorder();
        let depth: Arc<dyn GaugeSource> = Arc::new(Depth(7.0));
        r.add_gauges(Arc::downgrade(&depth));
        r.sample_gauges();
        let points = r.drain();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].value.stats.max, 7.0);
        drop(depth);
        r.sample_gauges();
        assert!(r.drain().is_empty());
    }
}
