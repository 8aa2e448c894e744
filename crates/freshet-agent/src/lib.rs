// SPDX-License-Identifier: Apache-2.0
//! `freshet agent`: a file-tailing agent that reads the Kinesis Agent's own `agent.json`.
//!
//! - [`processing`]: the `dataProcessingOptions` chain (SINGLELINE, CSVTOJSON, LOGTOJSON,
//!   ADDMETADATA, ...), pure functions from one record to zero or one record.

pub mod processing;
