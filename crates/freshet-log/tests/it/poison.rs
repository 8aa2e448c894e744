//! A failed write or fsync makes the shard read-only; a restart recovers it.

use freshet_log::{Durability, InjectedFailure, LogError, RecordIn};

use crate::common::{append, config, open, read_all};

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
async fn a_failed_write_poisons_the_shard_in_every_mode() {
    for mode in [Durability::Fsync, Durability::None] {
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
