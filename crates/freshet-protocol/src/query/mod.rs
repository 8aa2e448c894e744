// SPDX-License-Identifier: Apache-2.0
//! The AWS Query protocol, as a transcoder to and from the JSON protocol's values.
//!
//! Older SDKs and many tools call SQS and CloudWatch with a form (`Action=SendMessage&
//! Version=2012-11-05&QueueUrl=...`, POSTed as `application/x-www-form-urlencoded` or sent as a
//! GET query string) and read XML back. Services implement each operation once over the JSON
//! protocol's values; this module turns a Query request into exactly the JSON value a JSON
//! client would have sent, and the JSON output value into the XML a Query client expects,
//! driven only by the botocore Query-era service model ([`QueryModel`]):
//!
//! ```text
//! body ──parse_form──► [(name, value)] ──decode_request──► (Action, input JSON) ──► service
//! service ──► output JSON ──encode_response──► XML      error ──encode_error──► XML
//! ```
//!
//! Type conversions between the two protocols: integers and longs, booleans and doubles become
//! JSON numbers and booleans; timestamps are ISO-8601 on the Query side and epoch seconds in
//! JSON; blobs are base64 text on both sides. The codec is checked against botocore 1.31.0's own
//! `QuerySerializer` and `QueryParser` by the fixtures under `tests/query/`.

mod decode;
mod encode;
mod error;
mod form;
mod model;
pub(crate) mod time;
mod xml;

pub use decode::{MAX_DEPTH, decode_request};
pub use encode::{encode_error, encode_response};
pub use error::{
    Fault, INTERNAL_FAILURE, INTERNAL_FAILURE_MESSAGE, INVALID_ACTION, INVALID_ACTION_MESSAGE,
    INVALID_PARAMETER_VALUE, INVALID_PARAMETER_VALUE_MESSAGE, MALFORMED_QUERY_STRING,
    MALFORMED_QUERY_STRING_MESSAGE, MISSING_ACTION, MISSING_ACTION_MESSAGE, MISSING_PARAMETER,
    MISSING_PARAMETER_MESSAGE, QueryError,
};
pub use form::parse_form;
pub use model::{ModelError, Operation, QueryModel};

/// The content type of Query requests (`; charset=utf-8` may follow).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The content type of Query responses, as AWS sends it.
pub const XML_CONTENT_TYPE: &str = "text/xml";
