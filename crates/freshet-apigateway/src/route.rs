// SPDX-License-Identifier: Apache-2.0
//! Which resource and method a request names, under `/restapis/<api>/<stage>/...`.
//!
//! The API named [`TUTORIAL_API`] has the resources of AWS's Kinesis proxy tutorial; a
//! configured stream-bound API has the two of the `aws-apigateway-kinesisstreams` pattern.
//! Anything else (an unknown API, a missing stage, an undefined resource or method) is
//! [`None`], which API Gateway answers with 403 "Missing Authentication Token". Pure.

use http::Method;

use crate::template::percent_decode;

/// The path prefix every API Gateway API is served under.
pub const PREFIX: &str = "/restapis";

/// The name of the tutorial's API: `/restapis/kinesis/<stage>/streams/...`.
pub const TUTORIAL_API: &str = "kinesis";

/// One integration: the Kinesis action a method calls, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `GET /streams`.
    ListStreams,
    /// `POST /streams/{stream-name}`.
    CreateStream(String),
    /// `GET /streams/{stream-name}`.
    DescribeStream(String),
    /// `DELETE /streams/{stream-name}`.
    DeleteStream(String),
    /// `PUT /streams/{stream-name}/record`.
    PutRecord(String),
    /// `PUT /streams/{stream-name}/records`.
    PutRecords(String),
    /// `GET /streams/{stream-name}/sharditerator?shard-id=...`.
    GetShardIterator(String),
    /// `GET /streams/{stream-name}/records` with `Shard-Iterator`.
    GetRecords(String),
    /// A stream-bound API's `POST /record` (the pattern's method; `PUT` is taken too).
    BoundPutRecord,
    /// A stream-bound API's `POST /records`.
    BoundPutRecords,
}

impl Call {
    /// The Kinesis operation it calls.
    pub fn operation(&self) -> &'static str {
        match self {
            Call::ListStreams => "ListStreams",
            Call::CreateStream(_) => "CreateStream",
            Call::DescribeStream(_) => "DescribeStream",
            Call::DeleteStream(_) => "DeleteStream",
            Call::PutRecord(_) | Call::BoundPutRecord => "PutRecord",
            Call::PutRecords(_) | Call::BoundPutRecords => "PutRecords",
            Call::GetShardIterator(_) => "GetShardIterator",
            Call::GetRecords(_) => "GetRecords",
        }
    }
}

/// A request's API and resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The API's name (the tutorial's or a configured one).
    pub api: String,
    /// The stage (any name).
    pub stage: String,
    /// The resource path's segments after the stage, decoded.
    pub segments: Vec<String>,
}

/// Splits `/restapis/<api>/<stage>/<resource...>`; `None` when the path has no API or stage.
/// One trailing slash is ignored.
pub fn target(path: &str) -> Option<Target> {
    let rest = path.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/').map(percent_decode);
    let api = parts.next().filter(|s| !s.is_empty())?;
    let stage = parts.next().filter(|s| !s.is_empty())?;
    let segments: Vec<String> = parts.collect();
    if segments.iter().any(String::is_empty) {
        return None;
    }
    Some(Target {
        api,
        stage,
        segments,
    })
}

/// The tutorial API's method at `segments`, if it defines one.
pub fn tutorial_call(method: &Method, segments: &[String]) -> Option<Call> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let name = |n: &str| n.to_owned();
    Some(match (method, s.as_slice()) {
        (&Method::GET, ["streams"]) => Call::ListStreams,
        (&Method::POST, ["streams", n]) => Call::CreateStream(name(n)),
        (&Method::GET, ["streams", n]) => Call::DescribeStream(name(n)),
        (&Method::DELETE, ["streams", n]) => Call::DeleteStream(name(n)),
        (&Method::PUT, ["streams", n, "record"]) => Call::PutRecord(name(n)),
        (&Method::PUT, ["streams", n, "records"]) => Call::PutRecords(name(n)),
        (&Method::GET, ["streams", n, "records"]) => Call::GetRecords(name(n)),
        (&Method::GET, ["streams", n, "sharditerator"]) => Call::GetShardIterator(name(n)),
        _ => return None,
    })
}

/// A stream-bound API's method at `segments`, if it defines one.
pub fn bound_call(method: &Method, segments: &[String]) -> Option<Call> {
    if method != Method::POST && method != Method::PUT {
        return None;
    }
    match segments {
        [one] if one == "record" => Some(Call::BoundPutRecord),
        [one] if one == "records" => Some(Call::BoundPutRecords),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn segs(path: &str) -> Vec<String> {
        target(path).expect("target").segments
    }

    #[test]
    fn paths_split_into_api_stage_and_resource() {
        let t = target("/restapis/kinesis/test/streams/my%2Dstream/record").expect("target");
        assert_eq!(t.api, "kinesis");
        assert_eq!(t.stage, "test");
        assert_eq!(t.segments, ["streams", "my-stream", "record"]);
        assert_eq!(segs("/restapis/kinesis/prod/streams/"), ["streams"]);
        assert_eq!(segs("/restapis/ingest/v1"), Vec::<String>::new());
        for bad in [
            "/restapis",
            "/restapis/",
            "/restapis/kinesis",
            "/restapis/kinesis/",
            "/restapis//test/streams",
            "/restapis/kinesis/test/streams//record",
            "/restapisx/kinesis/test/streams",
        ] {
            assert_eq!(target(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_tutorial_method_maps_to_its_kinesis_action() {
        let cases = [
            (Method::GET, "/streams", "ListStreams"),
            (Method::POST, "/streams/s", "CreateStream"),
            (Method::GET, "/streams/s", "DescribeStream"),
            (Method::DELETE, "/streams/s", "DeleteStream"),
            (Method::PUT, "/streams/s/record", "PutRecord"),
            (Method::PUT, "/streams/s/records", "PutRecords"),
            (Method::GET, "/streams/s/records", "GetRecords"),
            (Method::GET, "/streams/s/sharditerator", "GetShardIterator"),
        ];
        for (m, p, op) in cases {
            let call = tutorial_call(&m, &segs(&format!("/restapis/kinesis/t{p}")))
                .unwrap_or_else(|| panic!("{m} {p}"));
            assert_eq!(call.operation(), op);
        }
    }

    #[test]
    fn undefined_methods_and_resources_are_not_found() {
        for (m, p) in [
            (Method::POST, "/streams"),
            (Method::PUT, "/streams/s"),
            (Method::POST, "/streams/s/record"),
            (Method::DELETE, "/streams/s/records"),
            (Method::GET, "/streams/s/record"),
            (Method::GET, "/streams/s/other"),
            (Method::GET, "/"),
            (Method::HEAD, "/streams"),
        ] {
            let path = format!("/restapis/kinesis/t{}", p.trim_end_matches('/'));
            let s = target(&path).map(|t| t.segments).unwrap_or_default();
            assert_eq!(tutorial_call(&m, &s), None, "{m} {p}");
        }
        assert_eq!(bound_call(&Method::GET, &["record".into()]), None);
        assert_eq!(bound_call(&Method::POST, &["streams".into()]), None);
        assert_eq!(
            bound_call(&Method::POST, &["records".into()]),
            Some(Call::BoundPutRecords)
        );
        assert_eq!(
            bound_call(&Method::PUT, &["record".into()]),
            Some(Call::BoundPutRecord)
        );
    }

    proptest! {
        #[test]
        fn routing_never_panics(path in "/restapis[/a-z%0-9.-]{0,40}", m in 0usize..5) {
            let method = [Method::GET, Method::PUT, Method::POST, Method::DELETE, Method::PATCH][m].clone();
            if let Some(t) = target(&path) {
                let _ = tutorial_call(&method, &t.segments);
                let _ = bound_call(&method, &t.segments);
            }
        }
    }
}
