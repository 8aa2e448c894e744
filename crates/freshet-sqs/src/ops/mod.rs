// SPDX-License-Identifier: Apache-2.0
//! One module per SQS operation, each implemented once over JSON DTOs (AWS member names) and
//! served over JSON 1.0 and the Query protocol alike (see [`crate::api`]); plus the pieces
//! they share: the per-request context, required members, message attribute DTOs.
//!
//! Required members are checked in each operation (SQS answers a missing one with
//! `MissingParameter`, "The request must contain the parameter X."), so `validate` has
//! nothing to do.

mod add_permission;
mod cancel_message_move_task;
mod change_message_visibility;
mod change_message_visibility_batch;
mod create_queue;
mod delete_message;
mod delete_message_batch;
mod delete_queue;
mod get_queue_attributes;
mod get_queue_url;
mod list_dead_letter_source_queues;
mod list_message_move_tasks;
mod list_queue_tags;
mod list_queues;
mod purge_queue;
mod receive_message;
mod remove_permission;
mod send_message;
mod send_message_batch;
mod set_queue_attributes;
mod start_message_move_task;
mod tag_queue;
mod untag_queue;

use std::collections::BTreeMap;
use std::sync::Arc;

use freshet_protocol::json::{Blob, JBlob, JList, JStr};
use freshet_protocol::{ApiError, Input, Protocol, Response, Wire, run_input};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::message::{AttributeData, AttributeValue};
use crate::store::queue::Queue;
use crate::store::{Sqs, SqsError};

/// SQS errors: `com.amazonaws.sqs#<Shape>` plus `x-amzn-query-error` (awsQueryCompatible).
pub(crate) const WIRE: Wire = Wire {
    error_namespace: Some("com.amazonaws.sqs#"),
    query_compatible: true,
};

/// What an operation runs with: the service, the host the client addressed (for queue
/// URLs) and the protocol (some messages differ on Query).
pub(crate) struct Ctx<'a> {
    pub sqs: &'a Sqs,
    pub host: Option<&'a str>,
    pub protocol: Protocol,
}

impl Ctx<'_> {
    /// The AWS error for `e`, in this request's protocol's words.
    pub fn err(&self, e: impl Into<SqsError>) -> ApiError {
        crate::api::api_error(e.into(), self.protocol)
    }

    /// The queue a QueueUrl names.
    pub fn queue(&self, url: Option<JStr>) -> Result<Arc<Queue>, ApiError> {
        let url = required(url, "QueueUrl")?;
        self.sqs.queue_by_url(&url).map_err(|e| self.err(e))
    }

    /// A queue's URL as this client reaches it.
    pub fn url(&self, name: &str) -> String {
        self.sqs.url_of(self.host, name)
    }
}

/// A required string member's value, or `MissingParameter`.
pub(crate) fn required(v: Option<JStr>, name: &'static str) -> Result<String, ApiError> {
    v.map(|s| s.0).ok_or_else(|| missing(name))
}

/// A missing required member (for members that are not strings).
pub(crate) fn missing(name: &'static str) -> ApiError {
    crate::api::api_error(
        SqsError::Sqs(Error::MissingParameter { parameter: name }),
        Protocol::Json10,
    )
}

/// A list of strings, empty when absent.
pub(crate) fn strings(v: Option<JList<JStr>>) -> Vec<String> {
    v.map(|l| l.0.into_iter().map(|s| s.0).collect())
        .unwrap_or_default()
}

/// `MessageAttributeValue` / `MessageSystemAttributeValue` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributeIn {
    string_value: Option<JStr>,
    binary_value: Option<JBlob>,
    #[allow(dead_code)]
    string_list_values: Option<JList<JStr>>,
    #[allow(dead_code)]
    binary_list_values: Option<JList<JBlob>>,
    data_type: Option<JStr>,
}

/// A map of attributes as sent, converted to the domain type: a `Binary` DataType takes
/// `BinaryValue`, the others `StringValue` (a missing one is empty, which validation
/// refuses with AWS's message).
pub(crate) fn attributes_in(
    v: Option<BTreeMap<String, AttributeIn>>,
) -> BTreeMap<String, AttributeValue> {
    v.unwrap_or_default()
        .into_iter()
        .map(|(name, a)| {
            let data_type = a.data_type.map(|s| s.0).unwrap_or_default();
            let data = if data_type.starts_with("Binary") {
                AttributeData::Binary(a.binary_value.map(|b| b.0).unwrap_or_default())
            } else {
                AttributeData::String(a.string_value.map(|s| s.0).unwrap_or_default())
            };
            (name, AttributeValue { data_type, data })
        })
        .collect()
}

/// `MessageAttributeValue` as returned.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributeOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary_value: Option<Blob>,
    data_type: String,
}

/// Attributes as returned.
pub(crate) fn attributes_out(
    attrs: BTreeMap<String, AttributeValue>,
) -> BTreeMap<String, AttributeOut> {
    attrs
        .into_iter()
        .map(|(name, v)| {
            let (string_value, binary_value) = match v.data {
                AttributeData::String(s) => (Some(s), None),
                AttributeData::Binary(b) => (None, Some(Blob(bytes::Bytes::from(b)))),
            };
            (
                name,
                AttributeOut {
                    string_value,
                    binary_value,
                    data_type: v.data_type,
                },
            )
        })
        .collect()
}

/// `BatchResultErrorEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchError {
    id: String,
    sender_fault: bool,
    code: &'static str,
    message: String,
}

impl BatchError {
    /// A failed entry: AWS reports the Query-era code.
    pub fn new(id: String, e: &Error, protocol: Protocol) -> Self {
        BatchError {
            id,
            sender_fault: true,
            code: e.query_code(),
            message: match protocol {
                Protocol::Query => e.query_message().into_owned(),
                _ => e.to_string(),
            },
        }
    }
}

/// `{"Id": ...}` of a successful delete or visibility change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct IdEntry {
    pub id: String,
}

/// Routes an operation name to its module.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    macro_rules! run {
        ($m:ident :: $t:ident) => {
            run_input::<Ctx<'_>, $m::$t>(ctx, op, input, &WIRE).await
        };
    }
    match op {
        "AddPermission" => run!(add_permission::AddPermission),
        "CancelMessageMoveTask" => run!(cancel_message_move_task::CancelMessageMoveTask),
        "ChangeMessageVisibility" => run!(change_message_visibility::ChangeMessageVisibility),
        "ChangeMessageVisibilityBatch" => {
            run!(change_message_visibility_batch::ChangeMessageVisibilityBatch)
        }
        "CreateQueue" => run!(create_queue::CreateQueue),
        "DeleteMessage" => run!(delete_message::DeleteMessage),
        "DeleteMessageBatch" => run!(delete_message_batch::DeleteMessageBatch),
        "DeleteQueue" => run!(delete_queue::DeleteQueue),
        "GetQueueAttributes" => run!(get_queue_attributes::GetQueueAttributes),
        "GetQueueUrl" => run!(get_queue_url::GetQueueUrl),
        "ListDeadLetterSourceQueues" => {
            run!(list_dead_letter_source_queues::ListDeadLetterSourceQueues)
        }
        "ListMessageMoveTasks" => run!(list_message_move_tasks::ListMessageMoveTasks),
        "ListQueueTags" => run!(list_queue_tags::ListQueueTags),
        "ListQueues" => run!(list_queues::ListQueues),
        "PurgeQueue" => run!(purge_queue::PurgeQueue),
        "ReceiveMessage" => run!(receive_message::ReceiveMessage),
        "RemovePermission" => run!(remove_permission::RemovePermission),
        "SendMessage" => run!(send_message::SendMessage),
        "SendMessageBatch" => run!(send_message_batch::SendMessageBatch),
        "SetQueueAttributes" => run!(set_queue_attributes::SetQueueAttributes),
        "StartMessageMoveTask" => run!(start_message_move_task::StartMessageMoveTask),
        "TagQueue" => run!(tag_queue::TagQueue),
        "UntagQueue" => run!(untag_queue::UntagQueue),
        _ => crate::api::unknown_operation(op, input.protocol()),
    }
}
