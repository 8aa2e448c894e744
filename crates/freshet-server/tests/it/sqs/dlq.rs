// SPDX-License-Identifier: Apache-2.0
//! Dead-letter queues: RedrivePolicy moves a message past maxReceiveCount, RedriveAllowPolicy,
//! ListDeadLetterSourceQueues and message move tasks.

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use super::*;

const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:dlq";

fn redrive(max: u32) -> String {
    format!("{{\"deadLetterTargetArn\":\"{DLQ_ARN}\",\"maxReceiveCount\":{max}}}")
}

async fn receive_all(c: &Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    c.receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive")
        .messages()
        .to_vec()
}

#[tokio::test]
async fn a_message_received_too_often_moves_to_the_dead_letter_queue() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let dlq = create(&c, "dlq", &[]).await;
    let src = create(&c, "src", &[("RedrivePolicy", &redrive(2))]).await;
    let sent = c
        .send_message()
        .queue_url(&src)
        .message_body("poison")
        .message_attributes("a", string_attr("v"))
        .send()
        .await
        .expect("send");
    for _ in 0..2 {
        assert_eq!(receive_all(&c, &src).await.len(), 1);
        clock.advance(30_000);
    }
    assert!(
        receive_all(&c, &src).await.is_empty(),
        "moved instead of a third receive"
    );
    let moved = receive_all(&c, &dlq).await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].body(), Some("poison"));
    assert_eq!(moved[0].message_id(), sent.message_id());
    assert_eq!(
        moved[0]
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::DeadLetterQueueSourceArn))
            .map(String::as_str),
        Some("arn:aws:sqs:us-east-1:000000000000:src")
    );
    let sources = c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .expect("sources");
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&src));
    let pages: Vec<_> = c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 1);
}

#[tokio::test]
async fn redrive_policies_are_checked_against_their_target() {
    let server = TestServer::start().await;
    let c = client(&server);
    let err = c
        .create_queue()
        .queue_name("orphan")
        .attributes(QueueAttributeName::RedrivePolicy, redrive(3))
        .send()
        .await
        .expect_err("no such target");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
    create(
        &c,
        "dlq",
        &[("RedriveAllowPolicy", "{\"redrivePermission\":\"denyAll\"}")],
    )
    .await;
    let err = c
        .create_queue()
        .queue_name("denied")
        .attributes(QueueAttributeName::RedrivePolicy, redrive(3))
        .send()
        .await
        .expect_err("denied");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
    let fifo_dlq = create(&c, "fdlq.fifo", &[("FifoQueue", "true")]).await;
    assert!(fifo_dlq.ends_with("fdlq.fifo"));
    let err = c
        .create_queue()
        .queue_name("mixed")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:fdlq.fifo\",\"maxReceiveCount\":3}",
        )
        .send()
        .await
        .expect_err("type mismatch");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_task_redrives_dead_letters_to_their_source() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let dlq = create(&c, "dlq", &[]).await;
    let src = create(&c, "src", &[("RedrivePolicy", &redrive(1))]).await;
    for i in 0..3 {
        c.send_message()
            .queue_url(&src)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    assert_eq!(receive_all(&c, &src).await.len(), 3);
    clock.advance(30_000);
    assert!(receive_all(&c, &src).await.is_empty());
    let err = c
        .start_message_move_task()
        .source_arn("arn:aws:sqs:us-east-1:000000000000:src")
        .send()
        .await
        .expect_err("not a dead-letter queue");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Source queue must be configured as a Dead Letter Queue.")
    );
    let handle = c
        .start_message_move_task()
        .source_arn(DLQ_ARN)
        .send()
        .await
        .expect("start")
        .task_handle
        .expect("handle");
    assert!(!handle.is_empty());
    // The server's maintenance moves the messages; wait for the task to finish.
    let mut status = String::new();
    for _ in 0..600 {
        let tasks = c
            .list_message_move_tasks()
            .source_arn(DLQ_ARN)
            .send()
            .await
            .expect("list");
        let t = &tasks.results()[0];
        status = t.status().unwrap_or_default().to_owned();
        if status == "COMPLETED" {
            assert_eq!(t.approximate_number_of_messages_moved(), 3);
            assert_eq!(t.task_handle(), None, "no handle once finished");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "COMPLETED");
    let back = receive_all(&c, &src).await;
    assert_eq!(back.len(), 3);
    assert!(receive_all(&c, &dlq).await.is_empty());
    let err = c
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .expect_err("finished tasks cannot be cancelled");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
}

#[tokio::test]
async fn a_paced_move_task_can_be_cancelled_and_only_one_runs_per_source() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let dlq = create(&c, "dlq", &[]).await;
    let src = create(&c, "src", &[("RedrivePolicy", &redrive(1))]).await;
    let other = create(&c, "other", &[]).await;
    for i in 0..5 {
        c.send_message()
            .queue_url(&src)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    assert_eq!(receive_all(&c, &src).await.len(), 5);
    clock.advance(30_000);
    assert!(receive_all(&c, &src).await.is_empty());
    // One message per second on a clock that does not move: the task stays RUNNING.
    let handle = c
        .start_message_move_task()
        .source_arn(DLQ_ARN)
        .destination_arn("arn:aws:sqs:us-east-1:000000000000:other")
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .expect("start")
        .task_handle
        .expect("handle");
    let err = c
        .start_message_move_task()
        .source_arn(DLQ_ARN)
        .send()
        .await
        .expect_err("a second task");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
    let running = c
        .list_message_move_tasks()
        .source_arn(DLQ_ARN)
        .send()
        .await
        .expect("list");
    let t = &running.results()[0];
    assert_eq!(t.status(), Some("RUNNING"));
    assert_eq!(t.task_handle(), Some(handle.as_str()));
    assert_eq!(t.approximate_number_of_messages_to_move(), Some(5));
    assert_eq!(t.max_number_of_messages_per_second(), Some(1));
    let cancelled = c
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .expect("cancel");
    let moved = cancelled.approximate_number_of_messages_moved();
    assert!(
        moved <= 1,
        "{moved} moved at one message per second of a stopped clock"
    );
    let after = c
        .list_message_move_tasks()
        .source_arn(DLQ_ARN)
        .send()
        .await
        .expect("list");
    assert_eq!(after.results()[0].status(), Some("CANCELLED"));
    // A move handed out before the cancel still completes; count once it has.
    let mut total = 0;
    for _ in 0..200 {
        let mut sum = 0;
        for (url, names) in [
            (
                &dlq,
                &[
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                ][..],
            ),
            (
                &other,
                &[QueueAttributeName::ApproximateNumberOfMessages][..],
            ),
        ] {
            let a = c
                .get_queue_attributes()
                .queue_url(url)
                .set_attribute_names(Some(names.to_vec()))
                .send()
                .await
                .expect("attributes");
            for v in a
                .attributes()
                .map(|m| m.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                sum += v.parse::<i64>().expect("count");
            }
        }
        total = sum;
        if total == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(total, 5, "nothing lost or duplicated by the cancel");
}
