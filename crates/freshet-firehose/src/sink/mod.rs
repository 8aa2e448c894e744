// SPDX-License-Identifier: Apache-2.0
//! Where a delivery stream's objects go.
//!
//! Delivery assembles each object in a staging file under the data directory (so a 128 MB
//! buffer never sits in memory) and hands it to an [`ObjectSink`]. The sink for Freshet's own
//! buckets adopts the file (a rename on the same file system); a sink for an external
//! S3-compatible store uploads it. Small documents (error output) may be handed over as bytes.
//!
//! Contract: when `put_*` returns `Ok`, the object is durable and visible to readers of the
//! bucket; delivery commits its checkpoint only after that. On `Err`, nothing visible was
//! written (or a partial write is invisible), and delivery retries by the error's
//! [`SinkError::retryable`] within its retry budget.

pub mod local;
pub mod remote;

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::future::BoxFuture;

/// One object to write.
#[derive(Debug)]
pub struct ObjectPut {
    /// The bucket's name (from the destination's `BucketARN`).
    pub bucket: String,
    /// The full object key.
    pub key: String,
    /// `Content-Type`, if the delivery sets one.
    pub content_type: Option<String>,
    /// The bytes.
    pub body: ObjectBody,
}

/// An object's content.
#[derive(Debug)]
pub enum ObjectBody {
    /// A finished staging file of `len` bytes, fsynced by the caller. The sink owns it from
    /// here: it moves or deletes it, whether the put succeeds or fails.
    File {
        /// Where it is.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },
    /// Small content in memory (error documents).
    Bytes(Bytes),
}

/// Why a put failed.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SinkError {
    /// AWS's error code for delivery logs and error output, e.g. `S3.NoSuchBucket`,
    /// `S3.AccessDenied`, `S3.ServiceUnavailable`, `S3.InternalError`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// Whether trying again later may succeed. Firehose retries S3 deliveries (even a missing
    /// bucket, which a user may create) until the source's retention runs out.
    pub retryable: bool,
}

/// A destination for whole objects.
pub trait ObjectSink: Send + Sync + 'static {
    /// Writes one object, replacing any object under the same key.
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>>;
}
