// SPDX-License-Identifier: Apache-2.0
//! UpdateStreamMode.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::create_stream::{ModeDetails, STREAM_MODES};
use crate::ops::patterns::{STREAM_ARN_PATTERN, is_stream_arn};
use crate::{StreamMode, StreamRef, Streams};

pub(crate) struct UpdateStreamMode;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    stream_mode_details: Option<ModeDetails>,
    warm_throughput_mi_bps: Option<JInt>,
}

impl Operation<Streams> for UpdateStreamMode {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("streamARN", &i.stream_arn);
        v.string(
            "streamARN",
            i.stream_arn.as_ref().map(|s| s.0.as_str()),
            1,
            Some(2048),
            Some((is_stream_arn, STREAM_ARN_PATTERN)),
        );
        v.required("streamModeDetails", &i.stream_mode_details);
        if let Some(m) = &i.stream_mode_details {
            v.required("streamModeDetails.streamMode", &m.stream_mode);
            v.one_of(
                "streamModeDetails.streamMode",
                m.stream_mode.as_ref().map(|s| s.0.as_str()),
                STREAM_MODES,
            );
        }
        v.int(
            "warmThroughputMiBps",
            i.warm_throughput_mi_bps.map(|n| n.0),
            Some(0),
            None,
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let mode = match i.stream_mode_details.and_then(|m| m.stream_mode) {
            Some(s) if s.0 == "ON_DEMAND" => StreamMode::OnDemand,
            _ => StreamMode::Provisioned,
        };
        let r = StreamRef {
            name: None,
            arn: i.stream_arn.map(|s| s.0),
        };
        // Validated: at least 0 and within i32.
        let warm = i.warm_throughput_mi_bps.map(|n| n.0 as u32);
        streams.update_stream_mode(&r, mode, warm).await?;
        Ok(())
    }
}
