// SPDX-License-Identifier: Apache-2.0
//! DescribeStream.

use freshet_protocol::json::{JInt, JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{
    EnhancedMetricsDto, ShardDto, StreamModeDetailsDto, encryption_type, enhanced_monitoring,
    stream_ref, validate_stream,
};
use crate::Streams;
use crate::ops::patterns::{NAME_PATTERN, is_name};

pub(crate) struct DescribeStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    limit: Option<JInt>,
    exclusive_start_shard_id: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    stream_description: DescriptionDto,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescriptionDto {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: StreamModeDetailsDto,
    shards: Vec<ShardDto>,
    has_more_shards: bool,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMetricsDto>,
    encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
}

impl Operation<Streams> for DescribeStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.string(
            "exclusiveStartShardId",
            i.exclusive_start_shard_id.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some((is_name, NAME_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let d = streams.describe_stream(
            &stream_ref(i.stream_name, i.stream_arn),
            // Validated to 1..=10000.
            i.limit.map(|n| n.0 as u32),
            i.exclusive_start_shard_id.as_ref().map(|s| s.0.as_str()),
        )?;
        let s = d.summary;
        Ok(Output {
            stream_description: DescriptionDto {
                stream_name: s.name,
                stream_arn: s.arn,
                stream_status: s.status.as_str(),
                stream_mode_details: StreamModeDetailsDto {
                    stream_mode: s.mode.as_str(),
                },
                shards: d.shards.into_iter().map(ShardDto::from).collect(),
                has_more_shards: d.has_more_shards,
                retention_period_hours: s.retention_hours,
                stream_creation_timestamp: Timestamp(s.created_ms),
                enhanced_monitoring: enhanced_monitoring(s.shard_level_metrics),
                encryption_type: encryption_type(s.encryption_key_id.is_some()),
                key_id: s.encryption_key_id,
            },
        })
    }
}
