// SPDX-License-Identifier: Apache-2.0
//! FIFO rules, one test each.

use freshet_sqs::Error;
use freshet_sqs::engine::SendRequest;

use super::harness::Sim;

#[test]
fn messages_of_one_group_come_in_order_and_one_batch_at_a_time() {
    let mut q = Sim::fifo("q.fifo", &[]);
    for i in 0..4 {
        q.send_fifo(&format!("g{i}"), "g", &format!("d{i}"))
            .unwrap();
    }
    let first = q.receive(2, Some(30));
    assert_eq!(
        first
            .iter()
            .map(|(_, m)| m.body.as_str())
            .collect::<Vec<_>>(),
        ["g0", "g1"]
    );
    // The group has messages in flight: nothing more of it.
    assert!(q.receive(10, None).is_empty());
    for (d, _) in &first {
        q.delete(&d.receipt_handle).unwrap();
    }
    let next = q.receive(10, None);
    assert_eq!(
        next.iter()
            .map(|(_, m)| m.body.as_str())
            .collect::<Vec<_>>(),
        ["g2", "g3"]
    );
}

#[test]
fn a_receive_fills_up_from_one_group_before_the_next() {
    let mut q = Sim::fifo("q.fifo", &[]);
    for i in 0..3 {
        q.send_fifo(&format!("a{i}"), "a", &format!("a{i}"))
            .unwrap();
        q.send_fifo(&format!("b{i}"), "b", &format!("b{i}"))
            .unwrap();
    }
    let bodies = |r: Vec<_>| {
        r.into_iter()
            .map(|(_, m): (_, freshet_sqs::message::StoredMessage)| m.body)
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(q.receive(2, Some(30))), ["a0", "a1"]);
    assert_eq!(bodies(q.receive(4, Some(30))), ["b0", "b1", "b2"]);
}

#[test]
fn other_groups_are_delivered_while_one_is_in_flight() {
    let mut q = Sim::fifo("q.fifo", &[]);
    q.send_fifo("a1", "a", "1").unwrap();
    q.send_fifo("a2", "a", "2").unwrap();
    q.send_fifo("b1", "b", "3").unwrap();
    assert_eq!(q.receive(1, None)[0].1.body, "a1");
    assert_eq!(
        q.receive(10, None)
            .iter()
            .map(|(_, m)| m.body.clone())
            .collect::<Vec<_>>(),
        ["b1"]
    );
}

#[test]
fn duplicates_within_five_minutes_get_the_original_id_and_sequence_number() {
    let mut q = Sim::fifo("q.fifo", &[]);
    let a = q.send_fifo("x", "g", "same").unwrap();
    let b = q.send_fifo("y", "g", "same").unwrap();
    assert_eq!(a.message_id, b.message_id);
    assert_eq!(a.sequence_number, b.sequence_number);
    assert_eq!(q.messages.len(), 1);
    // Even after the original is deleted.
    let h = q.receive(1, None).remove(0).0.receipt_handle;
    q.delete(&h).unwrap();
    assert_eq!(
        q.send_fifo("z", "g", "same").unwrap().message_id,
        a.message_id
    );
    q.advance(300_000);
    assert_ne!(
        q.send_fifo("z", "g", "same").unwrap().message_id,
        a.message_id
    );
}

#[test]
fn content_based_deduplication_hashes_the_body_only() {
    let mut q = Sim::fifo("q.fifo", &[("ContentBasedDeduplication", "true")]);
    let send = |q: &mut Sim, body: &str, attr: bool| {
        let mut req = SendRequest {
            body: body.into(),
            group_id: Some("g".into()),
            ..Default::default()
        };
        if attr {
            req.attributes.insert(
                "a".into(),
                freshet_sqs::message::AttributeValue {
                    data_type: "String".into(),
                    data: freshet_sqs::message::AttributeData::String("v".into()),
                },
            );
        }
        q.send_req(req).unwrap()
    };
    let a = send(&mut q, "same", false);
    let b = send(&mut q, "same", true);
    let c = send(&mut q, "other", false);
    assert_eq!(a.message_id, b.message_id);
    assert_ne!(a.message_id, c.message_id);
    let got = q.receive(10, None);
    assert_eq!(
        got[0].1.dedup_id.as_deref(),
        Some("0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5")
    );
}

#[test]
fn message_group_scope_deduplicates_per_group() {
    let mut q = Sim::fifo("q.fifo", &[("DeduplicationScope", "messageGroup")]);
    let a = q.send_fifo("x", "g1", "d").unwrap();
    let b = q.send_fifo("x", "g2", "d").unwrap();
    let c = q.send_fifo("x", "g1", "d").unwrap();
    assert_ne!(a.message_id, b.message_id);
    assert_eq!(a.message_id, c.message_id);
}

#[test]
fn sequence_numbers_increase_and_look_like_aws() {
    let mut q = Sim::fifo("q.fifo", &[]);
    let a: u128 = q
        .send_fifo("1", "g", "1")
        .unwrap()
        .sequence_number
        .unwrap()
        .parse()
        .unwrap();
    let b: u128 = q
        .send_fifo("2", "h", "2")
        .unwrap()
        .sequence_number
        .unwrap()
        .parse()
        .unwrap();
    assert!(b > a);
    assert_eq!(a.to_string().len(), 20);
}

#[test]
fn fifo_sends_need_a_group_and_a_dedup_id_and_refuse_per_message_delays() {
    let mut q = Sim::fifo("q.fifo", &[]);
    let e = q.send_req(SendRequest {
        body: "a".into(),
        dedup_id: Some("d".into()),
        ..Default::default()
    });
    assert_eq!(
        e.unwrap_err(),
        Error::MissingParameter {
            parameter: "MessageGroupId"
        }
    );
    let e = q.send_req(SendRequest {
        body: "a".into(),
        group_id: Some("g".into()),
        ..Default::default()
    });
    assert_eq!(
        e.unwrap_err().to_string(),
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
    let e = q.send_req(SendRequest {
        body: "a".into(),
        group_id: Some("g".into()),
        dedup_id: Some("d".into()),
        delay_seconds: Some(2),
        ..Default::default()
    });
    assert_eq!(
        e.unwrap_err().to_string(),
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
    );
    assert!(q.engine.check_fifo_batch([(None, Some("d"))]).is_err());
    assert!(q.engine.check_fifo_batch([(Some("g"), Some("d"))]).is_ok());
}

#[test]
fn a_receive_retried_with_its_attempt_id_returns_the_same_handles_and_resets_visibility() {
    let mut q = Sim::fifo("q.fifo", &[]);
    q.send_fifo("a", "g", "1").unwrap();
    q.send_fifo("b", "g", "2").unwrap();
    let first = q
        .receive_into(10, Some(30), Some("attempt-1"), None)
        .unwrap();
    q.advance(20_000);
    let retry = q
        .receive_into(10, Some(30), Some("attempt-1"), None)
        .unwrap();
    assert_eq!(
        first
            .iter()
            .map(|(d, _)| d.receipt_handle.clone())
            .collect::<Vec<_>>(),
        retry
            .iter()
            .map(|(d, _)| d.receipt_handle.clone())
            .collect::<Vec<_>>()
    );
    q.advance(29_999);
    assert!(q.receive(10, None).is_empty());
    q.advance(1);
    assert_eq!(q.receive(10, None).len(), 2);
}

#[test]
fn an_expired_fifo_handle_cannot_delete() {
    let mut q = Sim::fifo("q.fifo", &[]);
    q.send_fifo("a", "g", "1").unwrap();
    let h = q.receive(1, Some(1)).remove(0).0.receipt_handle;
    q.advance(1_000);
    let e = q.delete(&h).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Value {h} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
        )
    );
}

#[test]
fn a_fifo_dead_letter_move_unblocks_the_group_in_order() {
    let mut dlq = Sim::fifo("dlq.fifo", &[]);
    let policy = format!(
        "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":1}}",
        dlq.identity.arn
    );
    let mut q = Sim::fifo("q.fifo", &[("RedrivePolicy", &policy)]);
    q.send_fifo("first", "g", "1").unwrap();
    q.send_fifo("second", "g", "2").unwrap();
    assert_eq!(
        q.receive_into(1, Some(0), None, Some(&mut dlq)).unwrap()[0]
            .1
            .body,
        "first"
    );
    let got = q.receive_into(10, Some(30), None, Some(&mut dlq)).unwrap();
    assert!(got.is_empty(), "the head was moving, so the group waits");
    let got = q.receive_into(10, Some(30), None, Some(&mut dlq)).unwrap();
    assert_eq!(got[0].1.body, "second");
    let moved = dlq.receive(1, None);
    assert_eq!(moved[0].1.body, "first");
    assert!(moved[0].1.sequence_number.is_some());
}

#[test]
fn deduplication_and_sequence_numbers_survive_a_restart() {
    let mut q = Sim::fifo("q.fifo", &[]);
    let a = q.send_fifo("a", "g", "before-checkpoint").unwrap();
    let c = q.checkpoint();
    let b = q.send_fifo("b", "g", "after-checkpoint").unwrap();
    for checkpoint in [Some(&c), None] {
        q.restart(checkpoint);
        assert_eq!(
            q.send_fifo("x", "g", "before-checkpoint")
                .unwrap()
                .message_id,
            a.message_id
        );
        assert_eq!(
            q.send_fifo("x", "g", "after-checkpoint")
                .unwrap()
                .message_id,
            b.message_id
        );
    }
    let next: u128 = q
        .send_fifo("c", "g", "new")
        .unwrap()
        .sequence_number
        .unwrap()
        .parse()
        .unwrap();
    let last: u128 = b.sequence_number.unwrap().parse().unwrap();
    assert!(next > last);
}

#[test]
fn an_aborted_send_releases_its_deduplication_id() {
    let mut q = Sim::fifo("q.fifo", &[]);
    let req = SendRequest {
        message_id: "m1".into(),
        body: "a".into(),
        group_id: Some("g".into()),
        dedup_id: Some("d".into()),
        ..Default::default()
    };
    let freshet_sqs::engine::Prepared::Append(p) =
        q.engine.prepare_send(req, false, q.now).unwrap()
    else {
        panic!("first send must append");
    };
    // The append failed: a checkpoint must not remember the id, and a retry must be sent.
    assert!(q.checkpoint().dedup.is_empty());
    q.engine.abort_send(&p);
    let r = q.send_fifo("a", "g", "d").unwrap();
    assert_ne!(r.message_id, "m1");
    assert_eq!(q.messages.len(), 1);
}
