// SPDX-License-Identifier: Apache-2.0
//! Kinesis limits, in one place, with the AWS documentation as the source.
//!
//! See <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>.

/// Longest stream or consumer name.
pub const MAX_STREAM_NAME_LEN: usize = 128;
/// Longest partition key, in Unicode scalar values.
pub const MAX_PARTITION_KEY_LEN: usize = 256;
/// Default largest record (data plus partition key), 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Largest record any stream may be configured for (MaxRecordSizeInKiB = 10240).
pub const MAX_RECORD_BYTES_LIMIT: usize = 10 * 1024 * 1024;
/// Most entries in one PutRecords call.
pub const MAX_PUT_RECORDS_ENTRIES: usize = 500;
/// Largest PutRecords request (sum of data and partition keys), 10 MiB.
pub const MAX_PUT_RECORDS_BYTES: usize = 10 * 1024 * 1024;
/// Most records one GetRecords call returns.
pub const MAX_GET_RECORDS_LIMIT: u32 = 10_000;
/// Most data one GetRecords call returns, 10 MiB.
pub const MAX_GET_RECORDS_BYTES: usize = 10 * 1024 * 1024;
/// Shard iterators expire this long after they are issued.
pub const ITERATOR_TTL_MS: i64 = 300_000;
/// Retention bounds and default, in hours.
pub const MIN_RETENTION_HOURS: u32 = 24;
/// Longest retention, 365 days.
pub const MAX_RETENTION_HOURS: u32 = 8760;
/// Retention a stream gets at creation.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;
/// Shards a stream gets when CreateStream names no ShardCount, and an on-demand stream starts with.
pub const DEFAULT_SHARD_COUNT: u32 = 4;
/// DescribeStream page size default and maximum.
pub const DESCRIBE_STREAM_MAX_SHARDS: u32 = 100;
/// ListStreams page size default and maximum.
pub const LIST_STREAMS_MAX: u32 = 100;
/// ListShards page size default and maximum.
pub const LIST_SHARDS_MAX: u32 = 1000;
/// NextToken values expire this long after they are issued.
pub const NEXT_TOKEN_TTL_MS: i64 = 300_000;
/// Highest shard index a shard id may parse to.
pub const MAX_SHARD_INDEX: u32 = i32::MAX as u32;
