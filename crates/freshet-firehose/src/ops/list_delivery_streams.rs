// SPDX-License-Identifier: Apache-2.0
//! ListDeliveryStreams: names in alphabetical order, 10 by default.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::NAME;
use crate::Firehose;

pub(crate) struct ListDeliveryStreams;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    limit: Option<JInt>,
    delivery_stream_type: Option<JStr>,
    exclusive_start_delivery_stream_name: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    delivery_stream_names: Vec<String>,
    has_more_delivery_streams: bool,
}

impl Operation<Firehose> for ListDeliveryStreams {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.one_of(
            "deliveryStreamType",
            i.delivery_stream_type.as_ref().map(|s| s.0.as_str()),
            &[
                "DirectPut",
                "KinesisStreamAsSource",
                "MSKAsSource",
                "DatabaseAsSource",
            ],
        );
        v.string(
            "exclusiveStartDeliveryStreamName",
            i.exclusive_start_delivery_stream_name
                .as_ref()
                .map(|s| s.0.as_str()),
            1,
            Some(64),
            Some(NAME),
        );
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let limit = i.limit.map_or(10, |n| n.0.max(1) as usize);
        let start = i.exclusive_start_delivery_stream_name.map(|s| s.0);
        let kind = i.delivery_stream_type.map(|s| s.0);
        let mut names: Vec<String> = fh
            .records()?
            .into_iter()
            .filter(|r| kind.as_deref().is_none_or(|k| k == r.source.as_str()))
            .filter(|r| start.as_deref().is_none_or(|s| r.name.as_str() > s))
            .map(|r| r.name)
            .collect();
        names.sort();
        let has_more = names.len() > limit;
        names.truncate(limit);
        Ok(Output {
            delivery_stream_names: names,
            has_more_delivery_streams: has_more,
        })
    }
}
