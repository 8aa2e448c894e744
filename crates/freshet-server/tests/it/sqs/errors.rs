// SPDX-License-Identifier: Apache-2.0
//! SQS errors on the JSON 1.0 wire: `com.amazonaws.sqs#<Shape>`, the `message` member and
//! `x-amzn-query-error: <QueryCode>;Sender`, which SDKs use to pick the modeled error.

use freshet_testkit::RawResponse;
use serde_json::json;

use super::*;

const JSON_1_0: &str = "application/x-amz-json-1.0";

async fn call(server: &TestServer, op: &str, body: serde_json::Value) -> RawResponse {
    server
        .raw_post(
            Some(&format!("AmazonSQS.{op}")),
            body.to_string(),
            Some(JSON_1_0),
        )
        .await
}

#[tokio::test]
async fn errors_carry_the_sqs_namespace_and_the_query_error_header() {
    let server = TestServer::start().await;
    let url = format!("{}/000000000000/missing", server.endpoint());
    let r = call(
        &server,
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "x"}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."})
    );
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    let r = call(&server, "CreateQueue", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"__type": "com.amazonaws.sqs#MissingRequiredParameterException", "message": "The request must contain the parameter QueueName."})
    );
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("MissingParameter;Sender")
    );
    let r = call(&server, "GetQueueUrl", json!({"QueueName": "missing"})).await;
    assert_eq!(r.error_type().as_deref(), Some("QueueDoesNotExist"));
    let r = call(
        &server,
        "SendMessage",
        json!({"QueueUrl": "nonsense", "MessageBody": "x"}),
    )
    .await;
    assert_eq!(r.error_type().as_deref(), Some("InvalidAddress"));
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("InvalidAddress;Sender")
    );
    let r = call(&server, "NoSuchOperation", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-amzn-query-error"), Some("InvalidAction;Sender"));
}

#[tokio::test]
async fn a_purge_within_a_minute_is_a_403_with_its_query_code() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "p", &[]).await;
    assert_eq!(
        call(&server, "PurgeQueue", json!({"QueueUrl": url}))
            .await
            .status,
        200
    );
    let r = call(&server, "PurgeQueue", json!({"QueueUrl": url})).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.PurgeQueueInProgress;Sender")
    );
    assert_eq!(r.error_type().as_deref(), Some("PurgeQueueInProgress"));
}

#[tokio::test]
async fn operations_without_output_answer_an_empty_body() {
    let server = TestServer::start().await;
    let c = client(&server);
    let url = create(&c, "empty", &[]).await;
    let r = call(
        &server,
        "TagQueue",
        json!({"QueueUrl": url, "Tags": {"k": "v"}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty(), "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some(JSON_1_0));
}
