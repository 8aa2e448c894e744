// SPDX-License-Identifier: Apache-2.0
//! Enhanced fan-out in the domain: subscriptions are pushed new records, leases refuse quick
//! re-subscriptions and hand over later ones, and consumers survive a reopen. Leases run on the
//! manual clock; heartbeats use a 20 ms interval, so nothing here waits long.

use freshet_kinesis::{ConsumerRef, Error, IteratorStart, ShardEvent, SubscribeToShard};

use super::*;

fn sub(arn: &str, start: IteratorStart) -> SubscribeToShard {
    SubscribeToShard {
        consumer_arn: arn.to_owned(),
        shard_id: "shardId-000000000000".to_owned(),
        start,
    }
}

fn data(e: &ShardEvent) -> Vec<Vec<u8>> {
    e.records.iter().map(|r| r.data.to_vec()).collect()
}

async fn open_efo(dir: &std::path::Path, clock: &ManualClock) -> Streams {
    let opts = StreamsOptions {
        create_delay: Duration::ZERO,
        delete_delay: Duration::ZERO,
        update_delay: Duration::ZERO,
        consumer_delay: Duration::ZERO,
        subscription_heartbeat: Duration::from_millis(20),
        ..StreamsOptions::default()
    };
    Streams::open(dir, LogConfig::default(), opts, Arc::new(clock.clone()))
        .await
        .expect("open streams")
}

async fn setup(dir: &std::path::Path, clock: &ManualClock) -> (Streams, String) {
    let s = open_efo(dir, clock).await;
    create(&s, "e", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/e";
    let c = s
        .register_consumer(arn, "c", Default::default())
        .await
        .expect("register");
    (s, c.arn)
}

#[tokio::test]
async fn a_subscription_is_pushed_records_as_they_are_put() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let mut subscription = s
        .subscribe_to_shard(sub(&arn, IteratorStart::Latest))
        .expect("subscribe");
    let waiting = tokio::spawn(async move {
        loop {
            let e = subscription.next_event().await.expect("event").expect("ok");
            // Heartbeats may come first on a slow machine; the record follows without a poll.
            if !e.records.is_empty() {
                return (e, subscription);
            }
        }
    });
    tokio::task::yield_now().await;
    let seq = put(&s, "e", "k", b"pushed").await;
    let (e, _subscription) = waiting.await.expect("task");
    assert_eq!(data(&e), vec![b"pushed".to_vec()]);
    assert_eq!(e.continuation_sequence.as_deref(), Some(seq.as_str()));
}

#[tokio::test]
async fn heartbeats_carry_the_continuation_and_an_empty_shard_continues_from_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let mut subscription = s
        .subscribe_to_shard(sub(&arn, IteratorStart::TrimHorizon))
        .expect("subscribe");
    let e = subscription.next_event().await.expect("event").expect("ok");
    assert!(e.records.is_empty());
    // Nothing was ever read: the continuation is "before every record".
    assert_eq!(e.continuation_sequence.as_deref(), Some("0"));
    drop(subscription);
    put(&s, "e", "k", b"first").await;
    clock.advance(5_000);
    let mut again = s
        .subscribe_to_shard(sub(&arn, IteratorStart::AfterSequence("0".to_owned())))
        .expect("resubscribe after 0");
    let e = again.next_event().await.expect("event").expect("ok");
    assert_eq!(
        data(&e),
        vec![b"first".to_vec()],
        "resuming after \"0\" misses nothing"
    );
}

#[tokio::test]
async fn a_quick_resubscription_is_refused_and_a_later_one_takes_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let mut first = s
        .subscribe_to_shard(sub(&arn, IteratorStart::Latest))
        .expect("subscribe");
    clock.advance(4_999);
    let refused = s.subscribe_to_shard(sub(&arn, IteratorStart::Latest));
    assert!(
        matches!(refused, Err(Error::SubscriptionInUse { .. })),
        "{refused:?}"
    );
    clock.advance(1);
    let _second = s
        .subscribe_to_shard(sub(&arn, IteratorStart::Latest))
        .expect("takes over");
    let ended = first.next_event().await.expect("an event");
    assert!(
        matches!(ended, Err(Error::SubscriptionTakenOver { .. })),
        "{ended:?}"
    );
    assert!(
        first.next_event().await.is_none(),
        "over after the exception"
    );
}

#[tokio::test]
async fn deregistering_ends_subscriptions_with_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let mut subscription = s
        .subscribe_to_shard(sub(&arn, IteratorStart::Latest))
        .expect("subscribe");
    s.deregister_consumer(&ConsumerRef {
        consumer_arn: Some(arn.clone()),
        ..ConsumerRef::default()
    })
    .await
    .expect("deregister");
    let ended = subscription.next_event().await.expect("an event");
    assert!(
        matches!(ended, Err(Error::ConsumerNotFound { .. })),
        "{ended:?}"
    );
}

#[tokio::test]
async fn consumers_are_persisted_with_their_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let arn = {
        let (s, arn) = setup(dir.path(), &clock).await;
        s.shutdown();
        arn
    };
    let s = open_efo(dir.path(), &clock).await;
    let c = s
        .describe_consumer(&ConsumerRef {
            consumer_arn: Some(arn.clone()),
            ..ConsumerRef::default()
        })
        .expect("describe after reopen");
    assert_eq!(c.arn, arn);
    assert_eq!(c.status.as_str(), "ACTIVE");
}

#[tokio::test]
async fn deleting_a_stream_with_enforced_consumer_deletion_ends_its_subscriptions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let mut subscription = s
        .subscribe_to_shard(sub(&arn, IteratorStart::Latest))
        .expect("subscribe");
    let refused = s.delete_stream(&StreamRef::name("e"), false).await;
    assert!(
        matches!(refused, Err(Error::StreamHasConsumers { .. })),
        "{refused:?}"
    );
    s.delete_stream(&StreamRef::name("e"), true)
        .await
        .expect("delete with consumers");
    let ended = subscription.next_event().await.expect("an event");
    assert!(
        matches!(ended, Err(Error::ConsumerNotFound { .. })),
        "{ended:?}"
    );
    assert_eq!(s.open_subscriptions(), 1, "until the transport drops it");
    drop(subscription);
    assert_eq!(s.open_subscriptions(), 0);
}

#[tokio::test]
async fn a_backlog_is_sent_in_events_of_at_most_one_mebibyte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (s, arn) = setup(dir.path(), &clock).await;
    let big = vec![7u8; 600 * 1024];
    for _ in 0..4 {
        put(&s, "e", "k", &big).await;
    }
    let mut subscription = s
        .subscribe_to_shard(sub(&arn, IteratorStart::TrimHorizon))
        .expect("subscribe");
    let mut got = 0;
    while got < 4 {
        let e = subscription.next_event().await.expect("event").expect("ok");
        let bytes: usize = e.records.iter().map(|r| r.data.len() + 1).sum();
        assert!(
            e.records.len() <= 1 || bytes <= 1024 * 1024,
            "{} records, {bytes} bytes in one event",
            e.records.len()
        );
        got += e.records.len();
    }
    assert_eq!(got, 4);
}
