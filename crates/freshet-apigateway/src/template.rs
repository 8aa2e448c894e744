// SPDX-License-Identifier: Apache-2.0
//! The request mapping templates, each written out as the text it renders, and `$input`.
//!
//! Each function renders one template of AWS's Kinesis proxy tutorial
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/integrating-api-with-aws-services-kinesis.html>)
//! or of the `aws-apigateway-kinesisstreams` Solutions Construct into the Kinesis JSON request
//! API Gateway would send. Values are pasted into the text unescaped, as Velocity does, so a
//! partition key holding a `"` makes JSON Kinesis refuses, exactly as on AWS.
//!
//! `$input.params(x)` looks `x` up in the path, then the query string, then the headers, and
//! prints nothing when absent. `$input.path(p)` and `$input.json(p)` print nothing for a
//! missing or null member. An empty body reads as `{}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

use crate::json::{self, Json, ParseError};

/// What a template reads: the method request's parameters and body.
#[derive(Debug)]
pub struct Input<'a> {
    /// Path parameters (decoded), e.g. `stream-name`.
    pub path: Vec<(&'static str, String)>,
    /// The query string, raw.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl Input<'_> {
    /// `$input.params(name)`.
    pub fn params(&self, name: &str) -> String {
        if let Some((_, v)) = self.path.iter().find(|(k, _)| *k == name) {
            return v.clone();
        }
        if let Some(q) = self.query
            && let Some(v) = query_param(q, name)
        {
            return v;
        }
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    }

    /// The body as `$input.path('$')` sees it.
    pub fn root(&self) -> Result<Json, ParseError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Object(Vec::new()));
        }
        json::parse(self.body)
    }
}

/// A query parameter's value, percent-decoded (`+` stays `+`: API Gateway decodes only `%XX`).
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

/// `%XX` sequences decoded; invalid UTF-8 read lossily; a malformed `%` kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                b.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text_of(v: Option<&Json>) -> String {
    v.map(Json::to_text).unwrap_or_default()
}

fn json_of(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(v) => v.to_json(),
    }
}

fn b64(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

/// `GET /streams` → ListStreams.
pub fn list_streams() -> String {
    "{\n}".to_owned()
}

/// `GET|DELETE /streams/{stream-name}` → DescribeStream, DeleteStream.
pub fn stream_name(input: &Input<'_>) -> String {
    format!(
        "{{\n    \"StreamName\": \"{}\"\n}}",
        input.params("stream-name")
    )
}

/// `POST /streams/{stream-name}` → CreateStream, with the tutorial's default of 5 shards
/// when the body names no `ShardCount`.
pub fn create_stream(input: &Input<'_>) -> Result<String, ParseError> {
    let root = input.root()?;
    let count = match root.get("ShardCount") {
        None | Some(Json::Null) => "5".to_owned(),
        Some(v) => v.to_text(),
    };
    Ok(format!(
        "{{\n    \"ShardCount\": {count},\n    \"StreamName\": \"{}\"\n}}",
        input.params("stream-name")
    ))
}

/// `PUT /streams/{stream-name}/record` → PutRecord. `Data` is the base64 of the JSON text of
/// the body's `Data` (`$util.base64Encode($input.json('$.Data'))`): a string lands in the
/// record with its quotes.
pub fn put_record(
    stream: &str,
    data_key: &str,
    pk_key: &str,
    input: &Input<'_>,
) -> Result<String, ParseError> {
    let root = input.root()?;
    Ok(format!(
        "{{\n    \"StreamName\": \"{stream}\",\n    \"Data\": \"{}\",\n    \"PartitionKey\": \"{}\"\n}}",
        b64(&json_of(root.get(data_key))),
        text_of(root.get(pk_key)),
    ))
}

/// `PUT /streams/{stream-name}/records` → PutRecords. Each record's `Data` is the base64 of
/// the element's `data` as Velocity prints it (`$util.base64Encode($elem.data)`): a string
/// lands without quotes, unlike PutRecord's.
pub fn put_records(stream: &str, pk_key: &str, input: &Input<'_>) -> Result<String, ParseError> {
    let root = input.root()?;
    let records = records_of(&root)
        .iter()
        .map(|elem| {
            format!(
                "\n          {{\n            \"Data\": \"{}\",\n            \"PartitionKey\": \"{}\"\n          }}",
                b64(&text_of(elem.get("data"))),
                text_of(elem.get(pk_key)),
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    Ok(format!(
        "{{\n    \"StreamName\": \"{stream}\",\n    \"Records\": [{records}\n    ]\n}}"
    ))
}

/// The tutorial's PutRecords template for `Content-Type: application/x-amz-json-1.1` bodies:
/// `data` is pasted as it is (already base64) under the member `records`, as the tutorial's
/// OpenAPI definition writes it.
pub fn put_records_amz_json(input: &Input<'_>) -> Result<String, ParseError> {
    let root = input.root()?;
    let records = records_of(&root)
        .iter()
        .map(|elem| {
            format!(
                "\n    {{\n        \"Data\" : \"{}\",\n        \"PartitionKey\" : \"{}\"\n    }}",
                text_of(elem.get("data")),
                text_of(elem.get("partition-key")),
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    Ok(format!(
        "{{\n  \"StreamName\": \"{}\",\n  \"records\" : [{records}\n  ]\n}}",
        input.params("stream-name")
    ))
}

/// `#foreach($elem in $input.path('$.records'))`: the elements of an array; nothing for any
/// other value.
fn records_of(root: &Json) -> &[Json] {
    match root.get("records") {
        Some(Json::Array(items)) => items,
        _ => &[],
    }
}

/// `GET /streams/{stream-name}/sharditerator?shard-id=...` → GetShardIterator at
/// TRIM_HORIZON.
pub fn get_shard_iterator(input: &Input<'_>) -> String {
    format!(
        "{{\n    \"ShardId\": \"{}\",\n    \"ShardIteratorType\": \"TRIM_HORIZON\",\n    \"StreamName\": \"{}\"\n}}",
        input.params("shard-id"),
        input.params("stream-name")
    )
}

/// `GET /streams/{stream-name}/records` with a `Shard-Iterator` header → GetRecords.
pub fn get_records(input: &Input<'_>) -> String {
    format!(
        "{{\n    \"ShardIterator\": \"{}\"\n}}",
        input.params("Shard-Iterator")
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn input<'a>(body: &'a [u8], headers: &'a HeaderMap, query: Option<&'a str>) -> Input<'a> {
        Input {
            path: vec![("stream-name", "orders".to_owned())],
            query,
            headers,
            body,
        }
    }

    fn kinesis_json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("the template renders JSON")
    }

    fn decoded(v: &serde_json::Value) -> String {
        let bytes = STANDARD
            .decode(v.as_str().expect("base64 text"))
            .expect("base64");
        String::from_utf8(bytes).expect("utf8")
    }

    #[test]
    fn put_record_stores_the_json_text_of_data_quotes_included() {
        let h = HeaderMap::new();
        let body = br#"{"Data": "some data", "PartitionKey": "some key"}"#;
        let v = kinesis_json(
            &put_record("orders", "Data", "PartitionKey", &input(body, &h, None)).expect("ok"),
        );
        assert_eq!(v["StreamName"], "orders");
        assert_eq!(decoded(&v["Data"]), "\"some data\"");
        assert_eq!(v["PartitionKey"], "some key");
        let body = br#"{"Data": {"price": 12.50, "ok": true}, "PartitionKey": 7}"#;
        let v = kinesis_json(
            &put_record("orders", "Data", "PartitionKey", &input(body, &h, None)).expect("ok"),
        );
        assert_eq!(decoded(&v["Data"]), r#"{"price":12.50,"ok":true}"#);
        assert_eq!(v["PartitionKey"], "7");
    }

    #[test]
    fn put_records_stores_strings_without_quotes() {
        let h = HeaderMap::new();
        let body = br#"{"records": [{"data": "some data", "partition-key": "k1"},
                                   {"data": "more", "partition-key": "k2"}]}"#;
        let v = kinesis_json(
            &put_records("orders", "partition-key", &input(body, &h, None)).expect("ok"),
        );
        let recs = v["Records"].as_array().expect("Records");
        assert_eq!(recs.len(), 2);
        assert_eq!(decoded(&recs[0]["Data"]), "some data");
        assert_eq!(recs[1]["PartitionKey"], "k2");
        let v = kinesis_json(
            &put_records("orders", "partition-key", &input(b"{}", &h, None)).expect("ok"),
        );
        assert_eq!(v["Records"], serde_json::json!([]));
    }

    #[test]
    fn create_stream_defaults_to_five_shards() {
        let h = HeaderMap::new();
        let v = kinesis_json(&create_stream(&input(b"", &h, None)).expect("ok"));
        assert_eq!(
            v,
            serde_json::json!({"ShardCount": 5, "StreamName": "orders"})
        );
        let v =
            kinesis_json(&create_stream(&input(br#"{"ShardCount": 2}"#, &h, None)).expect("ok"));
        assert_eq!(v["ShardCount"], 2);
    }

    #[test]
    fn params_come_from_path_then_query_then_headers() {
        let mut h = HeaderMap::new();
        h.insert("shard-iterator", "AAAA%2F".parse().expect("header"));
        let i = input(b"", &h, Some("shard-id=shardId-000000000001&x=%41%zz"));
        let v = kinesis_json(&get_shard_iterator(&i));
        assert_eq!(v["ShardId"], "shardId-000000000001");
        assert_eq!(v["StreamName"], "orders");
        assert_eq!(v["ShardIteratorType"], "TRIM_HORIZON");
        assert_eq!(i.params("x"), "A%zz");
        let v = kinesis_json(&get_records(&i));
        assert_eq!(v["ShardIterator"], "AAAA%2F");
        assert_eq!(i.params("missing"), "");
    }

    #[test]
    fn values_are_pasted_unescaped_as_velocity_does() {
        let h = HeaderMap::new();
        let body = br#"{"Data": "x", "PartitionKey": "a\"b"}"#;
        let text =
            put_record("orders", "Data", "PartitionKey", &input(body, &h, None)).expect("ok");
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_err(),
            "{text}"
        );
    }

    #[test]
    fn unparsable_bodies_are_errors() {
        let h = HeaderMap::new();
        assert!(put_record("s", "Data", "PartitionKey", &input(b"{nope", &h, None)).is_err());
        assert!(put_records("s", "partition-key", &input(b"[", &h, None)).is_err());
        assert!(create_stream(&input(b"x", &h, None)).is_err());
    }

    proptest! {
        #[test]
        fn any_string_data_round_trips_through_put_record(data in "\\PC{0,40}", pk in "[a-z0-9]{1,20}") {
            let h = HeaderMap::new();
            let body = serde_json::json!({"Data": data, "PartitionKey": pk}).to_string();
            let v = kinesis_json(&put_record("s", "Data", "PartitionKey", &input(body.as_bytes(), &h, None)).expect("ok"));
            let stored = decoded(&v["Data"]);
            prop_assert_eq!(serde_json::from_str::<String>(&stored).expect("json string"), data);
            prop_assert_eq!(v["PartitionKey"].as_str(), Some(pk.as_str()));
        }

        #[test]
        fn percent_decoding_inverts_encoding(s in "\\PC{0,30}") {
            let enc: String = form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
            prop_assert_eq!(percent_decode(&enc), s);
        }
    }
}
