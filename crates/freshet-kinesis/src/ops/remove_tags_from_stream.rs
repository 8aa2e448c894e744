// SPDX-License-Identifier: Apache-2.0
//! RemoveTagsFromStream.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::resource_shapes::{tag_keys, validate_tag_keys};
use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct RemoveTagsFromStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    tag_keys: Option<JList<JStr>>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

impl Operation<Streams> for RemoveTagsFromStream {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        // AWS reports `tagKeys` before `streamName` (recorded).
        validate_tag_keys(v, &i.tag_keys);
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let keys = tag_keys(i.tag_keys.as_ref()).unwrap_or_default();
        streams
            .remove_tags_from_stream(&stream_ref(i.stream_name, i.stream_arn), &keys)
            .await?;
        Ok(())
    }
}
