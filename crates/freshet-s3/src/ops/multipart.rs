// SPDX-License-Identifier: Apache-2.0
//! Multipart upload operations: create, upload part, complete, abort, list parts, list
//! uploads.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::Ops;
use super::checksums::{Expected, Trailers};
use super::error::err;
use super::object::{etag, object_meta, timestamp};
use crate::store::records::PartRecord;

/// S3's largest part number.
const MAX_PART: i32 = 10_000;

pub(crate) async fn create(
    ops: &Ops,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    let meta = object_meta(
        input.content_type.map(|c| c.to_string()),
        input.content_encoding,
        input.content_disposition,
        input.content_language,
        input.cache_control,
        input.expires.as_ref(),
        input.metadata,
    );
    let algorithm = input
        .checksum_algorithm
        .clone()
        .map(|a| a.as_str().to_owned());
    let id = ops
        .store
        .create_upload(&input.bucket, &input.key, meta, algorithm)
        .await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(id),
        checksum_algorithm: input.checksum_algorithm,
        ..Default::default()
    }))
}

pub(crate) async fn upload_part(
    ops: &Ops,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let trailers = Trailers::of(req.trailing_headers.clone(), &req.extensions);
    let headers = req.headers;
    let input = req.input;
    if !(1..=MAX_PART).contains(&input.part_number) {
        return Err(err(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    ops.store
        .upload(&input.bucket, &input.key, &input.upload_id)?;
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
    let record =
        super::object::write_object(ops, input.body, &expected, &trailers, Default::default())
            .await?;
    let mut files = record.files.into_iter();
    let Some(file) = files.next() else {
        return Err(err(
            S3ErrorCode::InternalError,
            "We encountered an internal error. Please try again.",
        ));
    };
    let part = PartRecord {
        file,
        md5: record.etag.clone(),
        modified_ms: record.modified_ms,
        checksums: record.checksums.clone(),
    };
    ops.store
        .commit_part(&input.bucket, &input.upload_id, input.part_number, part)
        .await?;
    let c = record.checksums;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(record.etag)),
        checksum_crc32: c.crc32,
        checksum_crc32c: c.crc32c,
        checksum_crc64nvme: c.crc64nvme,
        checksum_sha1: c.sha1,
        checksum_sha256: c.sha256,
        ..Default::default()
    }))
}

pub(crate) async fn complete(
    ops: &Ops,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = req.input;
    let parts = input
        .multipart_upload
        .and_then(|m| m.parts)
        .unwrap_or_default();
    if parts.is_empty() {
        return Err(err(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    let chosen: Vec<(i32, String)> = parts
        .into_iter()
        .map(|p| {
            (
                p.part_number.unwrap_or(0),
                p.e_tag.map(|e| e.value().to_owned()).unwrap_or_default(),
            )
        })
        .collect();
    let record = ops
        .store
        .complete_upload(&input.bucket, &input.key, &input.upload_id, chosen)
        .await?;
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        bucket: Some(input.bucket),
        key: Some(input.key),
        e_tag: Some(etag(&record)),
        ..Default::default()
    }))
}

pub(crate) async fn abort(
    ops: &Ops,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    ops.store
        .abort_upload(&input.bucket, &input.key, &input.upload_id)
        .await?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub(crate) async fn list_parts(
    ops: &Ops,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    ops.store
        .upload(&input.bucket, &input.key, &input.upload_id)?;
    let after = input.part_number_marker.unwrap_or(0);
    let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let all: Vec<(i32, PartRecord)> = ops
        .store
        .parts(&input.upload_id)?
        .into_iter()
        .filter(|(n, _)| *n > after)
        .collect();
    let truncated = all.len() > max;
    let parts: Vec<Part> = all
        .into_iter()
        .take(max)
        .map(|(n, p)| Part {
            part_number: Some(n),
            e_tag: Some(ETag::Strong(p.md5)),
            size: Some(p.file.len as i64),
            last_modified: Some(timestamp(p.modified_ms)),
            checksum_crc32: p.checksums.crc32,
            checksum_crc32c: p.checksums.crc32c,
            checksum_crc64nvme: p.checksums.crc64nvme,
            checksum_sha1: p.checksums.sha1,
            checksum_sha256: p.checksums.sha256,
        })
        .collect();
    let next = parts
        .last()
        .and_then(|p| p.part_number)
        .filter(|_| truncated);
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: next,
        max_parts: Some(max as i32),
        is_truncated: Some(truncated),
        parts: Some(parts),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        ..Default::default()
    }))
}

pub(crate) async fn list_uploads(
    ops: &Ops,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let input = req.input;
    ops.store.bucket(&input.bucket)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let mut uploads: Vec<MultipartUpload> = ops
        .store
        .uploads(&input.bucket)?
        .into_iter()
        .filter(|(_, u)| u.key.starts_with(&prefix))
        .map(|(id, u)| MultipartUpload {
            key: Some(u.key),
            upload_id: Some(id),
            initiated: Some(timestamp(u.initiated_ms)),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        })
        .collect();
    uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
    let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let truncated = uploads.len() > max;
    uploads.truncate(max);
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        uploads: Some(uploads),
        ..Default::default()
    }))
}
