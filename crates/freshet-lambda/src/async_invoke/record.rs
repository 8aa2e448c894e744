// SPDX-License-Identifier: Apache-2.0
//! The invocation record an asynchronous invocation's destination receives, in AWS's shape
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>):
//!
//! ```json
//! {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
//!  "requestContext": {"requestId": "...", "functionArn": "arn:...:function:f:$LATEST",
//!                     "condition": "RetriesExhausted", "approximateInvokeCount": 3},
//!  "requestPayload": {...},
//!  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//!  "responsePayload": {...}}
//! ```
//!
//! Payloads appear as the JSON they hold, or as a string when they are not JSON. The response
//! members are left out when the function never ran (throttled until the event expired).

use serde_json::{Value, json};

use crate::async_invoke::codec::LastResponse;
use crate::esm::event::iso_millis;

/// What the record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordCondition {
    /// The function succeeded (OnSuccess).
    Success,
    /// Out of retries (OnFailure).
    RetriesExhausted,
    /// Too old (OnFailure).
    EventAgeExceeded,
}

impl RecordCondition {
    /// The `condition` value.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordCondition::Success => "Success",
            RecordCondition::RetriesExhausted => "RetriesExhausted",
            RecordCondition::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// Everything a record shows.
#[derive(Debug, Clone, Copy)]
pub struct RecordInput<'a> {
    /// The invocation's request id.
    pub request_id: &'a str,
    /// The function ARN, qualified with the version or alias invoked (`$LATEST` when none).
    pub function_arn: &'a str,
    /// Why the record is sent.
    pub condition: RecordCondition,
    /// How many times the event was attempted.
    pub invoke_count: u32,
    /// The event.
    pub request_payload: &'a [u8],
    /// The function's last answer, if it ran.
    pub response: Option<&'a LastResponse>,
    /// When the record is written, ms.
    pub now_ms: i64,
}

/// A payload as the record shows it: its JSON, or the text when it is not JSON.
fn payload_value(bytes: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// The invocation record document.
pub fn invocation_record(r: &RecordInput<'_>) -> Value {
    let mut doc = json!({
        "version": "1.0",
        "timestamp": iso_millis(r.now_ms),
        "requestContext": {
            "requestId": r.request_id,
            "functionArn": r.function_arn,
            "condition": r.condition.as_str(),
            "approximateInvokeCount": r.invoke_count,
        },
        "requestPayload": payload_value(r.request_payload),
    });
    if let Some(resp) = r.response {
        let mut rc = json!({
            "statusCode": resp.status,
            "executedVersion": resp.executed_version,
        });
        if let Some(e) = resp.function_error {
            rc["functionError"] = json!(e.as_str());
        }
        doc["responseContext"] = rc;
        doc["responsePayload"] = payload_value(&resp.payload);
    }
    doc
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::spec::FunctionError;

    /// The example of the developer guide: three attempts, each a function error.
    #[test]
    fn the_failure_record_is_the_documented_example() {
        let resp = LastResponse {
            status: 200,
            executed_version: "$LATEST".into(),
            function_error: Some(FunctionError::Unhandled),
            payload: Bytes::from_static(
                br#"{"errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"}"#,
            ),
        };
        let doc = invocation_record(&RecordInput {
            request_id: "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
            condition: RecordCondition::RetriesExhausted,
            invoke_count: 3,
            request_payload: br#"{"ORDER_IDS": ["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]}"#,
            response: Some(&resp),
            now_ms: 1_573_755_365_568,
        });
        assert_eq!(
            doc,
            json!({
                "version": "1.0",
                "timestamp": "2019-11-14T18:16:05.568Z",
                "requestContext": {
                    "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                    "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": 3
                },
                "requestPayload": {"ORDER_IDS": ["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]},
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled"
                },
                "responsePayload": {
                    "errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
                }
            })
        );
    }

    #[test]
    fn a_success_record_has_no_function_error_and_text_payloads_stay_text() {
        let resp = LastResponse {
            status: 200,
            executed_version: "3".into(),
            function_error: None,
            payload: Bytes::from_static(b"null"),
        };
        let doc = invocation_record(&RecordInput {
            request_id: "r",
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:live",
            condition: RecordCondition::Success,
            invoke_count: 1,
            request_payload: b"not json",
            response: Some(&resp),
            now_ms: 0,
        });
        assert_eq!(doc["requestContext"]["condition"], "Success");
        assert_eq!(doc["requestPayload"], "not json");
        assert_eq!(doc["responsePayload"], Value::Null);
        assert!(doc["responseContext"].get("functionError").is_none());
        assert_eq!(doc["responseContext"]["executedVersion"], "3");
    }

    #[test]
    fn an_event_that_never_ran_has_no_response_members() {
        let doc = invocation_record(&RecordInput {
            request_id: "r",
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            condition: RecordCondition::EventAgeExceeded,
            invoke_count: 12,
            request_payload: b"{}",
            response: None,
            now_ms: 0,
        });
        assert_eq!(doc["requestContext"]["condition"], "EventAgeExceeded");
        assert!(doc.get("responseContext").is_none());
        assert!(doc.get("responsePayload").is_none());
    }

    proptest! {
        #[test]
        fn any_payload_makes_a_record(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let doc = invocation_record(&RecordInput {
                request_id: "r",
                function_arn: "a",
                condition: RecordCondition::Success,
                invoke_count: 1,
                request_payload: &bytes,
                response: None,
                now_ms: 0,
            });
            prop_assert!(doc.get("requestPayload").is_some());
        }
    }
}
