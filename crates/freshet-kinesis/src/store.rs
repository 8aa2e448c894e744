// SPDX-License-Identifier: Apache-2.0
//! Where Kinesis keeps its records in the metadata store, and where its logs live.
//!
//! | table | key | value |
//! |---|---|---|
//! | `kinesis.streams` | stream name | [`StreamRecord`] as JSON |
//! | `kinesis.settings` | setting name | raw bytes: `token-key` (the iterator signing key), `account` ([`AccountSettings`] as JSON) |
//!
//! Logs: `kinesis/<stream>.<incarnation:010>/shardId-<12>`, one per shard. The incarnation
//! keeps a re-created stream's data apart from the old one's while that is being removed.
//!
//! Stores written before namespaces had the tables `streams` and `settings`; [`migrate`]
//! moves them on open.

use freshet_log::{LogError, LogName};
use freshet_meta::{Meta, MetaError, Table};
use freshet_types::ShardId;

use crate::account_record::AccountSettings;
use crate::record::StreamRecord;

/// The Kinesis namespace, of tables and logs.
pub(crate) const NAMESPACE: &str = "kinesis";
/// Stream records by name.
pub(crate) const STREAMS: Table = Table::new(NAMESPACE, "streams");
/// Settings by name.
pub(crate) const SETTINGS: Table = Table::new(NAMESPACE, "settings");
/// Settings key of the account-level settings.
const ACCOUNT_KEY: &str = "account";
/// Settings key of the iterator signing key.
pub(crate) const TOKEN_KEY: &str = "token-key";

/// Moves the tables of stores written before namespaces into the Kinesis namespace.
pub(crate) fn migrate(meta: &Meta) -> Result<(), MetaError> {
    let streams = meta.migrate_legacy_table("streams", STREAMS)?;
    let settings = meta.migrate_legacy_table("settings", SETTINGS)?;
    if streams + settings > 0 {
        tracing::info!(
            streams,
            settings,
            "Moved Kinesis metadata into its namespace."
        );
    }
    Ok(())
}

/// Typed access to the Kinesis tables.
pub(crate) trait KinesisMeta {
    /// Every stream record, in name order.
    fn load_streams(&self) -> Result<Vec<StreamRecord>, MetaError>;
    /// Inserts or replaces a stream record, durably.
    fn put_stream(&self, rec: &StreamRecord) -> Result<(), MetaError>;
    /// Removes a stream record, durably.
    fn remove_stream(&self, name: &str) -> Result<(), MetaError>;
    /// The account-level settings; defaults when never set.
    fn account_settings(&self) -> Result<AccountSettings, MetaError>;
    /// Stores the account-level settings, durably.
    fn put_account_settings(&self, settings: &AccountSettings) -> Result<(), MetaError>;
}

impl KinesisMeta for Meta {
    fn load_streams(&self) -> Result<Vec<StreamRecord>, MetaError> {
        Ok(self
            .scan_json::<StreamRecord>(STREAMS, "")?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    fn put_stream(&self, rec: &StreamRecord) -> Result<(), MetaError> {
        self.put_json(STREAMS, &rec.name, rec)
    }

    fn remove_stream(&self, name: &str) -> Result<(), MetaError> {
        self.delete(STREAMS, name).map(|_| ())
    }

    fn account_settings(&self) -> Result<AccountSettings, MetaError> {
        Ok(self.get_json(SETTINGS, ACCOUNT_KEY)?.unwrap_or_default())
    }

    fn put_account_settings(&self, settings: &AccountSettings) -> Result<(), MetaError> {
        self.put_json(SETTINGS, ACCOUNT_KEY, settings)
    }
}

/// The log-name prefix of one incarnation of a stream.
pub(crate) fn stream_logs(name: &str, incarnation: u64) -> Result<LogName, LogError> {
    LogName::new(NAMESPACE, [format!("{name}.{incarnation:010}")])
}

/// The log of a shard under its stream's prefix.
pub(crate) fn shard_log(stream: &LogName, id: ShardId) -> Result<LogName, LogError> {
    stream.child(id.to_string())
}
