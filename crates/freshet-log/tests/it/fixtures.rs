//! Committed fixture files of format version 1: a clean segment, a truncated one and a corrupt
//! one. Each is regenerated and compared byte for byte (so a format change is noticed), then
//! recovered.

use std::fs;
use std::path::{Path, PathBuf};

use freshet_log::{Durability, LogStore};

use crate::common::{append, config, open, read_all, segment_files};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

async fn clean_segment() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (store, shard) = open(config(Durability::None, 1 << 20, 64), dir.path());
    append(&shard, &[("alpha", b"first record")], 1_700_000_000_000).await;
    append(
        &shard,
        &[("beta", b"second"), ("gamma", b"")],
        1_700_000_000_500,
    )
    .await;
    append(
        &shard,
        &[("delta", &[0xde, 0xad, 0xbe, 0xef])],
        1_700_000_001_000,
    )
    .await;
    store.shutdown();
    fs::read(segment_files(dir.path()).pop().unwrap()).unwrap()
}

/// (name, bytes, records that survive recovery).
async fn fixtures() -> Vec<(&'static str, Vec<u8>, u64)> {
    let clean = clean_segment().await;
    let truncated = clean[..clean.len() - 3].to_vec();
    let mut corrupt = clean.clone();
    // A byte inside the second batch's data.
    corrupt[24 + 32 + 6 + 5 + 12 + 32 + 8] ^= 0x01;
    vec![
        ("v1-clean.log", clean, 4),
        ("v1-truncated.log", truncated, 3),
        ("v1-corrupt.log", corrupt, 1),
    ]
}

#[tokio::test]
async fn fixtures_match_the_current_encoder_and_recover_as_expected() {
    let store = LogStore::open(config(Durability::Fsync, 1 << 20, 64)).unwrap();
    for (name, bytes, survivors) in fixtures().await {
        let path = fixture_dir().join(name);
        if !path.exists() {
            fs::create_dir_all(fixture_dir()).unwrap();
            fs::write(&path, &bytes).unwrap();
        }
        let committed = fs::read(&path).unwrap();
        assert_eq!(
            committed, bytes,
            "{name} differs from what version 1 encodes"
        );
        let dir = tempfile::tempdir().unwrap();
        fs::copy(&path, dir.path().join("00000000000000000000.log")).unwrap();
        let shard = store.open_shard(dir.path()).unwrap();
        assert_eq!(shard.next_offset(), survivors, "{name}");
        let all = read_all(&shard, 0);
        assert_eq!(all.len() as u64, survivors);
        assert_eq!(all[0].partition_key, "alpha");
        assert_eq!(&all[0].data[..], b"first record");
        assert_eq!(all[0].arrival_ms, 1_700_000_000_000);
        // Recovery works on its copy; the committed fixture is untouched.
        assert_eq!(fs::read(&path).unwrap(), committed);
    }
}
