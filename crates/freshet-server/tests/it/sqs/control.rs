// SPDX-License-Identifier: Apache-2.0
//! Queues: create (idempotent, QueueNameExists, QueueDeletedRecently), URLs, listing and its
//! paginator, attributes, tags and permissions.

use aws_sdk_sqs::types::QueueAttributeName;

use super::*;

#[tokio::test]
async fn queue_urls_use_the_host_the_client_addressed_and_get_queue_url_finds_them() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "orders", &[]).await;
    assert_eq!(url, format!("{}/000000000000/orders", server.endpoint()));
    let got = c
        .get_queue_url()
        .queue_name("orders")
        .send()
        .await
        .expect("get url");
    assert_eq!(got.queue_url(), Some(url.as_str()));
    let err = c
        .get_queue_url()
        .queue_name("orders")
        .queue_owner_aws_account_id("111111111111")
        .send()
        .await
        .expect_err("other account");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_queue_does_not_exist()),
        "{err:?}"
    );
}

#[tokio::test]
async fn creating_an_existing_queue_with_the_same_attributes_returns_it_and_different_ones_fail() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "idem", &[("VisibilityTimeout", "40")]).await;
    assert_eq!(
        create(&c, "idem", &[("VisibilityTimeout", "40")]).await,
        url
    );
    assert_eq!(create(&c, "idem", &[]).await, url);
    let err = c
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::VisibilityTimeout, "41")
        .send()
        .await
        .expect_err("different attribute");
    let e = err.as_service_error().expect("service error");
    assert!(e.is_queue_name_exists(), "{e:?}");
    assert_eq!(
        e.meta().message(),
        Some(
            "A queue already exists with the same name and a different value for attribute VisibilityTimeout"
        )
    );
}

#[tokio::test]
async fn a_deleted_queue_is_gone_and_its_name_is_reserved_for_a_minute() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "gone", &[]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .expect("send");
    c.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("delete");
    let err = c
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .expect_err("deleted");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_queue_does_not_exist()),
        "{err:?}"
    );
    let err = c
        .create_queue()
        .queue_name("gone")
        .send()
        .await
        .expect_err("too soon");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_queue_deleted_recently()),
        "{err:?}"
    );
    clock.advance(61_000);
    let again = create(&c, "gone", &[]).await;
    let got = c
        .receive_message()
        .queue_url(&again)
        .send()
        .await
        .expect("receive");
    assert!(got.messages().is_empty(), "a re-created queue starts empty");
}

#[tokio::test]
async fn list_queues_filters_by_prefix_and_pages_with_the_paginator() {
    let server = TestServer::start().await;
    let c = client(&server);
    for n in ["b-1", "a-1", "a-2", "a-3", "c-1"] {
        create(&c, n, &[]).await;
    }
    let all = c.list_queues().send().await.expect("list");
    assert_eq!(all.queue_urls().len(), 5);
    assert_eq!(all.next_token(), None, "no NextToken without MaxResults");
    let a = c
        .list_queues()
        .queue_name_prefix("a-")
        .send()
        .await
        .expect("list");
    let names: Vec<&str> = a
        .queue_urls()
        .iter()
        .map(|u| u.rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(names, ["a-1", "a-2", "a-3"]);
    let pages: Vec<_> = c
        .list_queues()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p.as_ref().expect("page").queue_urls().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    let none = c
        .list_queues()
        .queue_name_prefix("zzz")
        .send()
        .await
        .expect("list");
    assert!(none.queue_urls().is_empty());
}

#[tokio::test]
async fn queue_attributes_show_defaults_counts_and_changes() {
    let (server, clock) = manual_server().await;
    let c = client(&server);
    let url = create(&c, "attrs", &[]).await;
    let none = c
        .get_queue_attributes()
        .queue_url(&url)
        .send()
        .await
        .expect("get");
    assert!(
        none.attributes().is_none_or(|a| a.is_empty()),
        "no names, no attributes"
    );
    let all = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("get");
    let a = all.attributes().expect("attributes");
    let get = |n: QueueAttributeName| a.get(&n).map(String::as_str);
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), Some("30"));
    assert_eq!(get(QueueAttributeName::MaximumMessageSize), Some("1048576"));
    assert_eq!(
        get(QueueAttributeName::MessageRetentionPeriod),
        Some("345600")
    );
    assert_eq!(get(QueueAttributeName::DelaySeconds), Some("0"));
    assert_eq!(
        get(QueueAttributeName::ReceiveMessageWaitTimeSeconds),
        Some("0")
    );
    assert_eq!(
        get(QueueAttributeName::ApproximateNumberOfMessages),
        Some("0")
    );
    assert_eq!(get(QueueAttributeName::SqsManagedSseEnabled), Some("true"));
    assert_eq!(
        get(QueueAttributeName::QueueArn),
        Some("arn:aws:sqs:us-east-1:000000000000:attrs")
    );
    assert_eq!(
        get(QueueAttributeName::CreatedTimestamp),
        Some((T0 / 1000).to_string().as_str())
    );
    assert_eq!(
        get(QueueAttributeName::FifoQueue),
        None,
        "standard queues have no FifoQueue"
    );

    clock.advance(5_000);
    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "45")
        .attributes(QueueAttributeName::KmsMasterKeyId, "alias/aws/sqs")
        .send()
        .await
        .expect("set");
    for i in 0..3 {
        c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    c.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(60)
        .send()
        .await
        .expect("send delayed");
    c.receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    let got = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .attribute_names(QueueAttributeName::KmsMasterKeyId)
        .attribute_names(QueueAttributeName::KmsDataKeyReusePeriodSeconds)
        .attribute_names(QueueAttributeName::LastModifiedTimestamp)
        .send()
        .await
        .expect("get");
    let a = got.attributes().expect("attributes");
    let get = |n: QueueAttributeName| a.get(&n).map(String::as_str);
    assert_eq!(
        get(QueueAttributeName::ApproximateNumberOfMessages),
        Some("2")
    );
    assert_eq!(
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        Some("1")
    );
    assert_eq!(
        get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        Some("1")
    );
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), Some("45"));
    assert_eq!(
        get(QueueAttributeName::KmsMasterKeyId),
        Some("alias/aws/sqs")
    );
    assert_eq!(
        get(QueueAttributeName::KmsDataKeyReusePeriodSeconds),
        Some("300")
    );
    assert_eq!(
        get(QueueAttributeName::LastModifiedTimestamp),
        Some(((T0 + 5_000) / 1000).to_string().as_str())
    );
}

#[tokio::test]
async fn attribute_names_and_values_are_checked_with_aws_texts() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "checks", &[]).await;
    let err = c
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "43201")
        .send()
        .await
        .expect_err("out of range");
    let e = err.as_service_error().expect("service error");
    assert_eq!(e.meta().code(), Some("InvalidAttributeValue"));
    assert_eq!(
        e.meta().message(),
        Some("Invalid value for the parameter VisibilityTimeout.")
    );
    let err = c
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::from("Bogus"), "1")
        .send()
        .await
        .expect_err("unknown");
    let e = err.as_service_error().expect("service error");
    assert_eq!(e.meta().code(), Some("InvalidAttributeName"));
    assert_eq!(e.meta().message(), Some("Unknown Attribute Bogus."));
    let err = c
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .expect_err("fifo only");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidAttributeName")
    );
    let err = c
        .create_queue()
        .queue_name("bad name")
        .send()
        .await
        .expect_err("bad name");
    let e = err.as_service_error().expect("service error");
    assert_eq!(e.meta().code(), Some("InvalidParameterValue"));
    assert_eq!(
        e.meta().message(),
        Some(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
    );
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = c
        .create_queue()
        .queue_name("tagged")
        .tags("team", "a")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    c.tag_queue()
        .queue_url(&url)
        .tags("env", "test")
        .tags("team", "b")
        .send()
        .await
        .expect("tag");
    let tags = c
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("list");
    let t = tags.tags().expect("tags");
    assert_eq!(t.get("team").map(String::as_str), Some("b"));
    assert_eq!(t.get("env").map(String::as_str), Some("test"));
    c.untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .send()
        .await
        .expect("untag");
    let tags = c
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("list");
    assert_eq!(tags.tags().map(|t| t.len()), Some(1));
}

#[tokio::test]
async fn permissions_are_stored_in_the_policy_and_removed_by_label() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "perm", &[]).await;
    c.add_permission()
        .queue_url(&url)
        .label("share")
        .aws_account_ids("111111111111")
        .actions("SendMessage")
        .send()
        .await
        .expect("add");
    let policy = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .expect("get");
    let text = policy
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::Policy))
        .expect("policy")
        .clone();
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["Statement"][0]["Sid"], "share");
    assert_eq!(v["Statement"][0]["Action"], "SQS:SendMessage");
    assert_eq!(
        v["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111111111111:root"
    );
    let err = c
        .add_permission()
        .queue_url(&url)
        .label("share")
        .aws_account_ids("111111111111")
        .actions("SendMessage")
        .send()
        .await
        .expect_err("same label");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Value share for parameter Label is invalid. Reason: Already exists.")
    );
    c.remove_permission()
        .queue_url(&url)
        .label("share")
        .send()
        .await
        .expect("remove");
    let policy = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .expect("get");
    assert!(
        policy
            .attributes()
            .is_none_or(|a| !a.contains_key(&QueueAttributeName::Policy))
    );
}
