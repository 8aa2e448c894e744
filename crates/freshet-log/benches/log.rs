// SPDX-License-Identifier: Apache-2.0
//! Micro-benchmarks of the shard log: appends with and without fsync (one at a time, and many
//! concurrent single-record appends over several shards, which is what group commit is for), a
//! read from the middle of a multi-segment shard (index seek + batch decode) and
//! `offset_at_time`.
//!
//! Shard directories live under Cargo's target tmp dir, on the real disk (not a tmpfs), so the
//! fsync numbers mean something. Appended segments are deleted between samples, outside the
//! timed region, so a run does not fill the disk. Run with `cargo bench -p freshet-log`; see
//! docs/benchmarks.md.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freshet_log::{Durability, LogConfig, LogStore, RecordIn, ShardLog};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Payload size of every record.
const RECORD_BYTES: usize = 1024;
/// Records in a batch append (a full PutRecords).
const BATCH_RECORDS: usize = 500;
/// Records in the shard the read benchmarks use.
const READ_SHARD_RECORDS: u64 = 20_000;
/// Records appended per batch (each with its own arrival time) to the read benchmarks' shard.
const READ_SHARD_BATCH: usize = 10;
/// Records one read returns.
const READ_RECORDS: usize = 1_000;
/// Shards of the concurrent append benchmark.
const CONCURRENT_SHARDS: usize = 4;
/// Single-record appends in flight at once in the concurrent append benchmark.
const CONCURRENT_APPENDS: usize = 64;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// A store with `config` and one shard in a fresh directory under the target tmp dir.
fn open(config: LogConfig) -> (TempDir, LogStore, Arc<ShardLog>) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
    let store = LogStore::open(config).expect("the store opens");
    let shard = store
        .open_shard(&dir.path().join("shard"))
        .expect("the shard opens");
    (dir, store, shard)
}

fn append(c: &mut Criterion) {
    let rt = runtime();
    let data = vec![0x5a_u8; RECORD_BYTES];
    let keys: Vec<String> = (0..BATCH_RECORDS)
        .map(|i| format!("partition-{i}"))
        .collect();
    let batch: Vec<RecordIn<'_>> = keys
        .iter()
        .map(|k| RecordIn {
            partition_key: k,
            data: &data,
        })
        .collect();
    for (mode, durability) in [("none", Durability::None), ("fsync", Durability::Fsync)] {
        let mut g = c.benchmark_group(format!("append_{mode}"));
        if durability == Durability::Fsync {
            // Every append waits for an fdatasync: few samples keep the run short.
            g.sample_size(10);
        }
        let (_dir, _store, shard) = open(LogConfig {
            durability,
            ..LogConfig::default()
        });
        for records in [&batch[..1], &batch[..]] {
            g.throughput(Throughput::Bytes((records.len() * RECORD_BYTES) as u64));
            g.bench_with_input(
                BenchmarkId::new("records_1KiB", records.len()),
                records,
                |b, records| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            rt.block_on(shard.append(black_box(records), now_ms()))
                                .expect("the append succeeds");
                        }
                        let took = start.elapsed();
                        // Untimed: drop the sealed segments this sample wrote.
                        shard
                            .delete_segments_before(i64::MAX)
                            .expect("old segments are deleted");
                        took
                    })
                },
            );
        }
        g.finish();
    }
}

/// [`CONCURRENT_APPENDS`] single-record appends at once, spread over [`CONCURRENT_SHARDS`]
/// shards in Fsync mode (one iteration waits for all of them): the shape of many clients doing
/// PutRecord, where each group-commit round covers several shards.
fn append_concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a multi-thread runtime");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
    let store = LogStore::open(LogConfig::default()).expect("the store opens");
    let shards: Vec<Arc<ShardLog>> = (0..CONCURRENT_SHARDS)
        .map(|i| {
            store
                .open_shard(&dir.path().join(format!("shard-{i}")))
                .expect("the shard opens")
        })
        .collect();
    let data: Arc<[u8]> = vec![0x3c_u8; RECORD_BYTES].into();
    let mut g = c.benchmark_group("append_fsync_concurrent");
    g.sample_size(10);
    g.throughput(Throughput::Elements(CONCURRENT_APPENDS as u64));
    g.bench_function(
        BenchmarkId::new(
            format!("shards_{CONCURRENT_SHARDS}"),
            format!("{CONCURRENT_APPENDS}_x_1KiB"),
        ),
        |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    rt.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for i in 0..CONCURRENT_APPENDS {
                            let shard = shards[i % CONCURRENT_SHARDS].clone();
                            let data = data.clone();
                            set.spawn(async move {
                                let rec = [RecordIn {
                                    partition_key: "pk",
                                    data: &data,
                                }];
                                shard.append(&rec, now_ms()).await
                            });
                        }
                        while let Some(done) = set.join_next().await {
                            done.expect("the task runs").expect("the append succeeds");
                        }
                    });
                }
                let took = start.elapsed();
                for shard in &shards {
                    shard
                        .delete_segments_before(i64::MAX)
                        .expect("old segments are deleted");
                }
                took
            })
        },
    );
    g.finish();
    store.shutdown();
}

/// A multi-segment shard (1 MiB segments) of [`READ_SHARD_RECORDS`] records of 1 KiB, appended
/// in batches of [`READ_SHARD_BATCH`] whose arrival times are `base + batch number`.
fn read_shard(rt: &Runtime, base_ms: i64) -> (TempDir, LogStore, Arc<ShardLog>) {
    let (dir, store, shard) = open(LogConfig {
        durability: Durability::None,
        segment_bytes: 1024 * 1024,
        ..LogConfig::default()
    });
    let data = vec![0xa5_u8; RECORD_BYTES];
    let keys: Vec<String> = (0..READ_SHARD_BATCH)
        .map(|i| format!("partition-{i}"))
        .collect();
    let batch: Vec<RecordIn<'_>> = keys
        .iter()
        .map(|k| RecordIn {
            partition_key: k,
            data: &data,
        })
        .collect();
    for k in 0..READ_SHARD_RECORDS / READ_SHARD_BATCH as u64 {
        rt.block_on(shard.append(&batch, base_ms + k as i64))
            .expect("the append succeeds");
    }
    (dir, store, shard)
}

fn read(c: &mut Criterion) {
    let rt = runtime();
    let base_ms = 1_790_000_000_000;
    let (_dir, _store, shard) = read_shard(&rt, base_ms);
    let middle = READ_SHARD_RECORDS / 2;
    let got = shard
        .read(middle, READ_RECORDS, 10 * 1024 * 1024, 0)
        .expect("the read succeeds");
    assert_eq!(got.records.len(), READ_RECORDS);

    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(READ_RECORDS as u64));
    g.bench_function(BenchmarkId::new("from_middle", READ_RECORDS), |b| {
        b.iter(|| shard.read(black_box(middle), READ_RECORDS, 10 * 1024 * 1024, 0))
    });
    g.finish();

    // A timestamp that falls in the middle of the shard, on a batch boundary.
    let ts = base_ms + (middle / READ_SHARD_BATCH as u64) as i64;
    assert_eq!(shard.offset_at_time(ts), middle);
    let mut g = c.benchmark_group("offset_at_time");
    g.throughput(Throughput::Elements(1));
    g.bench_function("middle", |b| b.iter(|| shard.offset_at_time(black_box(ts))));
    g.finish();
}

criterion_group!(benches, append, append_concurrent, read);
criterion_main!(benches);
