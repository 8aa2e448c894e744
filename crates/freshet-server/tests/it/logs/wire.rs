// SPDX-License-Identifier: Apache-2.0
//! Wire-level behaviour: unknown operations, type errors, the error code of validation
//! failures, and StartLiveTail's event stream.

use freshet_protocol::eventstream;
use serde_json::json;

use super::*;

async fn call(
    server: &TestServer,
    op: &str,
    body: serde_json::Value,
) -> freshet_testkit::RawResponse {
    server
        .raw_post(
            Some(&format!("{TARGET}.{op}")),
            body.to_string(),
            Some("application/x-amz-json-1.1"),
        )
        .await
}

#[tokio::test]
async fn unimplemented_and_unknown_operations_are_unknown_operations() {
    let server = TestServer::start().await;
    let r = call(&server, "GetLogRecord", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"__type": "UnknownOperationException", "message": "Freshet does not implement the CloudWatch Logs operation GetLogRecord."})
    );
    let r = call(&server, "MadeUp", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"__type": "UnknownOperationException"}));
}

#[tokio::test]
async fn type_errors_and_constraint_failures_use_coral_texts() {
    let server = TestServer::start().await;
    let r = call(&server, "CreateLogGroup", json!({"logGroupName": 5})).await;
    assert_eq!(r.json()["__type"], "SerializationException");
    let r = call(
        &server,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "startTime": "x"}),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"__type": "SerializationException", "Message": "class java.lang.String can not be converted to an Long"})
    );
    let r = call(&server, "CreateLogGroup", json!({})).await;
    assert_eq!(
        r.json(),
        json!({"__type": "InvalidParameterException", "message": "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"})
    );
    let r = call(
        &server,
        "DescribeLogStreams",
        json!({"logGroupName": "g", "limit": 0}),
    )
    .await;
    assert_eq!(r.json()["__type"], "InvalidParameterException");
}

/// Splits an event-stream body into (event or exception type, JSON payload).
fn messages(mut body: &[u8]) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    while let Some((m, used)) = eventstream::decode(body).expect("well-formed event stream") {
        let kind = m
            .header(":event-type")
            .or_else(|| m.header(":exception-type"))
            .unwrap_or_default()
            .to_owned();
        out.push((
            kind,
            serde_json::from_slice(&m.payload).expect("JSON payload"),
        ));
        body = &body[used..];
    }
    out
}

#[tokio::test]
async fn start_live_tail_streams_new_matching_events_until_the_session_times_out() {
    let server = TestServer::start_with(|c| {
        c.logs.live_tail_interval = Duration::from_millis(200);
        c.logs.live_tail_timeout = Duration::from_secs(5);
    })
    .await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "app").await;
    create_stream(&c, "g", "other").await;
    put(&c, "g", "app", &[(now_ms(), "ERROR before the session")]).await;
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:g";
    let body = json!({
        "logGroupIdentifiers": [arn],
        "logStreamNames": ["app"],
        "logEventFilterPattern": "ERROR",
    });
    let tail = call(&server, "StartLiveTail", body);
    let writer = async {
        // Written once the session runs (a condition, not a delay).
        while server.server().logs().live_tail_sessions() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        put(
            &c,
            "g",
            "app",
            &[(now_ms(), "ERROR during"), (now_ms(), "INFO during")],
        )
        .await;
        put(&c, "g", "other", &[(now_ms(), "ERROR elsewhere")]).await;
    };
    let (resp, ()) = tokio::join!(tail, writer);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.amazon.eventstream")
    );
    let msgs = messages(&resp.body);
    assert_eq!(msgs[0], ("initial-response".to_owned(), json!({})));
    assert_eq!(msgs[1].0, "sessionStart");
    assert_eq!(msgs[1].1["logGroupIdentifiers"], json!([arn]));
    assert_eq!(msgs[1].1["logStreamNames"], json!(["app"]));
    assert!(
        msgs[1].1["sessionId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let (last_kind, last) = msgs.last().unwrap();
    assert_eq!(last_kind, "SessionTimeoutException");
    assert!(last["message"].is_string());
    let results: Vec<serde_json::Value> = msgs
        .iter()
        .filter(|(k, _)| k == "sessionUpdate")
        .flat_map(|(_, u)| u["sessionResults"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["message"], "ERROR during");
    assert_eq!(results[0]["logStreamName"], "app");
    assert_eq!(results[0]["logGroupIdentifier"], arn);
    assert!(
        msgs.iter()
            .filter(|(k, _)| k == "sessionUpdate")
            .all(|(_, u)| u["sessionMetadata"]["sampled"] == false)
    );
}

#[tokio::test]
async fn start_live_tail_refuses_bad_requests_before_streaming() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "a").await;
    create_group(&c, "b").await;
    let r = call(
        &server,
        "StartLiveTail",
        json!({"logGroupIdentifiers": ["a", "b"], "logStreamNames": ["s"]}),
    )
    .await;
    assert_eq!(r.json()["__type"], "InvalidParameterException");
    let r = call(
        &server,
        "StartLiveTail",
        json!({"logGroupIdentifiers": ["nope"]}),
    )
    .await;
    assert_eq!(r.json()["__type"], "ResourceNotFoundException");
}
