// SPDX-License-Identifier: Apache-2.0
//! Test harness: a recording log sink, function directories in temp dirs, specs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use freshet_lambda::exec::{ExecConfig, Executor, LogEvent, LogSink, LogSinkError};
use freshet_lambda::spec::{BoxFuture, FunctionSpec, Invocation, InvocationResult, Runtime};
use tempfile::TempDir;

/// Remembers every appended event.
#[derive(Default)]
pub struct RecordingSink {
    pub events: Mutex<Vec<(String, String, LogEvent)>>,
}

impl LogSink for RecordingSink {
    fn append<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        events: Vec<LogEvent>,
    ) -> BoxFuture<'a, Result<(), LogSinkError>> {
        Box::pin(async move {
            let mut all = self.events.lock().unwrap();
            for e in events {
                all.push((group.to_owned(), stream.to_owned(), e));
            }
            Ok(())
        })
    }
}

impl RecordingSink {
    /// Messages written so far to streams of `group`.
    pub fn messages(&self, group: &str) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(g, _, _)| g == group)
            .map(|(_, _, e)| e.message.clone())
            .collect()
    }

    /// Waits until a message containing `needle` arrived in `group`.
    pub async fn wait_for(&self, group: &str, needle: &str) -> Vec<String> {
        for _ in 0..200 {
            let m = self.messages(group);
            if m.iter().any(|s| s.contains(needle)) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no log line containing {needle:?} in {group}: {:?}",
            self.messages(group)
        );
    }
}

pub struct Harness {
    pub exec: Executor,
    pub sink: Arc<RecordingSink>,
    pub dir: TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(|_| {})
    }

    pub fn with(f: impl FnOnce(&mut ExecConfig)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ExecConfig::new(dir.path().join("work"));
        config.endpoint_url = Some("http://127.0.0.1:4567".to_owned());
        f(&mut config);
        let sink = Arc::new(RecordingSink::default());
        let exec = Executor::new(config, sink.clone()).unwrap();
        Harness { exec, sink, dir }
    }

    /// A function `name` whose code directory holds `files`.
    pub fn function(
        &self,
        name: &str,
        runtime: Runtime,
        handler: &str,
        files: &[(&str, &str)],
    ) -> FunctionSpec {
        let code = self.dir.path().join("code").join(name);
        write_files(&code, files);
        FunctionSpec {
            name: name.to_owned(),
            arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            version: "$LATEST".to_owned(),
            runtime,
            handler: handler.to_owned(),
            code_dir: code,
            code_sha256: String::new(),
            timeout: Duration::from_secs(30),
            memory_mb: 128,
            environment: BTreeMap::new(),
            log_group: format!("/aws/lambda/{name}"),
            reserved_concurrency: None,
            revision: 1,
        }
    }

    pub async fn invoke(&self, spec: &FunctionSpec, payload: &str) -> InvocationResult {
        self.exec
            .invoke(Arc::new(spec.clone()), invocation(payload))
            .await
            .unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.exec.shutdown();
    }
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

pub fn invocation(payload: &str) -> Invocation {
    Invocation {
        request_id: uuid::Uuid::new_v4().to_string(),
        payload: Bytes::from(payload.to_owned()),
        invoked_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".to_owned(),
        client_context: None,
        tail_log: false,
    }
}

pub fn json(r: &InvocationResult) -> serde_json::Value {
    serde_json::from_slice(&r.payload)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.payload)))
}
