// SPDX-License-Identifier: Apache-2.0
//! Amazon Data Firehose (API 2015-08-04) for Freshet.
//!
//! * [`api`]: the Firehose API on the shared front door ([`FirehoseService`]), one module per
//!   operation under `ops/`.
//! * [`Firehose`]: the delivery streams of a server (control plane in `firehose.rs` and
//!   `control.rs`, DirectPut ingest in `ingest.rs`), records in `store.rs`, the model's
//!   destination shapes in `model.rs`.
//! * [`rules`]: prefixes, compression, the Lambda contract, processors, error documents,
//!   the HTTP endpoint protocol.
//! * [`convert`]: JSON → Parquet (DataFormatConversionConfiguration).
//! * [`engine`]: delivery: buffering by positions, staging files, checkpoints.
//! * [`sink`]: where delivered objects go ([`sink::ObjectSink`]): Freshet's own buckets, or
//!   an external S3-compatible store a bucket is mapped to; [`sinks`]: test and fallback
//!   sinks.

pub mod api;
pub mod control;
pub mod convert;
pub mod engine;
mod error;
mod firehose;
pub mod ingest;
pub mod metrics;
pub mod model;
mod ops;
pub mod rules;
pub mod sink;
pub mod sinks;
pub mod store;
pub mod validate;

pub use crate::api::FirehoseService;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::firehose::{DEFAULT_UNDELIVERED_BUDGET, Firehose, FirehoseOptions, Live, Peers};
