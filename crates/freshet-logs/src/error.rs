// SPDX-License-Identifier: Apache-2.0
//! What can go wrong in the Logs domain, with the text AWS answers.
//!
//! Texts marked AWS come from AWS-validated snapshots (LocalStack's test suite, recorded
//! against AWS): "The specified log group does not exist.", "…log stream does not exist.",
//! "The specified log group already exists" and "…log stream already exists" (no full stop),
//! "The specified nextToken is invalid.", the two "mutually exclusive parameters" texts and
//! "Invalid LogGroup or LogStream, both must have length less than or equal to 512.". The
//! others are ours, written to say what to do. [`crate::api::code_of`] maps each kind to its
//! wire code in one `match` without a catch-all.

use freshet_log::LogError;
use freshet_meta::MetaError;
use thiserror::Error;

use crate::filter::PatternError;
use crate::names::ValidationError;
use crate::put_rules::PutRulesError;

/// The AWS error code families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `ResourceAlreadyExistsException`.
    ResourceAlreadyExists,
    /// `InvalidParameterException`.
    InvalidParameter,
    /// `ValidationException`.
    Validation,
    /// `LimitExceededException`.
    LimitExceeded,
    /// `TooManyTagsException`.
    TooManyTags,
    /// `ServiceUnavailableException` (a 5xx fault).
    ServiceUnavailable,
}

/// A failed Logs operation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// No log group of that name (AWS text).
    #[error("The specified log group does not exist.")]
    GroupNotFound {
        /// The name asked for.
        group: String,
    },
    /// No log stream of that name in the group (AWS text).
    #[error("The specified log stream does not exist.")]
    StreamNotFound {
        /// The group.
        group: String,
        /// The stream asked for.
        stream: String,
    },
    /// CreateLogGroup of an existing name (AWS text).
    #[error("The specified log group already exists")]
    GroupExists {
        /// The name.
        group: String,
    },
    /// CreateLogStream of an existing name (AWS text).
    #[error("The specified log stream already exists")]
    StreamExists {
        /// The group.
        group: String,
        /// The stream.
        stream: String,
    },
    /// DeleteMetricFilter of a filter that does not exist.
    #[error("The specified metric filter does not exist.")]
    MetricFilterNotFound {
        /// The filter name.
        filter: String,
    },
    /// DeleteSubscriptionFilter of a filter the group does not have.
    #[error("The specified subscription filter does not exist.")]
    SubscriptionFilterNotFound,
    /// A third subscription filter on a group.
    #[error("Resource limit exceeded.")]
    SubscriptionFilterLimit,
    /// A subscription filter pattern that does not parse.
    #[error("Invalid subscription filter pattern")]
    SubscriptionFilterPattern {
        /// Why.
        source: PatternError,
    },
    /// A destination that is not one, or that refused the test message (AWS's texts).
    #[error("{message}")]
    SubscriptionDestination {
        /// The text.
        message: String,
    },
    /// A PutSubscriptionFilter member Freshet cannot honour.
    #[error("Freshet does not support {member} on subscription filters.")]
    SubscriptionUnsupported {
        /// The member.
        member: &'static str,
    },
    /// A resource ARN that names nothing Freshet has.
    #[error("The specified resource does not exist.")]
    ResourceArnNotFound {
        /// The ARN.
        arn: String,
    },
    /// A name or value outside the model's constraints.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A PutLogEvents batch that fails as a whole.
    #[error(transparent)]
    Batch(#[from] PutRulesError),
    /// A token that is not one we gave out, or belongs elsewhere (AWS text).
    #[error("The specified nextToken is invalid.")]
    InvalidNextToken,
    /// Both logGroupName and logGroupIdentifier (AWS text; a ValidationException).
    #[error("LogGroup name and LogGroup ARN are mutually exclusive parameters.")]
    NameAndIdentifier,
    /// Neither logGroupName nor logGroupIdentifier.
    #[error("Either logGroupName or logGroupIdentifier must be specified.")]
    NoGroupGiven,
    /// A logGroupIdentifier that is neither a group name nor a log group ARN of this account.
    #[error(
        "The log group identifier '{identifier}' is neither a log group name nor a log group ARN of this account and region."
    )]
    BadIdentifier {
        /// The identifier.
        identifier: String,
    },
    /// DescribeLogGroups with both a prefix and a pattern (AWS text).
    #[error("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")]
    PrefixAndPattern,
    /// FilterLogEvents with both stream names and a prefix.
    #[error("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")]
    StreamNamesAndPrefix,
    /// DescribeLogStreams ordered by time with a prefix (moto's text, after AWS's rule).
    #[error("Cannot order by LastEventTime with a logStreamNamePrefix.")]
    OrderByTimeWithPrefix,
    /// A filter pattern that does not parse (FilterLogEvents, TestMetricFilter, Live Tail).
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// PutMetricFilter's pattern does not parse (AWS's bare text).
    #[error("Invalid metric filter pattern")]
    MetricFilterPattern {
        /// Why, for the log.
        source: PatternError,
    },
    /// Dimensions on a pattern that extracts no fields.
    #[error(
        "The specified filter pattern does not support dimensions. Dimensions need a JSON or space-delimited pattern."
    )]
    DimensionsNotSupported,
    /// More than three dimensions.
    #[error("A metric filter can have at most 3 dimensions, but {count} were given.")]
    TooManyDimensions {
        /// Dimensions given.
        count: usize,
    },
    /// A metricValue that is neither a number nor a field the pattern extracts.
    #[error(
        "Invalid metric value '{value}': use a number or a field the filter pattern extracts (such as $.latency or $size)."
    )]
    MetricValue {
        /// The value.
        value: String,
    },
    /// A dimension value that is not a field the pattern extracts.
    #[error(
        "Invalid dimension value '{value}' for '{key}': dimension values must be fields the filter pattern extracts (such as $.user or $ip)."
    )]
    DimensionValue {
        /// The dimension name.
        key: String,
        /// The value.
        value: String,
    },
    /// DescribeMetricFilters with only one of metricName and metricNamespace.
    #[error("metricName and metricNamespace must be specified together.")]
    MetricNameWithoutNamespace,
    /// The group already has 100 metric filters.
    #[error("Resource limit exceeded.")]
    MetricFilterLimit,
    /// There are already as many log groups as configured.
    #[error("Resource limit exceeded.")]
    GroupLimit,
    /// A tag key or value outside the model's constraints.
    #[error("{reason}")]
    InvalidTag {
        /// Which constraint.
        reason: String,
    },
    /// Tagging would leave more than 50 tags.
    #[error("A resource can have no more than 50 tags.")]
    TooManyTags {
        /// The resource.
        arn: String,
    },
    /// Deleting a group with deletion protection.
    #[error(
        "Log group {group} has deletion protection enabled; disable it with PutLogGroupDeletionProtection before deleting the log group or its streams."
    )]
    DeletionProtected {
        /// The group.
        group: String,
    },
    /// StartLiveTail's stream filters with more than one group.
    #[error(
        "logStreamNames and logStreamNamePrefixes can only be used with exactly one log group."
    )]
    LiveTailStreamFilterWithGroups,
    /// StartLiveTail with both stream filters.
    #[error("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")]
    LiveTailBothStreamFilters,
    /// A StartLiveTail log group ARN that ends in `*`.
    #[error("The log group ARN '{arn}' must not end with '*'.")]
    LiveTailWildcardArn {
        /// The ARN.
        arn: String,
    },
    /// The metadata store failed.
    #[error("The metadata store failed: {0}")]
    Meta(#[from] MetaError),
    /// The log failed.
    #[error("The log storage failed: {0}")]
    Log(#[from] LogError),
    /// Work that ran off the async runtime did not finish.
    #[error("A background task failed: {0}")]
    Task(String),
}

impl Error {
    /// The AWS error family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::GroupNotFound { .. }
            | Error::StreamNotFound { .. }
            | Error::MetricFilterNotFound { .. }
            | Error::SubscriptionFilterNotFound
            | Error::ResourceArnNotFound { .. } => ErrorKind::ResourceNotFound,
            Error::GroupExists { .. } | Error::StreamExists { .. } => {
                ErrorKind::ResourceAlreadyExists
            }
            Error::Invalid(_)
            | Error::Batch(_)
            | Error::InvalidNextToken
            | Error::NoGroupGiven
            | Error::BadIdentifier { .. }
            | Error::PrefixAndPattern
            | Error::StreamNamesAndPrefix
            | Error::OrderByTimeWithPrefix
            | Error::Pattern(_)
            | Error::MetricFilterPattern { .. }
            | Error::DimensionsNotSupported
            | Error::TooManyDimensions { .. }
            | Error::MetricValue { .. }
            | Error::DimensionValue { .. }
            | Error::MetricNameWithoutNamespace
            | Error::InvalidTag { .. }
            | Error::LiveTailStreamFilterWithGroups
            | Error::LiveTailBothStreamFilters
            | Error::LiveTailWildcardArn { .. }
            | Error::SubscriptionFilterPattern { .. }
            | Error::SubscriptionDestination { .. }
            | Error::SubscriptionUnsupported { .. } => ErrorKind::InvalidParameter,
            Error::NameAndIdentifier | Error::DeletionProtected { .. } => ErrorKind::Validation,
            Error::MetricFilterLimit | Error::GroupLimit | Error::SubscriptionFilterLimit => {
                ErrorKind::LimitExceeded
            }
            Error::TooManyTags { .. } => ErrorKind::TooManyTags,
            Error::Meta(_) | Error::Log(_) | Error::Task(_) => ErrorKind::ServiceUnavailable,
        }
    }
}

/// Results of the Logs domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;
