// SPDX-License-Identifier: Apache-2.0
//! Account-level settings (DescribeAccountSettings / UpdateAccountSettings), persisted as one
//! JSON value in the `settings` table. Add fields only with `#[serde(default)]`.

use serde::{Deserialize, Serialize};

/// Everything the account-level API reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The minimum throughput billing commitment.
    #[serde(default)]
    pub commitment: Commitment,
}

/// The minimum throughput billing commitment of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// As last decided by an UpdateAccountSettings call. A scheduled end that has passed is
    /// still stored as [`CommitmentStatus::EnabledUntilEarliestAllowedEnd`]; readers settle it
    /// against the clock.
    #[serde(default)]
    pub status: CommitmentStatus,
    /// When the current (or last) commitment started (ms since epoch).
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// When the last commitment ended, or is scheduled to end (ms since epoch).
    #[serde(default)]
    pub ended_ms: Option<i64>,
    /// The earliest time the current commitment may end (ms since epoch).
    #[serde(default)]
    pub earliest_allowed_end_ms: Option<i64>,
}

/// Status of the minimum throughput billing commitment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitmentStatus {
    /// No commitment.
    #[default]
    Disabled,
    /// Committed.
    Enabled,
    /// A disable was asked for before the minimum period ended; the commitment stays on until
    /// its earliest allowed end.
    EnabledUntilEarliestAllowedEnd,
}

impl CommitmentStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Disabled => "DISABLED",
            CommitmentStatus::Enabled => "ENABLED",
            CommitmentStatus::EnabledUntilEarliestAllowedEnd => {
                "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
            }
        }
    }
}
