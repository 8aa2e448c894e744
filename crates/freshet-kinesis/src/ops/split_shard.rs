// SPDX-License-Identifier: Apache-2.0
//! SplitShard.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{stream_ref, validate_shard_id, validate_stream};
use crate::Streams;
use crate::ops::patterns::{HASH_KEY_PATTERN, is_hash_key};

pub(crate) struct SplitShard;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    shard_to_split: Option<JStr>,
    new_starting_hash_key: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

impl Operation<Streams> for SplitShard {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        validate_shard_id(v, "shardToSplit", &i.shard_to_split);
        v.required("newStartingHashKey", &i.new_starting_hash_key);
        v.string(
            "newStartingHashKey",
            i.new_starting_hash_key.as_ref().map(|s| s.0.as_str()),
            0,
            None,
            Some((is_hash_key, HASH_KEY_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let shard = i.shard_to_split.map(|s| s.0).unwrap_or_default();
        let key = i.new_starting_hash_key.map(|s| s.0).unwrap_or_default();
        streams
            .split_shard(&stream_ref(i.stream_name, i.stream_arn), &shard, &key)
            .await?;
        Ok(())
    }
}
