// SPDX-License-Identifier: Apache-2.0
//! An enhanced fan-out reader built on the official SDK's `subscribe_to_shard`, as KCL reads:
//! one subscription per shard, re-subscribed with `AFTER_SEQUENCE_NUMBER` =
//! `ContinuationSequenceNumber` whenever the server ends it (lifetime over), and lineage
//! followed at shard end: when an event carries `ChildShards` and no continuation, the shard
//! is finished, and each child is subscribed from `TRIM_HORIZON` once all its parents are.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition, SubscribeToShardEventStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// A record read through a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfoRecord {
    /// Shard it was read from.
    pub shard_id: String,
    /// Its sequence number.
    pub sequence_number: String,
    /// Its partition key.
    pub partition_key: String,
    /// Its payload.
    pub data: Vec<u8>,
}

/// What one shard's reader reports.
enum ShardNews {
    Records(Vec<EfoRecord>),
    /// The shard is fully read; its children, each with its parents.
    Ended(Vec<(String, Vec<String>)>),
}

/// Reads `stream_arn` through `consumer_arn` from the trim horizon of its root shards (those
/// without a listed parent), following lineage, until `done` holds for everything read so
/// far or `timeout` passes. Returns the records in arrival order per shard.
///
/// # Panics
/// If ListShards fails, or a subscription fails with anything but the ResourceInUseException
/// a quick re-subscription may get (which is retried).
pub async fn read_with_lineage(
    client: &Client,
    stream_arn: &str,
    consumer_arn: &str,
    timeout: Duration,
    mut done: impl FnMut(&[EfoRecord]) -> bool,
) -> Vec<EfoRecord> {
    let shards = client
        .list_shards()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("ListShards")
        .shards
        .unwrap_or_default();
    let listed: BTreeSet<String> = shards.iter().map(|s| s.shard_id().to_owned()).collect();
    let roots: Vec<String> = shards
        .iter()
        .filter(|s| {
            [s.parent_shard_id(), s.adjacent_parent_shard_id()]
                .into_iter()
                .flatten()
                .all(|p| !listed.contains(p))
        })
        .map(|s| s.shard_id().to_owned())
        .collect();
    let (tx, mut rx) = mpsc::channel::<(String, ShardNews)>(64);
    let mut readers = JoinSet::new();
    let mut started = BTreeSet::new();
    for shard in roots {
        started.insert(shard.clone());
        readers.spawn(read_shard(
            client.clone(),
            consumer_arn.to_owned(),
            shard,
            tx.clone(),
        ));
    }
    let mut ended: BTreeSet<String> = BTreeSet::new();
    let mut waiting: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&out) {
        let news = tokio::time::timeout_at(deadline, rx.recv()).await;
        let Ok(Some((shard, news))) = news else { break };
        match news {
            ShardNews::Records(records) => out.extend(records),
            ShardNews::Ended(children) => {
                ended.insert(shard);
                for (child, parents) in children {
                    waiting.insert(child, parents);
                }
                let ready: Vec<String> = waiting
                    .iter()
                    .filter(|(c, parents)| {
                        !started.contains(*c) && parents.iter().all(|p| ended.contains(p))
                    })
                    .map(|(c, _)| c.clone())
                    .collect();
                for child in ready {
                    started.insert(child.clone());
                    readers.spawn(read_shard(
                        client.clone(),
                        consumer_arn.to_owned(),
                        child,
                        tx.clone(),
                    ));
                }
            }
        }
    }
    readers.abort_all();
    out
}

/// Subscribes to one shard again and again until its end, sending what it reads.
async fn read_shard(
    client: Client,
    consumer_arn: String,
    shard: String,
    tx: mpsc::Sender<(String, ShardNews)>,
) {
    let mut position = StartingPosition::builder()
        .r#type(ShardIteratorType::TrimHorizon)
        .build()
        .expect("starting position");
    loop {
        let sent = client
            .subscribe_to_shard()
            .consumer_arn(&consumer_arn)
            .shard_id(&shard)
            .starting_position(position.clone())
            .send()
            .await;
        let mut output = match sent {
            Ok(o) => o,
            Err(e) => {
                let in_use = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception());
                assert!(in_use, "SubscribeToShard {shard}: {e:?}");
                // A re-subscription within 5 s of the last one; KCL backs off the same way.
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        while let Some(event) = output.event_stream.recv().await.expect("event stream") {
            let SubscribeToShardEventStream::SubscribeToShardEvent(e) = event else {
                continue;
            };
            let records: Vec<EfoRecord> = e
                .records()
                .iter()
                .map(|r| EfoRecord {
                    shard_id: shard.clone(),
                    sequence_number: r.sequence_number().to_owned(),
                    partition_key: r.partition_key().unwrap_or_default().to_owned(),
                    data: r.data().as_ref().to_vec(),
                })
                .collect();
            if !records.is_empty()
                && tx
                    .send((shard.clone(), ShardNews::Records(records)))
                    .await
                    .is_err()
            {
                return;
            }
            let continuation = e.continuation_sequence_number();
            if continuation.is_empty() {
                let children = e
                    .child_shards()
                    .iter()
                    .map(|c| (c.shard_id().to_owned(), c.parent_shards().to_vec()))
                    .collect();
                let _ = tx.send((shard.clone(), ShardNews::Ended(children))).await;
                return;
            }
            position = StartingPosition::builder()
                .r#type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(continuation)
                .build()
                .expect("starting position");
        }
    }
}
