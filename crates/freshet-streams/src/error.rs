// SPDX-License-Identifier: Apache-2.0
//! Domain errors. Each variant's `Display` is the exact message AWS sends for the situation
//! (see the message catalogue in the Kinesis reference), and [`Error::kind`] says which AWS
//! error it is; the wire layer maps kinds to `__type` names in one place.

use freshet_types::ShardId;

use crate::time::aws_date;

/// The AWS error family of an [`Error`].
///
/// Deliberately exhaustive: the wire layer matches it without a catch-all, so a new kind
/// cannot go out unmapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `ResourceInUseException`.
    ResourceInUse,
    /// `InvalidArgumentException`.
    InvalidArgument,
    /// `LimitExceededException`.
    LimitExceeded,
    /// `ExpiredIteratorException`.
    ExpiredIterator,
    /// `ExpiredNextTokenException`.
    ExpiredNextToken,
    /// `ValidationException`.
    Validation,
    /// `InternalFailure` (HTTP 500).
    InternalFailure,
    /// `ProvisionedThroughputExceededException`.
    ProvisionedThroughputExceeded,
}

/// Everything a stream operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such stream.
    #[error("Stream {stream} under account {account} not found.")]
    StreamNotFound {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// CreateStream for a name in use.
    #[error("Stream {stream} under account {account} already exists.")]
    StreamExists {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// A control-plane change while the stream is not ACTIVE.
    #[error("Stream {stream} under account {account} not ACTIVE, instead in state {state}")]
    StreamNotActive {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// Current status.
        state: &'static str,
    },
    /// No shard with this (parsed) id.
    #[error("Shard {shard} in stream {stream} under account {account} does not exist")]
    ShardNotFound {
        /// Canonical shard id.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// A shard id that does not parse.
    #[error("Could not find shard {raw} in stream {stream} under account {account}.")]
    ShardUnparsable {
        /// The id as given.
        raw: String,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// Neither StreamName nor StreamARN was given.
    #[error("Either StreamName or StreamARN must be provided.")]
    StreamUnnamed,
    /// StreamName and StreamARN name different streams.
    #[error("StreamARN {arn} does not match StreamName {stream}.")]
    StreamNameArnMismatch {
        /// Name given.
        stream: String,
        /// ARN given.
        arn: String,
    },
    /// The account's shard quota would be exceeded.
    #[error(
        "This request would exceed the shard limit for the account {account} in {region}. \
         Current shard count for the account: {current}. Limit: {limit}. Number of additional \
         shards that would have resulted from this request: {additional}. Refer to the AWS \
         Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) \
         for current limits and how to request higher limits."
    )]
    ShardLimit {
        /// Account id.
        account: String,
        /// Region.
        region: String,
        /// Open shards now.
        current: u32,
        /// The quota.
        limit: u32,
        /// Shards the request would add.
        additional: u32,
    },
    /// Retention below 24 hours.
    #[error(
        "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) \
         is too short."
    )]
    RetentionTooShort {
        /// Hours asked for.
        hours: i64,
    },
    /// Retention above 8760 hours.
    #[error(
        "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} \
         hours) is too long."
    )]
    RetentionTooLong {
        /// Hours asked for.
        hours: i64,
    },
    /// IncreaseStreamRetentionPeriod below the current value.
    #[error(
        "Requested retention period ({hours} hours) for stream {stream} can not be shorter than \
         existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
    )]
    RetentionIncreaseTooSmall {
        /// Hours asked for.
        hours: i64,
        /// Stream name.
        stream: String,
        /// Current retention.
        current: u32,
    },
    /// DecreaseStreamRetentionPeriod above the current value.
    #[error(
        "Requested retention period ({hours} hours) for stream {stream} can not be longer than \
         existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
    )]
    RetentionDecreaseTooLarge {
        /// Hours asked for.
        hours: i64,
        /// Stream name.
        stream: String,
        /// Current retention.
        current: u32,
    },
    /// ExplicitHashKey outside the key space.
    #[error(
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified \
         value was {value}"
    )]
    InvalidExplicitHashKey {
        /// The value given.
        value: String,
    },
    /// SequenceNumberForOrdering that this stream did not issue.
    #[error(
        "ExclusiveMinimumSequenceNumber {sequence} used in PutRecord on stream {stream} under \
         account {account} is invalid."
    )]
    InvalidSequenceForOrdering {
        /// The value given.
        sequence: String,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// A record larger than the stream's maximum record size.
    #[error(
        "Record size {size} bytes (data plus partition key) exceeds the maximum record size of \
         {max} bytes for stream {stream} under account {account}."
    )]
    RecordTooLarge {
        /// Data plus partition key bytes.
        size: usize,
        /// The stream's limit.
        max: usize,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// A PutRecords request over 10 MiB of data and keys.
    #[error("Records size exceeds 10 MB limit")]
    RequestTooLarge,
    /// A shard iterator that does not decode or verify.
    #[error("Invalid ShardIterator.")]
    InvalidIterator,
    /// A shard iterator older than five minutes.
    #[error(
        "Iterator expired. The iterator was created at time {} while right now it is {} which is \
         further in the future than the tolerated delay of {ttl_ms} milliseconds.",
        aws_date(*created_ms), aws_date(*now_ms)
    )]
    IteratorExpired {
        /// When it was issued.
        created_ms: i64,
        /// Now.
        now_ms: i64,
        /// Lifetime.
        ttl_ms: i64,
    },
    /// AT/AFTER_SEQUENCE_NUMBER without a number, or TRIM_HORIZON/LATEST/AT_TIMESTAMP with one.
    #[error(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
         StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
         Request specified {iterator_type} and {}.",
        if *has_sequence { "also a StartingSequenceNumber" } else { "no StartingSequenceNumber" }
    )]
    IteratorSequenceMismatch {
        /// The iterator type asked for.
        iterator_type: &'static str,
        /// Whether a StartingSequenceNumber was given.
        has_sequence: bool,
    },
    /// A StartingSequenceNumber this server could not have issued for the stream.
    #[error(
        "StartingSequenceNumber {sequence} used in GetShardIterator on shard {shard} in stream \
         {stream} under account {account} is invalid{}.",
        if *foreign { " because it did not come from this stream" } else { "" }
    )]
    InvalidStartingSequence {
        /// The value given.
        sequence: String,
        /// The shard asked for.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// Whether it decodes but belongs to another stream incarnation.
        foreign: bool,
    },
    /// A StartingSequenceNumber of another shard.
    #[error(
        "Invalid StartingSequenceNumber. It encodes {encodes}, while it was used in a call to a \
         shard with {used}"
    )]
    SequenceOfOtherShard {
        /// Shard the number belongs to.
        encodes: ShardId,
        /// Shard asked for.
        used: ShardId,
    },
    /// AT_TIMESTAMP without a Timestamp.
    #[error(
        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current \
         request has no timestamp parameter."
    )]
    TimestampMissing,
    /// AT_TIMESTAMP in the future.
    #[error(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. \
         timestampInMillis: {timestamp_ms}, currentTimestampInMillis: {now_ms}"
    )]
    TimestampInFuture {
        /// Timestamp asked for.
        timestamp_ms: i64,
        /// Now.
        now_ms: i64,
    },
    /// ListShards with NextToken and a stream.
    #[error("NextToken and StreamName cannot be provided together.")]
    NextTokenWithStream,
    /// ListShards with neither NextToken nor a stream.
    #[error("Either NextToken or StreamName should be provided.")]
    NextTokenOrStreamRequired,
    /// ListShards with NextToken and ShardFilter.
    #[error("NextToken and ShardFilter cannot be provided together.")]
    NextTokenWithShardFilter,
    /// ListShards with NextToken and ExclusiveStartShardId.
    #[error("NextToken and ExclusiveStartShardId cannot be provided together.")]
    NextTokenWithExclusiveStart,
    /// ListShards with NextToken and StreamCreationTimestamp.
    #[error("NextToken and StreamCreationTimestamp cannot be provided together.")]
    NextTokenWithCreationTimestamp,
    /// A ShardFilter that lacks a member its type needs.
    #[error("{0}")]
    InvalidShardFilter(&'static str),
    /// A NextToken that does not decode or verify.
    #[error("Invalid NextToken.")]
    InvalidNextToken,
    /// A NextToken older than five minutes.
    #[error("The NextToken has expired. NextToken values are valid for {ttl_ms} milliseconds.")]
    NextTokenExpired {
        /// Lifetime.
        ttl_ms: i64,
    },
    /// StreamCreationTimestamp that does not match the stream.
    #[error(
        "StreamCreationTimestamp {timestamp_ms} does not match the creation time of stream \
         {stream} under account {account}."
    )]
    CreationTimestampMismatch {
        /// Timestamp given.
        timestamp_ms: i64,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// The shard's log refuses writes after a storage failure.
    #[error(
        "Shard {shard} in stream {stream} is read-only after a storage failure ({reason}); \
         restart the server to recover."
    )]
    ShardReadOnly {
        /// Shard.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// What failed.
        reason: String,
    },
    /// Storage failed in a way the caller cannot fix.
    #[error("Internal service failure: {0}")]
    Storage(String),
    /// A shard's throughput quota is spent (only with `streams.shard_quotas` on).
    #[error("Rate exceeded for shard {shard} in stream {stream} under account {account}.")]
    ThroughputExceeded {
        /// Shard.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
}

impl Error {
    /// Which AWS error this is.
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            Error::StreamNotFound { .. }
            | Error::ShardNotFound { .. }
            | Error::ShardUnparsable { .. } => K::ResourceNotFound,
            Error::StreamExists { .. } | Error::StreamNotActive { .. } => K::ResourceInUse,
            Error::ShardLimit { .. } => K::LimitExceeded,
            Error::IteratorExpired { .. } => K::ExpiredIterator,
            Error::NextTokenExpired { .. } => K::ExpiredNextToken,
            Error::ShardReadOnly { .. } | Error::Storage(_) => K::InternalFailure,
            Error::ThroughputExceeded { .. } => K::ProvisionedThroughputExceeded,
            Error::StreamUnnamed
            | Error::StreamNameArnMismatch { .. }
            | Error::RetentionTooShort { .. }
            | Error::RetentionTooLong { .. }
            | Error::RetentionIncreaseTooSmall { .. }
            | Error::RetentionDecreaseTooLarge { .. }
            | Error::InvalidExplicitHashKey { .. }
            | Error::InvalidSequenceForOrdering { .. }
            | Error::RecordTooLarge { .. }
            | Error::RequestTooLarge
            | Error::InvalidIterator
            | Error::IteratorSequenceMismatch { .. }
            | Error::InvalidStartingSequence { .. }
            | Error::SequenceOfOtherShard { .. }
            | Error::TimestampMissing
            | Error::TimestampInFuture { .. }
            | Error::NextTokenWithStream
            | Error::NextTokenOrStreamRequired
            | Error::NextTokenWithShardFilter
            | Error::NextTokenWithExclusiveStart
            | Error::NextTokenWithCreationTimestamp
            | Error::InvalidShardFilter(_)
            | Error::InvalidNextToken
            | Error::CreationTimestampMismatch { .. } => K::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_aws_catalogue() {
        let e = Error::StreamNotFound {
            stream: "s".into(),
            account: "000000000000".into(),
        };
        assert_eq!(
            e.to_string(),
            "Stream s under account 000000000000 not found."
        );
        let e = Error::IteratorSequenceMismatch {
            iterator_type: "AT_SEQUENCE_NUMBER",
            has_sequence: false,
        };
        assert_eq!(
            e.to_string(),
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."
        );
        let e = Error::ShardNotFound {
            shard: ShardId(9),
            stream: "s".into(),
            account: "1".into(),
        };
        assert_eq!(
            e.to_string(),
            "Shard shardId-000000000009 in stream s under account 1 does not exist"
        );
        let e = Error::IteratorExpired {
            created_ms: 0,
            now_ms: 300_001,
            ttl_ms: 300_000,
        };
        assert_eq!(
            e.to_string(),
            "Iterator expired. The iterator was created at time Thu Jan 01 00:00:00 UTC 1970 while \
             right now it is Thu Jan 01 00:05:00 UTC 1970 which is further in the future than the \
             tolerated delay of 300000 milliseconds."
        );
        let e = Error::ThroughputExceeded {
            shard: ShardId(3),
            stream: "s".into(),
            account: "000000000000".into(),
        };
        assert_eq!(
            e.to_string(),
            "Rate exceeded for shard shardId-000000000003 in stream s under account 000000000000."
        );
        let e = Error::RetentionTooShort { hours: 23 };
        assert_eq!(
            e.to_string(),
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
        );
    }
}
