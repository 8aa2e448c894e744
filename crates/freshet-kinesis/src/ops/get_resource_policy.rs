// SPDX-License-Identifier: Apache-2.0
//! GetResourcePolicy.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::resource_shapes::validate_resource_arn;
use crate::Streams;

pub(crate) struct GetResourcePolicy;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    policy: String,
}

impl Operation<Streams> for GetResourcePolicy {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_resource_arn(v, &i.resource_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let arn = i.resource_arn.map(|s| s.0).unwrap_or_default();
        Ok(Output {
            policy: streams.get_resource_policy(&arn)?,
        })
    }
}
