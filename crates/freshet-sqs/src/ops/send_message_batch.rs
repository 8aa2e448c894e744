// SPDX-License-Identifier: Apache-2.0
//! SendMessageBatch: up to 10 messages in one append; entries fail one by one.

use std::collections::BTreeMap;

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{AttributeIn, BatchError, Ctx, attributes_in};
use crate::engine::SendRequest;
use crate::error::BatchKind;
use crate::validate::{message_size, validate_batch_ids, validate_batch_size};

pub(crate) struct SendMessageBatch;

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
    message_body: Option<JStr>,
    delay_seconds: Option<JInt>,
    message_attributes: Option<BTreeMap<String, AttributeIn>>,
    message_system_attributes: Option<BTreeMap<String, AttributeIn>>,
    message_deduplication_id: Option<JStr>,
    message_group_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Success {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "MD5OfMessageBody")]
    md5_of_message_body: String,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<String>,
    #[serde(
        rename = "MD5OfMessageSystemAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_system_attributes: Option<String>,
    #[serde(rename = "SequenceNumber", skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    successful: Vec<Success>,
    failed: Vec<BatchError>,
}

impl<'a> Operation<Ctx<'a>> for SendMessageBatch {
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
        validate_batch_ids(ids.iter().map(String::as_str), BatchKind::Send)
            .map_err(|e| ctx.err(e))?;
        let reqs: Vec<SendRequest> = entries
            .into_iter()
            .map(|e| SendRequest {
                body: e.message_body.map(|s| s.0).unwrap_or_default(),
                delay_seconds: e.delay_seconds.map(|d| d.0),
                attributes: attributes_in(e.message_attributes),
                system_attributes: attributes_in(e.message_system_attributes),
                dedup_id: e.message_deduplication_id.map(|s| s.0),
                group_id: e.message_group_id.map(|s| s.0),
                ..SendRequest::default()
            })
            .collect();
        q.lock()
            .engine
            .check_fifo_batch(
                reqs.iter()
                    .map(|r| (r.group_id.as_deref(), r.dedup_id.as_deref())),
            )
            .map_err(|e| ctx.err(e))?;
        let total: usize = reqs
            .iter()
            .map(|r| message_size(&r.body, &r.attributes))
            .sum();
        validate_batch_size(total).map_err(|e| ctx.err(e))?;
        let results = ctx
            .sqs
            .send_messages(&q, reqs, true)
            .await
            .map_err(|e| ctx.err(e))?;
        let mut out = Output {
            successful: Vec::new(),
            failed: Vec::new(),
        };
        for (id, r) in ids.into_iter().zip(results) {
            match r {
                Ok(r) => out.successful.push(Success {
                    id,
                    message_id: r.message_id,
                    md5_of_message_body: r.md5_of_body,
                    md5_of_message_attributes: r.md5_of_attributes,
                    md5_of_message_system_attributes: r.md5_of_system_attributes,
                    sequence_number: r.sequence_number,
                }),
                Err(e) => out.failed.push(BatchError::new(id, &e, ctx.protocol)),
            }
        }
        Ok(out)
    }
}
