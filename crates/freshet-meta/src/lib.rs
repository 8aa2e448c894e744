// SPDX-License-Identifier: Apache-2.0
//! The metadata store: streams, their shards and settings, in an embedded transactional
//! database (redb) at `<data>/meta.redb`.
//!
//! Key layout (all tables map UTF-8 string keys to JSON values):
//!
//! | table | key | value |
//! |---|---|---|
//! | `streams` | stream name | [`StreamRecord`] |
//! | `settings` | setting name | raw bytes (for example the iterator signing key, or the JSON [`AccountSettings`] under `account`) |
//!
//! Every write is one redb transaction committed with full durability, so a stream's metadata
//! is on disk before the API call that changed it is acknowledged. Metadata changes are rare
//! (control-plane calls); the data path never touches this store.

mod account;
mod record;

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

pub use account::{AccountSettings, Commitment, CommitmentStatus};
pub use record::{
    ConsumerRecord, ConsumerStatus, EncryptionChange, ShardRecord, StreamMode, StreamRecord,
    StreamStatus, WarmThroughput,
};

const STREAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("streams");
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// Settings key of the account-level settings.
const ACCOUNT_KEY: &str = "account";

/// Why a metadata operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The database could not be opened, read or written.
    #[error("metadata store: {0}")]
    Db(String),
    /// The store was closed at shutdown.
    #[error("metadata store is closed: the server is shutting down")]
    Closed,
    /// A stored value could not be decoded.
    #[error("metadata record {key:?} is corrupt: {source}")]
    Corrupt {
        /// Key of the record.
        key: String,
        /// Decoding error.
        source: serde_json::Error,
    },
}

fn db_err(e: impl std::fmt::Display) -> MetaError {
    MetaError::Db(e.to_string())
}

/// The metadata store of one data directory.
#[derive(Debug)]
pub struct Meta {
    db: Database,
}

impl Meta {
    /// Opens (creating if missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Meta, MetaError> {
        let db = Database::create(path).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        {
            tx.open_table(STREAMS).map_err(db_err)?;
            tx.open_table(SETTINGS).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(Meta { db })
    }

    /// Every stream record, in name order.
    pub fn load_streams(&self) -> Result<Vec<StreamRecord>, MetaError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(STREAMS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let rec = serde_json::from_slice(v.value()).map_err(|source| MetaError::Corrupt {
                key: k.value().to_owned(),
                source,
            })?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Inserts or replaces a stream record, durably.
    pub fn put_stream(&self, rec: &StreamRecord) -> Result<(), MetaError> {
        let bytes = serde_json::to_vec(rec).map_err(db_err)?;
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = tx.open_table(STREAMS).map_err(db_err)?;
            table
                .insert(rec.name.as_str(), bytes.as_slice())
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Removes a stream record, durably. Removing a missing record is not an error.
    pub fn remove_stream(&self, name: &str) -> Result<(), MetaError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = tx.open_table(STREAMS).map_err(db_err)?;
            table.remove(name).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// The setting `name`, if it was ever stored.
    pub fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, MetaError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(SETTINGS).map_err(db_err)?;
        let value = table.get(name).map_err(db_err)?.map(|v| v.value().to_vec());
        Ok(value)
    }

    /// Inserts or replaces the setting `name`, durably.
    pub fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), MetaError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = tx.open_table(SETTINGS).map_err(db_err)?;
            table.insert(name, value).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// The account-level settings (stored as JSON under `account`); defaults when never set.
    pub fn account_settings(&self) -> Result<AccountSettings, MetaError> {
        match self.setting(ACCOUNT_KEY)? {
            None => Ok(AccountSettings::default()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|source| MetaError::Corrupt {
                key: ACCOUNT_KEY.to_owned(),
                source,
            }),
        }
    }

    /// Stores the account-level settings, durably.
    pub fn put_account_settings(&self, settings: &AccountSettings) -> Result<(), MetaError> {
        let bytes = serde_json::to_vec(settings).map_err(db_err)?;
        self.put_setting(ACCOUNT_KEY, &bytes)
    }

    /// The setting `name`, creating it with `init()` if it does not exist yet.
    pub fn setting_or_init(
        &self,
        name: &str,
        init: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>, MetaError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        let value = {
            let mut table = tx.open_table(SETTINGS).map_err(db_err)?;
            let existing = table.get(name).map_err(db_err)?.map(|v| v.value().to_vec());
            match existing {
                Some(v) => v,
                None => {
                    let v = init();
                    table.insert(name, v.as_slice()).map_err(db_err)?;
                    v
                }
            }
        };
        tx.commit().map_err(db_err)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn sample(name: &str) -> StreamRecord {
        StreamRecord {
            name: name.to_owned(),
            incarnation: 42,
            status: StreamStatus::Active,
            mode: StreamMode::Provisioned,
            created_ms: 1_700_000_000_000,
            retention_hours: 24,
            shards: vec![ShardRecord {
                index: 0,
                hash_start: 0,
                hash_end: u128::MAX,
                parent: None,
                adjacent_parent: None,
                created_ms: 1_700_000_000_000,
                closed_ms: None,
                ending_offset: None,
                expired: false,
            }],
            tags: BTreeMap::new(),
            max_record_size_kib: 1024,
            scalings_ms: Vec::new(),
            consumers: Vec::new(),
            encryption_key_id: Some("alias/aws/kinesis".to_owned()),
            encryption_changes: vec![EncryptionChange {
                at_ms: 1_700_000_000_500,
                key_id: Some("alias/aws/kinesis".to_owned()),
                shard_offsets: BTreeMap::from([(0, 7)]),
            }],
            encryption_starts_ms: vec![1_700_000_000_500],
            encryption_stops_ms: Vec::new(),
            shard_level_metrics: vec!["IncomingBytes".to_owned()],
            warm_throughput: Some(WarmThroughput {
                target_mibps: 100,
                current_mibps: 100,
            }),
            resource_policy: Some("{}".to_owned()),
        }
    }

    #[test]
    fn records_written_before_consumers_existed_still_load() {
        // (Text, not serde_json::Value: the hash keys are u128, beyond Value's numbers.)
        let text = serde_json::to_string(&sample("old")).expect("json");
        let old = text.replace(",\"consumers\":[]", "");
        assert_ne!(old, text, "the field was removed");
        let rec: StreamRecord = serde_json::from_str(&old).expect("old record loads");
        assert!(rec.consumers.is_empty());
    }

    #[test]
    fn consumers_round_trip() {
        let mut rec = sample("c");
        rec.consumers.push(ConsumerRecord {
            name: "app".into(),
            arn: "arn:aws:kinesis:us-east-1:000000000000:stream/c/consumer/app:1".into(),
            status: ConsumerStatus::Creating,
            created_ms: 1_000,
            tags: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
            policy: Some("{}".into()),
        });
        let bytes = serde_json::to_vec(&rec).expect("encode");
        let back: StreamRecord = serde_json::from_slice(&bytes).expect("decode");
        assert_eq!(back, rec);
    }

    #[test]
    fn records_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.redb");
        {
            let meta = Meta::open(&path).expect("open");
            meta.put_stream(&sample("a")).expect("put");
            meta.put_stream(&sample("b")).expect("put");
            meta.remove_stream("a").expect("remove");
            meta.setting_or_init("key", || vec![1, 2, 3]).expect("init");
        }
        let meta = Meta::open(&path).expect("reopen");
        let streams = meta.load_streams().expect("load");
        assert_eq!(streams, vec![sample("b")]);
        assert_eq!(
            meta.setting_or_init("key", || vec![9]).expect("get"),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn records_written_before_the_control_fields_still_load() {
        let old = r#"{"name":"s","incarnation":1,"status":"ACTIVE","mode":"PROVISIONED",
            "created_ms":5,"retention_hours":24,"shards":[]}"#;
        let rec: StreamRecord = serde_json::from_str(old).expect("old record loads");
        assert_eq!(rec.max_record_size_kib, 1024);
        assert_eq!(rec.encryption_key_id, None);
        assert!(rec.encryption_changes.is_empty());
        assert!(rec.shard_level_metrics.is_empty());
        assert_eq!(rec.warm_throughput, None);
        assert_eq!(rec.resource_policy, None);
    }

    #[test]
    fn account_settings_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.redb");
        let settings = AccountSettings {
            commitment: Commitment {
                status: CommitmentStatus::Enabled,
                started_ms: Some(10),
                ended_ms: None,
                earliest_allowed_end_ms: Some(20),
            },
        };
        {
            let meta = Meta::open(&path).expect("open");
            assert_eq!(
                meta.account_settings().expect("defaults"),
                AccountSettings::default()
            );
            meta.put_account_settings(&settings).expect("put");
        }
        let meta = Meta::open(&path).expect("reopen");
        assert_eq!(meta.account_settings().expect("load"), settings);
    }
}
