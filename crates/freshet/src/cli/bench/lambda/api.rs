// SPDX-License-Identifier: Apache-2.0
//! The calls the function scenarios make: Lambda REST-JSON and Kinesis JSON 1.1, unsigned, over
//! the lean client's kept-alive connections ([`RawConn`]), so the server, not an SDK's signing
//! and middleware, is what is measured. Like `--client raw`, this talks to local servers only.
//!
//! Control-plane calls ([`Api`]) turn AWS errors into errors naming the operation, the AWS code
//! and message; the hot path ([`invoke`]) returns an [`InvokeOutcome`] to count instead.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::bench::raw::{LAMBDA_AUTHORIZATION, RawAnswer, RawConn, RawOutcome};

/// The role every bench function gets: Freshet stores roles and does not enforce them.
const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
/// How often state waits look again.
const POLL: Duration = Duration::from_millis(10);
/// Longest wait for a function, mapping or stream to reach a state.
const STATE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a new bench function is.
pub(super) struct NewFunction<'a> {
    pub name: &'a str,
    pub runtime: &'a str,
    pub handler: &'a str,
    pub zip: &'a [u8],
    pub timeout_s: u32,
    pub memory_mb: u32,
    pub environment: &'a BTreeMap<String, String>,
}

/// A control-plane client: one connection, reopened after a transport failure.
pub(super) struct Api {
    endpoint: String,
    conn: Option<RawConn>,
}

impl Api {
    /// Connects to `endpoint`.
    pub async fn connect(endpoint: &str) -> anyhow::Result<Self> {
        let conn = RawConn::connect(endpoint).await?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            conn: Some(conn),
        })
    }

    /// Sends one request, reconnecting once if the connection failed.
    async fn exchange(
        &mut self,
        op: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<RawAnswer> {
        for _ in 0..2 {
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => self.conn.insert(RawConn::connect(&self.endpoint).await?),
            };
            match conn
                .request(method.clone(), path, headers, body.clone())
                .await
            {
                Some(answer) => return Ok(answer),
                None => self.conn = None,
            }
        }
        anyhow::bail!("{op}: the connection to {} failed", self.endpoint)
    }

    /// A Lambda call with a JSON body (or none); its JSON answer (`null` when empty).
    async fn lambda(
        &mut self,
        op: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let body = match body {
            Some(v) => Bytes::from(serde_json::to_vec(&v)?),
            None => Bytes::new(),
        };
        let answer = self
            .exchange(op, method, path, &lambda_headers("application/json"), body)
            .await?;
        if !answer.status.is_success() {
            let (code, message) = aws_error(&answer);
            anyhow::bail!("{op}: {code}: {message}");
        }
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer.body)
            .with_context(|| format!("{op}: the answer is not JSON"))
    }

    /// A Kinesis call; its JSON answer.
    async fn kinesis(&mut self, op: &str, body: Value) -> anyhow::Result<Value> {
        for _ in 0..2 {
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => self.conn.insert(RawConn::connect(&self.endpoint).await?),
            };
            match conn.call(op, body.to_string()).await {
                // CreateStream and DeleteStream answer with an empty body.
                RawOutcome::Ok(b) if b.is_empty() => return Ok(Value::Null),
                RawOutcome::Ok(b) => {
                    return serde_json::from_slice(&b)
                        .with_context(|| format!("{op}: the answer is not JSON"));
                }
                RawOutcome::Aws(code) => anyhow::bail!("{op}: {code}"),
                RawOutcome::Transport => self.conn = None,
            }
        }
        anyhow::bail!("{op}: the connection to {} failed", self.endpoint)
    }

    /// CreateFunction from a zip, then waits until the function is Active.
    pub async fn create_function(&mut self, f: &NewFunction<'_>) -> anyhow::Result<()> {
        let body = json!({
            "FunctionName": f.name,
            "Runtime": f.runtime,
            "Role": ROLE,
            "Handler": f.handler,
            "Code": {"ZipFile": STANDARD.encode(f.zip)},
            "Timeout": f.timeout_s,
            "MemorySize": f.memory_mb,
            "Environment": {"Variables": f.environment},
        });
        self.lambda(
            "CreateFunction",
            Method::POST,
            "/2015-03-31/functions",
            Some(body),
        )
        .await?;
        self.wait_function(f.name).await
    }

    /// Waits until `name` is Active with its last update Successful (what the
    /// `function_active_v2` and `function_updated_v2` waiters wait for).
    pub async fn wait_function(&mut self, name: &str) -> anyhow::Result<()> {
        let path = format!("/2015-03-31/functions/{name}/configuration");
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        loop {
            let c = self
                .lambda("GetFunctionConfiguration", Method::GET, &path, None)
                .await?;
            let state = c["State"].as_str().unwrap_or_default();
            let update = c["LastUpdateStatus"].as_str().unwrap_or("Successful");
            anyhow::ensure!(
                state != "Failed" && update != "Failed",
                "function {name} failed: {}",
                c["StateReason"].as_str().unwrap_or("no reason given")
            );
            if state == "Active" && update == "Successful" {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "function {name} is still {state}/{update} after {STATE_TIMEOUT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// UpdateFunctionConfiguration of the environment variables, then waits until the update
    /// is Successful. A changed configuration means a new execution environment.
    pub async fn update_environment(
        &mut self,
        name: &str,
        environment: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let path = format!("/2015-03-31/functions/{name}/configuration");
        let body = json!({"Environment": {"Variables": environment}});
        self.lambda(
            "UpdateFunctionConfiguration",
            Method::PUT,
            &path,
            Some(body),
        )
        .await?;
        self.wait_function(name).await
    }

    /// DeleteFunction.
    pub async fn delete_function(&mut self, name: &str) -> anyhow::Result<()> {
        let path = format!("/2015-03-31/functions/{name}");
        self.lambda("DeleteFunction", Method::DELETE, &path, None)
            .await
            .map(drop)
    }

    /// CreateEventSourceMapping from a Kinesis stream; returns the mapping's UUID (see
    /// [`Api::wait_mapping`]).
    pub async fn create_mapping(
        &mut self,
        function: &str,
        stream_arn: &str,
        batch_size: u32,
        starting_position: &str,
    ) -> anyhow::Result<String> {
        let body = json!({
            "FunctionName": function,
            "EventSourceArn": stream_arn,
            "BatchSize": batch_size,
            "StartingPosition": starting_position,
        });
        let m = self
            .lambda(
                "CreateEventSourceMapping",
                Method::POST,
                "/2015-03-31/event-source-mappings",
                Some(body),
            )
            .await?;
        m["UUID"]
            .as_str()
            .map(str::to_owned)
            .context("CreateEventSourceMapping returned no UUID")
    }

    /// Waits until mapping `uuid` is Enabled.
    pub async fn wait_mapping(&mut self, uuid: &str) -> anyhow::Result<()> {
        let path = format!("/2015-03-31/event-source-mappings/{uuid}");
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        loop {
            let m = self
                .lambda("GetEventSourceMapping", Method::GET, &path, None)
                .await?;
            let state = m["State"].as_str().unwrap_or_default();
            if state == "Enabled" {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "mapping {uuid} is still {state} after {STATE_TIMEOUT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// DeleteEventSourceMapping, then waits until the mapping is gone.
    pub async fn delete_mapping(&mut self, uuid: &str) -> anyhow::Result<()> {
        let path = format!("/2015-03-31/event-source-mappings/{uuid}");
        self.lambda("DeleteEventSourceMapping", Method::DELETE, &path, None)
            .await?;
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        loop {
            match self
                .lambda("GetEventSourceMapping", Method::GET, &path, None)
                .await
            {
                Err(e) if e.to_string().contains("ResourceNotFoundException") => return Ok(()),
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "mapping {uuid} is still there {STATE_TIMEOUT:?} after DeleteEventSourceMapping"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// CreateStream, waits until it is ACTIVE, and returns its ARN.
    pub async fn create_stream(&mut self, name: &str, shards: u32) -> anyhow::Result<String> {
        self.kinesis(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": shards}),
        )
        .await?;
        let deadline = tokio::time::Instant::now() + STATE_TIMEOUT;
        loop {
            let d = self
                .kinesis("DescribeStreamSummary", json!({"StreamName": name}))
                .await?;
            let summary = &d["StreamDescriptionSummary"];
            if summary["StreamStatus"] == "ACTIVE" {
                return summary["StreamARN"]
                    .as_str()
                    .map(str::to_owned)
                    .context("DescribeStreamSummary returned no StreamARN");
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "stream {name} is not ACTIVE after {STATE_TIMEOUT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// DeleteStream.
    pub async fn delete_stream(&mut self, name: &str) -> anyhow::Result<()> {
        self.kinesis(
            "DeleteStream",
            json!({"StreamName": name, "EnforceConsumerDeletion": true}),
        )
        .await
        .map(drop)
    }
}

/// The headers of a Lambda call.
fn lambda_headers(content_type: &str) -> [(&str, &str); 3] {
    [
        ("content-type", content_type),
        ("x-amz-date", "20260101T000000Z"),
        ("authorization", LAMBDA_AUTHORIZATION),
    ]
}

/// The AWS code and message of a REST-JSON error answer: the code from `x-amzn-ErrorType`
/// (without its `:<uri>` suffix), else the body's `__type`/`code`; the message from the body.
fn aws_error(a: &RawAnswer) -> (String, String) {
    let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    let code = a
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_owned())
        .or_else(|| {
            ["__type", "code", "Code"]
                .iter()
                .find_map(|k| body[*k].as_str())
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
        })
        .unwrap_or_else(|| format!("HTTP{}", a.status.as_u16()));
    let message = ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| body[*k].as_str())
        .unwrap_or_default()
        .to_owned();
    (code, message)
}

/// The Invoke path of `function`.
pub(super) fn invoke_path(function: &str) -> String {
    format!("/2015-03-31/functions/{function}/invocations")
}

/// What one Invoke answered.
pub(super) enum InvokeOutcome {
    /// The function ran and succeeded; the log tail when it was asked for.
    Ok { log: Option<String> },
    /// The function ran and failed (`X-Amz-Function-Error`).
    FunctionError(String),
    /// The server refused: the AWS code.
    Aws(String),
    /// The connection failed; a new one is needed.
    Transport,
}

/// One synchronous (RequestResponse) Invoke on `conn` at `path` (see [`invoke_path`]), with
/// `LogType: Tail` when `tail`.
pub(super) async fn invoke(
    conn: &mut RawConn,
    path: &str,
    payload: Bytes,
    tail: bool,
) -> InvokeOutcome {
    let [ct, date, auth] = lambda_headers("application/json");
    let log_type = if tail { "Tail" } else { "None" };
    let headers = [
        ct,
        date,
        auth,
        ("x-amz-invocation-type", "RequestResponse"),
        ("x-amz-log-type", log_type),
    ];
    let Some(answer) = conn.request(Method::POST, path, &headers, payload).await else {
        return InvokeOutcome::Transport;
    };
    if answer.status != StatusCode::OK {
        return InvokeOutcome::Aws(aws_error(&answer).0);
    }
    if let Some(kind) = answer.headers.get("x-amz-function-error") {
        return InvokeOutcome::FunctionError(format!(
            "FunctionError.{}",
            kind.to_str().unwrap_or("?")
        ));
    }
    let log = answer
        .headers
        .get("x-amz-log-result")
        .and_then(|v| STANDARD.decode(v.as_bytes()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    InvokeOutcome::Ok { log }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> RawAnswer {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        RawAnswer {
            status: StatusCode::from_u16(status).expect("status"),
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn rest_json_errors_name_their_code_from_the_header_and_their_message_from_the_body() {
        let a = answer(
            404,
            &[(
                "x-amzn-ErrorType",
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/",
            )],
            r#"{"Type":"User","message":"Function not found: f"}"#,
        );
        assert_eq!(
            aws_error(&a),
            (
                "ResourceNotFoundException".to_owned(),
                "Function not found: f".to_owned()
            )
        );
        let b = answer(500, &[], "not json");
        assert_eq!(aws_error(&b), ("HTTP500".to_owned(), String::new()));
        let c = answer(
            400,
            &[],
            r#"{"__type":"com.amazon#ValidationException","Message":"bad"}"#,
        );
        assert_eq!(
            aws_error(&c),
            ("ValidationException".to_owned(), "bad".to_owned())
        );
    }
}
