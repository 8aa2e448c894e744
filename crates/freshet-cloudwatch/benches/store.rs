// SPDX-License-Identifier: Apache-2.0
//! Micro-benchmarks of the metric store: GetMetricData's shape (one day of 1-minute data for
//! 100 metrics, each queried at periods 60 and 300, 23 sealed hours read from blocks and the
//! current hour from memory) and the collector's shape (ingesting 1,000 deltas, one
//! group-committed WAL append).
//!
//! The platform lives under Cargo's target tmp dir, on the real disk, so the ingest numbers
//! include a real fsync. Run with `cargo bench -p freshet-cloudwatch --bench store`.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use freshet_cloudwatch::store::{MetricStore, Query};
use freshet_log::LogConfig;
use freshet_metrics::{Datapoint, MetricKey, Point, Unit};
use freshet_runtime::{Platform, Tasks};
use freshet_types::ManualClock;
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// A day boundary.
const T0: i64 = 1_800_000_000_000 / 86_400_000 * 86_400_000;
const METRICS: usize = 100;
const MINUTES: i64 = 24 * 60;
const DELTAS: usize = 1_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn key(i: usize) -> Arc<MetricKey> {
    Arc::new(MetricKey::new(
        "AWS/Kinesis",
        "IncomingRecords",
        [("StreamName", format!("stream-{i}"))],
    ))
}

fn open(clock: &ManualClock) -> (TempDir, Platform, Arc<MetricStore>) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
    let platform = Platform::open_local(
        dir.path(),
        LogConfig::default(),
        Arc::new(clock.clone()),
        Tasks::detached(),
    )
    .expect("the platform opens");
    let store = MetricStore::open(&platform).expect("the store opens");
    (dir, platform, store)
}

fn query(c: &mut Criterion) {
    let rt = runtime();
    let clock = ManualClock::new(T0);
    let (_dir, platform, store) = open(&clock);
    let keys: Vec<Arc<MetricKey>> = (0..METRICS).map(key).collect();
    rt.block_on(async {
        for m in 0..MINUTES {
            let points = keys
                .iter()
                .map(|k| Point {
                    key: k.clone(),
                    timestamp_ms: T0 + m * 60_000,
                    resolution_s: 60,
                    value: Datapoint::one(m as f64, Unit::Count),
                })
                .collect();
            store.ingest(points).await.expect("ingest");
            if m % 60 == 59 {
                clock.set(T0 + (m + 1) * 60_000);
                store.maintain().await.expect("maintenance");
            }
        }
    });
    let mut group = c.benchmark_group("query_one_day_100_metrics");
    for period_s in [60u32, 300] {
        group.bench_function(format!("period_{period_s}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for k in &keys {
                        let got = store
                            .query(&Query {
                                key: k,
                                start_ms: T0,
                                end_ms: T0 + MINUTES * 60_000,
                                period_s,
                                unit: None,
                            })
                            .await
                            .expect("query");
                        black_box(got);
                    }
                })
            })
        });
    }
    group.finish();
    drop(store);
    platform.shutdown();
}

fn ingest(c: &mut Criterion) {
    let rt = runtime();
    let clock = ManualClock::new(T0);
    let (_dir, platform, store) = open(&clock);
    let keys: Vec<Arc<MetricKey>> = (0..DELTAS).map(key).collect();
    let mut minute = 0i64;
    c.bench_function("ingest_1000_deltas", |b| {
        b.iter(|| {
            minute += 1;
            let points: Vec<Point> = keys
                .iter()
                .map(|k| Point {
                    key: k.clone(),
                    timestamp_ms: T0 + (minute % 60) * 60_000,
                    resolution_s: 60,
                    value: Datapoint::one(1.0, Unit::Count),
                })
                .collect();
            rt.block_on(store.ingest(points)).expect("ingest");
        })
    });
    drop(store);
    platform.shutdown();
}

criterion_group!(benches, query, ingest);
criterion_main!(benches);
