// SPDX-License-Identifier: Apache-2.0
//! `freshet agent`: a file-tailing agent that reads the Kinesis Agent's own `agent.json`.
//!
//! - [`config`]: `agent.json`, validated (every error names its flow and key).
//! - [`tracker`] and [`split`]: files found by glob, followed through rotation, cut into
//!   records (complete lines, multi-line records, headers, footers, truncation).
//! - [`processing`]: the `dataProcessingOptions` chain (SINGLELINE, CSVTOJSON, LOGTOJSON,
//!   ADDMETADATA, ...), pure functions from one record to zero or one record.
//! - [`sink`]: where buffers go ([`sink::Sink`]); [`sdk`] (feature `sdk`) implements it on
//!   the AWS SDK for Rust, the server implements it in process.
//! - [`checkpoint`]: acknowledged offsets per flow and file, saved atomically.
//! - [`agent::run`]: runs the flows (buffers, retries with [`backoff`], checkpoints,
//!   [`metrics`] and the progress line) until shutdown.

pub mod agent;
pub mod backoff;
pub mod checkpoint;
pub mod config;
mod flow;
pub mod metrics;
pub mod processing;
#[cfg(feature = "sdk")]
pub mod sdk;
mod shared;
pub mod sink;
pub mod split;
pub mod tracker;

pub use crate::agent::{AgentError, RunOptions, Summary, run};
pub use crate::config::AgentConfig;
pub use crate::sink::{Destination, EntryOutcome, SendError, Sink, SinkRecord};
