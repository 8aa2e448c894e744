// SPDX-License-Identifier: Apache-2.0
//! UpdateStreamWarmThroughput.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{WarmThroughputDto, stream_ref, validate_stream};
use crate::Streams;

pub(crate) struct UpdateStreamWarmThroughput;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
    stream_name: Option<JStr>,
    warm_throughput_mi_bps: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_name: String,
    warm_throughput: WarmThroughputDto,
}

impl Operation<Streams> for UpdateStreamWarmThroughput {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.required("warmThroughputMiBps", &i.warm_throughput_mi_bps);
        v.int(
            "warmThroughputMiBps",
            i.warm_throughput_mi_bps.map(|n| n.0),
            Some(0),
            None,
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        // Validated: at least 0 and within i32.
        let mibps = i.warm_throughput_mi_bps.map_or(0, |n| n.0 as u32);
        let c = streams
            .update_stream_warm_throughput(&stream_ref(i.stream_name, i.stream_arn), mibps)
            .await?;
        Ok(Output {
            stream_arn: c.stream_arn,
            stream_name: c.stream_name,
            warm_throughput: c.warm_throughput.into(),
        })
    }
}
