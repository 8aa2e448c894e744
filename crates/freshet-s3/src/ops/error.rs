// SPDX-License-Identifier: Apache-2.0
//! Storage errors as S3 errors: one match, no catch-all.

use s3s::{S3Error, S3ErrorCode};

use crate::store::StoreError;

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> S3Error {
        let msg = e.to_string();
        let code = match &e {
            StoreError::NoSuchBucket { .. } => S3ErrorCode::NoSuchBucket,
            StoreError::NoSuchKey { .. } => S3ErrorCode::NoSuchKey,
            StoreError::BucketNotEmpty { .. } => S3ErrorCode::BucketNotEmpty,
            StoreError::BucketAlreadyOwnedByYou { .. } => S3ErrorCode::BucketAlreadyOwnedByYou,
            StoreError::NoSuchUpload { .. } => S3ErrorCode::NoSuchUpload,
            StoreError::InvalidPart { .. } => S3ErrorCode::InvalidPart,
            StoreError::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
            StoreError::EntityTooSmall { .. } => S3ErrorCode::EntityTooSmall,
            StoreError::TooLarge { .. } => S3ErrorCode::EntityTooLarge,
            StoreError::BadDigest { .. } => S3ErrorCode::BadDigest,
            StoreError::Body(_) => S3ErrorCode::IncompleteBody,
            StoreError::Timeout => S3ErrorCode::RequestTimeout,
            StoreError::Io(error) => {
                tracing::error!(%error, "S3 storage I/O failed.");
                S3ErrorCode::InternalError
            }
            StoreError::Meta(error) => {
                tracing::error!(%error, "S3 metadata failed.");
                S3ErrorCode::InternalError
            }
            StoreError::Internal(what) => {
                tracing::error!(what, "S3 internal error.");
                S3ErrorCode::InternalError
            }
        };
        let msg = match code {
            S3ErrorCode::InternalError => {
                "We encountered an internal error. Please try again.".to_owned()
            }
            _ => msg,
        };
        S3Error::with_message(code, msg)
    }
}

/// An error with AWS's code and message.
pub(crate) fn err(code: S3ErrorCode, msg: &'static str) -> S3Error {
    S3Error::with_message(code, msg)
}
