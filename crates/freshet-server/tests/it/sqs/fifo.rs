// SPDX-License-Identifier: Apache-2.0
//! FIFO queues: order per group, one in-flight group at a time, deduplication by id and by
//! content within 5 minutes (answered with the original MessageId and SequenceNumber),
//! ReceiveRequestAttemptId retries, and the FIFO-only rules.

use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};

use super::*;

async fn fifo(c: &Client, name: &str, extra: &[(&str, &str)]) -> String {
    let mut attrs = vec![("FifoQueue", "true")];
    attrs.extend_from_slice(extra);
    create(c, name, &attrs).await
}

async fn send(c: &Client, url: &str, body: &str, group: &str, dedup: &str) -> (String, String) {
    let r = c
        .send_message()
        .queue_url(url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .send()
        .await
        .expect("send");
    (
        r.message_id().expect("id").to_owned(),
        r.sequence_number().expect("sequence number").to_owned(),
    )
}

#[tokio::test]
async fn groups_are_delivered_in_order_and_a_group_in_flight_delivers_nothing_more() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = fifo(&c, "order.fifo", &[]).await;
    for i in 0..3 {
        send(&c, &url, &format!("a{i}"), "A", &format!("a{i}")).await;
        send(&c, &url, &format!("b{i}"), "B", &format!("b{i}")).await;
    }
    let first = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<&str> = first.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["a0", "a1"], "several of one group, in order");
    let attrs = first.messages()[0].attributes().expect("attributes");
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::MessageGroupId)
            .map(String::as_str),
        Some("A")
    );
    assert!(attrs.contains_key(&MessageSystemAttributeName::SequenceNumber));
    let second = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<&str> = second.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["b0", "b1", "b2"], "group A is in flight");
    clock.advance(30_000);
    let third = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<&str> = third.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(
        bodies,
        ["a0", "a1", "a2", "b0", "b1", "b2"],
        "redelivered in order"
    );
}

#[tokio::test]
async fn duplicates_within_five_minutes_get_the_original_id_and_sequence_number() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = fifo(&c, "dedup.fifo", &[("ContentBasedDeduplication", "true")]).await;
    let (id1, seq1) = send(&c, &url, "one", "g", "d1").await;
    let (id2, seq2) = send(&c, &url, "other body", "g", "d1").await;
    assert_eq!((&id2, &seq2), (&id1, &seq1), "same MessageDeduplicationId");
    let by_content = c
        .send_message()
        .queue_url(&url)
        .message_body("content")
        .message_group_id("g")
        .send()
        .await
        .expect("send");
    let again = c
        .send_message()
        .queue_url(&url)
        .message_body("content")
        .message_group_id("g")
        .send()
        .await
        .expect("send");
    assert_eq!(again.message_id(), by_content.message_id(), "same body");
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2, "duplicates are not delivered");
    for m in got.messages() {
        c.delete_message()
            .queue_url(&url)
            .receipt_handle(m.receipt_handle().expect("h"))
            .send()
            .await
            .expect("delete");
    }
    let (id3, _) = send(&c, &url, "one", "g", "d1").await;
    assert_eq!(id3, id1, "still a duplicate after the original was deleted");
    clock.advance(5 * 60_000 + 1);
    let (id4, seq4) = send(&c, &url, "one", "g", "d1").await;
    assert_ne!(id4, id1, "a new message after the interval");
    assert!(seq4.parse::<u128>().expect("number") > seq1.parse::<u128>().expect("number"));
}

#[tokio::test]
async fn a_receive_attempt_id_retry_returns_the_same_messages_and_handles() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = fifo(&c, "attempt.fifo", &[]).await;
    send(&c, &url, "m", "g", "d").await;
    let first = c
        .receive_message()
        .queue_url(&url)
        .receive_request_attempt_id("try-1")
        .send()
        .await
        .expect("receive");
    let retry = c
        .receive_message()
        .queue_url(&url)
        .receive_request_attempt_id("try-1")
        .send()
        .await
        .expect("retry");
    assert_eq!(first.messages().len(), 1);
    assert_eq!(
        retry.messages()[0].receipt_handle(),
        first.messages()[0].receipt_handle()
    );
    let other = c
        .receive_message()
        .queue_url(&url)
        .receive_request_attempt_id("try-2")
        .send()
        .await
        .expect("receive");
    assert!(other.messages().is_empty());
}

#[tokio::test]
async fn fifo_only_rules_use_the_aws_texts() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = fifo(&c, "rules.fifo", &[]).await;
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_group_id("g")
        .message_deduplication_id("d")
        .delay_seconds(2)
        .send()
        .await
        .expect_err("per-message delay");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
        )
    );
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_group_id("g")
        .send()
        .await
        .expect_err("no dedup id");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
        )
    );
    let err = c
        .send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("e")
                .message_body("m")
                .message_deduplication_id("d")
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect_err("no group");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("The request must contain the parameter MessageGroupId.")
    );
    let err = c
        .create_queue()
        .queue_name("nofifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect_err("name without .fifo");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
    let err = c
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "false")
        .send()
        .await
        .expect_err("immutable");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidAttributeValue")
    );
    // High-throughput settings are accepted and shown.
    let ht = fifo(
        &c,
        "ht.fifo",
        &[
            ("DeduplicationScope", "messageGroup"),
            ("FifoThroughputLimit", "perMessageGroupId"),
        ],
    )
    .await;
    let a = c
        .get_queue_attributes()
        .queue_url(&ht)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .expect("get");
    assert_eq!(
        a.attributes()
            .and_then(|m| m.get(&aws_sdk_sqs::types::QueueAttributeName::FifoThroughputLimit))
            .map(String::as_str),
        Some("perMessageGroupId")
    );
    let standard = create(&c, "std", &[]).await;
    let err = c
        .send_message()
        .queue_url(&standard)
        .message_body("m")
        .message_deduplication_id("d")
        .send()
        .await
        .expect_err("dedup id on a standard queue");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "Value d for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type."
        )
    );
}
