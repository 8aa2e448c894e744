// SPDX-License-Identifier: Apache-2.0
//! UpdateAccountSettings.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::describe_account_settings::Output;
use crate::Streams;

pub(crate) struct UpdateAccountSettings;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    minimum_throughput_billing_commitment: Option<CommitmentInput>,
}

/// `MinimumThroughputBillingCommitmentInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CommitmentInput {
    status: Option<JStr>,
}

impl Operation<Streams> for UpdateAccountSettings {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        const PATH: &str = "minimumThroughputBillingCommitment";
        v.required(PATH, &i.minimum_throughput_billing_commitment);
        if let Some(c) = &i.minimum_throughput_billing_commitment {
            let path = format!("{PATH}.status");
            v.required(&path, &c.status);
            v.one_of(
                &path,
                c.status.as_ref().map(|s| s.0.as_str()),
                &["ENABLED", "DISABLED"],
            );
        }
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let enable = i
            .minimum_throughput_billing_commitment
            .and_then(|c| c.status)
            .is_some_and(|s| s.0 == "ENABLED");
        Ok(streams.update_account_settings(enable).await?.into())
    }
}
