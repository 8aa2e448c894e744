// SPDX-License-Identifier: Apache-2.0
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::json;

use super::*;

fn lambda() -> RestModel {
    RestModel::parse(LAMBDA_2015_03_31).expect("the embedded Lambda model parses")
}

fn request(method: Method, path: &str, query: Option<&str>, body: &[u8]) -> ApiRequest {
    ApiRequest {
        protocol: crate::Protocol::RestJson,
        operation: String::new(),
        method,
        path: path.to_owned(),
        query: query.map(str::to_owned),
        headers: HeaderMap::new(),
        body: Bytes::copy_from_slice(body),
        params: Vec::new(),
        request_id: "rid".into(),
    }
}

#[test]
fn the_lambda_model_compiles_with_every_operation() {
    let m = lambda();
    assert_eq!(m.operation_names().count(), 85);
    assert_eq!(m.response_code("CreateFunction"), Some(201));
    assert_eq!(m.error_status("TooManyRequestsException"), Some(429));
}

#[test]
fn invoke_binds_labels_query_headers_and_the_raw_payload() {
    let m = lambda();
    let mut req = request(
        Method::POST,
        "/2015-03-31/functions/my%3Afn/invocations",
        Some("Qualifier=%24LATEST"),
        b"{\"k\":1}",
    );
    req.headers
        .insert("x-amz-invocation-type", HeaderValue::from_static("Event"));
    let (op, input) = m.bind(&req).expect("binds");
    assert_eq!(op, "Invoke");
    assert_eq!(
        input,
        json!({"FunctionName": "my:fn", "Qualifier": "$LATEST", "InvocationType": "Event",
               "Payload": "eyJrIjoxfQ=="})
    );
}

#[test]
fn a_missing_required_body_member_is_a_coral_validation_error() {
    let m = lambda();
    let req = request(
        Method::POST,
        "/2015-03-31/functions",
        None,
        b"{\"FunctionName\":\"f\"}",
    );
    let e = m.bind(&req).expect_err("refused");
    assert_eq!(e.code, "ValidationException");
    assert_eq!(
        e.message.as_deref(),
        Some(
            "2 validation errors detected: Value null at 'code' failed to satisfy constraint: \
              Member must not be null; Value null at 'role' failed to satisfy constraint: Member \
              must not be null"
        )
    );
}

#[test]
fn bad_json_and_mistyped_labels_use_the_configured_code() {
    let m = lambda().with_options(RestOptions {
        invalid_content: "InvalidRequestContentException",
        ..RestOptions::default()
    });
    let req = request(Method::POST, "/2015-03-31/functions", None, b"{nope");
    assert_eq!(
        m.bind(&req).expect_err("refused").code,
        "InvalidRequestContentException"
    );
    let req = request(Method::GET, "/2018-10-31/layers/l/versions/x", None, b"");
    let e = m.bind(&req).expect_err("refused");
    assert_eq!(e.code, "InvalidRequestContentException");
    assert!(
        e.message
            .as_deref()
            .is_some_and(|t| t.contains("VersionNumber")),
        "{e:?}"
    );
}

#[test]
fn an_unmatched_path_is_an_unknown_operation_404() {
    let m = lambda();
    let e = m
        .bind(&request(Method::GET, "/2015-03-31/functionz", None, b""))
        .expect_err("refused");
    assert_eq!((e.code, e.status), ("UnknownOperationException", 404));
    let e = m
        .bind(&request(
            Method::PATCH,
            "/2015-03-31/functions/f",
            None,
            b"",
        ))
        .expect_err("refused");
    assert_eq!(e.code, "UnknownOperationException");
}

#[test]
fn literal_query_parts_pick_between_operations_on_one_path() {
    let m = lambda();
    let list = m.resolve(
        "GET",
        "/2019-09-30/functions/f/provisioned-concurrency",
        Some("List=ALL"),
    );
    assert_eq!(list.map(|r| r.0), Some("ListProvisionedConcurrencyConfigs"));
    let get = m.resolve(
        "GET",
        "/2019-09-30/functions/f/provisioned-concurrency",
        Some("Qualifier=1"),
    );
    assert_eq!(get.map(|r| r.0), Some("GetProvisionedConcurrencyConfig"));
    let (_, input) = m
        .bind(&request(
            Method::GET,
            "/2018-10-31/layers",
            Some("find=LayerVersion&Arn=a"),
            b"",
        ))
        .expect("binds");
    assert_eq!(input, json!({"Arn": "a"}));
}

#[test]
fn invoke_responses_put_headers_status_and_raw_payload_on_the_wire() {
    let m = lambda();
    let r = m.respond(
        "Invoke",
        json!({"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
               "Payload": "eyJrIjoxfQ=="}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"{\"k\":1}");
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "x-amz-function-error" && v == "Unhandled")
    );
    let r = m.respond("Invoke", json!({"StatusCode": 202}));
    assert_eq!((r.status, r.body.len()), (202, 0));
}

#[test]
fn outputs_answer_with_the_modeled_status() {
    let m = lambda();
    let r = m.respond("CreateFunction", json!({"FunctionName": "f"}));
    assert_eq!(
        (r.status, &r.body[..]),
        (201, &b"{\"FunctionName\":\"f\"}"[..])
    );
    let r = m.respond("DeleteAlias", serde_json::Value::Null);
    assert_eq!((r.status, r.body.len()), (204, 0));
    let r = m.respond("NoSuchOperation", serde_json::Value::Null);
    assert_eq!(r.status, 500);
}

#[test]
fn errors_carry_the_code_header_type_modeled_members_and_message_spelling() {
    let m = lambda();
    let e = ApiError::new("TooManyRequestsException", 400, "Rate exceeded")
        .with_field(
            "Reason",
            "ReservedFunctionConcurrentInvocationLimitExceeded",
        )
        .with_field("retryAfterSeconds", "1");
    let r = m.error_response(&e);
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code, Some("TooManyRequestsException"));
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "retry-after" && v == "1")
    );
    let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body,
        json!({"Type": "User", "message": "Rate exceeded",
               "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
    );
    let r = m.error_response(&ApiError::new(
        "ResourceNotFoundException",
        404,
        "Function not found",
    ));
    let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body,
        json!({"Type": "User", "Message": "Function not found"})
    );
    let r = m.error_response(&ApiError::new("ServiceException", 500, "boom"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(body["Type"], "Service");
}

#[test]
fn http_dates_round_trip() {
    let text = respond::format_http_date(1_577_836_800);
    assert_eq!(text, "Wed, 01 Jan 2020 00:00:00 GMT");
    assert_eq!(
        respond::parse_http_date(&text).map(|i| i.seconds),
        Some(1_577_836_800)
    );
    assert!(respond::parse_http_date("Wed, 01 Jan 2020 -1:00:00 GMT").is_none());
}
