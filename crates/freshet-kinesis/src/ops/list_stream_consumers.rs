// SPDX-License-Identifier: Apache-2.0
//! ListStreamConsumers.

use freshet_protocol::json::{JInt, JStr, JTimestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::consumer::{ConsumerDto, validate_stream_arn};
use crate::{ListConsumers, Streams};

pub(crate) struct ListStreamConsumers;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
    stream_creation_timestamp: Option<JTimestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    consumers: Vec<ConsumerDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Operation<Streams> for ListStreamConsumers {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("streamARN", &i.stream_arn);
        validate_stream_arn(v, &i.stream_arn);
        v.string(
            "nextToken",
            i.next_token.as_ref().map(|s| s.0.as_str()),
            1,
            Some(1_048_576),
            None,
        );
        v.int(
            "maxResults",
            i.max_results.map(|n| n.0),
            Some(1),
            Some(10_000),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let page = streams.list_consumers(&ListConsumers {
            stream_arn: i.stream_arn.map(|s| s.0).unwrap_or_default(),
            next_token: i.next_token.map(|s| s.0),
            // Validated: 1..=10000.
            max_results: i.max_results.map(|n| n.0 as u32),
            stream_creation_ms: i.stream_creation_timestamp.map(|t| t.0),
        })?;
        Ok(Output {
            consumers: page.consumers.into_iter().map(Into::into).collect(),
            next_token: page.next_token,
        })
    }
}
