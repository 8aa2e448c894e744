// SPDX-License-Identifier: Apache-2.0
//! ListTagsForStream.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::resource_shapes::{TagDto, tag_list};
use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct ListTagsForStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    exclusive_start_tag_key: Option<JStr>,
    limit: Option<JInt>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    tags: Vec<TagDto>,
    has_more_tags: bool,
}

impl Operation<Streams> for ListTagsForStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        // AWS's recorded order: limit, exclusiveStartTagKey, streamName.
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(50));
        v.string(
            "exclusiveStartTagKey",
            i.exclusive_start_tag_key.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            None,
        );
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let page = streams.list_tags_for_stream(
            &stream_ref(i.stream_name, i.stream_arn),
            i.exclusive_start_tag_key.as_ref().map(|s| s.0.as_str()),
            // Validated to 1..=50.
            i.limit.map(|n| n.0 as u32),
        )?;
        Ok(Output {
            tags: tag_list(page.tags),
            has_more_tags: page.has_more,
        })
    }
}
