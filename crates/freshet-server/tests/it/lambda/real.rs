// SPDX-License-Identifier: Apache-2.0
//! Handlers run by the real executor (the machine's `python3` and `node`), and event source
//! mappings through the Lambda API, with `aws-sdk-lambda`.

use std::io::Write as _;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{EventSourcePosition, FunctionCode, Runtime, State};
use freshet_testkit::TestServer;
use zip::write::SimpleFileOptions;

use super::client;

fn zip_of(name: &str, body: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, SimpleFileOptions::default())
        .expect("start");
    w.write_all(body.as_bytes()).expect("write");
    w.finish().expect("finish").into_inner()
}

async fn deploy(c: &Client, name: &str, runtime: Runtime, handler: &str, zip: Vec<u8>) {
    c.create_function()
        .function_name(name)
        .runtime(runtime)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler(handler)
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .expect("create");
    for _ in 0..1000 {
        let got = c
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .expect("get");
        if got.state() == Some(&State::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{name} never became Active");
}

#[tokio::test]
async fn a_python_handler_from_a_zip_runs_and_reports_its_exceptions() {
    let s = TestServer::start().await;
    let c = client(&s);
    let code = "import json\n\ndef lambda_handler(event, context):\n    if event.get('fail'):\n        raise ValueError('bad input')\n    return {'statusCode': 200, 'body': json.dumps(event), 'fn': context.function_name}\n";
    deploy(
        &c,
        "py",
        Runtime::Python312,
        "lambda_function.lambda_handler",
        zip_of("lambda_function.py", code),
    )
    .await;
    let out = c
        .invoke()
        .function_name("py")
        .payload(Blob::new(r#"{"a":1}"#))
        .send()
        .await
        .expect("invoke");
    let body: serde_json::Value =
        serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(body["fn"], "py");
    assert_eq!(body["body"], r#"{"a": 1}"#);
    let failed = c
        .invoke()
        .function_name("py")
        .payload(Blob::new(r#"{"fail":true}"#))
        .send()
        .await
        .expect("invoke");
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let err: serde_json::Value =
        serde_json::from_slice(failed.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(err["errorType"], "ValueError");
    assert_eq!(err["errorMessage"], "bad input");
}

#[tokio::test]
async fn a_node_handler_from_a_zip_runs() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("node is not installed: skipped");
        return;
    }
    let s = TestServer::start().await;
    let c = client(&s);
    let code = "exports.handler = async (event, context) => {\n  return { got: event, name: context.functionName };\n};\n";
    deploy(
        &c,
        "js",
        Runtime::Nodejs20x,
        "index.handler",
        zip_of("index.js", code),
    )
    .await;
    let out = c
        .invoke()
        .function_name("js")
        .payload(Blob::new(r#"{"n":2}"#))
        .send()
        .await
        .expect("invoke");
    let body: serde_json::Value =
        serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(body["got"]["n"], 2);
    assert_eq!(body["name"], "js");
}

#[tokio::test]
async fn event_source_mappings_are_served_next_to_functions() {
    let s = TestServer::start().await;
    let c = client(&s);
    s.client()
        .create_stream()
        .stream_name("src")
        .shard_count(1)
        .send()
        .await
        .expect("stream");
    deploy(
        &c,
        "consumer",
        Runtime::Python312,
        "app.handler",
        zip_of("app.py", "def handler(event, context):\n    return None\n"),
    )
    .await;
    let e = c
        .create_event_source_mapping()
        .function_name("missing")
        .event_source_arn(s.stream_arn("src"))
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .expect_err("missing function");
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
    assert_eq!(e.message(), Some("Function does not exist"));
    let m = c
        .create_event_source_mapping()
        .function_name("consumer")
        .event_source_arn(s.stream_arn("src"))
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .expect("mapping");
    let uuid = m.uuid().expect("uuid").to_owned();
    assert_eq!(
        m.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:consumer")
    );
    let listed = c
        .list_event_source_mappings()
        .function_name("consumer")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.event_source_mappings().len(), 1);
    c.delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("delete");
}
