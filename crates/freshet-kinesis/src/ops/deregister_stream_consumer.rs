// SPDX-License-Identifier: Apache-2.0
//! DeregisterStreamConsumer.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::consumer::{consumer_ref, validate_consumer_ref};
use crate::Streams;

pub(crate) struct DeregisterStreamConsumer;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    consumer_name: Option<JStr>,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<JStr>,
}

impl Operation<Streams> for DeregisterStreamConsumer {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_consumer_ref(v, &i.stream_arn, &i.consumer_name, &i.consumer_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let r = consumer_ref(i.stream_arn, i.consumer_name, i.consumer_arn);
        streams.deregister_consumer(&r).await?;
        Ok(())
    }
}
