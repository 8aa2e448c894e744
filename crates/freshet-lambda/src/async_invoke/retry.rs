// SPDX-License-Identifier: Apache-2.0
//! When an asynchronous invocation runs again, and when it is given up: pure decisions on
//! the injected clock's milliseconds, as AWS documents them
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>):
//!
//! - a **function error** (the handler failed, timed out or crashed) is retried up to
//!   `MaximumRetryAttempts` times (default 2), one minute after the first failure and two
//!   minutes after the second;
//! - a **throttle or system error** (the function did not run) is retried with a delay that
//!   doubles from 1 second up to 5 minutes, for as long as the event is young enough;
//! - an event older than `MaximumEventAgeInSeconds` (default 6 hours) is given up
//!   (`EventAgeExceeded`), one out of retries too (`RetriesExhausted`);
//! - reserved concurrency 0 sends the event to its OnFailure destination without retries;
//! - an event whose function was deleted is dropped (its settings went with it).

use crate::functions::record::EventInvokeConfig;

/// Delay before the first retry after a function error.
pub const FIRST_RETRY_MS: i64 = 60_000;
/// First delay after a throttle or system error.
pub const THROTTLE_FIRST_MS: i64 = 1_000;
/// Longest delay after a throttle or system error.
pub const THROTTLE_MAX_MS: i64 = 300_000;

/// The settings one decision uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `MaximumRetryAttempts`.
    pub retries: u32,
    /// `MaximumEventAgeInSeconds`, in ms.
    pub max_age_ms: i64,
}

impl From<&EventInvokeConfig> for Policy {
    fn from(c: &EventInvokeConfig) -> Policy {
        Policy {
            retries: c.retries(),
            max_age_ms: c.max_age_ms(),
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The function ran and succeeded.
    Succeeded,
    /// The function ran and failed.
    FunctionError,
    /// The function did not run: throttled, or Freshet could not run it now.
    NotRun,
    /// The function's reserved concurrency is 0: it will not run.
    Refused,
    /// The function, version or alias no longer exists.
    Gone,
}

/// Why an event went to its OnFailure destination (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Out of retries.
    RetriesExhausted,
    /// Older than `MaximumEventAgeInSeconds`.
    EventAgeExceeded,
}

impl Condition {
    /// The record's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// An event's history so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// When it was accepted, ms.
    pub accepted_ms: i64,
    /// Runs that ended in a function error.
    pub attempts: u32,
    /// Attempts that did not run the function.
    pub not_run: u32,
}

/// What happens to an event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Finished: its OnSuccess destination (if any) gets the record.
    Succeeded,
    /// Given up: its OnFailure destination (if any) gets the record.
    GiveUp(Condition),
    /// Runs again at `due_ms`. `function_error`: the attempt count grew, so the event is
    /// stored again with its new count and the function's answer.
    Retry {
        /// Not before, ms.
        due_ms: i64,
        /// The attempt was a function error.
        function_error: bool,
    },
    /// Dropped without a record (its function is gone).
    Drop,
}

/// Whether an event accepted at `accepted_ms` is too old to run at `now_ms`.
pub fn expired(policy: Policy, accepted_ms: i64, now_ms: i64) -> bool {
    now_ms.saturating_sub(accepted_ms) > policy.max_age_ms
}

/// The delay after the `n`-th function error (n ≥ 1): one minute, then two.
pub fn function_error_delay(n: u32) -> i64 {
    FIRST_RETRY_MS.saturating_mul(i64::from(n.max(1)))
}

/// The delay after the `n`-th attempt that did not run (n ≥ 1): 1 s doubling to 5 minutes.
pub fn not_run_delay(n: u32) -> i64 {
    let shift = n.saturating_sub(1).min(20);
    THROTTLE_FIRST_MS
        .saturating_mul(1i64 << shift)
        .min(THROTTLE_MAX_MS)
}

/// Decides what follows `attempt` of an event with history `p`, at `now_ms`.
pub fn after(policy: Policy, p: Progress, attempt: Attempt, now_ms: i64) -> Decision {
    // A retry is never due after the event expired: at its expiry it is given up.
    let expiry = p
        .accepted_ms
        .saturating_add(policy.max_age_ms)
        .saturating_add(1);
    match attempt {
        Attempt::Succeeded => Decision::Succeeded,
        Attempt::Refused => Decision::GiveUp(Condition::RetriesExhausted),
        Attempt::Gone => Decision::Drop,
        Attempt::FunctionError => {
            let n = p.attempts.saturating_add(1);
            if n > policy.retries {
                Decision::GiveUp(Condition::RetriesExhausted)
            } else {
                Decision::Retry {
                    due_ms: now_ms.saturating_add(function_error_delay(n)).min(expiry),
                    function_error: true,
                }
            }
        }
        Attempt::NotRun => Decision::Retry {
            due_ms: now_ms
                .saturating_add(not_run_delay(p.not_run.saturating_add(1)))
                .min(expiry),
            function_error: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DEFAULT: Policy = Policy {
        retries: 2,
        max_age_ms: 21_600_000,
    };

    fn progress(attempts: u32, not_run: u32) -> Progress {
        Progress {
            accepted_ms: 0,
            attempts,
            not_run,
        }
    }

    #[test]
    fn function_errors_are_retried_after_one_then_two_minutes_then_given_up() {
        assert_eq!(
            after(DEFAULT, progress(0, 0), Attempt::FunctionError, 5),
            Decision::Retry {
                due_ms: 60_005,
                function_error: true
            }
        );
        assert_eq!(
            after(DEFAULT, progress(1, 0), Attempt::FunctionError, 60_010),
            Decision::Retry {
                due_ms: 180_010,
                function_error: true
            }
        );
        assert_eq!(
            after(DEFAULT, progress(2, 0), Attempt::FunctionError, 180_020),
            Decision::GiveUp(Condition::RetriesExhausted)
        );
    }

    #[test]
    fn zero_retries_gives_up_after_the_first_failure() {
        let p = Policy {
            retries: 0,
            ..DEFAULT
        };
        assert_eq!(
            after(p, progress(0, 0), Attempt::FunctionError, 1),
            Decision::GiveUp(Condition::RetriesExhausted)
        );
    }

    #[test]
    fn throttles_back_off_from_one_second_to_five_minutes() {
        let delays: Vec<i64> = (1..=12).map(not_run_delay).collect();
        assert_eq!(
            delays,
            vec![
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
                300_000, 300_000
            ]
        );
        assert_eq!(
            after(DEFAULT, progress(0, 3), Attempt::NotRun, 100),
            Decision::Retry {
                due_ms: 8_100,
                function_error: false
            }
        );
    }

    #[test]
    fn retries_are_never_due_after_the_event_expires() {
        let p = Policy {
            retries: 2,
            max_age_ms: 60_000,
        };
        let Decision::Retry { due_ms, .. } =
            after(p, progress(0, 0), Attempt::FunctionError, 30_000)
        else {
            panic!("a retry");
        };
        assert_eq!(due_ms, 60_001);
        assert!(expired(p, 0, due_ms));
        assert!(!expired(p, 0, 60_000));
    }

    #[test]
    fn a_refused_event_is_given_up_at_once_and_a_gone_function_drops_it() {
        assert_eq!(
            after(DEFAULT, progress(0, 0), Attempt::Refused, 0),
            Decision::GiveUp(Condition::RetriesExhausted)
        );
        assert_eq!(
            after(DEFAULT, progress(0, 0), Attempt::Gone, 0),
            Decision::Drop
        );
        assert_eq!(
            after(DEFAULT, progress(2, 9), Attempt::Succeeded, 0),
            Decision::Succeeded
        );
    }

    proptest! {
        #[test]
        fn an_event_runs_at_most_retries_plus_one_times_through_function_errors(
            retries in 0u32..=2,
            start in 0i64..1_000_000,
        ) {
            let p = Policy { retries, max_age_ms: 21_600_000 };
            let mut prog = Progress { accepted_ms: start, attempts: 0, not_run: 0 };
            let mut now = start;
            let mut runs = 0;
            loop {
                runs += 1;
                match after(p, prog, Attempt::FunctionError, now) {
                    Decision::Retry { due_ms, function_error: true } => {
                        prop_assert!(due_ms > now);
                        prog.attempts += 1;
                        now = due_ms;
                    }
                    Decision::GiveUp(Condition::RetriesExhausted) => break,
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
            prop_assert_eq!(runs, retries + 1);
        }

        #[test]
        fn retry_times_never_pass_expiry(
            attempts in 0u32..3, not_run in 0u32..40, now in 0i64..30_000_000,
            max_age_s in 60i64..=21_600,
        ) {
            let p = Policy { retries: 2, max_age_ms: max_age_s * 1000 };
            let prog = Progress { accepted_ms: 0, attempts, not_run };
            for a in [Attempt::FunctionError, Attempt::NotRun] {
                if let Decision::Retry { due_ms, .. } = after(p, prog, a, now) {
                    prop_assert!(due_ms <= p.max_age_ms + 1);
                }
            }
        }
    }
}
