//! Many tasks appending to several shards at once in Fsync mode (group commit), with readers
//! running alongside.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use freshet_log::{Durability, LogStore, RecordIn, ShardLog};

use crate::common::{config, read_all, segment_files};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_record_is_readable_exactly_once_in_offset_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LogStore::open(config(Durability::Fsync, 4096, 256)).unwrap());
    let shards: Vec<_> = (0..4)
        .map(|i| {
            store
                .open_shard(&dir.path().join(format!("shard-{i}")))
                .unwrap()
        })
        .collect();
    let mut tasks = Vec::new();
    for t in 0..24usize {
        let shard = shards[t % shards.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..40usize {
                let n = 1 + (t + i) % 3;
                let payloads: Vec<String> = (0..n).map(|j| format!("t{t}-i{i}-r{j}")).collect();
                let ins: Vec<RecordIn<'_>> = payloads
                    .iter()
                    .map(|p| RecordIn {
                        partition_key: "pk",
                        data: p.as_bytes(),
                    })
                    .collect();
                let a = shard.append(&ins, 1_000 + i as i64).await.unwrap();
                // Acknowledged in Fsync mode means durable, hence visible.
                assert!(shard.next_offset() >= a.first_offset + n as u64);
                for (j, p) in payloads.into_iter().enumerate() {
                    acked.push((t % 4, a.first_offset + j as u64, p));
                }
            }
            acked
        }));
    }
    let readers: Vec<_> = shards
        .iter()
        .cloned()
        .map(|shard| {
            tokio::spawn(async move {
                let mut next = 0u64;
                for _ in 0..200 {
                    let got = shard.read(next, 50, 1 << 20, i64::MIN).unwrap();
                    for r in &got.records {
                        assert_eq!(r.offset, next, "reads see a dense prefix");
                        next += 1;
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut expected: Vec<BTreeMap<u64, String>> = vec![BTreeMap::new(); 4];
    for t in tasks {
        for (s, off, p) in t.await.unwrap() {
            assert!(
                expected[s].insert(off, p).is_none(),
                "offset {off} acknowledged twice"
            );
        }
    }
    for r in readers {
        r.await.unwrap();
    }
    for (s, shard) in shards.iter().enumerate() {
        let all = read_all(shard, 0);
        assert_eq!(all.len(), expected[s].len());
        for (r, (off, p)) in all.iter().zip(&expected[s]) {
            assert_eq!(r.offset, *off);
            assert_eq!(&r.data[..], p.as_bytes());
        }
        assert!(
            shard.stats().segments > 1,
            "the test should cross segment rolls"
        );
    }
    store.shutdown();
}

/// Total length of the segment files in `dir` (files only grow in these tests).
fn segment_bytes_on_disk(dir: &Path) -> u64 {
    segment_files(dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

fn payload(task: usize, i: usize, j: usize) -> String {
    format!("task{task}-append{i}-record{j}")
}

/// `tasks` appenders spread over `shards` shards in Fsync mode, `appends` batches of 1 to 3
/// records each, with small segments so that rounds carry writes for segments rolled away from.
/// Readers run alongside and must only ever see a dense prefix of well-formed records, time
/// seeks must not fail, and `stats` must never count bytes that are not in the files. At the
/// end every acknowledged record reads back at its offset with its payload, before and after a
/// restart.
async fn concurrent_appends_read_back(shards: usize, tasks: usize, appends: usize) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(Durability::Fsync, 1024, 128);
    let dirs: Vec<PathBuf> = (0..shards)
        .map(|i| dir.path().join(format!("shard-{i}")))
        .collect();
    let store = Arc::new(LogStore::open(cfg.clone()).unwrap());
    let logs: Vec<_> = dirs.iter().map(|d| store.open_shard(d).unwrap()).collect();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = logs
        .iter()
        .zip(&dirs)
        .map(|(shard, d)| {
            let (shard, d, done) = (shard.clone(), d.clone(), done.clone());
            tokio::spawn(async move {
                let mut next = 0u64;
                while !done.load(Ordering::SeqCst) {
                    let got = shard.read(next, 50, 1 << 20, i64::MIN).unwrap();
                    for r in &got.records {
                        assert_eq!(r.offset, next, "reads see a dense prefix");
                        let data = std::str::from_utf8(&r.data).unwrap();
                        assert!(data.starts_with("task"), "{data:?}");
                        next += 1;
                    }
                    assert!(
                        shard.offset_at_time(1_000 + (next % 50) as i64) <= shard.next_offset()
                    );
                    let stats = shard.stats();
                    assert!(stats.bytes_on_disk <= segment_bytes_on_disk(&d));
                    tokio::task::yield_now().await;
                }
                next
            })
        })
        .collect();
    let mut writers = Vec::new();
    for t in 0..tasks {
        let s = t % shards;
        let shard = logs[s].clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..appends {
                let n = 1 + (t + i) % 3;
                let data: Vec<String> = (0..n).map(|j| payload(t, i, j)).collect();
                let ins: Vec<RecordIn<'_>> = data
                    .iter()
                    .map(|d| RecordIn {
                        partition_key: "pk",
                        data: d.as_bytes(),
                    })
                    .collect();
                let a = shard.append(&ins, 1_000 + i as i64).await.unwrap();
                assert!(shard.next_offset() >= a.first_offset + n as u64);
                for (j, d) in data.into_iter().enumerate() {
                    acked.push((s, a.first_offset + j as u64, d));
                }
            }
            acked
        }));
    }
    let mut expected: Vec<BTreeMap<u64, String>> = vec![BTreeMap::new(); shards];
    for w in writers {
        for (s, off, d) in w.await.unwrap() {
            assert!(
                expected[s].insert(off, d).is_none(),
                "offset {off} acknowledged twice"
            );
        }
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.await.unwrap();
    }
    let check = |logs: &[Arc<ShardLog>]| {
        for (s, shard) in logs.iter().enumerate() {
            let all = read_all(shard, 0);
            assert_eq!(all.len(), expected[s].len(), "shard {s}");
            for (r, (off, d)) in all.iter().zip(&expected[s]) {
                assert_eq!(r.offset, *off);
                assert_eq!(&r.data[..], d.as_bytes());
            }
        }
    };
    check(&logs);
    for (shard, d) in logs.iter().zip(&dirs) {
        assert!(
            shard.stats().segments > 3,
            "the test should cross segment rolls"
        );
        // Everything acknowledged is written: the stats count every byte of the files.
        assert_eq!(shard.stats().bytes_on_disk, segment_bytes_on_disk(d));
    }
    store.shutdown();
    drop(logs);
    let store = LogStore::open(cfg).unwrap();
    let logs: Vec<_> = dirs.iter().map(|d| store.open_shard(d).unwrap()).collect();
    check(&logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_appenders_to_one_shard_read_back_in_offset_order_across_rolls() {
    concurrent_appends_read_back(1, 32, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_appenders_to_more_shards_than_sync_lanes_read_back_in_offset_order() {
    concurrent_appends_read_back(11, 44, 20).await;
}
