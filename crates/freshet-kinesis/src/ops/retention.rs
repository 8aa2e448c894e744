// SPDX-License-Identifier: Apache-2.0
//! IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{stream_ref, validate_stream};
use crate::Streams;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    retention_period_hours: Option<JInt>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

fn validate(i: &Input, v: &mut Validator) {
    validate_stream(v, &i.stream_name, &i.stream_arn);
    v.required("retentionPeriodHours", &i.retention_period_hours);
}

pub(crate) struct IncreaseStreamRetentionPeriod;

impl Operation<Streams> for IncreaseStreamRetentionPeriod {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let hours = i.retention_period_hours.map_or(0, |h| h.0);
        streams
            .increase_retention(&stream_ref(i.stream_name, i.stream_arn), hours)
            .await?;
        Ok(())
    }
}

pub(crate) struct DecreaseStreamRetentionPeriod;

impl Operation<Streams> for DecreaseStreamRetentionPeriod {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        validate(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let hours = i.retention_period_hours.map_or(0, |h| h.0);
        streams
            .decrease_retention(&stream_ref(i.stream_name, i.stream_arn), hours)
            .await?;
        Ok(())
    }
}
