// SPDX-License-Identifier: Apache-2.0
//! ChangeMessageVisibility: the new timeout counts from now.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, missing, required};

pub(crate) struct ChangeMessageVisibility;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    receipt_handle: Option<JStr>,
    visibility_timeout: Option<JInt>,
}

impl<'a> Operation<Ctx<'a>> for ChangeMessageVisibility {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let handle = required(i.receipt_handle, "ReceiptHandle")?;
        let timeout = i
            .visibility_timeout
            .ok_or_else(|| missing("VisibilityTimeout"))?
            .0;
        ctx.sqs
            .change_visibility(&q, &handle, timeout)
            .await
            .map_err(|e| ctx.err(e))
    }
}
