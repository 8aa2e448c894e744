// SPDX-License-Identifier: Apache-2.0
//! TagQueue.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, missing};

pub(crate) struct TagQueue;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    tags: Option<JMap>,
}

impl<'a> Operation<Ctx<'a>> for TagQueue {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let tags = i
            .tags
            .map(|t| t.0)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing("Tags"))?;
        ctx.sqs.tag_queue(&q, &tags).await.map_err(|e| ctx.err(e))
    }
}
