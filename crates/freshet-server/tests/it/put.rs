// SPDX-License-Identifier: Apache-2.0
//! Writes: PutRecord and PutRecords routing, sequence numbers, ExplicitHashKey,
//! SequenceNumberForOrdering, and their errors.

use std::collections::BTreeMap;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};

use super::common::*;

const SHARD1_START: &str = "113427455640312821154458202477256070485";
const SHARD0_END: &str = "113427455640312821154458202477256070484";
const MAX_HASH: &str = "340282366920938463463374607431768211455";
const TWO_POW_128: &str = "340282366920938463463374607431768211456";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_record_routes_by_md5_of_the_partition_key() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-route", 4).await;
    let mut per_shard: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..64 {
        let key = format!("partition-{i}");
        let out = put(&client, "put-route", &key, key.as_bytes()).await;
        assert_eq!(out.shard_id(), expected_shard(&key, 4), "key {key}");
        assert_seq_shape(out.sequence_number());
        *per_shard.entry(out.shard_id().to_owned()).or_default() += 1;
    }
    // 64 MD5-distributed keys certainly touch every one of 4 shards; a server that sends
    // everything to one shard must not pass by luck.
    assert_eq!(per_shard.len(), 4, "{per_shard:?}");

    // Unicode keys hash their UTF-8 bytes.
    for key in ["ключ", "鍵", "🔑"] {
        let out = put(&client, "put-route", key, b"x").await;
        assert_eq!(out.shard_id(), expected_shard(key, 4), "key {key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_hash_key_overrides_the_partition_key() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-ehk", 3).await;
    let cases = [
        ("0", 0),
        (SHARD0_END, 0),
        (SHARD1_START, 1),
        ("226854911280625642308916404954512140970", 2),
        (MAX_HASH, 2),
    ];
    for (ehk, want) in cases {
        // The partition key alone would route elsewhere for at least some of these.
        let out = client
            .put_record()
            .stream_name("put-ehk")
            .partition_key("same-key")
            .explicit_hash_key(ehk)
            .data(Blob::new(b"x".to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRecord ExplicitHashKey {ehk}: {e:?}"));
        assert_eq!(out.shard_id(), shard_id(want), "ExplicitHashKey {ehk}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_hash_key_out_of_range_is_invalid() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-ehk-bad", 1).await;
    let r = client
        .put_record()
        .stream_name("put-ehk-bad")
        .partition_key("k")
        .explicit_hash_key(TWO_POW_128)
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
             Specified value was {TWO_POW_128}"
        ),
    );

    // Not a decimal number at all: a model pattern violation.
    let r = client
        .put_record()
        .stream_name("put-ehk-bad")
        .partition_key("k")
        .explicit_hash_key("12abc")
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_error(
        r,
        "ValidationException",
        &one_validation_error(
            "'12abc'",
            "explicitHashKey",
            r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})",
        ),
    );

    // Nothing was written.
    let it = trim_horizon(&client, "put-ehk-bad", 0);
    let out = get_records(&client, &it.await, None).await;
    assert!(out.records().is_empty(), "{:?}", out.records());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_numbers_strictly_increase_within_a_shard() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-seq", 2).await;
    let mut by_shard: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..40 {
        let out = put(&client, "put-seq", &format!("k{}", i % 5), b"data").await;
        by_shard
            .entry(out.shard_id().to_owned())
            .or_default()
            .push(out.sequence_number().to_owned());
    }
    for (shard, seqs) in &by_shard {
        assert_strictly_increasing(seqs);
        // Every record's number is after the shard's starting sequence number.
        let shards = list_all_shards(&client, "put-seq").await;
        let s = shards
            .iter()
            .find(|s| s.shard_id() == shard)
            .expect("shard listed");
        let start = s
            .sequence_number_range()
            .expect("range")
            .starting_sequence_number();
        assert_ne!(
            seq_cmp(start, &seqs[0]),
            std::cmp::Ordering::Greater,
            "{shard}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_number_for_ordering_yields_a_greater_sequence_number() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-order", 1).await;
    let first = put(&client, "put-order", "k", b"1").await;
    let mut previous = first.sequence_number().to_owned();
    for i in 0..5 {
        let out = client
            .put_record()
            .stream_name("put-order")
            .partition_key("k")
            .sequence_number_for_ordering(&previous)
            .data(Blob::new(format!("{i}").into_bytes()))
            .send()
            .await
            .expect("PutRecord with SequenceNumberForOrdering");
        assert_eq!(
            seq_cmp(out.sequence_number(), &previous),
            std::cmp::Ordering::Greater,
            "SequenceNumberForOrdering is an exclusive minimum"
        );
        previous = out.sequence_number().to_owned();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_writes_500_entries_aligned_with_the_request() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "prs-500", 4).await;
    let entries: Vec<PutRecordsRequestEntry> = (0..500)
        .map(|i| entry(&format!("key-{i}"), format!("value-{i}").as_bytes()))
        .collect();
    let out = client
        .put_records()
        .stream_name("prs-500")
        .set_records(Some(entries))
        .send()
        .await
        .expect("PutRecords");
    assert_eq!(out.failed_record_count(), Some(0));
    assert_eq!(out.records().len(), 500);

    // Response entry i belongs to request entry i: its shard is the key's shard.
    let mut expected: BTreeMap<String, BTreeMap<String, (String, Vec<u8>)>> = BTreeMap::new();
    for (i, r) in out.records().iter().enumerate() {
        let key = format!("key-{i}");
        assert_eq!(r.error_code(), None, "entry {i}");
        assert_eq!(r.error_message(), None, "entry {i}");
        assert_eq!(
            r.shard_id(),
            Some(expected_shard(&key, 4).as_str()),
            "entry {i}"
        );
        let seq = r
            .sequence_number()
            .expect("successful entry has a SequenceNumber");
        assert_seq_shape(seq);
        expected
            .entry(r.shard_id().expect("shard").to_owned())
            .or_default()
            .insert(seq.to_owned(), (key, format!("value-{i}").into_bytes()));
    }
    assert_eq!(expected.len(), 4, "500 keys touch every shard");

    // Reading every shard gives back exactly those records under those sequence numbers.
    for (shard, want) in expected {
        let it = iterator(
            &client,
            "prs-500",
            &shard,
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let (records, _) = read_exactly(&client, it, want.len()).await;
        assert_strictly_increasing(&seqs(&records));
        for r in &records {
            let (key, data) = want.get(r.sequence_number()).unwrap_or_else(|| {
                panic!(
                    "{shard}: record {} was not acknowledged",
                    r.sequence_number()
                )
            });
            assert_eq!(r.partition_key(), Some(key.as_str()));
            assert_eq!(r.data().as_ref(), data.as_slice());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_honours_explicit_hash_keys_per_entry() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "prs-ehk", 3).await;
    let e = |ehk: &str| {
        PutRecordsRequestEntry::builder()
            .partition_key("one-key")
            .explicit_hash_key(ehk)
            .data(Blob::new(b"x".to_vec()))
            .build()
            .expect("entry")
    };
    let out = client
        .put_records()
        .stream_name("prs-ehk")
        .records(e(MAX_HASH))
        .records(e("0"))
        .records(e(SHARD1_START))
        .send()
        .await
        .expect("PutRecords");
    let shards: Vec<_> = out
        .records()
        .iter()
        .map(|r| r.shard_id().unwrap_or("-"))
        .collect();
    assert_eq!(shards, [shard_id(2), shard_id(0), shard_id(1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_records_with_an_invalid_explicit_hash_key_fails_whole_request() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "prs-bad", 1).await;
    let bad = PutRecordsRequestEntry::builder()
        .partition_key("k")
        .explicit_hash_key(TWO_POW_128)
        .data(Blob::new(b"bad".to_vec()))
        .build()
        .expect("entry");
    let r = client
        .put_records()
        .stream_name("prs-bad")
        .records(entry("k", b"good"))
        .records(bad)
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
             Specified value was {TWO_POW_128}"
        ),
    );
    let it = trim_horizon(&client, "prs-bad", 0);
    let out = get_records(&client, &it.await, None).await;
    assert!(
        out.records().is_empty(),
        "a rejected request wrote {:?}",
        out.records()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_over_the_size_limits_are_rejected_and_the_server_stays_up() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-big", 1).await;

    // The largest record the default 1 MiB limit allows: data + key = 1 MiB.
    let key = "k";
    let fits = vec![7u8; 1024 * 1024 - key.len()];
    put(&client, "put-big", key, &fits).await;

    // One byte over the stream's record limit. AWS's exact text is not recorded (reference §7).
    let over = vec![7u8; 1024 * 1024 - key.len() + 1];
    let r = client
        .put_record()
        .stream_name("put-big")
        .partition_key(key)
        .data(Blob::new(over))
        .send()
        .await;
    let e = expect_err(r);
    assert_eq!(e.status, Some(400), "{e:?}");
    assert!(
        matches!(
            e.code.as_deref(),
            Some("InvalidArgumentException" | "ValidationException")
        ),
        "oversized record: {e:?}"
    );

    // Over the model's Data maximum of 10,485,760 bytes: the coral length rule.
    let huge = vec![0u8; 10 * 1024 * 1024 + 1];
    let r = client
        .put_record()
        .stream_name("put-big")
        .partition_key(key)
        .data(Blob::new(huge))
        .send()
        .await;
    assert_error(
        r,
        "ValidationException",
        &one_validation_error(
            "'java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]'",
            "data",
            "Member must have length less than or equal to 10485760",
        ),
    );

    // The accepted record and only it is there; the server still takes writes.
    put(&client, "put-big", key, b"after").await;
    let it = trim_horizon(&client, "put-big", 0);
    let (records, _) = read_exactly(&client, it.await, 2).await;
    assert_eq!(records[0].data().as_ref().len(), fits.len());
    assert_eq!(records[1].data().as_ref(), b"after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_key_length_is_validated() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-pk", 1).await;
    let send = |k: String| {
        client
            .put_record()
            .stream_name("put-pk")
            .partition_key(k)
            .data(Blob::new(b"x".to_vec()))
            .send()
    };
    let longest = "p".repeat(256);
    send(longest.clone())
        .await
        .expect("256-character key is allowed");
    let too_long = "p".repeat(257);
    assert_error(
        send(too_long.clone()).await,
        "ValidationException",
        &one_validation_error(
            &format!("'{too_long}'"),
            "partitionKey",
            "Member must have length less than or equal to 256",
        ),
    );
    assert_error(
        send(String::new()).await,
        "ValidationException",
        &one_validation_error(
            "''",
            "partitionKey",
            "Member must have length greater than or equal to 1",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_are_each_stored_once_in_sequence_order() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "put-conc", 2).await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..40 {
                let data = format!("t{t}-{i}");
                let out = put(
                    &client,
                    "put-conc",
                    &format!("key-{t}-{i}"),
                    data.as_bytes(),
                )
                .await;
                acks.push((
                    out.shard_id().to_owned(),
                    out.sequence_number().to_owned(),
                    data,
                ));
            }
            acks
        }));
    }
    let mut by_shard: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for task in tasks {
        for (shard, seq, data) in task.await.expect("put task") {
            by_shard.entry(shard).or_default().push((seq, data));
        }
    }
    for (shard, mut acks) in by_shard {
        acks.sort_by(|a, b| seq_cmp(&a.0, &b.0));
        let seq_list: Vec<String> = acks.iter().map(|a| a.0.clone()).collect();
        assert_strictly_increasing(&seq_list); // also proves uniqueness
        let it = iterator(
            &client,
            "put-conc",
            &shard,
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let (records, _) = read_exactly(&client, it, acks.len()).await;
        let got: Vec<(String, String)> = records
            .iter()
            .map(|r| {
                let data = String::from_utf8(r.data().as_ref().to_vec()).expect("utf-8");
                (r.sequence_number().to_owned(), data)
            })
            .collect();
        assert_eq!(
            got, acks,
            "{shard}: acknowledged records, once each, in sequence order"
        );
    }
}
