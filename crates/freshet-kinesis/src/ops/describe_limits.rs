// SPDX-License-Identifier: Apache-2.0
//! DescribeLimits.

use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use crate::Streams;

pub(crate) struct DescribeLimits;

/// No members; unknown ones are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct Input {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    shard_limit: u32,
    open_shard_count: u32,
    on_demand_stream_count: u32,
    on_demand_stream_count_limit: u32,
}

impl Operation<Streams> for DescribeLimits {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(streams: &Streams, _: Input) -> Result<Output, ApiError> {
        let l = streams.describe_limits();
        Ok(Output {
            shard_limit: l.shard_limit,
            open_shard_count: l.open_shard_count,
            on_demand_stream_count: l.on_demand_stream_count,
            on_demand_stream_count_limit: l.on_demand_stream_count_limit,
        })
    }
}
