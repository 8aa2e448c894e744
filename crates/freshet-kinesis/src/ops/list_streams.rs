// SPDX-License-Identifier: Apache-2.0
//! ListStreams.

use freshet_protocol::json::{JInt, JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::StreamModeDetailsDto;
use crate::Streams;
use crate::ops::patterns::{NAME_PATTERN, is_name};

pub(crate) struct ListStreams;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    limit: Option<JInt>,
    exclusive_start_stream_name: Option<JStr>,
    next_token: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    stream_names: Vec<String>,
    has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    stream_summaries: Vec<SummaryDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SummaryDto {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: StreamModeDetailsDto,
    stream_creation_timestamp: Timestamp,
}

impl Operation<Streams> for ListStreams {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.string(
            "exclusiveStartStreamName",
            i.exclusive_start_stream_name.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some((is_name, NAME_PATTERN)),
        );
        v.string(
            "nextToken",
            i.next_token.as_ref().map(|s| s.0.as_str()),
            1,
            Some(1_048_576),
            None,
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let page = streams.list_streams(
            // Validated to 1..=10000.
            i.limit.map(|n| n.0 as u32),
            i.exclusive_start_stream_name.as_ref().map(|s| s.0.as_str()),
            i.next_token.as_ref().map(|s| s.0.as_str()),
        )?;
        Ok(Output {
            stream_names: page.streams.iter().map(|s| s.name.clone()).collect(),
            has_more_streams: page.has_more,
            next_token: page.next_token,
            stream_summaries: page
                .streams
                .into_iter()
                .map(|s| SummaryDto {
                    stream_name: s.name,
                    stream_arn: s.arn,
                    stream_status: s.status.as_str(),
                    stream_mode_details: StreamModeDetailsDto {
                        stream_mode: s.mode.as_str(),
                    },
                    stream_creation_timestamp: Timestamp(s.created_ms),
                })
                .collect(),
        })
    }
}
