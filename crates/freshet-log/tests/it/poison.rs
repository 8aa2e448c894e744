//! A failed write or fsync makes the shard read-only; a restart recovers it.

use std::time::Duration;

use freshet_log::{Durability, InjectedFailure, LogError, RecordIn};

use crate::common::{append, config, open, read_all, segment_files};

const REC: &[RecordIn<'static>] = &[RecordIn {
    partition_key: "k",
    data: b"v",
}];

#[tokio::test]
async fn a_failed_fsync_poisons_the_shard_and_never_acknowledges_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
        append(&shard, &[("k", b"durable")], 1).await;
        shard.inject_failure_for_tests(Some(InjectedFailure::Fsync));
        let err = shard.append(REC, 2).await.unwrap_err();
        assert!(matches!(err, LogError::Poisoned { .. }), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
        assert!(shard.is_poisoned());
        assert!(shard.stats().poisoned);
        let again = shard.append(REC, 3).await.unwrap_err();
        assert!(matches!(again, LogError::Poisoned { .. }));
        // The unacknowledged batch never became visible; earlier data still reads.
        assert_eq!(shard.next_offset(), 1);
        assert_eq!(read_all(&shard, 0).len(), 1);
        assert!(matches!(shard.close(), Err(LogError::Poisoned { .. })));
        store.shutdown();
    }
    // Restart is the recovery path.
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
    assert!(!shard.is_poisoned());
    assert!(shard.next_offset() >= 1);
    let a = shard.append(REC, 4).await.unwrap();
    assert_eq!(a.first_offset, shard.next_offset() - 1);
}

#[tokio::test]
async fn a_failed_write_poisons_the_shard_in_the_modes_that_write_on_append() {
    for mode in [
        Durability::Interval(Duration::from_millis(5)),
        Durability::None,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_store, shard) = open(config(mode, 1 << 20, 64), dir.path());
        append(&shard, &[("k", b"ok")], 1).await;
        shard.inject_failure_for_tests(Some(InjectedFailure::Write));
        let err = shard.append(REC, 2).await.unwrap_err();
        assert!(matches!(err, LogError::Io { .. }), "{err}");
        assert!(shard.is_poisoned());
        let err = shard.append(REC, 3).await.unwrap_err();
        assert!(matches!(err, LogError::Poisoned { .. }));
        assert_eq!(read_all(&shard, 0).len(), 1);
    }
}

/// In Fsync mode the write happens in the sync round: its failure must fail the append that
/// waited for that round, like a failed fsync does.
#[tokio::test]
async fn a_failed_deferred_write_poisons_the_shard_and_never_acknowledges_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
        append(&shard, &[("k", b"durable")], 1).await;
        shard.inject_failure_for_tests(Some(InjectedFailure::Write));
        let err = shard.append(REC, 2).await.unwrap_err();
        assert!(matches!(err, LogError::Poisoned { .. }), "{err}");
        assert!(shard.is_poisoned());
        assert!(shard.stats().poisoned);
        let again = shard.append(REC, 3).await.unwrap_err();
        assert!(matches!(again, LogError::Poisoned { .. }));
        // The unacknowledged batch never became visible, nor did it reach the file.
        assert_eq!(shard.next_offset(), 1);
        assert_eq!(read_all(&shard, 0).len(), 1);
        let on_disk: u64 = segment_files(dir.path())
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert_eq!(shard.stats().bytes_on_disk, on_disk);
        assert!(matches!(shard.close(), Err(LogError::Poisoned { .. })));
        store.shutdown();
    }
    // Restart is the recovery path: the failed batch is gone, offsets continue after the
    // acknowledged one.
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
    assert!(!shard.is_poisoned());
    assert_eq!(shard.next_offset(), 1);
    let a = shard.append(REC, 4).await.unwrap();
    assert_eq!(a.first_offset, 1);
    let all = read_all(&shard, 0);
    assert_eq!(all.len(), 2);
    assert_eq!(&all[0].data[..], b"durable");
    assert_eq!(&all[1].data[..], b"v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_deferred_write_fails_every_append_of_its_round_and_every_later_one() {
    let dir = tempfile::tempdir().unwrap();
    // Segments large enough that no roll (which would take the injected failure) happens.
    let (store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
    append(&shard, &[("k", b"durable")], 1).await;
    shard.inject_failure_for_tests(Some(InjectedFailure::Write));
    let mut tasks = Vec::new();
    for t in 0..32i64 {
        let shard = shard.clone();
        tasks.push(tokio::spawn(async move {
            let data = format!("task {t}");
            let rec = [RecordIn {
                partition_key: "k",
                data: data.as_bytes(),
            }];
            shard.append(&rec, 2 + t).await
        }));
    }
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert!(matches!(err, LogError::Poisoned { .. }), "{err}");
    }
    assert!(shard.is_poisoned());
    assert_eq!(shard.next_offset(), 1);
    assert_eq!(read_all(&shard, 0).len(), 1);
    store.shutdown();
    drop(shard);
    let (_store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
    assert_eq!(shard.next_offset(), 1);
    assert_eq!(&read_all(&shard, 0)[0].data[..], b"durable");
}

#[tokio::test]
async fn a_failed_segment_roll_poisons_the_shard() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, shard) = open(config(Durability::Fsync, 60, 64), dir.path());
    append(&shard, &[("k", &[1u8; 40])], 1).await;
    shard.inject_failure_for_tests(Some(InjectedFailure::Write));
    // This append does not fit in the segment, so it rolls first; the roll fails.
    assert!(shard.append(REC, 2).await.is_err());
    assert!(shard.is_poisoned());
    assert_eq!(shard.stats().segments, 1);
}
