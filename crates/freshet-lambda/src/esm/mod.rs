// SPDX-License-Identifier: Apache-2.0
//! Event source mappings: Lambda functions invoked with the records of Kinesis streams and
//! SQS queues.
//!
//! - [`filter`]: FilterCriteria (the EventBridge pattern language);
//! - [`event`]: the documents sent: Kinesis and SQS events, on-failure records;
//! - [`response`]: reading answers (ReportBatchItemFailures, window state);
//! - [`batch`]: the batch state machine of one shard (pure);

pub mod batch;
pub mod event;
pub mod filter;
pub mod response;
