// SPDX-License-Identifier: Apache-2.0
//! StartDeliveryStreamEncryption and StopDeliveryStreamEncryption. Freshet's data stays on
//! the local disk either way; the status is kept and reported (`Encrypted` in put answers).

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::create_delivery_stream::{EncryptionIn, validate_encryption};
use super::validate_name;
use crate::Firehose;

pub(crate) struct StartDeliveryStreamEncryption;
pub(crate) struct StopDeliveryStreamEncryption;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartInput {
    delivery_stream_name: Option<JStr>,
    delivery_stream_encryption_configuration_input: Option<EncryptionIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StopInput {
    delivery_stream_name: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {}

impl Operation<Firehose> for StartDeliveryStreamEncryption {
    type Input = StartInput;
    type Output = Output;

    fn validate(i: &StartInput, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        validate_encryption(
            v,
            "deliveryStreamEncryptionConfigurationInput",
            &i.delivery_stream_encryption_configuration_input,
        );
    }

    async fn call(fh: &Firehose, i: StartInput) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let key = i.delivery_stream_encryption_configuration_input.map(|e| {
            (
                e.key_type.map(|s| s.0).unwrap_or_default(),
                e.key_arn.map(|s| s.0),
            )
        });
        fh.start_encryption(&name, key).await?;
        Ok(Output {})
    }
}

impl Operation<Firehose> for StopDeliveryStreamEncryption {
    type Input = StopInput;
    type Output = Output;

    fn validate(i: &StopInput, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
    }

    async fn call(fh: &Firehose, i: StopInput) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        fh.stop_encryption(&name).await?;
        Ok(Output {})
    }
}
