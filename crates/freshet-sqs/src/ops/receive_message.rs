// SPDX-License-Identifier: Apache-2.0
//! ReceiveMessage: up to 10 messages, long polling up to 20 s, the requested system and
//! message attributes with MD5s over what is returned.

use std::collections::BTreeMap;
use std::time::Duration;

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{AttributeOut, Ctx, attributes_out, strings};
use crate::engine::ReceiveRequest;
use crate::md5::md5_of_body;
use crate::validate::{validate_max_messages, validate_visibility_timeout, validate_wait_seconds};
use crate::view::{message_attributes, system_attributes};

pub(crate) struct ReceiveMessage;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    attribute_names: Option<JList<JStr>>,
    message_system_attribute_names: Option<JList<JStr>>,
    message_attribute_names: Option<JList<JStr>>,
    max_number_of_messages: Option<JInt>,
    visibility_timeout: Option<JInt>,
    wait_time_seconds: Option<JInt>,
    receive_request_attempt_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Message {
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: String,
    #[serde(rename = "MD5OfBody")]
    md5_of_body: String,
    #[serde(rename = "Body")]
    body: String,
    #[serde(rename = "Attributes", skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<String>,
    #[serde(
        rename = "MessageAttributes",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    message_attributes: BTreeMap<String, AttributeOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<Message>,
}

impl<'a> Operation<Ctx<'a>> for ReceiveMessage {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let max_messages =
            validate_max_messages(i.max_number_of_messages.map(|n| n.0)).map_err(|e| ctx.err(e))?;
        let visibility_timeout = match i.visibility_timeout {
            Some(v) => Some(validate_visibility_timeout(v.0).map_err(|e| ctx.err(e))?),
            None => None,
        };
        let wait = match i.wait_time_seconds {
            Some(w) => validate_wait_seconds(w.0).map_err(|e| ctx.err(e))?,
            None => {
                q.lock()
                    .engine
                    .attributes()
                    .receive_message_wait_time_seconds
            }
        };
        let mut names = strings(i.attribute_names);
        names.extend(strings(i.message_system_attribute_names));
        let wanted = strings(i.message_attribute_names);
        let req = ReceiveRequest {
            max_messages,
            visibility_timeout,
            attempt_id: i.receive_request_attempt_id.map(|s| s.0),
        };
        let received = ctx
            .sqs
            .receive(&q, &req, Duration::from_secs(u64::from(wait)))
            .await
            .map_err(|e| ctx.err(e))?;
        let messages = received
            .into_iter()
            .map(|r| {
                let attributes = system_attributes(&r.message, &r.delivery, &names);
                let (selected, md5) = message_attributes(&r.message.attributes, &wanted);
                Message {
                    message_id: r.message.message_id,
                    receipt_handle: r.delivery.receipt_handle,
                    md5_of_body: md5_of_body(&r.message.body),
                    body: r.message.body,
                    attributes,
                    md5_of_message_attributes: md5,
                    message_attributes: attributes_out(selected),
                }
            })
            .collect();
        Ok(Output { messages })
    }
}
