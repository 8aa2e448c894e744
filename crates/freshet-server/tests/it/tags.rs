// SPDX-License-Identifier: Apache-2.0
//! Tags and resource policies: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream,
//! TagResource, UntagResource, ListTagsForResource, Put/Get/DeleteResourcePolicy, with AWS's
//! recorded messages (including its quirks) and the ARN resolver for streams and consumers.

use aws_sdk_kinesis::types::Tag;

use super::common::*;

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect()
}

fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_added_overwritten_listed_in_pages_and_removed() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "tagged", 1).await;
    client
        .add_tags_to_stream()
        .stream_name("tagged")
        .tags("team", "data")
        .tags("env", "dev")
        .tags("cost", "")
        .send()
        .await
        .expect("add tags");
    // Overwrites an existing key, by ARN this time.
    client
        .add_tags_to_stream()
        .stream_arn(server.stream_arn("tagged"))
        .tags("env", "prod")
        .send()
        .await
        .expect("overwrite a tag");

    let all = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .expect("list tags");
    assert_eq!(
        pairs(all.tags()),
        kv(&[("cost", ""), ("env", "prod"), ("team", "data")]),
        "sorted by key"
    );
    assert!(!all.has_more_tags());

    let first = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .limit(2)
        .send()
        .await
        .expect("first page");
    assert_eq!(pairs(first.tags()), kv(&[("cost", ""), ("env", "prod")]));
    assert!(first.has_more_tags());
    let rest = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .limit(2)
        .exclusive_start_tag_key("env")
        .send()
        .await
        .expect("second page");
    assert_eq!(pairs(rest.tags()), kv(&[("team", "data")]));
    assert!(!rest.has_more_tags());

    // Unknown keys are ignored.
    client
        .remove_tags_from_stream()
        .stream_name("tagged")
        .tag_keys("team")
        .tag_keys("never-set")
        .send()
        .await
        .expect("remove tags");
    let left = client
        .list_tags_for_stream()
        .stream_name("tagged")
        .send()
        .await
        .expect("list tags");
    assert_eq!(pairs(left.tags()), kv(&[("cost", ""), ("env", "prod")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_rules_give_the_recorded_aws_messages() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rules", 1).await;
    let add = |k: &str, v: &str| {
        client
            .add_tags_to_stream()
            .stream_name("rules")
            .tags(k, v)
            .send()
    };
    assert_error(
        add("bad*key", "v").await,
        "InvalidArgumentException",
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white \
         space, _ . / = + - % @.",
    );
    assert_error(
        add("k", "50%").await,
        "InvalidArgumentException",
        &format!(
            "Failed to add tags to stream rules under account {ACCOUNT_ID} because some tags \
             contained illegal characters. The allowed characters are Unicode letters, \
             white-spaces, '_',',','/','=','+','-','@'."
        ),
    );
    assert_error(
        client
            .remove_tags_from_stream()
            .stream_name("rules")
            .tag_keys("a%")
            .send()
            .await,
        "InvalidArgumentException",
        &format!(
            "Failed to remove tags from stream rules under account {ACCOUNT_ID} because some \
             tags contained illegal characters. The allowed characters are Unicode letters, \
             white-spaces, '_',',','/','=','+','-','@'."
        ),
    );
    let r = server
        .raw_call(
            "RemoveTagsFromStream",
            &serde_json::json!({"StreamName": "", "TagKeys": []}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "3 validation errors detected: Value '[]' at 'tagKeys' failed to satisfy constraint: \
         Member must have length greater than or equal to 1; Value '' at 'streamName' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
         Value '' at 'streamName' failed to satisfy constraint: Member must have length greater \
         than or equal to 1"
    );
    let r = server
        .raw_call(
            "RemoveTagsFromStream",
            &serde_json::json!({"StreamName": "rules", "TagKeys": ["a", "x".repeat(129), "b"]}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        format!(
            "1 validation error detected: Value '[a, {}, b]' at 'tagKeys' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must have length less than or \
             equal to 128, Member must have length greater than or equal to 1]",
            "x".repeat(129)
        )
    );
    assert_error(
        add("tab\there", "v").await,
        "InvalidArgumentException",
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white \
         space, _ . / = + - % @.",
    );
    // Unicode letters, white space and the listed symbols (and `:`) are fine.
    add("Ünïcødé key_./=+-@:", "välue 1")
        .await
        .expect("allowed characters");

    // 50 tags per stream; one more is refused with AWS's text (which says 10).
    let mut req = client.add_tags_to_stream().stream_name("rules");
    for i in 0..49 {
        req = req.tags(format!("k{i:02}"), "v");
    }
    req.send().await.expect("up to 50 tags");
    assert_error(
        add("one-too-many", "v").await,
        "InvalidArgumentException",
        &format!(
            "Failed to add tags to stream rules under account {ACCOUNT_ID} because a given \
             stream cannot have more than 10 tags associated with it."
        ),
    );
    // Overwriting an existing key at the limit is fine.
    add("k00", "new").await.expect("overwrite at the limit");

    // Model constraints.
    assert_error(
        add("", "v").await,
        "ValidationException",
        &one_validation_error(
            "'{=v}'",
            "tags",
            "Map keys must satisfy constraint: [Member must have length less than or equal to \
             128, Member must have length greater than or equal to 1]",
        ),
    );
    let long = "v".repeat(257);
    let msg = assert_code(add("k", &long).await, "ValidationException");
    assert!(
        msg.contains(
            "Map value must satisfy constraint: [Member must have length less than or equal to 256"
        ),
        "{msg}"
    );
    let msg = assert_code(
        client
            .list_tags_for_stream()
            .stream_name("rules")
            .limit(51)
            .send()
            .await,
        "ValidationException",
    );
    assert!(
        msg.contains("Member must have value less than or equal to 50"),
        "{msg}"
    );
    let r = server
        .raw_call(
            "AddTagsToStream",
            &serde_json::json!({"StreamName": "", "Tags": {}}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "3 validation errors detected: Value '{}' at 'tags' failed to satisfy constraint: Member \
         must have length greater than or equal to 1; Value '' at 'streamName' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
         Value '' at 'streamName' failed to satisfy constraint: Member must have length greater \
         than or equal to 1"
    );
    let r = server
        .raw_call(
            "ListTagsForStream",
            &serde_json::json!({"StreamName": "", "ExclusiveStartTagKey": "", "Limit": 0}),
        )
        .await;
    assert_eq!(
        r.json()["message"],
        "4 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member \
         must have value greater than or equal to 1; Value '' at 'exclusiveStartTagKey' failed \
         to satisfy constraint: Member must have length greater than or equal to 1; Value '' at \
         'streamName' failed to satisfy constraint: Member must satisfy regular expression \
         pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member \
         must have length greater than or equal to 1"
    );
    assert_error(
        client
            .list_tags_for_stream()
            .stream_name("missing")
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("missing"),
    );
    // CreateStream's tags obey the same rules.
    assert_error(
        client
            .create_stream()
            .stream_name("bad-create")
            .shard_count(1)
            .tags("x", "a#b")
            .send()
            .await,
        "InvalidArgumentException",
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white \
         space, _ . / = + - % @.",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tags_work_on_stream_arns_and_consumer_arns_are_resolved() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_stream()
        .stream_name("res")
        .shard_count(1)
        .tags("created", "yes")
        .send()
        .await
        .expect("create with tags");
    wait_for_active(&client, "res").await;
    let arn = server.stream_arn("res");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("b", "2")
        .tags("a", "1")
        .send()
        .await
        .expect("tag resource");
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("b")
        .tag_keys("zz")
        .send()
        .await
        .expect("untag resource");
    let out = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list tags for resource");
    assert_eq!(pairs(out.tags()), kv(&[("a", "1"), ("created", "yes")]));
    // Both APIs see the same tags.
    let via_stream = client
        .list_tags_for_stream()
        .stream_name("res")
        .send()
        .await
        .expect("list tags");
    assert_eq!(pairs(via_stream.tags()), pairs(out.tags()));

    // Consumers are not registered on this build: a consumer ARN of an existing stream names
    // a missing consumer; one of a missing stream names the stream.
    assert_error(
        client
            .list_tags_for_resource()
            .resource_arn(format!("{arn}/consumer/app:1700000000"))
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Consumer app, account {ACCOUNT_ID} not found."),
    );
    assert_error(
        client
            .tag_resource()
            .resource_arn(format!("{}/consumer/app:1", server.stream_arn("gone")))
            .tags("a", "b")
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("gone"),
    );
    let msg = assert_code(
        client
            .list_tags_for_resource()
            .resource_arn("arn:aws:kinesis:us-east-1:000000000000:table/x")
            .send()
            .await,
        "ValidationException",
    );
    assert!(
        msg.contains("Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_policies_are_stored_returned_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "pol", 1).await;
    let arn = server.stream_arn("pol");
    let get = || client.get_resource_policy().resource_arn(&arn).send();
    assert_eq!(get().await.expect("get").policy(), "{}", "none yet");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"kinesis:GetRecords","Resource":"{arn}"}}]}}"#
    );
    client
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(&policy)
        .send()
        .await
        .expect("put policy");
    assert_eq!(get().await.expect("get").policy(), policy);
    client
        .delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("delete policy");
    assert_eq!(get().await.expect("get").policy(), "{}", "deleted");
    // Deleting again is fine.
    client
        .delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("delete again");

    // The wire shape: Put/Delete answer an empty 200, Get `{"Policy": ...}`.
    let r = server
        .raw_call(
            "DeleteResourcePolicy",
            &serde_json::json!({ "ResourceARN": arn }),
        )
        .await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    let r = server
        .raw_call(
            "GetResourcePolicy",
            &serde_json::json!({ "ResourceARN": arn }),
        )
        .await;
    assert_eq!(r.json(), serde_json::json!({ "Policy": "{}" }));

    for bad in ["not json", "[]", r#"{"Version":"2012-10-17"}"#] {
        let msg = assert_code(
            client
                .put_resource_policy()
                .resource_arn(&arn)
                .policy(bad)
                .send()
                .await,
            "InvalidArgumentException",
        );
        assert!(msg.starts_with("Invalid resource policy: "), "{msg}");
    }
    let huge = format!(r#"{{"Statement":{{"Sid":"{}"}}}}"#, "a".repeat(21 * 1024));
    let msg = assert_code(
        client
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(huge)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(
        msg.contains("more than the maximum of 20480 bytes"),
        "{msg}"
    );
    assert_error(
        client
            .get_resource_policy()
            .resource_arn(server.stream_arn("nope"))
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("nope"),
    );
    assert_error(
        client
            .put_resource_policy()
            .resource_arn(format!("{arn}/consumer/c:1"))
            .policy(&policy)
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Consumer c, account {ACCOUNT_ID} not found."),
    );
}
