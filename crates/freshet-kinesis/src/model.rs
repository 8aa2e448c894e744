// SPDX-License-Identifier: Apache-2.0
//! Inputs and outputs of stream operations, in domain terms. The wire layer converts its DTOs
//! to and from these.

use std::collections::BTreeMap;

use bytes::Bytes;
use freshet_types::{HashKeyRange, SequenceNumber, ShardId};

pub use crate::record::{StreamMode, StreamStatus};

/// How a request names a stream: by name, by ARN, or both (which must agree).
#[derive(Debug, Clone, Default)]
pub struct StreamRef {
    /// `StreamName`.
    pub name: Option<String>,
    /// `StreamARN`.
    pub arn: Option<String>,
}

impl StreamRef {
    /// A reference by name.
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            arn: None,
        }
    }
}

/// CreateStream.
#[derive(Debug, Clone)]
pub struct CreateStream {
    /// Name.
    pub name: String,
    /// Shard count; 4 when omitted.
    pub shard_count: Option<u32>,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Tags applied at creation.
    pub tags: BTreeMap<String, String>,
    /// Largest record, KiB.
    pub max_record_size_kib: Option<u32>,
    /// Warm throughput, MiB/s (ON_DEMAND streams of a committed account only).
    pub warm_throughput_mibps: Option<u32>,
}

/// A shard as DescribeStream and ListShards report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Id.
    pub id: ShardId,
    /// Parent after a reshard.
    pub parent: Option<ShardId>,
    /// Other parent after a merge.
    pub adjacent_parent: Option<ShardId>,
    /// Hash keys owned.
    pub hash_range: HashKeyRange,
    /// First sequence number.
    pub starting_sequence: SequenceNumber,
    /// Last sequence number, once closed.
    pub ending_sequence: Option<SequenceNumber>,
}

/// DescribeStream's answer.
#[derive(Debug, Clone)]
pub struct StreamDescription {
    /// Summary fields.
    pub summary: StreamSummary,
    /// One page of shards.
    pub shards: Vec<ShardInfo>,
    /// Whether more shards follow the page.
    pub has_more_shards: bool,
}

/// DescribeStreamSummary's answer; also the base of DescribeStream and ListStreams entries.
#[derive(Debug, Clone)]
pub struct StreamSummary {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: StreamStatus,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Retention in hours.
    pub retention_hours: u32,
    /// Creation time, ms since epoch.
    pub created_ms: i64,
    /// Open shards.
    pub open_shard_count: u32,
    /// Registered enhanced fan-out consumers.
    pub consumer_count: u32,
    /// Largest record, KiB.
    pub max_record_size_kib: u32,
    /// KMS key while server-side encryption is on.
    pub encryption_key_id: Option<String>,
    /// Enabled enhanced (shard-level) metrics.
    pub shard_level_metrics: Vec<String>,
    /// Warm throughput, once configured.
    pub warm_throughput: Option<crate::record::WarmThroughput>,
}

/// One page of ListStreams.
#[derive(Debug, Clone)]
pub struct StreamList {
    /// Streams on this page, in name order.
    pub streams: Vec<StreamSummary>,
    /// Whether more follow.
    pub has_more: bool,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// ListShards' ShardFilter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardFilter {
    /// Shards after this id.
    AfterShardId(String),
    /// Shards open at the trim horizon.
    AtTrimHorizon,
    /// All shards within retention (the default).
    FromTrimHorizon,
    /// Open shards only.
    AtLatest,
    /// Shards open at this time (ms).
    AtTimestamp(i64),
    /// Shards open at or after this time (ms).
    FromTimestamp(i64),
}

/// ListShards.
#[derive(Debug, Clone, Default)]
pub struct ListShards {
    /// Stream.
    pub stream: StreamRef,
    /// Pagination token.
    pub next_token: Option<String>,
    /// Start after this shard id.
    pub exclusive_start_shard_id: Option<String>,
    /// Page size.
    pub max_results: Option<u32>,
    /// Creation time to disambiguate a re-created stream (ms).
    pub stream_creation_ms: Option<i64>,
    /// Filter.
    pub filter: Option<ShardFilter>,
}

/// One page of ListShards.
#[derive(Debug, Clone)]
pub struct ShardList {
    /// Shards.
    pub shards: Vec<ShardInfo>,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// UpdateShardCount's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardCountUpdate {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: String,
    /// Open shards before the call.
    pub current: u32,
    /// Open shards asked for.
    pub target: u32,
}

/// One record to put.
#[derive(Debug, Clone, Copy)]
pub struct PutEntry<'a> {
    /// Payload.
    pub data: &'a [u8],
    /// Partition key.
    pub partition_key: &'a str,
    /// Hash key overriding the partition key's, already parsed.
    pub explicit_hash_key: Option<u128>,
}

/// Outcome of one PutRecords entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored.
    Stored {
        /// Shard it went to.
        shard: ShardId,
        /// Its sequence number.
        sequence: SequenceNumber,
        /// Whether it was written while server-side encryption was on.
        encrypted: bool,
    },
    /// Not stored; the error code is `InternalFailure` or
    /// `ProvisionedThroughputExceededException`.
    Failed {
        /// Error code.
        code: &'static str,
        /// Message.
        message: String,
    },
}

/// GetShardIterator's iterator type and its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IteratorStart {
    /// At this sequence number.
    AtSequence(String),
    /// Just after this sequence number.
    AfterSequence(String),
    /// Oldest retained record.
    TrimHorizon,
    /// Just after the newest record.
    Latest,
    /// First record at or after this time (ms).
    AtTimestamp(i64),
}

/// GetShardIterator.
#[derive(Debug, Clone)]
pub struct GetShardIterator {
    /// Stream.
    pub stream: StreamRef,
    /// Shard id as given.
    pub shard_id: String,
    /// Iterator type name as given (for messages).
    pub iterator_type: &'static str,
    /// Starting sequence number, if given.
    pub starting_sequence: Option<String>,
    /// Timestamp in ms, if given.
    pub timestamp_ms: Option<i64>,
}

/// A record read back.
#[derive(Debug, Clone)]
pub struct RecordOut {
    /// Sequence number.
    pub sequence: SequenceNumber,
    /// Arrival time, ms since epoch.
    pub arrival_ms: i64,
    /// Partition key.
    pub partition_key: String,
    /// Payload.
    pub data: Bytes,
    /// Whether it was written while server-side encryption was on.
    pub encrypted: bool,
}

/// PutRecord's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// Shard the record went to.
    pub shard: ShardId,
    /// Its sequence number.
    pub sequence: SequenceNumber,
    /// Whether it was written while server-side encryption was on.
    pub encrypted: bool,
}

/// GetRecords' answer.
#[derive(Debug, Clone)]
pub struct RecordsPage {
    /// Records in sequence order.
    pub records: Vec<RecordOut>,
    /// Iterator for the next call; `None` at the end of a closed shard.
    pub next_iterator: Option<String>,
    /// How far the last returned record is behind the shard's newest, in ms.
    pub millis_behind_latest: i64,
    /// Children of a closed shard, once its end is reached.
    pub child_shards: Vec<ChildShard>,
}

/// One page of a shard read by position ([`crate::Streams::read_shard`]).
#[derive(Debug, Clone)]
pub struct ShardRead {
    /// Records in sequence order.
    pub records: Vec<RecordOut>,
    /// Where the next read starts; `None` once a closed shard has been read to its end.
    pub next_offset: Option<u64>,
    /// How far the last returned record is behind the newest record, in ms.
    pub millis_behind_latest: i64,
    /// Children of a closed shard, on the page that reaches its end.
    pub child_shards: Vec<ChildShard>,
}

/// A child of a closed shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    /// Id.
    pub id: ShardId,
    /// Its parents.
    pub parents: Vec<ShardId>,
    /// Hash keys owned.
    pub hash_range: HashKeyRange,
}
