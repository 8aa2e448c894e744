// SPDX-License-Identifier: Apache-2.0
//! UpdateMaxRecordSize.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use crate::ops::patterns::{STREAM_ARN_PATTERN, is_stream_arn};
use crate::{StreamRef, Streams};

pub(crate) struct UpdateMaxRecordSize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: Option<JInt>,
}

impl Operation<Streams> for UpdateMaxRecordSize {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        v.string(
            "streamARN",
            i.stream_arn.as_ref().map(|s| s.0.as_str()),
            1,
            Some(2048),
            Some((is_stream_arn, STREAM_ARN_PATTERN)),
        );
        v.required("maxRecordSizeInKiB", &i.max_record_size_in_kib);
        v.int(
            "maxRecordSizeInKiB",
            i.max_record_size_in_kib.map(|n| n.0),
            Some(1024),
            Some(10240),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let r = StreamRef {
            name: None,
            arn: i.stream_arn.map(|s| s.0),
        };
        // Validated to 1024..=10240.
        let kib = i.max_record_size_in_kib.map_or(1024, |n| n.0 as u32);
        streams.update_max_record_size(&r, kib).await?;
        Ok(())
    }
}
