// SPDX-License-Identifier: Apache-2.0
//! The Lambda API on the shared front door: [`LambdaService`] claims Lambda's REST path
//! prefixes, names the operation from the method and path, binds URI, query, header and body
//! members into one JSON input for `ops`, and binds the JSON output back to a status, headers
//! and a body. Domain errors become REST-JSON errors (`X-Amzn-ErrorType` plus
//! `{"Type","message"}`) in one `match`, [`code_of`].
//!
//! The binding table here covers Lambda's operations only; it gives way to the model-driven
//! REST-JSON binder of `freshet-protocol` when that lands, without changing `ops`.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use freshet_protocol::{ApiRequest, Protocol, Response, Route, Service, ServiceInfo};
use futures_util::future::BoxFuture;
use http::Method;
use serde_json::{Map, Value, json};

use crate::esm::Mappings;
use crate::functions::{Error, Functions};

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "Lambda",
    signing_name: "lambda",
    routes: [
        "/2015-03-31/functions",
        "/2015-03-31/event-source-mappings",
        "/2017-03-31/tags",
        "/2017-10-31/functions",
        "/2019-09-30/functions",
        "/2016-08-19/account-settings",
    ]
    .into_iter()
    .map(|path_prefix| Route::Rest {
        path_prefix,
        protocol: Protocol::RestJson,
    })
    .collect(),
});

/// The Lambda API over a [`Functions`] handle (and, once given, event source mappings).
#[derive(Clone)]
pub struct LambdaService {
    functions: Functions,
    mappings: Option<Mappings>,
}

impl std::fmt::Debug for LambdaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaService")
            .field("functions", &self.functions)
            .field("mappings", &self.mappings.is_some())
            .finish()
    }
}

impl LambdaService {
    /// The API over `functions`, without event source mappings.
    pub fn new(functions: Functions) -> Self {
        Self {
            functions,
            mappings: None,
        }
    }

    /// The same API, answering the *EventSourceMapping operations with `mappings`.
    pub fn with_mappings(mut self, mappings: Mappings) -> Self {
        self.mappings = Some(mappings);
        self
    }

    /// The functions behind the API.
    pub fn functions(&self) -> &Functions {
        &self.functions
    }

    /// Runs operation `op` on its JSON input and returns its JSON output: the entry point a
    /// model-driven binder calls.
    pub async fn call_json(&self, op: &str, input: Value) -> Result<Value, Error> {
        if op.ends_with("EventSourceMapping") || op.ends_with("EventSourceMappings") {
            let Some(m) = &self.mappings else {
                return Err(Error::Unsupported(op.to_owned()));
            };
            return match crate::ops::mappings::dispatch(&self.functions, m, op, input).await {
                Some(r) => r,
                None => Err(Error::Unsupported(op.to_owned())),
            };
        }
        match crate::ops::dispatch(&self.functions, op, input).await {
            Some(r) => r,
            None => Err(Error::Unsupported(op.to_owned())),
        }
    }

    async fn handle(&self, req: ApiRequest) -> Response {
        let Some((op, params)) = route(&req.method, &req.path) else {
            return error_response(&Error::Unsupported(format!("{} {}", req.method, req.path)));
        };
        let input = match bind_input(op, params, &req) {
            Ok(v) => v,
            Err(e) => return error_response(&e),
        };
        match self.call_json(op, input).await {
            Ok(out) => bind_output(op, out),
            Err(e) => error_response(&e),
        }
    }
}

impl Service for LambdaService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(self.handle(req))
    }
}

/// The operation a method and path name, with the path's members (percent-decoded).
pub fn route(method: &Method, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let d = |s: &str| percent_decode(s);
    let m = method.as_str();
    let (op, params): (&'static str, Vec<(&'static str, String)>) = match (m, segs.as_slice()) {
        ("POST", ["2015-03-31", "functions"]) => ("CreateFunction", vec![]),
        ("GET", ["2015-03-31", "functions"]) => ("ListFunctions", vec![]),
        ("GET", ["2015-03-31", "functions", f]) => ("GetFunction", vec![("FunctionName", d(f)?)]),
        ("DELETE", ["2015-03-31", "functions", f]) => {
            ("DeleteFunction", vec![("FunctionName", d(f)?)])
        }
        ("GET", ["2015-03-31", "functions", f, "configuration"]) => {
            ("GetFunctionConfiguration", vec![("FunctionName", d(f)?)])
        }
        ("PUT", ["2015-03-31", "functions", f, "configuration"]) => {
            ("UpdateFunctionConfiguration", vec![("FunctionName", d(f)?)])
        }
        ("PUT", ["2015-03-31", "functions", f, "code"]) => {
            ("UpdateFunctionCode", vec![("FunctionName", d(f)?)])
        }
        ("POST", ["2015-03-31", "functions", f, "invocations"]) => {
            ("Invoke", vec![("FunctionName", d(f)?)])
        }
        ("POST", ["2015-03-31", "functions", f, "versions"]) => {
            ("PublishVersion", vec![("FunctionName", d(f)?)])
        }
        ("GET", ["2015-03-31", "functions", f, "versions"]) => {
            ("ListVersionsByFunction", vec![("FunctionName", d(f)?)])
        }
        ("POST", ["2015-03-31", "functions", f, "aliases"]) => {
            ("CreateAlias", vec![("FunctionName", d(f)?)])
        }
        ("GET", ["2015-03-31", "functions", f, "aliases"]) => {
            ("ListAliases", vec![("FunctionName", d(f)?)])
        }
        (m, ["2015-03-31", "functions", f, "aliases", a]) => {
            let op = match m {
                "GET" => "GetAlias",
                "PUT" => "UpdateAlias",
                "DELETE" => "DeleteAlias",
                _ => return None,
            };
            (op, vec![("FunctionName", d(f)?), ("Name", d(a)?)])
        }
        (m, ["2017-03-31", "tags", arn @ ..]) if !arn.is_empty() => {
            let op = match m {
                "POST" => "TagResource",
                "DELETE" => "UntagResource",
                "GET" => "ListTags",
                _ => return None,
            };
            // An unencoded ARN has no slashes; an encoded one is one segment.
            (op, vec![("Resource", d(&arn.join("/"))?)])
        }
        ("PUT", ["2017-10-31", "functions", f, "concurrency"]) => {
            ("PutFunctionConcurrency", vec![("FunctionName", d(f)?)])
        }
        ("DELETE", ["2017-10-31", "functions", f, "concurrency"]) => {
            ("DeleteFunctionConcurrency", vec![("FunctionName", d(f)?)])
        }
        ("GET", ["2019-09-30", "functions", f, "concurrency"]) => {
            ("GetFunctionConcurrency", vec![("FunctionName", d(f)?)])
        }
        ("GET", ["2016-08-19", "account-settings"]) => ("GetAccountSettings", vec![]),
        ("POST", ["2015-03-31", "event-source-mappings"]) => ("CreateEventSourceMapping", vec![]),
        ("GET", ["2015-03-31", "event-source-mappings"]) => ("ListEventSourceMappings", vec![]),
        (m, ["2015-03-31", "event-source-mappings", id]) => {
            let op = match m {
                "GET" => "GetEventSourceMapping",
                "PUT" => "UpdateEventSourceMapping",
                "DELETE" => "DeleteEventSourceMapping",
                _ => return None,
            };
            (op, vec![("UUID", d(id)?)])
        }
        _ => return None,
    };
    Some((op, params))
}

/// Query members: `(query name, input member, is a list, is an integer)`.
const QUERY_MEMBERS: &[(&str, &str, bool, bool)] = &[
    ("Qualifier", "Qualifier", false, false),
    ("Marker", "Marker", false, false),
    ("MaxItems", "MaxItems", false, true),
    ("FunctionVersion", "FunctionVersion", false, false),
    ("MasterRegion", "MasterRegion", false, false),
    ("tagKeys", "TagKeys", true, false),
    ("EventSourceArn", "EventSourceArn", false, false),
    ("FunctionName", "FunctionName", false, false),
];

/// Invoke's header members.
const INVOKE_HEADERS: &[(&str, &str)] = &[
    ("x-amz-invocation-type", "InvocationType"),
    ("x-amz-log-type", "LogType"),
    ("x-amz-client-context", "ClientContext"),
];

/// Binds the request's path, query, header and body members into one input value.
fn bind_input(
    op: &str,
    params: Vec<(&'static str, String)>,
    req: &ApiRequest,
) -> Result<Value, Error> {
    let mut input: Map<String, Value> = if op == "Invoke" {
        let mut m = Map::new();
        m.insert("Payload".into(), json!(STANDARD.encode(&req.body)));
        for (header, member) in INVOKE_HEADERS {
            if let Some(v) = req.header(header) {
                m.insert((*member).into(), json!(v));
            }
        }
        m
    } else if req.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::InvalidRequestContent(
                    "Could not parse request body into json: expected an object".into(),
                ));
            }
            Err(e) => {
                return Err(Error::InvalidRequestContent(format!(
                    "Could not parse request body into json: {e}"
                )));
            }
        }
    };
    if let Some(q) = &req.query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            let Some((_, member, list, integer)) =
                QUERY_MEMBERS.iter().find(|(name, ..)| *name == k)
            else {
                continue;
            };
            let value = if *integer {
                match v.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) => {
                        return Err(Error::InvalidRequestContent(format!(
                            "Could not parse request: {k} must be an integer"
                        )));
                    }
                }
            } else {
                json!(v)
            };
            if *list {
                let entry = input
                    .entry((*member).to_owned())
                    .or_insert_with(|| json!([]));
                if let Value::Array(a) = entry {
                    a.push(value);
                }
            } else {
                input.insert((*member).into(), value);
            }
        }
    }
    for (member, value) in params {
        input.insert(member.into(), json!(value));
    }
    Ok(Value::Object(input))
}

/// The success status of each operation (the model's `responseCode`; DeleteFunction answers
/// 204 as AWS does on the wire).
fn status_of(op: &str) -> u16 {
    match op {
        "CreateFunction" | "PublishVersion" | "CreateAlias" => 201,
        "CreateEventSourceMapping" | "UpdateEventSourceMapping" | "DeleteEventSourceMapping" => 202,
        "DeleteFunction"
        | "DeleteAlias"
        | "TagResource"
        | "UntagResource"
        | "DeleteFunctionConcurrency" => 204,
        _ => 200,
    }
}

/// Binds an operation's output value to the HTTP response.
fn bind_output(op: &str, out: Value) -> Response {
    if op == "Invoke" {
        let status = out["StatusCode"].as_u64().unwrap_or(200) as u16;
        let payload = out["Payload"]
            .as_str()
            .and_then(|p| STANDARD.decode(p).ok())
            .unwrap_or_default();
        let mut r = Response::ok(Protocol::RestJson, Bytes::from(payload));
        r.status = status;
        for (member, header) in [
            ("FunctionError", "x-amz-function-error"),
            ("LogResult", "x-amz-log-result"),
            ("ExecutedVersion", "x-amz-executed-version"),
        ] {
            if let Some(v) = out[member].as_str() {
                r.headers.push((header, v.to_owned()));
            }
        }
        return r;
    }
    let status = status_of(op);
    let body = if status == 204 {
        Bytes::new()
    } else {
        Bytes::from(serde_json::to_vec(&out).unwrap_or_default())
    };
    let mut r = Response::ok(Protocol::RestJson, body);
    r.status = status;
    r
}

/// The wire code and status of each error. No catch-all: a new variant must be mapped here.
pub fn code_of(e: &Error) -> (&'static str, u16) {
    match e {
        Error::FunctionNotFound { .. } | Error::AliasNotFound { .. } => {
            ("ResourceNotFoundException", 404)
        }
        Error::FunctionExists { .. }
        | Error::AliasExists { .. }
        | Error::UpdateInProgress { .. }
        | Error::NotActive { .. }
        | Error::Conflict(_) => ("ResourceConflictException", 409),
        Error::InvalidParameter(_) => ("InvalidParameterValueException", 400),
        Error::InvalidRequestContent(_) => ("InvalidRequestContentException", 400),
        Error::Validation(_) => ("ValidationException", 400),
        Error::EntityTooLarge(_) => ("RequestEntityTooLargeException", 413),
        Error::PayloadTooLarge(_) => ("RequestTooLargeException", 413),
        Error::PreconditionFailed(_) => ("PreconditionFailedException", 412),
        Error::Throttled { .. } => ("TooManyRequestsException", 429),
        Error::Unsupported(_) => ("UnknownOperationException", 404),
        Error::Mapping(m) => (m.code(), m.status()),
        Error::Storage(_) | Error::Service(_) => ("ServiceException", 500),
    }
}

/// The REST-JSON error response for `e`: `X-Amzn-ErrorType`, and a body with `Type` and the
/// message under the member name the model gives that error (`Message` or `message`).
pub fn error_response(e: &Error) -> Response {
    let (code, status) = code_of(e);
    if status >= 500 {
        tracing::error!(error = %e, "Lambda request failed inside the server.");
    }
    let member = match code {
        "ResourceNotFoundException" | "ServiceException" => "Message",
        _ => "message",
    };
    let mut body = Map::new();
    body.insert(
        "Type".into(),
        json!(if status >= 500 { "Service" } else { "User" }),
    );
    body.insert(member.into(), json!(e.to_string()));
    let mut r = Response::ok(
        Protocol::RestJson,
        Bytes::from(serde_json::to_vec(&Value::Object(body.clone())).unwrap_or_default()),
    );
    if let Error::Throttled { reason } = e {
        body.insert("Reason".into(), json!(reason));
        body.insert("retryAfterSeconds".into(), json!("1"));
        r.body = Bytes::from(serde_json::to_vec(&Value::Object(body)).unwrap_or_default());
        r.headers.push(("retry-after", "1".into()));
    }
    r.status = status;
    r.error_code = Some(code);
    r.content_type = Cow::Borrowed("application/json");
    r
}

/// Percent-decodes a path segment; `None` when it is not valid UTF-8 afterwards.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn paths_name_their_operations() {
        let (op, p) = route(
            &Method::POST,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
        )
        .expect("routes");
        assert_eq!(op, "Invoke");
        assert_eq!(p[0].1, "arn:aws:lambda:us-east-1:000000000000:function:f");
        assert_eq!(
            route(&Method::GET, "/2015-03-31/functions/").map(|r| r.0),
            Some("ListFunctions")
        );
        assert_eq!(
            route(&Method::DELETE, "/2015-03-31/functions/f/aliases/live").map(|r| r.0),
            Some("DeleteAlias")
        );
        assert_eq!(
            route(&Method::GET, "/2019-09-30/functions/f/concurrency").map(|r| r.0),
            Some("GetFunctionConcurrency")
        );
        assert!(route(&Method::PATCH, "/2015-03-31/functions/f").is_none());
    }

    #[test]
    fn errors_carry_the_aws_code_status_and_member() {
        let r = error_response(&Error::FunctionNotFound {
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        });
        assert_eq!(
            (r.status, r.error_code),
            (404, Some("ResourceNotFoundException"))
        );
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            r#"{"Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:f","Type":"User"}"#
        );
        let r = error_response(&Error::FunctionExists { name: "f".into() });
        assert_eq!(
            (r.status, r.error_code),
            (409, Some("ResourceConflictException"))
        );
        let r = error_response(&Error::Throttled {
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded".into(),
        });
        assert_eq!(r.status, 429);
        assert!(
            String::from_utf8_lossy(&r.body)
                .contains("\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\"")
        );
    }

    proptest! {
        #[test]
        fn routing_and_decoding_never_panic(path in "/[a-z0-9%/:-]{0,60}") {
            for m in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
                let _ = route(&m, &path);
            }
        }

        #[test]
        fn percent_decoding_inverts_encoding(s in "[a-zA-Z0-9:$._-]{0,40}") {
            let enc: String = s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            prop_assert_eq!(percent_decode(&enc), Some(s));
        }
    }
}
