// SPDX-License-Identifier: Apache-2.0
//! ListShards.

use freshet_protocol::json::{JInt, JStr, JTimestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{ShardDto, stream_ref, validate_stream};
use crate::ops::patterns::{NAME_PATTERN, is_name};
use crate::{ShardFilter, Streams};

pub(crate) struct ListShards;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    next_token: Option<JStr>,
    exclusive_start_shard_id: Option<JStr>,
    max_results: Option<JInt>,
    stream_creation_timestamp: Option<JTimestamp>,
    shard_filter: Option<FilterDto>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FilterDto {
    #[serde(rename = "Type")]
    kind: Option<JStr>,
    shard_id: Option<JStr>,
    timestamp: Option<JTimestamp>,
}

const FILTER_TYPES: &[&str] = &[
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    shards: Vec<ShardDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Operation<Streams> for ListShards {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.string(
            "nextToken",
            i.next_token.as_ref().map(|s| s.0.as_str()),
            1,
            Some(1_048_576),
            None,
        );
        v.string(
            "exclusiveStartShardId",
            i.exclusive_start_shard_id.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some((is_name, NAME_PATTERN)),
        );
        v.int(
            "maxResults",
            i.max_results.map(|n| n.0),
            Some(1),
            Some(10000),
        );
        if let Some(f) = &i.shard_filter {
            v.required("shardFilter.type", &f.kind);
            v.one_of(
                "shardFilter.type",
                f.kind.as_ref().map(|s| s.0.as_str()),
                FILTER_TYPES,
            );
            v.string(
                "shardFilter.shardId",
                f.shard_id.as_ref().map(|s| s.0.as_str()),
                1,
                Some(128),
                Some((is_name, NAME_PATTERN)),
            );
        }
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let filter = match i.shard_filter {
            None => None,
            Some(f) => Some(filter(f)?),
        };
        let page = streams.list_shards(&crate::ListShards {
            stream: stream_ref(i.stream_name, i.stream_arn),
            next_token: i.next_token.map(|s| s.0),
            exclusive_start_shard_id: i.exclusive_start_shard_id.map(|s| s.0),
            // Validated to 1..=10000.
            max_results: i.max_results.map(|n| n.0 as u32),
            stream_creation_ms: i.stream_creation_timestamp.map(|t| t.0),
            filter,
        })?;
        Ok(Output {
            shards: page.shards.into_iter().map(ShardDto::from).collect(),
            next_token: page.next_token,
        })
    }
}

fn filter(f: FilterDto) -> Result<ShardFilter, ApiError> {
    let ts = || {
        f.timestamp.map(|t| t.0).ok_or_else(|| {
            ApiError::invalid_argument("Timestamp must be provided for shard filter of type AT_TIMESTAMP or FROM_TIMESTAMP.")
        })
    };
    Ok(match f.kind.as_ref().map(|s| s.0.as_str()) {
        Some("AFTER_SHARD_ID") => {
            ShardFilter::AfterShardId(f.shard_id.clone().map(|s| s.0).ok_or_else(|| {
                ApiError::invalid_argument(
                    "ShardId must be provided for shard filter of type AFTER_SHARD_ID.",
                )
            })?)
        }
        Some("AT_TRIM_HORIZON") => ShardFilter::AtTrimHorizon,
        Some("AT_LATEST") => ShardFilter::AtLatest,
        Some("AT_TIMESTAMP") => ShardFilter::AtTimestamp(ts()?),
        Some("FROM_TIMESTAMP") => ShardFilter::FromTimestamp(ts()?),
        // FROM_TRIM_HORIZON; anything else was rejected by validation.
        _ => ShardFilter::FromTrimHorizon,
    })
}
