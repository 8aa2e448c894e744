// SPDX-License-Identifier: Apache-2.0
//! The HTTP endpoint destination protocol: configuration, request, response rules and
//! back-off. The I/O lives in [`client`].
//!
//! Source: [HTTP endpoint delivery request and response specifications](https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html),
//! [handle data delivery failures](https://docs.aws.amazon.com/firehose/latest/dev/retry.html)
//! and the botocore model (`HttpEndpoint*` shapes).
//!
//! * Request: `POST <Url>` with `X-Amz-Firehose-Protocol-Version: 1.0`,
//!   `X-Amz-Firehose-Request-Id` (the same across retries of one batch),
//!   `X-Amz-Firehose-Source-Arn`, `X-Amz-Firehose-Access-Key` (when configured),
//!   `X-Amz-Firehose-Common-Attributes: {"commonAttributes":{...}}` (when configured),
//!   `Content-Type: application/json`, `Content-Encoding: gzip` (GZIP only). Body
//!   `{"requestId","timestamp" (epoch ms),"records":[{"data": base64}]}`, 1–10,000 records.
//! * Response: only 200 succeeds. 413 is permanent (not retried, not backed up by AWS's
//!   rule). Every other status, a timeout (3 min), a body over 1 MiB, a connection error and
//!   a malformed 200 (not JSON, or a `requestId` that differs) are retried; a malformed
//!   response counts as a 500. Redirects are not followed.
//! * Back-off: 1 s, doubling, ±15 % jitter, capped at 120 s, while the time spent waiting
//!   between attempts stays within `RetryOptions.DurationInSeconds` (the clock excludes time
//!   spent waiting for responses).
//! * **Deliberate difference:** AWS accepts only `https://` URLs (model pattern
//!   `https://.*`). Freshet also accepts `http://` so users can test against localhost.

pub mod client;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub use client::{HttpDeliveryError, HttpEndpointClient};

/// Most records per request.
pub const MAX_RECORDS_PER_REQUEST: usize = 10_000;
/// Largest response body read.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// How long a response may take.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(180);
/// First back-off.
pub const BACKOFF_START: Duration = Duration::from_secs(1);
/// Largest back-off.
pub const BACKOFF_CAP: Duration = Duration::from_secs(120);
/// Jitter around each back-off (fraction).
pub const BACKOFF_JITTER: f64 = 0.15;

/// Wire shape of `HttpEndpointConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointConfiguration {
    /// `Url`.
    pub url: String,
    /// `Name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `AccessKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

/// Wire shape of `HttpEndpointBufferingHints`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointBufferingHints {
    /// `SizeInMBs` 1–64 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_in_m_bs: Option<i64>,
    /// `IntervalInSeconds` 0–900 (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_in_seconds: Option<i64>,
}

/// Wire shape of `HttpEndpointCommonAttribute`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointCommonAttribute {
    /// `AttributeName` 1–256.
    pub attribute_name: String,
    /// `AttributeValue` 0–1024.
    pub attribute_value: String,
}

/// Wire shape of `HttpEndpointRequestConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointRequestConfiguration {
    /// `ContentEncoding` NONE | GZIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `CommonAttributes`, at most 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_attributes: Option<Vec<HttpEndpointCommonAttribute>>,
}

/// Wire shape of `HttpEndpointRetryOptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointRetryOptions {
    /// `DurationInSeconds` 0–7200 (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
}

/// A validated HTTP endpoint destination (the parts this module owns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEndpoint {
    /// Where to POST.
    pub url: String,
    /// `Name`, for descriptions.
    pub name: Option<String>,
    /// Sent verbatim in `X-Amz-Firehose-Access-Key`.
    pub access_key: Option<String>,
    /// Gzip the body.
    pub gzip: bool,
    /// `CommonAttributes`, by name.
    pub common_attributes: BTreeMap<String, String>,
    /// Buffer size in bytes (MB × 1,048,576).
    pub buffer_size_bytes: u64,
    /// Buffer interval.
    pub buffer_interval_secs: u32,
    /// `RetryOptions.DurationInSeconds`.
    pub retry_duration_secs: u32,
    /// The delivery stream's ARN, sent in `X-Amz-Firehose-Source-Arn` (set by the caller).
    pub source_arn: String,
}

fn range(name: &str, v: Option<i64>, lo: i64, hi: i64, default: i64) -> Result<i64, String> {
    match v {
        None => Ok(default),
        Some(v) if (lo..=hi).contains(&v) => Ok(v),
        Some(v) => Err(format!(
            "{name} {v} is out of range; valid values are {lo} to {hi}."
        )),
    }
}

/// Validates the HTTP parts of `HttpEndpointDestinationConfiguration`; `Err` is the
/// InvalidArgumentException message.
pub fn validate(
    endpoint: &HttpEndpointConfiguration,
    buffering: Option<&HttpEndpointBufferingHints>,
    request: Option<&HttpEndpointRequestConfiguration>,
    retry: Option<&HttpEndpointRetryOptions>,
    source_arn: &str,
) -> Result<HttpEndpoint, String> {
    let url = endpoint.url.as_str();
    if url.is_empty() || url.chars().count() > 1000 {
        return Err("Url must be 1 to 1000 characters long.".to_owned());
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("Url {url} is not a valid URL."))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https" | "http"), Some(host)) if !host.is_empty() => {}
        _ => {
            return Err(format!(
                "Url {url} must be an https:// (or, in Freshet, http://) URL."
            ));
        }
    }
    if let Some(name) = &endpoint.name
        && (name.trim().is_empty() || name.chars().count() > 256)
    {
        return Err("Name must be 1 to 256 characters long and not blank.".to_owned());
    }
    if let Some(key) = &endpoint.access_key
        && key.len() > 4096
    {
        return Err("AccessKey must be at most 4096 characters long.".to_owned());
    }
    let b = buffering.cloned().unwrap_or_default();
    let size = range("BufferingHints.SizeInMBs", b.size_in_m_bs, 1, 64, 5)?;
    let interval = range(
        "BufferingHints.IntervalInSeconds",
        b.interval_in_seconds,
        0,
        900,
        300,
    )?;
    let retry_secs = range(
        "RetryOptions.DurationInSeconds",
        retry.and_then(|r| r.duration_in_seconds),
        0,
        7200,
        300,
    )?;
    let req = request.cloned().unwrap_or_default();
    let gzip = match req.content_encoding.as_deref() {
        None | Some("NONE") => false,
        Some("GZIP") => true,
        Some(other) => {
            return Err(format!(
                "ContentEncoding {other} is not supported; valid values are NONE and GZIP."
            ));
        }
    };
    let attrs = req.common_attributes.unwrap_or_default();
    if attrs.len() > 50 {
        return Err("CommonAttributes may hold at most 50 attributes.".to_owned());
    }
    let mut common_attributes = BTreeMap::new();
    for a in attrs {
        let n = a.attribute_name.chars().count();
        if n == 0 || n > 256 || a.attribute_name.trim().is_empty() {
            return Err("AttributeName must be 1 to 256 characters long and not blank.".to_owned());
        }
        if a.attribute_value.chars().count() > 1024 {
            return Err("AttributeValue must be at most 1024 characters long.".to_owned());
        }
        if common_attributes
            .insert(a.attribute_name.clone(), a.attribute_value)
            .is_some()
        {
            return Err(format!(
                "CommonAttributes contains {} more than once.",
                a.attribute_name
            ));
        }
    }
    Ok(HttpEndpoint {
        url: url.to_owned(),
        name: endpoint.name.clone(),
        access_key: endpoint.access_key.clone(),
        gzip,
        common_attributes,
        buffer_size_bytes: u64::try_from(size).unwrap_or(5) * 1024 * 1024,
        buffer_interval_secs: u32::try_from(interval).unwrap_or(300),
        retry_duration_secs: u32::try_from(retry_secs).unwrap_or(300),
        source_arn: source_arn.to_owned(),
    })
}

/// A request ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Headers, names as AWS writes them.
    pub headers: Vec<(&'static str, String)>,
    /// The body (gzipped when configured).
    pub body: Bytes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireBody<'a> {
    request_id: &'a str,
    timestamp: i64,
    records: Vec<WireRecord>,
}

#[derive(Serialize)]
struct WireRecord {
    data: String,
}

/// Builds the request for `records` (the caller keeps batches within 1–10,000 records and
/// the buffer size).
pub fn build_request(
    cfg: &HttpEndpoint,
    records: &[Bytes],
    request_id: &str,
    now_ms: i64,
) -> std::io::Result<HttpRequest> {
    let body = WireBody {
        request_id,
        timestamp: now_ms,
        records: records
            .iter()
            .map(|r| WireRecord {
                data: B64.encode(r),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&body).map_err(std::io::Error::other)?;
    let mut headers = vec![
        ("X-Amz-Firehose-Protocol-Version", "1.0".to_owned()),
        ("X-Amz-Firehose-Request-Id", request_id.to_owned()),
        ("X-Amz-Firehose-Source-Arn", cfg.source_arn.clone()),
        ("Content-Type", "application/json".to_owned()),
        (
            "User-Agent",
            "Amazon Kinesis Data Firehose Agent/1.0".to_owned(),
        ),
    ];
    if let Some(key) = &cfg.access_key {
        headers.push(("X-Amz-Firehose-Access-Key", key.clone()));
    }
    if !cfg.common_attributes.is_empty() {
        let attrs = serde_json::json!({ "commonAttributes": cfg.common_attributes });
        headers.push(("X-Amz-Firehose-Common-Attributes", attrs.to_string()));
    }
    let body = if cfg.gzip {
        headers.push(("Content-Encoding", "gzip".to_owned()));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&json)?;
        Bytes::from(enc.finish()?)
    } else {
        Bytes::from(json)
    };
    Ok(HttpRequest { headers, body })
}

/// What a response means for the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// Delivered.
    Delivered,
    /// Failed; retry while the budget lasts.
    Retry {
        /// Log / error output code.
        code: &'static str,
        /// Details.
        message: String,
    },
    /// Failed for good (413): straight to the error output.
    Permanent {
        /// Log / error output code.
        code: &'static str,
        /// Details.
        message: String,
    },
}

/// Error code: the endpoint answered something other than a valid 200.
pub const DESTINATION_EXCEPTION: &str = "HttpEndpoint.DestinationException";
/// Error code: a 200 whose body breaks the protocol.
pub const INVALID_RESPONSE: &str = "HttpEndpoint.InvalidResponseFromDestination";
/// Error code: the response body was over 1 MiB.
pub const RESPONSE_TOO_LARGE: &str = "HttpEndpoint.ResponseTooLarge";
/// Error code: no response within the timeout.
pub const REQUEST_TIMEOUT: &str = "HttpEndpoint.RequestTimeout";
/// Error code: the connection could not be made.
pub const CONNECTION_FAILED: &str = "HttpEndpoint.ConnectionFailed";
/// Error code: the connection broke mid-request.
pub const CONNECTION_RESET: &str = "HttpEndpoint.ConnectionReset";

fn truncated(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(1024).collect()
}

/// Classifies a complete response (status and body).
pub fn classify_response(status: u16, body: &[u8], request_id: &str) -> ResponseOutcome {
    let received = || {
        format!(
            "The following response was received from the endpoint destination. {status}: {}",
            truncated(body)
        )
    };
    match status {
        200 => {}
        413 => {
            return ResponseOutcome::Permanent {
                code: DESTINATION_EXCEPTION,
                message: received(),
            };
        }
        _ => {
            return ResponseOutcome::Retry {
                code: DESTINATION_EXCEPTION,
                message: received(),
            };
        }
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WireResponse {
        request_id: Option<String>,
    }
    match serde_json::from_slice::<WireResponse>(body) {
        Ok(WireResponse {
            request_id: Some(id),
        }) if id == request_id => ResponseOutcome::Delivered,
        Ok(WireResponse {
            request_id: Some(id),
        }) => ResponseOutcome::Retry {
            code: INVALID_RESPONSE,
            message: format!(
                "The response's requestId {id} does not match the request's {request_id}."
            ),
        },
        _ => ResponseOutcome::Retry {
            code: INVALID_RESPONSE,
            message: format!(
                "The endpoint's response is not valid: a JSON object with the requestId is \
                 required. 200: {}",
                truncated(body)
            ),
        },
    }
}

/// The retry budget of one batch (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    budget: Duration,
    waited: Duration,
    attempts: u32,
}

impl Retry {
    /// A budget of `RetryOptions.DurationInSeconds`.
    pub fn new(duration_secs: u32) -> Retry {
        Retry {
            budget: Duration::from_secs(u64::from(duration_secs)),
            waited: Duration::ZERO,
            attempts: 0,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Records a failed attempt; returns how long to wait before the next one, or `None`
    /// when the budget is spent. `jitter` in `[-1, 1]` scales the ±15 %.
    pub fn on_failure(&mut self, jitter: f64) -> Option<Duration> {
        let retry_index = self.attempts;
        self.attempts = self.attempts.saturating_add(1);
        let remaining = self.budget.saturating_sub(self.waited);
        if remaining.is_zero() {
            return None;
        }
        let delay = backoff(retry_index, jitter).min(remaining);
        self.waited += delay;
        Some(delay)
    }
}

/// A uniformly random jitter in `[-1, 1]` for [`Retry::on_failure`].
pub fn random_jitter() -> f64 {
    rand::random_range(-1.0..=1.0)
}

/// The back-off before retry number `retry_index` (0-based): 1 s × 2^i, capped at 120 s,
/// scaled by `1 + 0.15 × jitter` (`jitter` clamped to `[-1, 1]`).
pub fn backoff(retry_index: u32, jitter: f64) -> Duration {
    let base = BACKOFF_START
        .saturating_mul(1u32.checked_shl(retry_index.min(31)).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    let j = if jitter.is_finite() {
        jitter.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    base.mul_f64(1.0 + BACKOFF_JITTER * j)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    fn cfg(gzip: bool) -> HttpEndpoint {
        validate(
            &HttpEndpointConfiguration {
                url: "https://example.com/ingest".into(),
                name: Some("n".into()),
                access_key: Some("secret".into()),
            },
            None,
            Some(&HttpEndpointRequestConfiguration {
                content_encoding: Some(if gzip { "GZIP" } else { "NONE" }.into()),
                common_attributes: Some(vec![HttpEndpointCommonAttribute {
                    attribute_name: "env".into(),
                    attribute_value: "test".into(),
                }]),
            }),
            None,
            "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
        )
        .unwrap()
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn defaults_and_ranges_follow_the_model() {
        let c = cfg(false);
        assert_eq!(c.buffer_size_bytes, 5 << 20);
        assert_eq!(c.buffer_interval_secs, 300);
        assert_eq!(c.retry_duration_secs, 300);
        let ep = HttpEndpointConfiguration {
            url: "http://127.0.0.1:9/x".into(),
            ..Default::default()
        };
        assert!(validate(&ep, None, None, None, "a").is_ok());
        let bad_buffer = HttpEndpointBufferingHints {
            size_in_m_bs: Some(65),
            interval_in_seconds: None,
        };
        assert!(validate(&ep, Some(&bad_buffer), None, None, "a").is_err());
        let bad_retry = HttpEndpointRetryOptions {
            duration_in_seconds: Some(7201),
        };
        assert!(validate(&ep, None, None, Some(&bad_retry), "a").is_err());
        for url in ["ftp://x", "example.com", "", "https://"] {
            let ep = HttpEndpointConfiguration {
                url: url.into(),
                ..Default::default()
            };
            assert!(validate(&ep, None, None, None, "a").is_err(), "{url}");
        }
        let enc = HttpEndpointRequestConfiguration {
            content_encoding: Some("BR".into()),
            common_attributes: None,
        };
        assert!(validate(&ep, None, Some(&enc), None, "a").is_err());
    }

    #[test]
    fn the_request_carries_aws_headers_and_body() {
        let r = build_request(
            &cfg(false),
            &[Bytes::from_static(b"hi"), Bytes::new()],
            "rid",
            1234,
        )
        .unwrap();
        assert_eq!(header(&r, "X-Amz-Firehose-Protocol-Version"), Some("1.0"));
        assert_eq!(header(&r, "X-Amz-Firehose-Request-Id"), Some("rid"));
        assert_eq!(header(&r, "X-Amz-Firehose-Access-Key"), Some("secret"));
        assert_eq!(
            header(&r, "X-Amz-Firehose-Common-Attributes"),
            Some(r#"{"commonAttributes":{"env":"test"}}"#)
        );
        assert_eq!(header(&r, "Content-Type"), Some("application/json"));
        assert_eq!(header(&r, "Content-Encoding"), None);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"requestId":"rid","timestamp":1234,"records":[{"data":"aGk="},{"data":""}]})
        );
    }

    #[test]
    fn gzip_bodies_are_marked_and_decompress_to_the_json() {
        let r = build_request(&cfg(true), &[Bytes::from_static(b"hi")], "rid", 1).unwrap();
        assert_eq!(header(&r, "Content-Encoding"), Some("gzip"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.starts_with(r#"{"requestId":"rid""#), "{text}");
    }

    #[test]
    fn responses_are_classified_as_aws_does() {
        assert_eq!(
            classify_response(200, br#"{"requestId":"r","timestamp":1}"#, "r"),
            ResponseOutcome::Delivered
        );
        assert!(matches!(
            classify_response(413, b"", "r"),
            ResponseOutcome::Permanent { .. }
        ));
        for status in [201, 204, 301, 302, 400, 404, 429, 500, 503] {
            assert!(
                matches!(
                    classify_response(status, b"{}", "r"),
                    ResponseOutcome::Retry {
                        code: DESTINATION_EXCEPTION,
                        ..
                    }
                ),
                "{status}"
            );
        }
        for body in [&b"not json"[..], b"{}", br#"{"requestId":"other"}"#, b""] {
            assert!(matches!(
                classify_response(200, body, "r"),
                ResponseOutcome::Retry {
                    code: INVALID_RESPONSE,
                    ..
                }
            ));
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_up_to_the_cap() {
        assert_eq!(backoff(0, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(7, 0.0), Duration::from_secs(120));
        assert_eq!(backoff(40, 0.0), Duration::from_secs(120));
        assert_eq!(backoff(0, 1.0), Duration::from_millis(1150));
        assert_eq!(backoff(0, -1.0), Duration::from_millis(850));
    }

    #[test]
    fn retries_stop_when_the_duration_is_spent() {
        let mut r = Retry::new(10);
        let waits: Vec<Duration> = std::iter::from_fn(|| r.on_failure(0.0)).collect();
        assert_eq!(
            waits,
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4),
                Duration::from_secs(3)
            ]
        );
        assert_eq!(r.attempts(), 5);
        assert_eq!(Retry::new(0).on_failure(0.0), None);
    }

    proptest! {
        #[test]
        fn total_backoff_never_exceeds_the_budget(secs in 0u32..7200, jitters in proptest::collection::vec(-2.0f64..2.0, 1..200)) {
            let mut r = Retry::new(secs);
            let mut total = Duration::ZERO;
            for j in jitters {
                match r.on_failure(j) { Some(d) => total += d, None => break }
            }
            prop_assert!(total <= Duration::from_secs(u64::from(secs)));
        }

        #[test]
        fn request_bodies_round_trip_records(records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..20)) {
            let recs: Vec<Bytes> = records.iter().cloned().map(Bytes::from).collect();
            let r = build_request(&cfg(false), &recs, "id", 5).unwrap();
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            let back: Vec<Vec<u8>> = v["records"].as_array().unwrap().iter()
                .map(|x| B64.decode(x["data"].as_str().unwrap()).unwrap()).collect();
            prop_assert_eq!(back, records);
        }

        #[test]
        fn any_response_classifies_without_panicking(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = classify_response(status, &body, "r");
        }
    }
}
