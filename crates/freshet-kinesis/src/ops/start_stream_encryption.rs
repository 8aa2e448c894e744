// SPDX-License-Identifier: Apache-2.0
//! StartStreamEncryption (and the input shape StopStreamEncryption shares).

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct StartStreamEncryption;

/// `EncryptionType` values.
pub(crate) const ENCRYPTION_TYPES: &[&str] = &["NONE", "KMS"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    pub stream_name: Option<JStr>,
    pub encryption_type: Option<JStr>,
    pub key_id: Option<JStr>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<JStr>,
}

impl Input {
    /// Whether EncryptionType is KMS (validated to NONE or KMS).
    pub fn kms(&self) -> bool {
        self.encryption_type.as_ref().is_some_and(|t| t.0 == "KMS")
    }

    /// The KeyId (validated present).
    pub fn key_id(&self) -> &str {
        self.key_id.as_ref().map_or("", |k| k.0.as_str())
    }
}

/// Model checks of the encryption inputs.
pub(crate) fn validate_encryption(i: &Input, v: &mut Validator) {
    validate_stream(v, &i.stream_name, &i.stream_arn);
    v.required("encryptionType", &i.encryption_type);
    v.one_of(
        "encryptionType",
        i.encryption_type.as_ref().map(|s| s.0.as_str()),
        ENCRYPTION_TYPES,
    );
    v.required("keyId", &i.key_id);
    v.string(
        "keyId",
        i.key_id.as_ref().map(|s| s.0.as_str()),
        1,
        Some(2048),
        None,
    );
}

impl Operation<Streams> for StartStreamEncryption {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_encryption(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let (kms, key) = (i.kms(), i.key_id().to_owned());
        streams
            .start_stream_encryption(&stream_ref(i.stream_name, i.stream_arn), kms, &key)
            .await?;
        Ok(())
    }
}
