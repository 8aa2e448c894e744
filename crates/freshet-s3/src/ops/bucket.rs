// SPDX-License-Identifier: Apache-2.0
//! Bucket operations: create, delete, head, list, location, encryption, tagging.

use std::collections::BTreeMap;

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::Ops;
use super::error::err;
use crate::names::valid_bucket_name;
use crate::store::StoreError;

fn timestamp(ms: u64) -> Timestamp {
    Timestamp::from(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

pub(crate) async fn create(
    ops: &Ops,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let input = req.input;
    if !valid_bucket_name(&input.bucket) {
        return Err(err(
            S3ErrorCode::InvalidBucketName,
            "The specified bucket is not valid.",
        ));
    }
    let region = input
        .create_bucket_configuration
        .and_then(|c| c.location_constraint)
        .map(|l| l.as_str().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| ops.region.clone());
    match ops.store.create_bucket(&input.bucket, &region).await {
        Ok(()) => {}
        // us-east-1 answers a repeated CreateBucket of one's own bucket with 200.
        Err(StoreError::BucketAlreadyOwnedByYou { .. }) if ops.region == "us-east-1" => {}
        Err(e) => return Err(e.into()),
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{}", input.bucket)),
    }))
}

pub(crate) async fn delete(
    ops: &Ops,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    ops.store.delete_bucket(&req.input.bucket).await?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}

pub(crate) async fn head(
    ops: &Ops,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    let b = ops.store.bucket(&req.input.bucket)?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(b.region),
        ..Default::default()
    }))
}

pub(crate) async fn list(
    ops: &Ops,
    _req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let buckets = ops
        .store
        .buckets()?
        .into_iter()
        .map(|(name, b)| Bucket {
            name: Some(name),
            creation_date: Some(timestamp(b.created_ms)),
            bucket_region: Some(b.region),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(super::owner()),
        ..Default::default()
    }))
}

pub(crate) async fn location(
    ops: &Ops,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    let b = ops.store.bucket(&req.input.bucket)?;
    // us-east-1 is the empty LocationConstraint.
    let constraint = (b.region != "us-east-1").then(|| BucketLocationConstraint::from(b.region));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: constraint,
    }))
}

pub(crate) async fn encryption(
    ops: &Ops,
    req: S3Request<GetBucketEncryptionInput>,
) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
    ops.store.bucket(&req.input.bucket)?;
    Err(err(
        S3ErrorCode::ServerSideEncryptionConfigurationNotFoundError,
        "The server side encryption configuration was not found",
    ))
}

pub(crate) async fn get_tagging(
    ops: &Ops,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    let b = ops.store.bucket(&req.input.bucket)?;
    let Some(tags) = b.tags else {
        return Err(err(S3ErrorCode::NoSuchTagSet, "The TagSet does not exist"));
    };
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: tags
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect(),
    }))
}

pub(crate) async fn put_tagging(
    ops: &Ops,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let input = req.input;
    let mut tags = BTreeMap::new();
    for t in input.tagging.tag_set {
        let (Some(k), Some(v)) = (t.key, t.value) else {
            return Err(err(
                S3ErrorCode::InvalidTag,
                "The tag provided was not a valid tag.",
            ));
        };
        if tags.insert(k, v).is_some() {
            return Err(err(
                S3ErrorCode::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    ops.store.set_bucket_tags(&input.bucket, Some(tags)).await?;
    Ok(S3Response::new(PutBucketTaggingOutput {}))
}

pub(crate) async fn delete_tagging(
    ops: &Ops,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    ops.store.set_bucket_tags(&req.input.bucket, None).await?;
    Ok(S3Response::new(DeleteBucketTaggingOutput {}))
}

/// A bucket that must exist before a body is read.
pub(crate) fn must_exist(ops: &Ops, bucket: &str) -> Result<(), S3Error> {
    ops.store.bucket(bucket).map(|_| ()).map_err(S3Error::from)
}
