// SPDX-License-Identifier: Apache-2.0
//! DeleteDeliveryStream.

use freshet_protocol::json::{JBool, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::validate_name;
use crate::Firehose;

pub(crate) struct DeleteDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    // Accepted: Freshet holds no resources a forced delete would skip.
    #[allow(dead_code)]
    allow_force_delete: Option<JBool>,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct Output {}

impl Operation<Firehose> for DeleteDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        fh.delete(&name).await?;
        Ok(Output {})
    }
}
