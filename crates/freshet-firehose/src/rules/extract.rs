// SPDX-License-Identifier: Apache-2.0
//! MetadataExtraction: partition keys from a jq query (`JsonParsingEngine` `JQ-1.6`), run
//! with jaq.
//!
//! Source: [dynamic partitioning, inline parsing](https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html).
//!
//! * The query must be one object construction (`{customer_id: .customer_id, year:
//!   .ts | strftime("%Y")}`) with at most 50 keys; this is checked on the text at compile time
//!   and on the output at run time.
//! * A record that is not JSON, a query error, a missing or `null` key and an array or
//!   object value are errors: AWS sends such records to the error output
//!   (`processing-failed`).
//! * Values are stringified as jq 1.6 prints them: strings raw, booleans `true`/`false`,
//!   integral numbers without a fraction (`3`, not `3.0`), other numbers in their shortest
//!   round-trip form.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// Most keys one query may produce.
pub const MAX_KEYS: usize = 50;

type JqFilter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled `MetadataExtractionQuery`.
#[derive(Clone)]
pub struct MetadataQuery {
    filter: Arc<JqFilter>,
    text: Arc<str>,
}

impl fmt::Debug for MetadataQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MetadataQuery").field(&self.text).finish()
    }
}

/// Why keys could not be extracted from a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The record is not one JSON value.
    #[error("The record is not valid JSON.")]
    NotJson,
    /// The query failed on the record.
    #[error("The metadata extraction query failed: {0}")]
    QueryFailed(String),
    /// The query did not produce exactly one object.
    #[error("The metadata extraction query did not produce a single JSON object.")]
    NotAnObject,
    /// A key is missing or `null`.
    #[error("The partition key {0} is missing or null.")]
    MissingKey(String),
    /// A key's value is an array or an object.
    #[error("The partition key {0} is not a string, number or boolean.")]
    NotScalar(String),
    /// The query produced more than [`MAX_KEYS`] keys.
    #[error("The metadata extraction query produced more than 50 keys.")]
    TooManyKeys,
}

impl ExtractError {
    /// The error code Firehose writes for it in the error output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson => "DynamicPartitioning.MetadataExtractionFailed",
            Self::QueryFailed(_) | Self::NotAnObject | Self::TooManyKeys => {
                "DynamicPartitioning.MetadataExtractionFailed"
            }
            Self::MissingKey(_) | Self::NotScalar(_) => "DynamicPartitioning.PartitionKeyMissing",
        }
    }
}

impl MetadataQuery {
    /// Compiles a query; `Err` says why it is not an acceptable object expression.
    pub fn compile(query: &str) -> Result<MetadataQuery, String> {
        let keys = object_keys(query)?;
        refuse_unbounded(query)?;
        if keys > MAX_KEYS {
            return Err(format!(
                "The query has {keys} keys; at most {MAX_KEYS} are allowed."
            ));
        }
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let program = File {
            code: query,
            path: (),
        };
        let modules = loader
            .load(&arena, program)
            .map_err(|errs| format!("The query cannot be parsed ({} errors).", errs.len()))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| format!("The query cannot be compiled ({} errors).", errs.len()))?;
        Ok(MetadataQuery {
            filter: Arc::new(filter),
            text: Arc::from(query),
        })
    }

    /// The query as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs the query on one record and returns its partition keys.
    pub fn evaluate(&self, record: &[u8]) -> Result<BTreeMap<String, String>, ExtractError> {
        if nesting_depth(record) > MAX_DEPTH {
            // jq 1.6 refuses such input too ("Exceeds depth limit for parsing"); the check
            // also keeps a record from exhausting the stack of the recursive parser.
            return Err(ExtractError::NotJson);
        }
        let input = jaq_json::read::parse_single(record).map_err(|_| ExtractError::NotJson)?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = self.filter.id.run((ctx, input)).map(unwrap_valr);
        let first = match outputs.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(ExtractError::QueryFailed(e.to_string())),
            None => return Err(ExtractError::NotAnObject),
        };
        if outputs.next().is_some() {
            return Err(ExtractError::NotAnObject);
        }
        // jaq prints values as JSON; serde_json gives a plain tree to inspect.
        let value: Value =
            serde_json::from_str(&first.to_string()).map_err(|_| ExtractError::NotAnObject)?;
        let Value::Object(map) = value else {
            return Err(ExtractError::NotAnObject);
        };
        if map.len() > MAX_KEYS {
            return Err(ExtractError::TooManyKeys);
        }
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let s = match v {
                Value::Null => return Err(ExtractError::MissingKey(k)),
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => jq_number(&n),
                Value::Array(_) | Value::Object(_) => return Err(ExtractError::NotScalar(k)),
            };
            out.insert(k, s);
        }
        Ok(out)
    }
}

/// Deepest nesting of arrays and objects jq 1.6 parses.
pub const MAX_DEPTH: usize = 256;

/// Names whose evaluation is not bounded by the record: definitions (recursion), loops and
/// generators, and what reads the environment or other inputs. A query runs on every record
/// inside the server, so one that can recurse without end (a stack overflow aborts the
/// process) or loop forever is refused when the stream is created.
const UNBOUNDED: [&str; 21] = [
    "def",
    "reduce",
    "foreach",
    "label",
    "limit",
    "until",
    "while",
    "repeat",
    "range",
    "recurse",
    "recurse_down",
    "env",
    "input",
    "inputs",
    "combinations",
    "setpath",
    "delpaths",
    "halt",
    "halt_error",
    "debug",
    "stderr",
];

/// Refuses constructs that could run without bound (see [`UNBOUNDED`]), assignment (which
/// can build arrays of any length, `.[1e9] = 1`) and `*` (string repetition). Partition key
/// queries select and format fields; they need none of these.
fn refuse_unbounded(query: &str) -> Result<(), String> {
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &query[start..i];
            let after_dot = start > 0 && matches!(bytes[start - 1], b'.' | b'$');
            if !after_dot && UNBOUNDED.contains(&word) {
                return Err(format!(
                    "{word} is not supported in a MetadataExtractionQuery by Freshet: \
                     partition key queries may only select and format fields."
                ));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| bytes[p]);
        let next = bytes.get(i + 1).copied();
        if c == b'=' && next != Some(b'=') && !matches!(prev, Some(b'=' | b'!' | b'<' | b'>')) {
            return Err(
                "Assignment is not supported in a MetadataExtractionQuery by Freshet.".to_owned(),
            );
        }
        if c == b'*' {
            return Err("* is not supported in a MetadataExtractionQuery by Freshet.".to_owned());
        }
        i += 1;
    }
    Ok(())
}

/// The deepest nesting of `[`/`{` in a JSON text (brackets inside strings do not count).
fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &c in text {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// jq 1.6 prints integral doubles without a fraction.
fn jq_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// Checks the text is one `{...}` and counts its top-level keys.
fn object_keys(query: &str) -> Result<usize, String> {
    let not_object = || {
        "The query must be a JSON object expression, e.g. {customer_id:.customer_id}.".to_owned()
    };
    let q = query.trim();
    if !q.starts_with('{') || !q.ends_with('}') {
        return Err(not_object());
    }
    let mut depth = 0usize;
    let mut commas = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut nonblank = false;
    for (i, c) in q.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => {
                depth = depth.checked_sub(1).ok_or_else(not_object)?;
                if depth == 0 && i + c.len_utf8() != q.len() {
                    return Err(not_object());
                }
            }
            ',' if depth == 1 => commas += 1,
            _ => {}
        }
        if depth >= 1 && !c.is_whitespace() && c != '{' {
            nonblank = true;
        }
    }
    if depth != 0 || in_string {
        return Err(not_object());
    }
    Ok(if nonblank { commas + 1 } else { 0 })
}

#[cfg(test)]
mod safety_tests {
    use super::*;

    #[test]
    fn queries_that_could_run_without_bound_are_refused() {
        for q in [
            "{a: [range(100000000)] | length}",
            "{a: (def f: f; f)}",
            "{a: [limit(5; repeat(1))] | length}",
            "{a: (.x | recurse | tostring)}",
            "{a: (.[1000000000] = 1 | length)}",
            "{a: (.b |= 1)}",
            "{a: (\"x\" * 1000000000)}",
            "{a: ([.[] ] | reduce .[] as $x (0; . + $x))}",
        ] {
            assert!(MetadataQuery::compile(q).is_err(), "{q} compiled");
        }
    }

    #[test]
    fn ordinary_partition_queries_still_compile() {
        for q in [
            "{customer_id: .customer_id}",
            "{year: .ts | strftime(\"%Y\"), ok: (.a == 1), le: (.n <= 2), ne: (.n != 3)}",
            "{c: .customer.id, t: .type | ascii_downcase}",
            "{range_key: .range, env_name: .env}",
        ] {
            MetadataQuery::compile(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }

    #[test]
    fn records_nested_past_jq_limit_are_not_json_and_do_not_overflow_the_stack() {
        let q = MetadataQuery::compile("{a: .a}").unwrap();
        let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
        assert_eq!(q.evaluate(deep.as_bytes()), Err(ExtractError::NotJson));
        let ok = format!("{{\"a\":1,\"b\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(q.evaluate(ok.as_bytes()).unwrap()["a"], "1");
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn keys(q: &str, record: &str) -> Result<BTreeMap<String, String>, ExtractError> {
        MetadataQuery::compile(q)
            .unwrap()
            .evaluate(record.as_bytes())
    }

    #[test]
    fn aws_example_query_extracts_keys() {
        let out = keys(
            r#"{customer_id:.customer_id, year:.event_timestamp|strftime("%Y")}"#,
            r#"{"customer_id":"1234","event_timestamp":1535365800,"x":[1]}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            BTreeMap::from([
                ("customer_id".to_owned(), "1234".to_owned()),
                ("year".to_owned(), "2018".to_owned())
            ])
        );
    }

    #[test]
    fn scalars_are_stringified_like_jq() {
        let out = keys(
            "{a:.a,b:.b,c:.c,d:.d}",
            r#"{"a":3,"b":1.5,"c":true,"d":2.0}"#,
        )
        .unwrap();
        assert_eq!(out["a"], "3");
        assert_eq!(out["b"], "1.5");
        assert_eq!(out["c"], "true");
        assert_eq!(out["d"], "2");
    }

    #[test]
    fn bad_records_fail_with_the_right_error() {
        let q = "{a:.a}";
        assert_eq!(keys(q, "not json"), Err(ExtractError::NotJson));
        assert_eq!(keys(q, r#"{"a":1}{"a":2}"#), Err(ExtractError::NotJson));
        assert_eq!(
            keys(q, r#"{"b":1}"#),
            Err(ExtractError::MissingKey("a".into()))
        );
        assert_eq!(
            keys(q, r#"{"a":null}"#),
            Err(ExtractError::MissingKey("a".into()))
        );
        assert_eq!(
            keys(q, r#"{"a":[1]}"#),
            Err(ExtractError::NotScalar("a".into()))
        );
        assert!(matches!(
            keys("{a:.a.b}", r#"{"a":"s"}"#),
            Err(ExtractError::QueryFailed(_))
        ));
    }

    #[test]
    fn queries_that_are_not_one_object_are_rejected() {
        for q in [
            ".a",
            "{a:.a} | .a",
            "[.a]",
            "{a:.a",
            "",
            "{a:.a}{b:.b}",
            "{a:(.a}",
        ] {
            assert!(MetadataQuery::compile(q).is_err(), "{q} should be rejected");
        }
        let many: Vec<String> = (0..51).map(|i| format!("k{i}:.k")).collect();
        assert!(MetadataQuery::compile(&format!("{{{}}}", many.join(","))).is_err());
        let fifty: Vec<String> = (0..50).map(|i| format!("k{i}:.k")).collect();
        assert!(MetadataQuery::compile(&format!("{{{}}}", fifty.join(","))).is_ok());
        assert!(MetadataQuery::compile(r#"{a: (.a | split(",") | .[0])}"#).is_ok());
    }

    #[test]
    fn a_compiled_query_can_be_shared_across_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        send_sync(&MetadataQuery::compile("{a:.a}").unwrap());
    }

    proptest! {
        #[test]
        fn any_record_evaluates_or_fails_without_panicking(record in proptest::collection::vec(any::<u8>(), 0..100)) {
            let q = MetadataQuery::compile("{a:.a, b:.b}").unwrap();
            let _ = q.evaluate(&record);
        }

        #[test]
        fn string_keys_come_back_verbatim(v in "[^\\x00-\\x1f]{1,30}") {
            let record = serde_json::json!({"a": v}).to_string();
            let out = keys("{a:.a}", &record).unwrap();
            prop_assert_eq!(&out["a"], &v);
        }

        #[test]
        fn any_query_text_compiles_or_fails_without_panicking(q in "\\{[a-z:.,|() \"]{0,30}\\}") {
            let _ = MetadataQuery::compile(&q);
        }
    }
}
