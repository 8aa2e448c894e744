// SPDX-License-Identifier: Apache-2.0
//! The metadata store: streams, their shards and settings, in an embedded transactional
//! database (redb) at `<data>/meta.redb`.
//!
//! Key layout (all tables map UTF-8 string keys to JSON values):
//!
//! | table | key | value |
//! |---|---|---|
//! | `streams` | stream name | [`StreamRecord`] |
//! | `settings` | setting name | raw bytes (for example the iterator signing key) |
//!
//! Every write is one redb transaction committed with full durability, so a stream's metadata
//! is on disk before the API call that changed it is acknowledged. Metadata changes are rare
//! (control-plane calls); the data path never touches this store.

mod record;

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

pub use record::{
    ConsumerRecord, ConsumerStatus, ShardRecord, StreamMode, StreamRecord, StreamStatus,
};

const STREAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("streams");
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");

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
}
