// SPDX-License-Identifier: Apache-2.0
//! DeleteStream.

use freshet_protocol::json::{JBool, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct DeleteStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    enforce_consumer_deletion: Option<JBool>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

impl Operation<Streams> for DeleteStream {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let enforce = i.enforce_consumer_deletion.is_some_and(|b| b.0);
        streams
            .delete_stream(&stream_ref(i.stream_name, i.stream_arn), enforce)
            .await?;
        Ok(())
    }
}
