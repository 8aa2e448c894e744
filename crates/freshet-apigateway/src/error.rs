// SPDX-License-Identifier: Apache-2.0
//! API Gateway's own answers (its "gateway responses"): `{"message": ...}` with the status and
//! `x-amzn-ErrorType` AWS sends, mapped in one place.

use std::borrow::Cow;

use bytes::Bytes;
use freshet_protocol::Response;

/// A request API Gateway refuses before calling the integration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// No such API, stage, resource or method: what API Gateway answers for any undefined
    /// path, authenticated or not.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The body fails the method's request model (the stream-bound APIs validate bodies).
    #[error("Invalid request body")]
    InvalidRequestBody,
    /// A template reads the body and it is not JSON.
    #[error("Could not parse request body into json: {0}")]
    UnparsableBody(String),
    /// No template for the body's content type and the API passes nothing through.
    #[error("Unsupported Media Type")]
    UnsupportedMediaType,
    /// The body is over API Gateway's 10 MB payload limit.
    #[error("Request Too Long")]
    RequestTooLong,
}

impl GatewayError {
    /// HTTP status and `x-amzn-ErrorType`. No catch-all: a new kind must be mapped here.
    pub fn status_and_type(&self) -> (u16, &'static str) {
        match self {
            GatewayError::MissingAuthenticationToken => {
                (403, "MissingAuthenticationTokenException")
            }
            GatewayError::InvalidRequestBody | GatewayError::UnparsableBody(_) => {
                (400, "BadRequestException")
            }
            GatewayError::UnsupportedMediaType => (415, "UnsupportedMediaTypeException"),
            GatewayError::RequestTooLong => (413, "RequestEntityTooLargeException"),
        }
    }

    /// The answer: `{"message": "<text>"}` as `application/json`.
    pub fn response(&self) -> Response {
        let (status, error_type) = self.status_and_type();
        let body = serde_json::json!({ "message": self.to_string() }).to_string();
        Response {
            status,
            content_type: Cow::Borrowed("application/json"),
            headers: Vec::new(),
            body: Bytes::from(body),
            error_code: Some(error_type),
            events: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_error_has_its_aws_status_type_and_body() {
        let cases = [
            (
                GatewayError::MissingAuthenticationToken,
                403,
                "MissingAuthenticationTokenException",
                r#"{"message":"Missing Authentication Token"}"#,
            ),
            (
                GatewayError::InvalidRequestBody,
                400,
                "BadRequestException",
                r#"{"message":"Invalid request body"}"#,
            ),
            (
                GatewayError::UnparsableBody("unexpected end of input at byte 1".into()),
                400,
                "BadRequestException",
                r#"{"message":"Could not parse request body into json: unexpected end of input at byte 1"}"#,
            ),
            (
                GatewayError::UnsupportedMediaType,
                415,
                "UnsupportedMediaTypeException",
                r#"{"message":"Unsupported Media Type"}"#,
            ),
            (
                GatewayError::RequestTooLong,
                413,
                "RequestEntityTooLargeException",
                r#"{"message":"Request Too Long"}"#,
            ),
        ];
        for (e, status, ty, body) in cases {
            let r = e.response();
            assert_eq!(r.status, status, "{e}");
            assert_eq!(r.error_code, Some(ty), "{e}");
            assert_eq!(r.content_type, "application/json");
            assert_eq!(std::str::from_utf8(&r.body).expect("utf8"), body);
        }
    }
}
