// SPDX-License-Identifier: Apache-2.0
//! KinesisStreamAsSource end to end with the official SDKs: a Kinesis stream written with
//! aws-sdk-kinesis (plain and KPL-aggregated records), a delivery stream reading it into
//! Freshet's own S3, the objects read back with aws-sdk-s3; and CreateDeliveryStream's
//! check that the source stream exists.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_firehose::types::{DeliveryStreamType, KinesisStreamSourceConfiguration};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use freshet_testkit::{TestServer, create_active_stream};
use freshet_types::kpl;

use super::{ROLE, assert_error, client, fast, s3, wait_active};

fn source(arn: &str) -> KinesisStreamSourceConfiguration {
    KinesisStreamSourceConfiguration::builder()
        .kinesis_stream_arn(arn)
        .role_arn(ROLE)
        .build()
        .expect("source")
}

fn entry(key: &str, data: Vec<u8>) -> PutRecordsRequestEntry {
    PutRecordsRequestEntry::builder()
        .partition_key(key)
        .data(Blob::new(data))
        .build()
        .expect("entry")
}

/// Every line of every object in `bucket`, per object (in key order).
async fn objects(s3c: &aws_sdk_s3::Client, bucket: &str) -> Vec<Vec<String>> {
    let list = s3c
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list");
    let mut out = Vec::new();
    for o in list.contents() {
        let key = o.key().expect("key");
        let body = s3c
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("get")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        let text = String::from_utf8(body.to_vec()).expect("utf-8");
        out.push(text.lines().map(str::to_owned).collect());
    }
    out
}

#[tokio::test]
async fn a_kinesis_sourced_stream_delivers_every_record_once_in_shard_order_deaggregated() {
    let server = TestServer::start_with(fast).await;
    let k = server.client();
    let f = client(&server);
    let s3c = super::super::s3::client(&server);
    s3c.create_bucket()
        .bucket("bucket")
        .send()
        .await
        .expect("bucket");
    create_active_stream(&k, "src", 2).await;
    f.create_delivery_stream()
        .delivery_stream_name("fromk")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(source(&server.stream_arn("src")))
        .extended_s3_destination_configuration(s3("k/", 1, 0))
        .send()
        .await
        .expect("create");
    wait_active(&f, "fromk").await;

    // Expected lines per shard, in the order the shard stores them.
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for round in 0..3 {
        let mut entries = Vec::new();
        let mut lines = Vec::new();
        for i in 0..10 {
            let line = format!("plain-{round}-{i}");
            entries.push(entry(&format!("key{i}"), format!("{line}\n").into_bytes()));
            lines.push(vec![line]);
        }
        for a in 0..2 {
            let users: Vec<String> = (0..4).map(|u| format!("user-{round}-{a}-{u}")).collect();
            let data: Vec<String> = users.iter().map(|u| format!("{u}\n")).collect();
            let agg = kpl::aggregate(
                data.iter()
                    .enumerate()
                    .map(|(u, d)| (if u % 2 == 0 { "even" } else { "odd" }, None, d.as_bytes())),
            );
            entries.push(entry(&format!("agg{a}"), agg));
            lines.push(users);
        }
        let out = k
            .put_records()
            .stream_name("src")
            .set_records(Some(entries))
            .send()
            .await
            .expect("put records");
        assert_eq!(out.failed_record_count(), Some(0));
        for (r, l) in out.records().iter().zip(lines) {
            let shard = r.shard_id().expect("shard").to_owned();
            expected.entry(shard).or_default().extend(l);
        }
    }
    assert_eq!(expected.len(), 2, "both shards got records");
    let total: usize = expected.values().map(Vec::len).sum();

    let mut got = Vec::new();
    for _ in 0..600 {
        got = objects(&s3c, "bucket").await;
        if got.iter().map(Vec::len).sum::<usize>() >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all: Vec<&String> = got.iter().flatten().collect();
    assert_eq!(
        all.len(),
        total,
        "every record arrived, none twice: {got:?}"
    );
    let unique: HashSet<&&String> = all.iter().collect();
    assert_eq!(unique.len(), total, "no duplicates: {got:?}");
    // Per shard: within every object the shard's records keep their order, and the objects'
    // runs, put side by side, are exactly the shard's records.
    for (shard, want) in &expected {
        let pos = |l: &String| want.iter().position(|w| w == l);
        let mut runs: Vec<Vec<usize>> = got
            .iter()
            .map(|o| o.iter().filter_map(pos).collect::<Vec<_>>())
            .filter(|r| !r.is_empty())
            .collect();
        for r in &runs {
            assert!(
                r.windows(2).all(|w| w[0] < w[1]),
                "{shard}: out of order in an object: {r:?}"
            );
        }
        runs.sort_by_key(|r| r[0]);
        let joined: Vec<usize> = runs.into_iter().flatten().collect();
        assert_eq!(joined, (0..want.len()).collect::<Vec<_>>(), "{shard}");
    }
    let keys: Vec<String> = s3c
        .list_objects_v2()
        .bucket("bucket")
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert!(keys.iter().all(|k| k.starts_with("k/")), "{keys:?}");
    assert!(keys.iter().all(|k| k.contains("/fromk-1-")), "{keys:?}");
    server.stop().await;
}

#[tokio::test]
async fn create_refuses_a_kinesis_source_stream_that_does_not_exist() {
    let server = TestServer::start_with(fast).await;
    let f = client(&server);
    let r = f
        .create_delivery_stream()
        .delivery_stream_name("nosrc")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(source(&server.stream_arn("missing")))
        .extended_s3_destination_configuration(s3("p/", 5, 60))
        .send()
        .await;
    assert_error(
        r,
        "InvalidArgumentException",
        "Stream missing under account 000000000000 not found.",
    );
    server.stop().await;
}
