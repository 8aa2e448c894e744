// SPDX-License-Identifier: Apache-2.0
//! The Firehose API on the shared front door: [`FirehoseService`] claims
//! `X-Amz-Target: Firehose_20150804.*` in AWS JSON 1.1, dispatches each operation to its
//! module under `ops/`, and maps the domain's [`Error`]s to AWS errors in one place.

use std::sync::LazyLock;

use freshet_protocol::{ApiError, ApiRequest, Protocol, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;

use crate::{Error, ErrorKind, Firehose};

/// Target prefix of Firehose operations (before the dot).
pub const TARGET_PREFIX: &str = "Firehose_20150804";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Data Firehose",
    signing_name: "firehose",
    routes: vec![Route::Target {
        prefix: TARGET_PREFIX,
        protocols: &[Protocol::Json11],
    }],
});

/// The Firehose API over a [`Firehose`].
#[derive(Debug, Clone)]
pub struct FirehoseService {
    firehose: Firehose,
}

impl FirehoseService {
    /// The API over `firehose`.
    pub fn new(firehose: Firehose) -> Self {
        Self { firehose }
    }

    /// Handles one operation given its name, protocol and body.
    pub async fn handle(&self, operation: &str, protocol: Protocol, body: &[u8]) -> Response {
        crate::ops::dispatch(&self.firehose, operation, protocol, body).await
    }
}

impl Service for FirehoseService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move { self.handle(&req.operation, req.protocol, &req.body).await })
    }
}

/// The wire code and status of each error kind. No catch-all: a new kind must be mapped here.
pub fn code_of(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::ResourceNotFound => ("ResourceNotFoundException", 400),
        ErrorKind::ResourceInUse => ("ResourceInUseException", 400),
        ErrorKind::InvalidArgument => ("InvalidArgumentException", 400),
        ErrorKind::LimitExceeded => ("LimitExceededException", 400),
        ErrorKind::ConcurrentModification => ("ConcurrentModificationException", 400),
        // AWS's throttle; a 5xx so SDKs retry it.
        ErrorKind::ServiceUnavailable => ("ServiceUnavailableException", 503),
        ErrorKind::InvalidSource => ("InvalidSourceException", 400),
        ErrorKind::Internal => ("InternalFailure", 500),
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (code, status) = code_of(e.kind());
        if status == 500 {
            tracing::error!(error = %e, "Request failed inside the server.");
        }
        ApiError::new(code, status, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_map_to_aws_codes() {
        let e = ApiError::from(Error::NotFound {
            name: "s".into(),
            account: "000000000000".into(),
        });
        assert_eq!(e.code, "ResourceNotFoundException");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.message.as_deref(),
            Some("Firehose s under account 000000000000 not found.")
        );
    }
}
