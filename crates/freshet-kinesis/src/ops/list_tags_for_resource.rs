// SPDX-License-Identifier: Apache-2.0
//! ListTagsForResource.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::resource_shapes::{TagDto, tag_list, validate_resource_arn};
use crate::Streams;

pub(crate) struct ListTagsForResource;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    tags: Vec<TagDto>,
}

impl Operation<Streams> for ListTagsForResource {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_resource_arn(v, &i.resource_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let arn = i.resource_arn.map(|s| s.0).unwrap_or_default();
        Ok(Output {
            tags: tag_list(streams.list_tags_for_resource(&arn)?),
        })
    }
}
