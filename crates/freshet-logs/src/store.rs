// SPDX-License-Identifier: Apache-2.0
//! Where CloudWatch Logs keeps its records in the metadata store, and where its events live.
//!
//! Tables (namespace `logs`, values JSON; also in `docs/FORMAT.md`):
//!
//! | table | key | value |
//! |---|---|---|
//! | `logs.groups` | group name | [`GroupRecord`] |
//! | `logs.streams` | `<group id:016x>/<stream name>` | [`StreamRecord`] |
//! | `logs.stream_stats` | `<stream id:016x>` | [`StatsRecord`] (written lazily, see below) |
//! | `logs.checkpoints` | `<group id:016x>` | [`CheckpointRecord`] |
//! | `logs.metric_filters` | `<group id:016x>/<filter name>` | [`MetricFilterRecord`] |
//! | `logs.subscription_filters` | `<group id:016x>/<filter name>` | [`crate::subscriptions::SubscriptionFilterRecord`] |
//! | `logs.subscription_cursors` | `<group id:016x>/<filter name>` | [`crate::subscriptions::CursorRecord`] |
//! | `logs.ids` | `next` | the next id to allocate, decimal text |
//!
//! Groups and streams get ids from one counter that never goes back, so a group or stream
//! re-created under an old name is a new incarnation: its log (groups) and its events
//! (streams, by the id in each event) are apart from the old one's.
//!
//! Events: one log per group, `logs/<group id:016x>`, one record per event (partition key:
//! the stream name; data: `codec.rs`; arrival time: the ingestion time).
//!
//! Statistics (first/last event time, last ingestion, bytes, counts) change with every
//! PutLogEvents, which must not commit metadata. They live in memory and a checkpoint writes
//! the changed ones with the group's applied log offset in one transaction, every
//! `checkpoint_interval` and at shutdown; recovery replays the log after that offset.

use std::collections::BTreeMap;

use freshet_log::{LogError, LogName};
use freshet_meta::{MetaError, Table, Txn, TxnExt};
use serde::{Deserialize, Serialize};

/// The Logs namespace, of tables and logs.
pub const NAMESPACE: &str = "logs";
/// Groups by name.
pub const GROUPS: Table = Table::new(NAMESPACE, "groups");
/// Streams by group id and name.
pub const STREAMS: Table = Table::new(NAMESPACE, "streams");
/// Stream statistics by stream id.
pub const STATS: Table = Table::new(NAMESPACE, "stream_stats");
/// Group checkpoints by group id.
pub const CHECKPOINTS: Table = Table::new(NAMESPACE, "checkpoints");
/// Metric filters by group id and filter name.
pub const METRIC_FILTERS: Table = Table::new(NAMESPACE, "metric_filters");
/// The id counter.
pub const IDS: Table = Table::new(NAMESPACE, "ids");
const NEXT_ID: &str = "next";

/// A log group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Incarnation id (names its log).
    pub id: u64,
    /// Name.
    pub name: String,
    /// CreateLogGroup time, ms.
    pub created_ms: i64,
    /// PutRetentionPolicy days; `None`: never expire.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// CreateLogGroup's kmsKeyId (stored and shown, not used).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// STANDARD, INFREQUENT_ACCESS or DELIVERY.
    pub class: String,
    /// Deletion protection.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A log stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Incarnation id (stored in each of its events).
    pub id: u64,
    /// Name.
    pub name: String,
    /// CreateLogStream time, ms.
    pub created_ms: i64,
}

/// A stream's statistics as of its group's checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRecord {
    /// Events stored.
    pub events: u64,
    /// Message bytes stored.
    pub bytes: u64,
    /// Smallest event timestamp (`firstEventTimestamp`).
    pub first_event_ms: Option<i64>,
    /// Largest event timestamp (`lastEventTimestamp`).
    pub last_event_ms: Option<i64>,
    /// Newest ingestion time (`lastIngestionTime`).
    pub last_ingestion_ms: Option<i64>,
}

/// What a group's checkpoint covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// Every record below this log offset is reflected in the stream statistics.
    pub applied: u64,
    /// Largest `timestamp - ingestion time` of any event (how far ahead events are).
    pub max_ahead_ms: i64,
    /// Largest `ingestion time - timestamp` of any event (how late events arrive).
    pub max_behind_ms: i64,
}

/// One metric transformation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformationRecord {
    /// metricName.
    pub metric_name: String,
    /// metricNamespace.
    pub metric_namespace: String,
    /// metricValue: a number or a field reference.
    pub metric_value: String,
    /// defaultValue.
    #[serde(default)]
    pub default_value: Option<f64>,
    /// Dimension name to field reference.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// unit.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilterRecord {
    /// filterName.
    pub name: String,
    /// filterPattern, as given.
    pub pattern: String,
    /// metricTransformations (exactly one).
    pub transformations: Vec<TransformationRecord>,
    /// Creation time, ms.
    pub created_ms: i64,
    /// applyOnTransformedLogs (stored only).
    #[serde(default)]
    pub apply_on_transformed_logs: bool,
    /// fieldSelectionCriteria (stored only).
    #[serde(default)]
    pub field_selection_criteria: Option<String>,
    /// emitSystemFieldDimensions (stored only).
    #[serde(default)]
    pub emit_system_field_dimensions: Vec<String>,
}

/// Key of a group-scoped row.
pub fn group_key(group_id: u64) -> String {
    format!("{group_id:016x}")
}

/// Key of a stream or filter row: `<group id>/<name>`.
pub fn child_key(group_id: u64, name: &str) -> String {
    format!("{group_id:016x}/{name}")
}

/// Key of a stats row.
pub fn stats_key(stream_id: u64) -> String {
    format!("{stream_id:016x}")
}

/// The log that holds a group's events.
pub fn log_name(group_id: u64) -> Result<LogName, LogError> {
    LogName::new(NAMESPACE, [format!("{group_id:016x}")])
}

/// Allocates the next id inside `txn`.
pub fn allocate_id(txn: &mut dyn Txn) -> Result<u64, MetaError> {
    let next = match txn.get(IDS, NEXT_ID)? {
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| MetaError::Corrupt {
                table: IDS.to_string(),
                key: NEXT_ID.to_owned(),
                reason: "not a decimal number".to_owned(),
            })?,
        None => 1,
    };
    txn.put(IDS, NEXT_ID, next.saturating_add(1).to_string().as_bytes())?;
    Ok(next)
}

/// Everything a group's recovery needs, read in one snapshot.
#[derive(Debug)]
pub struct LoadedGroup {
    /// The group.
    pub group: GroupRecord,
    /// Its streams, with their statistics as of the checkpoint.
    pub streams: Vec<(StreamRecord, StatsRecord)>,
    /// Its checkpoint, if one was ever written.
    pub checkpoint: Option<CheckpointRecord>,
    /// Its metric filters.
    pub filters: Vec<MetricFilterRecord>,
}

/// Reads every group with its streams, statistics, checkpoint and filters.
pub fn load_all(txn: &dyn Txn) -> Result<Vec<LoadedGroup>, MetaError> {
    let mut out = Vec::new();
    for (key, _) in txn.scan(GROUPS, "")? {
        let Some(group) = txn.get_json::<GroupRecord>(GROUPS, &key)? else {
            continue;
        };
        let prefix = format!("{}/", group_key(group.id));
        let mut streams = Vec::new();
        for (skey, _) in txn.scan(STREAMS, &prefix)? {
            let Some(stream) = txn.get_json::<StreamRecord>(STREAMS, &skey)? else {
                continue;
            };
            let stats = txn
                .get_json::<StatsRecord>(STATS, &stats_key(stream.id))?
                .unwrap_or_default();
            streams.push((stream, stats));
        }
        let checkpoint = txn.get_json(CHECKPOINTS, &group_key(group.id))?;
        let mut filters = Vec::new();
        for (fkey, _) in txn.scan(METRIC_FILTERS, &prefix)? {
            if let Some(f) = txn.get_json::<MetricFilterRecord>(METRIC_FILTERS, &fkey)? {
                filters.push(f);
            }
        }
        out.push(LoadedGroup {
            group,
            streams,
            checkpoint,
            filters,
        });
    }
    Ok(out)
}

/// Removes a group and everything that hangs off it.
pub fn delete_group(txn: &mut dyn Txn, group: &GroupRecord) -> Result<(), MetaError> {
    let prefix = format!("{}/", group_key(group.id));
    for (key, value) in txn.scan(STREAMS, &prefix)? {
        if let Ok(stream) = serde_json::from_slice::<StreamRecord>(&value) {
            txn.delete(STATS, &stats_key(stream.id))?;
        }
        txn.delete(STREAMS, &key)?;
    }
    for (key, _) in txn.scan(METRIC_FILTERS, &prefix)? {
        txn.delete(METRIC_FILTERS, &key)?;
    }
    crate::subscriptions::delete_group_rows(txn, group.id)?;
    txn.delete(CHECKPOINTS, &group_key(group.id))?;
    txn.delete(GROUPS, &group.name)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_streams_of_a_group_together() {
        assert_eq!(child_key(10, "a/b"), "000000000000000a/a/b");
        assert!(child_key(10, "z") < child_key(11, "a"));
        assert_eq!(log_name(255).unwrap().to_string(), "logs/00000000000000ff");
    }

    #[test]
    fn records_keep_their_json_shape() {
        let g = GroupRecord {
            id: 1,
            name: "g".into(),
            created_ms: 5,
            retention_days: Some(7),
            kms_key_id: None,
            class: "STANDARD".into(),
            deletion_protection: false,
            tags: BTreeMap::new(),
        };
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(
            json,
            r#"{"id":1,"name":"g","created_ms":5,"retention_days":7,"kms_key_id":null,"class":"STANDARD","deletion_protection":false,"tags":{}}"#
        );
        let minimal: GroupRecord =
            serde_json::from_str(r#"{"id":1,"name":"g","created_ms":5,"class":"STANDARD"}"#)
                .unwrap();
        assert_eq!(minimal.retention_days, None);
    }
}
