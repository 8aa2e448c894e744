// SPDX-License-Identifier: Apache-2.0
//! Enhanced fan-out: consumer registration and SubscribeToShard event streams, read with the
//! official SDK's event-stream receiver (which the Rust SDK sends over HTTP/1.1 to an
//! `http://` endpoint: its default hyper client does not speak h2c) and, for HTTP/2 with
//! prior knowledge (what the Java SDK v2 sends), with a raw hyper h2c client and our decoder.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::{
    ConsumerStatus, ShardIteratorType, StartingPosition, SubscribeToShardEvent,
    SubscribeToShardEventStream,
};
use bytes::Bytes;
use freshet_protocol::eventstream;
use freshet_testkit::efo::read_with_lineage;
use freshet_testkit::{AMZ_JSON, TARGET_PREFIX};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::common::*;

/// Generous bound on waits for events; not a timing assertion.
const WAIT: Duration = Duration::from_secs(30);

fn consumer_not_found(name: &str) -> String {
    format!("Consumer {name}, account {ACCOUNT_ID} not found.")
}

async fn register(client: &Client, stream_arn: &str, name: &str) -> String {
    client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name(name)
        .send()
        .await
        .expect("RegisterStreamConsumer")
        .consumer
        .expect("Consumer")
        .consumer_arn
}

async fn wait_consumer_status(client: &Client, arn: &str, want: ConsumerStatus) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = client
            .describe_stream_consumer()
            .consumer_arn(arn)
            .send()
            .await
            .expect("DescribeStreamConsumer");
        if d.consumer_description.expect("description").consumer_status == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer never became {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn register_active(client: &Client, stream_arn: &str, name: &str) -> String {
    let arn = register(client, stream_arn, name).await;
    wait_consumer_status(client, &arn, ConsumerStatus::Active).await;
    arn
}

fn position(ty: ShardIteratorType) -> StartingPosition {
    StartingPosition::builder()
        .r#type(ty)
        .build()
        .expect("position")
}

fn at_sequence(ty: ShardIteratorType, seq: &str) -> StartingPosition {
    StartingPosition::builder()
        .r#type(ty)
        .sequence_number(seq)
        .build()
        .expect("position")
}

async fn subscribe(
    client: &Client,
    arn: &str,
    shard: &str,
    p: StartingPosition,
) -> SubscribeToShardOutput {
    client
        .subscribe_to_shard()
        .consumer_arn(arn)
        .shard_id(shard)
        .starting_position(p)
        .send()
        .await
        .expect("SubscribeToShard")
}

/// The next SubscribeToShardEvent; panics if the stream ends or fails first.
async fn next_event(out: &mut SubscribeToShardOutput) -> SubscribeToShardEvent {
    let e = tokio::time::timeout(WAIT, out.event_stream.recv())
        .await
        .expect("an event in time")
        .expect("event stream")
        .expect("stream still open");
    match e {
        SubscribeToShardEventStream::SubscribeToShardEvent(e) => e,
        other => panic!("unexpected event {other:?}"),
    }
}

/// Reads events until `n` records arrived; returns the records' data and the last event.
async fn read_n(
    out: &mut SubscribeToShardOutput,
    n: usize,
) -> (Vec<Vec<u8>>, SubscribeToShardEvent) {
    let mut data = Vec::new();
    loop {
        let e = next_event(out).await;
        data.extend(e.records().iter().map(|r| r.data().as_ref().to_vec()));
        assert!(data.len() <= n, "more records than put: {}", data.len());
        if data.len() == n {
            return (data, e);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_register_describe_list_and_deregister() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-life", 1).await;
    let stream_arn = server.stream_arn("efo-life");
    let c = client
        .register_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("app-1")
        .tags("team", "data")
        .send()
        .await
        .expect("register")
        .consumer
        .expect("consumer");
    assert_eq!(c.consumer_name, "app-1");
    assert_eq!(c.consumer_status, ConsumerStatus::Creating);
    let (prefix, secs) = c
        .consumer_arn
        .rsplit_once(':')
        .expect("ARN ends with :<seconds>");
    assert_eq!(prefix, format!("{stream_arn}/consumer/app-1"));
    assert_eq!(
        secs.parse::<i64>().expect("seconds"),
        c.consumer_creation_timestamp.secs()
    );
    wait_consumer_status(&client, &c.consumer_arn, ConsumerStatus::Active).await;

    // By StreamARN + ConsumerName, and with all three members.
    let d = client
        .describe_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("app-1")
        .send()
        .await
        .expect("describe by name")
        .consumer_description
        .expect("description");
    assert_eq!(d.consumer_arn, c.consumer_arn);
    assert_eq!(d.stream_arn, stream_arn);
    client
        .describe_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("app-1")
        .consumer_arn(&c.consumer_arn)
        .send()
        .await
        .expect("describe with all three");

    let listed = client
        .list_stream_consumers()
        .stream_arn(&stream_arn)
        .send()
        .await
        .expect("list");
    let consumers = listed.consumers();
    assert_eq!(consumers.len(), 1);
    assert_eq!(consumers[0].consumer_arn, c.consumer_arn);
    assert_eq!(consumers[0].consumer_status, ConsumerStatus::Active);
    assert_eq!(listed.next_token, None);

    let summary = client
        .describe_stream_summary()
        .stream_arn(&stream_arn)
        .send()
        .await
        .expect("summary")
        .stream_description_summary
        .expect("summary");
    assert_eq!(summary.consumer_count, Some(1));

    client
        .deregister_stream_consumer()
        .consumer_arn(&c.consumer_arn)
        .send()
        .await
        .expect("deregister");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await;
        match r {
            Ok(d) => {
                let status = d.consumer_description.expect("description").consumer_status;
                assert_eq!(status, ConsumerStatus::Deleting);
            }
            Err(e) => {
                let e = expect_err::<(), _>(Err(e));
                assert_eq!(e.code.as_deref(), Some("ResourceNotFoundException"));
                assert_eq!(e.message, Some(consumer_not_found("app-1")));
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer never went away"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A new registration of the same name is a new consumer with its own ARN.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = register(&client, &stream_arn, "app-1").await;
    assert_ne!(again, c.consumer_arn);
    assert_error(
        client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await,
        "ResourceNotFoundException",
        &consumer_not_found("app-1"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_errors_are_the_aws_ones() {
    let server = TestServer::start_with(|c| c.kinesis.consumer_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "efo-err", 1).await;
    let stream_arn = server.stream_arn("efo-err");
    let arn = register(&client, &stream_arn, "dup").await;

    assert_error(
        client
            .register_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name("dup")
            .send()
            .await,
        "ResourceInUseException",
        &format!("Consumer dup under stream efo-err under account {ACCOUNT_ID} already exists."),
    );
    assert_error(
        client
            .register_stream_consumer()
            .stream_arn(server.stream_arn("missing"))
            .consumer_name("c")
            .send()
            .await,
        "ResourceNotFoundException",
        &stream_not_found("missing"),
    );
    assert_error(
        client
            .describe_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name("nope")
            .send()
            .await,
        "ResourceNotFoundException",
        &consumer_not_found("nope"),
    );
    assert_error(
        client
            .describe_stream_consumer()
            .stream_arn(&stream_arn)
            .send()
            .await,
        "InvalidArgumentException",
        "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
    );
    assert_error(
        client
            .describe_stream_consumer()
            .consumer_arn(&arn)
            .consumer_name("other")
            .send()
            .await,
        "InvalidArgumentException",
        &format!("ConsumerARN {arn} does not match ConsumerName other."),
    );
    assert_error(
        client
            .deregister_stream_consumer()
            .consumer_arn(format!("{stream_arn}/consumer/ghost:1"))
            .send()
            .await,
        "ResourceNotFoundException",
        &consumer_not_found("ghost"),
    );
    assert_code(
        client
            .describe_stream_consumer()
            .consumer_arn("not-an-arn")
            .send()
            .await,
        "ValidationException",
    );

    // 20 consumers per stream.
    for i in 1..20 {
        register(&client, &stream_arn, &format!("c{i}")).await;
    }
    assert_error(
        client
            .register_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name("c20")
            .send()
            .await,
        "LimitExceededException",
        &format!(
            "Stream efo-err under account {ACCOUNT_ID} already has 20 registered consumers, the \
             maximum allowed."
        ),
    );

    // DeleteStream refuses while consumers are registered unless told to remove them.
    assert_error(
        client.delete_stream().stream_name("efo-err").send().await,
        "ResourceInUseException",
        &format!(
            "Stream efo-err under account {ACCOUNT_ID} has registered consumers. Deregister them \
             or set EnforceConsumerDeletion to true."
        ),
    );
    client
        .delete_stream()
        .stream_name("efo-err")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete with consumers");
    wait_for_gone(&client, "efo-err").await;
    create_active_stream(&client, "efo-err", 1).await;
    let listed = client
        .list_stream_consumers()
        .stream_arn(&stream_arn)
        .send()
        .await
        .expect("list");
    assert!(
        listed.consumers().is_empty(),
        "consumers outlived their stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_five_consumers_are_creating_at_once() {
    let server =
        TestServer::start_with(|c| c.kinesis.consumer_delay = Duration::from_secs(3600)).await;
    let client = server.client();
    create_active_stream(&client, "efo-creating", 1).await;
    let stream_arn = server.stream_arn("efo-creating");
    for i in 0..5 {
        register(&client, &stream_arn, &format!("c{i}")).await;
    }
    assert_error(
        client
            .register_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name("c5")
            .send()
            .await,
        "LimitExceededException",
        &format!(
            "Rate exceeded for stream efo-creating under account {ACCOUNT_ID}: at most 5 \
             consumers can be in CREATING status at once."
        ),
    );
    // A consumer still CREATING cannot subscribe.
    let arn = format!("{stream_arn}/consumer/c0:");
    let listed = client
        .list_stream_consumers()
        .stream_arn(&stream_arn)
        .send()
        .await
        .expect("list");
    let c0 = listed
        .consumers()
        .iter()
        .find(|c| c.consumer_arn.starts_with(&arn))
        .expect("c0");
    assert_error(
        client
            .subscribe_to_shard()
            .consumer_arn(&c0.consumer_arn)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await,
        "ResourceInUseException",
        &format!(
            "Consumer {} is not ACTIVE, instead in state CREATING",
            c0.consumer_arn
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_stream_consumers_pages_with_next_token() {
    let server = TestServer::start_with(|c| c.kinesis.consumer_delay = Duration::ZERO).await;
    let client = server.client();
    create_active_stream(&client, "efo-page", 1).await;
    let stream_arn = server.stream_arn("efo-page");
    for name in ["a", "b", "c"] {
        register(&client, &stream_arn, name).await;
    }
    let first = client
        .list_stream_consumers()
        .stream_arn(&stream_arn)
        .max_results(2)
        .send()
        .await
        .expect("page 1");
    assert_eq!(first.consumers().len(), 2);
    let token = first.next_token.clone().expect("NextToken");
    let second = client
        .list_stream_consumers()
        .stream_arn(&stream_arn)
        .next_token(&token)
        .send()
        .await
        .expect("page 2");
    let mut names: Vec<String> = first
        .consumers()
        .iter()
        .chain(second.consumers())
        .map(|c| c.consumer_name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(second.next_token, None);
    assert_error(
        client
            .list_stream_consumers()
            .stream_arn(&stream_arn)
            .next_token(&token)
            .stream_creation_timestamp(DateTime::from_secs(1))
            .send()
            .await,
        "InvalidArgumentException",
        "NextToken and StreamCreationTimestamp cannot be provided together.",
    );
    assert_error(
        client
            .list_stream_consumers()
            .stream_arn(&stream_arn)
            .next_token("garbage")
            .send()
            .await,
        "InvalidArgumentException",
        "Invalid NextToken.",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_survive_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-restart", 1).await;
    let stream_arn = server.stream_arn("efo-restart");
    let arn = register_active(&client, &stream_arn, "durable").await;
    let server = server.restart().await;
    let client = server.client();
    let d = client
        .describe_stream_consumer()
        .consumer_arn(&arn)
        .send()
        .await
        .expect("describe after restart")
        .consumer_description
        .expect("description");
    assert_eq!(d.consumer_status, ConsumerStatus::Active);
    put(&client, "efo-restart", "k", b"after").await;
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::TrimHorizon),
    )
    .await;
    let (data, _) = read_n(&mut out, 1).await;
    assert_eq!(data, [b"after".to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_pushes_records_put_before_and_after() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-push", 1).await;
    let stream_arn = server.stream_arn("efo-push");
    let arn = register_active(&client, &stream_arn, "reader").await;
    let mut seqs = Vec::new();
    for i in 0..5 {
        seqs.push(
            put(&client, "efo-push", "k", format!("before-{i}").as_bytes())
                .await
                .sequence_number,
        );
    }
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::TrimHorizon),
    )
    .await;
    let (data, last) = read_n(&mut out, 5).await;
    let want: Vec<Vec<u8>> = (0..5).map(|i| format!("before-{i}").into_bytes()).collect();
    assert_eq!(data, want);
    assert_eq!(last.continuation_sequence_number(), seqs[4]);
    assert_eq!(last.millis_behind_latest(), 0);

    for i in 0..3 {
        put(&client, "efo-push", "k", format!("after-{i}").as_bytes()).await;
    }
    let (data, _) = read_n(&mut out, 3).await;
    let want: Vec<Vec<u8>> = (0..3).map(|i| format!("after-{i}").into_bytes()).collect();
    assert_eq!(data, want);
    let r = &next_after_put(&client, &mut out).await;
    assert_eq!(r.partition_key(), Some("pk-last"));
    assert!(r.approximate_arrival_timestamp().is_some());
}

async fn next_after_put(
    client: &Client,
    out: &mut SubscribeToShardOutput,
) -> aws_sdk_kinesis::types::Record {
    put(client, "efo-push", "pk-last", b"x").await;
    let e = loop {
        let e = next_event(out).await;
        if !e.records().is_empty() {
            break e;
        }
    };
    e.records()[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_subscriptions_get_heartbeat_events() {
    let server =
        TestServer::start_with(|c| c.kinesis.subscription_heartbeat = Duration::from_millis(200))
            .await;
    let client = server.client();
    create_active_stream(&client, "efo-beat", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-beat"), "idle").await;
    let seq = put(&client, "efo-beat", "k", b"one").await.sequence_number;
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    for _ in 0..3 {
        let e = next_event(&mut out).await;
        assert!(e.records().is_empty());
        // The continuation names the last record before the position, so resuming after it
        // misses nothing.
        assert_eq!(e.continuation_sequence_number(), seq);
        assert_eq!(e.millis_behind_latest(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_timestamp_and_at_sequence_number_start_where_asked() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-pos", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-pos"), "pos").await;
    let mut seqs = Vec::new();
    for i in 0..3 {
        seqs.push(
            put(&client, "efo-pos", "k", format!("old-{i}").as_bytes())
                .await
                .sequence_number,
        );
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mark = DateTime::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64,
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    put(&client, "efo-pos", "k", b"new").await;

    let p = StartingPosition::builder()
        .r#type(ShardIteratorType::AtTimestamp)
        .timestamp(mark)
        .build()
        .expect("position");
    let mut out = subscribe(&client, &arn, "shardId-000000000000", p).await;
    let (data, _) = read_n(&mut out, 1).await;
    assert_eq!(data, [b"new".to_vec()]);
    drop(out);

    // Another consumer has its own slot on the same shard, and starts at a sequence number.
    let arn2 = register_active(&client, &server.stream_arn("efo-pos"), "pos-2").await;
    let mut out = subscribe(
        &client,
        &arn2,
        "shardId-000000000000",
        at_sequence(ShardIteratorType::AtSequenceNumber, &seqs[1]),
    )
    .await;
    let (data, _) = read_n(&mut out, 3).await;
    assert_eq!(
        data,
        [b"old-1".to_vec(), b"old-2".to_vec(), b"new".to_vec()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_errors_before_the_stream_are_plain_responses() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-pre", 1).await;
    let stream_arn = server.stream_arn("efo-pre");
    let arn = register_active(&client, &stream_arn, "pre").await;
    let ghost = format!("{stream_arn}/consumer/ghost:1");
    assert_error(
        client
            .subscribe_to_shard()
            .consumer_arn(&ghost)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await,
        "ResourceNotFoundException",
        &consumer_not_found("ghost"),
    );
    assert_error(
        client
            .subscribe_to_shard()
            .consumer_arn(&arn)
            .shard_id("shardId-000000000007")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await,
        "ResourceNotFoundException",
        &format!(
            "Shard shardId-000000000007 in stream efo-pre under account {ACCOUNT_ID} does not exist"
        ),
    );
    assert_error(
        client
            .subscribe_to_shard()
            .consumer_arn(&arn)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::AtSequenceNumber))
            .send()
            .await,
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
         StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
         Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
    );
    let _first = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    assert_error(
        client
            .subscribe_to_shard()
            .consumer_arn(&arn)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await,
        "ResourceInUseException",
        &format!(
            "Another SubscribeToShard call for consumer {arn} on shard shardId-000000000000 \
             succeeded less than 5 seconds ago."
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_subscription_takes_over_and_the_old_one_ends_with_resource_in_use() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-take", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-take"), "take").await;
    let mut old = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    // Past the 5-second window (a wait, not a timing assertion).
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let _new = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    let failure = loop {
        match tokio::time::timeout(WAIT, old.event_stream.recv())
            .await
            .expect("in time")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the old stream ended without an exception"),
            Err(e) => break e,
        }
    };
    let in_use = failure
        .as_service_error()
        .is_some_and(|e| e.is_resource_in_use_exception());
    assert!(in_use, "{failure:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_end_cleanly_after_their_lifetime() {
    let server =
        TestServer::start_with(|c| c.kinesis.subscription_lifetime = Duration::from_millis(500))
            .await;
    let client = server.client();
    create_active_stream(&client, "efo-life-end", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-life-end"), "short").await;
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match out.event_stream.recv().await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(e) => panic!("stream failed instead of ending: {e:?}"),
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the subscription did not end");
    // Records put after the end are not delivered to it: the client must re-subscribe.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribing_after_the_continuation_delivers_every_record_exactly_once() {
    let server =
        TestServer::start_with(|c| c.kinesis.subscription_lifetime = Duration::from_millis(700))
            .await;
    let client = server.client();
    create_active_stream(&client, "efo-once", 2).await;
    let stream_arn = server.stream_arn("efo-once");
    let arn = register_active(&client, &stream_arn, "once").await;
    let total = 60usize;
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..total {
                put(
                    &client,
                    "efo-once",
                    &format!("key-{i}"),
                    format!("r{i}").as_bytes(),
                )
                .await;
                if i % 10 == 9 {
                    // Spread the puts over several subscription lifetimes.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
            }
        })
    };
    let records = read_with_lineage(&client, &stream_arn, &arn, Duration::from_secs(60), |r| {
        r.len() >= total
    })
    .await;
    writer.await.expect("writer");
    let mut data: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.data.clone()).expect("utf8"))
        .collect();
    data.sort();
    let mut want: Vec<String> = (0..total).map(|i| format!("r{i}")).collect();
    want.sort();
    assert_eq!(data, want, "every record exactly once");
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let seqs: Vec<String> = records
            .iter()
            .filter(|r| r.shard_id == shard)
            .map(|r| r.sequence_number.clone())
            .collect();
        assert_strictly_increasing(&seqs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_subscriptions_without_waiting_the_grace_period() {
    let server =
        TestServer::start_with(|c| c.server.shutdown_timeout = Duration::from_secs(600)).await;
    let client = server.client();
    create_active_stream(&client, "efo-stop", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-stop"), "stop").await;
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    let stop = tokio::spawn(server.stop());
    // Far below the 600 s grace period: shutdown did not wait for the subscription.
    tokio::time::timeout(Duration::from_secs(60), stop)
        .await
        .expect("shutdown finished")
        .expect("shutdown task");
    let end = tokio::time::timeout(WAIT, async {
        while let Ok(Some(_)) = out.event_stream.recv().await {}
    })
    .await;
    assert!(end.is_ok(), "the client's stream did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_over_h2c_prior_knowledge() {
    let server = TestServer::start().await;
    let client = server.client();
    create_active_stream(&client, "efo-h2", 1).await;
    let arn = register_active(&client, &server.stream_arn("efo-h2"), "h2").await;
    put(&client, "efo-h2", "k", b"hello").await;

    let tcp = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("h2c handshake");
    tokio::spawn(conn);
    let body = serde_json::json!({
        "ConsumerARN": arn,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "TRIM_HORIZON"},
    });
    let req = http::Request::post(format!("http://{}/", server.addr()))
        .header("content-type", AMZ_JSON)
        .header("x-amz-target", format!("{TARGET_PREFIX}SubscribeToShard"))
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = sender.send_request(req).await.expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.amazon.eventstream")
    );
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let mut messages = Vec::new();
    while messages.len() < 2 {
        let frame = tokio::time::timeout(WAIT, body.frame())
            .await
            .expect("a frame in time")
            .expect("body open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        while let Some((m, used)) = eventstream::decode(&buf).expect("valid message") {
            buf.drain(..used);
            messages.push(m);
        }
    }
    assert_eq!(messages[0].header(":message-type"), Some("event"));
    assert_eq!(messages[0].header(":event-type"), Some("initial-response"));
    assert_eq!(
        messages[1].header(":event-type"),
        Some("SubscribeToShardEvent")
    );
    assert_eq!(
        messages[1].header(":content-type"),
        Some("application/json")
    );
    let event: serde_json::Value = serde_json::from_slice(&messages[1].payload).expect("json");
    assert_eq!(event["Records"][0]["Data"], "aGVsbG8=");
    assert_eq!(event["Records"][0]["PartitionKey"], "k");
    assert!(event["ContinuationSequenceNumber"].is_string());
    assert!(event["Records"][0]["ApproximateArrivalTimestamp"].is_number());
}

/// Waits until the server has `n` open subscriptions; panics after [`WAIT`].
async fn wait_open_subscriptions(server: &TestServer, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.open_subscriptions() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} subscriptions open, expected {n}",
            server.open_subscriptions()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_leaves_no_subscription_behind() {
    let server =
        TestServer::start_with(|c| c.kinesis.subscription_heartbeat = Duration::from_millis(200))
            .await;
    let client = server.client();
    create_active_stream(&client, "efo-gone", 2).await;
    let arn = register_active(&client, &server.stream_arn("efo-gone"), "gone").await;

    // HTTP/1.1 through the SDK: dropping the receiver closes the connection.
    let mut out = subscribe(
        &client,
        &arn,
        "shardId-000000000000",
        position(ShardIteratorType::Latest),
    )
    .await;
    next_event(&mut out).await;
    wait_open_subscriptions(&server, 1).await;
    drop(out);
    drop(client);
    wait_open_subscriptions(&server, 0).await;

    // HTTP/2: the client resets the stream by dropping the response body.
    let tcp = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("h2c handshake");
    let conn = tokio::spawn(conn);
    let body = serde_json::json!({
        "ConsumerARN": arn,
        "ShardId": "shardId-000000000001",
        "StartingPosition": {"Type": "LATEST"},
    });
    let req = http::Request::post(format!("http://{}/", server.addr()))
        .header("content-type", AMZ_JSON)
        .header("x-amz-target", format!("{TARGET_PREFIX}SubscribeToShard"))
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = sender.send_request(req).await.expect("response");
    assert_eq!(resp.status(), 200);
    wait_open_subscriptions(&server, 1).await;
    drop(resp);
    wait_open_subscriptions(&server, 0).await;
    drop(sender);
    conn.abort();
}
