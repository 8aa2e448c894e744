// SPDX-License-Identifier: Apache-2.0
//! Micro-benchmarks of the wire codecs on the hot path: decoding a PutRecords and a PutRecord
//! request, encoding the PutRecords and GetRecords responses, in JSON 1.1 and CBOR 1.1, and
//! base64.
//!
//! Every benchmark calls the code the server runs (through `freshet_kinesis::bench` for the
//! crate-private DTOs); request bodies and record pages are built once, outside the timed loop.
//! Throughput is the record payload (1 KiB a record), so JSON and CBOR read as comparable
//! MiB/s. Run with `cargo bench -p freshet-aws`; see docs/benchmarks.md.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freshet_kinesis::bench::{
    decode_put_record, decode_put_records, encode_get_records, encode_put_records,
};
use freshet_kinesis::{PutOutcome, RecordOut, RecordsPage};
use freshet_protocol::Protocol;
use freshet_protocol::json::{decode_blob, encode_blob};
use freshet_types::{SequenceNumber, ShardId};

/// Payload size of every record.
const RECORD_BYTES: usize = 1024;
/// Records in a PutRecords request (the API maximum).
const PUT_RECORDS: usize = 500;

/// A deterministic, not very compressible payload.
fn payload(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A PutRecords body of `n` records of [`RECORD_BYTES`] in `protocol`, as an SDK sends it.
fn put_records_body(protocol: Protocol, n: usize) -> Vec<u8> {
    match protocol.is_cbor() {
        false => {
            let records: Vec<serde_json::Value> = (0..n)
                .map(|i| {
                    serde_json::json!({
                        "Data": encode_blob(&payload(i, RECORD_BYTES)),
                        "PartitionKey": format!("partition-{i}"),
                    })
                })
                .collect();
            serde_json::to_vec(&serde_json::json!({
                "Records": records,
                "StreamName": "bench",
            }))
            .expect("JSON encodes")
        }
        true => {
            use ciborium::Value;
            let records: Vec<Value> = (0..n)
                .map(|i| {
                    Value::Map(vec![
                        (
                            Value::Text("Data".into()),
                            Value::Bytes(payload(i, RECORD_BYTES)),
                        ),
                        (
                            Value::Text("PartitionKey".into()),
                            Value::Text(format!("partition-{i}")),
                        ),
                    ])
                })
                .collect();
            let body = Value::Map(vec![
                (Value::Text("Records".into()), Value::Array(records)),
                (
                    Value::Text("StreamName".into()),
                    Value::Text("bench".into()),
                ),
            ]);
            let mut out = Vec::new();
            ciborium::into_writer(&body, &mut out).expect("CBOR encodes");
            out
        }
    }
}

/// A PutRecord body of one record of [`RECORD_BYTES`] in `protocol`, as an SDK sends it.
fn put_record_body(protocol: Protocol) -> Vec<u8> {
    let data = payload(1, RECORD_BYTES);
    match protocol.is_cbor() {
        false => serde_json::to_vec(&serde_json::json!({
            "Data": encode_blob(&data),
            "PartitionKey": "partition-1",
            "StreamName": "bench",
        }))
        .expect("JSON encodes"),
        true => {
            use ciborium::Value;
            let body = Value::Map(vec![
                (Value::Text("Data".into()), Value::Bytes(data)),
                (
                    Value::Text("PartitionKey".into()),
                    Value::Text("partition-1".into()),
                ),
                (
                    Value::Text("StreamName".into()),
                    Value::Text("bench".into()),
                ),
            ]);
            let mut out = Vec::new();
            ciborium::into_writer(&body, &mut out).expect("CBOR encodes");
            out
        }
    }
}

/// A GetRecords page of `n` records of [`RECORD_BYTES`].
fn records_page(n: usize) -> RecordsPage {
    let data = Bytes::from(payload(7, RECORD_BYTES));
    RecordsPage {
        records: (0..n)
            .map(|i| RecordOut {
                sequence: SequenceNumber::new(1, 0, 1_000_000 + i as u64),
                arrival_ms: 1_790_000_000_000 + i as i64,
                partition_key: format!("partition-{i}"),
                data: data.clone(),
                encrypted: false,
            })
            .collect(),
        next_iterator: Some("A".repeat(200)),
        millis_behind_latest: 0,
        child_shards: Vec::new(),
    }
}

fn protocols() -> [(&'static str, Protocol); 2] {
    [("json", Protocol::Json11), ("cbor", Protocol::Cbor11)]
}

fn put_records_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("put_records_decode");
    g.throughput(Throughput::Bytes((PUT_RECORDS * RECORD_BYTES) as u64));
    for (name, protocol) in protocols() {
        let body = put_records_body(protocol, PUT_RECORDS);
        decode_put_records(protocol, &body).expect("the request is valid");
        g.bench_with_input(BenchmarkId::new(name, PUT_RECORDS), &body, |b, body| {
            b.iter(|| decode_put_records(protocol, black_box(body)))
        });
    }
    g.finish();
}

fn put_record_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("put_record_decode");
    g.throughput(Throughput::Bytes(RECORD_BYTES as u64));
    for (name, protocol) in protocols() {
        let body = put_record_body(protocol);
        decode_put_record(protocol, &body).expect("the request is valid");
        g.bench_with_input(BenchmarkId::new(name, 1), &body, |b, body| {
            b.iter(|| decode_put_record(protocol, black_box(body)))
        });
    }
    g.finish();
}

fn put_records_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("put_records_encode");
    g.throughput(Throughput::Elements(PUT_RECORDS as u64));
    let outcomes: Vec<PutOutcome> = (0..PUT_RECORDS)
        .map(|i| PutOutcome::Stored {
            shard: ShardId(i as u32 % 4),
            sequence: SequenceNumber::new(1, i as u32 % 4, 1_000_000 + i as u64),
            encrypted: false,
        })
        .collect();
    for (name, protocol) in protocols() {
        g.bench_with_input(
            BenchmarkId::new(name, PUT_RECORDS),
            &outcomes,
            |b, outcomes| {
                b.iter_batched(
                    || outcomes.clone(),
                    |outcomes| encode_put_records(protocol, outcomes),
                    BatchSize::SmallInput,
                )
            },
        );
    }
    g.finish();
}

fn get_records_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("get_records_encode");
    g.sample_size(20);
    for n in [1_000, 10_000] {
        let page = records_page(n);
        g.throughput(Throughput::Bytes((n * RECORD_BYTES) as u64));
        for (name, protocol) in protocols() {
            g.bench_with_input(BenchmarkId::new(name, n), &page, |b, page| {
                b.iter_batched(
                    || page.clone(),
                    |page| encode_get_records(protocol, page),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    g.finish();
}

fn base64(c: &mut Criterion) {
    let mut g = c.benchmark_group("base64");
    for (label, len) in [("1KiB", 1024), ("1MiB", 1024 * 1024)] {
        let raw = payload(3, len);
        let text = encode_blob(&raw);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("encode", label), &raw, |b, raw| {
            b.iter(|| encode_blob(black_box(raw)))
        });
        g.bench_with_input(BenchmarkId::new("decode", label), &text, |b, text| {
            b.iter(|| decode_blob(black_box(text)))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    put_records_decode,
    put_record_decode,
    put_records_encode,
    get_records_encode,
    base64
);
criterion_main!(benches);
