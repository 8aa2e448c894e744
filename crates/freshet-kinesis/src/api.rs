// SPDX-License-Identifier: Apache-2.0
//! The Kinesis API on the shared front door: [`KinesisService`] claims
//! `X-Amz-Target: Kinesis_20131202.*` in AWS JSON 1.1 and CBOR 1.1, dispatches each operation
//! to its module under `ops/`, and maps the domain's [`Error`]s to AWS errors in one place.

use std::sync::LazyLock;

use freshet_protocol::{
    ApiError, ApiRequest, Health, Protocol, Response, Route, Service, ServiceInfo,
};
use futures_util::future::BoxFuture;

use crate::{Error, ErrorKind, Streams};

/// Target prefix of Kinesis operations (before the dot).
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Kinesis Data Streams",
    signing_name: "kinesis",
    routes: vec![Route::Target {
        prefix: TARGET_PREFIX,
        protocols: &[Protocol::Json11, Protocol::Cbor11],
    }],
});

/// The Kinesis API over a streams service.
#[derive(Debug, Clone)]
pub struct KinesisService {
    streams: Streams,
}

impl KinesisService {
    /// The API over `streams`.
    pub fn new(streams: Streams) -> Self {
        Self { streams }
    }

    /// The streams service behind the API.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Handles one operation given its name (the target after the prefix), protocol and body.
    pub async fn handle(&self, operation: &str, protocol: Protocol, body: &[u8]) -> Response {
        crate::ops::dispatch(&self.streams, operation, protocol, body).await
    }
}

impl Service for KinesisService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move { self.handle(&req.operation, req.protocol, &req.body).await })
    }

    fn health(&self) -> Health {
        if self.streams.healthy() {
            Health::Ok
        } else {
            Health::Degraded(
                "a shard log is read-only after a storage failure; restart the server to recover"
                    .to_owned(),
            )
        }
    }

    /// A missing or unknown content type, answered as AWS was recorded doing (reference
    /// §1.6): an empty body gets a CBOR `UnknownOperationException`; with a body, a full
    /// Kinesis target gets 404 `<UnknownOperationException/>` and a partial one the
    /// `AccessDeniedException` XML.
    fn unsupported_content_type(
        &self,
        target: &str,
        _content_type: Option<&str>,
        body: &[u8],
    ) -> Response {
        if body.is_empty() {
            return Response::error_in(&ApiError::unknown_operation(), Protocol::Cbor11);
        }
        let full_target = target
            .strip_prefix(TARGET_PREFIX)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|op| !op.is_empty());
        if full_target {
            xml_response(
                404,
                "<UnknownOperationException/>\n",
                Some("UnknownOperationException"),
            )
        } else {
            access_denied()
        }
    }
}

fn xml_response(status: u16, body: &'static str, code: Option<&'static str>) -> Response {
    let mut r = Response::ok(Protocol::Json11, bytes::Bytes::from_static(body.as_bytes()));
    r.status = status;
    r.content_type = "application/xml".into();
    r.error_code = code;
    r
}

/// AWS's answer to a request it cannot attribute to an operation.
pub fn access_denied() -> Response {
    xml_response(
        403,
        "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n",
        None,
    )
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
        ApiError::new(code, status, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_map_to_aws_bodies() {
        let e = ApiError::from(Error::StreamNotFound {
            stream: "s".into(),
            account: "000000000000".into(),
        });
        assert_eq!(
            String::from_utf8(e.body()).expect("utf8"),
            r#"{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}"#
        );
        assert_eq!(e.status, 400);
    }

    #[test]
    fn internal_failures_are_500() {
        let e = ApiError::from(Error::Storage("disk".into()));
        assert_eq!((e.code, e.status), ("InternalFailure", 500));
    }
}
