// SPDX-License-Identifier: Apache-2.0
//! S3's storage: buckets and object records in freshet-meta ([`records`]), content in files
//! ([`files`]).
//!
//! Durability protocol of every write (PutObject, UploadPart, CompleteMultipartUpload, adopt):
//! 1. content is written to a new file named by a fresh id and fsynced;
//! 2. its directory is fsynced and one meta transaction checks the bucket (and upload) and
//!    commits the record that names the file, replacing the previous record of the key;
//!    PutObject, UploadPart, CopyObject and adopt share this step with the writes that finish
//!    at about the same time ([`group`]: one directory fsync per directory and one commit per
//!    batch);
//! 3. only then is the request acknowledged, and the files of the replaced record removed.
//!
//! A crash before 2 leaves an orphan file (removed at start, see [`Store::open`]); after 2
//! the object is complete. No record ever names a partly written file, so no half object
//! is ever listed.

pub(crate) mod files;
pub(crate) mod group;
pub(crate) mod multipart;
pub(crate) mod records;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use freshet_meta::{Meta, MetaError, Txn, TxnExt};

use self::files::{Files, Written};
use self::group::{Change, GroupCommit};
use self::records::{
    BUCKETS, BucketRecord, Checksums, FileRef, OBJECTS, ObjectMeta, ObjectRecord, PARTS, UPLOADS,
    object_key,
};

/// Why a storage operation failed. Mapped to S3 error codes in one place
/// (`crate::ops::error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("The specified bucket does not exist")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
    },
    /// The key does not exist.
    #[error("The specified key does not exist.")]
    NoSuchKey {
        /// The key.
        key: String,
    },
    /// DeleteBucket of a bucket with objects.
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty {
        /// The bucket.
        bucket: String,
    },
    /// CreateBucket of a bucket that exists (and is the caller's: there is one account).
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou {
        /// The bucket.
        bucket: String,
    },
    /// The multipart upload does not exist (completed, aborted or never created).
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload {
        /// The upload id.
        upload_id: String,
    },
    /// A part named at completion was not uploaded, or its ETag differs.
    #[error(
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    )]
    InvalidPart {
        /// The part number.
        part: i32,
    },
    /// The part list at completion is not in ascending order.
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    /// A part other than the last is under 5 MiB.
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall {
        /// The part number.
        part: i32,
        /// Its size.
        size: u64,
    },
    /// The body is larger than allowed.
    #[error("Your proposed upload exceeds the maximum allowed size")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// A digest sent with the body does not match it.
    #[error("The {what} you specified did not match the calculated checksum.")]
    BadDigest {
        /// `Content-MD5`, `CRC32`, ...
        what: &'static str,
    },
    /// The request body ended early (stalled, cut, malformed framing).
    #[error("{0}")]
    Body(String),
    /// The body stalled for longer than the gap timeout.
    #[error(
        "Your socket connection to the server was not read from or written to within the timeout period."
    )]
    Timeout,
    /// A file operation failed.
    #[error("S3 storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The metadata store failed.
    #[error("S3 metadata: {0}")]
    Meta(#[from] MetaError),
    /// A bug or a failed background task.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(_: tokio::task::JoinError) -> Self {
        StoreError::Internal("a storage task failed")
    }
}

impl From<freshet_protocol::BodyError> for StoreError {
    fn from(e: freshet_protocol::BodyError) -> Self {
        match e {
            freshet_protocol::BodyError::Stalled { .. } => StoreError::Timeout,
            freshet_protocol::BodyError::TooLarge { max } => StoreError::TooLarge { max },
            other => StoreError::Body(other.to_string()),
        }
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for StoreError {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        let e = match e.downcast::<freshet_protocol::BodyError>() {
            Ok(b) => return StoreError::from(*b),
            Err(e) => e,
        };
        match e.downcast::<crate::chunked::ChunkedError>() {
            Ok(c) => StoreError::Body(c.to_string()),
            Err(e) => StoreError::Body(e.to_string()),
        }
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The S3 storage of one data directory.
#[derive(Debug)]
pub(crate) struct Store {
    pub meta: Arc<Meta>,
    pub files: Arc<Files>,
    group: Arc<GroupCommit>,
}

impl Store {
    /// Opens the store under `root` (`<data>/s3`): empties staging and removes content files
    /// no record names (writes a crash interrupted).
    pub fn open(root: &Path, meta: Arc<Meta>) -> Result<Store, StoreError> {
        let files = Arc::new(Files::open(root)?);
        let mut live = HashSet::new();
        for (_, o) in meta.scan_json::<ObjectRecord>(OBJECTS, "")? {
            live.extend(o.files.into_iter().map(|f| f.id));
        }
        for (_, p) in meta.scan_json::<records::PartRecord>(PARTS, "")? {
            live.insert(p.file.id);
        }
        let removed = files.remove_orphans(&live)?;
        if removed > 0 {
            tracing::info!(removed, "Removed S3 content files of interrupted writes.");
        }
        let group = GroupCommit::new(meta.clone(), files.clone());
        Ok(Store { meta, files, group })
    }

    /// Runs a meta transaction on the blocking pool (commits fsync).
    pub async fn txn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Txn) -> Result<T, StoreError> + Send + 'static,
    {
        let meta = self.meta.clone();
        tokio::task::spawn_blocking(move || meta.transaction(f)).await?
    }

    /// The bucket's record.
    pub fn bucket(&self, bucket: &str) -> Result<BucketRecord, StoreError> {
        self.meta
            .get_json::<BucketRecord>(BUCKETS, bucket)?
            .ok_or_else(|| StoreError::NoSuchBucket {
                bucket: bucket.to_owned(),
            })
    }

    /// Every bucket, by name.
    pub fn buckets(&self) -> Result<Vec<(String, BucketRecord)>, StoreError> {
        Ok(self.meta.scan_json(BUCKETS, "")?)
    }

    /// Creates a bucket.
    pub async fn create_bucket(&self, bucket: &str, region: &str) -> Result<(), StoreError> {
        let (bucket, region) = (bucket.to_owned(), region.to_owned());
        self.txn(move |t| {
            if t.get(BUCKETS, &bucket)?.is_some() {
                return Err(StoreError::BucketAlreadyOwnedByYou { bucket });
            }
            let r = BucketRecord {
                created_ms: now_ms(),
                region,
                tags: None,
            };
            t.put_json(BUCKETS, &bucket, &r)?;
            Ok(())
        })
        .await
    }

    /// Deletes an empty bucket, with its unfinished multipart uploads.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        let bucket = bucket.to_owned();
        let parts = self
            .txn(move |t| {
                if t.get(BUCKETS, &bucket)?.is_none() {
                    return Err(StoreError::NoSuchBucket { bucket });
                }
                let prefix = format!("{bucket}/");
                if !t.scan_after(OBJECTS, &prefix, None, 1)?.is_empty() {
                    return Err(StoreError::BucketNotEmpty { bucket });
                }
                let mut files = Vec::new();
                for (k, _) in t.scan(UPLOADS, &prefix)? {
                    let id = &k[prefix.len()..];
                    for (pk, v) in t.scan(PARTS, &format!("{id}/"))? {
                        let p: records::PartRecord =
                            serde_json::from_slice(&v).map_err(|e| MetaError::Corrupt {
                                table: PARTS.to_string(),
                                key: pk.clone(),
                                reason: e.to_string(),
                            })?;
                        files.push(p.file);
                        t.delete(PARTS, &pk)?;
                    }
                    t.delete(UPLOADS, &k)?;
                }
                t.delete(BUCKETS, &bucket)?;
                Ok(files)
            })
            .await?;
        self.files.remove(&parts).await;
        Ok(())
    }

    /// Replaces a bucket's tags (`None` deletes them).
    pub async fn set_bucket_tags(
        &self,
        bucket: &str,
        tags: Option<BTreeMap<String, String>>,
    ) -> Result<(), StoreError> {
        let bucket = bucket.to_owned();
        self.txn(move |t| {
            let mut r: BucketRecord =
                t.get_json(BUCKETS, &bucket)?
                    .ok_or_else(|| StoreError::NoSuchBucket {
                        bucket: bucket.clone(),
                    })?;
            r.tags = tags;
            t.put_json(BUCKETS, &bucket, &r)?;
            Ok(())
        })
        .await
    }

    /// The object's record.
    pub fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord, StoreError> {
        match self
            .meta
            .get_json::<ObjectRecord>(OBJECTS, &object_key(bucket, key))?
        {
            Some(o) => Ok(o),
            None => {
                self.bucket(bucket)?;
                Err(StoreError::NoSuchKey {
                    key: key.to_owned(),
                })
            }
        }
    }

    /// Commits `record` under `key` (the bucket must exist; group-committed), then removes
    /// the content of the record it replaced. On error the record's files are removed.
    pub async fn commit_object(
        &self,
        bucket: &str,
        key: &str,
        record: ObjectRecord,
    ) -> Result<ObjectRecord, StoreError> {
        let change = Change::Object {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            record: record.clone(),
        };
        self.commit_change(change).await?;
        Ok(record)
    }

    /// Commits `change` through the group committer; then removes the files of the record it
    /// replaced, or, if it failed, the files it names. The files it replaced.
    pub(crate) async fn commit_change(&self, change: Change) -> Result<Vec<FileRef>, StoreError> {
        let files = change.files();
        match self.group.commit(change).await {
            Ok(old) => {
                self.files.remove(&old).await;
                Ok(old)
            }
            Err(e) => {
                self.files.remove(&files).await;
                Err(e)
            }
        }
    }

    /// A record for freshly written content.
    pub fn record_for(written: &Written, meta: ObjectMeta, checksums: Checksums) -> ObjectRecord {
        ObjectRecord {
            size: written.file.len,
            etag: hex(&written.md5),
            modified_ms: now_ms(),
            meta,
            checksums,
            files: vec![written.file.clone()],
        }
    }

    /// Deletes an object (a missing key is not an error, as in S3).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let (b, k) = (bucket.to_owned(), object_key(bucket, key));
        let old = self
            .txn(move |t| {
                if t.get(BUCKETS, &b)?.is_none() {
                    return Err(StoreError::NoSuchBucket { bucket: b });
                }
                let old: Option<ObjectRecord> = t.get_json(OBJECTS, &k)?;
                if old.is_some() {
                    t.delete(OBJECTS, &k)?;
                }
                Ok(old)
            })
            .await?;
        if let Some(old) = old {
            self.files.remove(&old.files).await;
        }
        Ok(())
    }

    /// Deletes many objects of one bucket in one commit; the bucket must exist.
    pub async fn delete_objects(&self, bucket: &str, keys: Vec<String>) -> Result<(), StoreError> {
        let b = bucket.to_owned();
        let old = self
            .txn(move |t| {
                if t.get(BUCKETS, &b)?.is_none() {
                    return Err(StoreError::NoSuchBucket { bucket: b });
                }
                let mut old = Vec::new();
                for k in keys {
                    let k = object_key(&b, &k);
                    if let Some(o) = t.get_json::<ObjectRecord>(OBJECTS, &k)? {
                        old.extend(o.files);
                        t.delete(OBJECTS, &k)?;
                    }
                }
                Ok(old)
            })
            .await?;
        self.files.remove(&old).await;
        Ok(())
    }

    /// Up to `limit` objects of `bucket` whose key starts with `prefix` and sorts after
    /// `after`, in key order (keys without the bucket).
    pub fn objects_after(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, ObjectRecord)>, StoreError> {
        let p = format!("{bucket}/{prefix}");
        let a = after.map(|a| object_key(bucket, a));
        let rows = self.meta.scan_after(OBJECTS, &p, a.as_deref(), limit)?;
        let skip = bucket.len() + 1;
        rows.into_iter()
            .map(|(k, v)| {
                let o: ObjectRecord =
                    serde_json::from_slice(&v).map_err(|e| MetaError::Corrupt {
                        table: OBJECTS.to_string(),
                        key: k.clone(),
                        reason: e.to_string(),
                    })?;
                Ok((k[skip..].to_owned(), o))
            })
            .collect()
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
