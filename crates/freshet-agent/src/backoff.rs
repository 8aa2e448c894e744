// SPDX-License-Identifier: Apache-2.0
//! Retry delays: exponential (×2) from `retryInitialBackoffMillis` to `retryMaxBackoffMillis`
//! with ±30 % jitter, as the Kinesis Agent backs off. A success does not reset the count at
//! once but divides it by ten, so a destination that is throttling keeps being approached
//! gently.

use std::time::Duration;

/// The back-off state of one flow.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// Delays from `initial` up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            failures: 0,
        }
    }

    /// Records a failure and returns how long to wait before the next attempt; `unit` in
    /// [0, 1) picks the jitter (a random number in production, fixed in tests).
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let base = self.base();
        self.failures = self.failures.saturating_add(1);
        let jitter = 0.7 + 0.6 * unit.clamp(0.0, 1.0);
        base.mul_f64(jitter).min(self.max)
    }

    /// Records a success.
    pub fn succeeded(&mut self) {
        self.failures /= 10;
    }

    /// Failures counted now.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn base(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(30));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_from_the_initial_to_the_maximum() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let delays: Vec<u128> = (0..10).map(|_| b.next_delay(0.5).as_millis()).collect();
        assert_eq!(
            delays,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn a_success_divides_the_failure_count_by_ten() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        for _ in 0..25 {
            b.next_delay(0.5);
        }
        b.succeeded();
        assert_eq!(b.failures(), 2);
        b.succeeded();
        assert_eq!(b.failures(), 0);
    }

    proptest! {
        #[test]
        fn every_delay_is_within_thirty_percent_and_never_above_the_maximum(
            initial in 1u64..1_000, max in 1u64..20_000, n in 0usize..40, unit in 0.0f64..1.0,
        ) {
            let mut b = Backoff::new(Duration::from_millis(initial), Duration::from_millis(max));
            for _ in 0..n {
                b.next_delay(unit);
            }
            let base = b.base();
            let d = b.next_delay(unit);
            prop_assert!(d <= Duration::from_millis(max.max(initial)));
            prop_assert!(d >= base.mul_f64(0.7).min(Duration::from_millis(max.max(initial))));
            prop_assert!(d <= base.mul_f64(1.3));
        }
    }
}
