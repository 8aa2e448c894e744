// SPDX-License-Identifier: Apache-2.0
//! ListObjectsV2 and ListObjects (v1) over [`crate::list`].
//!
//! Continuation tokens are the base64 of the resume point (the last key or common prefix
//! listed): opaque to clients, stateless here. With `encoding-type=url`, keys, prefixes,
//! delimiter and start-after are percent-encoded (every byte but unreserved characters and
//! `/`), which botocore decodes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::Ops;
use super::error::err;
use super::object::timestamp;
use crate::list::{Entry, Page, list};
use crate::store::records::ObjectRecord;

/// Keys read from the store per page of the scan.
const SCAN_BATCH: usize = 1000;

/// Percent-encodes for `encoding-type=url`.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn page(
    ops: &Ops,
    bucket: &str,
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    max_keys: Option<i32>,
) -> S3Result<Page<ObjectRecord>> {
    ops.store.bucket(bucket)?;
    let max = max_keys.unwrap_or(1000);
    if max < 0 {
        return Err(err(
            S3ErrorCode::InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647",
        ));
    }
    let max = (max as usize).min(1000);
    Ok(list(prefix, delimiter, after, max, SCAN_BATCH, |a, n| {
        ops.store.objects_after(bucket, prefix, a, n)
    })?)
}

fn object(key: String, o: &ObjectRecord, enc: &dyn Fn(String) -> String) -> Object {
    Object {
        key: Some(enc(key)),
        e_tag: Some(super::object::etag(o)),
        last_modified: Some(timestamp(o.modified_ms)),
        size: Some(o.size as i64),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        checksum_algorithm: checksum_algorithms(o),
        checksum_type: o.checksums.kind.clone().map(ChecksumType::from),
        ..Default::default()
    }
}

fn checksum_algorithms(o: &ObjectRecord) -> Option<Vec<ChecksumAlgorithm>> {
    let c = &o.checksums;
    let mut v = Vec::new();
    for (set, name) in [
        (c.crc32.is_some(), ChecksumAlgorithm::CRC32),
        (c.crc32c.is_some(), ChecksumAlgorithm::CRC32C),
        (c.crc64nvme.is_some(), ChecksumAlgorithm::CRC64NVME),
        (c.sha1.is_some(), ChecksumAlgorithm::SHA1),
        (c.sha256.is_some(), ChecksumAlgorithm::SHA256),
    ] {
        if set {
            v.push(ChecksumAlgorithm::from_static(name));
        }
    }
    (!v.is_empty()).then_some(v)
}

type Split = (Vec<Object>, Vec<CommonPrefix>);

fn split(entries: Vec<Entry<ObjectRecord>>, enc: &dyn Fn(String) -> String) -> Split {
    let mut objects = Vec::new();
    let mut prefixes = Vec::new();
    for e in entries {
        match e {
            Entry::Key(k, o) => objects.push(object(k, &o, enc)),
            Entry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc(p)),
            }),
        }
    }
    (objects, prefixes)
}

fn encoder(t: Option<&EncodingType>) -> S3Result<Box<dyn Fn(String) -> String + Send>> {
    match t.map(|t| t.as_str()) {
        None => Ok(Box::new(|s| s)),
        Some(EncodingType::URL) => Ok(Box::new(|s: String| url_encode(&s))),
        Some(_) => Err(err(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

pub(crate) async fn list_v2(
    ops: &Ops,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    let enc = encoder(input.encoding_type.as_ref())?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().unwrap_or_default();
    let after = match &input.continuation_token {
        Some(t) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    err(
                        S3ErrorCode::InvalidArgument,
                        "The continuation token provided is incorrect",
                    )
                })?,
        ),
        None => input.start_after.clone(),
    };
    let p = page(
        ops,
        &input.bucket,
        &prefix,
        &delimiter,
        after.as_deref(),
        input.max_keys,
    )?;
    let next = p.next.map(|n| URL_SAFE_NO_PAD.encode(n));
    let (objects, prefixes) = split(p.entries, &enc);
    let count = (objects.len() + prefixes.len()) as i32;
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(enc(prefix)),
        delimiter: input.delimiter.map(&enc),
        max_keys: Some(input.max_keys.unwrap_or(1000)),
        key_count: Some(count),
        is_truncated: Some(next.is_some()),
        continuation_token: input.continuation_token,
        next_continuation_token: next,
        start_after: input.start_after.map(&enc),
        encoding_type: input.encoding_type,
        contents: (!objects.is_empty()).then_some(objects),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        ..Default::default()
    }))
}

pub(crate) async fn list_v1(
    ops: &Ops,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = req.input;
    let enc = encoder(input.encoding_type.as_ref())?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().unwrap_or_default();
    let p = page(
        ops,
        &input.bucket,
        &prefix,
        &delimiter,
        input.marker.as_deref(),
        input.max_keys,
    )?;
    // NextMarker is only returned with a delimiter (without one, clients use the last key).
    let next_marker = p.next.clone().filter(|_| !delimiter.is_empty()).map(&enc);
    let truncated = p.next.is_some();
    let (objects, prefixes) = split(p.entries, &enc);
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(enc(prefix)),
        delimiter: input.delimiter.map(&enc),
        marker: Some(input.marker.map(&enc).unwrap_or_default()),
        max_keys: Some(input.max_keys.unwrap_or(1000)),
        is_truncated: Some(truncated),
        next_marker,
        encoding_type: input.encoding_type,
        contents: (!objects.is_empty()).then_some(objects),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_slashes_and_unreserved_characters() {
        assert_eq!(url_encode("a b/c+d~é"), "a%20b/c%2Bd~%C3%A9");
    }
}
