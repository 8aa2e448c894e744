// SPDX-License-Identifier: Apache-2.0
//! StopStreamEncryption.

use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};

use super::start_stream_encryption::{Input, validate_encryption};
use super::stream_ref;
use crate::Streams;

pub(crate) struct StopStreamEncryption;

impl Operation<Streams> for StopStreamEncryption {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate_encryption(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let (kms, key) = (i.kms(), i.key_id().to_owned());
        streams
            .stop_stream_encryption(&stream_ref(i.stream_name, i.stream_arn), kms, &key)
            .await?;
        Ok(())
    }
}
