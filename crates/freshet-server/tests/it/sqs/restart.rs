// SPDX-License-Identifier: Apache-2.0
//! A restart keeps queues, attributes, tags, messages, receipt handles, visibility and
//! deletes; FIFO deduplication survives it too.

use aws_sdk_sqs::types::QueueAttributeName;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_handles_and_deletes_survive_a_restart() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "durable", &[("VisibilityTimeout", "60")]).await;
    c.tag_queue()
        .queue_url(&url)
        .tags("k", "v")
        .send()
        .await
        .expect("tag");
    for i in 0..5 {
        c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(3)
        .send()
        .await
        .expect("receive");
    let handles: Vec<String> = got
        .messages()
        .iter()
        .filter_map(|m| m.receipt_handle().map(str::to_owned))
        .collect();
    assert_eq!(handles.len(), 3);
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&handles[0])
        .send()
        .await
        .expect("delete");
    let fifo = create(&c, "durable.fifo", &[("FifoQueue", "true")]).await;
    let original = c
        .send_message()
        .queue_url(&fifo)
        .message_body("once")
        .message_group_id("g")
        .message_deduplication_id("d")
        .send()
        .await
        .expect("send");

    let server = server.restart().await;
    let c = client(&server);
    let url = format!("{}/000000000000/durable", server.endpoint());
    let tags = c
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("tags");
    assert_eq!(
        tags.tags().and_then(|t| t.get("k")).map(String::as_str),
        Some("v")
    );
    let attrs = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("attributes");
    let a = attrs.attributes().expect("attributes");
    assert_eq!(
        a.get(&QueueAttributeName::VisibilityTimeout)
            .map(String::as_str),
        Some("60")
    );
    assert_eq!(
        a.get(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .map(String::as_str),
        Some("2"),
        "two still in flight"
    );
    assert_eq!(
        a.get(&QueueAttributeName::ApproximateNumberOfMessages)
            .map(String::as_str),
        Some("2")
    );
    // Handles from before the restart still work.
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&handles[1])
        .send()
        .await
        .expect("delete with an old handle");
    clock.advance(60_000);
    let rest = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let mut bodies: Vec<&str> = rest.messages().iter().filter_map(|m| m.body()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert!(
        !bodies.contains(&"m0") && !bodies.contains(&"m1"),
        "deleted ones stay deleted"
    );
    let fifo = format!("{}/000000000000/durable.fifo", server.endpoint());
    let dup = c
        .send_message()
        .queue_url(&fifo)
        .message_body("once")
        .message_group_id("g")
        .message_deduplication_id("d")
        .send()
        .await
        .expect("send");
    assert_eq!(dup.message_id(), original.message_id());
    assert_eq!(dup.sequence_number(), original.sequence_number());
}
