//! Retention deletes whole sealed segments, never the active one.

use freshet_log::Durability;

use crate::common::{append, config, files_with_ext, open, read_all, segment_files};

#[tokio::test]
async fn expired_sealed_segments_are_deleted_and_the_active_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(Durability::Fsync, 130, 32);
    let (store, shard) = open(c.clone(), dir.path());
    // 51-byte batches: two per 130-byte segment (24-byte header).
    for i in 0..10i64 {
        append(&shard, &[("key", &[i as u8; 10])], 1_000 * (i + 1)).await;
    }
    let before = shard.stats();
    assert_eq!(before.segments, segment_files(dir.path()).len());
    assert!(before.segments >= 4);
    assert_eq!(shard.delete_segments_before(1_000).unwrap(), 0);
    // Segments hold arrivals {1000, 2000}, {3000, 4000}, ...: a cutoff of 4001 expires two.
    let deleted = shard.delete_segments_before(4_001).unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(shard.start_offset(), 4);
    assert_eq!(segment_files(dir.path()).len(), before.segments - 2);
    assert_eq!(files_with_ext(dir.path(), "idx").len(), before.segments - 3);
    let r = shard.read(0, 100, 1 << 20, i64::MIN).unwrap();
    assert_eq!(r.records.first().map(|r| r.offset), Some(4));
    // Everything expired: all sealed segments go, the active one stays.
    shard.delete_segments_before(i64::MAX).unwrap();
    assert_eq!(shard.stats().segments, 1);
    assert_eq!(shard.next_offset(), 10);
    let start = shard.start_offset();
    assert!(start <= 10);
    assert_eq!(
        read_all(&shard, 0).first().map(|r| r.offset),
        (start < 10).then_some(start)
    );
    store.shutdown();
    drop(shard);
    let (_store, shard) = open(c, dir.path());
    assert_eq!(shard.start_offset(), start);
    assert_eq!(shard.next_offset(), 10);
    assert_eq!(append(&shard, &[("k", b"v")], 1).await.first_offset, 10);
}
