// SPDX-License-Identifier: Apache-2.0
//! UpdateShardCount.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct UpdateShardCount;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    target_shard_count: Option<JInt>,
    scaling_type: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    stream_name: String,
    current_shard_count: u32,
    target_shard_count: u32,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
}

const SCALING_TYPES: &[&str] = &["UNIFORM_SCALING"];

impl Operation<Streams> for UpdateShardCount {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.required("targetShardCount", &i.target_shard_count);
        v.int(
            "targetShardCount",
            i.target_shard_count.map(|n| n.0),
            Some(1),
            None,
        );
        v.required("scalingType", &i.scaling_type);
        v.one_of(
            "scalingType",
            i.scaling_type.as_ref().map(|s| s.0.as_str()),
            SCALING_TYPES,
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        // Validated: at least 1 and within i32.
        let target = i.target_shard_count.map_or(1, |n| n.0 as u32);
        let out = streams
            .update_shard_count(&stream_ref(i.stream_name, i.stream_arn), target)
            .await?;
        Ok(Output {
            stream_name: out.stream_name,
            current_shard_count: out.current,
            target_shard_count: out.target,
            stream_arn: out.stream_arn,
        })
    }
}
