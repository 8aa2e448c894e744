// SPDX-License-Identifier: Apache-2.0
//! A Lambda service on a temporary directory, with an executor that echoes the event.

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use freshet_lambda::functions::Execute;
use freshet_lambda::spec::{
    BoxFuture, FunctionError, FunctionSpec, Invocation, InvocationResult, InvokeError,
};
use freshet_lambda::{Functions, FunctionsOptions, LambdaService};
use freshet_meta::Meta;
use freshet_runtime::Tasks;
use freshet_types::SystemClock;
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

/// Echoes the payload; a payload `{"fail": true}` is an Unhandled function error.
#[derive(Default)]
pub struct Echo {
    pub seen: Mutex<Vec<(Arc<FunctionSpec>, Invocation)>>,
}

impl Execute for Echo {
    fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>> {
        Box::pin(async move {
            let fail = invocation.payload.as_ref() == br#"{"fail": true}"#;
            let result = InvocationResult {
                payload: if fail {
                    Bytes::from_static(
                        br#"{"errorMessage":"boom","errorType":"Exception","stackTrace":[]}"#,
                    )
                } else {
                    invocation.payload.clone()
                },
                function_error: fail.then_some(FunctionError::Unhandled),
                log_tail: invocation
                    .tail_log
                    .then(|| "START\nhello\nEND\n".to_owned()),
                executed_version: spec.version.clone(),
                duration: Duration::from_millis(1),
                init_duration: None,
            };
            if let Ok(mut s) = self.seen.lock() {
                s.push((spec, invocation));
            }
            Ok(result)
        })
    }
}

pub struct Harness {
    pub svc: LambdaService,
    pub echo: Arc<Echo>,
}

pub fn open(dir: &Path) -> Harness {
    let meta = Arc::new(Meta::open_local(&dir.join("meta.redb")).expect("meta"));
    let functions = Functions::open(
        meta,
        Arc::new(SystemClock),
        Tasks::detached(),
        FunctionsOptions {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            code_dir: dir.join("code"),
            total_concurrency: 1000,
            min_unreserved: 100,
            max_queued_events: 100,
        },
    )
    .expect("open");
    let echo = Arc::new(Echo::default());
    functions.set_executor(echo.clone());
    Harness {
        svc: LambdaService::new(functions),
        echo,
    }
}

pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        w.start_file(*name, SimpleFileOptions::default().unix_permissions(0o644))
            .expect("start");
        w.write_all(body.as_bytes()).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn create_input(name: &str) -> Value {
    json!({
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::000000000000:role/lambda",
        "Handler": "app.handler",
        "Code": { "ZipFile": b64(&zip_of(&[("app.py", "def handler(e, c):\n    return e\n")])) },
    })
}

impl Harness {
    pub async fn call(
        &self,
        op: &str,
        input: Value,
    ) -> Result<Value, freshet_lambda::functions::Error> {
        self.svc.call_json(op, input).await
    }

    /// Polls GetFunctionConfiguration until `member` is `want`, as the SDK waiters do.
    pub async fn wait_for(&self, name: &str, member: &str, want: &str) {
        for _ in 0..1000 {
            let c = self
                .call("GetFunctionConfiguration", json!({ "FunctionName": name }))
                .await
                .expect("get");
            if c[member] == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{name} never reached {member} = {want}");
    }

    pub async fn create_active(&self, name: &str) -> Value {
        let out = self
            .call("CreateFunction", create_input(name))
            .await
            .expect("create");
        self.wait_for(name, "State", "Active").await;
        out
    }
}
