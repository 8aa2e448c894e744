// SPDX-License-Identifier: Apache-2.0
//! AWS REST-JSON (Lambda's protocol), as a binder between HTTP requests and the JSON values a
//! service works with, driven only by the botocore service model ([`RestModel`]).
//!
//! A service parses its model once and then never looks at paths, query strings or headers:
//!
//! ```text
//! ApiRequest ──bind──► (operation, input JSON) ──► service ──► output JSON ──respond──► Response
//!                                                        └──► ApiError ──error_response──► Response
//! ```
//!
//! - **Routing**: operations are indexed by `http.method` + `http.requestUri`; the most
//!   specific template wins (see `uri.rs`). A path no template matches is a 404
//!   `UnknownOperationException` naming the method and path.
//! - **Input**: one JSON object keyed by member name, from URI labels (percent-decoded),
//!   `querystring` members (lists from repeated keys; a map without a name takes every
//!   parameter no other member or literal claims), `header` members (integers, booleans and
//!   doubles as JSON numbers and booleans, timestamps as epoch seconds, `jsonvalue` headers
//!   base64-decoded and parsed, lists split at commas), `headers` prefix maps, and the body:
//!   the `payload` member (a blob as base64 text, the convention of JSON bodies, so services
//!   decode it with `JBlob` like any blob; a string as text; a structure as its JSON) or the
//!   remaining members of the JSON body object (renamed from `locationName`s). Body member
//!   types are left to the service's DTO (json.rs reports them with Coral's messages).
//! - **Invalid input**: text that is not JSON or a label/header/query value of the wrong type
//!   is [`RestOptions::invalid_content`] (Lambda: `InvalidRequestContentException`, 400; the
//!   JSON protocols' `SerializationException` by default); a missing required member is
//!   [`RestOptions::validation`] with Coral's message (`1 validation error detected: Value null
//!   at 'role' failed to satisfy constraint: Member must not be null`).
//! - **Output**: status from `http.responseCode` (or a `statusCode` member), `header` /
//!   `headers` members as headers, a payload member as the raw body, the rest as a JSON body.
//! - **Errors**: the status of the error shape (`error.httpStatusCode`), `x-amzn-ErrorType:
//!   <Code>` (botocore reads the code from it first) and a body `{"Type": "User"|"Service",
//!   "message": ...}` plus the shape's modeled members ([`crate::ApiError::fields`]), with the
//!   message member spelled as the shape spells it (Lambda uses both `message` and `Message`).
//!   Errors raised without the model (the front door's body limits) use the same envelope
//!   through [`crate::Wire::error_response`].
//!
//! The binder is checked against botocore's own `RestJSONSerializer` and `RestJSONParser` by
//! the fixtures under `tests/rest/` (every Lambda operation).

mod bind;
mod model;
mod respond;
mod uri;

use std::borrow::Cow;

use crate::query::ModelError;
use crate::{ApiError, ApiRequest};
use model::{Compiled, Op, Shape};

/// Lambda 2015-03-31 (botocore 1.43.11, documentation trimmed), for the Lambda service to
/// parse with [`RestModel::parse`].
pub const LAMBDA_2015_03_31: &str = include_str!("../../models/lambda-2015-03-31.rest-json.json");

/// The content type of REST-JSON bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// How a service answers input the binder refuses. Services whose AWS counterpart uses other
/// codes set them here once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestOptions {
    /// Code (status 400) for a body that is not JSON or a URI label, query parameter or header
    /// that is not of its member's type.
    pub invalid_content: &'static str,
    /// Code (status 400) for a missing required member.
    pub validation: &'static str,
}

impl Default for RestOptions {
    fn default() -> Self {
        Self {
            invalid_content: "SerializationException",
            validation: "ValidationException",
        }
    }
}

/// A compiled REST service model: routes, bindings and error shapes.
#[derive(Debug, Clone)]
pub struct RestModel {
    c: Compiled,
    options: RestOptions,
}

impl RestModel {
    /// Compiles a botocore `service-2.json` whose protocol is `rest-json` (or `rest-xml`).
    pub fn parse(json: &str) -> Result<RestModel, ModelError> {
        Ok(RestModel {
            c: model::compile(json)?,
            options: RestOptions::default(),
        })
    }

    /// The same model answering refused input with `options`.
    pub fn with_options(mut self, options: RestOptions) -> RestModel {
        self.options = options;
        self
    }

    /// The options in force.
    pub fn options(&self) -> RestOptions {
        self.options
    }

    /// Every operation name, in name order.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.c.ops.iter().map(|o| &*o.name)
    }

    /// The operation a request names and its decoded URI labels (label name → text), or
    /// `None` when no template matches `method`, `path` (percent-encoded, without the query)
    /// and the literal query parts of `query` (raw query string).
    pub fn resolve(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<(&str, Vec<(String, String)>)> {
        let params = parse_query(query);
        let (op, labels) = uri::resolve(&self.c.templates, method, path, &params)?;
        Some((
            &*self.c.ops.get(op)?.name,
            labels
                .into_iter()
                .map(|(k, v)| (k.into_string(), v))
                .collect(),
        ))
    }

    /// Binds a routed request: the operation and its input as one JSON object keyed by member
    /// name (see the module docs). Never panics.
    pub fn bind(&self, req: &ApiRequest) -> Result<(&str, serde_json::Value), ApiError> {
        bind::bind(self, req)
    }

    /// The response for `op`'s output `value` (a JSON object keyed by member name; `Null` for
    /// operations without output). An unknown `op` or an output that cannot be encoded is an
    /// `InternalFailure`.
    pub fn respond(&self, op: &str, value: serde_json::Value) -> crate::Response {
        respond::respond(self, op, value)
    }

    /// The response for an error: the modeled status, `x-amzn-ErrorType`, the REST-JSON body
    /// with the shape's message spelling and modeled members, header members as headers.
    pub fn error_response(&self, e: &ApiError) -> crate::Response {
        respond::error_response(self, e)
    }

    /// The status AWS answers the modeled error `code` with, if the model has it.
    pub fn error_status(&self, code: &str) -> Option<u16> {
        self.c.errors.get(code).map(|e| e.status)
    }

    /// `http.responseCode` of `op` (200 when the model gives none).
    pub fn response_code(&self, op: &str) -> Option<u16> {
        self.op(op).map(|o| o.response_code)
    }

    fn op(&self, name: &str) -> Option<&Op> {
        self.c
            .ops
            .binary_search_by(|o| (*o.name).cmp(name))
            .ok()
            .and_then(|i| self.c.ops.get(i))
    }

    fn shape(&self, id: model::ShapeId) -> Option<&Shape> {
        self.c.shapes.get(id.0 as usize)
    }
}

/// The answer to a request under a service's prefix that no operation matches.
pub fn unknown_operation(method: &str, path: &str) -> ApiError {
    ApiError::new(
        "UnknownOperationException",
        404,
        format!("No operation matches {method} {path}."),
    )
}

fn parse_query(query: Option<&str>) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
