// SPDX-License-Identifier: Apache-2.0
//! The embedded backend: one redb file (`<data>/meta.redb`).
//!
//! Each [`Table`] is a redb table named `<namespace>.<name>` mapping `&str` keys to `&[u8]`
//! values. Write transactions commit with redb's full durability (fsynced before
//! `commit` returns); redb serializes writers, and readers see consistent snapshots.

use std::path::Path;

use redb::{
    Database, ReadTransaction, ReadableTable, TableDefinition, TableError, WriteTransaction,
};

use crate::{MetaBackend, MetaError, Outcome, Table, Txn};

fn db_err(e: impl std::fmt::Display) -> MetaError {
    MetaError::Db(e.to_string())
}

fn table_name(t: Table) -> String {
    format!("{}.{}", t.namespace, t.name)
}

/// The metadata tables in one redb file.
#[derive(Debug)]
pub struct RedbBackend {
    db: Database,
}

impl RedbBackend {
    /// Opens (creating if missing) the database at `path`.
    pub fn open(path: &Path) -> Result<RedbBackend, MetaError> {
        let db = Database::create(path).map_err(db_err)?;
        Ok(RedbBackend { db })
    }
}

struct ReadTxn(ReadTransaction);

fn scan_table<T: ReadableTable<&'static str, &'static [u8]>>(
    table: &T,
    prefix: &str,
) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
    let mut out = Vec::new();
    for entry in table.range::<&str>(prefix..).map_err(db_err)? {
        let (k, v) = entry.map_err(db_err)?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push((key.to_owned(), v.value().to_vec()));
    }
    Ok(out)
}

fn scan_table_after<T: ReadableTable<&'static str, &'static [u8]>>(
    table: &T,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
    use std::ops::Bound;
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    // Start at the later of the prefix and just past `start_after`.
    let lower = match start_after {
        Some(a) if a >= prefix => Bound::Excluded(a),
        _ => Bound::Included(prefix),
    };
    for entry in table
        .range::<&str>((lower, Bound::Unbounded))
        .map_err(db_err)?
    {
        let (k, v) = entry.map_err(db_err)?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push((key.to_owned(), v.value().to_vec()));
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

impl Txn for ReadTxn {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        match self.0.open_table(def) {
            Ok(t) => Ok(t.get(key).map_err(db_err)?.map(|v| v.value().to_vec())),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(db_err(e)),
        }
    }

    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        match self.0.open_table(def) {
            Ok(t) => scan_table(&t, prefix),
            Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
            Err(e) => Err(db_err(e)),
        }
    }

    fn scan_after(
        &self,
        table: Table,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        match self.0.open_table(def) {
            Ok(t) => scan_table_after(&t, prefix, start_after, limit),
            Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
            Err(e) => Err(db_err(e)),
        }
    }

    fn put(&mut self, _table: Table, _key: &str, _value: &[u8]) -> Result<(), MetaError> {
        Err(MetaError::Db("write in a read transaction".into()))
    }

    fn delete(&mut self, _table: Table, _key: &str) -> Result<bool, MetaError> {
        Err(MetaError::Db("write in a read transaction".into()))
    }
}

struct WriteTxn(WriteTransaction);

impl Txn for WriteTxn {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let t = self.0.open_table(def).map_err(db_err)?;
        let v = t.get(key).map_err(db_err)?.map(|v| v.value().to_vec());
        Ok(v)
    }

    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let t = self.0.open_table(def).map_err(db_err)?;
        scan_table(&t, prefix)
    }

    fn scan_after(
        &self,
        table: Table,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let t = self.0.open_table(def).map_err(db_err)?;
        scan_table_after(&t, prefix, start_after, limit)
    }

    fn put(&mut self, table: Table, key: &str, value: &[u8]) -> Result<(), MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let mut t = self.0.open_table(def).map_err(db_err)?;
        t.insert(key, value).map_err(db_err)?;
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &str) -> Result<bool, MetaError> {
        let name = table_name(table);
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let mut t = self.0.open_table(def).map_err(db_err)?;
        let existed = t.remove(key).map_err(db_err)?.is_some();
        Ok(existed)
    }
}

impl MetaBackend for RedbBackend {
    fn read(&self, f: &mut dyn FnMut(&dyn Txn) -> Result<(), MetaError>) -> Result<(), MetaError> {
        let txn = ReadTxn(self.db.begin_read().map_err(db_err)?);
        f(&txn)
    }

    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn Txn) -> Result<Outcome, MetaError>,
    ) -> Result<(), MetaError> {
        let mut txn = WriteTxn(self.db.begin_write().map_err(db_err)?);
        match f(&mut txn)? {
            Outcome::Commit => txn.0.commit().map_err(db_err),
            Outcome::Abort => txn.0.abort().map_err(db_err),
        }
    }

    fn migrate_legacy_table(&self, legacy: &str, to: Table) -> Result<usize, MetaError> {
        {
            // Opening a table in a write transaction creates it: look first.
            let read = self.db.begin_read().map_err(db_err)?;
            let exists = read
                .list_tables()
                .map_err(db_err)?
                .any(|t| redb::TableHandle::name(&t) == legacy);
            if !exists {
                return Ok(0);
            }
        }
        let txn = self.db.begin_write().map_err(db_err)?;
        let old_def: TableDefinition<&str, &[u8]> = TableDefinition::new(legacy);
        let rows = match txn.open_table(old_def) {
            Ok(old) => Some(scan_table(&old, "")?),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(db_err(e)),
        };
        let Some(rows) = rows else {
            txn.abort().map_err(db_err)?;
            return Ok(0);
        };
        {
            let name = table_name(to);
            let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
            let mut new = txn.open_table(def).map_err(db_err)?;
            for (k, v) in &rows {
                new.insert(k.as_str(), v.as_slice()).map_err(db_err)?;
            }
        }
        txn.delete_table(old_def).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(rows.len())
    }
}

/// Writes a table the way stores before namespaces did, for migration tests.
#[doc(hidden)]
pub fn write_legacy_table_for_tests(path: &Path, name: &str, rows: &[(&str, &[u8])]) {
    let Ok(db) = Database::create(path) else {
        return;
    };
    let Ok(txn) = db.begin_write() else {
        return;
    };
    {
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(name);
        if let Ok(mut t) = txn.open_table(def) {
            for (k, v) in rows {
                let _ = t.insert(*k, *v);
            }
        }
    }
    let _ = txn.commit();
}
