// SPDX-License-Identifier: Apache-2.0
//! Alarm actions that do something locally, run in the background so evaluation never waits:
//! - `arn:aws:sqs:<region>:<acct>:<queue>`: the notification document (what SNS delivers for
//!   CloudWatch alarms) is sent to the queue through the in-process [`Sqs`] handle;
//! - `arn:aws:sns:<region>:<acct>:<topic>`: the same document is POSTed to the webhook URL
//!   configured for the topic (or the default one), with retries and a timeout per attempt;
//! - `arn:aws:lambda:<region>:<acct>:function:<name>`: the function is invoked through the
//!   in-process [`Invoker`] with the CloudWatch alarm event (`source: aws.cloudwatch`);
//! - anything else (EC2, Auto Scaling, Systems Manager) is recorded as failed.
//!
//! Every attempt is an `Action` history item.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use freshet_lambda::spec::{Invocation, Invoker};
use freshet_sqs::Sqs;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use super::Alarms;
use super::eval::iso_time;
use super::model::{Alarm, AlarmKind, HistoryItem, HistoryKind};

/// Where SNS topics' notifications go: a webhook URL per topic name, and a default.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    /// Topic name → URL.
    pub by_topic: BTreeMap<String, String>,
    /// The URL of topics not in `by_topic`.
    pub default: Option<String>,
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// Attempts (at least 1).
    pub attempts: Option<u32>,
}

impl Webhooks {
    fn url_for(&self, topic: &str) -> Option<&str> {
        self.by_topic
            .get(topic)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// The other services actions reach.
#[derive(Clone, Default)]
pub struct Peers {
    /// SQS, for queue actions.
    pub sqs: Option<Sqs>,
    /// Webhooks, for SNS topic actions.
    pub webhooks: Webhooks,
    /// Lambda, for function actions.
    pub invoker: Option<Arc<dyn Invoker>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("sqs", &self.sqs.is_some())
            .field("webhooks", &self.webhooks)
            .field("invoker", &self.invoker.is_some())
            .finish()
    }
}

/// AWS's region names in notifications.
fn region_name(code: &str) -> &str {
    match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        "eu-central-1" => "EU (Frankfurt)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        other => other,
    }
}

/// The notification document of a state change from `old` to `new` (the JSON SNS delivers
/// for CloudWatch alarms).
pub fn notification(old: &Alarm, new: &Alarm) -> serde_json::Value {
    let parts: Vec<&str> = new.arn.split(':').collect();
    let region = parts.get(3).copied().unwrap_or_default();
    let account = parts.get(4).copied().unwrap_or_default();
    let mut doc = json!({
        "AlarmName": new.name,
        "AlarmDescription": new.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": iso_time(new.configuration_updated_ms),
        "NewStateValue": new.state.as_str(),
        "NewStateReason": new.state_reason,
        "StateChangeTime": iso_time(new.state_updated_ms),
        "Region": region_name(region),
        "AlarmArn": new.arn,
        "OldStateValue": old.state.as_str(),
        "OKActions": new.ok_actions,
        "AlarmActions": new.alarm_actions,
        "InsufficientDataActions": new.insufficient_data_actions,
    });
    match &new.kind {
        AlarmKind::Metric(c) => {
            let mut t = json!({
                "Period": c.period_s(),
                "EvaluationPeriods": c.evaluation_periods,
                "ComparisonOperator": c.comparison_operator,
                "Threshold": c.threshold,
                "TreatMissingData": c.treat_missing_data.as_deref().unwrap_or("missing"),
                "EvaluateLowSampleCountPercentile":
                    c.evaluate_low_sample_count_percentile.as_deref().unwrap_or(""),
            });
            if let Some(m) = c.datapoints_to_alarm {
                t["DatapointsToAlarm"] = json!(m);
            }
            if let Some(s) = &c.single {
                t["MetricName"] = json!(s.metric.name);
                t["Namespace"] = json!(s.metric.namespace);
                match (&s.statistic, &s.extended_statistic) {
                    (Some(st), _) => {
                        t["StatisticType"] = json!("Statistic");
                        t["Statistic"] = json!(st.to_uppercase());
                    }
                    (None, Some(st)) => {
                        t["StatisticType"] = json!("ExtendedStatistic");
                        t["ExtendedStatistic"] = json!(st);
                    }
                    (None, None) => {}
                }
                t["Unit"] = json!(s.unit);
                t["Dimensions"] = s
                    .metric
                    .dimensions
                    .iter()
                    .map(|(n, v)| json!({"value": v, "name": n}))
                    .collect();
            } else {
                t["Metrics"] = c
                    .metrics
                    .iter()
                    .map(|q| {
                        let mut m = json!({"Id": q.id, "ReturnData": q.returns_data()});
                        if let Some(e) = &q.expression {
                            m["Expression"] = json!(e);
                        }
                        if let Some(l) = &q.label {
                            m["Label"] = json!(l);
                        }
                        if let Some(s) = &q.metric_stat {
                            m["MetricStat"] = json!({
                                "Metric": {
                                    "Namespace": s.metric.namespace,
                                    "MetricName": s.metric.name,
                                    "Dimensions": s.metric.dimensions.iter()
                                        .map(|(n, v)| json!({"value": v, "name": n}))
                                        .collect::<Vec<_>>(),
                                },
                                "Period": s.period_s,
                                "Stat": s.stat,
                            });
                        }
                        m
                    })
                    .collect();
            }
            t["ThresholdMetricId"] = json!(c.threshold_metric_id);
            doc["Trigger"] = t;
        }
        AlarmKind::Composite(c) => {
            doc["AlarmRule"] = json!(c.rule);
        }
    }
    doc
}

/// The event a Lambda function action receives (AWS's CloudWatch alarm event).
pub fn lambda_event(old: &Alarm, new: &Alarm) -> serde_json::Value {
    let parts: Vec<&str> = new.arn.split(':').collect();
    let state = |a: &Alarm| {
        let mut s = json!({
            "value": a.state.as_str(),
            "reason": a.state_reason,
            "timestamp": iso_time(a.state_updated_ms),
        });
        if let Some(d) = &a.state_reason_data {
            s["reasonData"] = json!(d);
        }
        s
    };
    let mut configuration = json!({"description": new.description});
    match &new.kind {
        AlarmKind::Metric(c) => {
            let metric = |id: &str,
                          m: &super::model::MetricRef,
                          period: u32,
                          stat: &str,
                          ret: bool| {
                let dims: serde_json::Map<String, serde_json::Value> = m
                    .dimensions
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                json!({
                    "id": id,
                    "metricStat": {
                        "metric": {"namespace": m.namespace, "name": m.name, "dimensions": dims},
                        "period": period,
                        "stat": stat,
                    },
                    "returnData": ret,
                })
            };
            let metrics: Vec<serde_json::Value> = match &c.single {
                Some(s) => {
                    let stat = s
                        .statistic
                        .as_deref()
                        .or(s.extended_statistic.as_deref())
                        .unwrap_or_default();
                    vec![metric("m1", &s.metric, s.period_s, stat, true)]
                }
                None => c
                    .metrics
                    .iter()
                    .map(|q| match (&q.metric_stat, &q.expression) {
                        (Some(s), _) => {
                            metric(&q.id, &s.metric, s.period_s, &s.stat, q.returns_data())
                        }
                        (None, e) => json!({
                            "id": q.id,
                            "expression": e,
                            "label": q.label,
                            "returnData": q.returns_data(),
                        }),
                    })
                    .collect(),
            };
            configuration["metrics"] = json!(metrics);
        }
        AlarmKind::Composite(c) => {
            configuration["alarmRule"] = json!(c.rule);
        }
    }
    json!({
        "source": "aws.cloudwatch",
        "alarmArn": new.arn,
        "accountId": parts.get(4).copied().unwrap_or_default(),
        "time": iso_time(new.state_updated_ms),
        "region": parts.get(3).copied().unwrap_or_default(),
        "alarmData": {
            "alarmName": new.name,
            "state": state(new),
            "previousState": state(old),
            "configuration": configuration,
        },
    })
}

/// Runs the actions of `new`'s state in the background (when ActionsEnabled), recording an
/// `Action` history item for each.
pub fn run(alarms: &Arc<Alarms>, old: &Alarm, new: &Alarm) {
    if !new.actions_enabled {
        return;
    }
    let targets = new.actions_for(new.state).to_vec();
    if targets.is_empty() {
        return;
    }
    let doc = notification(old, new).to_string();
    let event = lambda_event(old, new).to_string();
    let peers = alarms.peers();
    let alarms = alarms.clone();
    let name = new.name.clone();
    let alarm_type = new.type_name().to_owned();
    let state_updated = new.state_updated_ms;
    tokio::spawn(async move {
        for arn in targets {
            let outcome = execute(&peers, &arn, &doc, &event).await;
            let (summary, state) = match &outcome {
                Ok(()) => (format!("Successfully executed action {arn}"), "Succeeded"),
                Err(e) => {
                    tracing::info!(alarm = %name, action = %arn, error = %e, "Alarm action failed.");
                    (
                        format!("Failed to execute action {arn}. Received error: \"{e}\""),
                        "Failed",
                    )
                }
            };
            let mut data = json!({
                "actionState": state,
                "stateUpdateTimestamp": state_updated,
                "notificationResource": arn,
                "publishedMessage": doc,
            });
            if let Err(e) = &outcome {
                data["error"] = json!(e);
            }
            let now = alarms.clock().now_ms();
            alarms.add_history(HistoryItem {
                alarm_name: name.clone(),
                alarm_type: alarm_type.clone(),
                timestamp_ms: now,
                kind: HistoryKind::Action,
                summary,
                data: data.to_string(),
            });
        }
    });
}

/// Executes one action.
async fn execute(peers: &Peers, arn: &str, doc: &str, event: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.get(2).copied() {
        Some("sqs") => {
            let Some(sqs) = &peers.sqs else {
                return Err("SQS is not available".to_owned());
            };
            sqs.send(arn, doc, BTreeMap::new())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Some("sns") => {
            let topic = parts.get(5).copied().unwrap_or_default();
            let Some(url) = peers.webhooks.url_for(topic) else {
                return Err(format!(
                    "Resource: {arn} does not exist (no webhook is configured for topic {topic})"
                ));
            };
            post(&peers.webhooks, url, doc).await
        }
        Some("lambda") => {
            let Some(invoker) = &peers.invoker else {
                return Err("Lambda is not available".to_owned());
            };
            let invocation = Invocation {
                request_id: uuid::Uuid::new_v4().to_string(),
                payload: Bytes::copy_from_slice(event.as_bytes()),
                invoked_arn: arn.to_owned(),
                client_context: None,
                tail_log: false,
            };
            match invoker.invoke(arn, invocation).await {
                Ok(r) if r.function_error.is_none() => Ok(()),
                Ok(r) => Err(format!(
                    "the function failed: {}",
                    String::from_utf8_lossy(&r.payload)
                )),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err(format!("Freshet does not run actions of this kind: {arn}")),
    }
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build(HttpConnector::new()))
}

/// POSTs `doc` to `url`, retrying failures and non-2xx answers with back-off.
async fn post(hooks: &Webhooks, url: &str, doc: &str) -> Result<(), String> {
    let attempts = hooks.attempts.unwrap_or(3).max(1);
    let timeout = hooks.timeout.unwrap_or(Duration::from_secs(5));
    let mut last = String::new();
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt.min(6))).await;
        }
        let req = hyper::Request::post(url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::copy_from_slice(doc.as_bytes())))
            .map_err(|e| format!("invalid webhook URL {url}: {e}"))?;
        match tokio::time::timeout(timeout, async {
            let resp = client().request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            // Drain the body so the connection can be reused.
            let _ = resp.into_body().collect().await;
            Ok::<_, String>(status)
        })
        .await
        {
            Ok(Ok(status)) if status.is_success() => return Ok(()),
            Ok(Ok(status)) => last = format!("the webhook answered {status}"),
            Ok(Err(e)) => last = format!("the webhook could not be reached: {e}"),
            Err(_) => last = "the webhook did not answer in time".to_owned(),
        }
    }
    Err(last)
}
