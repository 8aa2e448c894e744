//! Many tasks appending to several shards at once in Fsync mode (group commit), with readers
//! running alongside.

use std::collections::BTreeMap;
use std::sync::Arc;

use freshet_log::{Durability, LogStore, RecordIn};

use crate::common::{config, read_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_record_is_readable_exactly_once_in_offset_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LogStore::open(config(Durability::Fsync, 4096, 256)).unwrap());
    let shards: Vec<_> = (0..4)
        .map(|i| {
            store
                .open_shard(&dir.path().join(format!("shard-{i}")))
                .unwrap()
        })
        .collect();
    let mut tasks = Vec::new();
    for t in 0..24usize {
        let shard = shards[t % shards.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..40usize {
                let n = 1 + (t + i) % 3;
                let payloads: Vec<String> = (0..n).map(|j| format!("t{t}-i{i}-r{j}")).collect();
                let ins: Vec<RecordIn<'_>> = payloads
                    .iter()
                    .map(|p| RecordIn {
                        partition_key: "pk",
                        data: p.as_bytes(),
                    })
                    .collect();
                let a = shard.append(&ins, 1_000 + i as i64).await.unwrap();
                // Acknowledged in Fsync mode means durable, hence visible.
                assert!(shard.next_offset() >= a.first_offset + n as u64);
                for (j, p) in payloads.into_iter().enumerate() {
                    acked.push((t % 4, a.first_offset + j as u64, p));
                }
            }
            acked
        }));
    }
    let readers: Vec<_> = shards
        .iter()
        .cloned()
        .map(|shard| {
            tokio::spawn(async move {
                let mut next = 0u64;
                for _ in 0..200 {
                    let got = shard.read(next, 50, 1 << 20, i64::MIN).unwrap();
                    for r in &got.records {
                        assert_eq!(r.offset, next, "reads see a dense prefix");
                        next += 1;
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut expected: Vec<BTreeMap<u64, String>> = vec![BTreeMap::new(); 4];
    for t in tasks {
        for (s, off, p) in t.await.unwrap() {
            assert!(
                expected[s].insert(off, p).is_none(),
                "offset {off} acknowledged twice"
            );
        }
    }
    for r in readers {
        r.await.unwrap();
    }
    for (s, shard) in shards.iter().enumerate() {
        let all = read_all(shard, 0);
        assert_eq!(all.len(), expected[s].len());
        for (r, (off, p)) in all.iter().zip(&expected[s]) {
            assert_eq!(r.offset, *off);
            assert_eq!(&r.data[..], p.as_bytes());
        }
        assert!(
            shard.stats().segments > 1,
            "the test should cross segment rolls"
        );
    }
    store.shutdown();
}
