// SPDX-License-Identifier: Apache-2.0
//! Persistence across a clean restart: streams, shards, settings, records and sequence
//! numbers survive, and new writes continue with higher sequence numbers.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};

use super::common::*;

/// Acknowledged records per (stream, shard): (sequence number, data) in put order.
type Acked = BTreeMap<(String, String), Vec<(String, Vec<u8>)>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_records_and_sequence_numbers_survive_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rs-two", 2).await;
    create_active_stream(&client, "rs-one", 1).await;
    create_active_stream(&client, "rs-gone", 1).await;
    client
        .increase_stream_retention_period()
        .stream_name("rs-two")
        .retention_period_hours(72)
        .send()
        .await
        .expect("increase retention");
    client
        .delete_stream()
        .stream_name("rs-gone")
        .send()
        .await
        .expect("delete");
    wait_for_gone(&client, "rs-gone").await;

    // Acknowledged writes, remembered per shard.
    let mut acked: Acked = BTreeMap::new();
    for i in 0..30 {
        let stream = if i % 3 == 0 { "rs-one" } else { "rs-two" };
        let data = format!("record-{i}").into_bytes();
        let out = put(&client, stream, &format!("key-{i}"), &data).await;
        acked
            .entry((stream.to_owned(), out.shard_id().to_owned()))
            .or_default()
            .push((out.sequence_number().to_owned(), data));
    }
    let shards_before = list_all_shards(&client, "rs-two").await;

    let server = server.restart().await;
    let client = server.client();

    let list = client
        .list_streams()
        .send()
        .await
        .expect("list after restart");
    assert_eq!(
        list.stream_names(),
        ["rs-one", "rs-two"],
        "deleted streams stay deleted"
    );
    let s = client
        .describe_stream_summary()
        .stream_name("rs-two")
        .send()
        .await;
    let s = s.expect("summary after restart");
    let s = s.stream_description_summary().expect("summary");
    assert_eq!(s.stream_status(), &StreamStatus::Active);
    assert_eq!(s.retention_period_hours(), 72);
    assert_eq!(s.open_shard_count(), 2);
    assert_eq!(
        list_all_shards(&client, "rs-two").await,
        shards_before,
        "shards unchanged"
    );

    for ((stream, shard), want) in &acked {
        let it = iterator(&client, stream, shard, ShardIteratorType::TrimHorizon, None).await;
        let (records, _) = read_exactly(&client, it, want.len()).await;
        let got: Vec<(String, Vec<u8>)> = records
            .iter()
            .map(|r| (r.sequence_number().to_owned(), r.data().as_ref().to_vec()))
            .collect();
        assert_eq!(
            &got, want,
            "{stream}/{shard}: every acknowledged record, in order, once"
        );
    }

    // New writes continue after the old ones on the same shard.
    for ((stream, shard), want) in &acked {
        let key = want_key(stream, shard, &acked);
        let out = put(&client, stream, &key, b"after-restart").await;
        assert_eq!(&out.shard_id(), shard);
        let last = &want.last().expect("non-empty").0;
        assert_eq!(
            seq_cmp(out.sequence_number(), last),
            Ordering::Greater,
            "{stream}/{shard}: sequence number after restart is not higher"
        );
    }

    // And a second restart right away loses nothing either.
    let server = server.restart().await;
    let client = server.client();
    for ((stream, shard), want) in &acked {
        let it = iterator(&client, stream, shard, ShardIteratorType::TrimHorizon, None).await;
        let (records, _) = read_exactly(&client, it, want.len() + 1).await;
        assert_eq!(
            records.last().expect("record").data().as_ref(),
            b"after-restart"
        );
    }
    server.stop().await;
}

/// A partition key known to route to `shard` of `stream`: the one used for its first record.
fn want_key(stream: &str, shard: &str, acked: &Acked) -> String {
    let data = &acked[&(stream.to_owned(), shard.to_owned())][0].1;
    let text = String::from_utf8(data.clone()).expect("utf-8");
    let i = text.strip_prefix("record-").expect("record-N");
    format!("key-{i}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterators_keep_working_for_new_data_after_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "rs-latest", 1).await;
    put(&client, "rs-latest", "k", b"before").await;

    let server = server.restart().await;
    let client = server.client();
    let it = iterator(
        &client,
        "rs-latest",
        &shard_id(0),
        ShardIteratorType::Latest,
        None,
    )
    .await;
    put(&client, "rs-latest", "k", b"after").await;
    let (records, _) = read_exactly(&client, it, 1).await;
    assert_eq!(datas(&records), [b"after".to_vec()]);
}
