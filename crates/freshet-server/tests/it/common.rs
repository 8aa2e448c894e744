// SPDX-License-Identifier: Apache-2.0
//! Shared helpers for the conformance tests: error inspection, puts and reads.

use std::cmp::Ordering;
use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::operation::get_records::GetRecordsOutput;
use aws_sdk_kinesis::operation::put_record::PutRecordOutput;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, Record, Shard, ShardIteratorType, StreamDescriptionSummary,
};

pub use freshet_testkit::{
    ACCOUNT_ID, TestServer, create_active_stream, initial_hash_ranges, partition_key_hash,
    shard_id, wait_for_active, wait_for_gone,
};

/// What a client saw of a service error.
#[derive(Debug)]
pub struct ApiError {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The service error of a call that must fail; panics (showing the value) if it succeeded or
/// failed without a service error (connection, parse, timeout).
#[track_caller]
pub fn expect_err<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> ApiError {
    let err = match result {
        Ok(v) => panic!("expected a service error, got success: {v:?}"),
        Err(e) => e,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.into_err();
            ApiError {
                status,
                code: e.code().map(str::to_owned),
                message: e.message().map(str::to_owned),
            }
        }
        other => panic!("expected a service error, got {other:?}"),
    }
}

/// Asserts the call failed with HTTP 400, this error code and exactly this message.
#[track_caller]
pub fn assert_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    let e = expect_err(result);
    assert_eq!(
        e.code.as_deref(),
        Some(code),
        "error code; whole error: {e:?}"
    );
    assert_eq!(
        e.message.as_deref(),
        Some(message),
        "error message; whole error: {e:?}"
    );
    assert_eq!(e.status, Some(400), "HTTP status; whole error: {e:?}");
}

/// Asserts the call failed with HTTP 400 and this code, and returns the message.
#[track_caller]
pub fn assert_code<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
) -> String {
    let e = expect_err(result);
    assert_eq!(
        e.code.as_deref(),
        Some(code),
        "error code; whole error: {e:?}"
    );
    assert_eq!(e.status, Some(400), "HTTP status; whole error: {e:?}");
    e.message.unwrap_or_default()
}

/// `Stream <n> under account 000000000000 not found.`
pub fn stream_not_found(name: &str) -> String {
    format!("Stream {name} under account {ACCOUNT_ID} not found.")
}

/// The single-item coral validation message.
pub fn one_validation_error(value: &str, path: &str, rule: &str) -> String {
    format!(
        "1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: \
         {rule}"
    )
}

/// Compares two sequence numbers numerically (they are decimal strings without leading
/// zeros, too large for u128).
pub fn seq_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Asserts a sequence number has the AWS shape: 56 decimal digits.
#[track_caller]
pub fn assert_seq_shape(seq: &str) {
    assert!(
        seq.len() == 56 && seq.bytes().all(|b| b.is_ascii_digit()),
        "sequence number {seq:?} is not 56 decimal digits"
    );
}

/// Asserts `seqs` is strictly increasing.
#[track_caller]
pub fn assert_strictly_increasing(seqs: &[String]) {
    for w in seqs.windows(2) {
        assert_eq!(
            seq_cmp(&w[0], &w[1]),
            Ordering::Less,
            "sequence numbers not strictly increasing: {} then {}",
            w[0],
            w[1]
        );
    }
}

/// The index of the shard (of a fresh stream of `shards` shards) whose range holds `hash`.
pub fn shard_index_for(hash: u128, shards: u32) -> u32 {
    let ranges = initial_hash_ranges(shards);
    let i = ranges
        .iter()
        .position(|(lo, hi)| *lo <= hash && hash <= *hi)
        .expect("ranges cover");
    u32::try_from(i).expect("few shards")
}

/// The shard id a partition key routes to in a fresh stream of `shards` shards.
pub fn expected_shard(partition_key: &str, shards: u32) -> String {
    shard_id(shard_index_for(partition_key_hash(partition_key), shards))
}

/// PutRecord by stream name; panics on failure.
pub async fn put(client: &Client, stream: &str, key: &str, data: &[u8]) -> PutRecordOutput {
    client
        .put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(Blob::new(data))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutRecord to {stream}: {e:?}"))
}

/// A PutRecords entry.
pub fn entry(key: &str, data: &[u8]) -> PutRecordsRequestEntry {
    PutRecordsRequestEntry::builder()
        .partition_key(key)
        .data(Blob::new(data))
        .build()
        .expect("entry has its required members")
}

/// GetShardIterator by stream name; panics on failure.
pub async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_starting_sequence_number(seq.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetShardIterator {stream}/{shard}: {e:?}"))
        .shard_iterator()
        .expect("GetShardIterator returns an iterator")
        .to_owned()
}

/// One GetRecords call; panics on failure.
pub async fn get_records(client: &Client, it: &str, limit: Option<i32>) -> GetRecordsOutput {
    client
        .get_records()
        .shard_iterator(it)
        .set_limit(limit)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetRecords: {e:?}"))
}

/// Reads from `it` until `n` records have arrived, then checks that one more call returns
/// nothing. Returns the records and the last iterator.
pub async fn read_exactly(client: &Client, it: String, n: usize) -> (Vec<Record>, String) {
    let mut records = Vec::new();
    let mut it = it;
    let mut empty_calls = 0;
    while records.len() < n {
        let out = get_records(client, &it, None).await;
        if out.records().is_empty() {
            empty_calls += 1;
            assert!(
                empty_calls < 50,
                "only {} of {n} records readable",
                records.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        records.extend(out.records().iter().cloned());
        it = out
            .next_shard_iterator()
            .expect("open shard has a next iterator")
            .to_owned();
    }
    assert_eq!(records.len(), n, "more records than expected: {records:?}");
    let out = get_records(client, &it, None).await;
    assert!(
        out.records().is_empty(),
        "unexpected extra records: {:?}",
        out.records()
    );
    let it = out
        .next_shard_iterator()
        .expect("open shard has a next iterator")
        .to_owned();
    (records, it)
}

/// The stream's DescribeStreamSummary.
pub async fn summary(client: &Client, stream: &str) -> StreamDescriptionSummary {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .expect("DescribeStreamSummary")
        .stream_description_summary
        .expect("summary")
}

/// Every shard of the stream, via ListShards pages.
pub async fn list_all_shards(client: &Client, stream: &str) -> Vec<Shard> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = client.list_shards();
        let req = match &token {
            Some(t) => req.next_token(t),
            None => req.stream_name(stream),
        };
        let out = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListShards {stream}: {e:?}"));
        shards.extend(out.shards().iter().cloned());
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return shards,
        }
    }
}

/// The shard ids of `shards`, in order.
pub fn ids(shards: &[Shard]) -> Vec<String> {
    shards.iter().map(|s| s.shard_id().to_owned()).collect()
}

/// The data of each record as bytes.
pub fn datas(records: &[Record]) -> Vec<Vec<u8>> {
    records.iter().map(|r| r.data().as_ref().to_vec()).collect()
}

/// The sequence numbers of `records`.
pub fn seqs(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.sequence_number().to_owned())
        .collect()
}

/// A TRIM_HORIZON iterator for shard `index` of `stream`; panics on failure.
pub async fn trim_horizon(client: &Client, stream: &str, index: u32) -> String {
    iterator(
        client,
        stream,
        &shard_id(index),
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await
}
