// SPDX-License-Identifier: Apache-2.0
//! Lambda functions for Freshet.
//!
//! - [`async_invoke`]: Event (asynchronous) invocations: a durable queue, retries and
//!   OnSuccess/OnFailure destinations.
//! - [`spec`]: what it takes to run a function and to invoke it; the contract between the
//!   Lambda API (which owns function records), the executor (which runs handlers as local
//!   processes through the Lambda Runtime API) and event source mappings (which invoke).
//! - [`functions`]: the Lambda API's domain: function records, versions, aliases, code,
//!   states, and the [`spec::Invoker`] implementation.
//! - [`api`]: [`api::LambdaService`], the Lambda REST-JSON API on the shared front door;
//!   `ops/` holds the operations over JSON values.
//! - [`esm`]: event source mappings from Kinesis streams and SQS queues.
//! - [`exec`]: the executor: runs a [`spec::FunctionSpec`]'s handler in warm local processes
//!   through a Lambda Runtime API served on 127.0.0.1, with logs, timeouts and concurrency.

pub mod api;
pub mod async_invoke;
pub mod esm;
pub mod exec;
pub mod functions;
mod metrics;
mod ops;
pub mod spec;

pub use crate::api::LambdaService;
pub use crate::functions::{Functions, FunctionsOptions};
