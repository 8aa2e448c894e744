// SPDX-License-Identifier: Apache-2.0
//! The SQS API on the shared front door: [`SqsService`] claims `X-Amz-Target: AmazonSQS.*`
//! in AWS JSON 1.0 (boto3, the AWS CLI, the current SDKs) and the Query protocol of API
//! version 2012-11-05 (older SDKs; XML answers), with signing name `sqs`.
//!
//! Both protocols run the same operation modules: a Query request is transcoded to the JSON
//! input of the same operation (`freshet_protocol::input_of`) and its answer back to XML.
//! Query clients often POST to the queue's URL and leave `QueueUrl` out; it is then taken
//! from the path. Errors are mapped from [`SqsError`] in [`api_error`].

use std::sync::LazyLock;

use freshet_protocol::query::QueryModel;
use freshet_protocol::{
    ApiError, ApiRequest, Health, Protocol, Response, Route, Service, ServiceInfo, input_of,
};
use futures_util::future::BoxFuture;

use crate::ops::{Ctx, WIRE, dispatch};
use crate::store::{Sqs, SqsError, parse_queue_url};

/// Target prefix of SQS operations (before the dot).
pub const TARGET_PREFIX: &str = "AmazonSQS";
/// The Query API version.
pub const API_VERSION: &str = "2012-11-05";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Simple Queue Service",
    signing_name: "sqs",
    routes: vec![
        Route::Target {
            prefix: TARGET_PREFIX,
            protocols: &[Protocol::Json10],
        },
        Route::Query {
            version: API_VERSION,
        },
    ],
});

/// The SQS API over an [`Sqs`] service.
#[derive(Debug, Clone)]
pub struct SqsService {
    sqs: Sqs,
}

impl SqsService {
    /// The API over `sqs`.
    pub fn new(sqs: Sqs) -> Self {
        Self { sqs }
    }

    /// The service behind the API.
    pub fn sqs(&self) -> &Sqs {
        &self.sqs
    }
}

impl Service for SqsService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, mut req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            if req.protocol == Protocol::Query {
                queue_url_from_path(&mut req);
            }
            let (op, input) = match input_of(&req, Some(QueryModel::sqs())) {
                Ok(x) => x,
                Err(resp) => return resp,
            };
            let ctx = Ctx {
                sqs: &self.sqs,
                host: req.host(),
                protocol: req.protocol,
            };
            dispatch(&ctx, &op, input).await
        })
    }

    fn health(&self) -> Health {
        if self.sqs.healthy() {
            Health::Ok
        } else {
            Health::Degraded(
                "a queue is read-only after a storage failure; restart the server to recover"
                    .to_owned(),
            )
        }
    }
}

/// A Query request POSTed (or sent as GET) to a queue URL's path names its queue there.
fn queue_url_from_path(req: &mut ApiRequest) {
    if req.params.iter().any(|(k, _)| k == "QueueUrl") {
        return;
    }
    let path = req.path.split('?').next().unwrap_or("");
    if parse_queue_url(path).is_none() || path.trim_matches('/').split('/').count() != 2 {
        return;
    }
    let host = req.host().unwrap_or("localhost");
    let url = format!("http://{host}{path}");
    req.params.push(("QueueUrl".to_owned(), url));
}

/// The AWS error for `e` in `protocol` (the Query protocol words one message differently).
pub(crate) fn api_error(e: SqsError, protocol: Protocol) -> ApiError {
    match e {
        SqsError::Sqs(e) => {
            let message = match protocol {
                Protocol::Query => e.query_message().into_owned(),
                _ => e.to_string(),
            };
            ApiError::new(e.code(), e.status(), message).with_query_code(e.query_code())
        }
        SqsError::Storage(message) => {
            tracing::error!(error = %message, "SQS request failed in storage.");
            ApiError::internal(message).with_query_code("InternalError")
        }
    }
}

/// An `X-Amz-Target` naming no SQS operation.
pub(crate) fn unknown_operation(op: &str, protocol: Protocol) -> Response {
    let e = ApiError::new(
        "UnknownOperationException",
        400,
        format!("Simple Queue Service has no operation {op}."),
    )
    .with_query_code("InvalidAction");
    WIRE.error_response(&e, protocol)
}
