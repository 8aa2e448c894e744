// SPDX-License-Identifier: Apache-2.0
//! MergeShards.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{stream_ref, validate_shard_id, validate_stream};
use crate::Streams;

pub(crate) struct MergeShards;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    shard_to_merge: Option<JStr>,
    adjacent_shard_to_merge: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

impl Operation<Streams> for MergeShards {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        validate_shard_id(v, "shardToMerge", &i.shard_to_merge);
        validate_shard_id(v, "adjacentShardToMerge", &i.adjacent_shard_to_merge);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let shard = i.shard_to_merge.map(|s| s.0).unwrap_or_default();
        let adjacent = i.adjacent_shard_to_merge.map(|s| s.0).unwrap_or_default();
        streams
            .merge_shards(&stream_ref(i.stream_name, i.stream_arn), &shard, &adjacent)
            .await?;
        Ok(())
    }
}
