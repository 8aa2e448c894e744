// SPDX-License-Identifier: Apache-2.0
//! TagResource.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::resource_shapes::{validate_resource_arn, validate_tag_map};
use crate::Streams;

pub(crate) struct TagResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    tags: Option<JMap>,
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
}

impl Operation<Streams> for TagResource {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("tags", &i.tags);
        validate_tag_map(v, "tags", &i.tags);
        validate_resource_arn(v, &i.resource_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let arn = i.resource_arn.map(|s| s.0).unwrap_or_default();
        streams
            .tag_resource(&arn, i.tags.map(|t| t.0).unwrap_or_default())
            .await?;
        Ok(())
    }
}
