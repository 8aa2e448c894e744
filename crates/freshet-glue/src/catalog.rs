// SPDX-License-Identifier: Apache-2.0
//! [`Glue`]: the Data Catalog's databases, tables and table versions in the metadata store,
//! and the in-process schema lookup Firehose calls ([`Glue::table_columns`]).
//!
//! Key layout (namespace `glue`; `\x01` separates parts, a character Glue names cannot
//! hold; names are stored lowercase, as Glue does):
//! * `databases`: `<catalog>\x01<database>` → [`DatabaseRecord`];
//! * `tables`: `<catalog>\x01<database>\x01<table>` → [`TableRecord`] (the current version);
//! * `table_versions`: `<catalog>\x01<database>\x01<table>\x01<version:020>` → [`TableRecord`],
//!   every kept version, the current one included.
//!
//! Invariants: a table's row exists only while its database does (DeleteDatabase drops its
//! tables and their versions in the same transaction); versions count up from 0 and are
//! never reused while the table exists. Every write is one durable transaction (control
//! plane only: nothing here runs per record).

use std::sync::Arc;

use freshet_meta::{Meta, Table, Txn, TxnExt};
use freshet_types::Clock;
use serde::{Deserialize, Serialize};

use crate::error::GlueError;
use crate::shapes::{DatabaseInput, TableInput};

const DATABASES: Table = Table::new("glue", "databases");
const TABLES: Table = Table::new("glue", "tables");
const VERSIONS: Table = Table::new("glue", "table_versions");
const SEP: char = '\u{1}';

/// A database as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRecord {
    /// The document, name lowercased.
    pub input: DatabaseInput,
    /// Creation, Unix ms.
    pub create_ms: i64,
}

/// One version of a table as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRecord {
    /// The document, name lowercased.
    pub input: TableInput,
    /// The database (lowercase).
    pub database: String,
    /// Creation of the table, Unix ms.
    pub create_ms: i64,
    /// This version's write, Unix ms.
    pub update_ms: i64,
    /// The version number.
    pub version: u64,
}

/// One column of a table's schema, for Firehose record format conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// Its Hive type string.
    pub type_name: String,
}

/// A page of a listing and the token of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if any.
    pub next_token: Option<String>,
}

/// The Data Catalog of one account.
#[derive(Debug, Clone)]
pub struct Glue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    meta: Arc<Meta>,
    clock: Arc<dyn Clock>,
    account_id: String,
}

fn db_key(catalog: &str, db: &str) -> String {
    format!("{catalog}{SEP}{}", db.to_lowercase())
}

fn table_key(catalog: &str, db: &str, table: &str) -> String {
    format!(
        "{catalog}{SEP}{}{SEP}{}",
        db.to_lowercase(),
        table.to_lowercase()
    )
}

fn version_key(table_key: &str, version: u64) -> String {
    format!("{table_key}{SEP}{version:020}")
}

fn last_part(key: &str) -> &str {
    key.rsplit(SEP).next().unwrap_or(key)
}

/// The page of `rows` (in key order) after `token`, at most `max` long.
fn page<T>(rows: Vec<(String, T)>, token: Option<&str>, max: usize) -> Page<T> {
    let mut items = Vec::new();
    let mut next_token = None;
    let mut last = None;
    for (key, item) in rows {
        let name = last_part(&key).to_owned();
        if token.is_some_and(|t| name.as_str() <= t) {
            continue;
        }
        if items.len() == max {
            next_token = last.take();
            break;
        }
        items.push(item);
        last = Some(name);
    }
    Page { items, next_token }
}

impl Glue {
    /// The catalog of `account_id` on `meta`.
    pub fn new(meta: Arc<Meta>, clock: Arc<dyn Clock>, account_id: impl Into<String>) -> Self {
        Glue {
            inner: Arc::new(Inner {
                meta,
                clock,
                account_id: account_id.into(),
            }),
        }
    }

    /// The account's catalog id (the default `CatalogId`).
    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    /// The catalog a request names, or the account's.
    pub fn catalog<'a>(&'a self, catalog_id: Option<&'a str>) -> &'a str {
        catalog_id.unwrap_or(&self.inner.account_id)
    }

    fn meta(&self) -> &Meta {
        &self.inner.meta
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// CreateDatabase.
    pub fn create_database(
        &self,
        catalog: &str,
        mut input: DatabaseInput,
    ) -> Result<(), GlueError> {
        let name = input.name.clone().unwrap_or_default().to_lowercase();
        input.name = Some(name.clone());
        let record = DatabaseRecord {
            input,
            create_ms: self.now(),
        };
        let key = db_key(catalog, &name);
        self.meta().transaction(|txn| {
            if txn.get(DATABASES, &key)?.is_some() {
                return Err(GlueError::DatabaseExists);
            }
            txn.put_json(DATABASES, &key, &record)?;
            Ok(())
        })
    }

    /// GetDatabase.
    pub fn get_database(&self, catalog: &str, name: &str) -> Result<DatabaseRecord, GlueError> {
        self.meta()
            .get_json::<DatabaseRecord>(DATABASES, &db_key(catalog, name))?
            .ok_or_else(|| GlueError::DatabaseNotFound {
                database: name.to_owned(),
            })
    }

    /// GetDatabases.
    pub fn list_databases(
        &self,
        catalog: &str,
        token: Option<&str>,
        max: usize,
    ) -> Result<Page<DatabaseRecord>, GlueError> {
        let rows = self
            .meta()
            .scan_json::<DatabaseRecord>(DATABASES, &format!("{catalog}{SEP}"))?;
        Ok(page(rows, token, max))
    }

    /// UpdateDatabase: replaces the document (a new name renames it, as Glue allows only
    /// when no such database exists).
    pub fn update_database(
        &self,
        catalog: &str,
        name: &str,
        mut input: DatabaseInput,
    ) -> Result<(), GlueError> {
        let new_name = input.name.clone().unwrap_or_default().to_lowercase();
        input.name = Some(new_name.clone());
        let key = db_key(catalog, name);
        let new_key = db_key(catalog, &new_name);
        self.meta().transaction(|txn| {
            let old: DatabaseRecord =
                txn.get_json(DATABASES, &key)?
                    .ok_or_else(|| GlueError::DatabaseNotFound {
                        database: name.to_owned(),
                    })?;
            if new_key != key {
                if txn.get(DATABASES, &new_key)?.is_some() {
                    return Err(GlueError::DatabaseExists);
                }
                if !txn.scan(TABLES, &format!("{key}{SEP}"))?.is_empty() {
                    return Err(GlueError::InvalidInput(
                        "Cannot rename a database that has tables.".to_owned(),
                    ));
                }
                txn.delete(DATABASES, &key)?;
            }
            let record = DatabaseRecord {
                input,
                create_ms: old.create_ms,
            };
            txn.put_json(DATABASES, &new_key, &record)?;
            Ok(())
        })
    }

    /// DeleteDatabase, with its tables and their versions.
    pub fn delete_database(&self, catalog: &str, name: &str) -> Result<(), GlueError> {
        let key = db_key(catalog, name);
        self.meta().transaction(|txn| {
            if !txn.delete(DATABASES, &key)? {
                return Err(GlueError::DatabaseNotFound {
                    database: name.to_owned(),
                });
            }
            let prefix = format!("{key}{SEP}");
            for (k, _) in txn.scan(TABLES, &prefix)? {
                txn.delete(TABLES, &k)?;
            }
            for (k, _) in txn.scan(VERSIONS, &prefix)? {
                txn.delete(VERSIONS, &k)?;
            }
            Ok(())
        })
    }

    fn require_database(txn: &dyn Txn, catalog: &str, db: &str) -> Result<(), GlueError> {
        if txn.get(DATABASES, &db_key(catalog, db))?.is_none() {
            return Err(GlueError::DatabaseNotFound {
                database: db.to_owned(),
            });
        }
        Ok(())
    }

    /// CreateTable: version 0.
    pub fn create_table(
        &self,
        catalog: &str,
        db: &str,
        mut input: TableInput,
    ) -> Result<(), GlueError> {
        let name = input.name.clone().unwrap_or_default().to_lowercase();
        input.name = Some(name.clone());
        let now = self.now();
        let record = TableRecord {
            input,
            database: db.to_lowercase(),
            create_ms: now,
            update_ms: now,
            version: 0,
        };
        let key = table_key(catalog, db, &name);
        self.meta().transaction(|txn| {
            Self::require_database(txn, catalog, db)?;
            if txn.get(TABLES, &key)?.is_some() {
                return Err(GlueError::TableExists);
            }
            txn.put_json(TABLES, &key, &record)?;
            txn.put_json(VERSIONS, &version_key(&key, 0), &record)?;
            Ok(())
        })
    }

    /// GetTable.
    pub fn get_table(&self, catalog: &str, db: &str, name: &str) -> Result<TableRecord, GlueError> {
        self.meta().read(|txn| {
            Self::require_database(txn, catalog, db)?;
            txn.get_json::<TableRecord>(TABLES, &table_key(catalog, db, name))?
                .ok_or_else(|| GlueError::TableNotFound {
                    table: name.to_owned(),
                })
        })
    }

    /// GetTables, filtered by `expression` (a regular expression on the name, Hive's `*`
    /// wildcard accepted).
    pub fn list_tables(
        &self,
        catalog: &str,
        db: &str,
        expression: Option<&str>,
        token: Option<&str>,
        max: usize,
    ) -> Result<Page<TableRecord>, GlueError> {
        let filter = expression
            .filter(|e| !e.is_empty())
            .map(name_filter)
            .transpose()?;
        let rows = self.meta().read(|txn| {
            Self::require_database(txn, catalog, db)?;
            let prefix = format!("{}{SEP}", db_key(catalog, db));
            let mut rows = Vec::new();
            for (k, _) in txn.scan(TABLES, &prefix)? {
                if let Some(f) = &filter
                    && !f.is_match(last_part(&k))
                {
                    continue;
                }
                if let Some(r) = txn.get_json::<TableRecord>(TABLES, &k)? {
                    rows.push((k, r));
                }
            }
            Ok::<_, GlueError>(rows)
        })?;
        Ok(page(rows, token, max))
    }

    /// UpdateTable: a new version (the previous one is kept unless `skip_archive`).
    /// `expected_version`, when given, must be the current one.
    pub fn update_table(
        &self,
        catalog: &str,
        db: &str,
        mut input: TableInput,
        skip_archive: bool,
        expected_version: Option<&str>,
    ) -> Result<(), GlueError> {
        let name = input.name.clone().unwrap_or_default().to_lowercase();
        input.name = Some(name.clone());
        let key = table_key(catalog, db, &name);
        let now = self.now();
        self.meta().transaction(|txn| {
            Self::require_database(txn, catalog, db)?;
            let old: TableRecord =
                txn.get_json(TABLES, &key)?
                    .ok_or_else(|| GlueError::TableNotFound {
                        table: name.clone(),
                    })?;
            if let Some(v) = expected_version
                && v != old.version.to_string()
            {
                return Err(GlueError::ConcurrentModification);
            }
            let record = TableRecord {
                input,
                database: old.database,
                create_ms: old.create_ms,
                update_ms: now,
                version: old.version + 1,
            };
            if skip_archive {
                txn.delete(VERSIONS, &version_key(&key, old.version))?;
            }
            txn.put_json(TABLES, &key, &record)?;
            txn.put_json(VERSIONS, &version_key(&key, record.version), &record)?;
            Ok(())
        })
    }

    /// DeleteTable, with its versions.
    pub fn delete_table(&self, catalog: &str, db: &str, name: &str) -> Result<(), GlueError> {
        self.meta()
            .transaction(|txn| Self::delete_table_in(txn, catalog, db, name))
    }

    fn delete_table_in(
        txn: &mut dyn Txn,
        catalog: &str,
        db: &str,
        name: &str,
    ) -> Result<(), GlueError> {
        Self::require_database(txn, catalog, db)?;
        let key = table_key(catalog, db, name);
        if !txn.delete(TABLES, &key)? {
            return Err(GlueError::TableNotFound {
                table: name.to_owned(),
            });
        }
        for (k, _) in txn.scan(VERSIONS, &format!("{key}{SEP}"))? {
            txn.delete(VERSIONS, &k)?;
        }
        Ok(())
    }

    /// BatchDeleteTable: the tables that could not be deleted, with why.
    pub fn batch_delete_tables(
        &self,
        catalog: &str,
        db: &str,
        names: &[String],
    ) -> Result<Vec<(String, GlueError)>, GlueError> {
        self.meta().transaction(|txn| {
            Self::require_database(txn, catalog, db)?;
            let mut errors = Vec::new();
            for name in names {
                match Self::delete_table_in(txn, catalog, db, name) {
                    Ok(()) => {}
                    Err(e @ GlueError::TableNotFound { .. }) => errors.push((name.clone(), e)),
                    Err(e) => return Err(e),
                }
            }
            Ok(errors)
        })
    }

    /// GetTableVersion: `version` absent (or `LATEST`) means the current one.
    pub fn get_table_version(
        &self,
        catalog: &str,
        db: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<TableRecord, GlueError> {
        let current = self.get_table(catalog, db, name)?;
        let Some(v) = version.filter(|v| *v != "LATEST") else {
            return Ok(current);
        };
        let not_found = || GlueError::VersionNotFound {
            table: name.to_owned(),
            version: v.to_owned(),
        };
        let n: u64 = v.parse().map_err(|_| not_found())?;
        let key = version_key(&table_key(catalog, db, name), n);
        self.meta()
            .get_json::<TableRecord>(VERSIONS, &key)?
            .ok_or_else(not_found)
    }

    /// GetTableVersions, newest first.
    pub fn list_table_versions(
        &self,
        catalog: &str,
        db: &str,
        name: &str,
        token: Option<&str>,
        max: usize,
    ) -> Result<Page<TableRecord>, GlueError> {
        self.get_table(catalog, db, name)?;
        let prefix = format!("{}{SEP}", table_key(catalog, db, name));
        let mut rows = self.meta().scan_json::<TableRecord>(VERSIONS, &prefix)?;
        rows.reverse();
        let start: Option<u64> = token.and_then(|t| t.parse().ok());
        let mut items = Vec::new();
        let mut next_token = None;
        for (_, r) in rows {
            if start.is_some_and(|s| r.version >= s) {
                continue;
            }
            if items.len() == max {
                next_token = items.last().map(|l: &TableRecord| l.version.to_string());
                break;
            }
            items.push(r);
        }
        Ok(Page { items, next_token })
    }

    /// The columns Firehose converts records to: the table's `StorageDescriptor.Columns`, in
    /// order. Partition keys are not included: Firehose does not write partition columns
    /// into the files (they belong in the object's S3 prefix).
    pub fn table_columns(
        &self,
        catalog_id: Option<&str>,
        database: &str,
        table: &str,
        version: Option<&str>,
    ) -> Result<Vec<Column>, GlueError> {
        let catalog = self.catalog(catalog_id);
        let record = self.get_table_version(catalog, database, table, version)?;
        Ok(record
            .input
            .storage_descriptor
            .and_then(|sd| sd.columns)
            .unwrap_or_default()
            .into_iter()
            .map(|c| Column {
                name: c.name.unwrap_or_default(),
                type_name: c.type_name.unwrap_or_default(),
            })
            .collect())
    }
}

/// The GetTables `Expression` as an anchored, case-insensitive regex. As in the Hive
/// metastore Glue follows, a `*` not already after a `.` is a wildcard (`orders*`).
fn name_filter(expression: &str) -> Result<regex::Regex, GlueError> {
    let mut pattern = String::with_capacity(expression.len() + 8);
    let mut prev = None;
    for c in expression.chars() {
        if c == '*' && prev != Some('.') {
            pattern.push('.');
        }
        pattern.push(c);
        prev = Some(c);
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|_| GlueError::InvalidInput(format!("Invalid expression: {expression}")))
}

#[cfg(test)]
mod tests;
