// SPDX-License-Identifier: Apache-2.0
//! DescribeStreamConsumer.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::consumer::{ConsumerDescriptionDto, consumer_ref, validate_consumer_ref};
use crate::Streams;

pub(crate) struct DescribeStreamConsumer;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    consumer_name: Option<JStr>,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    consumer_description: ConsumerDescriptionDto,
}

impl Operation<Streams> for DescribeStreamConsumer {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_consumer_ref(v, &i.stream_arn, &i.consumer_name, &i.consumer_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let r = consumer_ref(i.stream_arn, i.consumer_name, i.consumer_arn);
        Ok(Output {
            consumer_description: streams.describe_consumer(&r)?.into(),
        })
    }
}
