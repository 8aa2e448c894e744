// SPDX-License-Identifier: Apache-2.0
//! `Prefix`, `ErrorOutputPrefix` and object names of S3 deliveries.
//!
//! Source: [Custom prefixes for Amazon S3 objects](https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)
//! and [S3 object name format](https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html).
//!
//! * Expressions are `!{namespace:value}` with the namespaces `timestamp` (a Java
//!   `DateTimeFormatter` pattern, see [`super::datetime`]), `firehose` (`random-string`,
//!   `error-output-type`), `partitionKeyFromQuery` and `partitionKeyFromLambda`. `!{` may
//!   appear nowhere else.
//! * Every `timestamp` occurrence of one prefix evaluates the same instant: the approximate
//!   arrival time of the oldest record in the object, in `CustomTimeZone` (default UTC).
//! * **What is appended to a prefix (decision).** The current AWS page says: when the Prefix
//!   contains no `timestamp` expression, Firehose appends `!{timestamp:yyyy/MM/dd/HH/}` to it.
//!   We append it verbatim, without adding a `/` (so a prefix `logs` yields `logs2018/08/27/10/`,
//!   as the page's rule reads; its example table is inconsistent on this). An unset Prefix
//!   evaluates to `yyyy/MM/dd/HH/`. With dynamic partitioning on nothing is appended: AWS's
//!   dynamic partitioning examples deliver exactly the evaluated Prefix.
//! * An unset ErrorOutputPrefix (allowed only when Prefix has no expressions and dynamic
//!   partitioning is off) evaluates to `<Prefix><error-output-type>/yyyy/MM/dd/HH/`. A set
//!   ErrorOutputPrefix is evaluated as written (a static one gets nothing appended).
//! * Partition key values must be non-empty (AWS routes records whose key is missing, null
//!   or empty to the error output) and may not contain control characters (they cannot be
//!   written in an S3 key by the SDKs AWS serves); anything else is used verbatim.
//! * An evaluated prefix is at most 512 characters.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::datetime::{self, Item};

/// Longest Prefix / ErrorOutputPrefix accepted by the model (characters).
pub const MAX_PREFIX_LEN: usize = 1024;
/// Longest evaluated prefix (characters).
pub const MAX_EVALUATED_LEN: usize = 512;
/// Most partition keys one Prefix may name.
pub const MAX_PARTITION_KEYS: usize = 50;
/// Length of a `!{firehose:random-string}` value.
pub const RANDOM_STRING_LEN: usize = 11;
/// The layout used when a prefix has no timestamp expression.
pub const DEFAULT_TIME_LAYOUT: &str = "yyyy/MM/dd/HH/";

/// Where a partition key's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeySource {
    /// `partitionKeyFromQuery`: the MetadataExtraction processor's jq query.
    Query,
    /// `partitionKeyFromLambda`: `metadata.partitionKeys` of the transform's response.
    Lambda,
}

impl KeySource {
    /// The namespace as written in prefixes.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Query => "partitionKeyFromQuery",
            Self::Lambda => "partitionKeyFromLambda",
        }
    }
}

/// Why records go to the error output; the value of `!{firehose:error-output-type}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorOutputType {
    /// The Lambda transform or dynamic partitioning failed.
    ProcessingFailed,
    /// Record format conversion failed.
    FormatConversionFailed,
    /// An HTTP endpoint delivery ran out of retries.
    HttpEndpointFailed,
    /// An OpenSearch delivery failed.
    AmazonOpenSearchServiceFailed,
    /// An Elasticsearch delivery failed (older streams).
    ElasticsearchFailed,
    /// A Splunk delivery failed.
    SplunkFailed,
}

impl ErrorOutputType {
    /// The string AWS writes, e.g. `processing-failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ProcessingFailed => "processing-failed",
            Self::FormatConversionFailed => "format-conversion-failed",
            Self::HttpEndpointFailed => "http-endpoint-failed",
            Self::AmazonOpenSearchServiceFailed => "AmazonOpenSearchService-failed",
            Self::ElasticsearchFailed => "elasticsearch-failed",
            Self::SplunkFailed => "splunk-failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Time(Vec<Item>),
    Random,
    ErrorType,
    Key(KeySource, String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Template {
    parts: Vec<Part>,
}

impl Template {
    fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }
    fn has(&self, f: impl Fn(&Part) -> bool) -> bool {
        self.parts.iter().any(f)
    }
}

/// The parsed Prefix and ErrorOutputPrefix of one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefixes {
    /// Prefix as evaluated, including any appended default timestamp.
    data: Template,
    /// ErrorOutputPrefix, when set.
    error: Option<Template>,
    /// Prefix as written (static when `error` is unset), for the default error prefix.
    literal_prefix: String,
}

/// What evaluating a prefix needs.
#[derive(Clone, Copy, Debug)]
pub struct PrefixContext<'a> {
    /// Approximate arrival time of the oldest record in the object (ms since the epoch).
    pub arrival_ms: i64,
    /// `CustomTimeZone` (see [`time_zone`]).
    pub tz: &'a TimeZone,
    /// Keys extracted by MetadataExtraction.
    pub query_keys: &'a BTreeMap<String, String>,
    /// Keys returned by the Lambda transform.
    pub lambda_keys: &'a BTreeMap<String, String>,
}

/// Why a prefix could not be evaluated for a record; such records go to the error output.
// Display and Error by hand: thiserror would take the `source` field for an error source.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrefixError {
    /// A key the prefix names is missing, empty, or not usable in a key.
    MissingPartitionKey {
        /// Where the key was looked up.
        source: KeySource,
        /// Its name.
        key: String,
    },
    /// The evaluated prefix is longer than [`MAX_EVALUATED_LEN`].
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The arrival time is outside the representable range.
    TimestampOutOfRange {
        /// The offending value.
        ms: i64,
    },
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingPartitionKey { source, key } => write!(
                f,
                "Partition key {key} from {source} is missing or has an invalid value."
            ),
            Self::TooLong { len } => write!(
                f,
                "The evaluated prefix is {len} characters long; the maximum is {MAX_EVALUATED_LEN}."
            ),
            Self::TimestampOutOfRange { ms } => {
                write!(f, "The arrival timestamp {ms} is out of range.")
            }
        }
    }
}

impl std::error::Error for PrefixError {}

fn parse_template(raw: &str, field: &str) -> Result<Template, String> {
    let mut parts = Vec::new();
    let mut rest = raw;
    while let Some(start) = rest.find("!{") {
        if start > 0 {
            parts.push(Part::Literal(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "{field} contains an expression that is not closed with '}}': {raw}"
            ));
        };
        let expr = &after[..end];
        parts.push(parse_expression(expr, field)?);
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    Ok(Template { parts })
}

fn parse_expression(expr: &str, field: &str) -> Result<Part, String> {
    if expr.contains("!{") {
        return Err(format!("{field} contains a nested expression: !{{{expr}}}"));
    }
    let Some((namespace, value)) = expr.split_once(':') else {
        return Err(format!(
            "{field} contains an expression without a namespace: !{{{expr}}}"
        ));
    };
    match namespace {
        "timestamp" => {
            if value.is_empty() {
                return Err(format!("{field} contains an empty timestamp expression."));
            }
            datetime::parse(value)
                .map(Part::Time)
                .map_err(|e| format!("{field} contains an invalid timestamp expression: {e}"))
        }
        "firehose" => match value {
            "random-string" => Ok(Part::Random),
            "error-output-type" => Ok(Part::ErrorType),
            other => Err(format!(
                "{field} contains an unsupported value for the firehose namespace: {other}. \
                 Supported values are random-string and error-output-type."
            )),
        },
        "partitionKeyFromQuery" | "partitionKeyFromLambda" => {
            let source = if namespace == "partitionKeyFromQuery" {
                KeySource::Query
            } else {
                KeySource::Lambda
            };
            if value.is_empty() {
                return Err(format!("{field} contains a partition key without a name."));
            }
            Ok(Part::Key(source, value.to_owned()))
        }
        other => Err(format!(
            "{field} contains an unsupported namespace: {other}. Supported namespaces are \
             timestamp, firehose, partitionKeyFromQuery and partitionKeyFromLambda."
        )),
    }
}

impl Prefixes {
    /// AWS's validation of both prefixes together; `Err(message)` is the
    /// InvalidArgumentException text. Empty strings count as unset.
    pub fn parse(
        prefix: Option<&str>,
        error_prefix: Option<&str>,
        dynamic_partitioning: bool,
    ) -> Result<Prefixes, String> {
        let prefix = prefix.unwrap_or("");
        let error_prefix = error_prefix.filter(|p| !p.is_empty());
        for (name, value) in [
            ("Prefix", prefix),
            ("ErrorOutputPrefix", error_prefix.unwrap_or("")),
        ] {
            let len = value.chars().count();
            if len > MAX_PREFIX_LEN {
                return Err(format!(
                    "{name} is {len} characters long; the maximum length is {MAX_PREFIX_LEN}."
                ));
            }
        }
        let data = parse_template(prefix, "Prefix")?;
        let error = error_prefix
            .map(|p| parse_template(p, "ErrorOutputPrefix"))
            .transpose()?;

        if data.has(|p| matches!(p, Part::ErrorType)) {
            return Err(
                "The expression !{firehose:error-output-type} is not allowed in Prefix; \
                        use it in ErrorOutputPrefix."
                    .to_owned(),
            );
        }
        if let Some(err) = &error {
            if err.has(|p| matches!(p, Part::Key(..))) {
                return Err("Partition key expressions (partitionKeyFromQuery, \
                            partitionKeyFromLambda) are not allowed in ErrorOutputPrefix."
                    .to_owned());
            }
            if err.has_expressions() && !err.has(|p| matches!(p, Part::ErrorType)) {
                return Err(
                    "ErrorOutputPrefix must contain !{firehose:error-output-type} when \
                            it contains expressions."
                        .to_owned(),
                );
            }
        }
        if error.is_none() && data.has_expressions() {
            return Err(
                "ErrorOutputPrefix cannot be null or empty when Prefix contains \
                        expressions."
                    .to_owned(),
            );
        }
        if error.is_none() && dynamic_partitioning {
            return Err(
                "ErrorOutputPrefix cannot be null or empty when dynamic partitioning \
                        is enabled."
                    .to_owned(),
            );
        }
        let keys = data
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Key(..)))
            .count();
        if dynamic_partitioning && keys == 0 {
            return Err("Prefix must contain at least one partitionKeyFromQuery or \
                        partitionKeyFromLambda expression when dynamic partitioning is enabled."
                .to_owned());
        }
        if !dynamic_partitioning && keys > 0 {
            return Err(
                "Prefix contains partition key expressions, but dynamic partitioning \
                        is not enabled."
                    .to_owned(),
            );
        }
        let distinct: std::collections::BTreeSet<_> = data
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Key(s, k) => Some((*s, k.as_str())),
                _ => None,
            })
            .collect();
        if distinct.len() > MAX_PARTITION_KEYS {
            return Err(format!(
                "Prefix names {} partition keys; the maximum is {MAX_PARTITION_KEYS}.",
                distinct.len()
            ));
        }

        let mut data = data;
        if !dynamic_partitioning && !data.has(|p| matches!(p, Part::Time(_))) {
            data.parts.push(Part::Time(default_layout()));
        }
        Ok(Prefixes {
            data,
            error,
            literal_prefix: prefix.to_owned(),
        })
    }

    /// The partition keys the Prefix names, in order of first appearance, without repeats.
    pub fn partition_keys(&self) -> Vec<(KeySource, String)> {
        let mut out: Vec<(KeySource, String)> = Vec::new();
        for part in &self.data.parts {
            if let Part::Key(source, key) = part
                && !out.iter().any(|(s, k)| s == source && k == key)
            {
                out.push((*source, key.clone()));
            }
        }
        out
    }

    /// Whether the evaluated data prefix depends on anything but the time (so records must
    /// be grouped per evaluated prefix before buffering).
    pub fn is_partitioned(&self) -> bool {
        self.data.has(|p| matches!(p, Part::Key(..)))
    }

    /// The evaluated data prefix for an object whose oldest record arrived at `arrival_ms`.
    pub fn data_prefix(&self, ctx: &PrefixContext<'_>) -> Result<String, PrefixError> {
        evaluate(&self.data, ctx, None)
    }

    /// The evaluated error prefix for `kind` (default `<Prefix><type>/yyyy/MM/dd/HH/`).
    pub fn error_prefix(
        &self,
        ctx: &PrefixContext<'_>,
        kind: ErrorOutputType,
    ) -> Result<String, PrefixError> {
        match &self.error {
            Some(template) => evaluate(template, ctx, Some(kind)),
            None => {
                let template = Template {
                    parts: vec![
                        Part::Literal(format!("{}{}/", self.literal_prefix, kind.as_str())),
                        Part::Time(default_layout()),
                    ],
                };
                evaluate(&template, ctx, Some(kind))
            }
        }
    }
}

fn default_layout() -> Vec<Item> {
    // The constant layout always parses; an empty list would only drop the time.
    datetime::parse(DEFAULT_TIME_LAYOUT).unwrap_or_default()
}

fn evaluate(
    template: &Template,
    ctx: &PrefixContext<'_>,
    kind: Option<ErrorOutputType>,
) -> Result<String, PrefixError> {
    let at = Timestamp::from_millisecond(ctx.arrival_ms)
        .map_err(|_| PrefixError::TimestampOutOfRange { ms: ctx.arrival_ms })?
        .to_zoned(ctx.tz.clone());
    let mut out = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Time(items) => datetime::format(items, &at, &mut out),
            Part::Random => out.push_str(&random_string()),
            // Parse keeps error-output-type out of the data prefix.
            Part::ErrorType => out.push_str(kind.map_or("", |k| k.as_str())),
            Part::Key(source, key) => {
                let keys = match source {
                    KeySource::Query => ctx.query_keys,
                    KeySource::Lambda => ctx.lambda_keys,
                };
                match keys.get(key) {
                    Some(value) if valid_key_value(value) => out.push_str(value),
                    _ => {
                        return Err(PrefixError::MissingPartitionKey {
                            source: *source,
                            key: key.clone(),
                        });
                    }
                }
            }
        }
    }
    let len = out.chars().count();
    if len > MAX_EVALUATED_LEN {
        return Err(PrefixError::TooLong { len });
    }
    Ok(out)
}

/// Whether a partition key value can go into an object key (see the module doc).
pub fn valid_key_value(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(char::is_control)
}

/// A fresh `!{firehose:random-string}` value: 11 characters shaped like AWS's example
/// (`046b6c7f-0b`, the head of a random UUID).
pub fn random_string() -> String {
    let mut s = uuid::Uuid::new_v4().hyphenated().to_string();
    s.truncate(RANDOM_STRING_LEN);
    s
}

/// Parses `CustomTimeZone` (an IANA name; unset or empty = UTC). `Err` is AWS's message.
pub fn time_zone(custom: Option<&str>) -> Result<TimeZone, String> {
    match custom {
        None | Some("") => Ok(TimeZone::UTC),
        Some(name) => jiff::tz::db()
            .get(name)
            .map_err(|_| format!("CustomTimeZone {name} is not a supported time zone.")),
    }
}

/// The object name suffix `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid><extension>`, with
/// the time of `at_ms` in `tz`. An out-of-range time prints as the epoch.
pub fn object_name(
    stream: &str,
    version: u64,
    at_ms: i64,
    tz: &TimeZone,
    extension: &str,
) -> String {
    let ts = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let at = ts.to_zoned(tz.clone());
    format!(
        "{stream}-{version}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{extension}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        uuid::Uuid::new_v4().hyphenated()
    )
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.namespace())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // 2018-08-27T10:30:00Z, AWS's example instant.
    const AT: i64 = 1_535_365_800_000;

    fn ctx<'a>(
        tz: &'a TimeZone,
        q: &'a BTreeMap<String, String>,
        l: &'a BTreeMap<String, String>,
    ) -> PrefixContext<'a> {
        PrefixContext {
            arrival_ms: AT,
            tz,
            query_keys: q,
            lambda_keys: l,
        }
    }

    fn eval(prefix: Option<&str>, error: Option<&str>) -> (String, String) {
        let p = Prefixes::parse(prefix, error, false).unwrap();
        let (tz, e) = (TimeZone::UTC, BTreeMap::new());
        let c = ctx(&tz, &e, &e);
        (
            p.data_prefix(&c).unwrap(),
            p.error_prefix(&c, ErrorOutputType::ProcessingFailed)
                .unwrap(),
        )
    }

    #[test]
    fn unset_prefixes_evaluate_to_the_default_time_layout() {
        let (data, error) = eval(None, None);
        assert_eq!(data, "2018/08/27/10/");
        assert_eq!(error, "processing-failed/2018/08/27/10/");
    }

    #[test]
    fn a_static_prefix_gets_the_time_appended_verbatim() {
        assert_eq!(eval(Some("myPrefix/"), None).0, "myPrefix/2018/08/27/10/");
        assert_eq!(eval(Some("logs"), None).0, "logs2018/08/27/10/");
        assert_eq!(
            eval(Some("myPrefix/"), None).1,
            "myPrefix/processing-failed/2018/08/27/10/"
        );
    }

    #[test]
    fn expressions_evaluate_as_in_aws_examples() {
        let (data, error) = eval(
            Some(
                "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            ),
            Some("myErrorPrefix/!{firehose:error-output-type}/!{timestamp:yyyy'-'MM'-'dd}/"),
        );
        assert_eq!(data, "myPrefix/year=2018/month=08/day=27/hour=10/");
        assert_eq!(error, "myErrorPrefix/processing-failed/2018-08-27/");
    }

    #[test]
    fn random_strings_are_eleven_characters_and_differ_per_occurrence() {
        let p = Prefixes::parse(
            Some("!{firehose:random-string}/!{firehose:random-string}/"),
            Some("!{firehose:error-output-type}/"),
            false,
        )
        .unwrap();
        let (tz, e) = (TimeZone::UTC, BTreeMap::new());
        let out = p.data_prefix(&ctx(&tz, &e, &e)).unwrap();
        let parts: Vec<&str> = out.split('/').collect();
        assert_eq!(parts[0].len(), 11);
        assert_eq!(parts[1].len(), 11);
        assert_ne!(parts[0], parts[1]);
        assert_eq!(parts[2], "2018");
    }

    #[test]
    fn a_custom_time_zone_shifts_the_prefix_time() {
        let p = Prefixes::parse(None, None, false).unwrap();
        let tz = time_zone(Some("Asia/Tokyo")).unwrap();
        let e = BTreeMap::new();
        assert_eq!(p.data_prefix(&ctx(&tz, &e, &e)).unwrap(), "2018/08/27/19/");
        assert!(time_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(time_zone(Some("")).unwrap(), TimeZone::UTC);
    }

    #[test]
    fn validation_rejects_what_aws_rejects() {
        let bad: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some("!{timestamp:yyyy/MM/dd}"), None, false),
            (
                Some("a/!{unknown:x}/"),
                Some("e/!{firehose:error-output-type}"),
                false,
            ),
            (
                Some("a/!{timestamp:yyyy"),
                Some("e/!{firehose:error-output-type}"),
                false,
            ),
            (
                Some("!{firehose:error-output-type}/"),
                Some("!{firehose:error-output-type}"),
                false,
            ),
            (
                Some("!{timestamp:yyyy}/"),
                Some("e/!{timestamp:yyyy}/"),
                false,
            ),
            (
                Some("x/"),
                Some("!{firehose:error-output-type}/!{partitionKeyFromQuery:a}"),
                false,
            ),
            (
                Some("!{partitionKeyFromQuery:a}/"),
                Some("!{firehose:error-output-type}/"),
                false,
            ),
            (
                Some("static/"),
                Some("!{firehose:error-output-type}/"),
                true,
            ),
            (Some("!{partitionKeyFromQuery:a}/"), None, true),
            (
                Some("!{timestamp:Q}/"),
                Some("!{firehose:error-output-type}/"),
                false,
            ),
            (
                Some("!{firehose:nope}/"),
                Some("!{firehose:error-output-type}/"),
                false,
            ),
            (
                Some("!{partitionKeyFromLambda:}/"),
                Some("!{firehose:error-output-type}/"),
                true,
            ),
        ];
        for (p, e, dp) in bad {
            assert!(
                Prefixes::parse(*p, *e, *dp).is_err(),
                "{p:?} {e:?} {dp} should fail"
            );
        }
        let long = "a".repeat(1025);
        assert!(Prefixes::parse(Some(&long), None, false).is_err());
    }

    #[test]
    fn dynamic_partitioning_evaluates_keys_and_appends_no_time() {
        let p = Prefixes::parse(
            Some("customer_id=!{partitionKeyFromQuery:customer_id}/dev=!{partitionKeyFromLambda:device}/"),
            Some("errors/!{firehose:error-output-type}/"),
            true,
        )
        .unwrap();
        assert!(p.is_partitioned());
        assert_eq!(
            p.partition_keys(),
            vec![
                (KeySource::Query, "customer_id".to_owned()),
                (KeySource::Lambda, "device".to_owned())
            ]
        );
        let tz = TimeZone::UTC;
        let q = BTreeMap::from([("customer_id".to_owned(), "1234".to_owned())]);
        let mut l = BTreeMap::from([("device".to_owned(), "x1".to_owned())]);
        assert_eq!(
            p.data_prefix(&ctx(&tz, &q, &l)).unwrap(),
            "customer_id=1234/dev=x1/"
        );
        l.insert("device".to_owned(), String::new());
        assert_eq!(
            p.data_prefix(&ctx(&tz, &q, &l)),
            Err(PrefixError::MissingPartitionKey {
                source: KeySource::Lambda,
                key: "device".to_owned()
            })
        );
        assert_eq!(
            p.error_prefix(&ctx(&tz, &q, &l), ErrorOutputType::ProcessingFailed)
                .unwrap(),
            "errors/processing-failed/"
        );
    }

    #[test]
    fn evaluated_prefixes_longer_than_512_characters_fail() {
        let p = Prefixes::parse(
            Some("!{partitionKeyFromQuery:k}/"),
            Some("!{firehose:error-output-type}/"),
            true,
        )
        .unwrap();
        let tz = TimeZone::UTC;
        let q = BTreeMap::from([("k".to_owned(), "v".repeat(600))]);
        let e = BTreeMap::new();
        assert_eq!(
            p.data_prefix(&ctx(&tz, &q, &e)),
            Err(PrefixError::TooLong { len: 601 })
        );
    }

    #[test]
    fn object_names_follow_the_documented_suffix() {
        let name = object_name("my-stream", 3, AT + 5_000, &TimeZone::UTC, ".gz");
        assert!(
            name.starts_with("my-stream-3-2018-08-27-10-30-05-"),
            "{name}"
        );
        assert!(name.ends_with(".gz"));
        assert_eq!(
            name.len(),
            "my-stream-3-2018-08-27-10-30-05-".len() + 36 + 3
        );
        assert_ne!(
            name,
            object_name("my-stream", 3, AT + 5_000, &TimeZone::UTC, ".gz")
        );
    }

    proptest! {
        #[test]
        fn parse_and_evaluate_never_panic(p in ".{0,60}", e in proptest::option::of(".{0,60}"), dp: bool, ms: i64) {
            if let Ok(parsed) = Prefixes::parse(Some(&p), e.as_deref(), dp) {
                let (tz, m) = (TimeZone::UTC, BTreeMap::new());
                let c = PrefixContext { arrival_ms: ms, tz: &tz, query_keys: &m, lambda_keys: &m };
                let _ = parsed.data_prefix(&c);
                let _ = parsed.error_prefix(&c, ErrorOutputType::HttpEndpointFailed);
            }
        }

        #[test]
        fn static_prefixes_evaluate_to_themselves_plus_the_time(p in "[a-zA-Z0-9/=_-]{0,60}") {
            let parsed = Prefixes::parse(Some(&p), None, false).unwrap();
            let (tz, m) = (TimeZone::UTC, BTreeMap::new());
            let out = parsed.data_prefix(&ctx(&tz, &m, &m)).unwrap();
            prop_assert_eq!(out, format!("{p}2018/08/27/10/"));
        }
    }
}
