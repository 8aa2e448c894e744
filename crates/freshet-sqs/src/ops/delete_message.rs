// SPDX-License-Identifier: Apache-2.0
//! DeleteMessage: durable when acknowledged.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, required};

pub(crate) struct DeleteMessage;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    receipt_handle: Option<JStr>,
}

impl<'a> Operation<Ctx<'a>> for DeleteMessage {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let handle = required(i.receipt_handle, "ReceiptHandle")?;
        ctx.sqs
            .delete_message(&q, &handle)
            .await
            .map_err(|e| ctx.err(e))
    }
}
