// SPDX-License-Identifier: Apache-2.0
//! Rate math for `--rate`: when each record is due, how many are due by a time, and when to
//! wake next. Pure, so it is tested without clocks.
//!
//! Record `i` (from 0) is due `i / rate` seconds after the start. The producer wakes at most
//! every [`MIN_TICK`] and sends every record due by then in one batch: slow rates send each
//! record at its time, fast ones batch 100 ms of records per request (the KPL's default
//! RecordMaxBufferedTime), so a rate of 5,000/s is 10 requests a second, not 5,000.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Shortest pause between two batches of a paced run.
pub const MIN_TICK: Duration = Duration::from_millis(100);
/// Highest rate `--rate` takes, in records per second.
const MAX_RATE: f64 = 10_000_000.0;

/// `--rate`: records per second, or as fast as possible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// As fast as the target takes them.
    Max,
    /// This many records per second (positive, finite).
    PerSecond(f64),
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        let n: f64 = s
            .trim_end_matches("/s")
            .parse()
            .map_err(|_| format!("{s:?} is not a number of records per second or \"max\""))?;
        if !(n > 0.0 && n <= MAX_RATE) {
            return Err(format!("the rate must be above 0 and at most {MAX_RATE}"));
        }
        Ok(Rate::PerSecond(n))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Max => f.write_str("max"),
            Rate::PerSecond(n) => write!(f, "{n}/s"),
        }
    }
}

/// When record `i` is due, after the start.
pub fn due_at(rate: f64, i: u64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// How many records are due `elapsed` after the start (those with `due_at <= elapsed`).
pub fn due_by(rate: f64, elapsed: Duration) -> u64 {
    // The epsilon absorbs rounding: waking at exactly `due_at(i)` must find record `i` due.
    (elapsed.as_secs_f64() * rate + 1e-6).floor() as u64 + 1
}

/// When to wake next, after the start, once `generated` records are out and it is `elapsed`:
/// when the next record is due, but not before [`MIN_TICK`] from now.
pub fn next_wake(rate: f64, generated: u64, elapsed: Duration) -> Duration {
    due_at(rate, generated).max(elapsed + MIN_TICK)
}

/// How many records a run of `duration` at `rate` sends: those due before its end.
pub fn records_in(rate: f64, duration: Duration) -> u64 {
    let n = duration.as_secs_f64() * rate;
    // Records due exactly at the end belong to the next run.
    if n.fract() == 0.0 {
        n as u64
    } else {
        n.ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rates_parse_as_numbers_or_max() {
        assert_eq!("max".parse(), Ok(Rate::Max));
        assert_eq!("MAX".parse(), Ok(Rate::Max));
        assert_eq!("100".parse(), Ok(Rate::PerSecond(100.0)));
        assert_eq!("0.5".parse(), Ok(Rate::PerSecond(0.5)));
        assert_eq!("250/s".parse(), Ok(Rate::PerSecond(250.0)));
        for bad in ["0", "-3", "fast", "", "inf", "NaN", "1e9"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_record_is_due_at_the_start_and_one_per_period_after() {
        assert_eq!(due_by(10.0, Duration::ZERO), 1);
        assert_eq!(due_by(10.0, Duration::from_millis(99)), 1);
        assert_eq!(due_by(10.0, Duration::from_millis(100)), 2);
        assert_eq!(due_by(100.0, Duration::from_secs(1)), 101);
        assert_eq!(due_at(4.0, 3), Duration::from_millis(750));
    }

    #[test]
    fn slow_rates_wake_per_record_and_fast_ones_every_tick() {
        let after = Duration::from_millis(1);
        assert_eq!(next_wake(2.0, 1, after), Duration::from_millis(500));
        assert_eq!(next_wake(1000.0, 1, after), after + MIN_TICK);
    }

    #[test]
    fn a_duration_holds_the_records_due_before_its_end() {
        assert_eq!(records_in(10.0, Duration::from_secs(3)), 30);
        assert_eq!(records_in(100.0, Duration::from_millis(15)), 2);
        assert_eq!(records_in(3.0, Duration::ZERO), 0);
    }

    proptest! {
        #[test]
        fn paced_batches_add_up_to_the_rate(rate in 0.1f64..50_000.0, secs in 1u64..120) {
            // Simulate wakes exactly on time: records due by each wake go out then.
            let mut generated = 0u64;
            let mut now = Duration::ZERO;
            let end = Duration::from_secs(secs);
            let total = records_in(rate, end);
            let mut wakes = 0u64;
            while generated < total {
                generated = due_by(rate, now).min(total).max(generated);
                now = next_wake(rate, generated, now);
                wakes += 1;
            }
            prop_assert_eq!(generated, total);
            let expected = rate * secs as f64;
            prop_assert!((generated as f64 - expected).abs() <= 1.0, "{generated} vs {expected}");
            // Never more than one wake per record, nor more than ten a second (plus the first).
            prop_assert!(wakes <= total.max(1));
            prop_assert!(wakes <= secs * 10 + 1);
        }
    }
}
