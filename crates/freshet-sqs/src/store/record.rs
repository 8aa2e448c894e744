// SPDX-License-Identifier: Apache-2.0
//! Where SQS keeps its records in the metadata store, and where its logs live.
//!
//! | table | key | value |
//! |---|---|---|
//! | `sqs.queues` | queue name | [`QueueRecord`] as JSON |
//! | `sqs.checkpoints` | `<name>.<incarnation:010>` | a [`crate::checkpoint::Checkpoint`] blob |
//! | `sqs.deleted` | queue name | deletion time (Unix ms) as JSON, for `QueueDeletedRecently` |
//! | `sqs.settings` | `receipt-key` | 32 random bytes: the HMAC key of receipt handles |
//! | `sqs.settings` | `next-incarnation` | u64 as JSON: the next queue incarnation |
//!
//! Logs: `sqs/<name>.<incarnation:010>/messages` (one record per message, see
//! [`crate::message`]) and `sqs/<name>.<incarnation:010>/journal` (one record per
//! [`crate::journal::JournalEntry`]). The incarnation keeps a re-created queue's data apart
//! from the old one's while that is being removed; a directory no queue record names is
//! removed at startup.

use std::collections::BTreeMap;

use freshet_log::{LogError, LogName};
use freshet_meta::Table;
use serde::{Deserialize, Serialize};

use crate::attributes::{ALL_NAMES, QueueAttributes};
use crate::error::Error;

/// The SQS namespace, of tables and logs.
pub(crate) const NAMESPACE: &str = "sqs";
/// Queue records by name.
pub(crate) const QUEUES: Table = Table::new(NAMESPACE, "queues");
/// Checkpoints by queue directory name.
pub(crate) const CHECKPOINTS: Table = Table::new(NAMESPACE, "checkpoints");
/// Deletion times by queue name.
pub(crate) const DELETED: Table = Table::new(NAMESPACE, "deleted");
/// Settings by name.
pub(crate) const SETTINGS: Table = Table::new(NAMESPACE, "settings");
/// Settings key of the receipt-handle key.
pub(crate) const RECEIPT_KEY: &str = "receipt-key";
/// Settings key of the incarnation counter.
pub(crate) const NEXT_INCARNATION: &str = "next-incarnation";

/// A queue as the metadata store keeps it. New fields must be `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueueRecord {
    /// Queue name.
    pub name: String,
    /// Distinguishes a re-created queue of the same name.
    pub incarnation: u64,
    /// CreatedTimestamp (ms).
    pub created_ms: i64,
    /// LastModifiedTimestamp (ms).
    pub modified_ms: i64,
    /// Every settable attribute as GetQueueAttributes shows it (see [`settings_of`]).
    pub attributes: BTreeMap<String, String>,
    /// Cost allocation tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl QueueRecord {
    /// The directory (log name part) of this incarnation's logs.
    pub fn dir(&self) -> String {
        dir_name(&self.name, self.incarnation)
    }

    /// The typed attributes.
    pub fn queue_attributes(&self) -> Result<QueueAttributes, Error> {
        QueueAttributes::for_create(&self.attributes)
    }
}

/// `<name>.<incarnation:010>`.
pub(crate) fn dir_name(name: &str, incarnation: u64) -> String {
    format!("{name}.{incarnation:010}")
}

/// The attributes to persist: every settable one with a value, so that
/// [`QueueAttributes::for_create`] rebuilds exactly the same attributes.
pub(crate) fn settings_of(attrs: &QueueAttributes) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in ALL_NAMES {
        if let Some(v) = attrs.setting(name) {
            out.insert(name.to_owned(), v);
        }
    }
    // Shown only with a KMS key, but kept either way.
    out.insert(
        "KmsDataKeyReusePeriodSeconds".to_owned(),
        attrs.kms_data_key_reuse_period_seconds.to_string(),
    );
    for read_only in [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "QueueArn",
    ] {
        out.remove(read_only);
    }
    out
}

/// The messages log of a queue directory.
pub(crate) fn messages_log(dir: &str) -> Result<LogName, LogError> {
    LogName::new(NAMESPACE, [dir, "messages"])
}

/// The journal log of a queue directory.
pub(crate) fn journal_log(dir: &str) -> Result<LogName, LogError> {
    LogName::new(NAMESPACE, [dir, "journal"])
}

/// The directory of a queue's logs.
pub(crate) fn queue_dir(dir: &str) -> Result<LogName, LogError> {
    LogName::new(NAMESPACE, [dir])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn persisted_settings_rebuild_the_same_attributes() {
        for given in [
            map(&[]),
            map(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
            map(&[
                ("KmsMasterKeyId", "alias/aws/sqs"),
                ("KmsDataKeyReusePeriodSeconds", "600"),
            ]),
            map(&[("KmsDataKeyReusePeriodSeconds", "600")]),
            map(&[
                ("FifoQueue", "true"),
                ("DeduplicationScope", "messageGroup"),
                ("FifoThroughputLimit", "perMessageGroupId"),
                ("DelaySeconds", "5"),
                ("VisibilityTimeout", "7"),
                ("Policy", "{\"Version\":\"2012-10-17\"}"),
                ("RedriveAllowPolicy", "{\"redrivePermission\":\"denyAll\"}"),
            ]),
        ] {
            let a = QueueAttributes::for_create(&given).expect("valid");
            let rebuilt = QueueAttributes::for_create(&settings_of(&a)).expect("rebuilds");
            assert_eq!(rebuilt, a, "{given:?}");
        }
    }

    #[test]
    fn queue_directories_are_safe_log_names() {
        let rec = QueueRecord {
            name: "orders-1_a.fifo".into(),
            incarnation: 7,
            created_ms: 0,
            modified_ms: 0,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
        };
        assert_eq!(rec.dir(), "orders-1_a.fifo.0000000007");
        assert!(messages_log(&rec.dir()).is_ok());
        assert!(journal_log(&rec.dir()).is_ok());
    }
}
