// SPDX-License-Identifier: Apache-2.0
//! ListTagsForDeliveryStream: tags in key order, 50 by default.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{TAG_KEY, TagOut, validate_name};
use crate::Firehose;

pub(crate) struct ListTagsForDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    exclusive_start_tag_key: Option<JStr>,
    limit: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    tags: Vec<TagOut>,
    has_more_tags: bool,
}

impl Operation<Firehose> for ListTagsForDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.string(
            "exclusiveStartTagKey",
            i.exclusive_start_tag_key.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some(TAG_KEY),
        );
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(50));
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let rec = fh.record(&name)?;
        let start = i.exclusive_start_tag_key.map(|s| s.0);
        let limit = i.limit.map_or(50, |n| n.0.max(1) as usize);
        let mut tags: Vec<TagOut> = rec
            .tags
            .into_iter()
            .filter(|(k, _)| start.as_deref().is_none_or(|s| k.as_str() > s))
            .map(|(key, value)| TagOut { key, value })
            .collect();
        let has_more = tags.len() > limit;
        tags.truncate(limit);
        Ok(Output {
            tags,
            has_more_tags: has_more,
        })
    }
}
