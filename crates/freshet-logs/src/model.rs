// SPDX-License-Identifier: Apache-2.0
//! The values the [`crate::Logs`] handle takes and returns: requests already checked against
//! the model, and answers before they become DTOs.

use std::collections::BTreeMap;

use crate::put_rules::RejectedLogEventsInfo;

/// One event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEvent {
    /// When it happened, ms since the epoch.
    pub timestamp_ms: i64,
    /// The message (at least one character).
    pub message: String,
}

/// What PutLogEvents answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The deprecated `nextSequenceToken`.
    pub next_sequence_token: String,
    /// Which events were rejected.
    pub rejected: RejectedLogEventsInfo,
    /// How many events were stored.
    pub accepted: usize,
}

/// How a request names its log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// `logGroupName`.
    Name(String),
    /// `logGroupIdentifier`: a name or a log group ARN (with or without `:*`).
    Identifier(String),
}

impl GroupRef {
    /// From the two optional members; exactly one must be present.
    pub fn from_members(
        name: Option<String>,
        identifier: Option<String>,
    ) -> Result<GroupRef, crate::Error> {
        match (name, identifier) {
            (Some(_), Some(_)) => Err(crate::Error::NameAndIdentifier),
            (Some(n), None) => Ok(GroupRef::Name(n)),
            (None, Some(i)) => Ok(GroupRef::Identifier(i)),
            (None, None) => Err(crate::Error::NoGroupGiven),
        }
    }
}

/// CreateLogGroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGroup {
    /// logGroupName.
    pub name: String,
    /// kmsKeyId.
    pub kms_key_id: Option<String>,
    /// tags.
    pub tags: BTreeMap<String, String>,
    /// logGroupClass (default STANDARD).
    pub class: Option<String>,
    /// deletionProtectionEnabled.
    pub deletion_protection: bool,
}

/// A log group as DescribeLogGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_ms: i64,
    /// Retention, if set.
    pub retention_days: Option<u32>,
    /// Number of metric filters.
    pub metric_filter_count: usize,
    /// `arn:…:log-group:<name>:*`.
    pub arn: String,
    /// `arn:…:log-group:<name>`.
    pub group_arn: String,
    /// Bytes the group's log holds on disk (0 when it holds no event).
    pub stored_bytes: u64,
    /// kmsKeyId.
    pub kms_key_id: Option<String>,
    /// logGroupClass.
    pub class: String,
    /// deletionProtectionEnabled.
    pub deletion_protection: bool,
}

/// DescribeLogGroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGroups {
    /// logGroupNamePrefix.
    pub prefix: Option<String>,
    /// logGroupNamePattern (case-sensitive substring).
    pub pattern: Option<String>,
    /// logGroupIdentifiers (names or ARNs).
    pub identifiers: Option<Vec<String>>,
    /// logGroupClass.
    pub class: Option<String>,
    /// limit (1–50, default 50).
    pub limit: Option<usize>,
    /// nextToken.
    pub next_token: Option<String>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there may be one.
    pub next_token: Option<String>,
}

/// A log stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_ms: i64,
    /// Smallest event timestamp.
    pub first_event_ms: Option<i64>,
    /// Largest event timestamp.
    pub last_event_ms: Option<i64>,
    /// Newest ingestion time.
    pub last_ingestion_ms: Option<i64>,
    /// `arn:…:log-group:<group>:log-stream:<name>`.
    pub arn: String,
}

/// DescribeLogStreams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeStreams {
    /// The group.
    pub group: GroupRef,
    /// logStreamNamePrefix.
    pub prefix: Option<String>,
    /// orderBy = LastEventTime.
    pub by_last_event_time: bool,
    /// descending.
    pub descending: bool,
    /// limit (1–50, default 50).
    pub limit: Option<usize>,
    /// nextToken.
    pub next_token: Option<String>,
}

/// GetLogEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetEvents {
    /// The group.
    pub group: GroupRef,
    /// logStreamName.
    pub stream: String,
    /// startTime (inclusive).
    pub start_time: Option<i64>,
    /// endTime (exclusive).
    pub end_time: Option<i64>,
    /// nextToken.
    pub next_token: Option<String>,
    /// limit (1–10,000).
    pub limit: Option<usize>,
    /// startFromHead.
    pub start_from_head: bool,
}

/// An event GetLogEvents returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputEvent {
    /// timestamp.
    pub timestamp_ms: i64,
    /// message.
    pub message: String,
    /// ingestionTime.
    pub ingestion_ms: i64,
}

/// GetLogEvents' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsPage {
    /// Events, oldest first.
    pub events: Vec<OutputEvent>,
    /// nextForwardToken.
    pub next_forward_token: String,
    /// nextBackwardToken.
    pub next_backward_token: String,
}

/// Which streams FilterLogEvents (and Live Tail) looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSelection {
    /// Every stream.
    All,
    /// logStreamNames.
    Names(Vec<String>),
    /// logStreamNamePrefix (Live Tail: any of several prefixes).
    Prefixes(Vec<String>),
}

impl StreamSelection {
    /// Whether a stream of this name is selected.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            StreamSelection::All => true,
            StreamSelection::Names(names) => names.iter().any(|n| n == name),
            StreamSelection::Prefixes(prefixes) => prefixes.iter().any(|p| name.starts_with(p)),
        }
    }
}

/// FilterLogEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterEvents {
    /// The group.
    pub group: GroupRef,
    /// The streams.
    pub streams: StreamSelection,
    /// startTime (inclusive).
    pub start_time: Option<i64>,
    /// endTime (inclusive).
    pub end_time: Option<i64>,
    /// filterPattern.
    pub pattern: Option<String>,
    /// limit (1–10,000, default 10,000).
    pub limit: Option<usize>,
    /// nextToken.
    pub next_token: Option<String>,
}

/// An event FilterLogEvents returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredEvent {
    /// logStreamName.
    pub stream: String,
    /// timestamp.
    pub timestamp_ms: i64,
    /// message.
    pub message: String,
    /// ingestionTime.
    pub ingestion_ms: i64,
    /// eventId.
    pub event_id: String,
}

/// A metric filter as DescribeMetricFilters shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFilterInfo {
    /// The group.
    pub group: String,
    /// The filter.
    pub filter: crate::store::MetricFilterRecord,
}

/// DescribeMetricFilters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeMetricFilters {
    /// logGroupName.
    pub group: Option<String>,
    /// filterNamePrefix (only with a group).
    pub prefix: Option<String>,
    /// metricName.
    pub metric_name: Option<String>,
    /// metricNamespace.
    pub metric_namespace: Option<String>,
    /// limit (1–50, default 50).
    pub limit: Option<usize>,
    /// nextToken.
    pub next_token: Option<String>,
}
