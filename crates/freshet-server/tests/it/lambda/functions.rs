// SPDX-License-Identifier: Apache-2.0
//! Functions, versions, aliases, tags, concurrency and Invoke through `aws-sdk-lambda`.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Environment, FunctionCode, InvocationType, LastUpdateStatus, LogType, Runtime, State,
};
use base64::Engine as _;

use super::{client, create_active, python_zip, server};

#[tokio::test]
async fn create_function_answers_pending_then_get_function_shows_active() {
    let s = server().await;
    let c = client(&s);
    let out = c
        .create_function()
        .function_name("hello")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("lambda_function.lambda_handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip()))
                .build(),
        )
        .environment(Environment::builder().variables("STAGE", "dev").build())
        .timeout(30)
        .send()
        .await
        .expect("create");
    assert_eq!(out.state(), Some(&State::Pending));
    assert_eq!(
        out.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:hello")
    );
    assert_eq!(out.timeout(), Some(30));
    assert_eq!(out.memory_size(), Some(128));
    assert!(out.code_sha256().is_some_and(|s| s.len() == 44));
    create_active(&c, "other").await;
    let list = c.list_functions().send().await.expect("list");
    let names: Vec<&str> = list
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["hello", "other"]);
    let conf = c
        .get_function_configuration()
        .function_name("other")
        .send()
        .await
        .expect("conf");
    assert_eq!(
        conf.last_update_status(),
        Some(&LastUpdateStatus::Successful)
    );
    assert_eq!(conf.handler(), Some("lambda_function.lambda_handler"));
}

#[tokio::test]
async fn invoke_returns_the_payload_log_tail_and_function_errors() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "echo").await;
    let out = c
        .invoke()
        .function_name("echo")
        .payload(Blob::new(r#"{"k":"v"}"#))
        .log_type(LogType::Tail)
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert_eq!(
        out.payload().map(|p| p.as_ref()),
        Some(&br#"{"k":"v"}"#[..])
    );
    let tail = base64::engine::general_purpose::STANDARD
        .decode(out.log_result().expect("log result"))
        .expect("b64");
    assert!(String::from_utf8_lossy(&tail).starts_with("START RequestId: "));
    let failed = c
        .invoke()
        .function_name("echo")
        .payload(Blob::new(r#"{"fail":true}"#))
        .send()
        .await
        .expect("invoke");
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let queued = c
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("event");
    assert_eq!(queued.status_code(), 202);
    let dry = c
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status_code(), 204);
}

#[tokio::test]
async fn missing_functions_and_bad_input_get_aws_errors() {
    let s = server().await;
    let c = client(&s);
    let e = c
        .get_function()
        .function_name("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        e.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope")
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let e = c
        .create_function()
        .function_name("j")
        .runtime(Runtime::Java21)
        .role("arn:aws:iam::000000000000:role/r")
        .handler("x.Handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip()))
                .build(),
        )
        .send()
        .await
        .expect_err("java");
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
    assert!(e.message().is_some_and(|m| m.contains("python3.12")));
    let e = c
        .create_function()
        .function_name("z")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/r")
        .handler("app.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new("not a zip"))
                .build(),
        )
        .send()
        .await
        .expect_err("zip");
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
    create_active(&c, "dup").await;
    let e = c
        .create_function()
        .function_name("dup")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/r")
        .handler("app.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip()))
                .build(),
        )
        .send()
        .await
        .expect_err("dup");
    assert_eq!(e.code(), Some("ResourceConflictException"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(409));
}

#[tokio::test]
async fn versions_aliases_tags_and_concurrency_round_trip() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "f").await;
    let v1 = c
        .publish_version()
        .function_name("f")
        .send()
        .await
        .expect("publish");
    assert_eq!(v1.version(), Some("1"));
    let alias = c
        .create_alias()
        .function_name("f")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("alias");
    assert_eq!(
        alias.alias_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:f:live")
    );
    let out = c
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:f")
        .qualifier("live")
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("invoke alias");
    assert_eq!(out.executed_version(), Some("1"));
    let aliases = c
        .list_aliases()
        .function_name("f")
        .send()
        .await
        .expect("aliases");
    assert_eq!(aliases.aliases().len(), 1);
    c.delete_alias()
        .function_name("f")
        .name("live")
        .send()
        .await
        .expect("delete alias");
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
    c.tag_resource()
        .resource(arn)
        .tags("team", "data")
        .tags("env", "dev")
        .send()
        .await
        .expect("tag");
    c.untag_resource()
        .resource(arn)
        .tag_keys("env")
        .send()
        .await
        .expect("untag");
    let tags = c.list_tags().resource(arn).send().await.expect("tags");
    assert_eq!(tags.tags().map(|t| t.len()), Some(1));
    c.put_function_concurrency()
        .function_name("f")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("reserve");
    let got = c
        .get_function_concurrency()
        .function_name("f")
        .send()
        .await
        .expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), Some(0));
    let e = c
        .invoke()
        .function_name("f")
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(e.code(), Some("TooManyRequestsException"));
    c.delete_function_concurrency()
        .function_name("f")
        .send()
        .await
        .expect("unreserve");
    let settings = c.get_account_settings().send().await.expect("settings");
    assert_eq!(
        settings.account_usage().map(|u| u.function_count()),
        Some(1)
    );
    c.delete_function()
        .function_name("f")
        .send()
        .await
        .expect("delete");
    let e = c
        .get_function()
        .function_name("f")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn functions_survive_a_restart() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "durable").await;
    let s = s.restart().await;
    s.server()
        .functions()
        .set_executor(std::sync::Arc::new(super::Echo));
    let c = client(&s);
    let got = c
        .get_function()
        .function_name("durable")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.configuration().and_then(|c| c.state()),
        Some(&State::Active)
    );
    let out = c
        .invoke()
        .function_name("durable")
        .payload(Blob::new("1"))
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.payload().map(|p| p.as_ref()), Some(&b"1"[..]));
}

/// A zip of `lambda_function.py` plus `padding` bytes stored uncompressed, so the zip is
/// about as large as the padding.
fn padded_zip(padding: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("lambda_function.py", stored).expect("start");
    w.write_all(b"def lambda_handler(event, context):\n    return event\n")
        .expect("write");
    w.start_file("padding.bin", stored).expect("start");
    w.write_all(&vec![b'x'; padding]).expect("write");
    w.finish().expect("finish").into_inner()
}

#[tokio::test]
async fn zips_far_above_the_endpoints_default_body_limit_deploy_and_larger_requests_get_413() {
    let s = server().await;
    let c = client(&s);
    // 24 MB of zip is 32 MB of base64: twice the endpoint's default 16 MiB body limit.
    let zip = padded_zip(24 * 1024 * 1024);
    c.create_function()
        .function_name("big")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/r")
        .handler("lambda_function.lambda_handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip.clone()))
                .build(),
        )
        .send()
        .await
        .expect("a 24 MB zip deploys");
    let got = c
        .get_function()
        .function_name("big")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.configuration().map(|c| c.code_size()),
        Some(zip.len() as i64)
    );

    // Over 50 MB but a request under AWS's 70,167,211 bytes: Lambda's own check answers.
    let e = c
        .update_function_code()
        .function_name("big")
        .zip_file(Blob::new(padded_zip(51 * 1024 * 1024)))
        .send()
        .await
        .expect_err("over 50 MB");
    assert_eq!(e.code(), Some("RequestEntityTooLargeException"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(413));
    // A request over 70,167,211 bytes: the front door stops reading and answers the same way,
    // naming the operation as AWS does.
    let e = c
        .update_function_code()
        .function_name("big")
        .zip_file(Blob::new(padded_zip(53 * 1024 * 1024)))
        .send()
        .await
        .expect_err("request over the limit");
    assert_eq!(e.code(), Some("RequestEntityTooLargeException"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(413));
    assert_eq!(
        e.message(),
        Some("Request must be smaller than 70167211 bytes for the UpdateFunctionCode operation")
    );
}
