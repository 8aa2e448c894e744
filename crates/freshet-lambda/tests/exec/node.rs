// SPDX-License-Identifier: Apache-2.0
//! Node.js handlers under Freshet's embedded runtime client.

use std::sync::Arc;

use freshet_lambda::spec::{FunctionError, Runtime};

use super::harness::{Harness, invocation, json};

#[tokio::test]
async fn an_async_commonjs_handler_answers_and_logs_console_lines() {
    let h = Harness::new();
    let spec = h.function(
        "node-async",
        Runtime::Node(20),
        "index.handler",
        &[(
            "index.js",
            "exports.handler = async (event, context) => {\n  console.log('event', JSON.stringify(event));\n  return { statusCode: 200, remaining: context.getRemainingTimeInMillis(), name: context.functionName, id: context.awsRequestId, waits: context.callbackWaitsForEmptyEventLoop };\n};\n",
        )],
    );
    let inv = invocation(r#"{"a":1}"#);
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec), inv).await.unwrap();
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    let v = json(&r);
    assert_eq!(v["statusCode"], 200);
    assert_eq!(v["name"], "node-async");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["waits"], true);
    assert!(v["remaining"].as_i64().unwrap() > 0);
    let logs = h.sink.wait_for("/aws/lambda/node-async", "REPORT").await;
    let line = logs.iter().find(|m| m.contains("\tINFO\t")).unwrap();
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields.len(), 4, "{line:?}");
    assert!(
        fields[0].ends_with('Z') && fields[0].len() == 24,
        "{line:?}"
    );
    assert_eq!(fields[1], id);
    assert_eq!(fields[3], "event {\"a\":1}\n");
}

#[tokio::test]
async fn a_callback_handler_answers_with_its_callback_value() {
    let h = Harness::new();
    let spec = h.function(
        "node-callback",
        Runtime::Node(18),
        "index.handler",
        &[(
            "index.js",
            "exports.handler = function(event, context, callback) {\n  setTimeout(() => callback(null, { ok: event.n + 1 }), 10);\n};\n",
        )],
    );
    let r = h.invoke(&spec, r#"{"n":41}"#).await;
    assert_eq!(json(&r)["ok"], 42);
    // Warm, again.
    assert_eq!(json(&h.invoke(&spec, r#"{"n":1}"#).await)["ok"], 2);
}

#[tokio::test]
async fn an_es_module_handler_loads_from_mjs() {
    let h = Harness::new();
    let spec = h.function(
        "node-mjs",
        Runtime::Node(22),
        "index.handler",
        &[(
            "index.mjs",
            "export const handler = async (event) => ({ esm: true, got: event });\n",
        )],
    );
    let v = json(&h.invoke(&spec, "[1,2]").await);
    assert_eq!(v["esm"], true);
    assert_eq!(v["got"], serde_json::json!([1, 2]));
}

#[tokio::test]
async fn a_thrown_error_is_unhandled_with_a_trace() {
    let h = Harness::new();
    let spec = h.function(
        "node-throw",
        Runtime::Node(20),
        "index.handler",
        &[(
            "index.js",
            "exports.handler = async () => { throw new TypeError('bad thing'); };\n",
        )],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "TypeError");
    assert_eq!(v["errorMessage"], "bad thing");
    assert_eq!(v["trace"][0], "TypeError: bad thing");
    let logs = h
        .sink
        .wait_for("/aws/lambda/node-throw", "Invoke Error")
        .await;
    let line = logs.iter().find(|m| m.contains("Invoke Error")).unwrap();
    assert!(
        line.contains(
            "\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"bad thing\""
        ),
        "{line:?}"
    );
}

#[tokio::test]
async fn a_callback_error_is_unhandled() {
    let h = Harness::new();
    let spec = h.function(
        "node-cberr",
        Runtime::Node(20),
        "index.handler",
        &[(
            "index.js",
            "exports.handler = (event, context, callback) => callback(new Error('nope'));\n",
        )],
    );
    let v = json(&h.invoke(&spec, "{}").await);
    assert_eq!(v["errorType"], "Error");
    assert_eq!(v["errorMessage"], "nope");
}

#[tokio::test]
async fn a_missing_export_is_handler_not_found_and_a_missing_file_an_import_error() {
    let h = Harness::new();
    let spec = h.function(
        "node-noexport",
        Runtime::Node(20),
        "index.nosuch",
        &[("index.js", "exports.handler = async () => 1;\n")],
    );
    let v = json(&h.invoke(&spec, "{}").await);
    assert_eq!(v["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(
        v["errorMessage"],
        "index.nosuch is undefined or not exported"
    );
    let spec = h.function(
        "node-nofile",
        Runtime::Node(20),
        "app.handler",
        &[("index.js", "")],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "Runtime.ImportModuleError");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Error: Cannot find module 'app'"),
        "{v}"
    );
}

#[tokio::test]
async fn a_payload_that_is_not_json_is_a_syntax_error() {
    let h = Harness::new();
    let spec = h.function(
        "node-raw",
        Runtime::Node(20),
        "index.handler",
        &[("index.js", "exports.handler = async (e) => e;\n")],
    );
    let r = h.invoke(&spec, "not json").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorType"], "SyntaxError");
}
