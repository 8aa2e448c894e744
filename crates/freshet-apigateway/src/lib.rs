// SPDX-License-Identifier: Apache-2.0
//! API Gateway integrations: REST ingest into Kinesis, as API Gateway's Kinesis proxies serve
//! it, on Freshet's shared endpoint under `/restapis/<api>/<stage>/`.
//!
//! Two kinds of API, both AWS-type integrations calling Kinesis in process (through
//! [`KinesisService::handle`], the same code as the Kinesis API, never HTTP):
//!
//! - `kinesis`: the API of AWS's tutorial "Create a REST API as an Amazon Kinesis proxy"
//!   (resources `/streams`, `/streams/{stream-name}`, `.../record`, `.../records`,
//!   `.../sharditerator`), with the tutorial's request mapping templates and its integration
//!   responses: every Kinesis answer, errors included, becomes a 200 with Kinesis's JSON body
//!   (the `default` response mapping), except DeleteStream's, which maps 4xx to 400 and 5xx to
//!   500. A content type with no template is passed through unmapped (WHEN_NO_MATCH).
//! - configured stream-bound APIs ([`StreamApi`]): the `aws-apigateway-kinesisstreams`
//!   Solutions Construct's `POST /record` and `POST /records` bound to one stream, with its
//!   request models (validated: 400 "Invalid request body"), templates, no passthrough (415)
//!   and integration responses (200; Kinesis's 500 becomes 500 `Error`).
//!
//! Everything else under `/restapis/` is API Gateway's 403 "Missing Authentication Token".
//! Requests are not authenticated (signed ones work too); CORS preflights and headers are the
//! front door's. Bodies are limited to API Gateway's 10 MB payload ([`MAX_PAYLOAD`]).

pub mod error;
pub mod json;
pub mod route;
pub mod template;

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use freshet_kinesis::{KinesisService, Streams};
use freshet_protocol::router::Head;
use freshet_protocol::{ApiRequest, Protocol, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;

pub use crate::error::GatewayError;
use crate::json::Json;
use crate::route::{Call, TUTORIAL_API};
use crate::template::Input;

/// API Gateway's request payload limit (10 MB).
pub const MAX_PAYLOAD: u64 = 10 * 1024 * 1024;

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "API Gateway",
    signing_name: "execute-api",
    routes: vec![Route::Rest {
        path_prefix: route::PREFIX,
        protocol: Protocol::RestJson,
    }],
});

/// A stream-bound API (`[[apigateway.kinesis_apis]]`): `/restapis/<name>/<stage>/record(s)`
/// write to `stream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamApi {
    /// The API's name in the path.
    pub name: String,
    /// The Kinesis stream it writes to (in the server's account and region).
    pub stream: String,
}

/// What the service serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiGatewayOptions {
    /// Whether the tutorial's API is served at `/restapis/kinesis/`.
    pub kinesis_proxy: bool,
    /// Stream-bound APIs.
    pub stream_apis: Vec<StreamApi>,
}

impl Default for ApiGatewayOptions {
    fn default() -> Self {
        Self {
            kinesis_proxy: true,
            stream_apis: Vec::new(),
        }
    }
}

impl ApiGatewayOptions {
    /// Every problem with the options, for the configuration's `validate`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, api) in self.stream_apis.iter().enumerate() {
            let n = &api.name;
            let name_ok = !n.is_empty()
                && n.len() <= 128
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
            if !name_ok {
                problems.push(format!(
                    "apigateway.kinesis_apis[{i}].name must be 1-128 characters of \
                     [A-Za-z0-9_.-], not {n:?}"
                ));
            }
            if n == TUTORIAL_API {
                problems.push(format!(
                    "apigateway.kinesis_apis[{i}].name {n:?} is the tutorial API's; pick another"
                ));
            }
            if self.stream_apis[..i].iter().any(|a| &a.name == n) {
                problems.push(format!(
                    "apigateway.kinesis_apis[{i}].name {n:?} is used twice"
                ));
            }
            let s = &api.stream;
            let stream_ok = !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
            if !stream_ok {
                problems.push(format!(
                    "apigateway.kinesis_apis[{i}].stream must be a Kinesis stream name \
                     (1-128 characters of [a-zA-Z0-9_.-]), not {s:?}"
                ));
            }
        }
        problems
    }
}

/// The API Gateway REST APIs over a streams service.
#[derive(Debug, Clone)]
pub struct ApiGatewayService {
    kinesis: KinesisService,
    options: Arc<ApiGatewayOptions>,
}

/// Which API a request reached.
enum Api<'a> {
    Tutorial,
    Bound(&'a str),
}

impl ApiGatewayService {
    /// The APIs of `options` over `streams`.
    pub fn new(streams: Streams, options: ApiGatewayOptions) -> Self {
        Self {
            kinesis: KinesisService::new(streams),
            options: Arc::new(options),
        }
    }

    /// Answers one request under `/restapis/`.
    pub async fn handle(&self, req: &ApiRequest) -> Response {
        match self.integrate(req).await {
            Ok(r) => r,
            Err(e) => e.response(),
        }
    }

    async fn integrate(&self, req: &ApiRequest) -> Result<Response, GatewayError> {
        let missing = GatewayError::MissingAuthenticationToken;
        let target = route::target(&req.path).ok_or(missing.clone())?;
        let api = if target.api == TUTORIAL_API && self.options.kinesis_proxy {
            Api::Tutorial
        } else {
            let bound = self
                .options
                .stream_apis
                .iter()
                .find(|a| a.name == target.api);
            Api::Bound(&bound.ok_or(missing.clone())?.stream)
        };
        let call = match api {
            Api::Tutorial => route::tutorial_call(&req.method, &target.segments),
            Api::Bound(_) => route::bound_call(&req.method, &target.segments),
        }
        .ok_or(missing)?;
        let mut input = Input {
            path: Vec::new(),
            query: req.query.as_deref(),
            headers: &req.headers,
            body: &req.body,
        };
        let media = media_type(req.header("content-type"));
        let body = match api {
            Api::Tutorial => {
                if let Some(name) = stream_of(&call) {
                    input.path.push(("stream-name", name.to_owned()));
                }
                tutorial_body(&call, &media, &input)?
            }
            Api::Bound(stream) => bound_body(&call, stream, &media, &input)?,
        };
        let answer = self
            .kinesis
            .handle(call.operation(), Protocol::Json11, &body)
            .await;
        Ok(match api {
            Api::Tutorial => tutorial_response(&call, answer),
            Api::Bound(_) => bound_response(answer),
        })
    }
}

/// The media type of `Content-Type`, lower case; API Gateway reads a request without one as
/// JSON.
fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

fn stream_of(call: &Call) -> Option<&str> {
    match call {
        Call::CreateStream(n)
        | Call::DescribeStream(n)
        | Call::DeleteStream(n)
        | Call::PutRecord(n)
        | Call::PutRecords(n)
        | Call::GetShardIterator(n)
        | Call::GetRecords(n) => Some(n),
        Call::ListStreams | Call::BoundPutRecord | Call::BoundPutRecords => None,
    }
}

fn unparsable(e: json::ParseError) -> GatewayError {
    GatewayError::UnparsableBody(e.to_string())
}

/// The Kinesis request of a tutorial method: its template for JSON bodies (and PutRecords'
/// for `application/x-amz-json-1.1`), else the body as it came (WHEN_NO_MATCH).
fn tutorial_body(call: &Call, media: &str, input: &Input<'_>) -> Result<Bytes, GatewayError> {
    let text = match (media, call) {
        ("application/json", Call::ListStreams) => template::list_streams(),
        ("application/json", Call::CreateStream(_)) => {
            template::create_stream(input).map_err(unparsable)?
        }
        ("application/json", Call::DescribeStream(_) | Call::DeleteStream(_)) => {
            template::stream_name(input)
        }
        ("application/json", Call::PutRecord(n)) => {
            template::put_record(n, "Data", "PartitionKey", input).map_err(unparsable)?
        }
        ("application/json", Call::PutRecords(n)) => {
            template::put_records(n, "partition-key", input).map_err(unparsable)?
        }
        ("application/x-amz-json-1.1", Call::PutRecords(_)) => {
            template::put_records_amz_json(input).map_err(unparsable)?
        }
        ("application/json", Call::GetShardIterator(_)) => template::get_shard_iterator(input),
        ("application/json", Call::GetRecords(_)) => template::get_records(input),
        _ => return Ok(Bytes::copy_from_slice(input.body)),
    };
    Ok(Bytes::from(text))
}

/// The Kinesis request of a stream-bound method: JSON bodies only (passthrough NEVER), checked
/// against the pattern's request model first.
fn bound_body(
    call: &Call,
    stream: &str,
    media: &str,
    input: &Input<'_>,
) -> Result<Bytes, GatewayError> {
    if media != "application/json" {
        return Err(GatewayError::UnsupportedMediaType);
    }
    let root = json::parse(input.body).map_err(|_| GatewayError::InvalidRequestBody)?;
    let text = match call {
        Call::BoundPutRecords => {
            let valid = matches!(root.get("records"), Some(Json::Array(items))
                if items.iter().all(valid_record));
            if !matches!(root, Json::Object(_)) || !valid {
                return Err(GatewayError::InvalidRequestBody);
            }
            template::put_records(stream, "partitionKey", input).map_err(unparsable)?
        }
        _ => {
            if !valid_record(&root) {
                return Err(GatewayError::InvalidRequestBody);
            }
            template::put_record(stream, "data", "partitionKey", input).map_err(unparsable)?
        }
    };
    Ok(Bytes::from(text))
}

/// The pattern's record model: an object with string `data` and `partitionKey`.
fn valid_record(v: &Json) -> bool {
    matches!(v, Json::Object(_))
        && matches!(v.get("data"), Some(Json::String(_)))
        && matches!(v.get("partitionKey"), Some(Json::String(_)))
}

/// The tutorial's integration responses: `default` → 200 for every method; DeleteStream also
/// maps `4\d{2}` → 400 and `5\d{2}` → 500 and passes Kinesis's Content-Type on.
fn tutorial_response(call: &Call, answer: Response) -> Response {
    let (status, content_type) = match call {
        Call::DeleteStream(_) => (
            match answer.status {
                400..=499 => 400,
                500..=599 => 500,
                _ => 200,
            },
            answer.content_type,
        ),
        _ => (200, Cow::Borrowed("application/json")),
    };
    method_response(status, content_type, answer.body)
}

/// The pattern's integration responses: 200 by default, and Kinesis's 500 as 500 `Error`.
fn bound_response(answer: Response) -> Response {
    if answer.status == 500 {
        return method_response(
            500,
            Cow::Borrowed("application/json"),
            Bytes::from_static(b"Error"),
        );
    }
    method_response(200, Cow::Borrowed("application/json"), answer.body)
}

/// A method response: Kinesis's headers (and error type) stay behind, as API Gateway maps
/// none of them.
fn method_response(status: u16, content_type: Cow<'static, str>, body: Bytes) -> Response {
    Response {
        status,
        content_type,
        headers: Vec::new(),
        body,
        error_code: None,
        events: None,
    }
}

impl Service for ApiGatewayService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move { self.handle(&req).await })
    }

    fn max_body(&self) -> Option<u64> {
        Some(MAX_PAYLOAD)
    }

    fn body_too_large(&self, _head: &Head<'_>, _limit: u64) -> Option<Response> {
        Some(GatewayError::RequestTooLong.response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_default_to_json_and_ignore_parameters() {
        assert_eq!(media_type(None), "application/json");
        assert_eq!(media_type(Some("")), "application/json");
        assert_eq!(
            media_type(Some("Application/JSON; charset=UTF-8")),
            "application/json"
        );
        assert_eq!(
            media_type(Some("application/x-www-form-urlencoded")),
            "application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn option_problems_name_each_bad_api() {
        let opts = ApiGatewayOptions {
            kinesis_proxy: true,
            stream_apis: vec![
                StreamApi {
                    name: "ingest".into(),
                    stream: "orders".into(),
                },
                StreamApi {
                    name: "ingest".into(),
                    stream: "bad stream".into(),
                },
                StreamApi {
                    name: "kinesis".into(),
                    stream: "x".into(),
                },
                StreamApi {
                    name: "a/b".into(),
                    stream: "x".into(),
                },
            ],
        };
        let p = opts.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("used twice"), "{p:?}");
        assert!(p[1].contains("kinesis_apis[1].stream"), "{p:?}");
        assert!(p[2].contains("tutorial API"), "{p:?}");
        assert!(p[3].contains("kinesis_apis[3].name"), "{p:?}");
        assert!(ApiGatewayOptions::default().problems().is_empty());
    }

    #[test]
    fn the_record_model_requires_string_data_and_partition_key() {
        let ok = json::parse(br#"{"data": "x", "partitionKey": "k", "extra": 1}"#).expect("j");
        assert!(valid_record(&ok));
        for bad in [
            &br#"{"data": "x"}"#[..],
            br#"{"data": 1, "partitionKey": "k"}"#,
            br#"{"data": "x", "partitionKey": null}"#,
            br#"["x"]"#,
        ] {
            let v = json::parse(bad).expect("j");
            assert!(!valid_record(&v), "{}", String::from_utf8_lossy(bad));
        }
    }
}
