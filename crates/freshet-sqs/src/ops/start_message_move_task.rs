// SPDX-License-Identifier: Apache-2.0
//! StartMessageMoveTask: redrive from a dead-letter queue, paced by the server's
//! `sqs-maintenance` component.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, required};

pub(crate) struct StartMessageMoveTask;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    source_arn: Option<JStr>,
    destination_arn: Option<JStr>,
    max_number_of_messages_per_second: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    task_handle: String,
}

impl<'a> Operation<Ctx<'a>> for StartMessageMoveTask {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let source = required(i.source_arn, "SourceArn")?;
        let task_handle = ctx
            .sqs
            .start_move_task(
                &source,
                i.destination_arn.as_ref().map(|d| d.0.as_str()),
                i.max_number_of_messages_per_second.map(|r| r.0),
            )
            .await
            .map_err(|e| ctx.err(e))?;
        Ok(Output { task_handle })
    }
}
