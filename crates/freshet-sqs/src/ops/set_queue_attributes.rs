// SPDX-License-Identifier: Apache-2.0
//! SetQueueAttributes.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, missing};

pub(crate) struct SetQueueAttributes;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    attributes: Option<JMap>,
}

impl<'a> Operation<Ctx<'a>> for SetQueueAttributes {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let attributes = i.attributes.ok_or_else(|| missing("Attributes"))?.0;
        ctx.sqs
            .set_queue_attributes(&q, &attributes)
            .await
            .map_err(|e| ctx.err(e))
    }
}
