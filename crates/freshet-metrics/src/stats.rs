// SPDX-License-Identifier: Apache-2.0
//! Aggregated metric values: [`StatSet`] (what every CloudWatch statistic but percentiles is
//! computed from), [`Sketch`] (percentiles), [`Datapoint`] (both, plus the unit) and
//! [`Point`] (a datapoint of one metric at one time and resolution).
//!
//! The sketch is DDSketch's log-bucket scheme: a positive value `v` lands in bucket
//! `ceil(ln v / ln γ)` with `γ = (1 + α) / (1 − α)` and `α = 1%`, so any percentile it returns
//! is within 1% of a value that was recorded at that rank. Negative values mirror the
//! positive buckets; zero has its own count. Counts are `f64` because PutMetricData's
//! `Counts` are doubles. A sketch keeps at most [`Sketch::MAX_BUCKETS`] buckets per sign by
//! merging its lowest buckets, so its size is bounded whatever is recorded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::key::{MetricKey, Unit};

/// SampleCount, Sum, Minimum and Maximum of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatSet {
    /// How many values (a double: PutMetricData's StatisticValues and Counts may be
    /// fractional).
    pub count: f64,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl StatSet {
    /// One value.
    pub fn one(v: f64) -> Self {
        Self::repeated(v, 1.0)
    }

    /// `count` occurrences of `v`.
    pub fn repeated(v: f64, count: f64) -> Self {
        Self {
            count,
            sum: v * count,
            min: v,
            max: v,
        }
    }

    /// Adds one value.
    pub fn record(&mut self, v: f64) {
        self.merge(&Self::one(v));
    }

    /// Adds the values `other` describes.
    pub fn merge(&mut self, other: &StatSet) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Sum / SampleCount (0 when there are no samples).
    pub fn average(&self) -> f64 {
        if self.count > 0.0 {
            self.sum / self.count
        } else {
            0.0
        }
    }
}

/// Percentiles with 1% relative error in bounded space.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    /// Bucket index → count, for positive values.
    pub positive: BTreeMap<i32, f64>,
    /// Bucket index of `-v` → count, for negative values.
    pub negative: BTreeMap<i32, f64>,
    /// How many zeros (and values too small to bucket).
    pub zero: f64,
}

/// Relative accuracy of sketch percentiles.
const ALPHA: f64 = 0.01;
/// Values below this count as zero.
const MIN_POSITIVE: f64 = 1e-9;

fn ln_gamma() -> f64 {
    ((1.0 + ALPHA) / (1.0 - ALPHA)).ln()
}

impl Sketch {
    /// The most buckets kept per sign (enough for values from 1e-9 to 1e9 without merging).
    pub const MAX_BUCKETS: usize = 2_048;

    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `count` occurrences of `v`. NaN is ignored (PutMetricData refuses it earlier).
    pub fn add(&mut self, v: f64, count: f64) {
        if v.is_nan() || count <= 0.0 || count.is_nan() {
            return;
        }
        let a = v.abs();
        if a < MIN_POSITIVE {
            self.zero += count;
            return;
        }
        let index = (a.ln() / ln_gamma())
            .ceil()
            .clamp(i32::MIN as f64, i32::MAX as f64) as i32;
        let side = if v > 0.0 {
            &mut self.positive
        } else {
            &mut self.negative
        };
        *side.entry(index).or_insert(0.0) += count;
        collapse(side);
    }

    /// Adds every value `other` holds.
    pub fn merge(&mut self, other: &Sketch) {
        self.zero += other.zero;
        for (i, c) in &other.positive {
            *self.positive.entry(*i).or_insert(0.0) += c;
        }
        for (i, c) in &other.negative {
            *self.negative.entry(*i).or_insert(0.0) += c;
        }
        collapse(&mut self.positive);
        collapse(&mut self.negative);
    }

    /// How many values it holds.
    pub fn count(&self) -> f64 {
        self.zero + self.positive.values().sum::<f64>() + self.negative.values().sum::<f64>()
    }

    /// The `q`-quantile (`q` in 0..=1), or `None` when empty. The answer is the value at rank
    /// `⌊q × (count − 1)⌋` (counting from 0), within 1%.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (total - 1.0)).floor();
        let mut seen = 0.0;
        // Ascending order: most negative first (largest index of the negative side).
        for (i, c) in self.negative.iter().rev() {
            seen += c;
            if seen > rank {
                return Some(-value_of(*i));
            }
        }
        seen += self.zero;
        if seen > rank {
            return Some(0.0);
        }
        for (i, c) in &self.positive {
            seen += c;
            if seen > rank {
                return Some(value_of(*i));
            }
        }
        // Rounding: the rank fell past the last bucket.
        self.positive
            .keys()
            .next_back()
            .map(|i| value_of(*i))
            .or(Some(0.0))
    }
}

/// The representative value of bucket `i`: the middle of `(γ^(i−1), γ^i]` in relative terms.
fn value_of(i: i32) -> f64 {
    let g = ln_gamma();
    2.0 * (f64::from(i) * g).exp() / (1.0 + g.exp())
}

/// Keeps at most `MAX_BUCKETS` buckets by folding the lowest ones into the next.
fn collapse(side: &mut BTreeMap<i32, f64>) {
    while side.len() > Sketch::MAX_BUCKETS {
        let Some((_, c)) = side.pop_first() else {
            return;
        };
        if let Some(mut e) = side.first_entry() {
            *e.get_mut() += c;
        }
    }
}

/// What a series holds for one period: its statistics, its unit and, for series that keep
/// percentiles, a sketch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datapoint {
    /// The values' statistics.
    pub stats: StatSet,
    /// Their percentiles, when the series keeps them.
    pub sketch: Option<Sketch>,
    /// The unit they were recorded in.
    pub unit: Unit,
}

impl Datapoint {
    /// One value without percentiles.
    pub fn one(v: f64, unit: Unit) -> Self {
        Self {
            stats: StatSet::one(v),
            sketch: None,
            unit,
        }
    }

    /// Adds `other`'s values. The unit stays the first one's; a sketch is kept only while
    /// both sides have one (percentiles over part of the values would be wrong).
    pub fn merge(&mut self, other: &Datapoint) {
        self.stats.merge(&other.stats);
        match (&mut self.sketch, &other.sketch) {
            (Some(a), Some(b)) => a.merge(b),
            (s @ Some(_), None) => *s = None,
            _ => {}
        }
    }
}

/// One datapoint of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The metric.
    pub key: std::sync::Arc<MetricKey>,
    /// The start of the period it covers, in epoch milliseconds.
    pub timestamp_ms: i64,
    /// Its storage resolution in seconds: 1 (high resolution) or 60.
    pub resolution_s: u32,
    /// The values.
    pub value: Datapoint,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statsets_merge_into_the_statistics_of_all_values() {
        let mut s = StatSet::one(3.0);
        s.record(1.0);
        s.merge(&StatSet::repeated(5.0, 2.0));
        assert_eq!(
            s,
            StatSet {
                count: 4.0,
                sum: 14.0,
                min: 1.0,
                max: 5.0
            }
        );
        assert_eq!(s.average(), 3.5);
    }

    #[test]
    fn an_empty_sketch_has_no_quantiles() {
        assert_eq!(Sketch::new().quantile(0.5), None);
    }

    #[test]
    fn sketches_handle_zero_and_negative_values() {
        let mut s = Sketch::new();
        for v in [-10.0, 0.0, 10.0] {
            s.add(v, 1.0);
        }
        let lo = s.quantile(0.0).unwrap();
        assert!((lo + 10.0).abs() <= 0.1, "{lo}");
        assert_eq!(s.quantile(0.5), Some(0.0));
        let hi = s.quantile(1.0).unwrap();
        assert!((hi - 10.0).abs() <= 0.1, "{hi}");
    }

    #[test]
    fn a_sketch_never_keeps_more_than_its_bucket_limit() {
        let mut s = Sketch::new();
        for e in -300..300 {
            s.add(10f64.powi(e), 1.0);
        }
        assert!(s.positive.len() <= Sketch::MAX_BUCKETS);
        assert_eq!(s.count(), 600.0);
    }

    proptest! {
        #[test]
        fn sketch_quantiles_are_within_one_percent_of_the_exact_rank(
            mut values in proptest::collection::vec(1e-3f64..1e6, 1..400),
            q in 0.0f64..=1.0,
        ) {
            let mut s = Sketch::new();
            for v in &values {
                s.add(*v, 1.0);
            }
            values.sort_by(f64::total_cmp);
            let exact = values[(q * (values.len() - 1) as f64).floor() as usize];
            let got = s.quantile(q).unwrap();
            prop_assert!((got - exact).abs() <= 0.0101 * exact, "q={q} exact={exact} got={got}");
        }

        #[test]
        fn merging_sketches_equals_adding_everything_to_one(
            a in proptest::collection::vec(-1e6f64..1e6, 0..100),
            b in proptest::collection::vec(-1e6f64..1e6, 0..100),
        ) {
            let mut one = Sketch::new();
            let mut left = Sketch::new();
            let mut right = Sketch::new();
            for v in &a { one.add(*v, 1.0); left.add(*v, 1.0); }
            for v in &b { one.add(*v, 1.0); right.add(*v, 1.0); }
            left.merge(&right);
            prop_assert_eq!(left, one);
        }
    }
}
