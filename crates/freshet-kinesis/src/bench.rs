// SPDX-License-Identifier: Apache-2.0
//! Entry points for the criterion benchmarks in `benches/`, and for nothing else.
//!
//! The operation DTOs are crate-private; these functions let the benchmarks time the exact
//! code a request runs through in [`crate::Kinesis::handle`] (the same decoder, validation and
//! encoder, not copies) without the streams service behind it. Not a stable API: hidden from
//! the docs and free to change with the benchmarks.

use bytes::Bytes;
use freshet_protocol::{ApiError, Operation, Protocol, decode_input, encode_output};

use crate::ops::get_records::{self, GetRecords};
use crate::ops::put_record::{self, PutRecord};
use crate::ops::put_records::{self, PutRecords};
use crate::{PutOutcome, RecordsPage};

/// A decoded and validated PutRecords request (opaque; kept so that the benchmark times the
/// decoding, not the drop).
#[derive(Debug)]
pub struct PutRecordsInput(#[allow(dead_code)] put_records::Input);

/// Decodes a PutRecords body in `protocol` into the operation's input DTO and runs its model
/// validation, as the server does before calling the streams service.
pub fn decode_put_records(protocol: Protocol, body: &[u8]) -> Result<PutRecordsInput, ApiError> {
    decode_input(protocol, body, PutRecords::validate).map(PutRecordsInput)
}

/// A decoded and validated PutRecord request (opaque, like [`PutRecordsInput`]).
#[derive(Debug)]
pub struct PutRecordInput(#[allow(dead_code)] put_record::Input);

/// Decodes a PutRecord body in `protocol` into the operation's input DTO and runs its model
/// validation, as the server does before calling the streams service.
pub fn decode_put_record(protocol: Protocol, body: &[u8]) -> Result<PutRecordInput, ApiError> {
    decode_input(protocol, body, PutRecord::validate).map(PutRecordInput)
}

/// Turns a page of records into the GetRecords output DTO and encodes it in `protocol`, as the
/// server does after the streams service answered.
pub fn encode_get_records(protocol: Protocol, page: RecordsPage) -> Result<Bytes, ApiError> {
    GetRecords::encode(protocol, &get_records::Output::from(page))
}

/// Turns the streams service's outcomes of a PutRecords into the output DTO and encodes it in
/// `protocol`, as the server does after the records were stored.
pub fn encode_put_records(
    protocol: Protocol,
    outcomes: Vec<PutOutcome>,
) -> Result<Bytes, ApiError> {
    encode_output(protocol, &put_records::Output::from(outcomes))
}
