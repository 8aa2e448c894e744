// SPDX-License-Identifier: Apache-2.0
//! The metadata store: small, transactional, durable key-value tables that services keep
//! their records in (streams, queues, log groups, checkpoints). It knows no service types:
//! each service owns its tables under its own namespace and its own encoding.
//!
//! - A [`Table`] is a namespace (the owning service, e.g. `kinesis`) and a name; keys are
//!   UTF-8 strings (sorted bytewise), values are bytes (services store JSON or their own
//!   versioned encodings).
//! - Every write commits durably before it returns, so a record is on disk before the call
//!   that changed it is acknowledged.
//! - [`Meta::transaction`] runs a closure over a [`Txn`] that reads and writes any tables
//!   atomically; [`Meta::compare_and_set`] is the one-key shortcut for optimistic updates
//!   (checkpoints that must not go backwards, leases).
//! - Behind [`MetaBackend`]: [`redb_backend`] (an embedded redb file, the default) now; a
//!   PostgreSQL backend for scale-out later implements the same trait.
//!
//! Metadata changes are rare (control-plane calls, checkpoints); no data path writes here.
//! [`Meta::close`] at shutdown closes the database while tasks may still hold the handle;
//! later calls fail with [`MetaError::Closed`].

pub mod redb_backend;

use std::fmt;
use std::sync::RwLock;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A table: the owning service's namespace and the table's name within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    /// The owning service, e.g. `kinesis`, `sqs`, `logs`.
    pub namespace: &'static str,
    /// The table's name within the namespace.
    pub name: &'static str,
}

impl Table {
    /// A table of `namespace`.
    pub const fn new(namespace: &'static str, name: &'static str) -> Table {
        Table { namespace, name }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

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
    #[error("metadata record {table}/{key} is corrupt: {reason}")]
    Corrupt {
        /// The table.
        table: String,
        /// Key of the record.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value could not be encoded.
    #[error("metadata record {table}/{key} cannot be encoded: {reason}")]
    Encode {
        /// The table.
        table: String,
        /// Key of the record.
        key: String,
        /// Why.
        reason: String,
    },
}

/// Reads and writes inside one transaction. Reads see the transaction's own writes.
pub trait Txn {
    /// The value at `key`.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, MetaError>;
    /// Every row whose key starts with `prefix`, in key order.
    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, MetaError>;
    /// At most `limit` rows whose key starts with `prefix` and sorts strictly after
    /// `start_after` (bytewise), in key order: one page of an ordered listing.
    fn scan_after(
        &self,
        table: Table,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        // Backends override this with a range read; this default is for simple test backends.
        Ok(self
            .scan(table, prefix)?
            .into_iter()
            .filter(|(k, _)| start_after.is_none_or(|a| k.as_str() > a))
            .take(limit)
            .collect())
    }
    /// Inserts or replaces the value at `key`.
    fn put(&mut self, table: Table, key: &str, value: &[u8]) -> Result<(), MetaError>;
    /// Removes `key`; whether it existed.
    fn delete(&mut self, table: Table, key: &str) -> Result<bool, MetaError>;
}

/// Typed helpers over any [`Txn`]: values encoded as JSON.
pub trait TxnExt: Txn {
    /// The JSON value at `key`.
    fn get_json<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
    ) -> Result<Option<T>, MetaError> {
        match self.get(table, key)? {
            None => Ok(None),
            Some(bytes) => decode_json(table, key, &bytes).map(Some),
        }
    }

    /// Stores `value` as JSON at `key`.
    fn put_json<T: Serialize>(
        &mut self,
        table: Table,
        key: &str,
        value: &T,
    ) -> Result<(), MetaError> {
        let bytes = encode_json(table, key, value)?;
        self.put(table, key, &bytes)
    }
}

impl<T: Txn + ?Sized> TxnExt for T {}

/// Whether a transaction's changes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Commit durably.
    Commit,
    /// Discard every change.
    Abort,
}

/// Where the tables live. Implementations commit durably and serialize writers.
pub trait MetaBackend: Send + Sync + fmt::Debug {
    /// Runs `f` in a read-only snapshot.
    fn read(&self, f: &mut dyn FnMut(&dyn Txn) -> Result<(), MetaError>) -> Result<(), MetaError>;
    /// Runs `f` in a write transaction and commits it (durably) if `f` says so.
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<Outcome, MetaError>,
    ) -> Result<(), MetaError>;
    /// Moves every row of a table from before namespaces (raw name `legacy`) into `to`, then
    /// drops the legacy table; a no-op if it does not exist. Returns how many rows moved.
    fn migrate_legacy_table(&self, legacy: &str, to: Table) -> Result<usize, MetaError>;
}

/// The metadata store of one Freshet deployment. Share it behind an `Arc`.
#[derive(Debug)]
pub struct Meta {
    /// `None` once closed at shutdown.
    backend: RwLock<Option<Box<dyn MetaBackend>>>,
}

impl Meta {
    /// The store over `backend`.
    pub fn new(backend: Box<dyn MetaBackend>) -> Meta {
        Meta {
            backend: RwLock::new(Some(backend)),
        }
    }

    /// Opens (creating if missing) the embedded store at `path`.
    pub fn open_local(path: &std::path::Path) -> Result<Meta, MetaError> {
        Ok(Meta::new(Box::new(redb_backend::RedbBackend::open(path)?)))
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&dyn MetaBackend) -> Result<T, MetaError>,
    ) -> Result<T, MetaError> {
        let guard = self.backend.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_deref() {
            Some(b) => f(b),
            None => Err(MetaError::Closed),
        }
    }

    /// Closes the store; every later call fails with [`MetaError::Closed`].
    pub fn close(&self) {
        let backend = self
            .backend
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(backend);
    }

    /// The value at `key`.
    pub fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, MetaError> {
        self.read(|t| t.get(table, key))
    }

    /// Every row of `table` whose key starts with `prefix`, in key order.
    pub fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        self.read(|t| t.scan(table, prefix))
    }

    /// At most `limit` rows of `table` whose key starts with `prefix` and sorts after
    /// `start_after`, in key order (see [`Txn::scan_after`]).
    pub fn scan_after(
        &self,
        table: Table,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        self.read(|t| t.scan_after(table, prefix, start_after, limit))
    }

    /// The JSON value at `key`.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
    ) -> Result<Option<T>, MetaError> {
        self.read(|t| t.get_json(table, key))
    }

    /// Every JSON value of `table` whose key starts with `prefix`, in key order.
    pub fn scan_json<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, MetaError> {
        self.scan(table, prefix)?
            .into_iter()
            .map(|(k, v)| decode_json(table, &k, &v).map(|v| (k, v)))
            .collect()
    }

    /// Inserts or replaces `key`, durably.
    pub fn put(&self, table: Table, key: &str, value: &[u8]) -> Result<(), MetaError> {
        self.transaction(|t| t.put(table, key, value))
    }

    /// Stores `value` as JSON at `key`, durably.
    pub fn put_json<T: Serialize>(
        &self,
        table: Table,
        key: &str,
        value: &T,
    ) -> Result<(), MetaError> {
        let bytes = encode_json(table, key, value)?;
        self.put(table, key, &bytes)
    }

    /// Removes `key`, durably; whether it existed.
    pub fn delete(&self, table: Table, key: &str) -> Result<bool, MetaError> {
        self.transaction(|t| t.delete(table, key))
    }

    /// Replaces the value at `key` with `new` (`None` deletes it) only if it currently is
    /// `expected` (`None`: absent). On a mismatch nothing changes and the current value is
    /// returned as `Err`.
    pub fn compare_and_set(
        &self,
        table: Table,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Vec<u8>>>, MetaError> {
        self.transaction_or_abort(|t| {
            let current = t.get(table, key)?;
            if current.as_deref() != expected {
                return Ok((Outcome::Abort, Err(current)));
            }
            match new {
                Some(v) => t.put(table, key, v)?,
                None => {
                    t.delete(table, key)?;
                }
            }
            Ok((Outcome::Commit, Ok(())))
        })
    }

    /// The value at `key`, creating it with `init()` in the same transaction if absent.
    pub fn get_or_init(
        &self,
        table: Table,
        key: &str,
        init: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>, MetaError> {
        let mut init = Some(init);
        self.transaction(|t| match t.get(table, key)? {
            Some(v) => Ok(v),
            None => {
                let v = init.take().map(|f| f()).unwrap_or_default();
                t.put(table, key, &v)?;
                Ok(v)
            }
        })
    }

    /// Runs `f` on a read-only snapshot.
    pub fn read<T, E: From<MetaError>>(
        &self,
        f: impl FnOnce(&dyn Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut f = Some(f);
        let mut out: Option<Result<T, E>> = None;
        self.with(|b| {
            b.read(&mut |txn| {
                if let Some(f) = f.take() {
                    out = Some(f(txn));
                }
                Ok(())
            })
        })?;
        out.unwrap_or_else(|| Err(MetaError::Db("read transaction did not run".into()).into()))
    }

    /// Runs `f` in one write transaction: committed durably if `f` returns `Ok`, discarded if
    /// it returns `Err`.
    pub fn transaction<T, E: From<MetaError>>(
        &self,
        f: impl FnOnce(&mut dyn Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut f = Some(f);
        let mut out: Option<Result<T, E>> = None;
        self.with(|b| {
            b.write(&mut |txn| {
                let Some(f) = f.take() else {
                    return Ok(Outcome::Abort);
                };
                let r = f(txn);
                let outcome = if r.is_ok() {
                    Outcome::Commit
                } else {
                    Outcome::Abort
                };
                out = Some(r);
                Ok(outcome)
            })
        })?;
        out.unwrap_or_else(|| Err(MetaError::Db("write transaction did not run".into()).into()))
    }

    /// Like [`Meta::transaction`], but `f` decides whether to commit independently of the
    /// value it returns.
    pub fn transaction_or_abort<T, E: From<MetaError>>(
        &self,
        f: impl FnOnce(&mut dyn Txn) -> Result<(Outcome, T), E>,
    ) -> Result<T, E> {
        let mut f = Some(f);
        let mut out: Option<Result<T, E>> = None;
        self.with(|b| {
            b.write(&mut |txn| {
                let Some(f) = f.take() else {
                    return Ok(Outcome::Abort);
                };
                match f(txn) {
                    Ok((outcome, v)) => {
                        out = Some(Ok(v));
                        Ok(outcome)
                    }
                    Err(e) => {
                        out = Some(Err(e));
                        Ok(Outcome::Abort)
                    }
                }
            })
        })?;
        out.unwrap_or_else(|| Err(MetaError::Db("write transaction did not run".into()).into()))
    }

    /// Moves a table from before namespaces into `to` (see
    /// [`MetaBackend::migrate_legacy_table`]).
    pub fn migrate_legacy_table(&self, legacy: &str, to: Table) -> Result<usize, MetaError> {
        self.with(|b| b.migrate_legacy_table(legacy, to))
    }
}

fn decode_json<T: DeserializeOwned>(table: Table, key: &str, bytes: &[u8]) -> Result<T, MetaError> {
    serde_json::from_slice(bytes).map_err(|e| MetaError::Corrupt {
        table: table.to_string(),
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn encode_json<T: Serialize>(table: Table, key: &str, value: &T) -> Result<Vec<u8>, MetaError> {
    serde_json::to_vec(value).map_err(|e| MetaError::Encode {
        table: table.to_string(),
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Table = Table::new("svc", "a");
    const B: Table = Table::new("svc", "b");
    const OTHER: Table = Table::new("other", "a");

    fn open() -> (tempfile::TempDir, Meta) {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = Meta::open_local(&dir.path().join("meta.redb")).expect("open");
        (dir, meta)
    }

    #[test]
    fn tables_of_different_namespaces_are_apart() {
        let (_dir, meta) = open();
        meta.put(A, "k", b"a").expect("put");
        meta.put(OTHER, "k", b"o").expect("put");
        assert_eq!(meta.get(A, "k").expect("get").as_deref(), Some(&b"a"[..]));
        assert_eq!(
            meta.get(OTHER, "k").expect("get").as_deref(),
            Some(&b"o"[..])
        );
        assert_eq!(meta.get(B, "k").expect("get"), None);
    }

    #[test]
    fn scans_return_a_prefix_in_key_order() {
        let (_dir, meta) = open();
        for k in ["q/2", "q/10", "p/1", "q/1", "r"] {
            meta.put(A, k, k.as_bytes()).expect("put");
        }
        let keys: Vec<String> = meta
            .scan(A, "q/")
            .expect("scan")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["q/1", "q/10", "q/2"]);
        assert_eq!(meta.scan(A, "").expect("all").len(), 5);
    }

    #[test]
    fn a_failed_transaction_changes_nothing() {
        let (_dir, meta) = open();
        meta.put(A, "k", b"1").expect("put");
        let r: Result<(), MetaError> = meta.transaction(|t| {
            t.put(A, "k", b"2")?;
            t.put(B, "x", b"y")?;
            assert_eq!(
                t.get(A, "k")?.as_deref(),
                Some(&b"2"[..]),
                "reads see own writes"
            );
            Err(MetaError::Db("boom".into()))
        });
        assert!(r.is_err());
        assert_eq!(meta.get(A, "k").expect("get").as_deref(), Some(&b"1"[..]));
        assert_eq!(meta.get(B, "x").expect("get"), None);
    }

    #[test]
    fn compare_and_set_only_swaps_the_expected_value() {
        let (_dir, meta) = open();
        assert_eq!(
            meta.compare_and_set(A, "k", None, Some(b"1")).expect("cas"),
            Ok(())
        );
        assert_eq!(
            meta.compare_and_set(A, "k", None, Some(b"2")).expect("cas"),
            Err(Some(b"1".to_vec()))
        );
        assert_eq!(
            meta.compare_and_set(A, "k", Some(b"1"), Some(b"2"))
                .expect("cas"),
            Ok(())
        );
        assert_eq!(
            meta.compare_and_set(A, "k", Some(b"2"), None).expect("cas"),
            Ok(())
        );
        assert_eq!(meta.get(A, "k").expect("get"), None);
    }

    #[test]
    fn writes_survive_reopen_and_close_refuses_later_calls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.redb");
        {
            let meta = Meta::open_local(&path).expect("open");
            meta.put_json(A, "k", &vec![1, 2, 3]).expect("put");
            assert!(meta.delete(A, "missing").is_ok());
            assert_eq!(
                meta.get_or_init(B, "key", || vec![7]).expect("init"),
                vec![7]
            );
            meta.close();
            assert!(matches!(meta.get(A, "k"), Err(MetaError::Closed)));
        }
        let meta = Meta::open_local(&path).expect("reopen");
        assert_eq!(
            meta.get_json::<Vec<i32>>(A, "k").expect("get"),
            Some(vec![1, 2, 3])
        );
        assert_eq!(
            meta.get_or_init(B, "key", || vec![9]).expect("get"),
            vec![7]
        );
    }

    #[test]
    fn legacy_tables_move_into_their_namespace_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.redb");
        redb_backend::write_legacy_table_for_tests(
            &path,
            "streams",
            &[("s1", b"{}"), ("s2", b"[]")],
        );
        let meta = Meta::open_local(&path).expect("open");
        let to = Table::new("kinesis", "streams");
        assert_eq!(
            meta.migrate_legacy_table("streams", to).expect("migrate"),
            2
        );
        assert_eq!(meta.migrate_legacy_table("streams", to).expect("again"), 0);
        assert_eq!(
            meta.get(to, "s2").expect("get").as_deref(),
            Some(&b"[]"[..])
        );
    }

    #[test]
    fn scan_after_pages_through_a_prefix_in_key_order() {
        let (_dir, meta) = open();
        for k in ["b/a", "b/b", "b/c", "b/d", "c/a", "a/z"] {
            meta.put(A, k, k.as_bytes()).expect("put");
        }
        let keys =
            |rows: Vec<(String, Vec<u8>)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(meta.scan_after(A, "b/", None, 2).expect("scan")),
            ["b/a", "b/b"]
        );
        assert_eq!(
            keys(meta.scan_after(A, "b/", Some("b/b"), 2).expect("scan")),
            ["b/c", "b/d"]
        );
        assert_eq!(
            keys(meta.scan_after(A, "b/", Some("b/d"), 2).expect("scan")),
            Vec::<String>::new()
        );
        assert_eq!(
            keys(meta.scan_after(A, "b/", Some("a"), 1).expect("scan")),
            ["b/a"]
        );
        assert_eq!(
            keys(meta.scan_after(A, "b/", Some("b/bb"), 9).expect("scan")),
            ["b/c", "b/d"]
        );
        assert!(
            meta.scan_after(B, "", None, 5)
                .expect("missing table")
                .is_empty()
        );
        assert!(meta.scan_after(A, "", None, 0).expect("limit 0").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn scan_after_matches_a_sorted_model(
            keys in proptest::collection::btree_set("[ab]{0,4}", 0..20),
            prefix in "[ab]{0,2}",
            after in proptest::option::of("[ab]{0,4}"),
            limit in 0usize..8,
        ) {
            let (_dir, meta) = open();
            for k in &keys {
                meta.put(A, k, b"v").expect("put");
            }
            let got: Vec<String> = meta
                .scan_after(A, &prefix, after.as_deref(), limit)
                .expect("scan")
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let want: Vec<String> = keys
                .iter()
                .filter(|k| k.starts_with(&prefix) && after.as_ref().is_none_or(|a| *k > a))
                .take(limit)
                .cloned()
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
