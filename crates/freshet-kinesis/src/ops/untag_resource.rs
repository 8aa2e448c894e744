// SPDX-License-Identifier: Apache-2.0
//! UntagResource.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::resource_shapes::{tag_keys, validate_resource_arn, validate_tag_keys};
use crate::Streams;

pub(crate) struct UntagResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    tag_keys: Option<JList<JStr>>,
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
}

impl Operation<Streams> for UntagResource {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_tag_keys(v, &i.tag_keys);
        validate_resource_arn(v, &i.resource_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let arn = i.resource_arn.map(|s| s.0).unwrap_or_default();
        let keys = tag_keys(i.tag_keys.as_ref()).unwrap_or_default();
        streams.untag_resource(&arn, &keys).await?;
        Ok(())
    }
}
