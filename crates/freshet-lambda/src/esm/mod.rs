// SPDX-License-Identifier: Apache-2.0
//! Event source mappings: Lambda functions invoked with the records of Kinesis streams and
//! SQS queues.
//!
//! - [`filter`]: FilterCriteria (the EventBridge pattern language);
//! - [`event`]: the documents sent: Kinesis and SQS events, on-failure records;
//! - [`response`]: reading answers (ReportBatchItemFailures, window state);
//! - [`batch`]: the batch state machine of one shard (pure);
//! - [`model`]: mapping records, request validation, the configuration document;
//! - [`mappings`]: the [`Mappings`] handle the Lambda API calls, and the component running
//!   one pipeline per mapping (`kinesis` for streams, `sqs` for queues).

pub mod batch;
pub mod event;
pub mod filter;
mod kinesis;
pub mod mappings;
pub mod model;
pub mod response;
mod sqs;

pub use mappings::{EsmOptions, MAPPINGS, Mappings};
pub use model::{EsmError, FunctionRef, MappingRecord, MappingState, SourceKind};
