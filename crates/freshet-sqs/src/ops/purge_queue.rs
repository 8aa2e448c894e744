// SPDX-License-Identifier: Apache-2.0
//! PurgeQueue.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::Ctx;

pub(crate) struct PurgeQueue;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
}

impl<'a> Operation<Ctx<'a>> for PurgeQueue {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        ctx.sqs.purge(&q).await.map_err(|e| ctx.err(e))
    }
}
