// SPDX-License-Identifier: Apache-2.0
//! Standard-queue rules, one test each.

use freshet_sqs::Error;
use freshet_sqs::engine::{EngineConfig, MoveReason, SendRequest};
use freshet_sqs::journal::MoveTaskStatus;

use super::harness::{Sim, attrs};

#[test]
fn a_sent_message_is_received_with_its_body_and_md5() {
    let mut q = Sim::standard("q");
    let r = q.send("hi");
    assert_eq!(r.md5_of_body, "49f68a5c8493ec2c0bf489821c21fc3b");
    assert_eq!(r.sequence_number, None);
    let got = q.receive(10, None);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.body, "hi");
    assert_eq!(got[0].1.message_id, r.message_id);
    assert_eq!(got[0].0.receive_count, 1);
    assert_eq!(got[0].0.first_receive_ms, q.now);
}

#[test]
fn a_received_message_is_hidden_until_its_visibility_timeout() {
    let mut q = Sim::standard("q");
    q.send("a");
    assert_eq!(q.receive(1, Some(10)).len(), 1);
    assert!(q.receive(1, None).is_empty());
    q.advance(9_999);
    assert!(q.receive(1, None).is_empty());
    q.advance(1);
    let again = q.receive(1, None);
    assert_eq!(again[0].0.receive_count, 2);
}

#[test]
fn every_receive_gives_a_new_handle_and_keeps_the_first_receive_time() {
    let mut q = Sim::standard("q");
    q.send("a");
    let first = q.receive(1, Some(0)).remove(0).0;
    q.advance(5);
    let second = q.receive(1, Some(0)).remove(0).0;
    assert_ne!(first.receipt_handle, second.receipt_handle);
    assert_eq!(second.first_receive_ms, first.first_receive_ms);
}

#[test]
fn deleted_messages_never_come_back() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, Some(1)).remove(0).0.receipt_handle;
    q.delete(&h).unwrap();
    q.advance(10_000);
    assert!(q.receive(10, None).is_empty());
    // Deleting again succeeds.
    q.delete(&h).unwrap();
}

#[test]
fn a_stale_handle_deletes_nothing_on_a_standard_queue() {
    let mut q = Sim::standard("q");
    q.send("a");
    let old = q.receive(1, Some(1)).remove(0).0.receipt_handle;
    q.advance(1_000);
    let new = q.receive(1, Some(30)).remove(0).0.receipt_handle;
    q.delete(&old).unwrap();
    assert_eq!(q.engine.counts(q.now).not_visible, 1);
    q.delete(&new).unwrap();
    assert_eq!(q.engine.counts(q.now).not_visible, 0);
}

#[test]
fn a_forged_handle_is_invalid() {
    let mut q = Sim::standard("q");
    let e = q.delete("AQEBforged").unwrap_err();
    assert_eq!(e.code(), "ReceiptHandleIsInvalid");
    let mut other = Sim::standard("other");
    other.send("x");
    let h = other.receive(1, None).remove(0).0.receipt_handle;
    assert_eq!(q.delete(&h).unwrap_err().code(), "ReceiptHandleIsInvalid");
}

#[test]
fn visibility_changes_count_from_the_call() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, Some(30)).remove(0).0.receipt_handle;
    q.advance(20_000);
    q.change_visibility(&h, 5).unwrap();
    q.advance(4_999);
    assert!(q.receive(1, None).is_empty());
    q.advance(1);
    assert_eq!(q.receive(1, None).len(), 1);
}

#[test]
fn visibility_zero_makes_a_message_visible_at_once() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, Some(300)).remove(0).0.receipt_handle;
    q.change_visibility(&h, 0).unwrap();
    assert_eq!(q.receive(1, None).len(), 1);
}

#[test]
fn changing_visibility_with_a_stale_or_deleted_handle_is_refused_with_the_aws_text() {
    let mut q = Sim::standard("q");
    q.send("a");
    let old = q.receive(1, Some(0)).remove(0).0.receipt_handle;
    let new = q.receive(1, Some(30)).remove(0).0.receipt_handle;
    let e = q.change_visibility(&old, 10).unwrap_err();
    assert_eq!(e.query_code(), "InvalidParameterValue");
    assert_eq!(
        e.to_string(),
        format!(
            "Value {old} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        )
    );
    q.delete(&new).unwrap();
    assert!(q.change_visibility(&new, 10).is_err());
}

#[test]
fn changing_visibility_after_it_expired_succeeds_and_changes_nothing() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, Some(1)).remove(0).0.receipt_handle;
    q.advance(2_000);
    q.change_visibility(&h, 60).unwrap();
    assert_eq!(q.receive(1, None).len(), 1);
}

#[test]
fn total_visibility_is_limited_to_twelve_hours_from_the_receive() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, Some(43_200)).remove(0).0.receipt_handle;
    q.advance(1_000);
    let e = q.change_visibility(&h, 43_200).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
    );
    q.change_visibility(&h, 43_199).unwrap();
    assert!(q.change_visibility(&h, 43_201).is_err());
}

#[test]
fn delayed_messages_are_counted_as_delayed_until_due() {
    let mut q = Sim::new(
        "q",
        attrs(&[("DelaySeconds", "5")]),
        EngineConfig::default(),
    );
    q.send("queue delay");
    q.send_req(SendRequest {
        body: "own delay".into(),
        delay_seconds: Some(0),
        ..Default::default()
    })
    .unwrap();
    let c = q.engine.counts(q.now);
    assert_eq!((c.visible, c.delayed), (1, 1));
    assert_eq!(q.receive(10, None).len(), 1);
    q.advance(5_000);
    assert_eq!(q.receive(10, None)[0].1.body, "queue delay");
}

#[test]
fn a_long_poll_learns_when_the_next_message_becomes_visible() {
    let mut q = Sim::standard("q");
    q.send_req(SendRequest {
        body: "d".into(),
        delay_seconds: Some(7),
        ..Default::default()
    })
    .unwrap();
    let out = q
        .engine
        .receive(
            &freshet_sqs::engine::ReceiveRequest {
                max_messages: 1,
                visibility_timeout: None,
                attempt_id: None,
            },
            q.now,
        )
        .unwrap();
    assert!(out.messages.is_empty());
    assert_eq!(out.next_change_ms, Some(q.now + 7_000));
}

#[test]
fn messages_past_retention_are_never_delivered() {
    let mut q = Sim::new(
        "q",
        attrs(&[("MessageRetentionPeriod", "60")]),
        EngineConfig::default(),
    );
    q.send("old");
    q.advance(60_000);
    assert!(q.receive(10, None).is_empty());
    assert_eq!(q.engine.counts(q.now).visible, 0);
}

#[test]
fn purge_removes_everything_and_a_second_purge_within_a_minute_is_refused() {
    let mut q = Sim::standard("q");
    q.send("a");
    q.send("b");
    q.receive(1, None);
    q.purge().unwrap();
    assert_eq!(q.engine.counts(q.now), Default::default());
    let e = q.purge().unwrap_err();
    assert_eq!(
        e.to_string(),
        "Only one PurgeQueue operation on q is allowed every 60 seconds."
    );
    assert_eq!(e.status(), 403);
    q.send("c");
    assert_eq!(q.receive(10, None)[0].1.body, "c");
    q.advance(60_000);
    q.purge().unwrap();
}

#[test]
fn max_number_of_messages_bounds_a_receive_and_order_is_oldest_first() {
    let mut q = Sim::standard("q");
    for i in 0..15 {
        q.send(&format!("m{i}"));
    }
    let bodies: Vec<String> = q
        .receive(10, None)
        .into_iter()
        .map(|(_, m)| m.body)
        .collect();
    assert_eq!(bodies, (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert_eq!(q.receive(10, None).len(), 5);
}

#[test]
fn batch_deletes_report_each_entry() {
    let mut q = Sim::standard("q");
    q.send("a");
    let h = q.receive(1, None).remove(0).0.receipt_handle;
    let out = q
        .engine
        .delete_batch(&[("ok".into(), h), ("bad".into(), "garbage".into())], q.now);
    assert!(out.results[0].1.is_ok());
    assert_eq!(
        out.results[1].1.as_ref().unwrap_err().code(),
        "ReceiptHandleIsInvalid"
    );
    assert!(out.journal.is_some());
    assert_eq!(q.engine.counts(q.now).not_visible, 0);
}

#[test]
fn the_in_flight_limit_answers_over_limit_on_standard_queues() {
    let config = EngineConfig {
        inflight_limit: 2,
        ..EngineConfig::default()
    };
    let mut q = Sim::new("q", attrs(&[]), config);
    for b in ["a", "b", "c"] {
        q.send(b);
    }
    assert_eq!(q.receive(2, None).len(), 2);
    let e = q.receive_into(1, None, None, None).unwrap_err();
    assert_eq!(e.code(), "OverLimit");
    assert_eq!(e.status(), 403);
}

#[test]
fn a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue() {
    let mut dlq = Sim::standard("dlq");
    let policy = format!(
        "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":2}}",
        dlq.identity.arn
    );
    let mut q = Sim::new(
        "src",
        attrs(&[("RedrivePolicy", &policy)]),
        EngineConfig::default(),
    );
    let sent = q.send("poison");
    for _ in 0..2 {
        assert_eq!(
            q.receive_into(1, Some(0), None, Some(&mut dlq))
                .unwrap()
                .len(),
            1
        );
    }
    assert!(
        q.receive_into(1, Some(0), None, Some(&mut dlq))
            .unwrap()
            .is_empty()
    );
    assert_eq!(q.engine.counts(q.now), Default::default());
    let got = dlq.receive(1, None);
    assert_eq!(got[0].1.message_id, sent.message_id);
    let origin = got[0].1.dead_letter.clone().unwrap();
    assert_eq!(origin.source_arn, q.identity.arn);
    assert!(origin.first_receive_ms.is_some());
    // Standard: the original SentTimestamp is kept.
    assert_eq!(got[0].1.sent_ms, StoredSent::of(&q));
}

struct StoredSent;
impl StoredSent {
    fn of(q: &Sim) -> i64 {
        freshet_sqs::message::StoredMessage::decode(&q.messages[0])
            .unwrap()
            .sent_ms
    }
}

#[test]
fn a_failed_dead_letter_move_leaves_the_message_receivable() {
    let policy = "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:gone\",\"maxReceiveCount\":1}";
    let mut q = Sim::new(
        "src",
        attrs(&[("RedrivePolicy", policy)]),
        EngineConfig::default(),
    );
    q.send("a");
    assert_eq!(q.receive(1, Some(0)).len(), 1);
    // The move is aborted by the harness (no DLQ): the message stays, and is offered again.
    assert!(q.receive(1, Some(0)).is_empty());
    assert_eq!(q.engine.counts(q.now).visible, 1);
}

#[test]
fn a_move_task_moves_dead_letters_back_to_their_source_paced_by_its_rate() {
    let mut dlq = Sim::standard("dlq");
    let mut src = Sim::standard("src");
    for i in 0..5 {
        let m = freshet_sqs::message::StoredMessage {
            message_id: format!("m{i}"),
            sender_id: "s".into(),
            sent_ms: dlq.now,
            delay_seconds: 0,
            body: format!("b{i}"),
            attributes: Default::default(),
            trace_header: None,
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            dead_letter: None,
        }
        .dead_lettered(&src.identity.arn, None, false, dlq.now);
        let p = dlq.engine.prepare_move_in(m);
        let off = dlq.messages.len() as u64;
        dlq.messages.push(p.record());
        dlq.engine.apply_sent(off, &p.message.meta());
    }
    let e = dlq
        .engine
        .start_move_task("t1".into(), None, Some(2), dlq.now)
        .unwrap();
    assert!(matches!(
        e,
        freshet_sqs::journal::JournalEntry::MoveTaskStarted { to_move: 5, .. }
    ));
    assert!(
        dlq.engine
            .start_move_task("t2".into(), None, None, dlq.now)
            .is_err()
    );
    let mut moved = 0;
    let mut steps = 0;
    loop {
        let step = dlq.engine.move_task_step(dlq.now);
        steps += 1;
        if step.journal.is_some() {
            break;
        }
        for m in step.moves {
            let MoveReason::Task {
                destination_arn: None,
                ..
            } = &m.reason
            else {
                panic!("unexpected reason {:?}", m.reason);
            };
            let rec = freshet_sqs::message::StoredMessage::decode(&dlq.messages[m.offset as usize])
                .unwrap();
            assert_eq!(
                rec.dead_letter.as_ref().unwrap().source_arn,
                src.identity.arn
            );
            let p = src.engine.prepare_move_in(rec.redriven(dlq.now));
            let off = src.messages.len() as u64;
            src.messages.push(p.record());
            src.engine.apply_sent(off, &p.message.meta());
            assert!(dlq.engine.complete_move(m.offset).is_some());
            moved += 1;
        }
        if let Some(t) = step.next_step_ms {
            assert!(t >= dlq.now);
            dlq.now = t;
        }
        assert!(steps < 20);
    }
    assert_eq!(moved, 5);
    let tasks = dlq.engine.move_tasks(10);
    assert_eq!(tasks[0].status, MoveTaskStatus::Completed);
    assert_eq!(tasks[0].moved, 5);
    src.now = dlq.now;
    assert_eq!(src.receive(10, None).len(), 5);
    assert_eq!(dlq.engine.counts(dlq.now), Default::default());
}

#[test]
fn cancelling_a_move_task_stops_it() {
    let mut dlq = Sim::standard("dlq");
    dlq.send("a");
    dlq.engine
        .start_move_task(
            "t".into(),
            Some("arn:aws:sqs:us-east-1:0:x".into()),
            None,
            dlq.now,
        )
        .unwrap();
    let (_, moved) = dlq.engine.cancel_move_task("t", dlq.now).unwrap();
    assert_eq!(moved, 0);
    assert!(dlq.engine.move_task_step(dlq.now).moves.is_empty());
    assert_eq!(
        dlq.engine.move_tasks(1)[0].status,
        MoveTaskStatus::Cancelled
    );
    assert_eq!(
        dlq.engine
            .cancel_move_task("nope", dlq.now)
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn send_validation_uses_the_queue_limits() {
    let mut q = Sim::new(
        "q",
        attrs(&[("MaximumMessageSize", "1024")]),
        EngineConfig::default(),
    );
    let e = q
        .send_req(SendRequest {
            body: "x".repeat(1025),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Message must be shorter than 1024 bytes.")
    );
    let e = q
        .send_req(SendRequest {
            body: "a\u{0}".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e, Error::InvalidMessageContents);
    let e = q
        .send_req(SendRequest {
            body: "a".into(),
            delay_seconds: Some(901),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.query_code(), "InvalidParameterValue");
    let e = q
        .send_req(SendRequest {
            body: "a".into(),
            dedup_id: Some("d".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.query_code(), "InvalidParameterValue");
}
