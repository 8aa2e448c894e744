// SPDX-License-Identifier: Apache-2.0
//! Per-shard throughput quotas (`kinesis.shard_quotas`): a hot shard of a provisioned stream
//! gets ProvisionedThroughputExceededException at the AWS rates, a spread load and on-demand
//! streams get none, and with quotas off (the default) nothing is throttled.
//!
//! These tests rely on burst arithmetic, not on timing: a shard's buckets start full with one
//! second of throughput, and each test spends several seconds' worth in one request (or in one
//! huge record, which leaves the shard in debt for nine seconds), so a slow machine cannot turn
//! a refusal into a success. Clients here do not retry, so every throttle is seen.

use std::time::Instant;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::operation::get_records::GetRecordsError;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ShardIteratorType, StreamMode, StreamModeDetails,
};
use tokio::task::JoinSet;

use super::common::*;

const PTE: &str = "ProvisionedThroughputExceededException";
const MIB: usize = 1024 * 1024;

async fn server_with_quotas() -> TestServer {
    TestServer::start_with(|c| c.kinesis.shard_quotas = true).await
}

/// The test server's client without SDK retries: a throttled call fails at once.
fn no_retry_client(server: &TestServer) -> Client {
    let config = server
        .client()
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn rate_exceeded(shard: &str, stream: &str) -> String {
    format!("Rate exceeded for shard {shard} in stream {stream} under account {ACCOUNT_ID}.")
}

/// Sends `n` GetRecords calls with the same iterator at once and returns their results.
async fn concurrent_get_records(
    client: &Client,
    it: &str,
    n: usize,
) -> Vec<Result<(), SdkError<GetRecordsError, HttpResponse>>> {
    let mut calls = JoinSet::new();
    for _ in 0..n {
        let call = client.get_records().shard_iterator(it).send();
        calls.spawn(async move { call.await.map(|_| ()) });
    }
    calls.join_all().await
}

/// `n` entries with the same key, so all go to one shard.
fn hot_entries(n: usize, data_len: usize) -> Vec<PutRecordsRequestEntry> {
    (0..n)
        .map(|_| entry("hot", &vec![b'x'; data_len]))
        .collect()
}

/// `n` entries spread evenly over the shards of a fresh `shards`-shard stream by their
/// ExplicitHashKey.
fn spread_entries(n: usize, shards: u32, data_len: usize) -> Vec<PutRecordsRequestEntry> {
    let ranges = initial_hash_ranges(shards);
    (0..n)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .explicit_hash_key(ranges[i % ranges.len()].0.to_string())
                .data(Blob::new(vec![b'x'; data_len]))
                .build()
                .expect("entry")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_records_burst_over_one_mebibyte_partly_fails_with_the_aws_error() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    create_active_stream(&client, "q-bytes", 1).await;
    // 500 records of 4,000 data bytes + 3 key bytes = 2,001,500 bytes, twice a shard's burst.
    // The bucket holds 1 MiB, so exactly the first floor(1,048,576 / 4,003) = 261 fit (the
    // refill during one request is far below one more record).
    let out = client
        .put_records()
        .stream_name("q-bytes")
        .set_records(Some(hot_entries(500, 4000)))
        .send()
        .await
        .expect("PutRecords itself succeeds");
    let failed = out.failed_record_count().unwrap_or_default();
    let results = out.records();
    assert_eq!(results.len(), 500);
    let ok = results
        .iter()
        .take_while(|r| r.error_code().is_none())
        .count();
    assert!((261..=262).contains(&ok), "{ok} records fit in the burst");
    assert_eq!(
        failed as usize,
        500 - ok,
        "FailedRecordCount counts the refusals"
    );
    let message = rate_exceeded(&shard_id(0), "q-bytes");
    for r in &results[ok..] {
        assert_eq!(r.error_code(), Some(PTE));
        assert_eq!(r.error_message(), Some(message.as_str()));
        assert!(r.sequence_number().is_none() && r.shard_id().is_none());
    }
    for r in &results[..ok] {
        assert_eq!(r.shard_id(), Some(shard_id(0).as_str()));
        assert_seq_shape(
            r.sequence_number()
                .expect("stored entries have a sequence number"),
        );
    }
    // Only the stored records are readable.
    let it = iterator(
        &client,
        "q-bytes",
        &shard_id(0),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let page = get_records(&client, &it, None).await;
    assert_eq!(page.records().len(), ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_beyond_one_thousand_per_second_are_refused() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    create_active_stream(&client, "q-count", 1).await;
    let started = Instant::now();
    let mut stored = 0usize;
    let mut refused = 0usize;
    for _ in 0..4 {
        let out = client
            .put_records()
            .stream_name("q-count")
            .set_records(Some(hot_entries(500, 1)))
            .send()
            .await
            .expect("PutRecords");
        for r in out.records() {
            match r.error_code() {
                None => stored += 1,
                Some(code) => {
                    assert_eq!(code, PTE);
                    refused += 1;
                }
            }
        }
    }
    // An upper bound only: a slow machine gives the bucket more time to refill, never less.
    let secs = started.elapsed().as_secs_f64();
    let allowed = 1000 + (1000.0 * secs).ceil() as usize;
    assert!(stored <= allowed, "{stored} stored in {secs:.2}s");
    if secs < 0.9 {
        assert!(
            refused > 0,
            "2,000 records in {secs:.2}s must exceed 1,000/s"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_record_to_a_shard_in_debt_fails_whole_and_put_records_entries_fail_alone() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    client
        .create_stream()
        .stream_name("q-debt")
        .shard_count(2)
        .max_record_size_in_kib(10_240)
        .send()
        .await
        .expect("create");
    wait_for_active(&client, "q-debt").await;
    // A 10 MiB record goes through a full bucket and leaves nine seconds of write debt.
    let big = client
        .put_record()
        .stream_name("q-debt")
        .partition_key("hot")
        .data(Blob::new(vec![b'x'; 10 * MIB - 3]))
        .send()
        .await
        .expect("a full shard admits one record larger than its burst");
    let hot = big.shard_id().to_owned();

    let result = client
        .put_record()
        .stream_name("q-debt")
        .partition_key("hot")
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await;
    assert_error(result, PTE, &rate_exceeded(&hot, "q-debt"));

    // In PutRecords, only the hot shard's entry fails; the other shard takes its record.
    let cold_key = (0..)
        .map(|i| format!("cold-{i}"))
        .find(|k| expected_shard(k, 2) != hot)
        .expect("some key routes to the other shard");
    let out = client
        .put_records()
        .stream_name("q-debt")
        .records(entry("hot", b"x"))
        .records(entry(&cold_key, b"y"))
        .send()
        .await
        .expect("PutRecords");
    assert_eq!(out.failed_record_count(), Some(1));
    let r = out.records();
    assert_eq!(r[0].error_code(), Some(PTE));
    let message = rate_exceeded(&hot, "q-debt");
    assert_eq!(r[0].error_message(), Some(message.as_str()));
    assert!(r[1].error_code().is_none(), "{:?}", r[1]);
    assert_ne!(r[1].shard_id(), Some(hot.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_mebibyte_get_records_blocks_the_shards_reads() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    client
        .create_stream()
        .stream_name("q-read")
        .shard_count(1)
        .max_record_size_in_kib(10_240)
        .send()
        .await
        .expect("create");
    wait_for_active(&client, "q-read").await;
    put(&client, "q-read", "k", &vec![b'x'; 10 * MIB - 1]).await;
    let shard = shard_id(0);
    let it = iterator(
        &client,
        "q-read",
        &shard,
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let page = get_records(&client, &it, None).await;
    assert_eq!(page.records().len(), 1);
    // 10 MiB read at 2 MiB/s: the shard's reads stay refused for five seconds.
    let next = page.next_shard_iterator().expect("next iterator");
    let result = client.get_records().shard_iterator(next).send().await;
    assert_error(result, PTE, &rate_exceeded(&shard, "q-read"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_five_get_records_calls_a_second_are_refused() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    create_active_stream(&client, "q-calls", 1).await;
    let shard = shard_id(0);
    let it = iterator(
        &client,
        "q-calls",
        &shard,
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let started = Instant::now();
    let results = concurrent_get_records(&client, &it, 30).await;
    let secs = started.elapsed().as_secs_f64();
    let mut ok = 0usize;
    let message = rate_exceeded(&shard, "q-calls");
    for result in results {
        match result {
            Ok(_) => ok += 1,
            Err(err) => {
                let e = expect_err::<(), _>(Err(err));
                assert_eq!(e.code.as_deref(), Some(PTE), "{e:?}");
                assert_eq!(e.message.as_deref(), Some(message.as_str()));
                assert_eq!(e.status, Some(400));
            }
        }
    }
    // Five calls of burst plus five a second; a slow machine only raises the bound.
    let allowed = 5 + (5.0 * secs).ceil() as usize;
    assert!(ok >= 5 && ok <= allowed, "{ok} of 30 calls in {secs:.2}s");
    if secs < 4.0 {
        assert!(ok < 30, "30 calls in {secs:.2}s must exceed 5 a second");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_spread_within_the_limits_is_never_throttled() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    create_active_stream(&client, "q-spread", 4).await;
    // 4 × 400 records of 1 KiB over 4 shards: 400 records and 400 KiB per shard, well inside
    // each shard's one-second burst however slowly the calls run.
    for _ in 0..4 {
        let out = client
            .put_records()
            .stream_name("q-spread")
            .set_records(Some(spread_entries(400, 4, 1024)))
            .send()
            .await
            .expect("PutRecords");
        assert_eq!(out.failed_record_count(), Some(0), "{:?}", out.records()[0]);
    }
    for i in 0..4 {
        let shard = shard_id(i);
        let it = iterator(
            &client,
            "q-spread",
            &shard,
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await;
        let page = get_records(&client, &it, None).await;
        assert_eq!(page.records().len(), 400, "{shard}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_streams_are_not_throttled_per_shard() {
    let server = server_with_quotas().await;
    let client = no_retry_client(&server);
    let mode = StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .expect("mode");
    client
        .create_stream()
        .stream_name("q-on-demand")
        .stream_mode_details(mode)
        .send()
        .await
        .expect("create");
    wait_for_active(&client, "q-on-demand").await;
    for _ in 0..2 {
        let out = client
            .put_records()
            .stream_name("q-on-demand")
            .set_records(Some(hot_entries(500, 4000)))
            .send()
            .await
            .expect("PutRecords");
        assert_eq!(out.failed_record_count(), Some(0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_quotas_off_nothing_is_throttled() {
    let server = TestServer::start().await;
    assert!(!server.config().kinesis.shard_quotas, "off by default");
    let client = no_retry_client(&server);
    create_active_stream(&client, "q-off", 1).await;
    for _ in 0..3 {
        let out = client
            .put_records()
            .stream_name("q-off")
            .set_records(Some(hot_entries(500, 4000)))
            .send()
            .await
            .expect("PutRecords");
        assert_eq!(out.failed_record_count(), Some(0));
    }
    put(&client, "q-off", "hot", &vec![b'x'; MIB - 3]).await;
    let shard = shard_id(0);
    let it = iterator(&client, "q-off", &shard, ShardIteratorType::Latest, None).await;
    for result in concurrent_get_records(&client, &it, 30).await {
        assert!(result.is_ok(), "{result:?}");
    }
}
