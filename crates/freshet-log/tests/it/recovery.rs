//! Crash recovery: torn tails at every length, flipped bytes, damaged headers and indexes.

use std::fs;
use std::path::Path;

use freshet_log::format::{batch_header, segment_header};
use freshet_log::{Durability, LogConfig, LogError, LogStore};

use crate::common::{append, config, files_with_ext, open, read_all, segment_files};

/// Writes batches of 1, 2 and 3 records into one segment; returns the segment bytes and, per
/// batch, (start position, end position, offset after the batch).
async fn sample_segment(dir: &Path) -> (Vec<u8>, Vec<(u64, u64, u64)>) {
    let (store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir);
    let mut bounds = Vec::new();
    let mut pos = segment_header::LEN as u64;
    for (i, n) in [1usize, 2, 3, 1].into_iter().enumerate() {
        let data = vec![i as u8; 5 + i];
        let recs: Vec<(&str, &[u8])> = (0..n).map(|_| ("key", &data[..])).collect();
        let a = append(&shard, &recs, 100 + i as i64).await;
        let len = batch_header::LEN as u64 + n as u64 * (6 + 3 + data.len() as u64);
        bounds.push((pos, pos + len, a.first_offset + n as u64));
        pos += len;
    }
    store.shutdown();
    let seg = segment_files(dir).pop().unwrap();
    (fs::read(seg).unwrap(), bounds)
}

fn cfg() -> LogConfig {
    config(Durability::None, 1 << 20, 64)
}

#[tokio::test]
async fn recovery_from_every_truncation_point_keeps_exactly_the_complete_batches() {
    let src = tempfile::tempdir().unwrap();
    let (bytes, bounds) = sample_segment(src.path()).await;
    assert_eq!(bytes.len() as u64, bounds.last().unwrap().1);
    let store = LogStore::open(cfg()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let name = "00000000000000000000.log";
    for len in 0..=bytes.len() {
        let dir = work.path().join(format!("cut{len}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(name), &bytes[..len]).unwrap();
        let shard = store.open_shard(&dir).unwrap();
        let expected = bounds
            .iter()
            .filter(|b| b.1 <= len as u64)
            .map(|b| b.2)
            .max()
            .unwrap_or(0);
        let valid_len = bounds
            .iter()
            .filter(|b| b.1 <= len as u64)
            .map(|b| b.1)
            .max()
            .unwrap_or(segment_header::LEN as u64);
        assert_eq!(shard.next_offset(), expected, "cut at {len}");
        assert_eq!(
            fs::metadata(dir.join(name)).unwrap().len(),
            valid_len,
            "cut at {len}"
        );
        let all = read_all(&shard, 0);
        assert_eq!(all.len() as u64, expected, "cut at {len}");
        assert!(all.iter().enumerate().all(|(i, r)| r.offset == i as u64));
        let a = append(&shard, &[("new", b"record")], 1).await;
        assert_eq!(a.first_offset, expected, "cut at {len}");
        assert_eq!(read_all(&shard, 0).len() as u64, expected + 1);
        shard.close().unwrap();
    }
}

#[tokio::test]
async fn a_flipped_byte_truncates_from_the_damaged_batch_on() {
    let src = tempfile::tempdir().unwrap();
    let (bytes, bounds) = sample_segment(src.path()).await;
    let store = LogStore::open(cfg()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let name = "00000000000000000000.log";
    for i in segment_header::LEN..bytes.len() {
        let dir = work.path().join(format!("flip{i}"));
        fs::create_dir(&dir).unwrap();
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x40;
        fs::write(dir.join(name), &damaged).unwrap();
        let shard = store.open_shard(&dir).unwrap();
        let hit = bounds
            .iter()
            .position(|b| (b.0..b.1).contains(&(i as u64)))
            .unwrap();
        let expected = if hit == 0 { 0 } else { bounds[hit - 1].2 };
        assert_eq!(shard.next_offset(), expected, "flip at {i}");
        assert_eq!(read_all(&shard, 0).len() as u64, expected);
        assert_eq!(
            append(&shard, &[("k", b"v")], 1).await.first_offset,
            expected
        );
        shard.close().unwrap();
    }
}

#[tokio::test]
async fn a_damaged_header_on_a_non_empty_segment_refuses_to_open() {
    let src = tempfile::tempdir().unwrap();
    let (mut bytes, _) = sample_segment(src.path()).await;
    bytes[14] ^= 1;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("00000000000000000000.log"), &bytes).unwrap();
    let store = LogStore::open(cfg()).unwrap();
    let err = store.open_shard(dir.path()).unwrap_err();
    assert!(
        matches!(err, LogError::Corrupt { position: 0, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn sealed_indexes_are_rebuilt_when_missing_or_damaged_and_temp_files_removed() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(Durability::Fsync, 120, 32);
    {
        let (store, shard) = open(c.clone(), dir.path());
        for i in 0..30u8 {
            append(&shard, &[("key", &[i; 20])], i64::from(i)).await;
        }
        store.shutdown();
    }
    let idx = files_with_ext(dir.path(), "idx");
    assert_eq!(idx.len(), segment_files(dir.path()).len() - 1);
    assert!(idx.len() >= 3);
    let original = fs::read(&idx[1]).unwrap();
    fs::remove_file(&idx[0]).unwrap();
    let mut damaged = original.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    fs::write(&idx[1], &damaged).unwrap();
    fs::write(dir.path().join("00000000000000000000.idx.tmp"), b"junk").unwrap();
    // An index for the active segment is stale by definition (written just before a crash).
    let active = segment_files(dir.path()).pop().unwrap();
    fs::write(active.with_extension("idx"), b"stale").unwrap();

    let (_store, shard) = open(c, dir.path());
    assert_eq!(files_with_ext(dir.path(), "idx"), idx);
    assert_eq!(fs::read(&idx[1]).unwrap(), original);
    assert!(files_with_ext(dir.path(), "tmp").is_empty());
    let all = read_all(&shard, 0);
    assert_eq!(all.len(), 30);
    assert_eq!(shard.offset_at_time(17), 17);
}

#[tokio::test]
async fn a_torn_header_of_an_empty_active_segment_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(Durability::Fsync, 100, 32);
    {
        let (store, shard) = open(c.clone(), dir.path());
        for i in 0..5u8 {
            append(&shard, &[("key", &[i; 40])], 1).await;
        }
        store.shutdown();
    }
    let segs = segment_files(dir.path());
    let base: u64 = 5;
    let torn = dir.path().join(format!("{base:020}.log"));
    assert!(!segs.contains(&torn));
    // A crash while creating the next segment left a few header bytes.
    fs::write(&torn, b"FRSHT").unwrap();
    let (_store, shard) = open(c, dir.path());
    assert_eq!(shard.next_offset(), 5);
    assert_eq!(append(&shard, &[("k", b"v")], 2).await.first_offset, 5);
    assert_eq!(read_all(&shard, 0).len(), 6);
}
