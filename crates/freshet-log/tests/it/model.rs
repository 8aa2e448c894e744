//! Model-based test: random appends, reads, time seeks, retention and reopens, with tiny
//! segments, checked against an in-memory `Vec` of records.

use std::path::Path;
use std::sync::Arc;

use freshet_log::{Durability, LogConfig, LogStore, RecordIn, ShardLog};
use proptest::prelude::*;

use crate::common::runtime;

#[derive(Debug, Clone)]
enum Op {
    Append {
        records: Vec<(String, Vec<u8>)>,
        now_delta: i64,
    },
    Read {
        from: u64,
        max_records: usize,
        max_bytes: usize,
        not_before_delta: Option<i64>,
    },
    OffsetAtTime {
        delta: i64,
    },
    DeleteBefore {
        delta: i64,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            prop::collection::vec(("[a-z]{0,8}", prop::collection::vec(any::<u8>(), 0..120)), 1..5),
            -20i64..40,
        )
            .prop_map(|(records, now_delta)| Op::Append { records, now_delta }),
        4 => (0u64..80, 0usize..12, 0usize..400, proptest::option::of(-10i64..400)).prop_map(
            |(from, max_records, max_bytes, not_before_delta)| Op::Read {
                from,
                max_records,
                max_bytes,
                not_before_delta
            }
        ),
        1 => (-10i64..400).prop_map(|delta| Op::OffsetAtTime { delta }),
        1 => (0i64..400).prop_map(|delta| Op::DeleteBefore { delta }),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct ModelRecord {
    key: String,
    data: Vec<u8>,
    arrival: i64,
}

const T0: i64 = 1_000_000;

fn open(config: &LogConfig, dir: &Path) -> (LogStore, Arc<ShardLog>) {
    let store = LogStore::open(config.clone()).unwrap();
    let shard = store.open_shard(dir).unwrap();
    (store, shard)
}

fn run(ops: Vec<Op>, durability: Durability, segment_bytes: u64) -> Result<(), TestCaseError> {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        durability,
        segment_bytes,
        index_interval_bytes: 48,
    };
    let (mut store, mut shard) = open(&config, dir.path());
    let mut model: Vec<ModelRecord> = Vec::new();
    let mut start = 0u64;
    let mut clock = T0;
    for op in ops {
        match op {
            Op::Append { records, now_delta } => {
                let now = clock + now_delta;
                clock = clock.max(now);
                let ins: Vec<RecordIn<'_>> = records
                    .iter()
                    .map(|(k, d)| RecordIn {
                        partition_key: k,
                        data: d,
                    })
                    .collect();
                let a = rt.block_on(shard.append(&ins, now)).unwrap();
                let expected_arrival = model.last().map_or(now, |r| r.arrival.max(now));
                prop_assert_eq!(a.first_offset, model.len() as u64);
                prop_assert_eq!(a.arrival_ms, expected_arrival);
                for (k, d) in records {
                    model.push(ModelRecord {
                        key: k,
                        data: d,
                        arrival: a.arrival_ms,
                    });
                }
            }
            Op::Read {
                from,
                max_records,
                max_bytes,
                not_before_delta,
            } => {
                let nb = not_before_delta.map_or(i64::MIN, |d| T0 + d);
                let got = shard.read(from, max_records, max_bytes, nb).unwrap();
                let clamped = from.max(start);
                let mut expected = Vec::new();
                let mut bytes = 0usize;
                for (off, r) in model.iter().enumerate().skip(clamped as usize) {
                    if r.arrival < nb {
                        continue;
                    }
                    let size = r.key.len() + r.data.len();
                    if expected.len() >= max_records
                        || (!expected.is_empty() && bytes + size > max_bytes)
                    {
                        break;
                    }
                    bytes += size;
                    expected.push((off as u64, r.clone()));
                }
                let actual: Vec<(u64, ModelRecord)> = got
                    .records
                    .iter()
                    .map(|r| {
                        (
                            r.offset,
                            ModelRecord {
                                key: r.partition_key.clone(),
                                data: r.data.to_vec(),
                                arrival: r.arrival_ms,
                            },
                        )
                    })
                    .collect();
                prop_assert_eq!(&actual, &expected);
                let next = expected.last().map_or(clamped, |(o, _)| o + 1);
                prop_assert_eq!(got.next_offset, next);
            }
            Op::OffsetAtTime { delta } => {
                let ts = T0 + delta;
                let expected = model
                    .iter()
                    .enumerate()
                    .skip(start as usize)
                    .find(|(_, r)| r.arrival >= ts)
                    .map_or(model.len() as u64, |(o, _)| o as u64);
                prop_assert_eq!(shard.offset_at_time(ts), expected);
            }
            Op::DeleteBefore { delta } => {
                let cutoff = T0 + delta;
                let before = shard.stats().segments;
                let deleted = shard.delete_segments_before(cutoff).unwrap();
                prop_assert_eq!(shard.stats().segments, before - deleted);
                prop_assert!(shard.stats().segments >= 1);
                let new_start = shard.start_offset();
                prop_assert!(new_start >= start && new_start <= model.len() as u64);
                for r in &model[start as usize..new_start as usize] {
                    prop_assert!(r.arrival < cutoff);
                }
                start = new_start;
            }
            Op::Reopen => {
                drop(shard);
                store.shutdown();
                drop(store);
                (store, shard) = open(&config, dir.path());
            }
        }
        prop_assert_eq!(shard.next_offset(), model.len() as u64);
        prop_assert_eq!(shard.start_offset(), start);
        prop_assert_eq!(shard.last_arrival_ms(), model.last().map(|r| r.arrival));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_log_behaves_like_a_vec_in_fsync_mode(ops in prop::collection::vec(op(), 1..60), seg in 100u64..700) {
        run(ops, Durability::Fsync, seg)?;
    }

    #[test]
    fn the_log_behaves_like_a_vec_with_interval_fsync(ops in prop::collection::vec(op(), 1..40), seg in 100u64..700) {
        run(ops, Durability::Interval(std::time::Duration::from_millis(2)), seg)?;
    }

    #[test]
    fn the_log_behaves_like_a_vec_without_fsync(ops in prop::collection::vec(op(), 1..60), seg in 100u64..700) {
        run(ops, Durability::None, seg)?;
    }
}
