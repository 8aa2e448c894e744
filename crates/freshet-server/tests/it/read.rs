// SPDX-License-Identifier: Apache-2.0
//! Reads: GetShardIterator (every iterator type and its errors) and GetRecords (Limit, caps,
//! MillisBehindLatest, fresh iterators, forged iterators).

use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::ShardIteratorType;

use super::common::*;

const MUST_EITHER: &str = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER \
     and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
     Request specified";

/// Puts `data` items under one key into a 1-shard stream and returns their sequence numbers.
async fn put_all(client: &aws_sdk_kinesis::Client, stream: &str, items: &[&[u8]]) -> Vec<String> {
    let mut seqs = Vec::new();
    for d in items {
        seqs.push(
            put(client, stream, "key", d)
                .await
                .sequence_number()
                .to_owned(),
        );
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trim_horizon_reads_every_record_in_order_with_its_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-th", 1).await;
    let before = SystemTime::now();
    let payloads: Vec<Vec<u8>> = vec![
        b"first".to_vec(),
        Vec::new(),
        "🦀 emoji ✓".as_bytes().to_vec(),
        (0u8..=255).collect(),
        b"last".to_vec(),
    ];
    let mut acks = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        acks.push(put(&client, "rd-th", &format!("pk-{i}"), p).await);
    }
    let after = SystemTime::now();

    let it = iterator(
        &client,
        "rd-th",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let (records, _) = read_exactly(&client, it, payloads.len()).await;
    assert_eq!(
        datas(&records),
        payloads,
        "data round-trips, including empty and binary"
    );
    for (i, (r, ack)) in records.iter().zip(&acks).enumerate() {
        assert_eq!(r.sequence_number(), ack.sequence_number(), "record {i}");
        assert_eq!(
            r.partition_key(),
            Some(format!("pk-{i}").as_str()),
            "record {i}"
        );
        assert_eq!(
            r.encryption_type(),
            None,
            "unencrypted records carry no EncryptionType"
        );
        let ts = r
            .approximate_arrival_timestamp()
            .expect("ApproximateArrivalTimestamp");
        let lo = DateTime::from(before - Duration::from_secs(1)).as_secs_f64();
        let hi = DateTime::from(after + Duration::from_secs(1)).as_secs_f64();
        assert!(
            lo <= ts.as_secs_f64() && ts.as_secs_f64() <= hi,
            "arrival {ts} outside the put"
        );
    }
    assert_strictly_increasing(&seqs(&records));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_records_honours_limit_and_returns_a_fresh_iterator_each_call() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-limit", 1).await;
    let items: Vec<Vec<u8>> = (0..10).map(|i| format!("r{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    put_all(&client, "rd-limit", &refs).await;

    let mut it = iterator(
        &client,
        "rd-limit",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    while got.len() < 10 {
        let out = get_records(&client, &it, Some(3)).await;
        assert!(
            out.records().len() <= 3,
            "Limit 3 returned {}",
            out.records().len()
        );
        sizes.push(out.records().len());
        got.extend(datas(out.records()));
        let next = out
            .next_shard_iterator()
            .expect("open shard always has NextShardIterator");
        assert_ne!(next, it, "NextShardIterator must be a new iterator");
        it = next.to_owned();
        assert!(
            sizes.len() < 50,
            "reading 10 records took too many calls: {sizes:?}"
        );
    }
    assert_eq!(got, items);
    assert_eq!(
        sizes.iter().filter(|n| **n == 3).count(),
        3,
        "full pages of 3: {sizes:?}"
    );

    // At the tip: empty, caught up, and still a fresh iterator that later sees new data.
    let out = get_records(&client, &it, Some(3)).await;
    assert!(out.records().is_empty());
    assert_eq!(out.millis_behind_latest(), Some(0));
    let next = out
        .next_shard_iterator()
        .expect("NextShardIterator")
        .to_owned();
    assert_ne!(next, it);
    put(&client, "rd-limit", "key", b"later").await;
    let (records, _) = read_exactly(&client, next.clone(), 1).await;
    assert_eq!(datas(&records), [b"later".to_vec()]);

    // Iterators are issued, never recomputed: the same request twice, back to back, gets two
    // different NextShardIterators (AWS's never repeat; kinesis-mock #260 shows clients that
    // break when they do).
    let a = get_records(&client, &next, None).await;
    let b = get_records(&client, &next, None).await;
    let (a, b) = (a.next_shard_iterator(), b.next_shard_iterator());
    assert!(a.is_some() && b.is_some());
    assert_ne!(
        a, b,
        "two GetRecords calls returned the same NextShardIterator"
    );

    // An iterator can be used more than once: the old one still reads from its position.
    let out = get_records(&client, &it, None).await;
    assert_eq!(datas(out.records()), [b"later".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_iterator_sees_only_records_put_after_it() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-latest", 1).await;
    put_all(&client, "rd-latest", &[b"old-1", b"old-2"]).await;
    let it = iterator(
        &client,
        "rd-latest",
        &shard_id(0),
        ShardIteratorType::Latest,
        None,
    )
    .await;
    let out = get_records(&client, &it, None).await;
    assert!(
        out.records().is_empty(),
        "LATEST must not see old records: {:?}",
        out.records()
    );
    assert_eq!(out.millis_behind_latest(), Some(0));
    let it = out.next_shard_iterator().expect("next").to_owned();
    put_all(&client, "rd-latest", &[b"new-1", b"new-2"]).await;
    let (records, _) = read_exactly(&client, it, 2).await;
    assert_eq!(datas(&records), [b"new-1".to_vec(), b"new-2".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_and_after_sequence_number_start_at_and_after_that_record() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-seq", 1).await;
    let seqs = put_all(&client, "rd-seq", &[b"a", b"b", b"c", b"d"]).await;
    let shard = shard_id(0);

    let at = ShardIteratorType::AtSequenceNumber;
    let it = iterator(&client, "rd-seq", &shard, at.clone(), Some(&seqs[1])).await;
    let (records, _) = read_exactly(&client, it, 3).await;
    assert_eq!(
        datas(&records),
        [b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]
    );

    let after = ShardIteratorType::AfterSequenceNumber;
    let it = iterator(&client, "rd-seq", &shard, after.clone(), Some(&seqs[1])).await;
    let (records, _) = read_exactly(&client, it, 2).await;
    assert_eq!(datas(&records), [b"c".to_vec(), b"d".to_vec()]);

    // After the last record: nothing until something new arrives.
    let it = iterator(&client, "rd-seq", &shard, after, Some(&seqs[3])).await;
    let (_, it) = read_exactly(&client, it, 0).await;
    put(&client, "rd-seq", "key", b"e").await;
    let (records, _) = read_exactly(&client, it, 1).await;
    assert_eq!(datas(&records), [b"e".to_vec()]);

    // At the shard's own starting sequence number: from the beginning.
    let shards = list_all_shards(&client, "rd-seq").await;
    let start = shards[0]
        .sequence_number_range()
        .expect("range")
        .starting_sequence_number();
    let it = iterator(&client, "rd-seq", &shard, at, Some(start)).await;
    let (records, _) = read_exactly(&client, it, 5).await;
    assert_eq!(records[0].data().as_ref(), b"a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_timestamp_starts_at_the_first_record_at_or_after_it() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-ts", 1).await;
    put_all(&client, "rd-ts", &[b"before-1", b"before-2"]).await;
    // Sleeps order the timestamps; nothing asserts how long anything took.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cut = DateTime::from(SystemTime::now());
    tokio::time::sleep(Duration::from_millis(100)).await;
    put_all(&client, "rd-ts", &[b"after-1", b"after-2"]).await;

    let get = |ts: DateTime| {
        client
            .get_shard_iterator()
            .stream_name("rd-ts")
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(ts)
            .send()
    };
    let it = get(cut)
        .await
        .expect("AT_TIMESTAMP")
        .shard_iterator()
        .expect("it")
        .to_owned();
    let (records, _) = read_exactly(&client, it, 2).await;
    assert_eq!(datas(&records), [b"after-1".to_vec(), b"after-2".to_vec()]);

    // Exactly a record's arrival time includes that record.
    let arrival = *records[0].approximate_arrival_timestamp().expect("arrival");
    let it = get(arrival)
        .await
        .expect("AT_TIMESTAMP")
        .shard_iterator()
        .expect("it")
        .to_owned();
    let (records, _) = read_exactly(&client, it, 2).await;
    assert_eq!(records[0].data().as_ref(), b"after-1");

    // Before the trim horizon: everything.
    let it = get(DateTime::from_secs(1_000_000))
        .await
        .expect("old timestamp");
    let (records, _) = read_exactly(&client, it.shard_iterator().expect("it").to_owned(), 4).await;
    assert_eq!(records[0].data().as_ref(), b"before-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_timestamp_without_or_with_a_future_timestamp_is_invalid() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-ts-bad", 1).await;
    let base = || {
        client
            .get_shard_iterator()
            .stream_name("rd-ts-bad")
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
    };
    assert_error(
        base().send().await,
        "InvalidArgumentException",
        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current \
         request has no timestamp parameter.",
    );
    // Whole milliseconds, so the number in the message is exactly the one sent.
    let now_ms = DateTime::from(SystemTime::now())
        .to_millis()
        .expect("millis");
    let future = DateTime::from_millis(now_ms + 3_600_000);
    let msg = assert_code(
        base().timestamp(future).send().await,
        "InvalidArgumentException",
    );
    let prefix = format!(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. \
         timestampInMillis: {}, currentTimestampInMillis: ",
        future.to_millis().expect("millis")
    );
    assert!(
        msg.starts_with(&prefix),
        "message {msg:?} does not start with {prefix:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterator_type_and_starting_sequence_number_must_agree() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-mismatch", 1).await;
    let seq = put(&client, "rd-mismatch", "k", b"x")
        .await
        .sequence_number()
        .to_owned();
    let call = |kind: ShardIteratorType, seq: Option<&str>| {
        client
            .get_shard_iterator()
            .stream_name("rd-mismatch")
            .shard_id(shard_id(0))
            .shard_iterator_type(kind)
            .set_starting_sequence_number(seq.map(str::to_owned))
            .send()
    };
    let ia = "InvalidArgumentException";
    for kind in ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"] {
        assert_error(
            call(ShardIteratorType::from(kind), None).await,
            ia,
            &format!("{MUST_EITHER} {kind} and no StartingSequenceNumber."),
        );
    }
    for kind in ["TRIM_HORIZON", "LATEST"] {
        assert_error(
            call(ShardIteratorType::from(kind), Some(&seq)).await,
            ia,
            &format!("{MUST_EITHER} {kind} and also a StartingSequenceNumber."),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_number_from_another_shard_is_invalid() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-other", 2).await;
    // A key that routes to shard 1.
    let key = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| expected_shard(k, 2) == shard_id(1))
        .expect("some key routes to shard 1");
    let ack = put(&client, "rd-other", &key, b"x").await;
    assert_eq!(ack.shard_id(), shard_id(1));
    let r = client
        .get_shard_iterator()
        .stream_name("rd-other")
        .shard_id(shard_id(0))
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(ack.sequence_number())
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in \
         a call to a shard with shardId-000000000000",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_shard_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-noshard", 2).await;
    let r = client
        .get_shard_iterator()
        .stream_name("rd-noshard")
        .shard_id("shardId-000000000009")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        "Shard shardId-000000000009 in stream rd-noshard under account 000000000000 does not \
         exist",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn millis_behind_latest_is_positive_until_caught_up() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-behind", 1).await;
    put(&client, "rd-behind", "k", b"one").await;
    // Put the second record clearly later so the first is measurably behind the tip.
    tokio::time::sleep(Duration::from_millis(300)).await;
    put(&client, "rd-behind", "k", b"two").await;

    let it = trim_horizon(&client, "rd-behind", 0);
    let out = get_records(&client, &it.await, Some(1)).await;
    assert_eq!(datas(out.records()), [b"one".to_vec()]);
    let behind = out.millis_behind_latest().expect("MillisBehindLatest");
    assert!(
        behind > 0,
        "one record still unread, yet MillisBehindLatest = {behind}"
    );

    let out = get_records(&client, out.next_shard_iterator().expect("next"), Some(1)).await;
    assert_eq!(datas(out.records()), [b"two".to_vec()]);
    assert_eq!(
        out.millis_behind_latest(),
        Some(0),
        "caught up after the last record"
    );
    let out = get_records(&client, out.next_shard_iterator().expect("next"), None).await;
    assert!(out.records().is_empty());
    assert_eq!(out.millis_behind_latest(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_records_returns_at_most_10000_records() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-10k", 1).await;
    let total = 10_001;
    let mut written = 0;
    while written < total {
        let n = (total - written).min(500);
        let entries = (written..written + n).map(|i| entry("k", format!("{i}").as_bytes()));
        let out = client
            .put_records()
            .stream_name("rd-10k")
            .set_records(Some(entries.collect()))
            .send()
            .await
            .expect("PutRecords");
        assert_eq!(out.failed_record_count(), Some(0));
        written += n;
    }

    let it = iterator(
        &client,
        "rd-10k",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let out = get_records(&client, &it, None).await;
    assert_eq!(
        out.records().len(),
        10_000,
        "default Limit is the 10,000 cap"
    );
    assert_eq!(out.records()[0].data().as_ref(), b"0");
    assert_eq!(out.records()[9_999].data().as_ref(), b"9999");
    assert!(out.millis_behind_latest().is_some());
    let out = get_records(&client, out.next_shard_iterator().expect("next"), None).await;
    assert_eq!(datas(out.records()), [b"10000".to_vec()]);

    let r = client
        .get_records()
        .shard_iterator(&it)
        .limit(10_001)
        .send()
        .await;
    assert_error(
        r,
        "ValidationException",
        &one_validation_error(
            "'10001'",
            "limit",
            "Member must have value less than or equal to 10000",
        ),
    );
    let r = client
        .get_records()
        .shard_iterator(&it)
        .limit(0)
        .send()
        .await;
    assert_error(
        r,
        "ValidationException",
        &one_validation_error(
            "'0'",
            "limit",
            "Member must have value greater than or equal to 1",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_records_returns_at_most_10_mib() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-10mib", 1).await;
    let record = 1024 * 1024 - 3; // data + "k-N" key = 1 MiB, the largest record allowed
    for i in 0..11u8 {
        let data = vec![i; record];
        let out = client
            .put_record()
            .stream_name("rd-10mib")
            .partition_key(format!("k-{}", i % 10))
            .data(Blob::new(data))
            .send()
            .await
            .expect("PutRecord of a 1 MiB record");
        assert_eq!(out.shard_id(), shard_id(0));
    }

    let it = iterator(
        &client,
        "rd-10mib",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let out = get_records(&client, &it, None).await;
    let n = out.records().len();
    let bytes: usize = out.records().iter().map(|r| r.data().as_ref().len()).sum();
    assert!(n >= 1, "the first call returns data");
    assert!(
        bytes <= 10 * 1024 * 1024,
        "one call returned {bytes} bytes over 10 MiB"
    );
    assert!(n < 11, "11 MiB of records in one GetRecords");

    // The rest follows, in order. AWS may throttle reads for a few seconds after a 10 MiB
    // response (ProvisionedThroughputExceededException); wait that out.
    let mut all: Vec<u8> = out.records().iter().map(|r| r.data().as_ref()[0]).collect();
    let mut it = out.next_shard_iterator().expect("next").to_owned();
    let mut calls = 0;
    while all.len() < 11 {
        calls += 1;
        assert!(calls < 100, "could not read the remaining records");
        match client.get_records().shard_iterator(&it).send().await {
            Ok(out) => {
                all.extend(out.records().iter().map(|r| r.data().as_ref()[0]));
                it = out.next_shard_iterator().expect("next").to_owned();
            }
            Err(e) => {
                let code =
                    aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
                assert_eq!(
                    code.as_deref(),
                    Some("ProvisionedThroughputExceededException"),
                    "{e:?}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    assert_eq!(all, (0..11u8).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_data_round_trips() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-empty", 1).await;
    let ack = put(&client, "rd-empty", "k", b"").await;
    let out = client
        .put_records()
        .stream_name("rd-empty")
        .records(entry("k", b""))
        .send()
        .await
        .expect("PutRecords with empty data");
    assert_eq!(out.failed_record_count(), Some(0));
    let it = trim_horizon(&client, "rd-empty", 0);
    let (records, _) = read_exactly(&client, it.await, 2).await;
    assert_eq!(records[0].sequence_number(), ack.sequence_number());
    assert!(records.iter().all(|r| r.data().as_ref().is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_tampered_iterators_are_invalid() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-forge", 1).await;
    create_active_stream(&client, "rd-forge-other", 1).await;
    put(&client, "rd-forge", "k", b"secret").await;
    let invalid = "Invalid ShardIterator.";

    let r = client
        .get_records()
        .shard_iterator("not-an-iterator")
        .send()
        .await;
    assert_error(r, "InvalidArgumentException", invalid);
    let r = client
        .get_records()
        .shard_iterator("AAAAAAAAAAE=")
        .send()
        .await;
    assert_error(r, "InvalidArgumentException", invalid);

    // Change one character anywhere in a real iterator: never accepted as another position.
    let real = iterator(
        &client,
        "rd-forge-other",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let bytes = real.as_bytes();
    for pos in [0, bytes.len() / 3, bytes.len() / 2, bytes.len() - 2] {
        let mut forged = bytes.to_vec();
        forged[pos] = if forged[pos] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).expect("ascii");
        match client.get_records().shard_iterator(&forged).send().await {
            Err(e) => {
                let code =
                    aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
                let msg =
                    aws_sdk_kinesis::error::ProvideErrorMetadata::message(&e).map(str::to_owned);
                assert_eq!(code.as_deref(), Some("InvalidArgumentException"), "{e:?}");
                assert_eq!(msg.as_deref(), Some(invalid));
            }
            // Only possible if the flipped character was ignored padding; then it must still
            // read the other, empty stream and never rd-forge's data.
            Ok(out) => assert!(
                out.records().is_empty(),
                "forged iterator read {:?}",
                out.records()
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iterator_wrapped_in_quotes_is_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-quoted", 1).await;
    put(&client, "rd-quoted", "k", b"q").await;
    let it = trim_horizon(&client, "rd-quoted", 0);
    let quoted = format!("\"{}\"", it.await);
    let out = get_records(&client, &quoted, None).await;
    assert_eq!(datas(out.records()), [b"q".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_records_accepts_the_stream_arn_alongside_the_iterator() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-arn", 1).await;
    put(&client, "rd-arn", "k", b"v").await;
    let it = iterator(
        &client,
        "rd-arn",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let out = client
        .get_records()
        .shard_iterator(it)
        .stream_arn(server.stream_arn("rd-arn"))
        .send()
        .await
        .expect("GetRecords with StreamARN");
    assert_eq!(datas(out.records()), [b"v".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iterator_older_than_its_lifetime_is_expired() {
    // AWS iterators live 300 s; a short configured lifetime exercises the same path.
    let server =
        TestServer::start_with(|c| c.kinesis.iterator_ttl = Duration::from_millis(300)).await;
    let client = server.client();
    create_active_stream(&client, "rd-expired", 1).await;
    put(&client, "rd-expired", "k", b"v").await;
    let it = trim_horizon(&client, "rd-expired", 0).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let r = client.get_records().shard_iterator(&it).send().await;
    let msg = assert_code(r, "ExpiredIteratorException");
    // Reference §3.1: "Iterator expired. The iterator was created at time <Www Mmm dd
    // HH:MM:SS UTC yyyy> while right now it is <...> which is further in the future than the
    // tolerated delay of 300000 milliseconds." — here with the configured 300 ms.
    let prefix = "Iterator expired. The iterator was created at time ";
    let suffix = " which is further in the future than the tolerated delay of 300 milliseconds.";
    assert!(msg.starts_with(prefix) && msg.ends_with(suffix), "{msg:?}");
    let middle = &msg[prefix.len()..msg.len() - suffix.len()];
    let (created, now) = middle
        .split_once(" while right now it is ")
        .expect("two dates");
    for date in [created, now] {
        // e.g. "Mon Nov 23 19:04:04 UTC 2026"
        let parts: Vec<&str> = date.split(' ').collect();
        assert_eq!(parts.len(), 6, "date {date:?}");
        assert_eq!(parts[4], "UTC", "date {date:?}");
        assert_eq!(parts[3].len(), 8, "time of day in {date:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_next_shard_iterator_gets_a_full_new_lifetime() {
    // Polling an idle shard with each NextShardIterator must never expire, however long it
    // goes on: every response carries a freshly issued iterator. Margins are seconds wide.
    let server = TestServer::start_with(|c| c.kinesis.iterator_ttl = Duration::from_secs(3)).await;
    let client = server.client();
    create_active_stream(&client, "rd-renew", 1).await;
    let mut it = trim_horizon(&client, "rd-renew", 0).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let out = get_records(&client, &it, None).await;
        it = out.next_shard_iterator().expect("next").to_owned();
    }
    // 5 s of polling outlived the 3 s lifetime; the latest iterator is still young.
    put(&client, "rd-renew", "k", b"late").await;
    let out = get_records(&client, &it, None).await;
    assert_eq!(datas(out.records()), [b"late".to_vec()]);

    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = client.get_records().shard_iterator(&it).send().await;
    assert_code(r, "ExpiredIteratorException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_ids_are_parsed_loosely_as_aws_does() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-ids", 2).await;
    let key = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| expected_shard(k, 2) == shard_id(1))
        .expect("some key routes to shard 1");
    put(&client, "rd-ids", &key, b"one").await;
    // Reference §3.1: the digits after the first '-' (or the whole id) name the index.
    for raw in [
        "shardId-000000000001",
        "shardId-1",
        "shard-1",
        "1",
        "anything-0001",
    ] {
        let it = iterator(&client, "rd-ids", raw, ShardIteratorType::TrimHorizon, None).await;
        let out = get_records(&client, &it, None).await;
        assert_eq!(datas(out.records()), [b"one".to_vec()], "ShardId {raw:?}");
    }
    let r = client
        .get_shard_iterator()
        .stream_name("rd-ids")
        .shard_id("shardId-abc")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await;
    assert_error(
        r,
        "ResourceNotFoundException",
        "Could not find shard shardId-abc in stream rd-ids under account 000000000000.",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_sequence_numbers_are_validated() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rd-sn-a", 1).await;
    create_active_stream(&client, "rd-sn-b", 1).await;
    let foreign = put(&client, "rd-sn-a", "k", b"x").await;
    let call = |stream: &'static str, seq: &str| {
        client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard_id(0))
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(seq)
            .send()
    };

    let r = call("rd-sn-b", "12abc").await;
    assert_error(
        r,
        "ValidationException",
        &one_validation_error(
            "'12abc'",
            "startingSequenceNumber",
            r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,128})",
        ),
    );

    // Same shard index, other stream: rejected, never read across streams.
    let r = call("rd-sn-b", foreign.sequence_number()).await;
    assert_error(
        r,
        "InvalidArgumentException",
        &format!(
            "StartingSequenceNumber {} used in GetShardIterator on shard shardId-000000000000 in \
             stream rd-sn-b under account 000000000000 is invalid because it did not come from \
             this stream.",
            foreign.sequence_number()
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reads_time_from_its_injected_clock() {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis() as i64;
    let clock = freshet_testkit::ManualClock::new(now_ms);
    let server = TestServer::start_with_clock(std::sync::Arc::new(clock.clone()), |_| {}).await;
    let client = server.client();
    create_active_stream(&client, "clocked", 1).await;
    put_all(&client, "clocked", &[b"old"]).await;
    // A day and an hour later, without sleeping: the record left the 24-hour retention.
    clock.advance(25 * 3_600_000);
    put_all(&client, "clocked", &[b"new"]).await;
    let it = client
        .get_shard_iterator()
        .stream_name("clocked")
        .shard_id(shard_id(0))
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("iterator")
        .shard_iterator()
        .expect("iterator")
        .to_owned();
    let page = client
        .get_records()
        .shard_iterator(it)
        .send()
        .await
        .expect("records");
    let data: Vec<&[u8]> = page.records().iter().map(|r| r.data().as_ref()).collect();
    assert_eq!(data, [b"new".as_slice()]);
    let arrival = page.records()[0]
        .approximate_arrival_timestamp()
        .expect("arrival")
        .to_millis()
        .expect("millis");
    // JSON carries fractional seconds; the SDK's conversion back may lose the last millisecond.
    assert!(
        (arrival - (now_ms + 25 * 3_600_000)).abs() <= 1,
        "stamped by the manual clock: {arrival}"
    );
}
