// SPDX-License-Identifier: Apache-2.0
//! AWS errors on the wire: the `__type`, HTTP status and message of every failure, mapped
//! from domain errors in one place.

use freshet_streams::{Error, ErrorKind};

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The `__type`, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Message; `None` for errors AWS sends without one.
    pub message: Option<String>,
}

impl ApiError {
    /// `ValidationException` with a Coral-format message.
    pub fn validation(message: String) -> Self {
        Self {
            code: "ValidationException",
            status: 400,
            message: Some(message),
        }
    }

    /// `SerializationException`, with or without a message.
    pub fn serialization(message: Option<String>) -> Self {
        Self {
            code: "SerializationException",
            status: 400,
            message,
        }
    }

    /// `UnknownOperationException`.
    pub fn unknown_operation() -> Self {
        Self {
            code: "UnknownOperationException",
            status: 400,
            message: None,
        }
    }

    /// `InvalidArgumentException` with a message.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidArgumentException",
            status: 400,
            message: Some(message.into()),
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

    /// The body in the request's protocol: JSON or a CBOR map with the same members.
    pub fn body_in(&self, protocol: crate::Protocol) -> Vec<u8> {
        match protocol {
            crate::Protocol::Json => self.body(),
            crate::Protocol::Cbor => crate::cbor::error_body(self),
        }
    }

    /// The JSON body: `{"__type": ..., "message": ...}`. Coral's own protocol errors
    /// (SerializationException) spell the member `Message`.
    pub fn body(&self) -> Vec<u8> {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
        let mut out = format!("{{\"__type\":{}", quote(self.code));
        if let Some(m) = &self.message {
            out.push_str(&format!(",\"{}\":{}", self.message_member(), quote(m)));
        }
        out.push('}');
        out.into_bytes()
    }
}

/// The wire code and status of each error kind. No catch-all: a new kind must be mapped here.
pub fn code_of(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::ResourceNotFound => ("ResourceNotFoundException", 400),
        ErrorKind::ResourceInUse => ("ResourceInUseException", 400),
        ErrorKind::InvalidArgument => ("InvalidArgumentException", 400),
        ErrorKind::LimitExceeded => ("LimitExceededException", 400),
        ErrorKind::ExpiredIterator => ("ExpiredIteratorException", 400),
        ErrorKind::ExpiredNextToken => ("ExpiredNextTokenException", 400),
        ErrorKind::Validation => ("ValidationException", 400),
        ErrorKind::InternalFailure => ("InternalFailure", 500),
        ErrorKind::ProvisionedThroughputExceeded => ("ProvisionedThroughputExceededException", 400),
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (code, status) = code_of(e.kind());
        if status >= 500 {
            tracing::error!(error = %e, "Request failed inside the server.");
        }
        ApiError {
            code,
            status,
            message: Some(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_use_the_aws_member_names() {
        let e = ApiError::from(Error::StreamNotFound {
            stream: "s".into(),
            account: "000000000000".into(),
        });
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}"#
        );
        assert_eq!(e.status, 400);
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
    fn internal_failures_are_500() {
        let e = ApiError::from(Error::Storage("disk".into()));
        assert_eq!((e.code, e.status), ("InternalFailure", 500));
    }
}
