// SPDX-License-Identifier: Apache-2.0
//! Recovery: a checkpoint taken at any point plus the journal entries after it (and the
//! messages log) rebuild exactly the live engine's observable state.

use freshet_sqs::checkpoint::Checkpoint;
use freshet_sqs::engine::{EngineConfig, QueueEngine, ReceiveRequest, SendRequest};
use freshet_sqs::message::MessageMeta;
use proptest::prelude::*;

use super::harness::{Sim, attrs};
use super::model::{Op, op, run_standard};

fn pump(e: &mut QueueEngine, messages: &[Vec<u8>]) {
    while let Some(req) = e.load_request() {
        let end = (req.from + req.max_records as u64).min(req.to);
        for o in req.from..end {
            e.load(
                o,
                &MessageMeta::decode(&messages[o as usize]).expect("meta"),
            );
        }
        if e.load_request() == Some(req) {
            break;
        }
    }
}

/// Drives `ops` on `q` (no model), dead-lettering into `dlq`; returns the checkpoint taken
/// before step `at`. FIFO receives with an even max carry a ReceiveRequestAttemptId that
/// repeats, so retries are exercised too.
fn drive(q: &mut Sim, dlq: &mut Sim, ops: &[Op], at: usize) -> Option<Checkpoint> {
    let mut handles: Vec<String> = Vec::new();
    let mut taken = None;
    for (step, op) in ops.iter().enumerate() {
        if step == at {
            taken = Some(q.checkpoint());
        }
        match op {
            Op::Send { delay } => {
                let body = format!("m{}", q.messages.len());
                if q.attrs.fifo_queue {
                    let group = format!("g{}", q.messages.len() % 3);
                    let dedup = format!("d{}", q.messages.len() % 7);
                    let _ = q.send_fifo(&body, &group, &dedup);
                } else {
                    let _ = q.send_req(SendRequest {
                        body,
                        delay_seconds: Some(i64::from(*delay)),
                        ..Default::default()
                    });
                }
            }
            Op::Receive { max, vis } => {
                let attempt = (q.attrs.fifo_queue && max % 2 == 0).then(|| format!("a{max}"));
                let got = q
                    .receive_into(
                        usize::from(*max),
                        vis.map(u32::from),
                        attempt.as_deref(),
                        Some(dlq),
                    )
                    .expect("receive");
                for (d, _) in got {
                    handles.push(d.receipt_handle);
                }
            }
            Op::Delete { pick } => {
                if !handles.is_empty() {
                    let h = handles[pick % handles.len()].clone();
                    let _ = q.delete(&h);
                }
            }
            Op::ChangeVisibility { pick, t } => {
                if !handles.is_empty() {
                    let h = handles[pick % handles.len()].clone();
                    let _ = q.change_visibility(&h, i64::from(*t));
                }
            }
            Op::Purge => {
                let _ = q.purge();
            }
            Op::Advance { ms } => q.advance(i64::from(*ms)),
        }
    }
    taken
}

fn assert_same(
    live: &mut QueueEngine,
    recovered: &mut QueueEngine,
    messages: &[Vec<u8>],
    now: i64,
) {
    pump(live, messages);
    pump(recovered, messages);
    for dt in [0, 1_000, 5_000, 30_000] {
        assert_eq!(
            live.counts(now + dt),
            recovered.counts(now + dt),
            "counts at +{dt}"
        );
    }
    let (a, b) = (live.snapshot(0, now), recovered.snapshot(0, now));
    assert_eq!(a.live, b.live, "message states");
    assert_eq!(a.dedup, b.dedup, "dedup entries");
    assert_eq!(a.attempts, b.attempts, "attempt ids");
    assert_eq!(a.next_sequence, b.next_sequence);
    assert_eq!(a.next_offset, b.next_offset);
    assert_eq!(a.last_purge_ms, b.last_purge_ms);
    assert_eq!(live.low_watermark(), recovered.low_watermark());
    // The same future: drain both the same way.
    let req = ReceiveRequest {
        max_messages: 10,
        visibility_timeout: Some(30),
        attempt_id: None,
    };
    for round in 0..50 {
        let t = now + 60_000 + round;
        let x = live.receive(&req, t).expect("receive");
        let y = recovered.receive(&req, t).expect("receive");
        assert_eq!(x.messages, y.messages, "deliveries in round {round}");
        if x.messages.is_empty() {
            break;
        }
    }
}

fn check(fifo: bool, ops: &[Op], at: usize) {
    let (mut q, mut dlq) = if fifo {
        let dlq = Sim::fifo("d.fifo", &[]);
        let policy = format!(
            "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":3}}",
            dlq.identity.arn
        );
        let q = Sim::fifo(
            "r.fifo",
            &[("VisibilityTimeout", "2"), ("RedrivePolicy", &policy)],
        );
        (q, dlq)
    } else {
        let dlq = Sim::standard("d");
        let policy = format!(
            "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":3}}",
            dlq.identity.arn
        );
        let a = attrs(&[("VisibilityTimeout", "2"), ("RedrivePolicy", &policy)]);
        (Sim::new("r", a, EngineConfig::default()), dlq)
    };
    let at = at % (ops.len() + 1);
    let c = drive(&mut q, &mut dlq, ops, at).unwrap_or_else(|| q.checkpoint());
    let now = q.now;
    let messages = q.messages.clone();
    let mut from_checkpoint = q.recover(Some(&c));
    let mut from_scratch = q.recover(None);
    let mut again = q.recover(Some(&c));
    assert_same(&mut q.engine, &mut from_checkpoint, &messages, now);
    assert_same(&mut from_scratch, &mut again, &messages, now);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_checkpoint_plus_the_journal_gives_the_live_state(ops in proptest::collection::vec(op(), 1..70), at in any::<usize>()) {
        check(false, &ops, at);
    }

    #[test]
    fn a_fifo_checkpoint_plus_the_journal_gives_the_live_state(ops in proptest::collection::vec(op(), 1..70), at in any::<usize>()) {
        check(true, &ops, at);
    }

    #[test]
    fn restarting_from_a_checkpoint_mid_run_keeps_matching_the_model(ops in proptest::collection::vec(op(), 1..70), at in any::<usize>()) {
        let at = at % ops.len();
        run_standard(&ops, EngineConfig::default(), Some(at));
    }
}

#[test]
fn a_checkpoint_survives_encoding_with_in_flight_and_deleted_messages() {
    let mut q = Sim::standard("q");
    for i in 0..5 {
        q.send(&format!("m{i}"));
    }
    let got = q.receive(3, Some(60));
    q.delete(&got[1].0.receipt_handle).unwrap();
    let c = q.checkpoint();
    assert_eq!(c.live.len(), 4);
    q.restart(Some(&c));
    let c2 = q.engine.counts(q.now);
    assert_eq!((c2.visible, c2.not_visible), (2, 2));
    // The handles of the old engine still work on the recovered one.
    q.delete(&got[0].0.receipt_handle).unwrap();
    assert_eq!(q.engine.counts(q.now).not_visible, 1);
}
