// SPDX-License-Identifier: Apache-2.0
//! The CloudWatch Logs API on the shared front door: [`LogsService`] claims
//! `X-Amz-Target: Logs_20140328.*` in AWS JSON 1.1, dispatches each operation to its module
//! under `ops/`, and maps the domain's [`Error`]s to AWS errors in one place.
//!
//! Operations the model has but Freshet does not implement answer
//! `UnknownOperationException` with a message naming the operation, the code a Coral service
//! gives an operation it does not serve. `InvalidOperationException` is a modeled Logs error
//! meaning "not valid for this resource": a client catching it would look for a problem with
//! its log group that is not there.

use std::sync::LazyLock;

use freshet_protocol::{
    ApiError, ApiRequest, Health, Protocol, Response, Route, Service, ServiceInfo,
};
use futures_util::future::BoxFuture;

use crate::error::{Error, ErrorKind};
use crate::service::Logs;

/// Target prefix of Logs operations (before the dot).
pub const TARGET_PREFIX: &str = "Logs_20140328";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "CloudWatch Logs",
    signing_name: "logs",
    routes: vec![Route::Target {
        prefix: TARGET_PREFIX,
        protocols: &[Protocol::Json11],
    }],
});

/// The CloudWatch Logs API over a [`Logs`] service.
#[derive(Debug, Clone)]
pub struct LogsService {
    logs: Logs,
}

impl LogsService {
    /// The API over `logs`.
    pub fn new(logs: Logs) -> Self {
        Self { logs }
    }

    /// The service behind the API.
    pub fn logs(&self) -> &Logs {
        &self.logs
    }
}

impl Service for LogsService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            crate::ops::dispatch(
                &self.logs,
                &req.operation,
                req.protocol,
                &req.body,
                &req.request_id,
            )
            .await
        })
    }

    fn health(&self) -> Health {
        let poisoned = self.logs.poisoned_groups();
        if poisoned.is_empty() {
            Health::Ok
        } else {
            Health::Degraded(format!(
                "the logs of log groups {} are read-only after a storage failure; restart the \
                 server to recover",
                poisoned.join(", ")
            ))
        }
    }
}

/// The wire code and status of each error kind. No catch-all: a new kind must be mapped here.
pub fn code_of(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::ResourceNotFound => ("ResourceNotFoundException", 400),
        ErrorKind::ResourceAlreadyExists => ("ResourceAlreadyExistsException", 400),
        ErrorKind::InvalidParameter => ("InvalidParameterException", 400),
        ErrorKind::Validation => ("ValidationException", 400),
        ErrorKind::LimitExceeded => ("LimitExceededException", 400),
        ErrorKind::TooManyTags => ("TooManyTagsException", 400),
        ErrorKind::ServiceUnavailable => ("ServiceUnavailableException", 500),
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (code, status) = code_of(e.kind());
        if status >= 500 {
            tracing::error!(error = %e, "CloudWatch Logs request failed inside the server.");
        }
        ApiError::new(code, status, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_map_to_aws_bodies() {
        let e = ApiError::from(Error::GroupNotFound { group: "g".into() });
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#
        );
        let e = ApiError::from(Error::NameAndIdentifier);
        assert_eq!(e.code, "ValidationException");
        let e = ApiError::from(Error::Task("x".into()));
        assert_eq!((e.code, e.status), ("ServiceUnavailableException", 500));
    }
}
