//! The read-only dump used by `freshet inspect`.

use std::fs;

use freshet_log::format::segment_header;
use freshet_log::inspect::{dump_segment, dump_shard};
use freshet_log::{Corruption, Durability};

use crate::common::{append, config, open, segment_files};

#[tokio::test]
async fn dump_shows_batches_records_and_a_corrupt_tail_without_modifying_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, shard) = open(config(Durability::Fsync, 1 << 20, 64), dir.path());
        append(&shard, &[("a", b"1"), ("b", b"22")], 10).await;
        append(&shard, &[("c", b"333")], 20).await;
        store.shutdown();
    }
    let seg = segment_files(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&seg).unwrap();
    let clean_len = bytes.len() as u64;
    bytes.extend_from_slice(&[0xAB; 40]);
    fs::write(&seg, &bytes).unwrap();

    let dump = dump_segment(&seg).unwrap();
    assert_eq!(
        fs::read(&seg).unwrap(),
        bytes,
        "inspect never modifies the file"
    );
    let header = dump.header.as_ref().unwrap();
    assert_eq!(&header.magic, b"FRSHTLOG");
    assert_eq!(header.version, 1);
    assert_eq!(header.base_offset, 0);
    assert_eq!(header.problem, None);
    assert_eq!(dump.batches.len(), 2);
    let b0 = &dump.batches[0];
    assert_eq!(
        (
            b0.position,
            b0.base_offset,
            b0.record_count,
            b0.arrival_ms,
            b0.crc_ok
        ),
        (segment_header::LEN as u64, 0, 2, 10, true)
    );
    assert_eq!(b0.records[1].partition_key, "b");
    assert_eq!(&b0.records[1].data[..], b"22");
    assert_eq!(dump.batches[1].base_offset, 2);
    let tail = dump.tail.as_ref().unwrap();
    assert_eq!(tail.position, clean_len);
    assert_eq!(tail.bytes, 40);
    assert!(matches!(tail.reason, Corruption::BadLength(_)));
    let text = dump.to_string();
    assert!(text.contains("bad tail"), "{text}");

    // A bit flip in the second batch's payload shows as a bad CRC.
    let mut flipped = bytes[..clean_len as usize].to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    fs::write(&seg, &flipped).unwrap();
    let dump = dump_segment(&seg).unwrap();
    assert!(dump.batches[0].crc_ok);
    assert!(!dump.batches[1].crc_ok);
    assert!(matches!(
        dump.tail.as_ref().unwrap().reason,
        Corruption::BadCrc { .. }
    ));

    let shard = dump_shard(dir.path()).unwrap();
    assert_eq!(shard.segments.len(), 1);
    assert!(shard.indexes.is_empty());
}

#[tokio::test]
async fn dump_of_a_shard_lists_sealed_indexes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, shard) = open(config(Durability::None, 80, 16), dir.path());
        for i in 0..6u8 {
            append(&shard, &[("key", &[i; 30])], i64::from(i)).await;
        }
        store.shutdown();
    }
    let dump = dump_shard(dir.path()).unwrap();
    assert!(dump.segments.len() >= 3);
    assert_eq!(dump.indexes.len(), dump.segments.len() - 1);
    for idx in &dump.indexes {
        let contents = idx.contents.as_ref().unwrap();
        assert!(!contents.entries.is_empty());
    }
    assert!(dump.segments.iter().all(|s| s.tail.is_none()));
}
