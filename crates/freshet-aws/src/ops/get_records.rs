// SPDX-License-Identifier: Apache-2.0
//! GetRecords.

use freshet_streams::{RecordsPage, Streams};
use serde::{Deserialize, Serialize};

use super::{ChildShardDto, RecordDto};
use crate::json::{JInt, JStr};
use crate::validate::{STREAM_ARN_PATTERN, Validator, is_stream_arn};
use crate::{ApiError, Operation};

pub(crate) struct GetRecords;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    shard_iterator: Option<JStr>,
    limit: Option<JInt>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    records: Vec<RecordDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_shard_iterator: Option<String>,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    child_shards: Vec<ChildShardDto>,
}

impl Operation for GetRecords {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("shardIterator", &i.shard_iterator);
        v.string(
            "shardIterator",
            i.shard_iterator.as_ref().map(|s| s.0.as_str()),
            1,
            Some(512),
            None,
        );
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.string(
            "streamARN",
            i.stream_arn.as_ref().map(|s| s.0.as_str()),
            1,
            Some(2048),
            Some((is_stream_arn, STREAM_ARN_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let iterator = i.shard_iterator.map(|s| s.0).unwrap_or_default();
        // Validated to 1..=10000.
        let page = streams.get_records(&iterator, i.limit.map(|n| n.0 as u32))?;
        Ok(Output::from(page))
    }
}

impl From<RecordsPage> for Output {
    fn from(page: RecordsPage) -> Self {
        Output {
            records: page.records.into_iter().map(RecordDto::from).collect(),
            next_shard_iterator: page.next_iterator,
            millis_behind_latest: page.millis_behind_latest,
            child_shards: page
                .child_shards
                .into_iter()
                .map(ChildShardDto::from)
                .collect(),
        }
    }
}
