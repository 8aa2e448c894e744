// SPDX-License-Identifier: Apache-2.0
//! Standard queues: send, receive, delete; MD5s; attributes and their filters; visibility and
//! receipt handles; batches; delays; retention; purge; long polling.

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use super::*;

fn attrs_of(pairs: &[(&str, MessageAttributeValue)]) -> BTreeMap<String, MessageAttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn a_message_is_sent_received_and_deleted_with_aws_md5s() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "basic", &[]).await;
    let attrs = attrs_of(&[
        ("a", string_attr("v")),
        (
            "n",
            MessageAttributeValue::builder()
                .data_type("Number.int")
                .string_value("42")
                .build()
                .expect("attr"),
        ),
        (
            "b",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                .build()
                .expect("attr"),
        ),
    ]);
    let sent = c
        .send_message()
        .queue_url(&url)
        .message_body("hi")
        .set_message_attributes(Some(attrs.clone().into_iter().collect()))
        .send()
        .await
        .expect("send");
    assert_eq!(
        sent.md5_of_message_body(),
        Some("49f68a5c8493ec2c0bf489821c21fc3b")
    );
    assert_eq!(
        sent.md5_of_message_attributes(),
        md5_of_attributes(&attrs).as_deref()
    );
    let got = c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let m = &got.messages()[0];
    assert_eq!(m.body(), Some("hi"));
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.md5_of_body(), Some("49f68a5c8493ec2c0bf489821c21fc3b"));
    let back: BTreeMap<String, MessageAttributeValue> = m
        .message_attributes()
        .expect("attributes")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(back, attrs);
    assert_eq!(
        m.md5_of_message_attributes(),
        md5_of_attributes(&attrs).as_deref()
    );
    let sys = m.attributes().expect("system attributes");
    assert_eq!(
        sys.get(&MessageSystemAttributeName::ApproximateReceiveCount)
            .map(String::as_str),
        Some("1")
    );
    assert!(sys.contains_key(&MessageSystemAttributeName::SentTimestamp));
    assert!(sys.contains_key(&MessageSystemAttributeName::SenderId));
    assert!(sys.contains_key(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp));
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().expect("handle"))
        .send()
        .await
        .expect("delete");
    let again = c
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(again.messages().is_empty());
}

#[tokio::test]
async fn the_single_string_attribute_vector_matches_the_documented_algorithm() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "vector", &[]).await;
    let sent = c
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("a", string_attr("v"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some("a18cbb58171ebf4ce88d9fb787f9210b")
    );
}

#[tokio::test]
async fn receive_returns_only_the_asked_attributes_with_the_md5_of_those() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "filters", &[]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("msg")
        .message_attributes("General", string_attr("Kenobi"))
        .message_attributes("Hello", string_attr("There"))
        .message_attributes("Help.Me", string_attr("Me"))
        .send()
        .await
        .expect("send");
    let cases: [(&[&str], &[&str]); 5] = [
        (&[], &[]),
        (&[".*"], &["General", "Hello", "Help.Me"]),
        (&["He.*"], &["Hello", "Help.Me"]),
        (&["Hello", "Nope"], &["Hello"]),
        (&["Nope"], &[]),
    ];
    for (asked, expected) in cases {
        let got = c
            .receive_message()
            .queue_url(&url)
            .set_message_attribute_names(Some(asked.iter().map(|s| (*s).to_owned()).collect()))
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        let m = &got.messages()[0];
        let names: Vec<String> = m
            .message_attributes()
            .map(|a| {
                let mut v: Vec<String> = a.keys().cloned().collect();
                v.sort();
                v
            })
            .unwrap_or_default();
        assert_eq!(names, expected, "{asked:?}");
        let returned: BTreeMap<String, MessageAttributeValue> = m
            .message_attributes()
            .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        assert_eq!(
            m.md5_of_message_attributes(),
            md5_of_attributes(&returned).as_deref()
        );
    }
}

#[tokio::test]
async fn visibility_hides_a_message_and_an_old_handle_stops_working_after_a_re_receive() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "vis", &[("VisibilityTimeout", "30")]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("m")
        .send()
        .await
        .expect("send");
    let first = c
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("r1");
    let h1 = first.messages()[0].receipt_handle().expect("h1").to_owned();
    let hidden = c.receive_message().queue_url(&url).send().await.expect("r");
    assert!(hidden.messages().is_empty(), "in flight");
    clock.advance(30_000);
    let second = c
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("r2");
    let m = &second.messages()[0];
    let h2 = m.receipt_handle().expect("h2").to_owned();
    assert_ne!(h1, h2);
    let count = c.receive_message().queue_url(&url).send().await.expect("r");
    assert!(count.messages().is_empty());
    // The stale handle "succeeds but does not delete".
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&h1)
        .send()
        .await
        .expect("stale delete succeeds");
    let err = c
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&h1)
        .visibility_timeout(0)
        .send()
        .await
        .expect_err("stale handle");
    let e = err.as_service_error().expect("service error");
    assert_eq!(e.meta().code(), Some("InvalidParameterValue"));
    assert_eq!(
        e.meta().message(),
        Some(
            format!(
                "Value {h1} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            )
            .as_str()
        )
    );
    // The latest handle can make it visible at once, then delete it.
    c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&h2)
        .visibility_timeout(0)
        .send()
        .await
        .expect("visible now");
    let third = c
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("r3");
    let m3 = &third.messages()[0];
    assert_eq!(
        m3.attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str),
        None,
        "not asked for"
    );
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(m3.receipt_handle().expect("h3"))
        .send()
        .await
        .expect("delete");
    clock.advance(3_600_000);
    let empty = c.receive_message().queue_url(&url).send().await.expect("r");
    assert!(
        empty.messages().is_empty(),
        "a deleted message never comes back"
    );
}

#[tokio::test]
async fn malformed_and_foreign_receipt_handles_are_invalid() {
    let server = TestServer::start().await;
    let c = client(&server);
    let a = create(&c, "ha", &[]).await;
    let b = create(&c, "hb", &[]).await;
    c.send_message()
        .queue_url(&a)
        .message_body("m")
        .send()
        .await
        .expect("send");
    let got = c.receive_message().queue_url(&a).send().await.expect("r");
    let handle = got.messages()[0].receipt_handle().expect("h").to_owned();
    for (queue, h) in [(&a, "garbage".to_owned()), (&b, handle.clone())] {
        let err = c
            .delete_message()
            .queue_url(queue)
            .receipt_handle(&h)
            .send()
            .await
            .expect_err("invalid");
        let e = err.as_service_error().expect("service error");
        assert!(e.is_receipt_handle_is_invalid(), "{e:?}");
        assert_eq!(
            e.meta().message(),
            Some(
                format!("The input receipt handle \"{h}\" is not a valid receipt handle.").as_str()
            )
        );
    }
}

#[tokio::test]
async fn batches_report_each_entry_and_enforce_their_rules() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "batch", &[]).await;
    let entry = |id: &str, body: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .expect("entry")
    };
    let out = c
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", "one"))
        .entries(entry("b", "two"))
        .entries(entry("bad", "\u{1}"))
        .send()
        .await
        .expect("batch");
    assert_eq!(out.successful().len(), 2);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "bad");
    assert_eq!(out.failed()[0].code(), "InvalidMessageContents");
    assert!(out.failed()[0].sender_fault());
    let err = c
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("x", "1"))
        .entries(entry("x", "2"))
        .send()
        .await
        .expect_err("duplicate ids");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_batch_entry_ids_not_distinct()),
        "{err:?}"
    );
    let mut too_many = c.send_message_batch().queue_url(&url);
    for i in 0..11 {
        too_many = too_many.entries(entry(&format!("e{i}"), "m"));
    }
    let err = too_many.send().await.expect_err("11 entries");
    let e = err.as_service_error().expect("service error");
    assert!(e.is_too_many_entries_in_batch_request(), "{e:?}");
    assert_eq!(
        e.meta().message(),
        Some("Maximum number of entries per request are 10. You have sent 11.")
    );
    let err = c
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("bad:id", "m"))
        .send()
        .await
        .expect_err("invalid id");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_batch_entry_id()),
        "{err:?}"
    );
    let big = "x".repeat(600 * 1024);
    let err = c
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("one", &big))
        .entries(entry("two", &big))
        .send()
        .await
        .expect_err("too long");
    let e = err.as_service_error().expect("service error");
    assert!(e.is_batch_request_too_long(), "{e:?}");
    assert_eq!(
        e.meta().message(),
        Some("Batch requests cannot be longer than 1048576 bytes. You have sent 1228800 bytes.")
    );
    let err = c
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(Vec::new()))
        .send()
        .await
        .expect_err("empty");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_empty_batch_request()),
        "{err:?}"
    );

    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    let vis = c
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("v1")
                .receipt_handle(got.messages()[0].receipt_handle().expect("h"))
                .visibility_timeout(100)
                .build()
                .expect("entry"),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("v2")
                .receipt_handle("nope")
                .visibility_timeout(100)
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("visibility batch");
    assert_eq!(vis.successful().len(), 1);
    assert_eq!(vis.failed()[0].code(), "ReceiptHandleIsInvalid");
    let del = c
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            got.messages()
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{i}"))
                        .receipt_handle(m.receipt_handle().expect("h"))
                        .build()
                        .expect("entry")
                })
                .collect(),
        ))
        .send()
        .await
        .expect("delete batch");
    assert_eq!(del.successful().len(), 2);
    assert!(del.failed().is_empty());
}

#[tokio::test]
async fn delays_per_queue_and_per_message_hold_messages_back() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "delay", &[("DelaySeconds", "10")]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("queue-delay")
        .send()
        .await
        .expect("send");
    c.send_message()
        .queue_url(&url)
        .message_body("message-delay")
        .delay_seconds(20)
        .send()
        .await
        .expect("send");
    c.send_message()
        .queue_url(&url)
        .message_body("no-delay")
        .delay_seconds(0)
        .send()
        .await
        .expect("send");
    let bodies = |r: &aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput| {
        let mut v: Vec<String> = r
            .messages()
            .iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .collect();
        v.sort();
        v
    };
    let now = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("r");
    assert_eq!(bodies(&now), ["no-delay"]);
    clock.advance(10_000);
    let later = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("r");
    assert_eq!(bodies(&later), ["queue-delay"]);
    clock.advance(10_000);
    let last = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("r");
    assert_eq!(bodies(&last), ["message-delay"]);
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .delay_seconds(901)
        .send()
        .await
        .expect_err("too long a delay");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )
    );
}

#[tokio::test]
async fn messages_expire_after_the_retention_period() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "retain", &[("MessageRetentionPeriod", "60")]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("old")
        .send()
        .await
        .expect("send");
    clock.advance(61_000);
    c.send_message()
        .queue_url(&url)
        .message_body("new")
        .send()
        .await
        .expect("send");
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("r");
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["new"]);
}

#[tokio::test]
async fn message_size_and_contents_are_checked() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "sizes", &[("MaximumMessageSize", "1024")]).await;
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1020))
        .message_attributes("abc", string_attr("de"))
        .send()
        .await
        .expect_err("too big with attributes");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
        )
    );
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("bad \u{FFFF}")
        .send()
        .await
        .expect_err("invalid characters");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_message_contents()),
        "{err:?}"
    );
    c.send_message()
        .queue_url(&url)
        .message_body("x".repeat(1024))
        .send()
        .await
        .expect("exactly the maximum");
}

#[tokio::test]
async fn purge_deletes_everything_and_a_second_purge_within_a_minute_fails() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "purge", &[]).await;
    for i in 0..5 {
        c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    c.receive_message().queue_url(&url).send().await.expect("r");
    c.purge_queue().queue_url(&url).send().await.expect("purge");
    let err = c
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect_err("too soon");
    let e = err.as_service_error().expect("service error");
    assert!(e.is_purge_queue_in_progress(), "{e:?}");
    assert_eq!(
        e.meta().message(),
        Some("Only one PurgeQueue operation on purge is allowed every 60 seconds.")
    );
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    clock.advance(3_600_000);
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("r");
    assert!(got.messages().is_empty(), "purged messages never come back");
    clock.advance(61_000);
    c.purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("purge again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_as_soon_as_a_message_arrives() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "long", &[]).await;
    let started = std::time::Instant::now();
    let poller = {
        let c = c.clone();
        let url = url.clone();
        tokio::spawn(async move {
            c.receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await
                .expect("long poll")
        })
    };
    // Send once the poll is waiting (the server counts it as a receive attempt of an empty
    // queue); the poll must return that message, not an empty answer after its wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.send_message()
        .queue_url(&url)
        .message_body("wake")
        .send()
        .await
        .expect("send");
    let got = poller.await.expect("poller");
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["wake"]);
    // Not a speed limit: only that the poll did not sit out its whole 20 s wait.
    assert!(
        started.elapsed() < Duration::from_secs(19),
        "the poll waited out its 20 s"
    );
}

#[tokio::test]
async fn receive_parameters_are_checked() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "params", &[]).await;
    let err = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await
        .expect_err("11");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some(
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )
    );
    let err = c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(21)
        .send()
        .await
        .expect_err("21");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidParameterValue")
    );
    let attrs = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("get");
    assert_eq!(
        attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .map(String::as_str),
        Some("0")
    );
}
