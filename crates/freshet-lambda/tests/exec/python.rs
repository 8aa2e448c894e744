// SPDX-License-Identifier: Apache-2.0
//! Python handlers under Freshet's embedded runtime client.

use std::sync::Arc;
use std::time::Duration;

use freshet_lambda::spec::{FunctionError, Runtime};

use super::harness::{Harness, invocation, json};

const APP: &str = r#"import json
import os

def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps("Hello from Lambda!"),
        "event": event,
        "pid": os.getpid(),
    }
"#;

#[tokio::test]
async fn a_python_handler_answers_with_its_return_value() {
    let h = Harness::new();
    let spec = h.function(
        "py-ok",
        Runtime::Python(12),
        "lambda_function.lambda_handler",
        &[("lambda_function.py", APP)],
    );
    let r = h.invoke(&spec, r#"{"key1": "value1"}"#).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    let v = json(&r);
    assert_eq!(v["statusCode"], 200);
    assert_eq!(v["body"], "\"Hello from Lambda!\"");
    assert_eq!(v["event"]["key1"], "value1");
    assert_eq!(r.executed_version, "$LATEST");
    assert!(r.init_duration.is_some());
}

#[tokio::test]
async fn a_warm_environment_is_reused_and_reports_no_init() {
    let h = Harness::new();
    let spec = h.function(
        "py-warm",
        Runtime::Python(11),
        "lambda_function.lambda_handler",
        &[("lambda_function.py", APP)],
    );
    let first = h.invoke(&spec, "{}").await;
    let second = h.invoke(&spec, "{}").await;
    assert_eq!(json(&first)["pid"], json(&second)["pid"]);
    assert!(first.init_duration.is_some());
    assert_eq!(second.init_duration, None);
    assert_eq!(h.exec.idle_environments(&spec.arn), 1);
}

#[tokio::test]
async fn a_newer_revision_retires_the_old_environments() {
    let h = Harness::new();
    let mut spec = h.function(
        "py-rev",
        Runtime::Python(12),
        "lambda_function.lambda_handler",
        &[("lambda_function.py", APP)],
    );
    let old = json(&h.invoke(&spec, "{}").await)["pid"].clone();
    spec.revision = 2;
    let new = h.invoke(&spec, "{}").await;
    assert_ne!(json(&new)["pid"], old);
    assert!(new.init_duration.is_some());
    assert_eq!(h.exec.idle_environments(&spec.arn), 1);
}

#[tokio::test]
async fn handlers_in_packages_load_by_dotted_path() {
    let h = Harness::new();
    let spec = h.function(
        "py-pkg",
        Runtime::Python(12),
        "src.handlers.app.handler",
        &[
            ("src/__init__.py", ""),
            ("src/handlers/__init__.py", ""),
            (
                "src/handlers/app.py",
                "def handler(event, context):\n    return 'nested'\n",
            ),
        ],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, None);
    assert_eq!(&r.payload[..], br#""nested""#);
}

#[tokio::test]
async fn the_context_object_and_environment_look_like_lambdas() {
    let h = Harness::new();
    let mut spec = h.function(
        "py-ctx",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            r#"import os
def handler(event, context):
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_ACCESS_KEY_ID",
            "AWS_ENDPOINT_URL", "LAMBDA_TASK_ROOT", "_HANDLER", "MY_SETTING", "TZ",
            "AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_STREAM_NAME", "_X_AMZN_TRACE_ID"]
    return {
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "client_context_custom": context.client_context.custom,
        "identity": context.identity.cognito_identity_id,
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in keys},
    }
"#,
        )],
    );
    spec.environment
        .insert("MY_SETTING".to_owned(), "on".to_owned());
    spec.memory_mb = 256;
    spec.timeout = Duration::from_secs(7);
    let mut inv = invocation("{}");
    inv.client_context = Some(r#"{"custom":{"k":"v"},"env":{},"client":{}}"#.to_owned());
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    let v = json(&r);
    assert_eq!(v["request_id"], id.as_str());
    assert_eq!(v["function_name"], "py-ctx");
    assert_eq!(v["function_version"], "$LATEST");
    assert_eq!(v["memory"], "256");
    assert_eq!(v["arn"], "arn:aws:lambda:us-east-1:000000000000:function:f");
    assert_eq!(v["group"], "/aws/lambda/py-ctx");
    let remaining = v["remaining"].as_i64().unwrap();
    assert!(remaining > 0 && remaining <= 7000, "{remaining}");
    assert_eq!(v["client_context_custom"]["k"], "v");
    assert_eq!(v["identity"], serde_json::Value::Null);
    let code = spec.code_dir.to_string_lossy().into_owned();
    assert_eq!(v["cwd"], code.as_str());
    let env = &v["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "py-ctx");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "test");
    assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4567");
    assert_eq!(env["LAMBDA_TASK_ROOT"], code.as_str());
    assert_eq!(env["_HANDLER"], "app.handler");
    assert_eq!(env["MY_SETTING"], "on");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12");
    assert_eq!(env["AWS_LAMBDA_LOG_STREAM_NAME"], v["stream"]);
    assert!(
        env["_X_AMZN_TRACE_ID"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
}

#[tokio::test]
async fn an_uncaught_exception_is_an_unhandled_error_with_awslambdarics_document() {
    let h = Harness::new();
    let spec = h.function(
        "py-raise",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", "def handler(event, context):\n    return 1 / 0\n")],
    );
    let inv = invocation("{}");
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "ZeroDivisionError");
    assert_eq!(v["errorMessage"], "division by zero");
    assert_eq!(v["requestId"], id.as_str());
    let trace = v["stackTrace"][0].as_str().unwrap();
    assert!(trace.contains("app.py\", line 2, in handler"), "{trace}");
    // The environment survives a handled exception.
    assert_eq!(h.exec.idle_environments(&spec.arn), 1);
    let logs = h.sink.wait_for("/aws/lambda/py-raise", "REPORT").await;
    let err = logs
        .iter()
        .find(|m| m.starts_with("[ERROR]"))
        .expect("an [ERROR] event");
    assert!(
        err.starts_with(
            "[ERROR] ZeroDivisionError: division by zero\nTraceback (most recent call last):\n"
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_payload_that_is_not_json_fails_as_unmarshal_error() {
    let h = Harness::new();
    let spec = h.function(
        "py-raw",
        Runtime::Python(12),
        "lambda_function.lambda_handler",
        &[("lambda_function.py", APP)],
    );
    let r = h.invoke(&spec, "not json").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "Runtime.UnmarshalError");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Unable to unmarshal input: Expecting value"),
        "{v}"
    );
}

#[tokio::test]
async fn bytes_returned_by_a_handler_pass_through_unchanged() {
    let h = Harness::new();
    let spec = h.function(
        "py-bytes",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "def handler(event, context):\n    return b'raw \\xff bytes'\n",
        )],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, None);
    assert_eq!(&r.payload[..], b"raw \xff bytes");
}

#[tokio::test]
async fn a_missing_module_fails_the_invocation_with_the_import_error() {
    let h = Harness::new();
    let spec = h.function(
        "py-nomod",
        Runtime::Python(12),
        "app.handler",
        &[("other.py", "")],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "Runtime.ImportModuleError");
    assert_eq!(
        v["errorMessage"],
        "Unable to import module 'app': No module named 'app'"
    );
    assert_eq!(v["requestId"], "");
    assert_eq!(v["stackTrace"], serde_json::json!([]));
    assert!(r.init_duration.is_some());
    assert_eq!(h.exec.idle_environments(&spec.arn), 0);
    let logs = h
        .sink
        .wait_for("/aws/lambda/py-nomod", "REPORT RequestId")
        .await;
    assert!(logs.iter().any(|m| m
        == "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'app'\nTraceback (most recent call last):\n"));
}

#[tokio::test]
async fn a_missing_handler_function_is_handler_not_found() {
    let h = Harness::new();
    let spec = h.function(
        "py-nohandler",
        Runtime::Python(12),
        "app.nosuch",
        &[("app.py", "def handler(e, c):\n    return 1\n")],
    );
    let v = json(&h.invoke(&spec, "{}").await);
    assert_eq!(v["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(
        v["errorMessage"],
        "Handler 'nosuch' missing on module 'app'"
    );
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_the_next_invocation_gets_a_new_one() {
    let h = Harness::new();
    let mut spec = h.function(
        "py-slow",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "import os, time\ndef handler(event, context):\n    if event.get('sleep'):\n        print('sleeping')\n        time.sleep(60)\n    return os.getpid()\n",
        )],
    );
    spec.timeout = Duration::from_secs(1);
    let first_pid = json(&h.invoke(&spec, "{}").await);
    let inv = invocation(r#"{"sleep": true}"#);
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "Sandbox.Timedout");
    assert_eq!(
        v["errorMessage"],
        format!("RequestId: {id} Error: Task timed out after 1.00 seconds")
    );
    let pid = first_pid.as_i64().unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .contains("zombie"),
        "the timed-out process is gone"
    );
    let after = json(&h.invoke(&spec, "{}").await);
    assert_ne!(after, first_pid);
    let logs = h
        .sink
        .wait_for("/aws/lambda/py-slow", "Task timed out")
        .await;
    let line = logs.iter().find(|m| m.contains("Task timed out")).unwrap();
    assert!(
        line.ends_with(&format!(" {id} Task timed out after 1.00 seconds\n\n")),
        "{line:?}"
    );
    assert!(logs.iter().any(|m| m == "sleeping\n"));
}

#[tokio::test]
async fn a_process_that_exits_mid_invocation_is_a_runtime_exit_error() {
    let h = Harness::new();
    let spec = h.function(
        "py-exit",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "import os\ndef handler(event, context):\n    if event.get('die'):\n        os._exit(1)\n    return os.getpid()\n",
        )],
    );
    let before = json(&h.invoke(&spec, "{}").await);
    let inv = invocation(r#"{"die": true}"#);
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "Runtime.ExitError");
    assert_eq!(
        v["errorMessage"],
        format!("RequestId: {id} Error: Runtime exited with error: exit status 1")
    );
    let after = json(&h.invoke(&spec, "{}").await);
    assert_ne!(before, after);
    let logs = h
        .sink
        .wait_for("/aws/lambda/py-exit", "Runtime.ExitError")
        .await;
    assert!(logs.iter().any(|m| m
        == &format!(
            "RequestId: {id} Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n"
        )));
}
