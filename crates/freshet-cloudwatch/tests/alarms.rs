// SPDX-License-Identifier: Apache-2.0
//! Alarm evaluation against the metric store, on a manual clock: the evaluator's windows,
//! transitions with their history, SetAlarmState being corrected by the next evaluation,
//! and state surviving a reopen of the platform.

use std::sync::Arc;

use freshet_cloudwatch::alarms::evaluator::evaluate_all;
use freshet_cloudwatch::alarms::model::{
    Alarm, AlarmKind, AlarmQuery, MetricAlarmConfig, MetricRef, QueryStat, SingleMetric,
};
use freshet_cloudwatch::alarms::{HistoryKind, State};
use freshet_cloudwatch::{Account, CloudWatch};
use freshet_log::LogConfig;
use freshet_metrics::{Datapoint, MetricKey, Point, Recorder, Unit};
use freshet_runtime::{Platform, Tasks};
use freshet_types::clock::ManualClock;

/// 2026-12-05T10:00:00Z.
const T0: i64 = 1_796_464_800_000;

fn open(dir: &std::path::Path, clock: &ManualClock) -> (Platform, CloudWatch) {
    let platform = Platform::open_local(
        dir,
        LogConfig::default(),
        Arc::new(clock.clone()),
        Tasks::detached(),
    )
    .expect("platform");
    let cw = CloudWatch::open(
        &platform,
        Recorder::new(Arc::new(clock.clone())),
        Account {
            id: "000000000000".into(),
            region: "us-east-1".into(),
        },
    )
    .expect("cloudwatch");
    (platform, cw)
}

fn alarm(name: &str, evaluation_periods: u32, m: Option<u32>, treat: Option<&str>) -> Alarm {
    Alarm {
        name: name.into(),
        arn: format!("arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"),
        description: None,
        actions_enabled: true,
        ok_actions: vec![],
        alarm_actions: vec![],
        insufficient_data_actions: vec![],
        state: State::InsufficientData,
        state_reason: String::new(),
        state_reason_data: None,
        state_updated_ms: 0,
        state_transitioned_ms: 0,
        configuration_updated_ms: 0,
        kind: AlarmKind::Metric(MetricAlarmConfig {
            single: Some(SingleMetric {
                metric: MetricRef {
                    namespace: "App".into(),
                    name: "Errors".into(),
                    dimensions: vec![("Service".into(), "api".into())],
                },
                statistic: Some("Maximum".into()),
                extended_statistic: None,
                period_s: 10,
                unit: None,
            }),
            metrics: vec![],
            evaluation_periods,
            datapoints_to_alarm: m,
            threshold: Some(1.0),
            threshold_metric_id: None,
            comparison_operator: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: treat.map(String::from),
            evaluate_low_sample_count_percentile: None,
        }),
        tags: vec![],
    }
}

async fn put(cw: &CloudWatch, ts: i64, v: f64) {
    let key = MetricKey::new("App", "Errors", [("Service", "api")]);
    cw.store
        .put(vec![Point {
            key: Arc::new(key),
            timestamp_ms: ts,
            resolution_s: 1,
            value: Datapoint::one(v, Unit::None),
        }])
        .await
        .expect("put");
}

fn state(cw: &CloudWatch, name: &str) -> State {
    cw.alarms.get(name).expect("alarm").state
}

#[tokio::test]
async fn a_new_alarm_is_unchecked_then_follows_its_metric() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    cw.alarms.put(alarm("errors", 1, None, None)).expect("put");
    let a = cw.alarms.get("errors").expect("alarm");
    assert_eq!(a.state, State::InsufficientData);
    assert_eq!(a.state_reason, "Unchecked: Initial alarm creation");

    put(&cw, T0 + 1_000, 5.0).await;
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    let a = cw.alarms.get("errors").expect("alarm");
    assert_eq!(a.state, State::Alarm);
    assert_eq!(
        a.state_reason,
        "Threshold Crossed: 1 datapoint [5.0 (05/12/26 10:00:00)] was greater than or equal to the threshold (1.0)."
    );
    let data: serde_json::Value =
        serde_json::from_str(a.state_reason_data.as_deref().expect("data")).expect("json");
    assert_eq!(data["recentDatapoints"], serde_json::json!([5.0]));

    // The next period is good: OK again.
    put(&cw, T0 + 11_000, 0.0).await;
    clock.set(T0 + 23_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "errors"), State::Ok);

    let history = cw.alarms.history(Some("errors"), true);
    let summaries: Vec<&str> = history.iter().map(|h| h.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Alarm \"errors\" created",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm updated from ALARM to OK"
        ]
    );
    assert_eq!(history[0].kind, HistoryKind::ConfigurationUpdate);
    let update: serde_json::Value = serde_json::from_str(&history[1].data).expect("json");
    assert_eq!(update["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(update["newState"]["stateValue"], "ALARM");
}

#[tokio::test]
async fn an_alarm_on_an_expression_follows_the_expression() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    let mut a = alarm("ratio", 1, None, None);
    let AlarmKind::Metric(c) = &mut a.kind else {
        unreachable!("a metric alarm")
    };
    // Alarm when twice the errors reach 4: the expression, not the metric, crosses.
    c.single = None;
    c.threshold = Some(4.0);
    c.metrics = vec![
        AlarmQuery {
            id: "e".into(),
            expression: None,
            metric_stat: Some(QueryStat {
                metric: MetricRef {
                    namespace: "App".into(),
                    name: "Errors".into(),
                    dimensions: vec![("Service".into(), "api".into())],
                },
                period_s: 10,
                stat: "Maximum".into(),
                unit: None,
            }),
            label: None,
            return_data: Some(false),
            period_s: None,
            account_id: None,
        },
        AlarmQuery {
            id: "doubled".into(),
            expression: Some("e * 2".into()),
            metric_stat: None,
            label: Some("Doubled errors".into()),
            return_data: Some(true),
            period_s: Some(10),
            account_id: None,
        },
    ];
    cw.alarms.put(a).expect("put");

    put(&cw, T0 + 1_000, 1.5).await;
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "ratio"), State::Ok, "1.5 × 2 is under 4");

    put(&cw, T0 + 11_000, 2.5).await;
    clock.set(T0 + 23_000);
    evaluate_all(&cw).await;
    let a = cw.alarms.get("ratio").expect("alarm");
    assert_eq!(a.state, State::Alarm, "2.5 × 2 reaches 4");
    assert!(a.state_reason.contains("[5.0 "), "{}", a.state_reason);
}

#[tokio::test]
async fn m_of_n_needs_m_breaching_periods() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    cw.alarms
        .put(alarm("two-of-three", 3, Some(2), Some("notBreaching")))
        .expect("put");
    put(&cw, T0, 5.0).await;
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "two-of-three"), State::Ok, "one of three");
    put(&cw, T0 + 20_000, 7.0).await;
    clock.set(T0 + 33_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "two-of-three"), State::Alarm, "two of three");
    let reason = cw.alarms.get("two-of-three").expect("alarm").state_reason;
    assert!(
        reason.starts_with("Threshold Crossed: 2 out of the last 3 datapoints [7.0 (05/12/26 10:00:20), 5.0 (05/12/26 10:00:00)]"),
        "{reason}"
    );
}

#[tokio::test]
async fn set_alarm_state_is_corrected_by_the_next_evaluation() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    cw.alarms.put(alarm("errors", 1, None, None)).expect("put");
    put(&cw, T0, 0.0).await;
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "errors"), State::Ok);
    freshet_cloudwatch::alarms::evaluator::apply(
        &cw,
        "errors",
        State::Alarm,
        "testing".into(),
        None,
    );
    assert_eq!(state(&cw, "errors"), State::Alarm);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "errors"), State::Ok);
}

#[tokio::test]
async fn alarm_state_and_history_survive_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    {
        let (p, cw) = open(dir.path(), &clock);
        cw.alarms
            .put(alarm("errors", 1, None, Some("breaching")))
            .expect("put");
        clock.set(T0 + 13_000);
        evaluate_all(&cw).await;
        assert_eq!(state(&cw, "errors"), State::Alarm);
        p.shutdown();
    }
    let (_p, cw) = open(dir.path(), &clock);
    let a = cw.alarms.get("errors").expect("alarm kept");
    assert_eq!(a.state, State::Alarm);
    assert!(
        a.state_reason.contains("treated as [Breaching]"),
        "{}",
        a.state_reason
    );
    assert_eq!(cw.alarms.history(Some("errors"), false).len(), 2);
}

#[tokio::test]
async fn an_update_keeps_the_state_and_deleting_keeps_the_history() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    cw.alarms
        .put(alarm("errors", 1, None, Some("breaching")))
        .expect("put");
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    let mut updated = alarm("errors", 2, None, Some("breaching"));
    updated.description = Some("now two periods".into());
    cw.alarms.put(updated).expect("update");
    let a = cw.alarms.get("errors").expect("alarm");
    assert_eq!(a.state, State::Alarm);
    assert_eq!(a.description.as_deref(), Some("now two periods"));
    cw.alarms.delete(&["errors".into()]).expect("delete");
    assert!(cw.alarms.get("errors").is_none());
    assert_eq!(cw.alarms.history(Some("errors"), false).len(), 3);
    let e = cw.alarms.delete(&["errors".into()]).expect_err("gone");
    assert_eq!(e.code(), "ResourceNotFound");
}

#[tokio::test]
async fn composite_alarms_follow_their_rule() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    cw.alarms
        .put(alarm("child", 1, None, Some("breaching")))
        .expect("put");
    let mut parent = alarm("parent", 1, None, None);
    parent.kind = AlarmKind::Composite(freshet_cloudwatch::alarms::model::CompositeConfig {
        rule: "ALARM(\"child\") AND NOT OK(child)".into(),
    });
    cw.alarms.put(parent).expect("composite");
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "child"), State::Alarm);
    assert_eq!(state(&cw, "parent"), State::Alarm);
}

/// A one-shot HTTP server on loopback: answers `status` to each request and hands over the
/// bodies it received.
async fn webhook(status: u16) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then Content-Length bytes of body.
            loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        let _ = tx.send(body.to_owned());
                        break;
                    }
                }
            }
            let resp =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (format!("http://{addr}/hook"), rx)
}

async fn action_history(cw: &CloudWatch, name: &str, n: usize) -> Vec<String> {
    for _ in 0..500 {
        let items: Vec<String> = cw
            .alarms
            .history(Some(name), true)
            .into_iter()
            .filter(|h| h.kind == HistoryKind::Action)
            .map(|h| h.summary)
            .collect();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no action history for {name}");
}

#[tokio::test]
async fn sns_topic_actions_post_the_notification_to_the_configured_webhook() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    let (url, mut bodies) = webhook(200).await;
    let mut webhooks = freshet_cloudwatch::alarms::actions::Webhooks::default();
    webhooks.by_topic.insert("pager".into(), url);
    cw.alarms
        .set_peers(freshet_cloudwatch::alarms::actions::Peers {
            sqs: None,
            webhooks,
            invoker: None,
        });
    let topic = "arn:aws:sns:us-east-1:000000000000:pager";
    let unknown = "arn:aws:sns:us-east-1:000000000000:nobody-listens";
    let mut a = alarm("errors", 1, None, Some("breaching"));
    a.alarm_actions = vec![topic.into(), unknown.into()];
    cw.alarms.put(a).expect("put");
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    let body = bodies.recv().await.expect("a notification");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["AlarmName"], "errors");
    assert_eq!(doc["NewStateValue"], "ALARM");
    assert_eq!(doc["Region"], "US East (N. Virginia)");
    assert_eq!(doc["Trigger"]["Period"], 10);
    let summaries = action_history(&cw, "errors", 2).await;
    assert_eq!(
        summaries[0],
        format!("Successfully executed action {topic}")
    );
    assert!(
        summaries[1].starts_with(&format!("Failed to execute action {unknown}")),
        "{}",
        summaries[1]
    );
}

#[tokio::test]
async fn disabled_actions_do_not_run() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let (_p, cw) = open(dir.path(), &clock);
    let mut a = alarm("quiet", 1, None, Some("breaching"));
    a.alarm_actions = vec!["arn:aws:sns:us-east-1:000000000000:t".into()];
    cw.alarms.put(a).expect("put");
    cw.alarms
        .set_actions_enabled(&["quiet".into()], false)
        .expect("disable");
    clock.set(T0 + 13_000);
    evaluate_all(&cw).await;
    assert_eq!(state(&cw, "quiet"), State::Alarm);
    tokio::task::yield_now().await;
    assert!(
        cw.alarms
            .history(Some("quiet"), true)
            .iter()
            .all(|h| h.kind != HistoryKind::Action)
    );
}
