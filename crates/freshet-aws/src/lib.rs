// SPDX-License-Identifier: Apache-2.0
//! The AWS wire-protocol layer: Kinesis over JSON 1.1 and CBOR 1.1.
//!
//! A request arrives as its `X-Amz-Target`, content type and body. [`Kinesis::handle`] picks
//! the operation, decodes the body into that operation's DTO (see [`json`] for the member
//! types and the type errors AWS reports, [`cbor`] for the CBOR codec), validates it against
//! the model constraints (see [`validate`]), calls the streams service and encodes the answer
//! or the error in the request's [`Protocol`]. One module per operation lives under `ops/`;
//! DTOs use the AWS member names and never leave this crate.

#[doc(hidden)]
pub mod bench;
pub mod cbor;
pub mod error;
pub mod eventstream;
pub mod json;
mod ops;
pub mod validate;

use bytes::Bytes;
use freshet_streams::Streams;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::error::ApiError;
use crate::validate::Validator;

/// The JSON 1.1 content type.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";
/// The CBOR 1.1 content type (Java SDK v1/v2 and KCL default).
pub const CBOR_1_1: &str = "application/x-amz-cbor-1.1";
/// Target prefix of Kinesis operations.
pub const KINESIS_TARGET_PREFIX: &str = "Kinesis_20131202.";

/// The body encoding of a request, which its response and errors use too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1`.
    Json,
    /// `application/x-amz-cbor-1.1`.
    Cbor,
}

impl Protocol {
    /// The content type of bodies in this protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json => JSON_1_1,
            Protocol::Cbor => CBOR_1_1,
        }
    }
}

/// The content type of an event-stream response (SubscribeToShard).
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// A response ready for the transport.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body; empty for operations without output.
    pub body: Bytes,
    /// The error's `__type`, for the `x-amzn-ErrorType` header and logs.
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
    /// The response for an error, in JSON 1.1.
    pub fn error(e: &ApiError) -> Self {
        Self::error_in(e, Protocol::Json)
    }

    /// The response for an error, in `protocol`.
    pub fn error_in(e: &ApiError, protocol: Protocol) -> Self {
        Response {
            status: e.status,
            content_type: protocol.content_type(),
            body: Bytes::from(e.body_in(protocol)),
            error_code: Some(e.code),
            events: None,
        }
    }
}

/// The Kinesis API over a streams service.
#[derive(Debug, Clone)]
pub struct Kinesis {
    streams: Streams,
}

/// One API operation: its DTOs, its model validation and its call into the domain.
pub(crate) trait Operation {
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
        streams: &Streams,
        input: Self::Input,
    ) -> impl std::future::Future<Output = Result<Self::Output, ApiError>> + Send;
    /// Encodes the output in `protocol`: through serde, unless the operation writes its
    /// body itself (GetRecords does in JSON, where a page is megabytes of base64).
    fn encode(protocol: Protocol, output: &Self::Output) -> Result<Bytes, ApiError> {
        encode_output(protocol, output)
    }
}

impl Kinesis {
    /// The API over `streams`.
    pub fn new(streams: Streams) -> Self {
        Self { streams }
    }

    /// The streams service behind the API.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Handles one request given its `X-Amz-Target`, body encoding and body.
    pub async fn handle(&self, target: &str, protocol: Protocol, body: Bytes) -> Response {
        let Some(op) = target.strip_prefix(KINESIS_TARGET_PREFIX) else {
            return Response::error_in(&ApiError::unknown_operation(), protocol);
        };
        ops::dispatch(&self.streams, op, protocol, &body).await
    }
}

/// Decodes, validates, calls and encodes one operation.
pub(crate) async fn run<O: Operation>(
    streams: &Streams,
    protocol: Protocol,
    body: &[u8],
) -> Response {
    match run_inner::<O>(streams, protocol, body).await {
        Ok(r) => r,
        Err(e) => Response::error_in(&e, protocol),
    }
}

/// Decodes a request body in `protocol` and checks the model constraints with `validate`:
/// SerializationException for bodies that are not the right shape, ValidationException for
/// constraint violations.
pub(crate) fn decode_input<T: DeserializeOwned>(
    protocol: Protocol,
    body: &[u8],
    validate: impl FnOnce(&T, &mut Validator),
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::serialization(None));
    }
    let input: T = match protocol {
        Protocol::Json => serde_json::from_slice(body)
            .map_err(|e| ApiError::serialization(json::serialization_message(&e)))?,
        Protocol::Cbor => cbor::from_slice(body).map_err(ApiError::serialization)?,
    };
    let mut v = Validator::new();
    validate(&input, &mut v);
    match v.finish() {
        Some(message) => Err(ApiError::validation(message)),
        None => Ok(input),
    }
}

async fn run_inner<O: Operation>(
    streams: &Streams,
    protocol: Protocol,
    body: &[u8],
) -> Result<Response, ApiError> {
    let input: O::Input = decode_input(protocol, body, O::validate)?;
    let output = O::call(streams, input).await?;
    let body = if O::EMPTY_OUTPUT {
        Bytes::new()
    } else {
        O::encode(protocol, &output)?
    };
    Ok(Response {
        status: 200,
        content_type: protocol.content_type(),
        body,
        error_code: None,
        events: None,
    })
}

/// Encodes an operation's output DTO in `protocol`; an encoding failure is an InternalFailure.
pub(crate) fn encode_output<T: Serialize>(
    protocol: Protocol,
    output: &T,
) -> Result<Bytes, ApiError> {
    let encoded = match protocol {
        Protocol::Json => serde_json::to_vec(output).map_err(|e| e.to_string()),
        Protocol::Cbor => cbor::to_vec(output),
    };
    encoded.map(Bytes::from).map_err(encode_failure)
}

/// The InternalFailure of a response that could not be encoded.
pub(crate) fn encode_failure(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        code: "InternalFailure",
        status: 500,
        message: Some(format!("could not encode the response: {e}")),
    }
}
