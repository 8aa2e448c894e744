// SPDX-License-Identifier: Apache-2.0
//! Statistics: the five standard ones and percentiles (`p99`, `p99.9`), and what each is for a
//! [`Datapoint`].

use std::fmt;

use freshet_metrics::Datapoint;

/// A statistic CloudWatch computes over a period's datapoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// `SampleCount`.
    SampleCount,
    /// `Average`.
    Average,
    /// `Sum`.
    Sum,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
    /// `pNN` / `pNN.NN`: the percentile (0–100).
    Percentile(f64),
}

impl Statistic {
    /// The statistic AWS spells `text`: a standard statistic or `p` + a number from 0 to 100
    /// with at most two decimals.
    pub fn parse(text: &str) -> Option<Statistic> {
        Some(match text {
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Sum" => Statistic::Sum,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => {
                let n = text.strip_prefix('p')?;
                let (int, frac) = n.split_once('.').unwrap_or((n, ""));
                if int.is_empty()
                    || int.len() > 3
                    || frac.len() > 2
                    || (n.contains('.') && frac.is_empty())
                    || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                let p: f64 = n.parse().ok()?;
                if !(0.0..=100.0).contains(&p) {
                    return None;
                }
                Statistic::Percentile(p)
            }
        })
    }

    /// Whether it is one of the five standard statistics (GetMetricStatistics'
    /// `Statistics`, as opposed to `ExtendedStatistics`).
    pub fn is_standard(self) -> bool {
        !matches!(self, Statistic::Percentile(_))
    }

    /// Its value over `dp`; `None` for a percentile of a datapoint without a sketch.
    pub fn of(self, dp: &Datapoint) -> Option<f64> {
        let s = &dp.stats;
        Some(match self {
            Statistic::SampleCount => s.count,
            Statistic::Average => s.average(),
            Statistic::Sum => s.sum,
            Statistic::Minimum => s.min,
            Statistic::Maximum => s.max,
            Statistic::Percentile(p) => {
                // The extremes are known exactly.
                if p <= 0.0 {
                    s.min
                } else if p >= 100.0 {
                    s.max
                } else {
                    dp.sketch.as_ref()?.quantile(p / 100.0)?.clamp(s.min, s.max)
                }
            }
        })
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::SampleCount => f.write_str("SampleCount"),
            Statistic::Average => f.write_str("Average"),
            Statistic::Sum => f.write_str("Sum"),
            Statistic::Minimum => f.write_str("Minimum"),
            Statistic::Maximum => f.write_str("Maximum"),
            Statistic::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_metrics::{Sketch, StatSet, Unit};

    #[test]
    fn standard_statistics_and_percentiles_parse() {
        assert_eq!(Statistic::parse("Sum"), Some(Statistic::Sum));
        assert_eq!(Statistic::parse("p99"), Some(Statistic::Percentile(99.0)));
        assert_eq!(Statistic::parse("p99.9"), Some(Statistic::Percentile(99.9)));
        for bad in ["sum", "p", "p101", "p99.", "p9.999", "p-1", "pNaN", "Avg"] {
            assert_eq!(Statistic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn statistics_of_a_datapoint() {
        let mut sketch = Sketch::new();
        for v in 1..=10 {
            sketch.add(f64::from(v), 1.0);
        }
        let dp = Datapoint {
            stats: StatSet {
                count: 10.0,
                sum: 55.0,
                min: 1.0,
                max: 10.0,
            },
            sketch: Some(sketch),
            unit: Unit::Milliseconds,
        };
        assert_eq!(Statistic::Average.of(&dp), Some(5.5));
        assert_eq!(Statistic::Percentile(100.0).of(&dp), Some(10.0));
        let p50 = Statistic::Percentile(50.0).of(&dp).unwrap();
        assert!((p50 - 5.0).abs() < 0.1, "{p50}");
        let no_sketch = Datapoint::one(1.0, Unit::Count);
        assert_eq!(Statistic::Percentile(50.0).of(&no_sketch), None);
    }
}
