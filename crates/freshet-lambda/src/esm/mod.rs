// SPDX-License-Identifier: Apache-2.0
//! Event source mappings: Lambda functions invoked with the records of Kinesis streams and
//! SQS queues.
//!
//! - [`filter`]: FilterCriteria (the EventBridge pattern language);

pub mod filter;
