// SPDX-License-Identifier: Apache-2.0
//! AddTagsToStream.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::resource_shapes::validate_tag_map;
use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct AddTagsToStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    tags: Option<JMap>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

impl Operation<Streams> for AddTagsToStream {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        // AWS reports `tags` before `streamName` (recorded).
        v.required("tags", &i.tags);
        validate_tag_map(v, "tags", &i.tags);
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let tags = i.tags.map(|t| t.0).unwrap_or_default();
        streams
            .add_tags_to_stream(&stream_ref(i.stream_name, i.stream_arn), tags)
            .await?;
        Ok(())
    }
}
