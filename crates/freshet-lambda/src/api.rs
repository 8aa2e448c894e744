// SPDX-License-Identifier: Apache-2.0
//! The Lambda API on the shared front door: [`LambdaService`] claims Lambda's REST path
//! prefixes and lets the model-driven REST-JSON binder of `freshet-protocol` (compiled once
//! from the botocore Lambda model) turn each request into an operation name and one JSON
//! input, and each JSON output into a status, headers and a body. `ops` works on those values
//! only. Domain errors become AWS errors in one `match`, [`code_of`].

use std::sync::LazyLock;

use freshet_protocol::query::ModelError;
use freshet_protocol::rest::{LAMBDA_2015_03_31, RestModel, RestOptions};
use freshet_protocol::router::Head;
use freshet_protocol::{ApiError, ApiRequest, Protocol, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::esm::Mappings;
use crate::functions::code::MAX_REQUEST;
use crate::functions::{Error, Functions};

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Lambda",
    signing_name: "lambda",
    routes: [
        "/2015-03-31/functions",
        "/2015-03-31/event-source-mappings",
        "/2017-03-31/tags",
        "/2017-10-31/functions",
        "/2019-09-25/functions",
        "/2019-09-30/functions",
        "/2016-08-19/account-settings",
    ]
    .into_iter()
    .map(|path_prefix| Route::Rest {
        path_prefix,
        protocol: Protocol::RestJson,
    })
    .collect(),
});

/// The Lambda model, compiled once; refused input is InvalidRequestContentException as in AWS.
static MODEL: LazyLock<Result<RestModel, ModelError>> = LazyLock::new(|| {
    RestModel::parse(LAMBDA_2015_03_31).map(|m| {
        m.with_options(RestOptions {
            invalid_content: "InvalidRequestContentException",
            validation: "ValidationException",
        })
    })
});

/// The Lambda API over a [`Functions`] handle (and, once given, event source mappings).
#[derive(Clone)]
pub struct LambdaService {
    functions: Functions,
    mappings: Option<Mappings>,
}

impl std::fmt::Debug for LambdaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaService")
            .field("functions", &self.functions)
            .field("mappings", &self.mappings.is_some())
            .finish()
    }
}

impl LambdaService {
    /// The API over `functions`, without event source mappings.
    pub fn new(functions: Functions) -> Self {
        Self {
            functions,
            mappings: None,
        }
    }

    /// The same API, answering the *EventSourceMapping operations with `mappings`.
    pub fn with_mappings(mut self, mappings: Mappings) -> Self {
        self.mappings = Some(mappings);
        self
    }

    /// The functions behind the API.
    pub fn functions(&self) -> &Functions {
        &self.functions
    }

    /// Runs operation `op` on its JSON input and returns its JSON output: the entry point a
    /// model-driven binder calls.
    pub async fn call_json(&self, op: &str, input: Value) -> Result<Value, Error> {
        if op.ends_with("EventSourceMapping") || op.ends_with("EventSourceMappings") {
            let Some(m) = &self.mappings else {
                return Err(Error::Unsupported(op.to_owned()));
            };
            return match crate::ops::dispatch_mapping(&self.functions, m, op, input).await {
                Some(r) => r,
                None => Err(Error::Unsupported(op.to_owned())),
            };
        }
        match crate::ops::dispatch(&self.functions, op, input).await {
            Some(r) => r,
            None => Err(Error::Unsupported(op.to_owned())),
        }
    }

    async fn handle(&self, req: ApiRequest) -> Response {
        let model = match &*MODEL {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "The Lambda model does not compile.");
                return Response::error_in(&ApiError::internal("Lambda model"), Protocol::RestJson);
            }
        };
        let (op, input) = match model.bind(&req) {
            Ok((op, input)) => (op.to_owned(), input),
            Err(e) => return model.error_response(&e),
        };
        match self.call_json(&op, input).await {
            Ok(out) => model.respond(&op, out),
            Err(e) => model.error_response(&api_error(&e)),
        }
    }
}

impl Service for LambdaService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(self.handle(req))
    }

    /// CreateFunction and UpdateFunctionCode carry zips of up to 50 MB in base64: above the
    /// endpoint's default limit, so Lambda sets AWS's own.
    fn max_body(&self) -> Option<u64> {
        Some(MAX_REQUEST)
    }

    fn body_too_large(&self, head: &Head<'_>, limit: u64) -> Option<Response> {
        let model = MODEL.as_ref().ok()?;
        let op = model
            .resolve(head.method.as_str(), head.path, head.query)
            .map_or("Lambda", |(op, _)| op);
        let e = Error::EntityTooLarge(format!(
            "Request must be smaller than {limit} bytes for the {op} operation"
        ));
        Some(model.error_response(&api_error(&e)))
    }
}

/// The wire code and status of each error. No catch-all: a new variant must be mapped here.
pub fn code_of(e: &Error) -> (&'static str, u16) {
    match e {
        Error::FunctionNotFound { .. }
        | Error::AliasNotFound { .. }
        | Error::ResourceNotFound(_)
        | Error::OtherRegion { .. } => ("ResourceNotFoundException", 404),
        Error::OtherAccount { .. } => ("AccessDeniedException", 403),
        Error::FunctionExists { .. }
        | Error::AliasExists { .. }
        | Error::UpdateInProgress { .. }
        | Error::NotActive { .. }
        | Error::Conflict(_) => ("ResourceConflictException", 409),
        Error::InvalidParameter(_) => ("InvalidParameterValueException", 400),
        Error::InvalidRequestContent(_) => ("InvalidRequestContentException", 400),
        Error::Validation(_) => ("ValidationException", 400),
        Error::EntityTooLarge(_) => ("RequestEntityTooLargeException", 413),
        Error::PayloadTooLarge(_) => ("RequestTooLargeException", 413),
        Error::PreconditionFailed(_) => ("PreconditionFailedException", 412),
        Error::Throttled { .. } => ("TooManyRequestsException", 429),
        Error::Unsupported(_) => ("UnknownOperationException", 404),
        Error::Mapping(m) => (m.code(), m.status()),
        Error::Storage(_) | Error::Service(_) => ("ServiceException", 500),
    }
}

/// The AWS error for `e`: code, status and message, plus the modeled members of
/// TooManyRequestsException (`Reason`, `Retry-After`).
pub fn api_error(e: &Error) -> ApiError {
    let (code, status) = code_of(e);
    if status >= 500 {
        tracing::error!(error = %e, "Lambda request failed inside the server.");
    }
    let mut err = ApiError::new(code, status, e.to_string());
    if let Error::OtherAccount { .. } = e {
        // Lambda's 403 for another account's function carries no message at all.
        err.message = None;
    }
    match e {
        Error::Throttled { reason } => err
            .with_field("Reason", reason.as_str())
            .with_field("retryAfterSeconds", "1"),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, Method};

    use super::*;

    fn request(method: Method, path: &str, query: Option<&str>, body: &str) -> ApiRequest {
        ApiRequest {
            protocol: Protocol::RestJson,
            operation: String::new(),
            method,
            path: path.to_owned(),
            query: query.map(str::to_owned),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
            params: Vec::new(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn the_model_routes_lambda_paths_to_operations() {
        let model = MODEL.as_ref().expect("model");
        let (op, input) = model
            .bind(&request(
                Method::POST,
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
                Some("Qualifier=live"),
                "{}",
            ))
            .expect("binds");
        assert_eq!(op, "Invoke");
        assert_eq!(
            input["FunctionName"],
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(input["Qualifier"], "live");
        let (op, _) = model
            .bind(&request(
                Method::GET,
                "/2019-09-30/functions/f/concurrency",
                None,
                "",
            ))
            .expect("binds");
        assert_eq!(op, "GetFunctionConcurrency");
    }

    #[test]
    fn errors_carry_the_aws_code_status_and_member() {
        let model = MODEL.as_ref().expect("model");
        let r = model.error_response(&api_error(&Error::FunctionNotFound {
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        }));
        assert_eq!(
            (r.status, r.error_code),
            (404, Some("ResourceNotFoundException"))
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(
            body["Message"],
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        let r = model.error_response(&api_error(&Error::FunctionExists { name: "f".into() }));
        assert_eq!(
            (r.status, r.error_code),
            (409, Some("ResourceConflictException"))
        );
        let r = model.error_response(&api_error(&Error::Throttled {
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded".into(),
        }));
        assert_eq!(r.status, 429);
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(
            body["Reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
    }
}
