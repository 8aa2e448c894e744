// SPDX-License-Identifier: Apache-2.0
//! CancelMessageMoveTask.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, required};

pub(crate) struct CancelMessageMoveTask;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    task_handle: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    approximate_number_of_messages_moved: u64,
}

impl<'a> Operation<Ctx<'a>> for CancelMessageMoveTask {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let handle = required(i.task_handle, "TaskHandle")?;
        let moved = ctx
            .sqs
            .cancel_move_task(&handle)
            .await
            .map_err(|e| ctx.err(e))?;
        Ok(Output {
            approximate_number_of_messages_moved: moved,
        })
    }
}
