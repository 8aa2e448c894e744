// SPDX-License-Identifier: Apache-2.0
//! The Glue API on the shared front door: [`GlueService`] claims `X-Amz-Target: AWSGlue.*`
//! in AWS JSON 1.1 (signing name `glue`), dispatches each operation to its module under
//! `ops/`, and maps [`GlueError`]s to AWS errors in one place.

use std::sync::LazyLock;

use freshet_protocol::{ApiError, ApiRequest, Protocol, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;

use crate::{ErrorKind, Glue, GlueError};

/// Target prefix of Glue operations (before the dot).
pub const TARGET_PREFIX: &str = "AWSGlue";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "AWS Glue",
    signing_name: "glue",
    routes: vec![Route::Target {
        prefix: TARGET_PREFIX,
        protocols: &[Protocol::Json11],
    }],
});

/// The Glue API over a catalog.
#[derive(Debug, Clone)]
pub struct GlueService {
    glue: Glue,
}

impl GlueService {
    /// The API over `glue`.
    pub fn new(glue: Glue) -> Self {
        Self { glue }
    }

    /// The catalog behind the API.
    pub fn glue(&self) -> &Glue {
        &self.glue
    }
}

impl Service for GlueService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            crate::ops::dispatch(&self.glue, &req.operation, req.protocol, &req.body).await
        })
    }
}

/// The wire code and status of each error kind. No catch-all: a new kind must be mapped here.
pub fn code_of(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::EntityNotFound => ("EntityNotFoundException", 400),
        ErrorKind::AlreadyExists => ("AlreadyExistsException", 400),
        ErrorKind::InvalidInput => ("InvalidInputException", 400),
        ErrorKind::ConcurrentModification => ("ConcurrentModificationException", 400),
        ErrorKind::InternalService => ("InternalServiceException", 500),
    }
}

impl From<GlueError> for ApiError {
    fn from(e: GlueError) -> Self {
        let (code, status) = code_of(e.kind());
        if status >= 500 {
            tracing::error!(error = %e, "Glue request failed inside the server.");
        }
        ApiError::new(code, status, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_aws_body() {
        for (e, body) in [
            (
                GlueError::DatabaseNotFound {
                    database: "d".into(),
                },
                r#"{"__type":"EntityNotFoundException","message":"Database d not found."}"#,
            ),
            (
                GlueError::TableNotFound { table: "t".into() },
                r#"{"__type":"EntityNotFoundException","message":"Table t not found."}"#,
            ),
            (
                GlueError::VersionNotFound {
                    table: "t".into(),
                    version: "3".into(),
                },
                r#"{"__type":"EntityNotFoundException","message":"Version 3 of table t not found."}"#,
            ),
            (
                GlueError::DatabaseExists,
                r#"{"__type":"AlreadyExistsException","message":"Database already exists."}"#,
            ),
            (
                GlueError::TableExists,
                r#"{"__type":"AlreadyExistsException","message":"Table already exists."}"#,
            ),
            (
                GlueError::InvalidInput("bad".into()),
                r#"{"__type":"InvalidInputException","message":"bad"}"#,
            ),
            (
                GlueError::ConcurrentModification,
                r#"{"__type":"ConcurrentModificationException","message":"Update table failed due to concurrent modifications."}"#,
            ),
        ] {
            let api = ApiError::from(e);
            assert_eq!(String::from_utf8(api.body()).expect("utf8"), body);
            assert_eq!(api.status, 400);
        }
        let api = ApiError::from(GlueError::Storage(freshet_meta::MetaError::Closed));
        assert_eq!((api.code, api.status), ("InternalServiceException", 500));
    }
}
