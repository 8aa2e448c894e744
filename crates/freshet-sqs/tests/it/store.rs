// SPDX-License-Identifier: Apache-2.0
//! The service on a real platform (logs and metadata store in a temporary directory): the
//! in-process API, recovery after a crash (no checkpoint at the end) and after checkpoints,
//! and the bounded window over a backlog on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use freshet_log::LogConfig;
use freshet_runtime::{Platform, Tasks};
use freshet_sqs::engine::ReceiveRequest;
use freshet_sqs::message::{AttributeData, AttributeValue};
use freshet_sqs::{Sqs, SqsOptions};
use freshet_types::ManualClock;

pub(crate) const T0: i64 = 1_700_000_000_000;

pub(crate) fn platform(dir: &Path, clock: &ManualClock) -> Platform {
    let config = LogConfig {
        segment_bytes: 64 * 1024,
        ..LogConfig::default()
    };
    Platform::open_local(dir, config, Arc::new(clock.clone()), Tasks::detached()).expect("platform")
}

fn options(cap: usize) -> SqsOptions {
    SqsOptions {
        max_loaded_messages: cap,
        checkpoint_changes: 50,
        ..SqsOptions::default()
    }
}

async fn open(dir: &Path, clock: &ManualClock, cap: usize) -> (Platform, Sqs) {
    let p = platform(dir, clock);
    let sqs = Sqs::open_on(&p, options(cap)).await.expect("open sqs");
    (p, sqs)
}

/// A crash: no checkpoint, no clean close of the queues; the platform's files are released.
fn crash(p: Platform, sqs: Sqs) {
    drop(sqs);
    p.shutdown();
}

pub(crate) fn arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:000000000000:{name}")
}

async fn receive(sqs: &Sqs, name: &str, max: usize) -> Vec<freshet_sqs::Received> {
    sqs.receive_by_name(
        name,
        &ReceiveRequest {
            max_messages: max,
            visibility_timeout: None,
            attempt_id: None,
        },
    )
    .await
    .expect("receive")
}

#[tokio::test]
async fn the_in_process_send_reaches_the_queue_its_arn_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (p, sqs) = open(dir.path(), &clock, 100).await;
    sqs.create_queue("failures", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    let attrs = BTreeMap::from([(
        "a".to_owned(),
        AttributeValue {
            data_type: "String".into(),
            data: AttributeData::String("v".into()),
        },
    )]);
    let sent = sqs.send(&arn("failures"), "hi", attrs).await.expect("send");
    assert_eq!(sent.md5_of_body, "49f68a5c8493ec2c0bf489821c21fc3b");
    assert_eq!(
        sent.md5_of_attributes.as_deref(),
        Some("a18cbb58171ebf4ce88d9fb787f9210b")
    );
    let got = receive(&sqs, "failures", 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message.body, "hi");
    assert_eq!(got[0].message.message_id, sent.message_id);
    let missing = sqs.send(&arn("nope"), "x", BTreeMap::new()).await;
    assert!(missing.is_err());
    sqs.shutdown();
    p.shutdown();
}

#[tokio::test]
async fn a_crash_loses_no_acknowledged_send_and_resurrects_no_acknowledged_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (p, sqs) = open(dir.path(), &clock, 1000).await;
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    for i in 0..120 {
        sqs.send(&arn("q"), &format!("m{i}"), BTreeMap::new())
            .await
            .expect("send");
        if i == 60 {
            // Some history goes into a checkpoint, the rest only into the journal.
            sqs.maintain().await;
        }
    }
    let got = receive(&sqs, "q", 10).await;
    let mut deleted = Vec::new();
    for r in got.iter().take(6) {
        sqs.delete_by_name("q", &r.delivery.receipt_handle)
            .await
            .expect("delete");
        deleted.push(r.message.body.clone());
    }
    let in_flight: Vec<String> = got.iter().skip(6).map(|r| r.message.body.clone()).collect();
    crash(p, sqs);

    let (p, sqs) = open(dir.path(), &clock, 1000).await;
    let counts = sqs.counts("q").expect("queue");
    assert_eq!(counts.visible, 120 - 10);
    assert_eq!(
        counts.not_visible, 4,
        "the undeleted received ones are still in flight"
    );
    clock.advance(30_000);
    let mut bodies = Vec::new();
    loop {
        let got = receive(&sqs, "q", 10).await;
        if got.is_empty() {
            break;
        }
        for r in got {
            bodies.push(r.message.body.clone());
            sqs.delete_by_name("q", &r.delivery.receipt_handle)
                .await
                .expect("delete");
        }
    }
    bodies.sort();
    let mut expected: Vec<String> = (0..120)
        .map(|i| format!("m{i}"))
        .filter(|b| !deleted.contains(b))
        .collect();
    expected.sort();
    assert_eq!(bodies, expected);
    for b in &in_flight {
        assert!(bodies.contains(b), "{b} was in flight, not lost");
    }
    sqs.shutdown();
    p.shutdown();
}

#[tokio::test]
async fn a_backlog_a_hundred_times_the_window_is_served_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let cap = 5;
    let (p, sqs) = open(dir.path(), &clock, cap).await;
    sqs.create_queue("big", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    let body = "x".repeat(500);
    for i in 0..(cap * 100) {
        sqs.send(&arn("big"), &format!("{i:04}{body}"), BTreeMap::new())
            .await
            .expect("send");
        assert!(sqs.loaded_messages("big").expect("queue") <= cap);
    }
    assert_eq!(
        sqs.counts("big").expect("queue").visible,
        (cap * 100) as u64
    );
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let got = receive(&sqs, "big", 10).await;
        assert!(sqs.loaded_messages("big").expect("queue") <= cap);
        if got.is_empty() {
            break;
        }
        for r in got {
            assert!(
                seen.insert(r.message.body[..4].to_owned()),
                "delivered twice"
            );
            sqs.delete_by_name("big", &r.delivery.receipt_handle)
                .await
                .expect("delete");
        }
        sqs.maintain().await;
    }
    assert_eq!(seen.len(), cap * 100);
    // Checkpoints let go of the consumed log.
    sqs.checkpoint_all().await;
    let messages_dir = std::fs::read_dir(dir.path().join("logs/sqs"))
        .expect("queue dirs")
        .flatten()
        .next()
        .expect("one queue")
        .path()
        .join("messages");
    let segments = std::fs::read_dir(&messages_dir)
        .expect("segments")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .count();
    assert!(segments <= 2, "{segments} segments left");
    sqs.shutdown();
    p.shutdown();
}

#[tokio::test]
async fn a_clean_restart_replays_nothing_and_keeps_every_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (p, sqs) = open(dir.path(), &clock, 100).await;
    let fifo = BTreeMap::from([("FifoQueue".to_owned(), "true".to_owned())]);
    sqs.create_queue("f.fifo", &fifo, &BTreeMap::new())
        .await
        .expect("create");
    for i in 0..5 {
        sqs.send_request(
            &arn("f.fifo"),
            freshet_sqs::engine::SendRequest {
                body: format!("m{i}"),
                group_id: Some("g".into()),
                dedup_id: Some(format!("d{i}")),
                ..Default::default()
            },
        )
        .await
        .expect("send");
    }
    sqs.checkpoint_all().await;
    sqs.shutdown();
    p.shutdown();
    let (p, sqs) = open(dir.path(), &clock, 100).await;
    let got = receive(&sqs, "f.fifo", 10).await;
    let bodies: Vec<&str> = got.iter().map(|r| r.message.body.as_str()).collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    sqs.shutdown();
    p.shutdown();
}
