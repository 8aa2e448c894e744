//! A real SIGKILL: a child process (this test binary, re-executed) appends from several tasks
//! in Fsync mode and reports every acknowledgement; the parent kills it mid-flight and checks
//! that every acknowledged record survived and that offsets continue after the last one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use freshet_log::{Durability, LogStore, RecordIn};

use crate::common::{config, read_all};

const DIR_VAR: &str = "FRESHET_LOG_CRASH_DIR";

fn payload(task: usize, i: usize, j: usize) -> String {
    format!("task{task}-append{i}-record{j}")
}

/// The child side; does nothing unless started by the parent test.
#[test]
#[ignore = "run by acknowledged_records_survive_sigkill as a child process"]
fn crash_child_appends_until_killed() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let rt = rt.unwrap();
    rt.block_on(async move {
        let store = LogStore::open(config(Durability::Fsync, 2048, 128)).unwrap();
        let shard = store.open_shard(Path::new(&dir)).unwrap();
        let mut tasks = Vec::new();
        for task in 0..4usize {
            let shard = shard.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let n = 1 + (i + task) % 3;
                    let data: Vec<String> = (0..n).map(|j| payload(task, i, j)).collect();
                    let ins: Vec<RecordIn<'_>> = data
                        .iter()
                        .map(|d| RecordIn {
                            partition_key: "pk",
                            data: d.as_bytes(),
                        })
                        .collect();
                    let a = shard.append(&ins, 1_000).await.unwrap();
                    println!("acked {} {task} {i} {n}", a.first_offset);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn acknowledged_records_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "crash::crash_child_appends_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let Some(rest) = line.strip_prefix("acked ") else {
            continue;
        };
        let f: Vec<usize> = rest.split(' ').map(|x| x.parse().unwrap()).collect();
        for j in 0..f[3] {
            acked.insert(f[0] as u64 + j as u64, payload(f[1], f[2], j));
        }
        if acked.len() >= 600 {
            break;
        }
    }
    // Child::kill sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked.len() >= 600, "the child stopped early");

    let store = LogStore::open(config(Durability::Fsync, 2048, 128)).unwrap();
    let shard = store.open_shard(dir.path()).unwrap();
    let all = read_all(&shard, 0);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.offset, i as u64, "offsets are dense after recovery");
    }
    for (off, data) in &acked {
        let r = all
            .get(*off as usize)
            .unwrap_or_else(|| panic!("acknowledged {off} lost"));
        assert_eq!(&r.data[..], data.as_bytes());
    }
    let next = shard.next_offset();
    assert!(next > *acked.keys().last().unwrap());
    let rt = crate::common::runtime();
    let a = rt.block_on(shard.append(
        &[RecordIn {
            partition_key: "k",
            data: b"after",
        }],
        1,
    ));
    assert_eq!(a.unwrap().first_offset, next);
}
