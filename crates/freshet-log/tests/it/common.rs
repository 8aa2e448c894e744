//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use freshet_log::{Appended, Durability, LogConfig, LogStore, RecordIn, ShardLog, StoredRecord};

/// A config with the given durability and small segments/index intervals.
pub fn config(durability: Durability, segment_bytes: u64, index_interval_bytes: u32) -> LogConfig {
    LogConfig {
        durability,
        segment_bytes,
        index_interval_bytes,
    }
}

/// Opens a store and one shard in `dir`.
pub fn open(config: LogConfig, dir: &Path) -> (LogStore, Arc<ShardLog>) {
    let store = LogStore::open(config).unwrap();
    let shard = store.open_shard(dir).unwrap();
    (store, shard)
}

/// Appends records given as (key, data) pairs.
pub async fn append(shard: &ShardLog, records: &[(&str, &[u8])], now_ms: i64) -> Appended {
    let ins: Vec<RecordIn<'_>> = records
        .iter()
        .map(|(k, d)| RecordIn {
            partition_key: k,
            data: d,
        })
        .collect();
    shard.append(&ins, now_ms).await.unwrap()
}

/// Reads every visible record from `from` on, in small pages.
pub fn read_all(shard: &ShardLog, from: u64) -> Vec<StoredRecord> {
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let batch = shard.read(next, 7, 1 << 20, i64::MIN).unwrap();
        if batch.records.is_empty() {
            return out;
        }
        next = batch.next_offset;
        out.extend(batch.records);
    }
}

/// The only `.log` files in `dir`, sorted.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    files_with_ext(dir, "log")
}

/// Files in `dir` ending with `.ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// A runtime for tests that drive async code from sync contexts (proptest).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
