//! Appending and reading: offsets, limits, time filters, durability modes, reopen.

use std::time::Duration;

use freshet_log::{Durability, LogError, RecordIn};

use crate::common::{append, config, open, read_all};

fn modes() -> Vec<Durability> {
    vec![
        Durability::Fsync,
        Durability::Interval(Duration::from_millis(5)),
        Durability::None,
    ]
}

#[tokio::test]
async fn appended_records_read_back_with_consecutive_offsets_in_every_mode() {
    for mode in modes() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, shard) = open(config(mode, 1 << 20, 128), dir.path());
        let a = append(&shard, &[("k1", b"one"), ("k2", b"two")], 1_000).await;
        assert_eq!(
            a,
            freshet_log::Appended {
                first_offset: 0,
                arrival_ms: 1_000
            }
        );
        let b = append(&shard, &[("k3", b"three")], 1_001).await;
        assert_eq!(b.first_offset, 2);
        // Acknowledged means visible, in every mode.
        assert_eq!(shard.next_offset(), 3);
        let all = read_all(&shard, 0);
        let got: Vec<(u64, &str, &[u8], i64)> = all
            .iter()
            .map(|r| {
                (
                    r.offset,
                    r.partition_key.as_str(),
                    &r.data[..],
                    r.arrival_ms,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "k1", &b"one"[..], 1_000),
                (1, "k2", &b"two"[..], 1_000),
                (2, "k3", &b"three"[..], 1_001)
            ],
            "mode {mode:?}"
        );
        assert_eq!(shard.last_arrival_ms(), Some(1_001));
    }
}

#[tokio::test]
async fn arrival_time_never_goes_backwards_within_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::None, 1 << 20, 128), dir.path());
    append(&shard, &[("k", b"a")], 5_000).await;
    let b = append(&shard, &[("k", b"b")], 4_000).await;
    assert_eq!(b.arrival_ms, 5_000);
    let c = append(&shard, &[("k", b"c")], 6_000).await;
    assert_eq!(c.arrival_ms, 6_000);
}

#[tokio::test]
async fn read_starting_inside_a_batch_starts_exactly_there() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 16), dir.path());
    append(
        &shard,
        &[("a", b"0"), ("a", b"1"), ("a", b"2"), ("a", b"3")],
        1,
    )
    .await;
    append(&shard, &[("a", b"4"), ("a", b"5")], 2).await;
    for from in 0..6u64 {
        let got = shard.read(from, 100, 1 << 20, i64::MIN).unwrap();
        let offsets: Vec<u64> = got.records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (from..6).collect::<Vec<_>>());
        assert_eq!(got.next_offset, 6);
    }
    let past = shard.read(6, 100, 1 << 20, i64::MIN).unwrap();
    assert!(past.records.is_empty());
    assert_eq!(past.next_offset, 6);
}

#[tokio::test]
async fn read_limits_stop_before_max_bytes_but_return_at_least_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::None, 1 << 20, 16), dir.path());
    let big = vec![7u8; 100];
    append(&shard, &[("kk", &big), ("kk", &big), ("kk", &big)], 1).await;
    // Each record counts 102 bytes (key + data).
    let one = shard.read(0, 10, 10, i64::MIN).unwrap();
    assert_eq!(one.records.len(), 1);
    assert_eq!(one.next_offset, 1);
    let two = shard.read(0, 10, 204, i64::MIN).unwrap();
    assert_eq!(two.records.len(), 2);
    let two_by_count = shard.read(1, 2, 1 << 20, i64::MIN).unwrap();
    assert_eq!(
        two_by_count
            .records
            .iter()
            .map(|r| r.offset)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    let none = shard.read(0, 0, 1 << 20, i64::MIN).unwrap();
    assert!(none.records.is_empty());
    assert_eq!(none.next_offset, 0);
}

#[tokio::test]
async fn not_before_filters_old_records_and_offset_at_time_finds_the_first_new_one() {
    let dir = tempfile::tempdir().unwrap();
    // Tiny segments and index interval so seeks cross segments and index entries.
    let (_store, shard) = open(config(Durability::Fsync, 200, 40), dir.path());
    let mut arrivals = Vec::new();
    for i in 0..40i64 {
        let t = 1_000 + (i / 3) * 10;
        append(&shard, &[("key", format!("r{i}").as_bytes())], t).await;
        arrivals.push(t);
    }
    assert!(shard.stats().segments > 2);
    for ts in [0, 1_000, 1_001, 1_010, 1_055, 1_130, 1_131, 9_999] {
        let expected = arrivals
            .iter()
            .position(|&a| a >= ts)
            .map_or(arrivals.len() as u64, |p| p as u64);
        assert_eq!(shard.offset_at_time(ts), expected, "ts {ts}");
        let got = shard.read(0, 1_000, 1 << 20, ts).unwrap();
        let offsets: Vec<u64> = got.records.iter().map(|r| r.offset).collect();
        assert_eq!(
            offsets,
            (expected..arrivals.len() as u64).collect::<Vec<_>>(),
            "ts {ts}"
        );
        if offsets.is_empty() {
            assert_eq!(got.next_offset, 0);
        }
    }
}

#[tokio::test]
async fn empty_shard_reports_empty_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(
        config(Durability::Fsync, 1 << 20, 128),
        &dir.path().join("a/b"),
    );
    assert_eq!(shard.start_offset(), 0);
    assert_eq!(shard.next_offset(), 0);
    assert_eq!(shard.last_arrival_ms(), None);
    assert_eq!(shard.offset_at_time(0), 0);
    let r = shard.read(5, 10, 10, i64::MIN).unwrap();
    assert!(r.records.is_empty());
    assert_eq!(r.next_offset, 5);
    assert_eq!(shard.stats().segments, 1);
}

#[tokio::test]
async fn data_survives_reopen_and_offsets_continue_in_every_mode() {
    for mode in modes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, shard) = open(config(mode, 150, 32), dir.path());
            for i in 0..20u8 {
                append(&shard, &[("p", &[i; 10])], i64::from(i)).await;
            }
            store.shutdown();
            store.shutdown();
            assert!(matches!(
                shard
                    .append(
                        &[RecordIn {
                            partition_key: "p",
                            data: b"x"
                        }],
                        0
                    )
                    .await,
                Err(LogError::Closed)
            ));
        }
        let (_store, shard) = open(config(mode, 150, 32), dir.path());
        assert_eq!(shard.next_offset(), 20, "mode {mode:?}");
        assert_eq!(shard.last_arrival_ms(), Some(19));
        let all = read_all(&shard, 0);
        assert_eq!(all.len(), 20);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.offset, i as u64);
            assert_eq!(&r.data[..], &[i as u8; 10]);
        }
        let a = append(&shard, &[("p", b"after")], 0).await;
        assert_eq!(a.first_offset, 20);
        assert_eq!(a.arrival_ms, 19);
    }
}

#[tokio::test]
async fn close_stops_appends_but_keeps_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, shard) = open(config(Durability::Fsync, 1 << 20, 128), dir.path());
    append(&shard, &[("k", b"v")], 1).await;
    shard.close().unwrap();
    shard.close().unwrap();
    assert!(shard.is_closed());
    let err = shard
        .append(
            &[RecordIn {
                partition_key: "k",
                data: b"v",
            }],
            1,
        )
        .await;
    assert!(matches!(err, Err(LogError::Closed)));
    assert_eq!(read_all(&shard, 0).len(), 1);
    // Reopening a closed shard through the store yields a fresh, writable log.
    let again = store.open_shard(dir.path()).unwrap();
    assert_eq!(append(&again, &[("k", b"w")], 2).await.first_offset, 1);
}

#[tokio::test]
async fn opening_the_same_directory_twice_returns_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let (store, shard) = open(config(Durability::Fsync, 1 << 20, 128), dir.path());
    let same = store.open_shard(dir.path()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&shard, &same));
}

#[tokio::test]
async fn invalid_batches_and_configs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 128), dir.path());
    assert!(matches!(
        shard.append(&[], 1).await,
        Err(LogError::InvalidBatch { .. })
    ));
    let big = vec![0u8; 10 * 1024 * 1024];
    let recs: Vec<RecordIn<'_>> = (0..7)
        .map(|_| RecordIn {
            partition_key: "k",
            data: &big,
        })
        .collect();
    assert!(matches!(
        shard.append(&recs, 1).await,
        Err(LogError::TooLarge { .. })
    ));
    assert_eq!(shard.next_offset(), 0);
    let bad = config(Durability::Interval(Duration::ZERO), 1 << 20, 128);
    assert!(matches!(
        freshet_log::LogStore::open(bad),
        Err(LogError::InvalidConfig { .. })
    ));
    let bad = config(Durability::Fsync, 0, 128);
    assert!(matches!(
        freshet_log::LogStore::open(bad),
        Err(LogError::InvalidConfig { .. })
    ));
}

#[tokio::test]
async fn a_ten_mib_record_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 128), dir.path());
    let big: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    append(&shard, &[("small", b"x")], 1).await;
    append(&shard, &[("big", &big)], 2).await;
    append(&shard, &[("small", b"y")], 3).await;
    let r = shard.read(1, 10, 1, i64::MIN).unwrap();
    assert_eq!(r.records.len(), 1);
    assert_eq!(&r.records[0].data[..], &big[..]);
    assert_eq!(read_all(&shard, 0).len(), 3);
}

#[test]
fn store_and_shard_log_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<freshet_log::LogStore>();
    assert_send_sync::<freshet_log::ShardLog>();
    assert_send_sync::<LogError>();
}

#[tokio::test]
async fn the_visibility_watch_moves_exactly_when_records_become_readable_in_every_mode() {
    for mode in modes() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, shard) = open(config(mode, 1 << 20, 128), dir.path());
        let mut watch = shard.watch_visible();
        assert_eq!(*watch.borrow_and_update(), 0);
        append(&shard, &[("k", b"a"), ("k", b"b")], 1_000).await;
        // Acknowledged means visible, and the watch has been told by then.
        assert!(watch.has_changed().unwrap(), "mode {mode:?}");
        assert_eq!(*watch.borrow_and_update(), 2);
        assert_eq!(read_all(&shard, 0).len(), 2);
        append(&shard, &[("k", b"c")], 1_001).await;
        assert_eq!(*watch.borrow_and_update(), 3, "mode {mode:?}");
    }
}
