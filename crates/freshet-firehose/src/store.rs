// SPDX-License-Identifier: Apache-2.0
//! What Firehose keeps in the metadata store, and the names of its logs.
//!
//! - `firehose.streams`: one [`StreamRecord`] per delivery stream, keyed by name.
//! - `firehose.checkpoints`: one [`Checkpoint`] per delivery stream, keyed by the stream's
//!   id: written after each delivered object (one commit per object, never per record).
//! - Logs `firehose/<id>`: the DirectPut records of one stream. The id is allocated at
//!   creation, so a stream deleted and created again under the same name starts a new log.

use std::collections::BTreeMap;

use freshet_log::LogName;
use freshet_meta::Table;
use serde::{Deserialize, Serialize};

use crate::model::Destination;

/// The namespace of Firehose's tables and logs.
pub const NAMESPACE: &str = "firehose";
/// Delivery streams by name.
pub const STREAMS: Table = Table::new(NAMESPACE, "streams");
/// Delivery checkpoints by stream id.
pub const CHECKPOINTS: Table = Table::new(NAMESPACE, "checkpoints");

/// `DeliveryStreamStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// `CREATING`.
    Creating,
    /// `ACTIVE`.
    Active,
    /// `DELETING`.
    Deleting,
}

impl Status {
    /// The model's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Deleting => "DELETING",
        }
    }
}

/// `DeliveryStreamType` (the two Freshet serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// `DirectPut`.
    DirectPut,
    /// `KinesisStreamAsSource`.
    KinesisStreamAsSource,
}

impl SourceKind {
    /// The model's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::DirectPut => "DirectPut",
            SourceKind::KinesisStreamAsSource => "KinesisStreamAsSource",
        }
    }
}

/// `KinesisStreamSourceConfiguration` as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KinesisSource {
    /// The source stream's ARN.
    pub stream_arn: String,
    /// The role (echoed).
    pub role_arn: String,
    /// When delivery started reading (ms).
    pub start_ms: i64,
}

/// Server-side encryption of the stream (bookkeeping only: the log is not encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `KeyType`.
    pub key_type: Option<String>,
    /// `KeyARN`.
    pub key_arn: Option<String>,
    /// `Status`: ENABLED, ENABLING, DISABLED, DISABLING.
    pub status: String,
}

/// One delivery stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// `DeliveryStreamName`.
    pub name: String,
    /// The id its log and checkpoint are keyed by.
    pub id: String,
    /// `DeliveryStreamARN`.
    pub arn: String,
    /// The source type.
    pub source: SourceKind,
    /// `ThroughputHintInMBs` of a DirectPut source, if given.
    #[serde(default)]
    pub throughput_hint: Option<i64>,
    /// The Kinesis source, for `KinesisStreamAsSource`.
    #[serde(default)]
    pub kinesis: Option<KinesisSource>,
    /// The status.
    pub status: Status,
    /// `CreateTimestamp` (ms).
    pub created_ms: i64,
    /// `LastUpdateTimestamp` (ms).
    pub updated_ms: i64,
    /// `VersionId`, from 1, +1 per UpdateDestination; part of object names.
    pub version: u64,
    /// `DestinationId`.
    pub destination_id: String,
    /// The destination as configured.
    pub destination: Destination,
    /// Encryption bookkeeping.
    pub encryption: Encryption,
    /// Start/StopDeliveryStreamEncryption calls of the last 24 h (ms), for AWS's limit of 25.
    #[serde(default)]
    pub encryption_calls: Vec<i64>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl StreamRecord {
    /// The log of its DirectPut records.
    pub fn log_name(&self) -> Result<LogName, freshet_log::LogError> {
        LogName::new(NAMESPACE, [self.id.as_str()])
    }
}

/// Where delivery of a stream stands: every record below `next_offset` (DirectPut log) or at
/// or before the shard positions (Kinesis source) is in the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// First undelivered offset of the DirectPut log.
    pub next_offset: u64,
    /// Kinesis source: the reader id whose commits carry the positions.
    #[serde(default)]
    pub reader: Option<String>,
}
