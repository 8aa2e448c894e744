// SPDX-License-Identifier: Apache-2.0
//! StartMessageMoveTask, CancelMessageMoveTask and ListMessageMoveTasks: the registry checks
//! (the source is a dead-letter queue, the destination exists); the tasks themselves live in
//! the source queue's engine and journal, and `maintenance` steps them.

use super::{Sqs, SqsError};
use crate::checkpoint::MoveTaskRecord;
use crate::engine::{decode_task_handle, encode_task_handle};
use crate::error::Error;

/// A message move task as ListMessageMoveTasks shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTaskInfo {
    /// The task.
    pub task: MoveTaskRecord,
    /// TaskHandle.
    pub handle: String,
    /// SourceArn.
    pub source_arn: String,
}

impl Sqs {
    /// StartMessageMoveTask: the TaskHandle.
    pub async fn start_move_task(
        &self,
        source_arn: &str,
        destination_arn: Option<&str>,
        max_per_second: Option<i64>,
    ) -> Result<String, SqsError> {
        let source = self
            .queue_by_arn(source_arn)
            .ok_or_else(|| Error::ResourceNotFound {
                message:
                    "The resource that you specified for the SourceArn parameter doesn't exist."
                        .into(),
            })?;
        source.check()?;
        let is_dlq = self.read_queues().values().any(|q| {
            q.lock()
                .engine
                .attributes()
                .redrive_policy
                .as_ref()
                .is_some_and(|p| p.dead_letter_target_arn == source.arn)
        });
        if !is_dlq {
            return Err(Error::invalid_parameter(
                "Source queue must be configured as a Dead Letter Queue.",
            )
            .into());
        }
        if let Some(d) = destination_arn
            && self.queue_by_arn(d).is_none()
        {
            return Err(Error::ResourceNotFound {
                message:
                    "The resource that you specified for the DestinationArn parameter doesn't exist."
                        .into(),
            }
            .into());
        }
        let rate = match max_per_second {
            None => None,
            Some(r) => Some(u32::try_from(r).map_err(|_| {
                Error::invalid_value(
                    r,
                    "MaxNumberOfMessagesPerSecond",
                    "Must be between 1 and 500, if provided.",
                )
            })?),
        };
        let task_id = uuid::Uuid::new_v4().to_string();
        let _gate = source.gate.read().await;
        let entry = source.lock().engine.start_move_task(
            task_id.clone(),
            destination_arn.map(str::to_owned),
            rate,
            self.now_ms(),
        )?;
        source.persist(&entry).await?;
        Ok(encode_task_handle(&task_id, &source.arn))
    }

    /// CancelMessageMoveTask: messages moved so far.
    pub async fn cancel_move_task(&self, handle: &str) -> Result<u64, SqsError> {
        let (task_id, source_arn) = decode_task_handle(handle)?;
        let source = self
            .queue_by_arn(&source_arn)
            .ok_or_else(|| Error::ResourceNotFound {
                message:
                    "The resource that you specified for the SourceArn parameter doesn't exist."
                        .into(),
            })?;
        source.check()?;
        let _gate = source.gate.read().await;
        let (entry, moved) = source
            .lock()
            .engine
            .cancel_move_task(&task_id, self.now_ms())?;
        source.persist(&entry).await?;
        Ok(moved)
    }

    /// ListMessageMoveTasks: most recent first (default 1, at most 10).
    pub fn list_move_tasks(
        &self,
        source_arn: &str,
        max: Option<i64>,
    ) -> Result<Vec<MoveTaskInfo>, SqsError> {
        let source = self
            .queue_by_arn(source_arn)
            .ok_or_else(|| Error::ResourceNotFound {
                message:
                    "The resource that you specified for the SourceArn parameter doesn't exist."
                        .into(),
            })?;
        source.check()?;
        let max = match max {
            None => 1,
            Some(n) if (1..=10).contains(&n) => usize::try_from(n).unwrap_or(1),
            Some(n) => {
                return Err(Error::invalid_value(
                    n,
                    "MaxResults",
                    "Must be between 1 and 10, if provided.",
                )
                .into());
            }
        };
        let tasks = source.lock().engine.move_tasks(max);
        Ok(tasks
            .into_iter()
            .map(|task| MoveTaskInfo {
                handle: encode_task_handle(&task.task_id, &source.arn),
                source_arn: source.arn.clone(),
                task,
            })
            .collect())
    }
}
