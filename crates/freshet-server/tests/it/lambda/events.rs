// SPDX-License-Identifier: Apache-2.0
//! Event (asynchronous) invocations through `aws-sdk-lambda`: the durable queue's retries on
//! a manual clock (one and two minutes after function errors, expiry after
//! MaximumEventAgeInSeconds), the invocation records sent to SQS destinations, and the
//! *FunctionEventInvokeConfig operations with AWS's errors. Handlers run under a fake
//! executor that fails as told; nothing here sleeps for a retry delay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{DestinationConfig, InvocationType, OnFailure, OnSuccess};
use bytes::Bytes;
use freshet_lambda::functions::Execute;
use freshet_lambda::spec::{
    BoxFuture, FunctionError, FunctionSpec, Invocation, InvocationResult, InvokeError,
};
use freshet_testkit::{ManualClock, TestServer};
use serde_json::{Value, json};

use super::{client, create_active};
use crate::it::common::{assert_code, expect_err};
use crate::it::sqs::{client as sqs_client, create as create_queue};

const T0: i64 = 1_700_000_000_000;
const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:";

/// Runs events as their payload says: `{"fail": n}` fails the first `n` runs of a request,
/// `{"always": true}` always fails, `{"throttle": true}` is always throttled. Counts runs.
#[derive(Default)]
struct Scripted {
    runs: Mutex<HashMap<String, u32>>,
}

impl Scripted {
    fn runs(&self) -> u32 {
        self.runs.lock().map(|r| r.values().sum()).unwrap_or(0)
    }
}

impl Execute for Scripted {
    fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>> {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&invocation.payload).unwrap_or(Value::Null);
            if event["throttle"] == true {
                return Err(InvokeError::Throttled {
                    reason: "ConcurrentInvocationLimitExceeded".into(),
                });
            }
            let run = {
                let mut runs = self.runs.lock().expect("runs");
                let n = runs.entry(invocation.request_id.clone()).or_default();
                *n += 1;
                *n
            };
            let fail = event["always"] == true
                || event["fail"].as_u64().is_some_and(|n| u64::from(run) <= n);
            Ok(InvocationResult {
                payload: if fail {
                    Bytes::from(
                        json!({"errorMessage": format!("run {run} failed"), "errorType": "Exception", "stackTrace": []})
                            .to_string(),
                    )
                } else {
                    Bytes::from(json!({"ok": run}).to_string())
                },
                function_error: fail.then_some(FunctionError::Unhandled),
                log_tail: None,
                executed_version: spec.version.clone(),
                duration: Duration::from_millis(1),
                init_duration: None,
            })
        })
    }
}

async fn setup() -> (TestServer, ManualClock, Arc<Scripted>) {
    let clock = ManualClock::new(T0);
    let s = TestServer::start_with_clock(Arc::new(clock.clone()), |_| {}).await;
    let exec = Arc::new(Scripted::default());
    s.server().functions().set_executor(exec.clone());
    (s, clock, exec)
}

/// Polls `cond` (bounded by a count, never by a time limit).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..4000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

fn queued(s: &TestServer) -> Vec<freshet_lambda::async_invoke::Pending> {
    s.server()
        .functions()
        .async_queue()
        .expect("the server installs the queue")
        .pending()
}

fn advance(s: &TestServer, clock: &ManualClock, ms: i64) {
    clock.advance(ms);
    if let Some(q) = s.server().functions().async_queue() {
        q.wake();
    }
}

async fn invoke_event(c: &aws_sdk_lambda::Client, name: &str, event: Value) {
    let out = c
        .invoke()
        .function_name(name)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.status_code(), 202);
}

/// The one message a queue receives (bounded polling).
async fn one_message(c: &aws_sdk_sqs::Client, url: &str) -> Value {
    for _ in 0..4000 {
        let out = c
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let msgs = out.messages();
        if let Some(m) = msgs.first() {
            assert_eq!(msgs.len(), 1, "exactly one record");
            return serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON record");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no message on {url}");
}

fn destinations(success: Option<&str>, failure: Option<&str>) -> DestinationConfig {
    let mut d = DestinationConfig::builder();
    if let Some(a) = success {
        d = d.on_success(OnSuccess::builder().destination(a).build());
    }
    if let Some(a) = failure {
        d = d.on_failure(OnFailure::builder().destination(a).build());
    }
    d.build()
}

/// Creates queue `queue` and function `name` whose event invoke config sends successes
/// (`on_success`) or failures to it, with `max_age` as MaximumEventAgeInSeconds if given;
/// returns the queue's URL.
async fn function_with_destination(
    c: &aws_sdk_lambda::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    queue: &str,
    on_success: bool,
    max_age: Option<i32>,
) -> String {
    let url = create_queue(sqs, queue, &[]).await;
    create_active(c, name).await;
    let arn = format!("{QUEUE_ARN}{queue}");
    let (success, failure) = if on_success {
        (Some(arn.as_str()), None)
    } else {
        (None, Some(arn.as_str()))
    };
    c.put_function_event_invoke_config()
        .function_name(name)
        .set_maximum_event_age_in_seconds(max_age)
        .destination_config(destinations(success, failure))
        .send()
        .await
        .expect("put config");
    url
}

#[tokio::test]
async fn an_event_that_fails_twice_is_retried_after_one_then_two_minutes_and_then_succeeds() {
    let (s, clock, exec) = setup().await;
    let c = client(&s);
    let sqs = sqs_client(&s);
    let url = function_with_destination(&c, &sqs, "flaky", "ok-records", true, None).await;
    invoke_event(&c, "flaky", json!({"fail": 2})).await;

    until("the first run", || exec.runs() == 1).await;
    until("the first retry is scheduled", || {
        queued(&s).first().map(|p| (p.attempts, p.due_ms)) == Some((1, T0 + 60_000))
    })
    .await;
    advance(&s, &clock, 59_999);
    assert_eq!(exec.runs(), 1, "not before its minute");
    advance(&s, &clock, 1);
    until("the second run", || exec.runs() == 2).await;
    until("the second retry is scheduled", || {
        queued(&s).first().map(|p| (p.attempts, p.due_ms)) == Some((2, T0 + 180_000))
    })
    .await;
    advance(&s, &clock, 120_000);
    until("the third run", || exec.runs() == 3).await;

    let record = one_message(&sqs, &url).await;
    assert_eq!(record["requestContext"]["condition"], "Success");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST"
    );
    assert_eq!(record["requestPayload"], json!({"fail": 2}));
    assert_eq!(record["responsePayload"], json!({"ok": 3}));
    assert_eq!(
        record["responseContext"],
        json!({"statusCode": 200, "executedVersion": "$LATEST"})
    );
    until("the event leaves the queue", || queued(&s).is_empty()).await;
}

#[tokio::test]
async fn an_event_that_always_fails_lands_in_the_on_failure_queue_with_aws_record() {
    let (s, clock, exec) = setup().await;
    let c = client(&s);
    let sqs = sqs_client(&s);
    let url = function_with_destination(&c, &sqs, "broken", "failures", false, None).await;
    invoke_event(&c, "broken", json!({"always": true, "order": 7})).await;
    until("the first run", || exec.runs() == 1).await;
    until("a retry is scheduled", || {
        queued(&s).first().is_some_and(|p| p.attempts == 1)
    })
    .await;
    advance(&s, &clock, 60_000);
    until("the second run", || exec.runs() == 2).await;
    until("a second retry is scheduled", || {
        queued(&s).first().is_some_and(|p| p.attempts == 2)
    })
    .await;
    advance(&s, &clock, 120_000);
    until("the third run", || exec.runs() == 3).await;

    let record = one_message(&sqs, &url).await;
    let request_id = record["requestContext"]["requestId"]
        .as_str()
        .expect("request id")
        .to_owned();
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");
    assert_eq!(
        record,
        json!({
            "version": "1.0",
            "timestamp": "2023-11-14T22:16:20.000Z",
            "requestContext": {
                "requestId": request_id,
                "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:broken:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": {"always": true, "order": 7},
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled"
            },
            "responsePayload": {"errorMessage": "run 3 failed", "errorType": "Exception", "stackTrace": []}
        })
    );
    until("the event leaves the queue", || queued(&s).is_empty()).await;
    assert_eq!(exec.runs(), 3, "no run after giving up");
}

#[tokio::test]
async fn a_throttled_event_backs_off_and_expires_after_its_maximum_age() {
    let (s, clock, _exec) = setup().await;
    let c = client(&s);
    let sqs = sqs_client(&s);
    let url = function_with_destination(&c, &sqs, "busy", "expired", false, Some(60)).await;
    invoke_event(&c, "busy", json!({"throttle": true})).await;
    until("the throttle backs off a second", || {
        queued(&s).first().is_some_and(|p| p.due_ms == T0 + 1_000)
    })
    .await;
    advance(&s, &clock, 1_000);
    until("the next back-off is two seconds", || {
        queued(&s).first().is_some_and(|p| p.due_ms == T0 + 3_000)
    })
    .await;
    advance(&s, &clock, 60_000);
    let record = one_message(&sqs, &url).await;
    assert_eq!(record["requestContext"]["condition"], "EventAgeExceeded");
    assert_eq!(record["requestPayload"], json!({"throttle": true}));
    assert!(record.get("responseContext").is_none(), "{record}");
    until("the event leaves the queue", || queued(&s).is_empty()).await;
}

#[tokio::test]
async fn reserved_concurrency_zero_sends_events_to_on_failure_without_running_them() {
    let (s, _clock, exec) = setup().await;
    let c = client(&s);
    let sqs = sqs_client(&s);
    let url = function_with_destination(&c, &sqs, "off", "refused", false, None).await;
    c.put_function_concurrency()
        .function_name("off")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("concurrency");
    invoke_event(&c, "off", json!({"n": 1})).await;
    let record = one_message(&sqs, &url).await;
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(exec.runs(), 0);
}

#[tokio::test]
async fn event_invoke_configs_are_put_updated_listed_and_deleted_with_aws_errors() {
    let (s, _clock, _exec) = setup().await;
    let c = client(&s);
    create_active(&c, "cfg").await;
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:cfg";

    let e = expect_err(
        c.put_function_event_invoke_config()
            .function_name("cfg")
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (
            Some(400),
            Some("InvalidParameterValueException"),
            Some("You must specify at least one of error handling or destination setting.")
        )
    );
    let e = expect_err(
        c.put_function_event_invoke_config()
            .function_name("nope")
            .maximum_retry_attempts(1)
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (
            Some(404),
            Some("ResourceNotFoundException"),
            Some("The function doesn't exist.")
        )
    );
    let e = expect_err(
        c.get_function_event_invoke_config()
            .function_name("cfg")
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (
            Some(404),
            Some("ResourceNotFoundException"),
            Some(format!("The function {arn}:$LATEST doesn't have an EventInvokeConfig").as_str())
        )
    );
    let msg = assert_code(
        c.put_function_event_invoke_config()
            .function_name("cfg")
            .maximum_retry_attempts(3)
            .send()
            .await,
        "ValidationException",
    );
    assert!(msg.contains("'maximumRetryAttempts'"), "{msg}");
    let msg = assert_code(
        c.put_function_event_invoke_config()
            .function_name("cfg")
            .destination_config(destinations(
                None,
                Some("arn:aws:sns:us-east-1:000000000000:topic"),
            ))
            .send()
            .await,
        "InvalidParameterValueException",
    );
    assert_eq!(
        msg,
        "The provided destination config DestinationConfig(onSuccess=null, \
         onFailure=OnFailure(destination=arn:aws:sns:us-east-1:000000000000:topic)) is invalid."
    );

    let put = c
        .put_function_event_invoke_config()
        .function_name("cfg")
        .maximum_retry_attempts(1)
        .maximum_event_age_in_seconds(120)
        .send()
        .await
        .expect("put");
    assert_eq!(put.function_arn(), Some(format!("{arn}:$LATEST").as_str()));
    assert_eq!(put.maximum_retry_attempts(), Some(1));
    assert_eq!(put.maximum_event_age_in_seconds(), Some(120));
    assert!(put.last_modified().is_some());
    let updated = c
        .update_function_event_invoke_config()
        .function_name("cfg")
        .destination_config(destinations(None, Some(&format!("{QUEUE_ARN}q"))))
        .send()
        .await
        .expect("update");
    assert_eq!(updated.maximum_retry_attempts(), Some(1), "kept");
    assert_eq!(
        updated
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(format!("{QUEUE_ARN}q").as_str())
    );
    // Put replaces: what it leaves out is unset.
    let replaced = c
        .put_function_event_invoke_config()
        .function_name("cfg")
        .maximum_event_age_in_seconds(600)
        .send()
        .await
        .expect("put again");
    assert_eq!(replaced.maximum_retry_attempts(), None);
    assert_eq!(
        replaced
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        None
    );

    let version = c
        .publish_version()
        .function_name("cfg")
        .send()
        .await
        .expect("publish")
        .version()
        .map(str::to_owned)
        .expect("version");
    let e = expect_err(
        c.update_function_event_invoke_config()
            .function_name("cfg")
            .qualifier(&version)
            .maximum_retry_attempts(0)
            .send()
            .await,
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("The function {arn}:{version} doesn't have an EventInvokeConfig").as_str())
    );
    c.put_function_event_invoke_config()
        .function_name(format!("cfg:{version}"))
        .maximum_retry_attempts(0)
        .send()
        .await
        .expect("put on the version");
    let list = c
        .list_function_event_invoke_configs()
        .function_name("cfg")
        .send()
        .await
        .expect("list");
    let arns: Vec<&str> = list
        .function_event_invoke_configs()
        .iter()
        .filter_map(|c| c.function_arn())
        .collect();
    assert_eq!(
        arns,
        vec![format!("{arn}:$LATEST"), format!("{arn}:{version}")]
    );
    let page = c
        .list_function_event_invoke_configs()
        .function_name("cfg")
        .max_items(1)
        .send()
        .await
        .expect("page");
    assert_eq!(page.function_event_invoke_configs().len(), 1);
    assert!(page.next_marker().is_some());

    c.delete_function_event_invoke_config()
        .function_name("cfg")
        .send()
        .await
        .expect("delete");
    let e = expect_err(
        c.delete_function_event_invoke_config()
            .function_name("cfg")
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.message.as_deref()),
        (
            Some(404),
            Some(format!("The function {arn} doesn't have an EventInvokeConfig").as_str())
        )
    );
    let got = c
        .get_function_event_invoke_config()
        .function_name("cfg")
        .qualifier(&version)
        .send()
        .await
        .expect("the version's config stays");
    assert_eq!(got.maximum_retry_attempts(), Some(0));
}
