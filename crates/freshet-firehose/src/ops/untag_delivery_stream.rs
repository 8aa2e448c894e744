// SPDX-License-Identifier: Apache-2.0
//! UntagDeliveryStream.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::validate_name;
use crate::Firehose;

pub(crate) struct UntagDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    tag_keys: Option<JList<JStr>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {}

impl Operation<Firehose> for UntagDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.required("tagKeys", &i.tag_keys);
        let keys: Option<Vec<String>> = i
            .tag_keys
            .as_ref()
            .map(|k| k.0.iter().map(|s| s.0.clone()).collect());
        v.string_list(
            "tagKeys",
            keys.as_deref(),
            (1, 50),
            StringMember::Length(1, 128),
        );
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let keys = i
            .tag_keys
            .map(|k| k.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default();
        fh.untag(&name, keys).await?;
        Ok(Output {})
    }
}
