// SPDX-License-Identifier: Apache-2.0
//! Amazon SQS (API 2012-11-05) for Freshet.
//!
//! Two layers:
//!
//! * **The domain, without I/O.** It decides; it never reads a clock, a file or a socket.
//!   Every call that depends on time takes `now_ms` (Unix ms) and returns what must be
//!   persisted.
//!   * [`error`]: every SQS error with its AWS code, Query code, fault, status and message.
//!   * [`names`]: queue names, batch entry ids, FIFO ids, body characters.
//!   * [`validate`]: message attributes, system attributes, sizes, batches, send rules.
//!   * [`md5`]: MD5OfMessageBody / MD5OfMessageAttributes / MD5OfMessageSystemAttributes.
//!   * [`attributes`]: queue attributes (defaults, ranges, validation, rendering, CreateQueue
//!     idempotency) and [`redrive`]: RedrivePolicy / RedriveAllowPolicy.
//!   * [`message`], [`journal`], [`checkpoint`]: the persisted encodings (layouts in each
//!     module's doc); [`codec`] their shared primitives.
//!   * [`receipt`]: authenticated receipt handles.
//!   * [`engine`]: [`engine::QueueEngine`], one queue's state machine.
//!   * [`view`]: the system and message attributes a receive returns.
//! * **The service.** [`store`]: queues on the platform's logs and metadata store, with
//!   durability, recovery and periodic work, behind [`Sqs`] (also the in-process API other
//!   services call: [`Sqs::send`]); [`api`]: [`SqsService`], the SQS API over AWS JSON 1.0
//!   and the Query protocol, one module per operation under `ops/`.

pub mod api;
pub mod attributes;
pub mod checkpoint;
pub mod codec;
pub mod engine;
pub mod error;
pub mod journal;
pub mod md5;
pub mod message;
mod metrics;
pub mod names;
mod ops;
pub mod receipt;
pub mod redrive;
pub mod store;
pub mod validate;
pub mod view;

pub use api::SqsService;
pub use codec::DecodeError;
pub use error::{BatchKind, Error, Fault};
pub use store::{OpenError, Received, Sqs, SqsError, SqsOptions};
