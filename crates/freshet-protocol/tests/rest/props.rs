// SPDX-License-Identifier: Apache-2.0
//! Binding never panics, whatever the method, path, query, headers and body.

use std::sync::LazyLock;

use bytes::Bytes;
use freshet_protocol::rest::{LAMBDA_2015_03_31, RestModel};
use freshet_protocol::{ApiRequest, Protocol};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use serde_json::json;

static MODEL: LazyLock<RestModel> =
    LazyLock::new(|| RestModel::parse(LAMBDA_2015_03_31).expect("the Lambda model parses"));

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("2015-03-31".to_owned()),
        Just("functions".to_owned()),
        Just("invocations".to_owned()),
        Just("2018-10-31".to_owned()),
        Just("layers".to_owned()),
        Just("versions".to_owned()),
        Just("event-source-mappings".to_owned()),
        "[a-z0-9%$:+~ .-]{0,12}",
        ".{0,6}",
    ];
    prop::collection::vec(segment, 0..7).prop_map(|s| format!("/{}", s.join("/")))
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("x-amz-invocation-type".to_owned()),
        Just("x-amz-log-type".to_owned()),
        Just("x-amz-client-context".to_owned()),
        "x-[a-z-]{1,10}",
    ];
    prop::collection::vec((name, prop::collection::vec(any::<u8>(), 0..16)), 0..4).prop_map(
        |pairs| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_bytes(&v),
                ) {
                    h.append(k, v);
                }
            }
            h
        },
    )
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        Just(b"{}".to_vec()),
        Just(
            json!({"FunctionName": 1, "Code": [], "Role": {"a": null}})
                .to_string()
                .into_bytes()
        ),
        Just(b"[1,2]".to_vec()),
        Just(b"null".to_vec()),
    ]
}

proptest! {
    #[test]
    fn binding_never_panics(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PUT), Just(Method::DELETE), Just(Method::PATCH)],
        path in path(),
        query in prop::option::of("[a-zA-Z=&%0-9$+.-]{0,30}"),
        headers in headers(),
        body in body(),
    ) {
        let req = ApiRequest {
            protocol: Protocol::RestJson,
            operation: String::new(),
            method,
            path,
            query,
            headers,
            body: Bytes::from(body),
            params: Vec::new(),
            request_id: "r".into(),
        };
        match MODEL.bind(&req) {
            Ok((op, input)) => {
                prop_assert!(MODEL.operation_names().any(|n| n == op));
                prop_assert!(input.is_object());
            }
            Err(e) => prop_assert!(e.status == 400 || e.status == 404, "{e:?}"),
        }
    }

    #[test]
    fn responding_never_panics(op in "[A-Za-z]{0,30}", value in prop_oneof![
        Just(json!(null)), Just(json!({"StatusCode": 99999})), Just(json!({"Payload": "***"})),
        Just(json!({"FunctionError": {"x": 1}, "Payload": 3})), Just(json!([1]))]) {
        let r = MODEL.respond(&op, value.clone());
        prop_assert!((100..600).contains(&r.status));
        let r = MODEL.respond("Invoke", value);
        prop_assert!((100..600).contains(&r.status));
    }
}
