// SPDX-License-Identifier: Apache-2.0
//! Lambda conformance tests: the official `aws-sdk-lambda` client against an in-process
//! server. Function code runs under a fake executor installed on the server's functions (the
//! process executor has its own tests), so these check the API: shapes, states, waiters'
//! fields, qualifiers, errors, Invoke's headers and status codes.

mod errors;
mod events;
mod functions;
mod real;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime, State};
use bytes::Bytes;
use freshet_lambda::functions::Execute;
use freshet_lambda::spec::{
    BoxFuture, FunctionError, FunctionSpec, Invocation, InvocationResult, InvokeError,
};
use freshet_testkit::TestServer;
use zip::write::SimpleFileOptions;

/// An official Lambda client pointed at `server`.
pub fn client(server: &TestServer) -> Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    Client::from_conf(config)
}

/// Echoes the event; `{"fail":true}` fails as the Python runtime reports an exception.
pub struct Echo;

impl Execute for Echo {
    fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>> {
        Box::pin(async move {
            let fail = invocation.payload.as_ref() == br#"{"fail":true}"#;
            Ok(InvocationResult {
                payload: if fail {
                    Bytes::from_static(
                        br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}"#,
                    )
                } else {
                    invocation.payload
                },
                function_error: fail.then_some(FunctionError::Unhandled),
                log_tail: invocation
                    .tail_log
                    .then(|| format!("START RequestId: {}\n", invocation.request_id)),
                executed_version: spec.version.clone(),
                duration: Duration::from_millis(1),
                init_duration: None,
            })
        })
    }
}

/// A server whose functions run under [`Echo`].
pub async fn server() -> TestServer {
    let s = TestServer::start().await;
    s.server().functions().set_executor(Arc::new(Echo));
    s
}

/// A zip with a Python handler, as a user would build it.
pub fn python_zip() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("lambda_function.py", SimpleFileOptions::default())
        .expect("start");
    w.write_all(b"def lambda_handler(event, context):\n    return event\n")
        .expect("write");
    w.finish().expect("finish").into_inner()
}

/// Creates `name` from [`python_zip`] and waits until it is Active, as `function_active_v2`.
pub async fn create_active(c: &Client, name: &str) {
    c.create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("lambda_function.lambda_handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip()))
                .build(),
        )
        .send()
        .await
        .expect("create");
    for _ in 0..1000 {
        let got = c
            .get_function()
            .function_name(name)
            .send()
            .await
            .expect("get");
        if got.configuration().and_then(|c| c.state()) == Some(&State::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{name} never became Active");
}
