// SPDX-License-Identifier: Apache-2.0
//! The store's in-memory state, all behind one lock so that a query sees every point exactly
//! once while maintenance moves data from memory into blocks:
//!
//! - the series index: metric key → series id, and per series its last-active time, its
//!   newest datapoint (for Prometheus) and what of it the metadata store already has;
//! - the memtable: unsealed points per hour window, per series, per (timestamp, resolution);
//! - windows being sealed (still read by queries until their blocks are in the directory);
//! - the block directory: per tier and window, the log offsets of the blocks' index records;
//! - the days whose 5-minute and hourly rollups exist.
//!
//! Invariants: a point is in exactly one of memtable, sealing, or a listed block; a block is
//! listed only after its records are durable and its directory row is committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use freshet_metrics::{Datapoint, MetricKey, Point};

use super::tiers::{HOUR_MS, Tier, floor, merge_into};

/// One series' unsealed points by (timestamp, resolution).
pub type SeriesPoints = BTreeMap<(i64, u8), Datapoint>;

/// An hour of unsealed points.
#[derive(Debug, Default)]
pub struct Window {
    /// A WAL offset at or below the first record holding this window's points.
    pub first_wal: u64,
    /// Points per series id.
    pub series: HashMap<u64, SeriesPoints>,
}

/// What the store knows about one metric.
#[derive(Debug)]
pub struct SeriesInfo {
    /// Its key.
    pub key: Arc<MetricKey>,
    /// The newest timestamp it has data at.
    pub last_ms: i64,
    /// The last-active time in its metadata row (`None`: no row yet).
    pub persisted_last_ms: Option<i64>,
    /// Its newest datapoint (merged over resolutions at that timestamp).
    pub latest: Option<(i64, Datapoint)>,
    /// The length of `latest`'s period (1 s or 60 s), to tell whether it is still filling.
    pub latest_step_ms: i64,
    /// The datapoint `latest` replaced when newer data arrived: the newest complete one while
    /// `latest`'s period is still open.
    pub previous: Option<(i64, Datapoint)>,
}

/// A window moved out of the memtable for sealing.
#[derive(Debug)]
pub struct Sealing {
    /// The window.
    pub window: Arc<Window>,
}

/// Everything behind the store's lock.
#[derive(Debug, Default)]
pub struct State {
    /// Key → series id, in key order (ListMetrics pages in that order).
    pub ids: BTreeMap<Arc<MetricKey>, u64>,
    /// Series id → what is known about it.
    pub info: HashMap<u64, SeriesInfo>,
    /// The next series id to hand out.
    pub next_id: u64,
    /// Unsealed points by hour.
    pub mem: BTreeMap<i64, Window>,
    /// Hours being sealed.
    pub sealing: BTreeMap<i64, Sealing>,
    /// (tier, window start) → index record offsets of its blocks.
    pub blocks: BTreeMap<(Tier, i64), Vec<u64>>,
    /// Days whose rollups were written.
    pub rolled: BTreeSet<i64>,
    /// Hour → seal mark, for the hours whose metadata row may still matter to recovery.
    pub seals: BTreeMap<i64, u64>,
    /// When hours holding only late points were last sealed (`None`: never).
    pub last_late_seal_ms: Option<i64>,
}

/// Why points were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyMetrics;

impl State {
    /// Checks that `points` add at most `limit` metrics in all, then merges them into the
    /// memtable. `wal_hint` is an offset at or below the WAL record that holds them.
    pub fn apply(
        &mut self,
        points: &[Point],
        wal_hint: u64,
        limit: Option<usize>,
    ) -> Result<(), TooManyMetrics> {
        if let Some(limit) = limit {
            let mut new: Vec<&Arc<MetricKey>> = points
                .iter()
                .map(|p| &p.key)
                .filter(|k| !self.ids.contains_key(*k))
                .collect();
            new.sort_unstable();
            new.dedup();
            if self.ids.len() + new.len() > limit {
                return Err(TooManyMetrics);
            }
        }
        for p in points {
            self.apply_one(p, wal_hint);
        }
        Ok(())
    }

    fn apply_one(&mut self, p: &Point, wal_hint: u64) {
        let (res, step) = if p.resolution_s == 1 {
            (1u8, 1_000)
        } else {
            (60u8, 60_000)
        };
        let ts = floor(p.timestamp_ms, step);
        let id = self.id_of(&p.key);
        if let Some(info) = self.info.get_mut(&id) {
            info.last_ms = info.last_ms.max(ts);
            match &mut info.latest {
                Some((at, dp)) if *at == ts => dp.merge(&p.value),
                Some((at, _)) if *at > ts => {}
                latest => {
                    info.previous = latest.replace((ts, p.value.clone()));
                    info.latest_step_ms = step;
                }
            }
        }
        let window = self
            .mem
            .entry(floor(ts, HOUR_MS))
            .or_insert_with(|| Window {
                first_wal: wal_hint,
                series: HashMap::new(),
            });
        window.first_wal = window.first_wal.min(wal_hint);
        merge_into(window.series.entry(id).or_default(), (ts, res), &p.value);
    }

    /// The id of `key`, allocating one for a new metric.
    pub fn id_of(&mut self, key: &Arc<MetricKey>) -> u64 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.ids.insert(key.clone(), id);
        self.info.insert(
            id,
            SeriesInfo {
                key: key.clone(),
                last_ms: i64::MIN,
                persisted_last_ms: None,
                latest: None,
                latest_step_ms: 60_000,
                previous: None,
            },
        );
        id
    }

    /// Adds a series loaded from its metadata row.
    pub fn load_series(&mut self, id: u64, key: MetricKey, last_ms: i64) {
        let key = Arc::new(key);
        self.ids.insert(key.clone(), id);
        self.info.insert(
            id,
            SeriesInfo {
                key,
                last_ms,
                persisted_last_ms: Some(last_ms),
                latest: None,
                latest_step_ms: 60_000,
                previous: None,
            },
        );
        self.next_id = self.next_id.max(id.saturating_add(1));
    }

    /// The unsealed points of series `id` in `[start_ms, end_ms)`, from memtable and sealing.
    pub fn unsealed(&self, id: u64, start_ms: i64, end_ms: i64) -> Vec<(i64, u8, Datapoint)> {
        let first = floor(start_ms, HOUR_MS);
        let mem = self.mem.range(first..end_ms).map(|(_, w)| w);
        let sealing = self
            .sealing
            .range(first..end_ms)
            .map(|(_, s)| s.window.as_ref());
        let mut out = Vec::new();
        for w in mem.chain(sealing) {
            if let Some(points) = w.series.get(&id) {
                for ((ts, res), dp) in points.range((start_ms, 0)..(end_ms, 0)) {
                    out.push((*ts, *res, dp.clone()));
                }
            }
        }
        out
    }

    /// The index offsets of `tier`'s blocks whose window overlaps `[start_ms, end_ms)`.
    pub fn blocks_overlapping(&self, tier: Tier, start_ms: i64, end_ms: i64) -> Vec<u64> {
        let from = tier.window_of(start_ms);
        self.blocks
            .range((tier, from)..(tier, end_ms))
            .flat_map(|(_, offsets)| offsets.iter().copied())
            .collect()
    }

    /// The lowest WAL offset any unsealed data may still need.
    pub fn wal_needed_from(&self, next: u64) -> u64 {
        self.mem
            .values()
            .map(|w| w.first_wal)
            .chain(self.sealing.values().map(|s| s.window.first_wal))
            .min()
            .unwrap_or(next)
            .min(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_metrics::Unit;

    fn point(key: &Arc<MetricKey>, ts: i64, res: u32, v: f64) -> Point {
        Point {
            key: key.clone(),
            timestamp_ms: ts,
            resolution_s: res,
            value: Datapoint::one(v, Unit::Count),
        }
    }

    #[test]
    fn a_delta_and_a_put_for_the_same_minute_merge_but_high_resolution_points_stay_apart() {
        let key = Arc::new(MetricKey::new("N", "M", [("a", "1")]));
        let mut s = State::default();
        s.apply(
            &[
                point(&key, 120_000, 60, 1.0),
                point(&key, 150_500, 60, 2.0),
                point(&key, 150_500, 1, 5.0),
            ],
            0,
            None,
        )
        .unwrap();
        let got = s.unsealed(0, 0, HOUR_MS);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[0].1, got[0].2.stats.sum), (120_000, 60, 3.0));
        assert_eq!((got[1].0, got[1].1, got[1].2.stats.sum), (150_000, 1, 5.0));
    }

    #[test]
    fn points_for_new_metrics_past_the_limit_are_refused_whole() {
        let a = Arc::new(MetricKey::new("N", "A", [("d", "1")]));
        let b = Arc::new(MetricKey::new("N", "B", [("d", "1")]));
        let mut s = State::default();
        s.apply(&[point(&a, 0, 60, 1.0)], 0, Some(1)).unwrap();
        s.apply(&[point(&a, 60_000, 60, 1.0)], 0, Some(1)).unwrap();
        assert_eq!(
            s.apply(&[point(&a, 0, 60, 1.0), point(&b, 0, 60, 1.0)], 0, Some(1)),
            Err(TooManyMetrics)
        );
        assert_eq!(s.ids.len(), 1);
        assert_eq!(s.unsealed(0, 0, HOUR_MS).len(), 2);
    }
}
