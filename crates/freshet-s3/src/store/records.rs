// SPDX-License-Identifier: Apache-2.0
//! The persisted records of S3 (JSON values in freshet-meta tables) and their keys.
//!
//! | table          | key                       | value            |
//! |----------------|---------------------------|------------------|
//! | `s3.buckets`   | `<bucket>`                | [`BucketRecord`] |
//! | `s3.objects`   | `<bucket>/<key>`          | [`ObjectRecord`] |
//! | `s3.uploads`   | `<bucket>/<upload id>`    | [`UploadRecord`] |
//! | `s3.parts`     | `<upload id>/<part:05>`   | [`PartRecord`]   |
//!
//! Bucket names never contain `/`, so `<bucket>/` is an exact prefix of a bucket's objects,
//! and keys sort bytewise: S3's listing order. Content lives in files named by
//! [`FileRef::id`] (see [`super::files`]), never by key. Fields added later must be
//! `#[serde(default)]`.

use std::collections::BTreeMap;

use freshet_meta::Table;
use serde::{Deserialize, Serialize};

/// Buckets by name.
pub(crate) const BUCKETS: Table = Table::new("s3", "buckets");
/// Objects by `<bucket>/<key>`.
pub(crate) const OBJECTS: Table = Table::new("s3", "objects");
/// Multipart uploads in progress by `<bucket>/<upload id>`.
pub(crate) const UPLOADS: Table = Table::new("s3", "uploads");
/// Uploaded parts by `<upload id>/<part number:05>`.
pub(crate) const PARTS: Table = Table::new("s3", "parts");

/// The key of an object record.
pub(crate) fn object_key(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

/// The key of an upload record.
pub(crate) fn upload_key(bucket: &str, upload_id: &str) -> String {
    format!("{bucket}/{upload_id}")
}

/// The key of a part record.
pub(crate) fn part_key(upload_id: &str, part: i32) -> String {
    format!("{upload_id}/{part:05}")
}

/// One bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BucketRecord {
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// The region it was created in (its `LocationConstraint`, or the server's region).
    pub region: String,
    /// Bucket tags, if set.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A piece of an object's content: one immutable file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileRef {
    /// The file's id (its name under `objects/`).
    pub id: String,
    /// Its length in bytes.
    pub len: u64,
}

/// The checksums stored with an object or part (base64, as S3 returns them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE` (multipart objects with per-part checksums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// What a client set on an object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `Expires`, as the client sent it (RFC 1123).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-meta-*` without the prefix.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user: BTreeMap<String, String>,
}

/// One object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    /// Total length.
    pub size: u64,
    /// The ETag without quotes: hex MD5, or `<md5 of part md5s>-<parts>`.
    pub etag: String,
    /// Last-Modified, ms since the epoch.
    pub modified_ms: u64,
    /// Content-Type and friends, user metadata.
    #[serde(default)]
    pub meta: ObjectMeta,
    /// Stored checksums.
    #[serde(default)]
    pub checksums: Checksums,
    /// The content, in order (one file, or one per multipart part).
    pub files: Vec<FileRef>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UploadRecord {
    /// The object key it will complete to.
    pub key: String,
    /// Initiation time, ms since the epoch.
    pub initiated_ms: u64,
    /// Metadata given at CreateMultipartUpload.
    #[serde(default)]
    pub meta: ObjectMeta,
    /// The checksum algorithm named at CreateMultipartUpload, if any.
    #[serde(default)]
    pub checksum_algorithm: Option<String>,
}

/// One uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PartRecord {
    /// Its content.
    pub file: FileRef,
    /// Hex MD5 of the part (its ETag).
    pub md5: String,
    /// Upload time, ms since the epoch.
    pub modified_ms: u64,
    /// Checksums sent with the part.
    #[serde(default)]
    pub checksums: Checksums,
}
