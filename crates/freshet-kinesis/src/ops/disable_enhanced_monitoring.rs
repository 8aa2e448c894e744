// SPDX-License-Identifier: Apache-2.0
//! DisableEnhancedMonitoring.

use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};

use super::enable_enhanced_monitoring::{Input, Output, validate_monitoring};
use super::stream_ref;
use crate::Streams;

pub(crate) struct DisableEnhancedMonitoring;

impl Operation<Streams> for DisableEnhancedMonitoring {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_monitoring(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let metrics = i.metrics();
        let change = streams
            .disable_enhanced_monitoring(&stream_ref(i.stream_name, i.stream_arn), &metrics)
            .await?;
        Ok(change.into())
    }
}
