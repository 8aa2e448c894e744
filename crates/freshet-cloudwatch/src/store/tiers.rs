// SPDX-License-Identifier: Apache-2.0
//! AWS's retention tiers and the pure decisions about them: which tier a query reads, how
//! points roll up into a coarser tier, and how they fall into a query's buckets. No I/O.
//!
//! | tier        | step  | kept     | block window |
//! |-------------|-------|----------|--------------|
//! | `Second`    | 1 s   | 3 hours  | 1 hour       |
//! | `Minute`    | 60 s  | 15 days  | 1 hour       |
//! | `FiveMinute`| 300 s | 63 days  | 1 day        |
//! | `Hour`      | 3600 s| 455 days | 1 day        |
//!
//! A query reads one tier, chosen from how old its start is (as AWS documents for
//! GetMetricStatistics): newer than 3 hours reads the finest data (1-second points when the
//! period is not a multiple of a minute, minutes otherwise); up to 15 days minutes; up to 63
//! days 5-minute rollups; up to 455 days hourly rollups; older nothing. A period that is not
//! a multiple of the tier's step gets no datapoints, as on AWS.

use std::collections::BTreeMap;

use freshet_metrics::Datapoint;

use super::codec::StoredPoint;

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// A retention tier. The discriminant is persisted in index records: never renumber or reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Tier {
    /// High-resolution points, kept 3 hours.
    Second = 1,
    /// Minute datapoints, kept 15 days.
    Minute = 2,
    /// 5-minute rollups, kept 63 days.
    FiveMinute = 3,
    /// Hourly rollups, kept 455 days.
    Hour = 4,
}

impl Tier {
    /// Every tier, finest first.
    pub const ALL: [Tier; 4] = [Tier::Second, Tier::Minute, Tier::FiveMinute, Tier::Hour];

    /// The length of one datapoint.
    pub fn step_ms(self) -> i64 {
        match self {
            Tier::Second => 1_000,
            Tier::Minute => 60_000,
            Tier::FiveMinute => 300_000,
            Tier::Hour => HOUR_MS,
        }
    }

    /// How long its data is kept.
    pub fn retention_ms(self) -> i64 {
        match self {
            Tier::Second => 3 * HOUR_MS,
            Tier::Minute => 15 * DAY_MS,
            Tier::FiveMinute => 63 * DAY_MS,
            Tier::Hour => 455 * DAY_MS,
        }
    }

    /// The time span one block covers.
    pub fn window_ms(self) -> i64 {
        match self {
            Tier::Second | Tier::Minute => HOUR_MS,
            Tier::FiveMinute | Tier::Hour => DAY_MS,
        }
    }

    /// The start of the block window `ts_ms` falls in.
    pub fn window_of(self, ts_ms: i64) -> i64 {
        floor(ts_ms, self.window_ms())
    }

    /// The name of its block log.
    pub fn log_part(self) -> &'static str {
        match self {
            Tier::Second => "tier-1s",
            Tier::Minute => "tier-60s",
            Tier::FiveMinute => "tier-300s",
            Tier::Hour => "tier-3600s",
        }
    }

    /// The tier persisted as `code`.
    pub fn from_code(code: u8) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| *t as u8 == code)
    }

    /// Whether a block window starting at `window_ms` is past retention at `now_ms`.
    pub fn expired(self, window_ms: i64, now_ms: i64) -> bool {
        window_ms.saturating_add(self.window_ms()) <= now_ms.saturating_sub(self.retention_ms())
    }
}

/// `v` rounded down to a multiple of `step`.
pub fn floor(v: i64, step: i64) -> i64 {
    // Saturating: timestamps near i64::MIN are never an overflow (nor a panic).
    v.div_euclid(step).saturating_mul(step)
}

/// The tier a query starting at `start_ms` with `period_s` reads at `now_ms`, or `None` when
/// no tier answers it (too old, or a period that is not a multiple of the tier's step).
pub fn tier_for(now_ms: i64, start_ms: i64, period_s: u32) -> Option<Tier> {
    let period_ms = i64::from(period_s.max(1)) * 1000;
    let age = now_ms.saturating_sub(start_ms);
    let tier = if age <= Tier::Second.retention_ms() {
        if period_ms % Tier::Minute.step_ms() == 0 {
            Tier::Minute
        } else {
            Tier::Second
        }
    } else if age <= Tier::Minute.retention_ms() {
        Tier::Minute
    } else if age <= Tier::FiveMinute.retention_ms() {
        Tier::FiveMinute
    } else if age <= Tier::Hour.retention_ms() {
        Tier::Hour
    } else {
        return None;
    };
    (period_ms % tier.step_ms() == 0).then_some(tier)
}

/// Merges `dp` into `map[at]`.
pub fn merge_into<K: Ord>(map: &mut BTreeMap<K, Datapoint>, at: K, dp: &Datapoint) {
    match map.get_mut(&at) {
        Some(acc) => acc.merge(dp),
        None => {
            map.insert(at, dp.clone());
        }
    }
}

/// Raw points (`(ts, resolution, datapoint)`) rolled up into `tier`'s steps, for a block.
/// Minute blocks keep what came from 1-second points apart (a finer query must not count it
/// twice); coarser tiers merge everything.
pub fn roll_up<'a>(
    tier: Tier,
    points: impl IntoIterator<Item = (i64, u8, &'a Datapoint)>,
) -> Vec<StoredPoint> {
    let mut out: BTreeMap<(i64, u8), Datapoint> = BTreeMap::new();
    for (ts, src, dp) in points {
        let src = match tier {
            Tier::Second | Tier::Minute => src,
            Tier::FiveMinute | Tier::Hour => 60,
        };
        merge_into(&mut out, (floor(ts, tier.step_ms()), src), dp);
    }
    out.into_iter()
        .map(|((ts, src), dp)| (ts, src, dp))
        .collect()
}

/// Accumulates points into a query's buckets.
#[derive(Debug)]
pub struct Buckets {
    start_ms: i64,
    end_ms: i64,
    period_ms: i64,
    unit: Option<freshet_metrics::Unit>,
    /// Mostly in order (each source yields points in time order); sorted at the end.
    out: Vec<(i64, Datapoint)>,
}

impl Buckets {
    /// Buckets of `period_s` from `start_ms` up to `end_ms` (exclusive), of `unit` only when
    /// set.
    pub fn new(
        start_ms: i64,
        end_ms: i64,
        period_s: u32,
        unit: Option<freshet_metrics::Unit>,
    ) -> Self {
        Self {
            start_ms,
            end_ms,
            period_ms: i64::from(period_s.max(1)) * 1000,
            unit,
            out: Vec::new(),
        }
    }

    /// Adds a point at `ts_ms` if it is in range and of the wanted unit.
    pub fn add(&mut self, ts_ms: i64, dp: &Datapoint) {
        if ts_ms < self.start_ms || ts_ms >= self.end_ms || self.unit.is_some_and(|u| u != dp.unit)
        {
            return;
        }
        let bucket = self.start_ms + floor(ts_ms - self.start_ms, self.period_ms);
        match self.out.last_mut() {
            Some((b, acc)) if *b == bucket => acc.merge(dp),
            _ => self.out.push((bucket, dp.clone())),
        }
    }

    /// The non-empty buckets in time order.
    pub fn finish(mut self) -> Vec<(i64, Datapoint)> {
        // Stable: a bucket's datapoints merge in the order they were added.
        self.out.sort_by_key(|(b, _)| *b);
        let mut merged: Vec<(i64, Datapoint)> = Vec::with_capacity(self.out.len());
        for (b, dp) in self.out {
            match merged.last_mut() {
                Some((at, acc)) if *at == b => acc.merge(&dp),
                _ => merged.push((b, dp)),
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::tests::datapoint;
    use proptest::prelude::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn queries_read_the_tier_aws_keeps_for_their_age() {
        assert_eq!(tier_for(NOW, NOW - HOUR_MS, 1), Some(Tier::Second));
        assert_eq!(tier_for(NOW, NOW - HOUR_MS, 60), Some(Tier::Minute));
        assert_eq!(tier_for(NOW, NOW - 4 * HOUR_MS, 10), None);
        assert_eq!(tier_for(NOW, NOW - 4 * HOUR_MS, 120), Some(Tier::Minute));
        assert_eq!(tier_for(NOW, NOW - 20 * DAY_MS, 60), None);
        assert_eq!(
            tier_for(NOW, NOW - 20 * DAY_MS, 600),
            Some(Tier::FiveMinute)
        );
        assert_eq!(tier_for(NOW, NOW - 100 * DAY_MS, 300), None);
        assert_eq!(tier_for(NOW, NOW - 100 * DAY_MS, 86_400), Some(Tier::Hour));
        assert_eq!(tier_for(NOW, NOW - 500 * DAY_MS, 3600), None);
    }

    #[test]
    fn a_window_expires_once_all_of_it_is_past_retention() {
        let w = Tier::Second.window_of(NOW - 4 * HOUR_MS);
        assert!(Tier::Second.expired(w, NOW));
        assert!(!Tier::Second.expired(Tier::Second.window_of(NOW - 2 * HOUR_MS), NOW));
        assert!(!Tier::Hour.expired(w, NOW));
    }

    proptest! {
        #[test]
        fn rolled_up_points_bucket_like_the_raw_points(
            raw in proptest::collection::vec((0i64..2 * DAY_MS, prop_oneof![Just(1u8), Just(60u8)], datapoint()), 1..60),
            tier in prop_oneof![Just(Tier::Minute), Just(Tier::FiveMinute), Just(Tier::Hour)],
            periods in 1i64..6,
        ) {
            let period_s = u32::try_from(periods * tier.step_ms() / 1000).unwrap();
            let mut direct = Buckets::new(0, 2 * DAY_MS, period_s, None);
            for (ts, _, dp) in &raw {
                direct.add(*ts, dp);
            }
            let rolled = roll_up(tier, raw.iter().map(|(t, s, d)| (*t, *s, d)));
            let mut via = Buckets::new(0, 2 * DAY_MS, period_s, None);
            for (ts, _, dp) in &rolled {
                via.add(*ts, dp);
            }
            let (a, b) = (direct.finish(), via.finish());
            prop_assert_eq!(a.len(), b.len());
            for ((ta, da), (tb, db)) in a.iter().zip(&b) {
                prop_assert_eq!(ta, tb);
                prop_assert_eq!(da.stats.count, db.stats.count);
                prop_assert_eq!(da.stats.min, db.stats.min);
                prop_assert_eq!(da.stats.max, db.stats.max);
                prop_assert!((da.stats.sum - db.stats.sum).abs() <= 1e-6 * (1.0 + da.stats.sum.abs()));
                prop_assert_eq!(da.sketch.is_some(), db.sketch.is_some());
                if let (Some(x), Some(y)) = (&da.sketch, &db.sketch) {
                    prop_assert_eq!(&x.positive.keys().collect::<Vec<_>>(), &y.positive.keys().collect::<Vec<_>>());
                    prop_assert!((x.count() - y.count()).abs() < 1e-9);
                }
            }
        }
    }
}
