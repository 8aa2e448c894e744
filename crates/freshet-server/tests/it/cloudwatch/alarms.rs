// SPDX-License-Identifier: Apache-2.0
//! Alarms and dashboards through `aws-sdk-cloudwatch`: PutMetricAlarm's rules, DescribeAlarms
//! and its waiter, SetAlarmState and history, tags, evaluation of a high-resolution metric
//! into ALARM with the notification on an SQS queue, and dashboards with AWS's validation
//! errors. Datapoints go straight into the server's metric store, so these tests do not
//! depend on PutMetricData. Waits poll with generous deadlines; nothing asserts speed.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::client::Waiters;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardError;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, HistoryItemType, StateValue, Statistic, Tag,
};
use freshet_metrics::{Datapoint, MetricKey, Point, Unit};
use freshet_testkit::TestServer;

use crate::it::common::{assert_code, expect_err};

fn client(server: &TestServer) -> Client {
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.cloudwatch.alarm_evaluation_interval = Duration::from_millis(200);
    })
    .await
}

fn dim() -> Dimension {
    Dimension::builder().name("Service").value("api").build()
}

/// A simple alarm: Maximum of App/Errors{Service=api} over 10 s ≥ 1.
fn put_alarm(
    client: &Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    client
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("App")
        .metric_name("Errors")
        .dimensions(dim())
        .statistic(Statistic::Maximum)
        .period(10)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
}

async fn put_point(server: &TestServer, v: f64) {
    let cw = server.server().cloudwatch();
    let now = cw.store.clock().now_ms();
    cw.store
        .put(vec![Point {
            key: Arc::new(MetricKey::new("App", "Errors", [("Service", "api")])),
            timestamp_ms: now,
            resolution_s: 1,
            value: Datapoint::one(v, Unit::None),
        }])
        .await
        .expect("put");
}

async fn state_of(client: &Client, name: &str) -> StateValue {
    let out = client
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("describe");
    out.metric_alarms()[0]
        .state_value()
        .cloned()
        .expect("state")
}

async fn wait_for_state(
    server: &TestServer,
    client: &Client,
    name: &str,
    want: StateValue,
    v: f64,
) {
    for _ in 0..300 {
        put_point(server, v).await;
        if state_of(client, name).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{name} never reached {want:?}");
}

#[tokio::test]
async fn a_new_alarm_is_described_as_unchecked_and_the_waiter_finds_it() {
    let server = server().await;
    let client = client(&server);
    put_alarm(&client, "errors")
        .alarm_description("too many errors")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .expect("put");
    client
        .wait_until_alarm_exists()
        .alarm_names("errors")
        .wait(Duration::from_secs(60))
        .await
        .expect("waiter");
    let out = client.describe_alarms().send().await.expect("describe");
    let a = &out.metric_alarms()[0];
    assert_eq!(a.alarm_name(), Some("errors"));
    assert_eq!(
        a.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors")
    );
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(a.state_reason(), Some("Unchecked: Initial alarm creation"));
    assert_eq!(a.statistic(), Some(&Statistic::Maximum));
    assert_eq!(a.period(), Some(10));
    assert_eq!(a.dimensions(), [dim()]);
    assert_eq!(a.actions_enabled(), Some(true));
    assert!(out.composite_alarms().is_empty());

    let tags = client
        .list_tags_for_resource()
        .resource_arn("arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags()[0].key(), Some("team"));

    // Filters and pages.
    put_alarm(&client, "errors-2").send().await.expect("put");
    put_alarm(&client, "other").send().await.expect("put");
    let out = client
        .describe_alarms()
        .alarm_name_prefix("errors")
        .max_records(1)
        .send()
        .await
        .expect("page");
    assert_eq!(out.metric_alarms().len(), 1);
    let token = out.next_token().expect("more").to_owned();
    let out = client
        .describe_alarms()
        .alarm_name_prefix("errors")
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(out.metric_alarms()[0].alarm_name(), Some("errors-2"));
    assert!(out.next_token().is_none());
    let for_metric = client
        .describe_alarms_for_metric()
        .namespace("App")
        .metric_name("Errors")
        .dimensions(dim())
        .send()
        .await
        .expect("for metric");
    assert_eq!(for_metric.metric_alarms().len(), 3);
}

#[tokio::test]
async fn put_metric_alarm_refuses_what_aws_refuses() {
    let server = server().await;
    let client = client(&server);
    assert_code(
        put_alarm(&client, "a").period(45).send().await,
        "InvalidParameterValue",
    );
    assert_code(
        put_alarm(&client, "a")
            .evaluation_periods(2)
            .datapoints_to_alarm(3)
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_code(
        put_alarm(&client, "a")
            .extended_statistic("p99")
            .send()
            .await,
        "InvalidParameterCombination",
    );
    assert_code(
        put_alarm(&client, "a")
            .evaluation_periods(8641)
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_code(
        put_alarm(&client, "a")
            .alarm_actions("arn:aws:sns:us-east-1:bad:t")
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_code(
        put_alarm(&client, "a")
            .treat_missing_data("sometimes")
            .send()
            .await,
        "InvalidParameterValue",
    );
    let e = expect_err(
        client
            .set_alarm_state()
            .alarm_name("nope")
            .state_value(StateValue::Alarm)
            .state_reason("x")
            .send()
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("ResourceNotFound"));
    assert_eq!(e.status, Some(404));
    let e = expect_err(client.delete_alarms().alarm_names("nope").send().await);
    assert_eq!(e.code.as_deref(), Some("ResourceNotFound"));
}

#[tokio::test]
async fn set_alarm_state_is_recorded_in_history() {
    let server = server().await;
    let client = client(&server);
    // No metric data with notBreaching: evaluation keeps it OK after the manual change.
    put_alarm(&client, "manual")
        .treat_missing_data("notBreaching")
        .send()
        .await
        .expect("put");
    client
        .set_alarm_state()
        .alarm_name("manual")
        .state_value(StateValue::Alarm)
        .state_reason("testing the pager")
        .state_reason_data("{\"k\":1}")
        .send()
        .await
        .expect("set");
    assert_code(
        client
            .set_alarm_state()
            .alarm_name("manual")
            .state_value(StateValue::Ok)
            .state_reason("x")
            .state_reason_data("not json")
            .send()
            .await,
        "InvalidFormat",
    );
    let history = client
        .describe_alarm_history()
        .alarm_name("manual")
        .history_item_type(HistoryItemType::StateUpdate)
        .send()
        .await
        .expect("history");
    // The evaluator may have moved it to OK first; the manual change is the one with its reason.
    let manual = history
        .alarm_history_items()
        .iter()
        .find(|h| {
            h.history_data()
                .unwrap_or_default()
                .contains("testing the pager")
        })
        .expect("the manual state update");
    assert!(
        manual
            .history_summary()
            .unwrap_or_default()
            .ends_with(" to ALARM"),
        "{manual:?}"
    );
    let data: serde_json::Value =
        serde_json::from_str(manual.history_data().expect("data")).expect("json");
    assert_eq!(data["newState"]["stateReason"], "testing the pager");
    assert_eq!(data["newState"]["stateReasonData"]["k"], 1);
    let all = client
        .describe_alarm_history()
        .alarm_name("manual")
        .send()
        .await
        .expect("history");
    assert!(
        all.alarm_history_items()
            .iter()
            .any(|h| h.history_item_type() == Some(&HistoryItemType::ConfigurationUpdate)),
        "{all:?}"
    );
    client
        .disable_alarm_actions()
        .alarm_names("manual")
        .send()
        .await
        .expect("disable");
    let out = client
        .describe_alarms()
        .alarm_names("manual")
        .send()
        .await
        .expect("d");
    assert_eq!(out.metric_alarms()[0].actions_enabled(), Some(false));
}

#[tokio::test]
async fn a_breaching_metric_raises_the_alarm_and_notifies_its_queue() {
    let server = server().await;
    let client = client(&server);
    let sqs = crate::it::sqs::client(&server);
    let url = crate::it::sqs::create(&sqs, "alarms", &[]).await;
    let arn = "arn:aws:sqs:us-east-1:000000000000:alarms".to_owned();
    put_alarm(&client, "errors")
        .alarm_actions(&arn)
        .ok_actions(&arn)
        .send()
        .await
        .expect("put");
    wait_for_state(&server, &client, "errors", StateValue::Alarm, 5.0).await;
    let reason = client
        .describe_alarms()
        .alarm_names("errors")
        .send()
        .await
        .expect("describe")
        .metric_alarms()[0]
        .state_reason()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("Threshold Crossed: 1 datapoint [5.0 ("),
        "{reason}"
    );
    let msg = receive_one(&sqs, &url).await;
    assert_eq!(msg["AlarmName"], "errors");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(msg["AWSAccountId"], "000000000000");
    assert_eq!(msg["Trigger"]["MetricName"], "Errors");
    assert_eq!(msg["Trigger"]["Statistic"], "MAXIMUM");
    assert_eq!(msg["Trigger"]["Dimensions"][0]["name"], "Service");

    wait_for_state(&server, &client, "errors", StateValue::Ok, 0.0).await;
    let msg = receive_one(&sqs, &url).await;
    assert_eq!(msg["NewStateValue"], "OK");

    // Every action attempt is an Action history item.
    let mut actions = Vec::new();
    for _ in 0..100 {
        actions = client
            .describe_alarm_history()
            .alarm_name("errors")
            .history_item_type(HistoryItemType::Action)
            .send()
            .await
            .expect("history")
            .alarm_history_items()
            .to_vec();
        if actions.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        actions[0].history_summary(),
        Some(format!("Successfully executed action {arn}").as_str())
    );
}

async fn receive_one(sqs: &aws_sdk_sqs::Client, url: &str) -> serde_json::Value {
    for _ in 0..60 {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if let Some(m) = out.messages().first() {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
            return serde_json::from_str(m.body().unwrap_or_default()).expect("json body");
        }
    }
    panic!("no notification arrived");
}

#[tokio::test]
async fn dashboards_round_trip_and_bad_bodies_fail_as_aws_answers() {
    let server = server().await;
    let client = client(&server);
    let body = r#"{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["App","Errors","Service","api"]],"period":60,"stat":"Sum","region":"us-east-1"}}]}"#;
    let out = client
        .put_dashboard()
        .dashboard_name("ops")
        .dashboard_body(body)
        .send()
        .await
        .expect("put");
    assert!(out.dashboard_validation_messages().is_empty());
    let got = client
        .get_dashboard()
        .dashboard_name("ops")
        .send()
        .await
        .expect("get");
    assert_eq!(got.dashboard_body(), Some(body));
    assert_eq!(
        got.dashboard_arn(),
        Some("arn:aws:cloudwatch::000000000000:dashboard/ops")
    );
    let list = client
        .list_dashboards()
        .dashboard_name_prefix("o")
        .send()
        .await
        .expect("list");
    assert_eq!(list.dashboard_entries().len(), 1);
    assert_eq!(list.dashboard_entries()[0].size(), Some(body.len() as i64));

    let err = client
        .put_dashboard()
        .dashboard_name("ops")
        .dashboard_body(r#"{"widgets":[{"type":"text","width":30,"properties":{}}]}"#)
        .send()
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), Some("InvalidParameterInput"));
    match err.into_service_error() {
        PutDashboardError::DashboardInvalidInputError(e) => {
            let paths: Vec<&str> = e
                .dashboard_validation_messages()
                .iter()
                .filter_map(|m| m.data_path())
                .collect();
            assert_eq!(paths, ["/widgets/0/width", "/widgets/0/properties"]);
        }
        other => panic!("expected DashboardInvalidInputError, got {other:?}"),
    }
    let e = expect_err(
        client
            .put_dashboard()
            .dashboard_name("ops")
            .dashboard_body("[]")
            .send()
            .await,
    );
    assert_eq!(
        e.message.as_deref(),
        Some("The field DashboardBody must be a valid JSON object")
    );

    let e = expect_err(
        client
            .delete_dashboards()
            .dashboard_names("ops")
            .dashboard_names("nope")
            .send()
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("ResourceNotFound"));
    assert_eq!(e.status, Some(404));
    client
        .get_dashboard()
        .dashboard_name("ops")
        .send()
        .await
        .expect("still there");
    client
        .delete_dashboards()
        .dashboard_names("ops")
        .send()
        .await
        .expect("delete");
    let e = expect_err(client.get_dashboard().dashboard_name("ops").send().await);
    assert_eq!(e.code.as_deref(), Some("ResourceNotFound"));
}
