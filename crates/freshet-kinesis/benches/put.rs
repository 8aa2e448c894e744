// SPDX-License-Identifier: Apache-2.0
//! Micro-benchmark of `Streams::put_records` end to end (routing by partition key, the
//! per-shard writers, the log append) on a 4-shard stream with durability None.
//!
//! The data directory lives under Cargo's target tmp dir, on the real disk. Run with
//! `cargo bench -p freshet-streams`; see docs/benchmarks.md.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freshet_kinesis::{
    CreateStream, PutEntry, PutOutcome, StreamMode, StreamRef, Streams, StreamsOptions,
};
use freshet_log::{Durability, LogConfig};
use freshet_types::SystemClock;

/// Payload size of every record.
const RECORD_BYTES: usize = 1024;
/// Records in a PutRecords call (the API maximum).
const PUT_RECORDS: usize = 500;
/// Shards of the stream.
const SHARDS: u32 = 4;

fn put_records(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        ..StreamsOptions::default()
    };
    let log = LogConfig {
        durability: Durability::None,
        ..LogConfig::default()
    };
    let streams = rt
        .block_on(Streams::open(dir.path(), log, opts, Arc::new(SystemClock)))
        .expect("the streams open");
    rt.block_on(streams.create_stream(CreateStream {
        name: "bench".to_owned(),
        shard_count: Some(SHARDS),
        mode: StreamMode::Provisioned,
        tags: Default::default(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
    }))
    .expect("the stream is created");

    let data = vec![0x5a_u8; RECORD_BYTES];
    let keys: Vec<String> = (0..PUT_RECORDS).map(|i| format!("partition-{i}")).collect();
    let entries: Vec<PutEntry<'_>> = keys
        .iter()
        .map(|k| PutEntry {
            data: &data,
            partition_key: k,
            explicit_hash_key: None,
        })
        .collect();
    let stream = StreamRef::name("bench");
    let outcomes = rt
        .block_on(streams.put_records(&stream, &entries))
        .expect("the put succeeds");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, PutOutcome::Stored { .. })),
        "every record is stored"
    );

    let mut g = c.benchmark_group("put_records");
    g.throughput(Throughput::Elements(PUT_RECORDS as u64));
    g.bench_function(BenchmarkId::new("4_shards_none", PUT_RECORDS), |b| {
        b.iter(|| rt.block_on(streams.put_records(&stream, black_box(&entries))))
    });
    g.finish();
    streams.shutdown();
}

criterion_group!(benches, put_records);
criterion_main!(benches);
