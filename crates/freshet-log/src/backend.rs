// SPDX-License-Identifier: Apache-2.0
//! The log as services see it: logs named by [`LogName`] and reached through a
//! [`LogBackend`], so no service knows where or how its records are stored.
//!
//! [`LocalBackend`] keeps each log in its own directory under the data directory
//! (`<root>/<namespace>/<part>/<part>/...`, see `docs/FORMAT.md`) on the segment files of
//! [`crate::ShardLog`], sharing one group-commit syncer. An object-storage backend for
//! scale-out implements the same two traits later.
//!
//! Every method that touches storage may block (recovery scans, fsyncs, directory removal):
//! async callers run them where blocking is allowed, except [`Log::append`], which never
//! blocks the runtime, and [`Log::read`], which reads from the page cache with `pread`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::config::LogConfig;
use crate::error::LogError;
use crate::format::RecordIn;
use crate::fsutil::fsync_dir_io;
use crate::shard::{Appended, InjectedFailure, LogStats, ReadBatch, ShardLog};
use crate::store::LogStore;

/// The name of a log: the owning service's namespace and a path of parts, e.g. `kinesis` /
/// `orders.0000000001` / `shardId-000000000000`. Parts are restricted to characters that are
/// safe as file names and object keys everywhere: ASCII letters, digits, `_ . - =`, not `.`
/// or `..` alone, 1–200 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogName {
    namespace: String,
    parts: Vec<String>,
}

impl LogName {
    /// The root of `namespace` (no parts): what [`LogBackend::list`] lists the top level of.
    pub fn root(namespace: &str) -> Result<LogName, LogError> {
        check_part(namespace)?;
        Ok(LogName {
            namespace: namespace.to_owned(),
            parts: Vec::new(),
        })
    }

    /// A name with `parts` under `namespace`.
    pub fn new<I, S>(namespace: &str, parts: I) -> Result<LogName, LogError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut name = LogName::root(namespace)?;
        for p in parts {
            name = name.child(p)?;
        }
        Ok(name)
    }

    /// This name with one more part.
    pub fn child(&self, part: impl Into<String>) -> Result<LogName, LogError> {
        let part = part.into();
        check_part(&part)?;
        let mut parts = self.parts.clone();
        parts.push(part);
        Ok(LogName {
            namespace: self.namespace.clone(),
            parts,
        })
    }

    /// The owning namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The parts below the namespace.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }
}

impl fmt::Display for LogName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.namespace)?;
        for p in &self.parts {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

fn check_part(p: &str) -> Result<(), LogError> {
    let ok = !p.is_empty()
        && p.len() <= 200
        && p != "."
        && p != ".."
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'='));
    if ok {
        Ok(())
    } else {
        Err(LogError::InvalidName { name: p.to_owned() })
    }
}

/// One durable, append-only log of records with dense offsets. See [`ShardLog`] for the
/// guarantees of the local implementation.
pub trait Log: Send + Sync + fmt::Debug {
    /// The log's name.
    fn name(&self) -> &LogName;

    /// Appends `records` (at least one) as one batch with consecutive offsets; resolves once
    /// the batch is durable per the store's durability mode. Never blocks the runtime.
    fn append<'a>(
        &'a self,
        records: &'a [RecordIn<'a>],
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Appended, LogError>>;

    /// Reads visible records from `from` (clamped to the start), at most `max_records` and
    /// about `max_bytes`, skipping records that arrived before `not_before_ms`.
    fn read(
        &self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
        not_before_ms: i64,
    ) -> Result<ReadBatch, LogError>;

    /// Told whenever new records become visible.
    fn watch_visible(&self) -> watch::Receiver<u64>;

    /// First offset still stored.
    fn start_offset(&self) -> u64;

    /// One past the last visible record.
    fn next_offset(&self) -> u64;

    /// Arrival of the newest visible record.
    fn last_arrival_ms(&self) -> Option<i64>;

    /// First visible offset that arrived at or after `ts_ms` (or the next offset).
    fn offset_at_time(&self, ts_ms: i64) -> u64;

    /// Deletes whole stored segments older than `cutoff_ms` (retention). Blocks.
    fn delete_segments_before(&self, cutoff_ms: i64) -> Result<usize, LogError>;

    /// Deletes whole stored segments below `offset` (consumed data). Blocks.
    fn delete_segments_below(&self, offset: u64) -> Result<usize, LogError>;

    /// Read-only after a storage failure.
    fn is_poisoned(&self) -> bool;

    /// Closed: takes no appends.
    fn is_closed(&self) -> bool;

    /// Sizes and bounds.
    fn stats(&self) -> LogStats;

    /// Stops appends and makes everything appended durable. Idempotent. Blocks.
    fn close(&self) -> Result<(), LogError>;

    /// Wakes [`Log::watch_visible`] watchers without new records.
    fn wake_watchers(&self);

    /// Makes the next write or fsync fail, for tests of poisoning.
    #[doc(hidden)]
    fn inject_failure_for_tests(&self, failure: Option<InjectedFailure>);
}

/// Where logs live.
pub trait LogBackend: Send + Sync + fmt::Debug {
    /// Opens (creating if missing, recovering if present) the log `name`. Opening a log that
    /// is already open returns the same one unless it was closed. Blocks.
    fn open(&self, name: &LogName) -> Result<Arc<dyn Log>, LogError>;

    /// The names of the children of `prefix` that exist (logs or prefixes of logs), sorted.
    fn list(&self, prefix: &LogName) -> Result<Vec<String>, LogError>;

    /// Removes `name` and everything under it. Close its logs first. Missing is fine. Blocks.
    fn remove(&self, name: &LogName) -> Result<(), LogError>;

    /// The configuration every log of this backend uses.
    fn config(&self) -> &LogConfig;

    /// Makes every open log durable and stops background work. Idempotent. Blocks.
    fn shutdown(&self);
}

/// Logs in directories under a root directory, on [`ShardLog`] segment files.
#[derive(Debug)]
pub struct LocalBackend {
    root: PathBuf,
    store: LogStore,
}

impl LocalBackend {
    /// Logs under `root` (created if missing), with one syncer thread for all of them.
    pub fn open(root: &Path, config: LogConfig) -> Result<LocalBackend, LogError> {
        std::fs::create_dir_all(root).map_err(|e| LogError::io("create directory", root, e))?;
        Ok(LocalBackend {
            root: root.to_owned(),
            store: LogStore::open(config)?,
        })
    }

    /// The directory of `name`.
    pub fn path_of(&self, name: &LogName) -> PathBuf {
        let mut p = self.root.join(&name.namespace);
        for part in &name.parts {
            p.push(part);
        }
        p
    }

    /// Moves a directory that held a namespace's logs before this layout existed (the
    /// Kinesis `<data>/streams` of earlier versions) to the namespace's place, if the
    /// namespace has no directory yet. Returns whether it moved. Blocks.
    pub fn adopt_legacy_dir(&self, legacy: &Path, namespace: &str) -> Result<bool, LogError> {
        let to = self.path_of(&LogName::root(namespace)?);
        if !legacy.is_dir() || to.exists() {
            return Ok(false);
        }
        std::fs::rename(legacy, &to).map_err(|e| LogError::io("rename", legacy, e))?;
        for dir in [Some(self.root.as_path()), legacy.parent()]
            .into_iter()
            .flatten()
        {
            fsync_dir_io(dir).map_err(|e| LogError::io("fsync directory", dir, e))?;
        }
        tracing::info!(from = %legacy.display(), to = %to.display(), "Moved logs to the namespaced layout.");
        Ok(true)
    }
}

impl LogBackend for LocalBackend {
    fn open(&self, name: &LogName) -> Result<Arc<dyn Log>, LogError> {
        let shard = self.store.open_shard(&self.path_of(name))?;
        Ok(Arc::new(LocalLog {
            name: name.clone(),
            shard,
        }))
    }

    fn list(&self, prefix: &LogName) -> Result<Vec<String>, LogError> {
        let dir = self.path_of(prefix);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(LogError::io("list directory", &dir, e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| check_part(n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    fn remove(&self, name: &LogName) -> Result<(), LogError> {
        let dir = self.path_of(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(LogError::io("remove directory", &dir, e)),
        }
        if let Some(parent) = dir.parent() {
            fsync_dir_io(parent).map_err(|e| LogError::io("fsync directory", parent, e))?;
        }
        Ok(())
    }

    fn config(&self) -> &LogConfig {
        self.store.config()
    }

    fn shutdown(&self) {
        self.store.shutdown();
    }
}

/// A [`ShardLog`] under its name.
#[derive(Debug)]
struct LocalLog {
    name: LogName,
    shard: Arc<ShardLog>,
}

impl Log for LocalLog {
    fn name(&self) -> &LogName {
        &self.name
    }

    fn append<'a>(
        &'a self,
        records: &'a [RecordIn<'a>],
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Appended, LogError>> {
        Box::pin(self.shard.append(records, now_ms))
    }

    fn read(
        &self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
        not_before_ms: i64,
    ) -> Result<ReadBatch, LogError> {
        self.shard.read(from, max_records, max_bytes, not_before_ms)
    }

    fn watch_visible(&self) -> watch::Receiver<u64> {
        self.shard.watch_visible()
    }

    fn start_offset(&self) -> u64 {
        self.shard.start_offset()
    }

    fn next_offset(&self) -> u64 {
        self.shard.next_offset()
    }

    fn last_arrival_ms(&self) -> Option<i64> {
        self.shard.last_arrival_ms()
    }

    fn offset_at_time(&self, ts_ms: i64) -> u64 {
        self.shard.offset_at_time(ts_ms)
    }

    fn delete_segments_before(&self, cutoff_ms: i64) -> Result<usize, LogError> {
        self.shard.delete_segments_before(cutoff_ms)
    }

    fn delete_segments_below(&self, offset: u64) -> Result<usize, LogError> {
        self.shard.delete_segments_below(offset)
    }

    fn is_poisoned(&self) -> bool {
        self.shard.is_poisoned()
    }

    fn is_closed(&self) -> bool {
        self.shard.is_closed()
    }

    fn stats(&self) -> LogStats {
        self.shard.stats()
    }

    fn close(&self) -> Result<(), LogError> {
        self.shard.close()
    }

    fn wake_watchers(&self) {
        self.shard.wake_watchers();
    }

    fn inject_failure_for_tests(&self, failure: Option<InjectedFailure>) {
        self.shard.inject_failure_for_tests(failure);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn backend(root: &Path) -> LocalBackend {
        LocalBackend::open(root, LogConfig::default()).unwrap()
    }

    #[test]
    fn names_refuse_parts_that_are_not_safe_file_names() {
        assert!(LogName::new("kinesis", ["orders.0000000001", "shardId-000000000000"]).is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(201)] {
            assert!(LogName::new("ns", [bad]).is_err(), "{bad:?}");
        }
        assert!(LogName::root("a/b").is_err());
    }

    #[tokio::test]
    async fn logs_live_under_their_namespace_and_can_be_listed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let b = backend(dir.path());
        let name = LogName::new("sqs", ["q.1", "messages"]).unwrap();
        let log = b.open(&name).unwrap();
        let at = log
            .append(
                &[RecordIn {
                    partition_key: "",
                    data: b"hi",
                }],
                5,
            )
            .await
            .unwrap();
        assert_eq!(at.first_offset, 0);
        assert!(dir.path().join("sqs/q.1/messages").is_dir());
        assert_eq!(b.list(&LogName::root("sqs").unwrap()).unwrap(), ["q.1"]);
        assert_eq!(
            b.list(&LogName::root("none").unwrap()).unwrap(),
            Vec::<String>::new()
        );
        log.close().unwrap();
        drop(log);
        b.remove(&LogName::new("sqs", ["q.1"]).unwrap()).unwrap();
        assert!(!dir.path().join("sqs/q.1").exists());
        b.remove(&LogName::new("sqs", ["q.1"]).unwrap()).unwrap();
        b.shutdown();
    }

    #[tokio::test]
    async fn a_reopened_log_keeps_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let name = LogName::new("logs", ["g"]).unwrap();
        {
            let b = backend(dir.path());
            let log = b.open(&name).unwrap();
            log.append(
                &[RecordIn {
                    partition_key: "s",
                    data: b"x",
                }],
                1,
            )
            .await
            .unwrap();
            b.shutdown();
        }
        let b = backend(dir.path());
        let log = b.open(&name).unwrap();
        let batch = log.read(0, 10, 1 << 20, i64::MIN).unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.records[0].partition_key, "s");
        b.shutdown();
    }

    #[test]
    fn legacy_directories_are_adopted_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("streams");
        std::fs::create_dir_all(legacy.join("s.0000000001/shardId-000000000000")).unwrap();
        let b = backend(&dir.path().join("logs"));
        assert!(b.adopt_legacy_dir(&legacy, "kinesis").unwrap());
        assert!(!b.adopt_legacy_dir(&legacy, "kinesis").unwrap());
        assert_eq!(
            b.list(&LogName::root("kinesis").unwrap()).unwrap(),
            ["s.0000000001"]
        );
    }
}
