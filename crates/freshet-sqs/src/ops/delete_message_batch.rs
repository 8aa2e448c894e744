// SPDX-License-Identifier: Apache-2.0
//! DeleteMessageBatch: one journal entry for the batch; entries fail one by one.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{BatchError, Ctx, IdEntry};
use crate::error::BatchKind;
use crate::validate::validate_batch_ids;

pub(crate) struct DeleteMessageBatch;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    entries: Option<JList<Entry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Entry {
    id: Option<JStr>,
    receipt_handle: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    successful: Vec<IdEntry>,
    failed: Vec<BatchError>,
}

impl<'a> Operation<Ctx<'a>> for DeleteMessageBatch {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let entries: Vec<(String, String)> = i
            .entries
            .map(|l| l.0)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                (
                    e.id.map(|s| s.0).unwrap_or_default(),
                    e.receipt_handle.map(|s| s.0).unwrap_or_default(),
                )
            })
            .collect();
        validate_batch_ids(entries.iter().map(|(id, _)| id.as_str()), BatchKind::Delete)
            .map_err(|e| ctx.err(e))?;
        let outcome = ctx
            .sqs
            .delete_message_batch(&q, &entries)
            .await
            .map_err(|e| ctx.err(e))?;
        let mut out = Output {
            successful: Vec::new(),
            failed: Vec::new(),
        };
        for (id, r) in outcome.results {
            match r {
                Ok(()) => out.successful.push(IdEntry { id }),
                Err(e) => out.failed.push(BatchError::new(id, &e, ctx.protocol)),
            }
        }
        Ok(out)
    }
}
