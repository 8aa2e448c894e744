// SPDX-License-Identifier: Apache-2.0
//! Delivery into Freshet's own buckets, and the routing of each bucket to its store.
//!
//! [`LocalSink`] hands staging files to [`freshet_s3::S3::put_object_file`], which adopts
//! them by rename (the staging directory is the S3 store's, on the same file system), so an
//! object of 128 MB is never copied. [`RoutedSink`] sends the buckets a user mapped to an
//! external S3-compatible store (`[firehose.remote_buckets.<bucket>]`) to a
//! [`RemoteSink`] and every other bucket to the local store.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::remote::{RemoteSink, RemoteStore};
use super::{ObjectBody, ObjectPut, ObjectSink, SinkError};

/// Objects into Freshet's own S3 store.
pub struct LocalSink {
    s3: freshet_s3::S3,
}

impl LocalSink {
    /// A sink over `s3`. Delivery must stage its files in `s3.staging_dir()`.
    pub fn new(s3: freshet_s3::S3) -> LocalSink {
        LocalSink { s3 }
    }
}

impl ObjectSink for LocalSink {
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            let ObjectPut {
                bucket,
                key,
                content_type,
                body,
            } = object;
            let result = match body {
                ObjectBody::File { path, len } => {
                    self.s3
                        .put_object_file(&bucket, &key, path, len, content_type)
                        .await
                }
                ObjectBody::Bytes(bytes) => {
                    self.s3
                        .put_object_bytes(&bucket, &key, bytes, content_type)
                        .await
                }
            };
            result.map(drop).map_err(sink_error)
        })
    }
}

/// S3's error as delivery reports it. Every failure is retryable: Firehose keeps retrying S3
/// (a user may create the missing bucket) until the source's retention runs out.
fn sink_error(e: freshet_s3::S3Error) -> SinkError {
    let code = match &e {
        freshet_s3::S3Error::NoSuchBucket { .. } => "S3.NoSuchBucket",
        freshet_s3::S3Error::InvalidBucketName { .. } => "S3.InvalidBucketName",
        _ => "S3.InternalError",
    };
    SinkError {
        code: code.to_owned(),
        message: e.to_string(),
        retryable: true,
    }
}

/// Each bucket to its store: the mapped remote ones, else the local store.
pub struct RoutedSink {
    local: Arc<dyn ObjectSink>,
    remote: BTreeMap<String, RemoteSink>,
}

impl RoutedSink {
    /// Routes the buckets named in `remote` to their stores and the rest to `local`. Fails
    /// when a remote store's settings are unusable (bad endpoint URL).
    pub fn new(
        local: Arc<dyn ObjectSink>,
        remote: &BTreeMap<String, RemoteStore>,
    ) -> Result<RoutedSink, SinkError> {
        let remote = remote
            .iter()
            .map(|(bucket, store)| Ok((bucket.clone(), RemoteSink::new(store)?)))
            .collect::<Result<_, SinkError>>()?;
        Ok(RoutedSink { local, remote })
    }
}

impl ObjectSink for RoutedSink {
    fn put(&self, object: ObjectPut) -> BoxFuture<'_, Result<(), SinkError>> {
        match self.remote.get(&object.bucket) {
            Some(remote) => remote.put(object),
            None => self.local.put(object),
        }
    }
}
