// SPDX-License-Identifier: Apache-2.0
//! ChangeMessageVisibilityBatch: one journal entry for the batch; entries fail one by one.

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{BatchError, Ctx, IdEntry};
use crate::error::{BatchKind, Error};
use crate::validate::validate_batch_ids;

pub(crate) struct ChangeMessageVisibilityBatch;

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
    visibility_timeout: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    successful: Vec<IdEntry>,
    failed: Vec<BatchError>,
}

impl<'a> Operation<Ctx<'a>> for ChangeMessageVisibilityBatch {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let entries = i.entries.map(|l| l.0).unwrap_or_default();
        let ids: Vec<String> = entries
            .iter()
            .map(|e| e.id.as_ref().map(|s| s.0.clone()).unwrap_or_default())
            .collect();
        validate_batch_ids(ids.iter().map(String::as_str), BatchKind::ChangeVisibility)
            .map_err(|e| ctx.err(e))?;
        let mut out = Output {
            successful: Vec::new(),
            failed: Vec::new(),
        };
        let mut changes = Vec::with_capacity(entries.len());
        for (id, e) in ids.into_iter().zip(entries) {
            let handle = e.receipt_handle.map(|s| s.0).unwrap_or_default();
            match e.visibility_timeout {
                Some(t) => changes.push((id, handle, t.0)),
                None => out.failed.push(BatchError::new(
                    id,
                    &Error::MissingParameter {
                        parameter: "VisibilityTimeout",
                    },
                    ctx.protocol,
                )),
            }
        }
        if !changes.is_empty() {
            let outcome = ctx
                .sqs
                .change_visibility_batch(&q, &changes)
                .await
                .map_err(|e| ctx.err(e))?;
            for (id, r) in outcome.results {
                match r {
                    Ok(()) => out.successful.push(IdEntry { id }),
                    Err(e) => out.failed.push(BatchError::new(id, &e, ctx.protocol)),
                }
            }
        }
        Ok(out)
    }
}
