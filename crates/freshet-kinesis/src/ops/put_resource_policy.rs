// SPDX-License-Identifier: Apache-2.0
//! PutResourcePolicy.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::resource_shapes::validate_resource_arn;
use crate::Streams;

pub(crate) struct PutResourcePolicy;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
    policy: Option<JStr>,
}

impl Operation<Streams> for PutResourcePolicy {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_resource_arn(v, &i.resource_arn);
        v.required("policy", &i.policy);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let arn = i.resource_arn.map(|s| s.0).unwrap_or_default();
        let policy = i.policy.map(|s| s.0).unwrap_or_default();
        streams.put_resource_policy(&arn, &policy).await?;
        Ok(())
    }
}
