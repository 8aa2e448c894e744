// SPDX-License-Identifier: Apache-2.0
//! DescribeStreamSummary.

use freshet_protocol::json::{JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{
    EnhancedMetricsDto, StreamModeDetailsDto, WarmThroughputDto, encryption_type,
    enhanced_monitoring, stream_ref, validate_stream,
};
use crate::{StreamSummary, Streams};

pub(crate) struct DescribeStreamSummary;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    stream_description_summary: SummaryDto,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SummaryDto {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: StreamModeDetailsDto,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMetricsDto>,
    encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    open_shard_count: u32,
    consumer_count: u32,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    warm_throughput: Option<WarmThroughputDto>,
}

impl From<StreamSummary> for SummaryDto {
    fn from(s: StreamSummary) -> Self {
        Self {
            stream_name: s.name,
            stream_arn: s.arn,
            stream_status: s.status.as_str(),
            stream_mode_details: StreamModeDetailsDto {
                stream_mode: s.mode.as_str(),
            },
            retention_period_hours: s.retention_hours,
            stream_creation_timestamp: Timestamp(s.created_ms),
            enhanced_monitoring: enhanced_monitoring(s.shard_level_metrics),
            encryption_type: encryption_type(s.encryption_key_id.is_some()),
            key_id: s.encryption_key_id,
            open_shard_count: s.open_shard_count,
            consumer_count: s.consumer_count,
            max_record_size_in_kib: s.max_record_size_kib,
            warm_throughput: s.warm_throughput.map(WarmThroughputDto::from),
        }
    }
}

impl Operation<Streams> for DescribeStreamSummary {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let s = streams.describe_stream_summary(&stream_ref(i.stream_name, i.stream_arn))?;
        Ok(Output {
            stream_description_summary: s.into(),
        })
    }
}
