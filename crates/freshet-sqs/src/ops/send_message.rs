// SPDX-License-Identifier: Apache-2.0
//! SendMessage: acknowledged once the message is on disk.

use std::collections::BTreeMap;

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{AttributeIn, Ctx, attributes_in, missing};
use crate::engine::{SendRequest, SendResult};
use crate::store::SqsError;

pub(crate) struct SendMessage;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    message_body: Option<JStr>,
    delay_seconds: Option<JInt>,
    message_attributes: Option<BTreeMap<String, AttributeIn>>,
    message_system_attributes: Option<BTreeMap<String, AttributeIn>>,
    message_deduplication_id: Option<JStr>,
    message_group_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {
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
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "SequenceNumber", skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

impl From<SendResult> for Output {
    fn from(r: SendResult) -> Self {
        Output {
            md5_of_message_body: r.md5_of_body,
            md5_of_message_attributes: r.md5_of_attributes,
            md5_of_message_system_attributes: r.md5_of_system_attributes,
            message_id: r.message_id,
            sequence_number: r.sequence_number,
        }
    }
}

impl<'a> Operation<Ctx<'a>> for SendMessage {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let body = i.message_body.ok_or_else(|| missing("MessageBody"))?.0;
        let req = SendRequest {
            body,
            delay_seconds: i.delay_seconds.map(|d| d.0),
            attributes: attributes_in(i.message_attributes),
            system_attributes: attributes_in(i.message_system_attributes),
            dedup_id: i.message_deduplication_id.map(|s| s.0),
            group_id: i.message_group_id.map(|s| s.0),
            ..SendRequest::default()
        };
        let mut results = ctx
            .sqs
            .send_messages(&q, vec![req], false)
            .await
            .map_err(|e| ctx.err(e))?;
        match results.pop() {
            Some(Ok(r)) => Ok(r.into()),
            Some(Err(e)) => Err(ctx.err(e)),
            None => Err(ctx.err(SqsError::Storage("the send produced no result".into()))),
        }
    }
}
