// SPDX-License-Identifier: Apache-2.0
//! Object operations: put (streamed), get and head (ranges, parts, conditions), delete,
//! delete many, copy.
//!
//! Conditional requests follow RFC 9110 as S3 does: `If-Match` (else 412) and
//! `If-Unmodified-Since` (else 412, unless `If-Match` held), then `If-None-Match` (else 304)
//! and `If-Modified-Since` (else 304, unless `If-None-Match` was given).

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::Ops;
use super::checksums::{Expected, Trailers};
use super::error::err;
use crate::store::Store;
use crate::store::records::{Checksums, ObjectMeta, ObjectRecord};

pub(crate) fn timestamp(ms: u64) -> Timestamp {
    Timestamp::from(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

fn seconds(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

pub(crate) fn etag(o: &ObjectRecord) -> ETag {
    ETag::Strong(o.etag.clone())
}

fn matches(cond: &ETagCondition, o: &ObjectRecord) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == o.etag,
    }
}

/// Checks conditional headers; the 304 or 412 to answer instead.
pub(crate) fn check_conditions(
    o: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), S3Error> {
    let modified = (o.modified_ms / 1000) as i64;
    let precondition = || {
        err(
            S3ErrorCode::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    match if_match {
        Some(c) if !matches(c, o) => return Err(precondition()),
        Some(_) => {}
        None => {
            if let Some(t) = if_unmodified_since
                && modified > seconds(t)
            {
                return Err(precondition());
            }
        }
    }
    let not_modified = || {
        let mut e = S3Error::new(S3ErrorCode::NotModified);
        e.set_status_code(http::StatusCode::NOT_MODIFIED);
        e
    };
    match if_none_match {
        Some(c) if matches(c, o) => return Err(not_modified()),
        Some(_) => {}
        None => {
            if let Some(t) = if_modified_since
                && modified <= seconds(t)
            {
                return Err(not_modified());
            }
        }
    }
    Ok(())
}

fn format_expires(t: &Timestamp) -> Option<String> {
    let mut v = Vec::new();
    t.format(TimestampFormat::HttpDate, &mut v).ok()?;
    String::from_utf8(v).ok()
}

fn parse_expires(s: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, s).ok()
}

/// Metadata as a client sent it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn object_meta(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<&Timestamp>,
    metadata: Option<Metadata>,
) -> ObjectMeta {
    ObjectMeta {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires: expires.and_then(format_expires),
        user: metadata.unwrap_or_default().into_iter().collect(),
    }
}

fn checksum_mode(m: Option<&ChecksumMode>) -> bool {
    m.is_some_and(|m| m.as_str().eq_ignore_ascii_case("ENABLED"))
}

pub(crate) async fn put(
    ops: &Ops,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let trailers = Trailers::of(req.trailing_headers.clone(), &req.extensions);
    let headers = req.headers;
    let input = req.input;
    super::bucket::must_exist(ops, &input.bucket)?;
    if input.if_match.is_some() || input.if_none_match.is_some() {
        match ops.store.object(&input.bucket, &input.key) {
            Ok(o) => {
                if let Some(c) = &input.if_none_match
                    && matches(c, &o)
                {
                    return Err(err(
                        S3ErrorCode::PreconditionFailed,
                        "At least one of the pre-conditions you specified did not hold",
                    ));
                }
                if let Some(c) = &input.if_match
                    && !matches(c, &o)
                {
                    return Err(err(
                        S3ErrorCode::PreconditionFailed,
                        "At least one of the pre-conditions you specified did not hold",
                    ));
                }
            }
            Err(crate::store::StoreError::NoSuchKey { .. }) if input.if_match.is_some() => {
                return Err(err(
                    S3ErrorCode::NoSuchKey,
                    "The specified key does not exist.",
                ));
            }
            Err(crate::store::StoreError::NoSuchKey { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let given = Checksum {
        checksum_crc32: input.checksum_crc32,
        checksum_crc32c: input.checksum_crc32c,
        checksum_crc64nvme: input.checksum_crc64nvme,
        checksum_sha1: input.checksum_sha1,
        checksum_sha256: input.checksum_sha256,
        ..Default::default()
    };
    let expected = Expected::new(
        input.content_md5.as_deref(),
        given,
        input.checksum_algorithm.as_ref().map(|a| a.as_str()),
        &headers,
    )?;
    let meta = object_meta(
        input.content_type.map(|c| c.to_string()),
        input.content_encoding.filter(|e| e != "aws-chunked"),
        input.content_disposition,
        input.content_language,
        input.cache_control,
        input.expires.as_ref(),
        input.metadata,
    );
    let record = write_object(ops, input.body, &expected, &trailers, meta).await?;
    let record = ops
        .store
        .commit_object(&input.bucket, &input.key, record)
        .await?;
    let c = &record.checksums;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(etag(&record)),
        checksum_crc32: c.crc32.clone(),
        checksum_crc32c: c.crc32c.clone(),
        checksum_crc64nvme: c.crc64nvme.clone(),
        checksum_sha1: c.sha1.clone(),
        checksum_sha256: c.sha256.clone(),
        checksum_type: c.kind.clone().map(ChecksumType::from),
        size: Some(record.size as i64),
        ..Default::default()
    }))
}

/// Writes a body to a file and checks its digests; the uncommitted record.
pub(crate) async fn write_object(
    ops: &Ops,
    body: Option<StreamingBlob>,
    expected: &Expected,
    trailers: &Trailers,
    meta: ObjectMeta,
) -> Result<ObjectRecord, S3Error> {
    let written = match body {
        Some(b) => {
            ops.store
                .files
                .write(b, expected.algorithms, ops.max_object)
                .await?
        }
        None => {
            ops.store
                .files
                .write(
                    futures_util::stream::empty::<Result<bytes::Bytes, crate::store::StoreError>>(),
                    expected.algorithms,
                    ops.max_object,
                )
                .await?
        }
    };
    match expected.verify(&written, trailers) {
        Ok(checksums) => Ok(Store::record_for(&written, meta, checksums)),
        Err(e) => {
            ops.store.files.remove(&[written.file]).await;
            Err(e.into())
        }
    }
}

/// S3's answer to a part number past the object's parts (s3s has no code for it).
fn invalid_part_number() -> S3Error {
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("InvalidPartNumber".into()),
        "The requested partnumber is not satisfiable",
    );
    e.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
    e
}

/// The byte range of part `n` of an object (1-based), and the part count.
fn part_range(o: &ObjectRecord, n: i32) -> Option<std::ops::Range<u64>> {
    let i = usize::try_from(n).ok()?.checked_sub(1)?;
    let start: u64 = o.files.iter().take(i).map(|f| f.len).sum();
    Some(start..start + o.files.get(i)?.len)
}

pub(crate) async fn get(
    ops: &Ops,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    let o = ops.store.object(&input.bucket, &input.key)?;
    check_conditions(
        &o,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let (range, partial) = match (&input.range, input.part_number) {
        (Some(_), Some(_)) => {
            return Err(err(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        (Some(r), None) => match r.check(o.size) {
            // An empty range (a suffix range of an empty object) is not satisfiable.
            Ok(r) if r.start < r.end => (r, true),
            _ => {
                return Err(err(
                    S3ErrorCode::InvalidRange,
                    "The requested range is not satisfiable",
                ));
            }
        },
        (None, Some(n)) => match part_range(&o, n) {
            Some(r) => (r, o.files.len() > 1 || n != 1),
            None => {
                return Err(invalid_part_number());
            }
        },
        (None, None) => (0..o.size, false),
    };
    let body = ops.store.files.read(&o.files, range.clone()).await?;
    let mut out = describe(&o, checksum_mode(input.checksum_mode.as_ref()) && !partial);
    out.body = Some(StreamingBlob::wrap(body));
    out.content_length = Some((range.end - range.start) as i64);
    if partial {
        out.content_range = Some(format!(
            "bytes {}-{}/{}",
            range.start,
            range.end.saturating_sub(1),
            o.size
        ));
    }
    if input.part_number.is_some() {
        out.parts_count = Some(o.files.len() as i32);
    }
    if let Some(v) = input.response_content_type {
        out.content_type = Some(v);
    }
    if let Some(v) = input.response_content_disposition {
        out.content_disposition = Some(v);
    }
    if let Some(v) = input.response_content_encoding {
        out.content_encoding = Some(v);
    }
    if let Some(v) = input.response_content_language {
        out.content_language = Some(v);
    }
    if let Some(v) = input.response_cache_control {
        out.cache_control = Some(v);
    }
    if let Some(v) = input.response_expires {
        out.expires = Some(v);
    }
    Ok(S3Response::new(out))
}

/// The headers of an object (shared by GET and HEAD).
fn describe(o: &ObjectRecord, with_checksums: bool) -> GetObjectOutput {
    let m = &o.meta;
    let c = &o.checksums;
    let mut out = GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        e_tag: Some(etag(o)),
        last_modified: Some(timestamp(o.modified_ms)),
        content_length: Some(o.size as i64),
        content_type: Some(
            m.content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".to_owned()),
        ),
        content_encoding: m.content_encoding.clone(),
        content_disposition: m.content_disposition.clone(),
        content_language: m.content_language.clone(),
        cache_control: m.cache_control.clone(),
        expires: m.expires.as_deref().and_then(parse_expires),
        metadata: (!m.user.is_empty()).then(|| m.user.clone().into_iter().collect()),
        ..Default::default()
    };
    if with_checksums {
        out.checksum_crc32 = c.crc32.clone();
        out.checksum_crc32c = c.crc32c.clone();
        out.checksum_crc64nvme = c.crc64nvme.clone();
        out.checksum_sha1 = c.sha1.clone();
        out.checksum_sha256 = c.sha256.clone();
        out.checksum_type = c.kind.clone().map(ChecksumType::from);
    }
    out
}

pub(crate) async fn head(
    ops: &Ops,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    let o = ops.store.object(&input.bucket, &input.key)?;
    check_conditions(
        &o,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let d = describe(&o, checksum_mode(input.checksum_mode.as_ref()));
    let mut out = HeadObjectOutput {
        accept_ranges: d.accept_ranges,
        e_tag: d.e_tag,
        last_modified: d.last_modified,
        content_length: d.content_length,
        content_type: d.content_type,
        content_encoding: d.content_encoding,
        content_disposition: d.content_disposition,
        content_language: d.content_language,
        cache_control: d.cache_control,
        expires: d.expires,
        metadata: d.metadata,
        checksum_crc32: d.checksum_crc32,
        checksum_crc32c: d.checksum_crc32c,
        checksum_crc64nvme: d.checksum_crc64nvme,
        checksum_sha1: d.checksum_sha1,
        checksum_sha256: d.checksum_sha256,
        checksum_type: d.checksum_type,
        ..Default::default()
    };
    if let Some(r) = &input.range {
        match r.check(o.size) {
            Ok(r) => {
                out.content_length = Some((r.end - r.start) as i64);
                out.content_range = Some(format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    o.size
                ));
            }
            Err(_) => {
                return Err(err(
                    S3ErrorCode::InvalidRange,
                    "The requested range is not satisfiable",
                ));
            }
        }
    }
    if let Some(n) = input.part_number {
        let Some(r) = part_range(&o, n) else {
            return Err(invalid_part_number());
        };
        out.content_length = Some((r.end - r.start) as i64);
        out.parts_count = Some(o.files.len() as i32);
    }
    Ok(S3Response::new(out))
}

pub(crate) async fn delete(
    ops: &Ops,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    ops.store
        .delete_object(&req.input.bucket, &req.input.key)
        .await?;
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

pub(crate) async fn delete_many(
    ops: &Ops,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let input = req.input;
    if input.delete.objects.len() > 1000 {
        return Err(err(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let keys: Vec<String> = input.delete.objects.into_iter().map(|o| o.key).collect();
    ops.store
        .delete_objects(&input.bucket, keys.clone())
        .await?;
    let deleted = (!quiet).then(|| {
        keys.into_iter()
            .map(|k| DeletedObject {
                key: Some(k),
                ..Default::default()
            })
            .collect()
    });
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted,
        ..Default::default()
    }))
}

pub(crate) async fn copy(
    ops: &Ops,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let input = req.input;
    let CopySource::Bucket {
        bucket: src_bucket,
        key: src_key,
        ..
    } = &input.copy_source
    else {
        return Err(err(
            S3ErrorCode::InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        ));
    };
    let src = ops.store.object(src_bucket, src_key)?;
    let precondition = || {
        err(
            S3ErrorCode::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    check_conditions(
        &src,
        input.copy_source_if_match.as_ref(),
        input.copy_source_if_none_match.as_ref(),
        input.copy_source_if_modified_since.as_ref(),
        input.copy_source_if_unmodified_since.as_ref(),
    )
    // A copy answers every failed condition with 412.
    .map_err(|_| precondition())?;
    super::bucket::must_exist(ops, &input.bucket)?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    if !replace && **src_bucket == *input.bucket && **src_key == *input.key {
        return Err(err(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let meta = if replace {
        object_meta(
            input.content_type.map(|c| c.to_string()),
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires.as_ref(),
            input.metadata,
        )
    } else {
        src.meta.clone()
    };
    let files = ops.store.files.link(&src.files).await?;
    let record = ObjectRecord {
        size: src.size,
        etag: src.etag.clone(),
        modified_ms: crate::store::now_ms(),
        meta,
        checksums: if src.files.len() == 1 {
            src.checksums.clone()
        } else {
            Checksums::default()
        },
        files,
    };
    let record = ops
        .store
        .commit_object(&input.bucket, &input.key, record)
        .await?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(etag(&record)),
            last_modified: Some(timestamp(record.modified_ms)),
            checksum_crc32: record.checksums.crc32.clone(),
            checksum_crc32c: record.checksums.crc32c.clone(),
            checksum_crc64nvme: record.checksums.crc64nvme.clone(),
            checksum_sha1: record.checksums.sha1.clone(),
            checksum_sha256: record.checksums.sha256.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::records::FileRef;

    fn object(parts: &[u64]) -> ObjectRecord {
        ObjectRecord {
            size: parts.iter().sum(),
            etag: String::new(),
            modified_ms: 0,
            meta: ObjectMeta::default(),
            checksums: Checksums::default(),
            files: parts
                .iter()
                .map(|&len| FileRef {
                    id: String::new(),
                    len,
                })
                .collect(),
        }
    }

    #[test]
    fn part_numbers_address_their_byte_ranges() {
        let o = object(&[5, 3, 2]);
        assert_eq!(part_range(&o, 1), Some(0..5));
        assert_eq!(part_range(&o, 3), Some(8..10));
        assert_eq!(part_range(&o, 4), None);
        assert_eq!(part_range(&o, 0), None);
        assert_eq!(part_range(&o, -1), None);
    }

    proptest! {
        #[test]
        fn satisfiable_ranges_stay_inside_the_object(
            header in prop_oneof![
                (0u64..200, proptest::option::of(0u64..200)).prop_map(|(a, b)| match b {
                    Some(b) => format!("bytes={a}-{b}"),
                    None => format!("bytes={a}-"),
                }),
                (0u64..200).prop_map(|n| format!("bytes=-{n}")),
                "\\PC{0,20}",
            ],
            len in 0u64..150,
        ) {
            if let Ok(r) = Range::parse(&header)
                && let Ok(r) = r.check(len)
            {
                prop_assert!(r.start <= r.end && r.end <= len, "{header} of {len}: {r:?}");
                prop_assert!(r.start < r.end || len == 0, "{header} of {len}: {r:?}");
            }
        }
    }
}
