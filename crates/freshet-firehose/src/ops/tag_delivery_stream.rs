// SPDX-License-Identifier: Apache-2.0
//! TagDeliveryStream.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{TagIn, tag_pairs, validate_name, validate_tags};
use crate::Firehose;

pub(crate) struct TagDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    tags: Option<JList<TagIn>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {}

impl Operation<Firehose> for TagDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.required("tags", &i.tags);
        validate_tags(v, "tags", i.tags.as_ref().map(|t| t.0.as_slice()));
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        fh.tag(&name, tag_pairs(i.tags.map(|t| t.0))).await?;
        Ok(Output {})
    }
}
