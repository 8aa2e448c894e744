// SPDX-License-Identifier: Apache-2.0
//! The Lambda operations end to end over their JSON inputs and outputs.

use base64::Engine as _;
use freshet_lambda::api::code_of;
use freshet_lambda::functions::Error;
use serde_json::json;

use crate::it::harness::{b64, create_input, open, zip_of};

fn code(e: &Error) -> &'static str {
    code_of(e).0
}

#[tokio::test]
async fn a_created_function_is_pending_then_active_and_invocable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    let out = h
        .call("CreateFunction", create_input("echo"))
        .await
        .expect("create");
    assert_eq!(out["State"], "Pending");
    assert_eq!(out["LastUpdateStatus"], "InProgress");
    assert_eq!(
        out["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert_eq!(out["Version"], "$LATEST");
    h.wait_for("echo", "State", "Active").await;
    h.wait_for("echo", "LastUpdateStatus", "Successful").await;
    let r = h
        .call(
            "Invoke",
            json!({ "FunctionName": "echo", "Payload": b64(br#"{"a":1}"#), "LogType": "Tail" }),
        )
        .await
        .expect("invoke");
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(r["ExecutedVersion"], "$LATEST");
    assert_eq!(r["Payload"], b64(br#"{"a":1}"#));
    assert_eq!(r["LogResult"], b64(b"START\nhello\nEND\n"));
    let seen = h.echo.seen.lock().expect("lock");
    let (spec, inv) = &seen[0];
    assert_eq!(spec.handler, "app.handler");
    assert!(
        spec.code_dir.join("app.py").is_file(),
        "code is unpacked for the executor"
    );
    assert_eq!(
        inv.invoked_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
}

#[tokio::test]
async fn function_errors_come_back_as_unhandled_with_the_error_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    h.create_active("f").await;
    let r = h
        .call(
            "Invoke",
            json!({ "FunctionName": "f", "Payload": b64(br#"{"fail": true}"#) }),
        )
        .await
        .expect("invoke");
    assert_eq!(r["FunctionError"], "Unhandled");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(r["Payload"].as_str().expect("payload"))
        .expect("b64");
    assert!(String::from_utf8_lossy(&payload).contains("\"errorType\":\"Exception\""));
}

#[tokio::test]
async fn bad_input_gets_aws_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    let mut bad = create_input("f");
    bad["Runtime"] = json!("java21");
    let e = h.call("CreateFunction", bad).await.expect_err("java");
    assert_eq!(code(&e), "InvalidParameterValueException");
    let mut bad = create_input("f");
    bad["Handler"] = json!("app handler");
    let e = h.call("CreateFunction", bad).await.expect_err("handler");
    assert_eq!(code(&e), "ValidationException");
    assert!(
        e.to_string()
            .contains("at 'handler' failed to satisfy constraint"),
        "{e}"
    );
    let mut bad = create_input("f");
    bad["Code"]["ZipFile"] = json!(b64(b"not a zip"));
    let e = h.call("CreateFunction", bad).await.expect_err("zip");
    assert_eq!(
        e.to_string(),
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    );
    let mut bad = create_input("f");
    bad["Timeout"] = json!(901);
    let e = h.call("CreateFunction", bad).await.expect_err("timeout");
    assert_eq!(code(&e), "ValidationException");
    let mut bad = create_input("bad name");
    bad["Environment"] = json!({ "Variables": { "AWS_REGION": "x" } });
    let e = h.call("CreateFunction", bad).await.expect_err("name");
    assert!(e.to_string().contains("at 'functionName'"), "{e}");
    let e = h
        .call("GetFunction", json!({ "FunctionName": "missing" }))
        .await
        .expect_err("missing");
    assert_eq!(code_of(&e), ("ResourceNotFoundException", 404));
    assert_eq!(
        e.to_string(),
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing"
    );
    h.create_active("f").await;
    let e = h
        .call("CreateFunction", create_input("f"))
        .await
        .expect_err("dup");
    assert_eq!(code_of(&e), ("ResourceConflictException", 409));
    assert_eq!(e.to_string(), "Function already exist: f");
}

#[tokio::test]
async fn versions_and_aliases_resolve_in_every_qualifier_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    h.create_active("f").await;
    let v = h
        .call("PublishVersion", json!({ "FunctionName": "f" }))
        .await
        .expect("publish");
    assert_eq!(v["Version"], "1");
    assert_eq!(
        v["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:f:1"
    );
    let again = h
        .call("PublishVersion", json!({ "FunctionName": "f" }))
        .await
        .expect("again");
    assert_eq!(again["Version"], "1", "nothing changed, so no new version");
    h.call(
        "UpdateFunctionConfiguration",
        json!({ "FunctionName": "f", "Timeout": 30, "Environment": { "Variables": { "KEY": "v" } } }),
    )
    .await
    .expect("update");
    let e = h
        .call(
            "UpdateFunctionConfiguration",
            json!({ "FunctionName": "f", "Timeout": 31 }),
        )
        .await
        .expect_err("in progress");
    assert_eq!(code(&e), "ResourceConflictException");
    h.wait_for("f", "LastUpdateStatus", "Successful").await;
    let v2 = h
        .call("PublishVersion", json!({ "FunctionName": "f" }))
        .await
        .expect("publish 2");
    assert_eq!(v2["Version"], "2");
    let a = h
        .call(
            "CreateAlias",
            json!({ "FunctionName": "f", "Name": "live", "FunctionVersion": "1" }),
        )
        .await
        .expect("alias");
    assert_eq!(
        a["AliasArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    );
    for (name, qualifier, version) in [
        ("f:1", None, "1"),
        ("f", Some("2"), "2"),
        ("f:live", None, "1"),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f:live",
            None,
            "1",
        ),
        ("000000000000:function:f", Some("$LATEST"), "$LATEST"),
    ] {
        let c = h
            .call(
                "GetFunctionConfiguration",
                json!({ "FunctionName": name, "Qualifier": qualifier }),
            )
            .await
            .expect("get");
        assert_eq!(c["Version"], version, "{name} {qualifier:?}");
        let r = h
            .call(
                "Invoke",
                json!({ "FunctionName": name, "Qualifier": qualifier, "Payload": b64(b"{}") }),
            )
            .await
            .expect("invoke");
        assert_eq!(r["ExecutedVersion"], version);
    }
    let e = h
        .call(
            "GetFunction",
            json!({ "FunctionName": "f:1", "Qualifier": "2" }),
        )
        .await
        .expect_err("mismatch");
    assert_eq!(code(&e), "InvalidParameterValueException");
    let e = h
        .call(
            "DeleteFunction",
            json!({ "FunctionName": "f", "Qualifier": "1" }),
        )
        .await
        .expect_err("alias uses it");
    assert_eq!(code(&e), "ResourceConflictException");
    let listed = h
        .call("ListVersionsByFunction", json!({ "FunctionName": "f" }))
        .await
        .expect("list");
    let versions: Vec<&str> = listed["Versions"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v["Version"].as_str().expect("str"))
        .collect();
    assert_eq!(versions, ["$LATEST", "1", "2"]);
}

#[tokio::test]
async fn functions_code_tags_and_concurrency_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let h = open(dir.path());
        h.create_active("keep").await;
        h.call(
            "TagResource",
            json!({ "Resource": "arn:aws:lambda:us-east-1:000000000000:function:keep", "Tags": { "team": "data" } }),
        )
        .await
        .expect("tag");
        h.call(
            "PutFunctionConcurrency",
            json!({ "FunctionName": "keep", "ReservedConcurrentExecutions": 5 }),
        )
        .await
        .expect("concurrency");
        h.call("PublishVersion", json!({ "FunctionName": "keep" }))
            .await
            .expect("publish");
    }
    let h = open(dir.path());
    let got = h
        .call("GetFunction", json!({ "FunctionName": "keep" }))
        .await
        .expect("get");
    assert_eq!(got["Configuration"]["State"], "Active");
    assert_eq!(got["Tags"]["team"], "data");
    assert_eq!(got["Concurrency"]["ReservedConcurrentExecutions"], 5);
    let r = h
        .call(
            "Invoke",
            json!({ "FunctionName": "keep:1", "Payload": b64(b"\"x\"") }),
        )
        .await
        .expect("invoke");
    assert_eq!(r["ExecutedVersion"], "1");
}

#[tokio::test]
async fn list_functions_pages_with_marker_and_max_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    for n in ["a", "b", "c"] {
        h.create_active(n).await;
    }
    let p1 = h
        .call("ListFunctions", json!({ "MaxItems": 2 }))
        .await
        .expect("p1");
    assert_eq!(p1["Functions"].as_array().map(Vec::len), Some(2));
    let marker = p1["NextMarker"].as_str().expect("marker").to_owned();
    let p2 = h
        .call("ListFunctions", json!({ "MaxItems": 2, "Marker": marker }))
        .await
        .expect("p2");
    assert_eq!(p2["Functions"][0]["FunctionName"], "c");
    assert!(p2.get("NextMarker").is_none());
}

#[tokio::test]
async fn deleting_a_function_removes_it_and_its_unused_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    h.create_active("gone").await;
    h.call("DeleteFunction", json!({ "FunctionName": "gone" }))
        .await
        .expect("delete");
    let e = h
        .call(
            "Invoke",
            json!({ "FunctionName": "gone", "Payload": b64(b"{}") }),
        )
        .await
        .expect_err("gone");
    assert_eq!(code(&e), "ResourceNotFoundException");
    let packages = std::fs::read_dir(dir.path().join("code/packages"))
        .expect("dir")
        .count();
    assert_eq!(packages, 0);
}

#[tokio::test]
async fn a_local_directory_runs_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let code = tempfile::tempdir().expect("code");
    std::fs::write(code.path().join("app.py"), "def handler(e, c): return 1\n").expect("write");
    let h = open(dir.path());
    let mut input = create_input("local");
    input["Code"] =
        json!({ "S3Bucket": "freshet-local", "S3Key": code.path().display().to_string() });
    h.call("CreateFunction", input).await.expect("create");
    h.wait_for("local", "State", "Active").await;
    h.call(
        "Invoke",
        json!({ "FunctionName": "local", "Payload": b64(b"{}") }),
    )
    .await
    .expect("invoke");
    let seen = h.echo.seen.lock().expect("lock");
    assert_eq!(seen[0].0.code_dir, code.path());
    let _ = zip_of(&[]);
}

#[tokio::test]
async fn payloads_over_the_limits_are_refused_with_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = open(dir.path());
    h.create_active("f").await;
    let big = b64(&vec![b' '; 6 * 1024 * 1024 + 1]);
    let e = h
        .call("Invoke", json!({ "FunctionName": "f", "Payload": big }))
        .await
        .expect_err("big");
    assert_eq!(code_of(&e), ("RequestTooLargeException", 413));
    let e = h
        .call("Invoke", json!({ "FunctionName": "f", "InvocationType": "Event", "Payload": b64(&vec![b' '; 1024 * 1024 + 1]) }))
        .await
        .expect_err("big async");
    assert_eq!(code_of(&e), ("RequestTooLargeException", 413));
    let r = h
        .call(
            "Invoke",
            json!({ "FunctionName": "f", "InvocationType": "DryRun" }),
        )
        .await
        .expect("dry run");
    assert_eq!(r["StatusCode"], 204);
}
