// SPDX-License-Identifier: Apache-2.0
//! Invoke. Input members: `FunctionName`, `Qualifier`, `InvocationType`, `LogType`,
//! `ClientContext` (base64, as the header carries it) and `Payload` (base64, the body).
//! Output: `StatusCode`, `FunctionError`, `LogResult` (base64 of the log tail),
//! `ExecutedVersion` and `Payload` (base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::functions::invoke::{MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD};
use crate::functions::names::LATEST;
use crate::functions::{Error, Functions, InvocationType, InvokeOutcome, InvokeRequest};
use crate::ops::names::check_name;
use crate::ops::{decode, finish};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Input {
    function_name: Option<String>,
    qualifier: Option<String>,
    invocation_type: Option<String>,
    log_type: Option<String>,
    client_context: Option<String>,
    payload: Option<String>,
}

pub(crate) async fn call(f: &Functions, input: Value) -> Result<Value, Error> {
    let i: Input = decode(input)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, true);
    v.one_of(
        "invocationType",
        i.invocation_type.as_deref(),
        &["Event", "RequestResponse", "DryRun"],
    );
    v.one_of("logType", i.log_type.as_deref(), &["None", "Tail"]);
    finish(v)?;
    let invocation_type = match i.invocation_type.as_deref() {
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        _ => InvocationType::RequestResponse,
    };
    let client_context = match i.client_context {
        Some(c) => Some(
            STANDARD
                .decode(c.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    Error::InvalidRequestContent(
                        "Client context must be a valid Base64-encoded JSON object.".into(),
                    )
                })?,
        ),
        None => None,
    };
    let payload = match i.payload {
        Some(p) => STANDARD.decode(p.as_bytes()).map_err(|_| {
            Error::InvalidRequestContent("Could not parse request body into json".into())
        })?,
        None => Vec::new(),
    };
    // Lambda refuses a payload that is not JSON, once it is within the size limit (a larger
    // one gets RequestTooLargeException from the function layer).
    let limit = match invocation_type {
        InvocationType::Event => MAX_ASYNC_PAYLOAD,
        InvocationType::RequestResponse | InvocationType::DryRun => MAX_SYNC_PAYLOAD,
    };
    if payload.len() <= limit {
        check_json_payload(&payload)?;
    }
    let unqualified = i.qualifier.is_none();
    let req = InvokeRequest {
        function: i.function_name.unwrap_or_default(),
        qualifier: i.qualifier,
        invocation_type,
        tail_log: i.log_type.as_deref() == Some("Tail"),
        client_context,
        payload: Bytes::from(payload),
    };
    let outcome = f.invoke(req).await.map_err(|e| match e {
        // Lambda names the version an unqualified Invoke of a missing function would run.
        Error::FunctionNotFound { arn } if unqualified && arn.matches(':').count() == 6 => {
            Error::FunctionNotFound {
                arn: format!("{arn}:{LATEST}"),
            }
        }
        e => e,
    })?;
    Ok(match outcome {
        InvokeOutcome::Ran(r) => {
            let mut out = json!({
                "StatusCode": 200,
                "ExecutedVersion": r.executed_version,
                "Payload": STANDARD.encode(&r.payload),
            });
            if let Some(e) = r.function_error {
                out["FunctionError"] = json!(e.as_str());
            }
            if let Some(tail) = r.log_tail {
                out["LogResult"] = json!(STANDARD.encode(tail_4k(&tail)));
            }
            out
        }
        InvokeOutcome::Queued(version) => json!({ "StatusCode": 202, "ExecutedVersion": version }),
        InvokeOutcome::DryRun(version) => json!({ "StatusCode": 204, "ExecutedVersion": version }),
    })
}

/// An empty payload, or one that parses as JSON; otherwise Lambda's
/// InvalidRequestContentException. Lambda's text ends with its JSON parser's (Jackson's)
/// description of the fault; Freshet gives serde_json's.
fn check_json_payload(payload: &[u8]) -> Result<(), Error> {
    if payload.is_empty() {
        return Ok(());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))),
    }
}

/// The last 4 KB of a log, cut at a character boundary.
fn tail_4k(log: &str) -> &str {
    let mut start = log.len().saturating_sub(4096);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn payloads_that_are_not_json_are_invalid_request_content() {
        assert!(check_json_payload(b"").is_ok());
        assert!(check_json_payload(br#"{"k": [1, "v"]}"#).is_ok());
        assert!(check_json_payload(b"  42 ").is_ok());
        for bad in [&b"n\x87r"[..], b"{", b"not json", b"{} {}"] {
            let e = check_json_payload(bad).expect_err("not json");
            assert!(
                matches!(&e, Error::InvalidRequestContent(m) if m.starts_with(
                    "Could not parse request body into json: Could not parse payload into json: "
                )),
                "{e:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic_the_json_check(
            bytes in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let ok = check_json_payload(&bytes).is_ok();
            prop_assert_eq!(
                ok,
                bytes.is_empty() || serde_json::from_slice::<Value>(&bytes).is_ok()
            );
        }

        #[test]
        fn the_tail_is_at_most_4k_and_a_suffix(log in ".{0,3000}") {
            let t = tail_4k(&log);
            prop_assert!(t.len() <= 4096);
            prop_assert!(log.ends_with(t));
        }
    }
}
