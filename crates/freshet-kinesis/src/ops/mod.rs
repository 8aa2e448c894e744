// SPDX-License-Identifier: Apache-2.0
//! One module per Kinesis operation, plus the DTO pieces they share.

mod add_tags_to_stream;
mod consumer;
mod create_stream;
mod delete_resource_policy;
mod delete_stream;
mod deregister_stream_consumer;
mod describe_account_settings;
mod describe_limits;
mod describe_stream;
mod describe_stream_consumer;
mod describe_stream_summary;
mod disable_enhanced_monitoring;
mod enable_enhanced_monitoring;
pub(crate) mod get_records; // pub(crate) for `crate::bench`
mod get_resource_policy;
mod get_shard_iterator;
mod list_shards;
mod list_stream_consumers;
mod list_streams;
mod list_tags_for_resource;
mod list_tags_for_stream;
mod merge_shards;
pub(crate) mod patterns;
pub(crate) mod put_record; // pub(crate) for `crate::bench`
pub(crate) mod put_records; // pub(crate) for `crate::bench`
mod put_resource_policy;
mod records;
mod register_stream_consumer;
mod remove_tags_from_stream;
mod resource_shapes;
mod retention;
mod split_shard;
mod start_stream_encryption;
mod stop_stream_encryption;
mod subscribe_to_shard;
mod tag_resource;
mod text;
mod untag_resource;
mod update_account_settings;
mod update_max_record_size;
mod update_shard_count;
mod update_stream_mode;
mod update_stream_warm_throughput;

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Protocol, Response, Wire, run};
use freshet_types::HashKeyRange;
use serde::Serialize;

use crate::ops::patterns::{NAME_PATTERN, STREAM_ARN_PATTERN, is_name, is_stream_arn};
use crate::{ChildShard, ShardInfo, StreamRef, Streams};

/// Kinesis errors carry bare codes and no Query compatibility.
pub(crate) const WIRE: Wire = Wire {
    error_namespace: None,
    query_compatible: false,
};

/// Routes an operation name to its module.
pub(crate) async fn dispatch(
    streams: &Streams,
    op: &str,
    protocol: Protocol,
    body: &[u8],
) -> Response {
    match op {
        "CreateStream" => {
            run::<Streams, create_stream::CreateStream>(streams, protocol, body, &WIRE).await
        }
        "DeleteStream" => {
            run::<Streams, delete_stream::DeleteStream>(streams, protocol, body, &WIRE).await
        }
        "DescribeStream" => {
            run::<Streams, describe_stream::DescribeStream>(streams, protocol, body, &WIRE).await
        }
        "DescribeStreamSummary" => {
            run::<Streams, describe_stream_summary::DescribeStreamSummary>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "ListStreams" => {
            run::<Streams, list_streams::ListStreams>(streams, protocol, body, &WIRE).await
        }
        "ListShards" => {
            run::<Streams, list_shards::ListShards>(streams, protocol, body, &WIRE).await
        }
        "PutRecord" => run::<Streams, put_record::PutRecord>(streams, protocol, body, &WIRE).await,
        "PutRecords" => {
            run::<Streams, put_records::PutRecords>(streams, protocol, body, &WIRE).await
        }
        "GetShardIterator" => {
            run::<Streams, get_shard_iterator::GetShardIterator>(streams, protocol, body, &WIRE)
                .await
        }
        "GetRecords" => {
            run::<Streams, get_records::GetRecords>(streams, protocol, body, &WIRE).await
        }
        "IncreaseStreamRetentionPeriod" => {
            run::<Streams, retention::IncreaseStreamRetentionPeriod>(streams, protocol, body, &WIRE)
                .await
        }
        "DecreaseStreamRetentionPeriod" => {
            run::<Streams, retention::DecreaseStreamRetentionPeriod>(streams, protocol, body, &WIRE)
                .await
        }
        "SplitShard" => {
            run::<Streams, split_shard::SplitShard>(streams, protocol, body, &WIRE).await
        }
        "MergeShards" => {
            run::<Streams, merge_shards::MergeShards>(streams, protocol, body, &WIRE).await
        }
        "UpdateShardCount" => {
            run::<Streams, update_shard_count::UpdateShardCount>(streams, protocol, body, &WIRE)
                .await
        }
        "RegisterStreamConsumer" => {
            run::<Streams, register_stream_consumer::RegisterStreamConsumer>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "DescribeStreamConsumer" => {
            run::<Streams, describe_stream_consumer::DescribeStreamConsumer>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "ListStreamConsumers" => {
            run::<Streams, list_stream_consumers::ListStreamConsumers>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "DeregisterStreamConsumer" => {
            run::<Streams, deregister_stream_consumer::DeregisterStreamConsumer>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "SubscribeToShard" => subscribe_to_shard::handle(streams, protocol, body).await,
        "AddTagsToStream" => {
            run::<Streams, add_tags_to_stream::AddTagsToStream>(streams, protocol, body, &WIRE)
                .await
        }
        "RemoveTagsFromStream" => {
            run::<Streams, remove_tags_from_stream::RemoveTagsFromStream>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "ListTagsForStream" => {
            run::<Streams, list_tags_for_stream::ListTagsForStream>(streams, protocol, body, &WIRE)
                .await
        }
        "TagResource" => {
            run::<Streams, tag_resource::TagResource>(streams, protocol, body, &WIRE).await
        }
        "UntagResource" => {
            run::<Streams, untag_resource::UntagResource>(streams, protocol, body, &WIRE).await
        }
        "ListTagsForResource" => {
            run::<Streams, list_tags_for_resource::ListTagsForResource>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "StartStreamEncryption" => {
            run::<Streams, start_stream_encryption::StartStreamEncryption>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "StopStreamEncryption" => {
            run::<Streams, stop_stream_encryption::StopStreamEncryption>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "EnableEnhancedMonitoring" => {
            run::<Streams, enable_enhanced_monitoring::EnableEnhancedMonitoring>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "DisableEnhancedMonitoring" => {
            run::<Streams, disable_enhanced_monitoring::DisableEnhancedMonitoring>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "UpdateStreamMode" => {
            run::<Streams, update_stream_mode::UpdateStreamMode>(streams, protocol, body, &WIRE)
                .await
        }
        "DescribeLimits" => {
            run::<Streams, describe_limits::DescribeLimits>(streams, protocol, body, &WIRE).await
        }
        "DescribeAccountSettings" => {
            run::<Streams, describe_account_settings::DescribeAccountSettings>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "UpdateAccountSettings" => {
            run::<Streams, update_account_settings::UpdateAccountSettings>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "UpdateMaxRecordSize" => {
            run::<Streams, update_max_record_size::UpdateMaxRecordSize>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "UpdateStreamWarmThroughput" => {
            run::<Streams, update_stream_warm_throughput::UpdateStreamWarmThroughput>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        "PutResourcePolicy" => {
            run::<Streams, put_resource_policy::PutResourcePolicy>(streams, protocol, body, &WIRE)
                .await
        }
        "GetResourcePolicy" => {
            run::<Streams, get_resource_policy::GetResourcePolicy>(streams, protocol, body, &WIRE)
                .await
        }
        "DeleteResourcePolicy" => {
            run::<Streams, delete_resource_policy::DeleteResourcePolicy>(
                streams, protocol, body, &WIRE,
            )
            .await
        }
        _ => WIRE.error_response(&ApiError::unknown_operation(), protocol),
    }
}

/// Validates the StreamName and StreamARN members shared by stream-scoped operations.
pub(crate) fn validate_stream(v: &mut Validator, name: &Option<JStr>, arn: &Option<JStr>) {
    v.string(
        "streamName",
        name.as_ref().map(|s| s.0.as_str()),
        1,
        Some(128),
        Some((is_name, NAME_PATTERN)),
    );
    v.string(
        "streamARN",
        arn.as_ref().map(|s| s.0.as_str()),
        1,
        Some(2048),
        Some((is_stream_arn, STREAM_ARN_PATTERN)),
    );
}

/// Validates a required shard id member (`ShardToSplit`, `ShardToMerge`, ...).
pub(crate) fn validate_shard_id(v: &mut Validator, path: &str, id: &Option<JStr>) {
    v.required(path, id);
    v.string(
        path,
        id.as_ref().map(|s| s.0.as_str()),
        1,
        Some(128),
        Some((is_name, NAME_PATTERN)),
    );
}

/// The domain reference for StreamName/StreamARN members.
pub(crate) fn stream_ref(name: Option<JStr>, arn: Option<JStr>) -> StreamRef {
    StreamRef {
        name: name.map(|s| s.0),
        arn: arn.map(|s| s.0),
    }
}

/// `HashKeyRange`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HashKeyRangeDto {
    pub starting_hash_key: String,
    pub ending_hash_key: String,
}

impl From<HashKeyRange> for HashKeyRangeDto {
    fn from(r: HashKeyRange) -> Self {
        Self {
            starting_hash_key: r.start.to_string(),
            ending_hash_key: r.end.to_string(),
        }
    }
}

/// `SequenceNumberRange`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SequenceNumberRangeDto {
    pub starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

/// `Shard`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShardDto {
    pub shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjacent_parent_shard_id: Option<String>,
    pub hash_key_range: HashKeyRangeDto,
    pub sequence_number_range: SequenceNumberRangeDto,
}

impl From<ShardInfo> for ShardDto {
    fn from(s: ShardInfo) -> Self {
        Self {
            shard_id: s.id.to_string(),
            parent_shard_id: s.parent.map(|p| p.to_string()),
            adjacent_parent_shard_id: s.adjacent_parent.map(|p| p.to_string()),
            hash_key_range: s.hash_range.into(),
            sequence_number_range: SequenceNumberRangeDto {
                starting_sequence_number: s.starting_sequence.to_string(),
                ending_sequence_number: s.ending_sequence.map(|e| e.to_string()),
            },
        }
    }
}

/// `StreamModeDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StreamModeDetailsDto {
    pub stream_mode: &'static str,
}

/// `EnhancedMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnhancedMetricsDto {
    pub shard_level_metrics: Vec<String>,
}

/// The `EnhancedMonitoring` value of a stream with these metrics enabled (AWS always sends
/// one entry, with an empty list when none are).
pub(crate) fn enhanced_monitoring(metrics: Vec<String>) -> Vec<EnhancedMetricsDto> {
    vec![EnhancedMetricsDto {
        shard_level_metrics: metrics,
    }]
}

/// The `EncryptionType` of a stream or record.
pub(crate) fn encryption_type(encrypted: bool) -> &'static str {
    if encrypted { "KMS" } else { "NONE" }
}

/// `WarmThroughputObject`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WarmThroughputDto {
    pub target_mi_bps: u32,
    pub current_mi_bps: u32,
}

impl From<crate::WarmThroughput> for WarmThroughputDto {
    fn from(w: crate::WarmThroughput) -> Self {
        Self {
            target_mi_bps: w.target_mibps,
            current_mi_bps: w.current_mibps,
        }
    }
}

/// `ChildShard`: a shard that follows a closed one, given at the closed shard's end.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ChildShardDto {
    shard_id: String,
    parent_shards: Vec<String>,
    hash_key_range: HashKeyRangeDto,
}

impl From<ChildShard> for ChildShardDto {
    fn from(c: ChildShard) -> Self {
        Self {
            shard_id: c.id.to_string(),
            parent_shards: c.parents.iter().map(ToString::to_string).collect(),
            hash_key_range: c.hash_range.into(),
        }
    }
}
