// SPDX-License-Identifier: Apache-2.0
//! Account-level state: DescribeLimits, DescribeAccountSettings and UpdateAccountSettings
//! (the minimum throughput billing commitment), and the on-demand stream quota.
//!
//! The commitment follows AWS's documented rules: once enabled it lasts at least
//! [`COMMITMENT_MINIMUM_MS`] (24 hours). Disabling before then schedules the end at the
//! earliest allowed end (status `ENABLED_UNTIL_EARLIEST_ALLOWED_END`); enabling again before
//! that cancels the scheduled end. The transitions are pure functions of the stored state and
//! the clock ([`update_commitment`], [`settle_commitment`]), so a scheduled end needs no timer.

use crate::account_record::{AccountSettings, Commitment, CommitmentStatus};
use crate::record::StreamMode;
use crate::store::KinesisMeta;

use crate::{Error, Streams};

/// Shortest a minimum throughput billing commitment can last.
pub const COMMITMENT_MINIMUM_MS: i64 = 24 * 3_600_000;

/// DescribeLimits' answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most open shards across all streams.
    pub shard_limit: u32,
    /// Open shards now.
    pub open_shard_count: u32,
    /// Streams in ON_DEMAND mode now.
    pub on_demand_stream_count: u32,
    /// Most streams in ON_DEMAND mode.
    pub on_demand_stream_count_limit: u32,
}

/// The commitment as it stands at `now`: a scheduled end that has passed has happened.
pub fn settle_commitment(c: &Commitment, now: i64) -> Commitment {
    match (c.status, c.earliest_allowed_end_ms) {
        (CommitmentStatus::EnabledUntilEarliestAllowedEnd, Some(end)) if now >= end => Commitment {
            status: CommitmentStatus::Disabled,
            ended_ms: Some(end),
            ..c.clone()
        },
        _ => c.clone(),
    }
}

/// The commitment after UpdateAccountSettings asks for `enable` at `now`.
pub fn update_commitment(c: &Commitment, enable: bool, now: i64) -> Commitment {
    let c = settle_commitment(c, now);
    match (c.status, enable) {
        (CommitmentStatus::Disabled, true) => Commitment {
            status: CommitmentStatus::Enabled,
            started_ms: Some(now),
            ended_ms: None,
            earliest_allowed_end_ms: Some(now + COMMITMENT_MINIMUM_MS),
        },
        // Enabling again before the scheduled end keeps the running commitment.
        (CommitmentStatus::EnabledUntilEarliestAllowedEnd, true) => Commitment {
            status: CommitmentStatus::Enabled,
            ..c
        },
        (CommitmentStatus::Enabled, false) => match c.earliest_allowed_end_ms {
            Some(end) if now < end => Commitment {
                status: CommitmentStatus::EnabledUntilEarliestAllowedEnd,
                ..c
            },
            _ => Commitment {
                status: CommitmentStatus::Disabled,
                ended_ms: Some(now),
                ..c
            },
        },
        (CommitmentStatus::Enabled, true)
        | (CommitmentStatus::Disabled, false)
        | (CommitmentStatus::EnabledUntilEarliestAllowedEnd, false) => c,
    }
}

impl Streams {
    /// DescribeLimits.
    pub fn describe_limits(&self) -> Limits {
        Limits {
            shard_limit: self.inner.opts.shard_limit,
            open_shard_count: self.open_shard_count(),
            on_demand_stream_count: self.on_demand_stream_count(None),
            on_demand_stream_count_limit: self.inner.opts.on_demand_stream_limit,
        }
    }

    /// DescribeAccountSettings: the minimum throughput billing commitment now.
    pub fn describe_account_settings(&self) -> Result<Commitment, Error> {
        Ok(settle_commitment(
            &self.account_settings()?.commitment,
            self.now(),
        ))
    }

    /// UpdateAccountSettings: enables or disables the commitment; answers the new state.
    pub async fn update_account_settings(&self, enable: bool) -> Result<Commitment, Error> {
        let _guard = self.inner.control.lock().await;
        let mut settings = self.account_settings()?;
        settings.commitment = update_commitment(&settings.commitment, enable, self.now());
        self.with_meta(|m| m.put_account_settings(&settings))
            .map_err(|e| Error::Storage(e.to_string()))?;
        Ok(settings.commitment)
    }

    /// Whether the account's commitment is in force now.
    pub(crate) fn commitment_active(&self) -> Result<bool, Error> {
        Ok(self.describe_account_settings()?.status != CommitmentStatus::Disabled)
    }

    fn account_settings(&self) -> Result<AccountSettings, Error> {
        self.with_meta(|m| m.account_settings())
            .map_err(|e| Error::Storage(e.to_string()))
    }

    /// Streams in ON_DEMAND mode, not counting `except`.
    pub(crate) fn on_demand_stream_count(&self, except: Option<&str>) -> u32 {
        self.streams()
            .values()
            .filter(|s| Some(s.name.as_str()) != except)
            .filter(|s| s.record().mode == StreamMode::OnDemand)
            .count() as u32
    }

    /// Refuses one more ON_DEMAND stream when the quota is reached.
    pub(crate) fn check_on_demand_quota(&self, except: Option<&str>) -> Result<(), Error> {
        let current = self.on_demand_stream_count(except);
        let limit = self.inner.opts.on_demand_stream_limit;
        if current >= limit {
            return Err(Error::OnDemandStreamLimit {
                account: self.inner.opts.account_id.clone(),
                region: self.inner.opts.region.clone(),
                current,
                limit,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn enabling_starts_a_commitment_with_a_minimum_period() {
        let c = update_commitment(&Commitment::default(), true, T0);
        assert_eq!(c.status, CommitmentStatus::Enabled);
        assert_eq!(c.started_ms, Some(T0));
        assert_eq!(c.earliest_allowed_end_ms, Some(T0 + 24 * HOUR));
        assert_eq!(c.ended_ms, None);
        // Enabling again changes nothing.
        assert_eq!(update_commitment(&c, true, T0 + HOUR), c);
    }

    #[test]
    fn an_early_disable_is_scheduled_and_can_be_cancelled() {
        let on = update_commitment(&Commitment::default(), true, T0);
        let pending = update_commitment(&on, false, T0 + HOUR);
        assert_eq!(
            pending.status,
            CommitmentStatus::EnabledUntilEarliestAllowedEnd
        );
        assert_eq!(pending.ended_ms, None);
        // Still in force until the earliest allowed end...
        assert_eq!(settle_commitment(&pending, T0 + 24 * HOUR - 1), pending);
        // ...then over, ended at exactly that time.
        let over = settle_commitment(&pending, T0 + 24 * HOUR);
        assert_eq!(over.status, CommitmentStatus::Disabled);
        assert_eq!(over.ended_ms, Some(T0 + 24 * HOUR));
        assert_eq!(over.started_ms, Some(T0));
        // Enabling before the end cancels it, keeping the original start.
        let back = update_commitment(&pending, true, T0 + 2 * HOUR);
        assert_eq!(back, on);
    }

    #[test]
    fn a_late_disable_ends_at_once_and_a_new_enable_starts_afresh() {
        let on = update_commitment(&Commitment::default(), true, T0);
        let off = update_commitment(&on, false, T0 + 30 * HOUR);
        assert_eq!(off.status, CommitmentStatus::Disabled);
        assert_eq!(off.ended_ms, Some(T0 + 30 * HOUR));
        assert_eq!(update_commitment(&off, false, T0 + 31 * HOUR), off);
        let again = update_commitment(&off, true, T0 + 40 * HOUR);
        assert_eq!(again.started_ms, Some(T0 + 40 * HOUR));
        assert_eq!(again.earliest_allowed_end_ms, Some(T0 + 64 * HOUR));
        assert_eq!(again.ended_ms, None);
    }

    #[test]
    fn enabling_after_a_scheduled_end_passed_starts_a_new_commitment() {
        let on = update_commitment(&Commitment::default(), true, T0);
        let pending = update_commitment(&on, false, T0 + HOUR);
        let again = update_commitment(&pending, true, T0 + 25 * HOUR);
        assert_eq!(again.status, CommitmentStatus::Enabled);
        assert_eq!(again.started_ms, Some(T0 + 25 * HOUR));
    }
}
