// SPDX-License-Identifier: Apache-2.0
//! DescribeAccountSettings (and the commitment shape UpdateAccountSettings answers with).

use freshet_protocol::json::Timestamp;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use crate::{Commitment, Streams};

pub(crate) struct DescribeAccountSettings;

/// No members; unknown ones are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct Input {}

/// `DescribeAccountSettingsOutput` / `UpdateAccountSettingsOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    minimum_throughput_billing_commitment: CommitmentDto,
}

/// `MinimumThroughputBillingCommitmentOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CommitmentDto {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest_allowed_end_at: Option<Timestamp>,
}

impl From<Commitment> for Output {
    fn from(c: Commitment) -> Self {
        Self {
            minimum_throughput_billing_commitment: CommitmentDto {
                status: c.status.as_str(),
                started_at: c.started_ms.map(Timestamp),
                ended_at: c.ended_ms.map(Timestamp),
                earliest_allowed_end_at: c.earliest_allowed_end_ms.map(Timestamp),
            },
        }
    }
}

impl Operation<Streams> for DescribeAccountSettings {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(streams: &Streams, _: Input) -> Result<Output, ApiError> {
        Ok(streams.describe_account_settings()?.into())
    }
}
