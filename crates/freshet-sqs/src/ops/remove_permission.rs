// SPDX-License-Identifier: Apache-2.0
//! RemovePermission.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, required};

pub(crate) struct RemovePermission;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    label: Option<JStr>,
}

impl<'a> Operation<Ctx<'a>> for RemovePermission {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let label = required(i.label, "Label")?;
        ctx.sqs
            .remove_permission(&q, &label)
            .await
            .map_err(|e| ctx.err(e))
    }
}
