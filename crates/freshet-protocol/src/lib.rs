// SPDX-License-Identifier: Apache-2.0
//! The AWS wire protocols every Freshet service shares, and the front door's abstractions.
//!
//! A service crate implements its operations once, over serde DTOs with AWS member names, and
//! lets this crate decode requests and encode answers in whichever protocol the client spoke:
//!
//! - [`json`]: member types with the type errors AWS (Coral) reports, shared by JSON 1.0/1.1
//!   and the CBOR protocols; [`strict`] makes structures accept only maps, at any depth.
//! - [`cbor`]: CBOR 1.1 (Kinesis from the Java SDKs) and smithy RPC v2 CBOR bodies, with a
//!   well-formedness pass before anything is allocated.
//! - [`validate`]: model constraints with Coral's message format.
//! - [`eventstream`]: AWS event-stream framing.
//! - [`query`]: the AWS Query protocol, transcoded to and from the JSON values of the same
//!   operations, driven by the Query-era botocore models (SQS, CloudWatch).
//! - [`rest`]: REST-JSON (Lambda): method + path + query + headers + body bound to one JSON
//!   input, JSON output to status, headers and body, driven by the botocore model.
//! - [`error`]: [`ApiError`] and how each protocol spells it.
//! - [`service`]: the [`Service`] trait each AWS service implements, the [`ApiRequest`] it gets
//!   and the [`Route`]s it claims; [`router`] picks the service for a request.
//!
//! [`run`] is the whole life of one RPC-style call: decode the body in the request's
//! [`Protocol`], check the model constraints, call the operation, encode the output or error.

pub mod cbor;
pub mod encoding;
pub mod error;
pub mod eventstream;
pub mod json;
pub mod query;
pub mod rest;
pub mod router;
pub mod service;
pub mod stream;
pub mod strict;
pub mod validate;

use std::borrow::Cow;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::error::{ApiError, Fault};
pub use crate::router::{NotServed, Router, Routing};
pub use crate::service::{ApiRequest, Health, Route, Service, ServiceInfo};
pub use crate::stream::{BodyError, RequestBody, ResponseBody, StreamRequest, StreamResponse};
use crate::validate::Validator;

/// The AWS JSON 1.0 content type (SQS, CloudWatch from boto3).
pub const JSON_1_0: &str = "application/x-amz-json-1.0";
/// The AWS JSON 1.1 content type (Kinesis, Logs, Firehose).
pub const JSON_1_1: &str = "application/x-amz-json-1.1";
/// The CBOR 1.1 content type (Java SDK v1/v2 and KCL default for Kinesis).
pub const CBOR_1_1: &str = "application/x-amz-cbor-1.1";
/// The smithy RPC v2 CBOR content type.
pub const RPC_V2_CBOR: &str = "application/cbor";
/// The Query protocol's request content type.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The content type of an event-stream response.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";
/// The content type of XML answers (Query protocol).
pub const XML: &str = "text/xml";

/// How a request was encoded; its answer and errors use the same protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// AWS JSON 1.0: `X-Amz-Target` + `application/x-amz-json-1.0`.
    Json10,
    /// AWS JSON 1.1: `X-Amz-Target` + `application/x-amz-json-1.1`.
    Json11,
    /// AWS CBOR 1.1: `X-Amz-Target` + `application/x-amz-cbor-1.1`.
    Cbor11,
    /// Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Op>`.
    RpcV2Cbor,
    /// AWS Query: a form with `Action`, answered in XML.
    Query,
    /// REST with JSON bodies (Lambda).
    RestJson,
    /// REST with XML bodies (S3).
    RestXml,
}

impl Protocol {
    /// The content type of bodies (answers included) in this protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json10 => JSON_1_0,
            Protocol::Json11 => JSON_1_1,
            Protocol::Cbor11 => CBOR_1_1,
            Protocol::RpcV2Cbor => RPC_V2_CBOR,
            Protocol::Query | Protocol::RestXml => XML,
            Protocol::RestJson => "application/json",
        }
    }

    /// Whether bodies are CBOR (blobs as byte strings, timestamps tagged).
    pub fn is_cbor(self) -> bool {
        matches!(self, Protocol::Cbor11 | Protocol::RpcV2Cbor)
    }

    /// The RPC protocol an `X-Amz-Target` request's content type selects: JSON 1.0, JSON 1.1
    /// (also for plain `application/json`, which AWS parses as JSON too) or CBOR 1.1.
    pub fn of_target_content_type(content_type: &str) -> Option<Protocol> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case(JSON_1_1) || media.eq_ignore_ascii_case("application/json") {
            Some(Protocol::Json11)
        } else if media.eq_ignore_ascii_case(JSON_1_0) {
            Some(Protocol::Json10)
        } else if media.eq_ignore_ascii_case(CBOR_1_1) {
            Some(Protocol::Cbor11)
        } else {
            None
        }
    }
}

/// How one service puts its errors on the wire, beyond the protocol's envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wire {
    /// Prefix of `__type` in JSON/CBOR errors (SQS: `com.amazonaws.sqs#`); `None` for bare
    /// codes (Kinesis, Logs).
    pub error_namespace: Option<&'static str>,
    /// awsQueryCompatible services send `x-amzn-query-error` with JSON/CBOR errors.
    pub query_compatible: bool,
}

impl Wire {
    /// The response for `e` in `protocol`.
    pub fn error_response(&self, e: &ApiError, protocol: Protocol) -> Response {
        let mut resp = Response {
            status: e.status,
            content_type: Cow::Borrowed(protocol.content_type()),
            headers: protocol_headers(protocol),
            body: Bytes::from(e.body_with(protocol, self.error_namespace)),
            error_code: Some(e.code),
            events: None,
        };
        if self.query_compatible {
            resp.headers
                .push((Cow::Borrowed("x-amzn-query-error"), e.query_error_header()));
        }
        resp
    }
}

/// A response ready for the transport.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: Cow<'static, str>,
    /// Extra headers (request ids and CORS are added by the front door). Names are
    /// case-insensitive; REST responses take them from the model.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// Body; empty for operations without output.
    pub body: Bytes,
    /// The error's code, for the `x-amzn-ErrorType` header and logs.
    pub error_code: Option<&'static str>,
    /// For event-stream operations: the encoded messages that follow `body`, produced one at
    /// a time as the transport pulls them (so a slow client exerts back-pressure).
    pub events: Option<EventStream>,
}

/// A stream of encoded event-stream messages; it ends when the subscription ends.
pub struct EventStream(pub futures_util::stream::BoxStream<'static, Bytes>);

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream(..)")
    }
}

impl Response {
    /// A 200 answer with `body` in `protocol`.
    pub fn ok(protocol: Protocol, body: Bytes) -> Self {
        Response {
            status: 200,
            content_type: Cow::Borrowed(protocol.content_type()),
            headers: protocol_headers(protocol),
            body,
            error_code: None,
            events: None,
        }
    }

    /// The response for an error, in JSON 1.1, without a namespace.
    pub fn error(e: &ApiError) -> Self {
        Self::error_in(e, Protocol::Json11)
    }

    /// The response for an error in `protocol`, without a namespace or query header.
    pub fn error_in(e: &ApiError, protocol: Protocol) -> Self {
        Wire::default().error_response(e, protocol)
    }
}

/// The headers every answer in `protocol` carries: `smithy-protocol: rpc-v2-cbor` for RPC v2
/// CBOR (smithy clients check it), none otherwise.
fn protocol_headers(protocol: Protocol) -> Vec<(Cow<'static, str>, String)> {
    match protocol {
        Protocol::RpcV2Cbor => vec![(Cow::Borrowed("smithy-protocol"), "rpc-v2-cbor".to_owned())],
        _ => Vec::new(),
    }
}

/// One RPC operation of a service whose state is `S`: its DTOs, its model validation and its
/// call into the domain.
pub trait Operation<S: ?Sized> {
    /// Request DTO.
    type Input: DeserializeOwned;
    /// Response DTO.
    type Output: Serialize;
    /// Whether the operation answers with an empty body (no output shape in the model).
    const EMPTY_OUTPUT: bool = false;
    /// Checks the model constraints, in model member order.
    fn validate(input: &Self::Input, v: &mut Validator);
    /// Runs the operation.
    fn call(
        svc: &S,
        input: Self::Input,
    ) -> impl std::future::Future<Output = Result<Self::Output, ApiError>> + Send;
    /// Encodes the output in `protocol`: through serde, unless the operation writes its
    /// body itself (Kinesis GetRecords does in JSON, where a page is megabytes of base64).
    fn encode(protocol: Protocol, output: &Self::Output) -> Result<Bytes, ApiError> {
        encode_output(protocol, output)
    }
}

/// A request's input, ready for an operation: a JSON or CBOR body, or a Query request already
/// transcoded to the JSON value of the same input.
#[derive(Debug)]
pub enum Input<'a> {
    /// JSON 1.0/1.1, CBOR 1.1 or RPC v2 CBOR.
    Body {
        /// The protocol.
        protocol: Protocol,
        /// The whole body.
        body: &'a [u8],
    },
    /// The Query protocol.
    Query {
        /// The service's Query-era model.
        model: &'static query::QueryModel,
        /// The operation's input as the JSON protocol would carry it.
        input: serde_json::Value,
        /// The request id, repeated in the XML answer.
        request_id: &'a str,
    },
}

impl Input<'_> {
    /// The protocol of the request.
    pub fn protocol(&self) -> Protocol {
        match self {
            Input::Body { protocol, .. } => *protocol,
            Input::Query { .. } => Protocol::Query,
        }
    }
}

/// Turns a routed request into an [`Input`]: for Query, transcodes its parameters with
/// `model` and returns the action it names; otherwise the operation the router found. A Query
/// request the codec refuses (no or unknown `Action`, a malformed value) is answered here.
pub fn input_of<'a>(
    req: &'a ApiRequest,
    model: Option<&'static query::QueryModel>,
) -> Result<(String, Input<'a>), Response> {
    match (req.protocol, model) {
        (Protocol::Query, Some(model)) => match query::decode_request(model, &req.params) {
            Ok((action, input)) => Ok((
                action,
                Input::Query {
                    model,
                    input,
                    request_id: &req.request_id,
                },
            )),
            Err(e) => Err(query_response(
                e.status(),
                query::encode_error(model, e.code(), e.fault(), &e.message(), &req.request_id),
                Some(e.code()),
            )),
        },
        (protocol, _) => Ok((
            req.operation.clone(),
            Input::Body {
                protocol,
                body: &req.body,
            },
        )),
    }
}

fn query_response(status: u16, xml: String, code: Option<&'static str>) -> Response {
    Response {
        status,
        content_type: Cow::Borrowed(query::XML_CONTENT_TYPE),
        headers: Vec::new(),
        body: Bytes::from(xml),
        error_code: code,
        events: None,
    }
}

/// Runs operation `O` on any [`Input`]: JSON and CBOR through [`run`], Query by decoding the
/// transcoded value into the same DTO and encoding the output (and errors) as Query XML.
pub async fn run_input<S: ?Sized, O: Operation<S>>(
    svc: &S,
    op: &str,
    input: Input<'_>,
    wire: &Wire,
) -> Response {
    match input {
        Input::Body { protocol, body } => run::<S, O>(svc, protocol, body, wire).await,
        Input::Query {
            model,
            input,
            request_id,
        } => {
            let result = async {
                let input: O::Input = decode_value(input, O::validate)?;
                let output = O::call(svc, input).await?;
                let value = if O::EMPTY_OUTPUT {
                    serde_json::Value::Null
                } else {
                    serde_json::to_value(&output).map_err(encode_failure)?
                };
                Ok::<_, ApiError>(query::encode_response(model, op, &value, request_id))
            }
            .await;
            match result {
                Ok(xml) => query_response(200, xml, None),
                Err(e) => query_error(model, &e, request_id),
            }
        }
    }
}

/// The Query XML answer for `e`, under its Query-era code.
pub fn query_error(model: &query::QueryModel, e: &ApiError, request_id: &str) -> Response {
    let code = e.query_code.unwrap_or(e.code);
    let message = e.message.clone().unwrap_or_default();
    query_response(
        e.status,
        query::encode_error(model, code, e.fault(), &message, request_id),
        Some(code),
    )
}

/// Decodes a transcoded Query input into the operation's DTO (through [`strict::Strict`], as
/// bodies are) and checks the model constraints.
fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
    validate: impl FnOnce(&T, &mut Validator),
) -> Result<T, ApiError> {
    let strict::StrictValue(input) = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            "InvalidParameterValue",
            400,
            json::serialization_message(&e),
        )
        .with_query_code("InvalidParameterValue")
    })?;
    let mut v = Validator::new();
    validate(&input, &mut v);
    match v.finish() {
        Some(message) => Err(ApiError::validation(message)),
        None => Ok(input),
    }
}

/// Decodes, validates, calls and encodes one operation of a JSON or CBOR protocol, answering
/// errors as `wire` says.
pub async fn run<S: ?Sized, O: Operation<S>>(
    svc: &S,
    protocol: Protocol,
    body: &[u8],
    wire: &Wire,
) -> Response {
    match run_inner::<S, O>(svc, protocol, body).await {
        Ok(r) => r,
        Err(e) => wire.error_response(&e, protocol),
    }
}

async fn run_inner<S: ?Sized, O: Operation<S>>(
    svc: &S,
    protocol: Protocol,
    body: &[u8],
) -> Result<Response, ApiError> {
    let input: O::Input = decode_input(protocol, body, O::validate)?;
    let output = O::call(svc, input).await?;
    let body = if O::EMPTY_OUTPUT {
        Bytes::new()
    } else {
        O::encode(protocol, &output)?
    };
    Ok(Response::ok(protocol, body))
}

/// Decodes a request body in `protocol` and checks the model constraints with `validate`:
/// SerializationException for bodies that are not the right shape, ValidationException for
/// constraint violations.
pub fn decode_input<T: DeserializeOwned>(
    protocol: Protocol,
    body: &[u8],
    validate: impl FnOnce(&T, &mut Validator),
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::serialization(None));
    }
    let input: T = if protocol.is_cbor() {
        json::epoch_seconds(protocol == Protocol::RpcV2Cbor, || cbor::from_slice(body))
            .map_err(ApiError::serialization)?
    } else {
        json::from_slice(body)?
    };
    let mut v = Validator::new();
    validate(&input, &mut v);
    match v.finish() {
        Some(message) => Err(ApiError::validation(message)),
        None => Ok(input),
    }
}

/// Encodes an operation's output DTO in `protocol`; an encoding failure is an InternalFailure.
pub fn encode_output<T: Serialize>(protocol: Protocol, output: &T) -> Result<Bytes, ApiError> {
    let encoded = if protocol.is_cbor() {
        json::epoch_seconds(protocol == Protocol::RpcV2Cbor, || cbor::to_vec(output))
    } else {
        serde_json::to_vec(output).map_err(|e| e.to_string())
    };
    encoded.map(Bytes::from).map_err(encode_failure)
}

/// The InternalFailure of a response that could not be encoded.
pub fn encode_failure(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("could not encode the response: {e}"))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::json::JStr;

    struct GetQueueUrl;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct In {
        queue_name: Option<JStr>,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Out {
        queue_url: String,
    }

    impl Operation<()> for GetQueueUrl {
        type Input = In;
        type Output = Out;
        fn validate(i: &In, v: &mut Validator) {
            v.required("queueName", &i.queue_name);
        }
        async fn call(_: &(), i: In) -> Result<Out, ApiError> {
            match i.queue_name {
                Some(JStr(n)) if n == "missing" => Err(ApiError::new(
                    "QueueDoesNotExist",
                    400,
                    "The specified queue does not exist.",
                )
                .with_query_code("AWS.SimpleQueueService.NonExistentQueue")),
                Some(JStr(n)) => Ok(Out {
                    queue_url: format!("http://h/000000000000/{n}"),
                }),
                None => Err(ApiError::internal("validated")),
            }
        }
    }

    fn query_request(params: &[(&str, &str)]) -> ApiRequest {
        ApiRequest {
            protocol: Protocol::Query,
            operation: String::new(),
            method: http::Method::POST,
            path: "/".into(),
            query: None,
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            request_id: "rid-1".into(),
        }
    }

    async fn call(params: &[(&str, &str)]) -> Response {
        let req = query_request(params);
        let (op, input) = match input_of(&req, Some(query::QueryModel::sqs())) {
            Ok(x) => x,
            Err(resp) => return resp,
        };
        assert_eq!(op, "GetQueueUrl");
        run_input::<(), GetQueueUrl>(&(), &op, input, &Wire::default()).await
    }

    fn text(r: &Response) -> String {
        String::from_utf8(r.body.to_vec()).expect("utf8")
    }

    #[tokio::test]
    async fn query_requests_run_the_json_operation_and_answer_xml() {
        let r = call(&[("Action", "GetQueueUrl"), ("QueueName", "q1")]).await;
        assert_eq!(r.status, 200);
        let xml = text(&r);
        assert!(
            xml.contains("<GetQueueUrlResult><QueueUrl>http://h/000000000000/q1</QueueUrl>"),
            "{xml}"
        );
        assert!(xml.contains("<RequestId>rid-1</RequestId>"), "{xml}");
    }

    #[tokio::test]
    async fn query_errors_use_the_query_code_and_validation_still_runs() {
        let r = call(&[("Action", "GetQueueUrl"), ("QueueName", "missing")]).await;
        assert_eq!(r.status, 400);
        let xml = text(&r);
        assert!(
            xml.contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"),
            "{xml}"
        );
        assert!(xml.contains("<Type>Sender</Type>"), "{xml}");
        let r = call(&[("Action", "GetQueueUrl")]).await;
        assert_eq!(r.status, 400);
        assert!(text(&r).contains("Member must not be null"), "{}", text(&r));
    }

    #[tokio::test]
    async fn an_unknown_action_is_answered_by_the_codec() {
        let req = query_request(&[("Action", "Nope")]);
        let Err(r) = input_of(&req, Some(query::QueryModel::sqs())) else {
            panic!("refused");
        };
        assert!(
            text(&r).contains("<Code>InvalidAction</Code>"),
            "{}",
            text(&r)
        );
    }
}
