// SPDX-License-Identifier: Apache-2.0
//! Amazon S3 on Freshet's endpoint: buckets and objects stored durably under
//! `<data>/s3/`, served through [s3s](https://docs.rs/s3s) (request parsing, XML, SigV4,
//! errors), plus the in-process handle [`S3`] that other services (Firehose delivery) write
//! objects through.
//!
//! - [`S3::open`] opens the store (removing what interrupted writes left) and
//!   [`S3::service`] gives the [`freshet_protocol::Service`] for the router.
//! - Storage and its durability protocol: [`store`] (records in freshet-meta, content in
//!   files named by id). An acknowledged PUT survives SIGKILL; no half object is ever listed.
//! - The wire: `service` (routing, credentials, aws-chunked) and `ops` (one method per
//!   operation; what is not implemented answers `NotImplemented`).

mod chunked;
mod list;
mod names;
mod ops;
mod service;
mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use freshet_meta::Meta;
use futures_util::TryStreamExt as _;

pub use crate::chunked::ChunkedError;
pub use crate::names::valid_bucket_name;
pub use crate::service::S3Service;
use crate::store::Store;
pub use crate::store::StoreError;
use crate::store::files::Algorithms;
use crate::store::records::{Checksums, ObjectMeta, ObjectRecord};

/// S3's largest single PUT (5 GiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// How S3 is served.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// The region buckets are created in unless a `LocationConstraint` says otherwise.
    pub region: String,
    /// Host suffixes of virtual-host addressing (`<bucket>.<suffix>`), e.g. `localhost`.
    pub virtual_hosts: Vec<String>,
    /// `(access key id, secret access key)` pairs. Empty (the default): any credentials are
    /// accepted and signatures are not checked, as by every Freshet service. Otherwise s3s
    /// verifies every request against these keys.
    pub credentials: Vec<(String, String)>,
    /// Largest object accepted in one PUT or part.
    pub max_object_size: u64,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            region: "us-east-1".into(),
            virtual_hosts: vec!["localhost".into()],
            credentials: Vec::new(),
            max_object_size: MAX_OBJECT_SIZE,
        }
    }
}

/// Why an in-process S3 call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// The bucket does not exist.
    #[error("NoSuchBucket: the bucket {bucket} does not exist")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
    },
    /// The object does not exist.
    #[error("NoSuchKey: the key {key} does not exist in {bucket}")]
    NoSuchKey {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The bucket name breaks S3's naming rules.
    #[error("InvalidBucketName: {bucket}")]
    InvalidBucketName {
        /// The name.
        bucket: String,
    },
    /// Storage failed (I/O, metadata): retrying later may succeed.
    #[error("S3 storage failed: {0}")]
    Storage(#[source] StoreError),
}

impl S3Error {
    fn from_store(e: StoreError, bucket: &str, key: &str) -> S3Error {
        match e {
            StoreError::NoSuchBucket { bucket } => S3Error::NoSuchBucket { bucket },
            StoreError::NoSuchKey { .. } => S3Error::NoSuchKey {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            },
            other => S3Error::Storage(other),
        }
    }
}

/// A stored object, as a put reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its ETag, without quotes (hex MD5 for single-part objects).
    pub etag: String,
}

/// The in-process S3 handle: cheap to clone, shared by the HTTP service and callers such as
/// Firehose delivery.
#[derive(Clone, Debug)]
pub struct S3 {
    store: Arc<Store>,
    options: Arc<S3Options>,
}

impl S3 {
    /// Opens S3's storage under `root` (normally `<data>/s3`) with its records in `meta`.
    /// Removes the staging directory's content and content files no record names.
    pub fn open(root: &Path, meta: Arc<Meta>, options: S3Options) -> Result<S3, S3Error> {
        let store = Store::open(root, meta).map_err(S3Error::Storage)?;
        Ok(S3 {
            store: Arc::new(store),
            options: Arc::new(options),
        })
    }

    /// The service for the endpoint's router.
    pub fn service(&self) -> S3Service {
        let ops = ops::Ops {
            store: self.store.clone(),
            region: self.options.region.clone(),
            max_object: self.options.max_object_size,
        };
        S3Service::new(
            ops,
            self.options.virtual_hosts.clone(),
            &self.options.credentials,
        )
    }

    /// A directory on the store's file system where callers write files to hand to
    /// [`S3::put_object_file`] (a rename, no copy). Emptied at every start.
    pub fn staging_dir(&self) -> &Path {
        self.store.files.staging()
    }

    /// Whether the bucket exists.
    pub async fn bucket_exists(&self, bucket: &str) -> bool {
        self.store.bucket(bucket).is_ok()
    }

    /// Creates a bucket (for tests and set-up; an existing bucket is not an error).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        if !valid_bucket_name(bucket) {
            return Err(S3Error::InvalidBucketName {
                bucket: bucket.to_owned(),
            });
        }
        match self.store.create_bucket(bucket, &self.options.region).await {
            Ok(()) | Err(StoreError::BucketAlreadyOwnedByYou { .. }) => Ok(()),
            Err(e) => Err(S3Error::from_store(e, bucket, "")),
        }
    }

    /// Stores the finished file at `path` (`len` bytes, fsynced by the caller, on the same
    /// file system as [`S3::staging_dir`]) as `bucket/key`, replacing any object there.
    /// The file is adopted by rename, never copied (its MD5 is read for the ETag).
    ///
    /// The file is consumed either way: moved into the store on `Ok` (the object is durable
    /// and visible), deleted on `Err`.
    pub async fn put_object_file(
        &self,
        bucket: &str,
        key: &str,
        path: PathBuf,
        len: u64,
        content_type: Option<String>,
    ) -> Result<ObjectInfo, S3Error> {
        if let Err(e) = self.store.bucket(bucket) {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(S3Error::from_store(e, bucket, key));
        }
        let file = match self.store.files.adopt(path.clone(), len).await {
            Ok(f) => f,
            Err(e) => {
                let _ = tokio::fs::remove_file(&path).await;
                return Err(S3Error::Storage(e));
            }
        };
        let md5 = match self.store.files.md5_of(&file).await {
            Ok(m) => m,
            Err(e) => {
                self.store.files.remove(&[file]).await;
                return Err(S3Error::Storage(e));
            }
        };
        let record = ObjectRecord {
            size: len,
            etag: store::hex(&md5),
            modified_ms: store::now_ms(),
            meta: ObjectMeta {
                content_type,
                ..ObjectMeta::default()
            },
            checksums: Checksums::default(),
            files: vec![file],
        };
        self.commit(bucket, key, record).await
    }

    /// Stores `body` as `bucket/key`, durably, replacing any object there.
    pub async fn put_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: Option<String>,
    ) -> Result<ObjectInfo, S3Error> {
        self.store
            .bucket(bucket)
            .map_err(|e| S3Error::from_store(e, bucket, key))?;
        let written = self
            .store
            .files
            .write(
                futures_util::stream::iter([Ok::<_, StoreError>(body)]),
                Algorithms::default(),
                u64::MAX,
            )
            .await
            .map_err(S3Error::Storage)?;
        let meta = ObjectMeta {
            content_type,
            ..ObjectMeta::default()
        };
        let record = Store::record_for(&written, meta, Checksums::default());
        self.commit(bucket, key, record).await
    }

    async fn commit(
        &self,
        bucket: &str,
        key: &str,
        record: ObjectRecord,
    ) -> Result<ObjectInfo, S3Error> {
        let r = self
            .store
            .commit_object(bucket, key, record)
            .await
            .map_err(|e| S3Error::from_store(e, bucket, key))?;
        Ok(ObjectInfo {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: r.size,
            etag: r.etag,
        })
    }

    /// The whole content of an object, in memory (for tests and small objects).
    pub async fn get_object_bytes(&self, bucket: &str, key: &str) -> Result<Bytes, S3Error> {
        let o = self
            .store
            .object(bucket, key)
            .map_err(|e| S3Error::from_store(e, bucket, key))?;
        let stream = self
            .store
            .files
            .read(&o.files, 0..o.size)
            .await
            .map_err(S3Error::Storage)?;
        let pieces: Vec<Bytes> = stream
            .try_collect()
            .await
            .map_err(|e| S3Error::Storage(StoreError::Io(e)))?;
        Ok(Bytes::from(pieces.concat()))
    }

    /// The keys of a bucket under `prefix`, in order (for tests and tools).
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
        self.store
            .bucket(bucket)
            .map_err(|e| S3Error::from_store(e, bucket, ""))?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .objects_after(bucket, prefix, after.as_deref(), 1000)
                .map_err(S3Error::Storage)?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(last.clone());
            out.extend(page.into_iter().map(|(k, _)| k));
        }
        Ok(out)
    }
}
