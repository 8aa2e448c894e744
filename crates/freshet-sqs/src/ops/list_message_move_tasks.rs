// SPDX-License-Identifier: Apache-2.0
//! ListMessageMoveTasks: the most recent tasks of a source queue (default 1, at most 10);
//! TaskHandle only on a RUNNING one.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, required};
use crate::journal::MoveTaskStatus;

pub(crate) struct ListMessageMoveTasks;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    source_arn: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Task {
    #[serde(skip_serializing_if = "Option::is_none")]
    task_handle: Option<String>,
    status: &'static str,
    source_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_number_of_messages_per_second: Option<u32>,
    approximate_number_of_messages_moved: u64,
    approximate_number_of_messages_to_move: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    started_timestamp: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    results: Vec<Task>,
}

impl<'a> Operation<Ctx<'a>> for ListMessageMoveTasks {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let source = required(i.source_arn, "SourceArn")?;
        let tasks = ctx
            .sqs
            .list_move_tasks(&source, i.max_results.map(|m| m.0))
            .map_err(|e| ctx.err(e))?;
        let results = tasks
            .into_iter()
            .map(|t| Task {
                task_handle: (t.task.status == MoveTaskStatus::Running).then_some(t.handle),
                status: t.task.status.as_str(),
                source_arn: t.source_arn,
                destination_arn: t.task.destination_arn,
                max_number_of_messages_per_second: t.task.max_per_second,
                approximate_number_of_messages_moved: t.task.moved,
                approximate_number_of_messages_to_move: t.task.to_move,
                failure_reason: t.task.failure_reason,
                started_timestamp: t.task.started_ms,
            })
            .collect();
        Ok(Output { results })
    }
}
