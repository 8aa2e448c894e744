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
    /// SplitShard, MergeShards or UpdateShardCount on an ON_DEMAND stream.
    #[error("Request is invalid. Stream {stream} under account {account} is in On-Demand mode.")]
    OnDemandReshard {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// SplitShard with a key that would leave a child with fewer than two keys.
    #[error(
        "NewStartingHashKey {key} used in SplitShard() on shard {shard} in stream {stream} under \
         account {account} is not both greater than one plus the shard's StartingHashKey \
         {start} and less than the shard's EndingHashKey {end}."
    )]
    SplitKeyOutOfRange {
        /// The key as given.
        key: String,
        /// Shard to split.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// The shard's first key.
        start: u128,
        /// The shard's last key.
        end: u128,
    },
    /// SplitShard or MergeShards on a closed shard.
    #[error(
        "Shard {shard} in stream {stream} under account {account} has already been merged or \
         split, and thus is not eligible for merging or splitting."
    )]
    AlreadyResharded {
        /// The closed shard.
        shard: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// MergeShards with shards whose ranges do not meet (ShardToMerge must come first).
    #[error(
        "Shards {shard} and {adjacent} in stream {stream} under account {account} are not an \
         adjacent pair of shards eligible for merging"
    )]
    NotAdjacent {
        /// ShardToMerge.
        shard: ShardId,
        /// AdjacentShardToMerge.
        adjacent: ShardId,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// UpdateShardCount above twice the open shards.
    #[error(
        "UpdateShardCount cannot scale up over double your current open shard count. Current \
         open shard count: {current} Target shard count: {target}"
    )]
    ScaleUpTooFar {
        /// Open shards.
        current: u32,
        /// Target asked for.
        target: u32,
    },
    /// UpdateShardCount below half the open shards.
    #[error(
        "UpdateShardCount cannot scale down below half your current open shard count. Current \
         open shard count: {current} Target shard count: {target}"
    )]
    ScaleDownTooFar {
        /// Open shards.
        current: u32,
        /// Target asked for.
        target: u32,
    },
    /// UpdateShardCount above the per-stream maximum.
    #[error(
        "UpdateShardCount cannot scale up over {max} shards per stream. Target shard count: \
         {target}"
    )]
    TooManyShardsForScaling {
        /// Target asked for.
        target: u32,
        /// The maximum.
        max: u32,
    },
    /// An eleventh UpdateShardCount within 24 hours.
    #[error(
        "UpdateShardCount can be called at most {max} times per rolling 24-hour period for \
         stream {stream} under account {account}."
    )]
    TooManyScalings {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// Calls allowed per day.
        max: usize,
    },
    /// Storage failed in a way the caller cannot fix.
    #[error("Internal service failure: {0}")]
    Storage(String),
    /// No such enhanced fan-out consumer.
    #[error("Consumer {consumer}, account {account} not found.")]
    ConsumerNotFound {
        /// Consumer name (or the ARN, when it does not parse).
        consumer: String,
        /// Account id.
        account: String,
    },
    /// RegisterStreamConsumer with a name the stream already has.
    #[error("Consumer {consumer} under stream {stream} under account {account} already exists.")]
    ConsumerExists {
        /// Consumer name.
        consumer: String,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// RegisterStreamConsumer beyond the consumers-per-stream quota.
    #[error(
        "Stream {stream} under account {account} already has {limit} registered consumers, the \
         maximum allowed."
    )]
    ConsumerLimit {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// The quota.
        limit: usize,
    },
    /// RegisterStreamConsumer while too many registrations are still CREATING.
    #[error(
        "Rate exceeded for stream {stream} under account {account}: at most {limit} consumers can \
         be in CREATING status at once."
    )]
    ConsumersCreatingLimit {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// The quota.
        limit: usize,
    },
    /// A consumer that is not ACTIVE (SubscribeToShard).
    #[error("Consumer {consumer_arn} is not ACTIVE, instead in state {state}")]
    ConsumerNotActive {
        /// Consumer ARN.
        consumer_arn: String,
        /// Current status.
        state: &'static str,
    },
    /// Describe/DeregisterStreamConsumer with neither a ConsumerARN nor StreamARN+ConsumerName.
    #[error("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")]
    ConsumerUnnamed,
    /// A ConsumerARN that disagrees with the StreamARN or ConsumerName sent with it.
    #[error("ConsumerARN {consumer_arn} does not match {member} {value}.")]
    ConsumerArnMismatch {
        /// ConsumerARN given.
        consumer_arn: String,
        /// `StreamARN` or `ConsumerName`.
        member: &'static str,
        /// The disagreeing value.
        value: String,
    },
    /// DeleteStream of a stream with consumers, without EnforceConsumerDeletion.
    #[error(
        "Stream {stream} under account {account} has registered consumers. Deregister them or set \
         EnforceConsumerDeletion to true."
    )]
    StreamHasConsumers {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// SubscribeToShard again within five seconds of a successful call.
    #[error(
        "Another SubscribeToShard call for consumer {consumer_arn} on shard {shard} succeeded \
         less than 5 seconds ago."
    )]
    SubscriptionInUse {
        /// Consumer ARN.
        consumer_arn: String,
        /// Shard.
        shard: ShardId,
    },
    /// A subscription taken over by a newer SubscribeToShard call (sent mid-stream).
    #[error(
        "The subscription of consumer {consumer_arn} to shard {shard} was taken over by a newer \
         SubscribeToShard call."
    )]
    SubscriptionTakenOver {
        /// Consumer ARN.
        consumer_arn: String,
        /// Shard.
        shard: ShardId,
    },
    /// A tag key or value with a character outside AWS's tag alphabet.
    #[error(
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white \
         space, _ . / = + - % @."
    )]
    TagsInvalidCharacters,
    /// A tag with `%`: inside the documented alphabet, refused anyway (recorded AWS quirk).
    #[error(
        "Failed to {action} stream {stream} under account {account} because some tags contained \
         illegal characters. The allowed characters are Unicode letters, white-spaces, \
         '_',',','/','=','+','-','@'."
    )]
    TagsIllegalCharacters {
        /// `add tags to` or `remove tags from`.
        action: &'static str,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// More than 50 tags would result. The "10" is AWS's recorded text, kept verbatim.
    #[error(
        "Failed to add tags to stream {stream} under account {account} because a given stream \
         cannot have more than 10 tags associated with it."
    )]
    TooManyTags {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// Start/StopStreamEncryption with EncryptionType NONE.
    #[error("EncryptionType NONE is not valid for {operation}. The only valid value is KMS.")]
    EncryptionTypeNotKms {
        /// The operation called.
        operation: &'static str,
    },
    /// A KeyId in none of the forms KMS accepts.
    #[error(
        "Invalid KeyId {key}. Specify a KMS key ARN, an alias ARN, a key id (GUID), or an alias \
         name prefixed by \"alias/\"."
    )]
    InvalidKeyId {
        /// The value given.
        key: String,
    },
    /// The 25-per-rolling-24-hours quota of Start/StopStreamEncryption.
    #[error(
        "Rate exceeded for {operation} on stream {stream} under account {account}: at most \
         {limit} calls are allowed in a rolling 24-hour period."
    )]
    EncryptionRateLimit {
        /// The operation called.
        operation: &'static str,
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// The quota.
        limit: usize,
    },
    /// UpdateStreamMode to the mode the stream already has.
    #[error("Stream {stream} under account {account} is already in {mode} mode.")]
    StreamModeUnchanged {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
        /// The current mode.
        mode: &'static str,
    },
    /// The account's on-demand stream quota would be exceeded.
    #[error(
        "This request would exceed the on-demand stream count limit for the account {account} in \
         {region}. Current on-demand stream count for the account: {current}. Limit: {limit}."
    )]
    OnDemandStreamLimit {
        /// Account id.
        account: String,
        /// Region.
        region: String,
        /// On-demand streams now.
        current: u32,
        /// The quota.
        limit: u32,
    },
    /// Warm throughput for a stream that is not (becoming) on-demand.
    #[error(
        "Warm throughput is only supported for streams in ON_DEMAND mode; stream {stream} under \
         account {account} would be PROVISIONED."
    )]
    WarmThroughputNotOnDemand {
        /// Stream name.
        stream: String,
        /// Account id.
        account: String,
    },
    /// Warm throughput without the account's minimum throughput billing commitment.
    #[error(
        "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account \
         {account}. Enable it with UpdateAccountSettings."
    )]
    WarmThroughputNeedsCommitment {
        /// Account id.
        account: String,
    },
    /// Warm throughput above the per-stream maximum.
    #[error(
        "Requested warm throughput of {requested} MiB/s exceeds the limit of {limit} MiB/s for an \
         on-demand stream."
    )]
    WarmThroughputTooHigh {
        /// MiB/s asked for.
        requested: u32,
        /// The limit.
        limit: u32,
    },
    /// A resource policy that is not a JSON policy document.
    #[error("Invalid resource policy: {reason}")]
    InvalidPolicy {
        /// What is wrong with it.
        reason: String,
    },
    /// A resource policy over the size limit.
    #[error("Resource policy is {size} bytes, more than the maximum of {limit} bytes.")]
    PolicyTooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A shard's throughput quota is spent (only with `kinesis.shard_quotas` on).
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
            | Error::ShardUnparsable { .. }
            | Error::ConsumerNotFound { .. } => K::ResourceNotFound,
            Error::StreamExists { .. }
            | Error::StreamNotActive { .. }
            | Error::ConsumerExists { .. }
            | Error::ConsumerNotActive { .. }
            | Error::StreamHasConsumers { .. }
            | Error::SubscriptionInUse { .. }
            | Error::SubscriptionTakenOver { .. } => K::ResourceInUse,
            Error::ShardLimit { .. }
            | Error::ConsumerLimit { .. }
            | Error::ConsumersCreatingLimit { .. }
            | Error::EncryptionRateLimit { .. }
            | Error::OnDemandStreamLimit { .. }
            | Error::WarmThroughputTooHigh { .. }
            | Error::ScaleUpTooFar { .. }
            | Error::ScaleDownTooFar { .. }
            | Error::TooManyShardsForScaling { .. }
            | Error::TooManyScalings { .. } => K::LimitExceeded,
            Error::WarmThroughputNotOnDemand { .. }
            | Error::WarmThroughputNeedsCommitment { .. }
            | Error::OnDemandReshard { .. } => K::Validation,
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
            | Error::CreationTimestampMismatch { .. }
            | Error::SplitKeyOutOfRange { .. }
            | Error::AlreadyResharded { .. }
            | Error::NotAdjacent { .. }
            | Error::ConsumerUnnamed
            | Error::ConsumerArnMismatch { .. }
            | Error::TagsInvalidCharacters
            | Error::TagsIllegalCharacters { .. }
            | Error::TooManyTags { .. }
            | Error::EncryptionTypeNotKms { .. }
            | Error::InvalidKeyId { .. }
            | Error::StreamModeUnchanged { .. }
            | Error::InvalidPolicy { .. }
            | Error::PolicyTooLarge { .. } => K::InvalidArgument,
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
        let e = Error::TooManyShardsForScaling {
            target: 10_001,
            max: 10_000,
        };
        assert_eq!(
            e.to_string(),
            "UpdateShardCount cannot scale up over 10000 shards per stream. Target shard count: \
             10001"
        );
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        let e = Error::TooManyScalings {
            stream: "s".into(),
            account: "1".into(),
            max: 10,
        };
        assert_eq!(
            e.to_string(),
            "UpdateShardCount can be called at most 10 times per rolling 24-hour period for \
             stream s under account 1."
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
