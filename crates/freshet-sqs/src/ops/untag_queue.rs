// SPDX-License-Identifier: Apache-2.0
//! UntagQueue.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, missing, strings};

pub(crate) struct UntagQueue;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    tag_keys: Option<JList<JStr>>,
}

impl<'a> Operation<Ctx<'a>> for UntagQueue {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let keys = strings(i.tag_keys);
        if keys.is_empty() {
            return Err(missing("TagKeys"));
        }
        ctx.sqs.untag_queue(&q, &keys).await.map_err(|e| ctx.err(e))
    }
}
