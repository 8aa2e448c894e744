// SPDX-License-Identifier: Apache-2.0
//! `provided.*` runtimes: the function's own `bootstrap`, here AWS's own runtime interface
//! client (awslambdaric) and a Rust `lambda_runtime` binary, proving the Runtime API is
//! what real clients expect.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use freshet_lambda::spec::{FunctionError, Runtime};

use super::harness::{Harness, invocation, json};

fn make_executable(p: &std::path::Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(p, perm).unwrap();
}

fn require_awslambdaric() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import awslambdaric"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "awslambdaric is not installed for python3: `python3 -m pip install -r tests/e2e/requirements.txt` (.ci/run does)"
    );
}

#[tokio::test]
async fn awslambdaric_runs_against_freshets_runtime_api() {
    require_awslambdaric();
    let h = Harness::new();
    let python = String::from_utf8(
        std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let spec = h.function(
        "ric-python",
        Runtime::ProvidedAl2023,
        "app.handler",
        &[
            ("bootstrap", &format!("#!/bin/sh\nexec {} -m awslambdaric \"$_HANDLER\"\n", python.trim())),
            (
                "app.py",
                "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('ric failure')\n    print('from ric')\n    return {'ric': True, 'id': context.aws_request_id, 'fn': context.function_name}\n",
            ),
        ],
    );
    make_executable(&spec.code_dir.join("bootstrap"));
    let inv = invocation("{}");
    let id = inv.request_id.clone();
    let r = h.exec.invoke(Arc::new(spec.clone()), inv).await.unwrap();
    assert_eq!(
        r.function_error,
        None,
        "{:?}",
        String::from_utf8_lossy(&r.payload)
    );
    let v = json(&r);
    assert_eq!(v["ric"], true);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["fn"], "ric-python");
    let r = h.invoke(&spec, r#"{"fail": true}"#).await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "ValueError");
    assert_eq!(v["errorMessage"], "ric failure");
    let logs = h
        .sink
        .wait_for("/aws/lambda/ric-python", "[ERROR] ValueError")
        .await;
    assert!(logs.iter().any(|m| m == "from ric\n"), "{logs:?}");
    // An init error, as awslambdaric posts it.
    let mut bad = spec.clone();
    bad.name = "ric-bad".to_owned();
    bad.arn.push_str("-bad");
    bad.handler = "app.nosuch".to_owned();
    let v = json(&h.invoke(&bad, "{}").await);
    assert_eq!(v["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(
        v["errorMessage"],
        "Handler 'nosuch' missing on module 'app'"
    );
}

#[tokio::test]
async fn a_provided_function_without_bootstrap_is_an_invalid_entrypoint() {
    let h = Harness::new();
    let spec = h.function(
        "no-bootstrap",
        Runtime::ProvidedAl2,
        "x",
        &[("readme.txt", "")],
    );
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorType"], "Runtime.InvalidEntrypoint");
}

/// The `rust_bootstrap` example, built by `cargo test` next to this test binary.
fn rust_bootstrap() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("rust_bootstrap")
}

#[tokio::test]
async fn a_rust_lambda_runtime_binary_runs_as_bootstrap() {
    let bin = rust_bootstrap();
    assert!(
        bin.exists(),
        "{} missing: cargo test builds examples",
        bin.display()
    );
    let h = Harness::new();
    let spec = h.function("rust-fn", Runtime::ProvidedAl2023, "bootstrap", &[]);
    std::fs::create_dir_all(&spec.code_dir).unwrap();
    std::fs::copy(&bin, spec.code_dir.join("bootstrap")).unwrap();
    make_executable(&spec.code_dir.join("bootstrap"));
    let r = h.invoke(&spec, r#"{"name":"freshet"}"#).await;
    assert_eq!(
        r.function_error,
        None,
        "{:?}",
        String::from_utf8_lossy(&r.payload)
    );
    let v = json(&r);
    assert_eq!(v["greeting"], "hello freshet");
    assert_eq!(v["function"], "rust-fn");
    let r = h.invoke(&spec, r#"{"name":"fail"}"#).await;
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorMessage"], "asked to fail");
}
