// SPDX-License-Identifier: Apache-2.0
//! RegisterStreamConsumer.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::consumer::{ConsumerDto, validate_consumer_name, validate_stream_arn};
use crate::Streams;

pub(crate) struct RegisterStreamConsumer;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    consumer_name: Option<JStr>,
    tags: Option<JMap>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    consumer: ConsumerDto,
}

impl Operation<Streams> for RegisterStreamConsumer {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("streamARN", &i.stream_arn);
        validate_stream_arn(v, &i.stream_arn);
        v.required("consumerName", &i.consumer_name);
        validate_consumer_name(v, &i.consumer_name);
        if let Some(tags) = &i.tags {
            let shown = format!(
                "{{{}}}",
                tags.0
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            v.list_len("tags", Some(tags.0.len()), &shown, 1, 200);
        }
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let stream_arn = i.stream_arn.map(|s| s.0).unwrap_or_default();
        let name = i.consumer_name.map(|s| s.0).unwrap_or_default();
        let consumer = streams
            .register_consumer(&stream_arn, &name, i.tags.map(|t| t.0).unwrap_or_default())
            .await?;
        Ok(Output {
            consumer: consumer.into(),
        })
    }
}
