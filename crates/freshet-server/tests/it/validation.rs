// SPDX-License-Identifier: Apache-2.0
//! Model-constraint violations: ValidationException with the coral message format
//! (reference §1.4): `1 validation error detected: Value '<v>' at '<path>' failed to satisfy
//! constraint: <rule>`.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use super::common::*;

const VE: &str = "ValidationException";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_count_zero_is_a_validation_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let r = client
        .create_stream()
        .stream_name("val-zero")
        .shard_count(0)
        .send()
        .await;
    assert_error(
        r,
        VE,
        "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: \
         Member must have value greater than or equal to 1",
    );
    let list = client.list_streams().send().await.expect("list");
    assert!(
        list.stream_names().is_empty(),
        "nothing was created: {:?}",
        list.stream_names()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_name_length_and_characters_are_validated() {
    let server = TestServer::start().await;
    let client = server.client();
    let longest = "n".repeat(128);
    client
        .create_stream()
        .stream_name(&longest)
        .shard_count(1)
        .send()
        .await
        .expect("a 128-character name is allowed");

    let too_long = "n".repeat(129);
    let r = client
        .create_stream()
        .stream_name(&too_long)
        .shard_count(1)
        .send()
        .await;
    assert_error(
        r,
        VE,
        &one_validation_error(
            &format!("'{too_long}'"),
            "streamName",
            "Member must have length less than or equal to 128",
        ),
    );
    let r = client
        .describe_stream_summary()
        .stream_name(&too_long)
        .send()
        .await;
    assert_error(
        r,
        VE,
        &one_validation_error(
            &format!("'{too_long}'"),
            "streamName",
            "Member must have length less than or equal to 128",
        ),
    );

    let r = client
        .create_stream()
        .stream_name("bad name!")
        .shard_count(1)
        .send()
        .await;
    assert_error(
        r,
        VE,
        &one_validation_error(
            "'bad name!'",
            "streamName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_violations_are_counted_and_joined() {
    let server = TestServer::start().await;
    let client = server.client();
    let too_long = "n".repeat(129);
    let r = client
        .create_stream()
        .stream_name(&too_long)
        .shard_count(0)
        .send()
        .await;
    let msg = assert_code(r, VE);
    let name_item = format!(
        "Value '{too_long}' at 'streamName' failed to satisfy constraint: Member must have \
         length less than or equal to 128"
    );
    let count_item = "Value '0' at 'shardCount' failed to satisfy constraint: Member must have \
         value greater than or equal to 1";
    let rest = msg
        .strip_prefix("2 validation errors detected: ")
        .unwrap_or_else(|| panic!("plural prefix missing: {msg:?}"));
    let items: Vec<&str> = rest.split("; ").collect();
    assert_eq!(items.len(), 2, "{msg:?}");
    assert!(items.contains(&name_item.as_str()), "{msg:?}");
    assert!(items.contains(&count_item), "{msg:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_needs_between_1_and_500_entries() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "val-prs", 1).await;

    let entries: Vec<PutRecordsRequestEntry> = (0..501).map(|_| entry("k", b"x")).collect();
    let r = client
        .put_records()
        .stream_name("val-prs")
        .set_records(Some(entries))
        .send()
        .await;
    let msg = assert_code(r, VE);
    // The value is Java's rendering of the list (object hashes), so only its frame is fixed.
    let prefix = "1 validation error detected: Value '[";
    let suffix = "]' at 'records' failed to satisfy constraint: Member must have length less \
                  than or equal to 500";
    assert!(msg.starts_with(prefix), "{msg:?}");
    assert!(
        msg.ends_with(suffix),
        "{}",
        &msg[msg.len().saturating_sub(200)..]
    );

    let r = client
        .put_records()
        .stream_name("val-prs")
        .set_records(Some(Vec::new()))
        .send()
        .await;
    assert_error(
        r,
        VE,
        &one_validation_error(
            "'[]'",
            "records",
            "Member must have length greater than or equal to 1",
        ),
    );

    // Nothing was written by either.
    let it = trim_horizon(&client, "val-prs", 0);
    let out = get_records(&client, &it.await, None).await;
    assert!(out.records().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_entry_paths_are_one_based() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "val-path", 1).await;
    let long_key = "p".repeat(257);
    let bad = PutRecordsRequestEntry::builder()
        .partition_key(&long_key)
        .data(Blob::new(b"x".to_vec()))
        .build()
        .expect("entry");
    let r = client
        .put_records()
        .stream_name("val-path")
        .records(entry("ok", b"x"))
        .records(bad)
        .send()
        .await;
    assert_error(
        r,
        VE,
        &one_validation_error(
            &format!("'{long_key}'"),
            "records.2.member.partitionKey",
            "Member must have length less than or equal to 256",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_limits_are_validated() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "val-limits", 1).await;
    let ge1 = "Member must have value greater than or equal to 1";
    let le10k = "Member must have value less than or equal to 10000";

    let r = client
        .describe_stream()
        .stream_name("val-limits")
        .limit(0)
        .send()
        .await;
    assert_error(r, VE, &one_validation_error("'0'", "limit", ge1));
    let r = client
        .describe_stream()
        .stream_name("val-limits")
        .limit(10_001)
        .send()
        .await;
    assert_error(r, VE, &one_validation_error("'10001'", "limit", le10k));
    let r = client
        .list_shards()
        .stream_name("val-limits")
        .max_results(0)
        .send()
        .await;
    assert_error(r, VE, &one_validation_error("'0'", "maxResults", ge1));
    let r = client
        .list_shards()
        .stream_name("val-limits")
        .max_results(10_001)
        .send()
        .await;
    assert_error(r, VE, &one_validation_error("'10001'", "maxResults", le10k));
    let r = client.list_streams().limit(0).send().await;
    assert_error(r, VE, &one_validation_error("'0'", "limit", ge1));

    // Over the page size but within the model: capped, not rejected.
    let out = client
        .describe_stream()
        .stream_name("val-limits")
        .limit(10_000)
        .send()
        .await;
    assert_eq!(
        out.expect("Limit 10000")
            .stream_description()
            .expect("d")
            .shards()
            .len(),
        1
    );
}
