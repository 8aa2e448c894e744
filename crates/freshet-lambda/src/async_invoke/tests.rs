// SPDX-License-Identifier: Apache-2.0
//! The queue's storage: durability, recovery from the logs and checkpoints, the bound, and
//! what `take_ready` hands out. Runs on a temporary platform with a manual clock.

use std::path::Path;
use std::sync::Arc;

use freshet_log::{Durability, LogConfig};
use freshet_runtime::{Platform, Tasks};
use freshet_types::ManualClock;

use super::*;

const T0: i64 = 1_700_000_000_000;

fn platform(dir: &Path, clock: &ManualClock) -> Platform {
    let config = LogConfig {
        durability: Durability::Fsync,
        // Small segments, so checkpoints have whole segments to delete.
        segment_bytes: 4096,
        ..LogConfig::default()
    };
    Platform::open_local(dir, config, Arc::new(clock.clone()), Tasks::detached()).expect("platform")
}

fn opts(max_queued: usize) -> AsyncQueueOptions {
    AsyncQueueOptions {
        max_queued,
        max_in_flight: 10,
        checkpoint_changes: u64::MAX,
        checkpoint_interval_ms: i64::MAX,
    }
}

fn event(function: &str, n: usize) -> NewEvent {
    NewEvent {
        function: function.into(),
        qualifier: None,
        request_id: format!("req-{n}"),
        client_context: None,
        payload: Bytes::from(format!("{{\"n\":{n}}}")),
    }
}

fn offsets(q: &AsyncQueue) -> Vec<u64> {
    q.pending().iter().map(|p| p.offset).collect()
}

#[tokio::test]
async fn accepted_events_survive_a_restart_without_a_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(100)).expect("open");
    for n in 0..5 {
        q.enqueue(event("f", n)).await.expect("enqueue");
    }
    let before = offsets(&q);
    // A crash: nothing but what the appends made durable.
    drop(q);
    p.shutdown();
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(100)).expect("reopen");
    assert_eq!(offsets(&q), before);
    let rec = q.read_event(before[3]).expect("read");
    assert_eq!(rec.request_id, "req-3");
    assert_eq!(rec.payload, Bytes::from_static(br#"{"n":3}"#));
    assert_eq!(rec.accepted_ms, T0);
}

#[tokio::test]
async fn finished_and_requeued_events_recover_from_the_journal_and_the_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(100)).expect("open");
    for n in 0..40 {
        q.enqueue(event("f", n)).await.expect("enqueue");
    }
    let taken = q.take_ready(T0, |_| None);
    assert_eq!(taken.len(), 10, "max_in_flight");
    // Half finish before the checkpoint, a retry is re-queued after it.
    for p in &taken[..5] {
        q.finish(p.offset).await.expect("finish");
    }
    q.checkpoint().await.expect("checkpoint");
    for p in &taken[5..9] {
        q.finish(p.offset).await.expect("finish");
    }
    let retried = &taken[9];
    let mut rec = q.read_event(retried.offset).expect("read");
    rec.attempts = 1;
    rec.due_ms = T0 + 60_000;
    q.requeue(retried.offset, rec).await.expect("requeue");
    let before = q.pending();
    assert_eq!(before.len(), 31);
    drop(q);
    p.shutdown();

    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(100)).expect("reopen");
    let after = q.pending();
    assert_eq!(after, before);
    let moved = after.last().expect("the re-queued event is the newest");
    assert_eq!((moved.attempts, moved.due_ms), (1, T0 + 60_000));
    assert_eq!(
        q.read_event(moved.offset).expect("read").request_id,
        "req-9"
    );
}

#[tokio::test]
async fn a_checkpoint_lets_the_logs_drop_finished_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let mut o = opts(1000);
    o.max_in_flight = 1000;
    let q = AsyncQueue::open(&p, o.clone()).expect("open");
    for n in 0..200 {
        q.enqueue(event("f", n)).await.expect("enqueue");
    }
    for p in q.take_ready(T0, |_| None).iter().take(190) {
        q.finish(p.offset).await.expect("finish");
    }
    q.checkpoint().await.expect("checkpoint");
    assert!(
        q.inner.events.start_offset() > 0,
        "finished segments deleted"
    );
    assert!(
        q.inner.journal.start_offset() > 0,
        "covered journal deleted"
    );
    let live = offsets(&q);
    assert_eq!(live.len(), 10);
    drop(q);
    p.shutdown();
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, o).expect("reopen");
    assert_eq!(offsets(&q), live);
    for off in live {
        q.read_event(off).expect("still readable");
    }
}

#[tokio::test]
async fn the_queue_refuses_events_beyond_its_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(3)).expect("open");
    for n in 0..3 {
        q.enqueue(event("f", n)).await.expect("enqueue");
    }
    assert_eq!(q.enqueue(event("f", 3)).await, Err(QueueError::Full));
    let first = q.take_ready(T0, |_| None)[0].offset;
    q.finish(first).await.expect("finish");
    q.enqueue(event("f", 4)).await.expect("room again");
}

#[tokio::test]
async fn reserved_concurrency_and_due_times_limit_what_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let q = AsyncQueue::open(&p, opts(100)).expect("open");
    for n in 0..4 {
        q.enqueue(event("limited", n)).await.expect("enqueue");
    }
    for n in 0..2 {
        q.enqueue(event("free", n)).await.expect("enqueue");
    }
    let limit = |f: &str| (f == "limited").then_some(1);
    let first = q.take_ready(T0, limit);
    let names: Vec<&str> = first.iter().map(|p| p.function.as_str()).collect();
    assert_eq!(names, vec!["limited", "free", "free"]);
    assert!(
        q.take_ready(T0, limit).is_empty(),
        "limited is at its limit"
    );
    // A throttled attempt backs off: not due again until its time.
    q.defer(first[1].offset, T0 + 1_000, 1);
    assert!(q.take_ready(T0 + 999, limit).is_empty());
    let later = q.take_ready(T0 + 1_000, limit);
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].offset, first[1].offset);
    assert_eq!(later[0].not_run, 1);
    // Once the limited function's event finishes, its next one may run.
    q.finish(first[0].offset).await.expect("finish");
    let next = q.take_ready(T0 + 1_000, limit);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].function, "limited");
    assert_eq!(q.next_due(), Some(T0));
}
