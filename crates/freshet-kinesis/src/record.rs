// SPDX-License-Identifier: Apache-2.0
//! Persisted metadata records. These are stored as JSON: add fields only with
//! `#[serde(default)]`, never rename or reuse one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A stream's lifecycle state, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamStatus {
    /// Being created; not yet readable or writable.
    Creating,
    /// Ready.
    Active,
    /// A change is being applied; reads and writes continue.
    Updating,
    /// Being deleted.
    Deleting,
}

impl StreamStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }
}

/// Capacity mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamMode {
    /// Fixed shard count.
    Provisioned,
    /// Shard count managed by the server.
    OnDemand,
}

impl StreamMode {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "PROVISIONED",
            StreamMode::OnDemand => "ON_DEMAND",
        }
    }
}

/// One shard of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// Index in `shardId-<index:012>`.
    pub index: u32,
    /// First hash key owned.
    pub hash_start: u128,
    /// Last hash key owned, inclusive.
    pub hash_end: u128,
    /// Parent shard index, after a split or merge.
    #[serde(default)]
    pub parent: Option<u32>,
    /// The other parent of a merge.
    #[serde(default)]
    pub adjacent_parent: Option<u32>,
    /// When the shard was created (ms since epoch).
    pub created_ms: i64,
    /// When the shard was closed by a reshard; `None` while open.
    #[serde(default)]
    pub closed_ms: Option<i64>,
    /// Once closed: the log's next offset at the moment it closed, so every record of the
    /// shard has a smaller offset (an empty closed shard has 0). Set in the same metadata write
    /// that closes the shard.
    #[serde(default)]
    pub ending_offset: Option<u64>,
    /// A closed shard whose every record has left the retention period: no longer listed,
    /// readable or on disk. Persisted so a later retention increase does not bring it back.
    #[serde(default)]
    pub expired: bool,
}

impl ShardRecord {
    /// Whether the shard still takes writes.
    pub fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }
}

/// A stream and everything known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Name, unique among live streams.
    pub name: String,
    /// Random number chosen at creation; part of every sequence number and of the data
    /// directory name, so a re-created stream shares nothing with its predecessor.
    pub incarnation: u64,
    /// Lifecycle state.
    pub status: StreamStatus,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Creation time (ms since epoch).
    pub created_ms: i64,
    /// Retention in hours.
    pub retention_hours: u32,
    /// Every shard, open and closed, in index order.
    pub shards: Vec<ShardRecord>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Largest record accepted, in KiB.
    #[serde(default = "default_max_record_kib")]
    pub max_record_size_kib: u32,
    /// When UpdateShardCount changed this stream (ms since epoch), for its quota of ten
    /// scalings per rolling 24 hours; entries older than a day are dropped on each call.
    #[serde(default)]
    pub scalings_ms: Vec<i64>,
    /// Enhanced fan-out consumers registered to the stream, in registration order.
    #[serde(default)]
    pub consumers: Vec<ConsumerRecord>,
    /// The KMS key of server-side encryption while it is on; `None` when off.
    #[serde(default)]
    pub encryption_key_id: Option<String>,
    /// Encryption changes that still matter to retained records, oldest first.
    #[serde(default)]
    pub encryption_changes: Vec<EncryptionChange>,
    /// When StartStreamEncryption calls applied a key (ms), for the rolling 24-hour quota.
    #[serde(default)]
    pub encryption_starts_ms: Vec<i64>,
    /// When StopStreamEncryption calls took effect (ms), for the rolling 24-hour quota.
    #[serde(default)]
    pub encryption_stops_ms: Vec<i64>,
    /// Enabled enhanced (shard-level) metrics, in model order.
    #[serde(default)]
    pub shard_level_metrics: Vec<String>,
    /// Warm throughput of an on-demand stream, once configured.
    #[serde(default)]
    pub warm_throughput: Option<WarmThroughput>,
    /// The resource-based policy document, as given.
    #[serde(default)]
    pub resource_policy: Option<String>,
}

/// One StartStreamEncryption or StopStreamEncryption: the setting it made and, per shard that
/// existed then, the first offset written under it. Records of a shard below its boundary
/// were written under the previous setting; shards created later were written entirely under
/// the newest setting before their creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionChange {
    /// When the change was made (ms since epoch).
    pub at_ms: i64,
    /// The KMS key from here on; `None` when encryption was stopped.
    pub key_id: Option<String>,
    /// Shard index → first offset written under this setting.
    pub shard_offsets: BTreeMap<u32, u64>,
}

/// Warm throughput of an on-demand stream (MiB/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmThroughput {
    /// What the stream is scaling to.
    pub target_mibps: u32,
    /// What it handles now; reaches the target when the UPDATING transition completes.
    pub current_mibps: u32,
}

/// An enhanced fan-out consumer's lifecycle state, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsumerStatus {
    /// Being registered; cannot subscribe yet.
    Creating,
    /// Ready for SubscribeToShard.
    Active,
    /// Being deregistered.
    Deleting,
}

impl ConsumerStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}

/// An enhanced fan-out consumer (RegisterStreamConsumer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerRecord {
    /// Name, unique among the stream's consumers.
    pub name: String,
    /// `<stream ARN>/consumer/<name>:<creation epoch seconds>`.
    pub arn: String,
    /// Lifecycle state.
    pub status: ConsumerStatus,
    /// Registration time (ms since epoch).
    pub created_ms: i64,
    /// Tags given at registration (and later by TagResource on the consumer ARN).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Resource policy document attached to the consumer ARN, if any.
    #[serde(default)]
    pub policy: Option<String>,
}

fn default_max_record_kib() -> u32 {
    1024
}
