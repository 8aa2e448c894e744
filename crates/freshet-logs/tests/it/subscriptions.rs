// SPDX-License-Identifier: Apache-2.0
//! Subscription filters against a fake destination: the API rules, the payloads, and the
//! cursor, committed only after the destination acknowledged.

use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freshet_logs::subscriptions::{Distribution, PutSubscriptionFilter};
use freshet_logs::{
    Destination, DestinationError, ErrorKind, OutRecord, RecordOutcome, SubscriptionDestinations,
};
use freshet_runtime::Supervisor;
use futures_util::future::BoxFuture;

use super::common::*;

const KINESIS: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

/// Records what it is sent; refuses while `failing` is above zero (counting down), and
/// refuses everything for destinations named "missing".
#[derive(Debug, Default)]
struct Fake {
    sent: Mutex<Vec<(Destination, OutRecord)>>,
    failing: Mutex<usize>,
    attempts: Mutex<usize>,
}

impl SubscriptionDestinations for Fake {
    fn send<'a>(
        &'a self,
        destination: &'a Destination,
        records: &'a [OutRecord],
    ) -> BoxFuture<'a, Result<Vec<RecordOutcome>, DestinationError>> {
        Box::pin(async move {
            *self.attempts.lock().unwrap() += 1;
            if matches!(destination, Destination::Kinesis { stream } if stream == "missing") {
                return Err(DestinationError {
                    code: "ResourceNotFoundException".into(),
                    message: "no".into(),
                });
            }
            let mut failing = self.failing.lock().unwrap();
            let mut out = Vec::new();
            for r in records {
                if *failing > 0 {
                    *failing -= 1;
                    out.push(RecordOutcome::Failed {
                        code: "ProvisionedThroughputExceededException".into(),
                        message: "slow down".into(),
                    });
                } else {
                    self.sent
                        .lock()
                        .unwrap()
                        .push((destination.clone(), r.clone()));
                    out.push(RecordOutcome::Delivered);
                }
            }
            Ok(out)
        })
    }

    fn check_function<'a>(
        &'a self,
        function: &'a str,
    ) -> BoxFuture<'a, Result<(), DestinationError>> {
        Box::pin(async move {
            if function.ends_with(":missing") {
                Err(DestinationError {
                    code: "ResourceNotFoundException".into(),
                    message: "no".into(),
                })
            } else {
                Ok(())
            }
        })
    }
}

fn put(name: &str, pattern: &str, arn: &str) -> PutSubscriptionFilter {
    PutSubscriptionFilter {
        group: "g".into(),
        name: name.into(),
        pattern: pattern.into(),
        destination_arn: arn.into(),
        role_arn: None,
        distribution: None,
        apply_on_transformed_logs: false,
        field_selection_criteria: None,
        emit_system_fields: Vec::new(),
    }
}

fn gunzip(data: &[u8]) -> serde_json::Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(data)
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// The data messages sent so far, decoded.
fn data_messages(fake: &Fake) -> Vec<serde_json::Value> {
    fake.sent
        .lock()
        .unwrap()
        .iter()
        .map(|(_, r)| gunzip(&r.data))
        .filter(|v| v["messageType"] == "DATA_MESSAGE")
        .collect()
}

fn delivered_messages(fake: &Fake) -> Vec<String> {
    data_messages(fake)
        .iter()
        .flat_map(|v| {
            v["logEvents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn until(mut f: impl FnMut() -> bool) {
    while !f() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn start(env: &Env) -> Supervisor {
    let s = Supervisor::new(Arc::new(env.clock.clone()));
    s.start(env.logs.subscription_delivery());
    s
}

#[tokio::test]
async fn put_tests_the_destination_limits_filters_and_replaces_by_name() {
    let env = Env::new().await;
    let fake = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake.clone());
    create(&env.logs, "g", &["s"]).await;
    env.logs
        .put_subscription_filter(put("a", "", KINESIS))
        .await
        .unwrap();
    let control = gunzip(&fake.sent.lock().unwrap()[0].1.data);
    assert_eq!(control["messageType"], "CONTROL_MESSAGE");
    env.logs
        .put_subscription_filter(put("b", "ERROR", LAMBDA))
        .await
        .unwrap();
    let e = env
        .logs
        .put_subscription_filter(put("c", "", KINESIS))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert_eq!(e.to_string(), "Resource limit exceeded.");
    // Same name: replaced, creation time kept.
    let before = env
        .logs
        .describe_subscription_filters("g", None, None, None)
        .unwrap();
    env.logs
        .put_subscription_filter(put("a", "WARN", KINESIS))
        .await
        .unwrap();
    let after = env
        .logs
        .describe_subscription_filters("g", None, None, None)
        .unwrap();
    assert_eq!(after.items.len(), 2);
    assert_eq!(after.items[0].filter.pattern, "WARN");
    assert_eq!(
        after.items[0].filter.created_ms,
        before.items[0].filter.created_ms
    );
    assert_eq!(
        after.items[0].filter.distribution,
        Distribution::ByLogStream
    );
    // Paging and prefix.
    let page = env
        .logs
        .describe_subscription_filters("g", None, Some(1), None)
        .unwrap();
    assert_eq!(page.items[0].filter.name, "a");
    let next = env
        .logs
        .describe_subscription_filters("g", None, Some(1), page.next_token.as_deref())
        .unwrap();
    assert_eq!(next.items[0].filter.name, "b");
    assert!(next.next_token.is_none());
    let b = env
        .logs
        .describe_subscription_filters("g", Some("b"), None, None)
        .unwrap();
    assert_eq!(b.items.len(), 1);
    // Bad destinations.
    env.logs.delete_subscription_filter("g", "b").await.unwrap();
    let e = env
        .logs
        .put_subscription_filter(put(
            "c",
            "",
            "arn:aws:kinesis:us-east-1:000000000000:stream/missing",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert!(
        e.to_string()
            .starts_with("Could not deliver test message to specified Kinesis stream."),
        "{e}"
    );
    let e = env
        .logs
        .put_subscription_filter(put(
            "c",
            "",
            "arn:aws:lambda:us-east-1:000000000000:function:missing",
        ))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Could not execute the lambda function."),
        "{e}"
    );
    let e = env
        .logs
        .put_subscription_filter(put("c", "{ $.x = ", KINESIS))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let e = env
        .logs
        .delete_subscription_filter("g", "zz")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResourceNotFound);
    let mut missing_group = put("c", "", KINESIS);
    missing_group.group = "nope".into();
    let e = env
        .logs
        .put_subscription_filter(missing_group)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResourceNotFound);
    let mut unsupported = put("c", "", KINESIS);
    unsupported.emit_system_fields = vec!["@aws.region".into()];
    let e = env
        .logs
        .put_subscription_filter(unsupported)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
}

#[tokio::test]
async fn matching_events_are_delivered_per_stream_in_aws_payloads() {
    let env = Env::new().await;
    let fake = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake.clone());
    create(&env.logs, "g", &["s1", "s2"]).await;
    env.logs
        .put_log_events("g", "s1", &events(&[(T0, "before the filter ERROR")]))
        .await
        .unwrap();
    env.logs
        .put_subscription_filter(put("f", "ERROR", KINESIS))
        .await
        .unwrap();
    let _sup = start(&env);
    env.logs
        .put_log_events(
            "g",
            "s1",
            &events(&[(T0, "ERROR one"), (T0 + 1, "ok"), (T0 + 2, "ERROR two")]),
        )
        .await
        .unwrap();
    env.logs
        .put_log_events("g", "s2", &events(&[(T0 + 3, "ERROR three")]))
        .await
        .unwrap();
    until(|| delivered_messages(&fake).len() == 3).await;
    let msgs = data_messages(&fake);
    let s1 = msgs.iter().find(|m| m["logStream"] == "s1").unwrap();
    assert_eq!(s1["owner"], "000000000000");
    assert_eq!(s1["logGroup"], "g");
    assert_eq!(s1["subscriptionFilters"], serde_json::json!(["f"]));
    let evs = s1["logEvents"].as_array().unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0]["timestamp"], T0);
    assert_eq!(evs[0]["id"].as_str().unwrap().len(), 56);
    // By log stream: one partition key per stream.
    let keys: Vec<String> = fake
        .sent
        .lock()
        .unwrap()
        .iter()
        .skip(1)
        .map(|(_, r)| r.partition_key.clone())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
}

#[tokio::test]
async fn refused_records_are_retried_and_the_cursor_waits_for_the_acknowledgement() {
    let env = Env::new().await;
    let fake = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake.clone());
    create(&env.logs, "g", &["s"]).await;
    env.logs
        .put_subscription_filter(put("f", "", KINESIS))
        .await
        .unwrap();
    *fake.failing.lock().unwrap() = 3;
    let sup = start(&env);
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "one")]))
        .await
        .unwrap();
    until(|| delivered_messages(&fake) == ["one"]).await;
    assert!(
        *fake.attempts.lock().unwrap() >= 5,
        "control + 3 refusals + success"
    );
    // A crash right after: the cursor was committed after the acknowledgement, so a restart
    // sends nothing again.
    sup.shutdown(Duration::from_secs(5)).await;
    let env = env.crash().await;
    let fake2 = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake2.clone());
    let _sup = start(&env);
    env.logs
        .put_log_events("g", "s", &events(&[(T0 + 1, "two")]))
        .await
        .unwrap();
    until(|| delivered_messages(&fake2) == ["two"]).await;
}

#[tokio::test]
async fn events_not_acknowledged_before_a_restart_are_sent_after_it() {
    let env = Env::new().await;
    let fake = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake.clone());
    create(&env.logs, "g", &["s"]).await;
    env.logs
        .put_subscription_filter(put("f", "", KINESIS))
        .await
        .unwrap();
    // Refuse (nearly) forever: nothing is acknowledged, so the cursor never moves.
    *fake.failing.lock().unwrap() = usize::MAX;
    let sup = start(&env);
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "one"), (T0 + 1, "two")]))
        .await
        .unwrap();
    until(|| *fake.attempts.lock().unwrap() >= 3).await;
    sup.shutdown(Duration::from_secs(5)).await;
    let env = env.crash().await;
    let fake2 = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake2.clone());
    let _sup = start(&env);
    until(|| delivered_messages(&fake2) == ["one", "two"]).await;
}

#[tokio::test]
async fn filters_go_with_their_group_and_a_deleted_filter_stops() {
    let env = Env::new().await;
    let fake = Arc::new(Fake::default());
    env.logs.set_subscription_destinations(fake.clone());
    create(&env.logs, "g", &["s"]).await;
    env.logs
        .put_subscription_filter(put("f", "", LAMBDA))
        .await
        .unwrap();
    let _sup = start(&env);
    env.logs
        .put_log_events("g", "s", &events(&[(T0, "one")]))
        .await
        .unwrap();
    until(|| fake.sent.lock().unwrap().len() == 1).await;
    // Lambda gets {"awslogs":{"data":base64}}.
    let event: serde_json::Value =
        serde_json::from_slice(&fake.sent.lock().unwrap()[0].1.data).unwrap();
    use base64::Engine as _;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(event["awslogs"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(gunzip(&gz)["logEvents"][0]["message"], "one");
    env.logs.delete_log_group("g").await.unwrap();
    create(&env.logs, "g", &["s"]).await;
    assert!(
        env.logs
            .describe_subscription_filters("g", None, None, None)
            .unwrap()
            .items
            .is_empty()
    );
    let env = env.restart().await;
    assert!(
        env.logs
            .describe_subscription_filters("g", None, None, None)
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn forwarded_events_and_throttling_are_counted_in_aws_logs_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let clock = freshet_types::ManualClock::new(T0);
    let platform = freshet_runtime::Platform::open_local(
        dir.path(),
        freshet_log::LogConfig::default(),
        Arc::new(clock.clone()),
        freshet_runtime::Tasks::detached(),
    )
    .unwrap();
    let recorder = freshet_metrics::Recorder::new(Arc::new(clock.clone()));
    let logs = freshet_logs::Logs::open(
        &platform,
        freshet_logs::LogsOptions {
            recorder: recorder.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let fake = Arc::new(Fake::default());
    logs.set_subscription_destinations(fake.clone());
    create(&logs, "g", &["s"]).await;
    logs.put_subscription_filter(put("f", "", KINESIS))
        .await
        .unwrap();
    *fake.failing.lock().unwrap() = 1;
    let sup = Supervisor::new(Arc::new(clock.clone()));
    sup.start(logs.subscription_delivery());
    logs.put_log_events("g", "s", &events(&[(T0, "abc"), (T0, "de")]))
        .await
        .unwrap();
    until(|| delivered_messages(&fake).len() == 2).await;
    let mut sums: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    for p in recorder.drain() {
        if p.key.namespace == "AWS/Logs" && !p.key.name.starts_with("Incoming") {
            *sums.entry(p.key.name.clone()).or_default() += p.value.stats.sum;
            assert!(
                p.key.to_string().contains("DestinationType=Kinesis"),
                "{}",
                p.key
            );
        }
    }
    assert_eq!(sums.get("ForwardedLogEvents"), Some(&2.0));
    assert_eq!(sums.get("ForwardedBytes"), Some(&5.0));
    assert_eq!(sums.get("DeliveryThrottling"), Some(&2.0));
    sup.shutdown(Duration::from_secs(5)).await;
}
