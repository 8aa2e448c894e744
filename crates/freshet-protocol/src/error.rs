// SPDX-License-Identifier: Apache-2.0
//! AWS errors on the wire: the code, HTTP status and message of a failure, and how each
//! protocol spells them.
//!
//! Services map their domain errors to [`ApiError`] in one place each (a `match` without a
//! catch-all); this module only knows the envelopes:
//!
//! - JSON 1.0/1.1: `{"__type": "<code>", "message": "<text>"}` (Coral's own
//!   SerializationException spells the member `Message`), with the service's namespace
//!   prefixed to the code where the service has one on the wire (SQS:
//!   `com.amazonaws.sqs#QueueDoesNotExist`).
//! - CBOR 1.1 and RPC v2 CBOR: the same members in a CBOR map.
//! - awsQueryCompatible services (SQS, CloudWatch) add `x-amzn-query-error: <code>;<fault>`
//!   so SDKs raise the error under its Query-era code.
//! - REST-JSON: `{"Type": "User"|"Service", "message": "<text>", ...}` with the code in the
//!   `x-amzn-ErrorType` header and the error shape's modeled members ([`ApiError::fields`]) in
//!   the body; [`crate::rest::RestModel::error_response`] refines it with the model (message
//!   spelling, header members).
//! - Query: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`
//!   (encoded by the Query codec, which needs the request id).

use serde_json::{Map, Value};

use crate::Protocol;

/// Who AWS blames for a Query-protocol error: the `<Type>` element and the second half of the
/// `x-amzn-query-error` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The caller sent something wrong (4xx).
    Sender,
    /// The service failed (5xx).
    Receiver,
}

impl Fault {
    /// `Sender` or `Receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The error shape's name (`__type` without namespace), e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Message; `None` for errors AWS sends without one.
    pub message: Option<String>,
    /// The Query-era code of awsQueryCompatible services (e.g.
    /// `AWS.SimpleQueueService.NonExistentQueue`), when it differs from [`ApiError::code`] or
    /// the service is query-compatible at all.
    pub query_code: Option<&'static str>,
    /// Modeled members of the error shape beyond its code and message, by member name (Lambda's
    /// TooManyRequestsException: `Reason`, `retryAfterSeconds`; CloudWatch's
    /// DashboardInvalidInputError: `dashboardValidationMessages`). REST-JSON, JSON and CBOR
    /// bodies carry them; Query errors do not.
    pub fields: Option<Box<Map<String, Value>>>,
}

impl ApiError {
    /// An error with a code, status and message.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: Some(message.into()),
            query_code: None,
            fields: None,
        }
    }

    /// The same error with a modeled member (REST-JSON errors carry them in the body or, for
    /// header members, as headers).
    pub fn with_field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields
            .get_or_insert_with(Default::default)
            .insert(name.to_owned(), value.into());
        self
    }

    /// The same error with its Query-era code (for the `x-amzn-query-error` header and the
    /// Query protocol's `<Code>`).
    pub fn with_query_code(mut self, code: &'static str) -> Self {
        self.query_code = Some(code);
        self
    }

    /// `ValidationException` with a Coral-format message.
    pub fn validation(message: String) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// `SerializationException`, with or without a message.
    pub fn serialization(message: Option<String>) -> Self {
        Self {
            code: "SerializationException",
            status: 400,
            message,
            query_code: None,
            fields: None,
        }
    }

    /// `UnknownOperationException`.
    pub fn unknown_operation() -> Self {
        Self {
            code: "UnknownOperationException",
            status: 400,
            message: None,
            query_code: None,
            fields: None,
        }
    }

    /// `InvalidArgumentException` with a message.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgumentException", 400, message)
    }

    /// `InternalFailure` (500) with a message for the log.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", 500, message)
    }

    /// Whether the service is to blame.
    pub fn fault(&self) -> Fault {
        if self.status >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        }
    }

    /// The name of the message member: `Message` for Coral's own protocol errors
    /// (SerializationException), `message` for service errors.
    pub fn message_member(&self) -> &'static str {
        if self.code == "SerializationException" {
            "Message"
        } else {
            "message"
        }
    }

    /// The body in a JSON or CBOR `protocol`, without a code namespace.
    pub fn body_in(&self, protocol: Protocol) -> Vec<u8> {
        self.body_with(protocol, None)
    }

    /// The body in a JSON or CBOR `protocol`, with `namespace` (e.g. `com.amazonaws.sqs#`)
    /// before the code. Query errors are XML and need the request id: see
    /// [`crate::Wire::error_response`].
    pub fn body_with(&self, protocol: Protocol, namespace: Option<&str>) -> Vec<u8> {
        let code = match namespace {
            Some(ns) => format!("{ns}{}", self.code),
            None => self.code.to_owned(),
        };
        if protocol == Protocol::RestJson {
            let fields = self.fields.as_deref().cloned().unwrap_or_default();
            rest_json_error_body(self, self.status, self.message_member(), &fields)
        } else if protocol.is_cbor() {
            match self.fields.as_deref() {
                None => {
                    crate::cbor::error_body(&code, self.message_member(), self.message.as_deref())
                }
                Some(fields) => crate::cbor::error_body_with(
                    &code,
                    self.message_member(),
                    self.message.as_deref(),
                    fields,
                ),
            }
        } else {
            match self.fields.as_deref() {
                None => json_error_body(&code, self.message_member(), self.message.as_deref()),
                Some(fields) => {
                    let mut body = Map::new();
                    body.insert("__type".to_owned(), Value::from(code.as_str()));
                    if let Some(m) = &self.message {
                        body.insert(self.message_member().to_owned(), Value::from(m.as_str()));
                    }
                    for (k, v) in fields {
                        body.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
                }
            }
        }
    }

    /// The JSON body: `{"__type": ..., "message": ...}`.
    pub fn body(&self) -> Vec<u8> {
        self.body_in(Protocol::Json11)
    }

    /// The `x-amzn-query-error` header value: `<code>;Sender|Receiver`.
    pub fn query_error_header(&self) -> String {
        format!(
            "{};{}",
            self.query_code.unwrap_or(self.code),
            self.fault().as_str()
        )
    }
}

/// The REST-JSON body of `e` answered with `status`: `Type` (from `fields`, else `Service` for
/// 5xx and `User` otherwise), the message under `message_member`, then the other `fields`.
pub(crate) fn rest_json_error_body(
    e: &ApiError,
    status: u16,
    message_member: &str,
    fields: &Map<String, Value>,
) -> Vec<u8> {
    let mut body = Map::new();
    let kind = if status >= 500 { "Service" } else { "User" };
    body.insert("Type".to_owned(), Value::from(kind));
    if let Some(m) = &e.message {
        body.insert(message_member.to_owned(), Value::from(m.as_str()));
    }
    for (k, v) in fields {
        if !v.is_null() {
            body.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
}

fn json_error_body(code: &str, member: &str, message: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + message.map_or(0, str::len));
    out.extend_from_slice(b"{\"__type\":");
    // Serializing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, code);
    if let Some(m) = message {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(member.as_bytes());
        out.extend_from_slice(b"\":");
        let _ = serde_json::to_writer(&mut out, m);
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_cbor_bodies_carry_the_modeled_members() {
        let e = ApiError::new("DashboardInvalidInputError", 400, "bad").with_field(
            "dashboardValidationMessages",
            serde_json::json!([{"DataPath": "/w", "Message": "m"}]),
        );
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"DashboardInvalidInputError","dashboardValidationMessages":[{"DataPath":"/w","Message":"m"}],"message":"bad"}"#
        );
        let cbor: serde_json::Value =
            ciborium::from_reader(&e.body_in(Protocol::RpcV2Cbor)[..]).expect("cbor");
        assert_eq!(cbor["dashboardValidationMessages"][0]["DataPath"], "/w");
        assert_eq!(cbor["message"], "bad");
    }

    #[test]
    fn bodies_use_the_aws_member_names() {
        let e = ApiError::new("ResourceNotFoundException", 400, "Stream s not found.");
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"ResourceNotFoundException","message":"Stream s not found."}"#
        );
        let e = ApiError::serialization(Some("x".into()));
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"SerializationException","Message":"x"}"#
        );
        let e = ApiError::serialization(None);
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"SerializationException"}"#
        );
    }

    #[test]
    fn namespaced_codes_and_query_headers_follow_aws_query_compatible_services() {
        let e = ApiError::new(
            "QueueDoesNotExist",
            400,
            "The specified queue does not exist.",
        )
        .with_query_code("AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(
            String::from_utf8(e.body_with(Protocol::Json10, Some("com.amazonaws.sqs#")))
                .expect("utf8"),
            r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
        );
        assert_eq!(
            e.query_error_header(),
            "AWS.SimpleQueueService.NonExistentQueue;Sender"
        );
        assert_eq!(
            ApiError::internal("disk").query_error_header(),
            "InternalFailure;Receiver"
        );
    }
}
