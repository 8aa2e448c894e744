// SPDX-License-Identifier: Apache-2.0
//! Filter criteria: the EventBridge pattern language as Lambda applies it to the records of
//! an event source mapping (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>).
//!
//! [`FilterCriteria::parse`] checks the `Filters[].Pattern` strings of a mapping (at most
//! [`MAX_FILTERS`], each a JSON object of at most [`MAX_PATTERN_CHARS`] characters) and
//! answers AWS's `Invalid filter pattern definition.` for anything else. A record passes when
//! it matches any filter (they are OR-ed); a mapping without filters passes everything.
//!
//! Matching rules (EventBridge's):
//! - a pattern is an object; every field it names must match (AND); a field's value is either
//!   a nested object (matched against the event's object there) or a non-empty array of
//!   matchers, any of which may match (OR); `"$or": [{..}, {..}]` matches when any of its
//!   patterns does;
//! - matchers: exact strings, numbers (by their JSON text: 300 is not 300.0), booleans,
//!   `null`, `{"prefix"}`, `{"suffix"}` (each also with `{"equals-ignore-case"}`),
//!   `{"equals-ignore-case"}`, `{"wildcard"}`, `{"anything-but"}` (values, or a prefix,
//!   suffix, equals-ignore-case or wildcard), `{"numeric": [op, n, ...]}`, `{"exists"}`;
//! - an event array matches when any of its elements does; a field missing from the event
//!   matches only `{"exists": false}`.
//!
//! Invariant: parsing and matching never panic, whatever the input (property-tested).

use serde_json::{Map, Value};

/// Most filters in one mapping's FilterCriteria.
pub const MAX_FILTERS: usize = 5;
/// Longest pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 4096;
/// Deepest nesting of a pattern we accept (keeps recursion bounded).
const MAX_DEPTH: usize = 32;

/// Why a FilterCriteria was refused: an InvalidParameterValueException with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// A pattern is not valid pattern syntax.
    #[error("Invalid filter pattern definition.")]
    InvalidPattern,
    /// More filters than allowed.
    #[error("The filter criteria can contain at most 5 filters.")]
    TooManyFilters,
}

/// The parsed filters of one mapping. Empty means "no filtering".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterCriteria {
    patterns: Vec<Pattern>,
}

impl FilterCriteria {
    /// Parses `Filters[].Pattern` strings. A missing pattern (`None`) is invalid, as in AWS.
    pub fn parse<'a>(
        patterns: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<FilterCriteria, FilterError> {
        let mut out = Vec::new();
        for p in patterns {
            if out.len() == MAX_FILTERS {
                return Err(FilterError::TooManyFilters);
            }
            out.push(Pattern::parse(p.ok_or(FilterError::InvalidPattern)?)?);
        }
        Ok(FilterCriteria { patterns: out })
    }

    /// Whether there is no filter at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `event` passes: it matches any filter, or there are none.
    pub fn matches(&self, event: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(event))
    }

    /// Whether `event` passes, where `payload_key` (`data` or `body`) holds the decoded
    /// payload when it is JSON, and `payload_is_json` says whether it was: a filter that
    /// names the payload never matches a record whose payload is not JSON.
    pub fn matches_record(&self, event: &Value, payload_key: &str, payload_is_json: bool) -> bool {
        self.patterns.is_empty()
            || self
                .patterns
                .iter()
                .any(|p| (payload_is_json || !p.names(payload_key)) && p.matches(event))
    }
}

/// One parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

/// An object pattern: fields that must all match, and `$or` groups of which one must.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    fields: Vec<(String, Field)>,
    ors: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    Any(Vec<Matcher>),
}

/// A scalar as a pattern names it.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    /// A number, by its JSON text.
    Num(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Text {
    Exact(String),
    IgnoreCase(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Value(Scalar),
    Null,
    Prefix(Text),
    Suffix(Text),
    EqualsIgnoreCase(String),
    Wildcard(String),
    Numeric(Vec<(Cmp, f64)>),
    Exists(bool),
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Scalar>),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<String>),
}

type Parsed<T> = Result<T, FilterError>;
const BAD: FilterError = FilterError::InvalidPattern;

impl Pattern {
    /// Parses one pattern string.
    pub fn parse(s: &str) -> Parsed<Pattern> {
        if s.chars().count() > MAX_PATTERN_CHARS {
            return Err(BAD);
        }
        let v: Value = serde_json::from_str(s).map_err(|_| BAD)?;
        let Value::Object(map) = v else {
            return Err(BAD);
        };
        Ok(Pattern {
            root: parse_node(&map, 0)?,
        })
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        match event {
            Value::Object(m) => self.root.matches(Some(m)),
            _ => self.root.matches(None),
        }
    }

    /// Whether the pattern names `key` at its top level (directly or in an `$or`).
    pub fn names(&self, key: &str) -> bool {
        fn names(n: &Node, key: &str) -> bool {
            n.fields.iter().any(|(k, _)| k == key)
                || n.ors.iter().flatten().any(|alt| names(alt, key))
        }
        names(&self.root, key)
    }
}

fn parse_node(map: &Map<String, Value>, depth: usize) -> Parsed<Node> {
    if map.is_empty() || depth > MAX_DEPTH {
        return Err(BAD);
    }
    let mut node = Node {
        fields: Vec::new(),
        ors: Vec::new(),
    };
    for (k, v) in map {
        if k == "$or" {
            let Value::Array(alts) = v else {
                return Err(BAD);
            };
            if alts.len() < 2 {
                return Err(BAD);
            }
            let mut group = Vec::with_capacity(alts.len());
            for alt in alts {
                let Value::Object(m) = alt else {
                    return Err(BAD);
                };
                group.push(parse_node(m, depth + 1)?);
            }
            node.ors.push(group);
            continue;
        }
        let field = match v {
            Value::Object(m) => Field::Nested(parse_node(m, depth + 1)?),
            Value::Array(items) if !items.is_empty() => {
                Field::Any(items.iter().map(parse_matcher).collect::<Parsed<_>>()?)
            }
            _ => return Err(BAD),
        };
        node.fields.push((k.clone(), field));
    }
    Ok(node)
}

fn scalar(v: &Value) -> Parsed<Scalar> {
    match v {
        Value::String(s) => Ok(Scalar::Str(s.clone())),
        Value::Number(n) => Ok(Scalar::Num(n.to_string())),
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        _ => Err(BAD),
    }
}

fn string(v: &Value) -> Parsed<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(BAD),
    }
}

/// The only member of a one-member object.
fn single(m: &Map<String, Value>) -> Parsed<(&str, &Value)> {
    let mut it = m.iter();
    match (it.next(), it.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => Err(BAD),
    }
}

/// `"text"` or `{"equals-ignore-case": "text"}` (the argument of prefix and suffix).
fn text(v: &Value) -> Parsed<Text> {
    match v {
        Value::String(s) => Ok(Text::Exact(s.clone())),
        Value::Object(m) => match single(m)? {
            ("equals-ignore-case", Value::String(s)) => Ok(Text::IgnoreCase(s.clone())),
            _ => Err(BAD),
        },
        _ => Err(BAD),
    }
}

fn wildcard(v: &Value) -> Parsed<String> {
    let s = string(v)?;
    // EventBridge refuses consecutive wildcards.
    if s.contains("**") {
        return Err(BAD);
    }
    Ok(s)
}

/// One string or a non-empty list of strings.
fn strings(v: &Value, each: fn(&Value) -> Parsed<String>) -> Parsed<Vec<String>> {
    match v {
        Value::Array(items) if !items.is_empty() => items.iter().map(each).collect(),
        Value::Array(_) => Err(BAD),
        other => Ok(vec![each(other)?]),
    }
}

fn parse_matcher(v: &Value) -> Parsed<Matcher> {
    let m = match v {
        Value::Null => return Ok(Matcher::Null),
        Value::Object(m) => m,
        Value::Array(_) => return Err(BAD),
        other => return Ok(Matcher::Value(scalar(other)?)),
    };
    let (op, arg) = single(m)?;
    Ok(match op {
        "prefix" => Matcher::Prefix(text(arg)?),
        "suffix" => Matcher::Suffix(text(arg)?),
        "equals-ignore-case" => Matcher::EqualsIgnoreCase(string(arg)?),
        "wildcard" => Matcher::Wildcard(wildcard(arg)?),
        "exists" => match arg {
            Value::Bool(b) => Matcher::Exists(*b),
            _ => return Err(BAD),
        },
        "numeric" => Matcher::Numeric(numeric(arg)?),
        "anything-but" => Matcher::AnythingBut(anything_but(arg)?),
        _ => return Err(BAD),
    })
}

fn anything_but(arg: &Value) -> Parsed<AnythingBut> {
    Ok(match arg {
        Value::Array(items) if !items.is_empty() => {
            AnythingBut::Values(items.iter().map(scalar).collect::<Parsed<_>>()?)
        }
        Value::Object(m) => match single(m)? {
            ("prefix", Value::String(s)) if !s.is_empty() => AnythingBut::Prefix(s.clone()),
            ("suffix", Value::String(s)) if !s.is_empty() => AnythingBut::Suffix(s.clone()),
            ("equals-ignore-case", v) => AnythingBut::EqualsIgnoreCase(strings(v, string)?),
            ("wildcard", v) => AnythingBut::Wildcard(strings(v, wildcard)?),
            _ => return Err(BAD),
        },
        Value::Array(_) | Value::Null => return Err(BAD),
        other => AnythingBut::Values(vec![scalar(other)?]),
    })
}

/// `[op, n]` or `[op, n, op, n]`: at most one lower and one upper bound, or one `=`.
fn numeric(arg: &Value) -> Parsed<Vec<(Cmp, f64)>> {
    let Value::Array(items) = arg else {
        return Err(BAD);
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(BAD);
    }
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        let cmp = match pair[0].as_str() {
            Some("<") => Cmp::Lt,
            Some("<=") => Cmp::Le,
            Some("=") => Cmp::Eq,
            Some(">=") => Cmp::Ge,
            Some(">") => Cmp::Gt,
            _ => return Err(BAD),
        };
        let n = pair[1].as_f64().ok_or(BAD)?;
        out.push((cmp, n));
    }
    let lower = out
        .iter()
        .filter(|(c, _)| matches!(c, Cmp::Gt | Cmp::Ge))
        .count();
    let upper = out
        .iter()
        .filter(|(c, _)| matches!(c, Cmp::Lt | Cmp::Le))
        .count();
    let eq = out.iter().filter(|(c, _)| *c == Cmp::Eq).count();
    let valid = match out.len() {
        1 => true,
        _ => lower == 1 && upper == 1 && eq == 0 && out[0].1 <= out[1].1.max(out[0].1),
    };
    if !valid {
        return Err(BAD);
    }
    // A range must not be empty: the lower bound below the upper one.
    if out.len() == 2 {
        let lo = out.iter().find(|(c, _)| matches!(c, Cmp::Gt | Cmp::Ge));
        let hi = out.iter().find(|(c, _)| matches!(c, Cmp::Lt | Cmp::Le));
        if let (Some((_, lo)), Some((_, hi))) = (lo, hi)
            && lo >= hi
        {
            return Err(BAD);
        }
    }
    Ok(out)
}

impl Node {
    fn matches(&self, event: Option<&Map<String, Value>>) -> bool {
        self.fields.iter().all(|(k, f)| {
            let v = event.and_then(|m| m.get(k));
            match f {
                Field::Nested(n) => match v {
                    None => n.matches(None),
                    Some(Value::Object(m)) => n.matches(Some(m)),
                    Some(Value::Array(items)) => items.iter().any(|i| match i {
                        Value::Object(m) => n.matches(Some(m)),
                        _ => false,
                    }),
                    Some(_) => false,
                },
                Field::Any(ms) => ms.iter().any(|m| m.matches(v)),
            }
        }) && self
            .ors
            .iter()
            .all(|group| group.iter().any(|alt| alt.matches(event)))
    }
}

impl Matcher {
    fn matches(&self, v: Option<&Value>) -> bool {
        match (self, v) {
            (Matcher::Exists(want), None) => !want,
            (Matcher::Exists(want), Some(v)) => *want == is_leaf(v),
            (_, None) => false,
            (_, Some(Value::Array(items))) => items.iter().any(|i| self.matches_scalar(i)),
            (_, Some(v)) => self.matches_scalar(v),
        }
    }

    fn matches_scalar(&self, v: &Value) -> bool {
        match self {
            Matcher::Value(s) => scalar_eq(s, v),
            Matcher::Null => v.is_null(),
            Matcher::Prefix(t) => v.as_str().is_some_and(|s| match t {
                Text::Exact(p) => s.starts_with(p.as_str()),
                Text::IgnoreCase(p) => lower(s).starts_with(&lower(p)),
            }),
            Matcher::Suffix(t) => v.as_str().is_some_and(|s| match t {
                Text::Exact(p) => s.ends_with(p.as_str()),
                Text::IgnoreCase(p) => lower(s).ends_with(&lower(p)),
            }),
            Matcher::EqualsIgnoreCase(p) => v.as_str().is_some_and(|s| lower(s) == lower(p)),
            Matcher::Wildcard(p) => v.as_str().is_some_and(|s| wildcard_match(p, s)),
            Matcher::Numeric(bounds) => v.as_f64().is_some_and(|n| {
                v.is_number()
                    && bounds.iter().all(|(c, b)| match c {
                        Cmp::Lt => n < *b,
                        Cmp::Le => n <= *b,
                        Cmp::Eq => n == *b,
                        Cmp::Ge => n >= *b,
                        Cmp::Gt => n > *b,
                    })
            }),
            Matcher::Exists(want) => *want == is_leaf(v),
            Matcher::AnythingBut(a) => match a {
                AnythingBut::Values(vals) => {
                    !v.is_null() && !v.is_object() && !vals.iter().any(|s| scalar_eq(s, v))
                }
                AnythingBut::Prefix(p) => v.as_str().is_some_and(|s| !s.starts_with(p.as_str())),
                AnythingBut::Suffix(p) => v.as_str().is_some_and(|s| !s.ends_with(p.as_str())),
                AnythingBut::EqualsIgnoreCase(ps) => v
                    .as_str()
                    .is_some_and(|s| !ps.iter().any(|p| lower(p) == lower(s))),
                AnythingBut::Wildcard(ps) => v
                    .as_str()
                    .is_some_and(|s| !ps.iter().any(|p| wildcard_match(p, s))),
            },
        }
    }
}

/// `exists` applies to leaves: a present value that is not an object.
fn is_leaf(v: &Value) -> bool {
    !v.is_object()
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn scalar_eq(s: &Scalar, v: &Value) -> bool {
    match (s, v) {
        (Scalar::Str(a), Value::String(b)) => a == b,
        (Scalar::Num(a), Value::Number(b)) => *a == b.to_string(),
        (Scalar::Bool(a), Value::Bool(b)) => a == b,
        _ => false,
    }
}

/// `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard_match(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => toks.push(Tok::Star),
            '\\' => toks.push(Tok::Lit(chars.next().unwrap_or('\\'))),
            c => toks.push(Tok::Lit(c)),
        }
    }
    let text: Vec<char> = s.chars().collect();
    // Greedy matching with backtracking to the last star: linear in practice.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p.min(toks.len())..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn pat(s: &str) -> Pattern {
        Pattern::parse(s).expect("valid pattern")
    }

    fn check(pattern: &str, event: Value) -> bool {
        pat(pattern).matches(&event)
    }

    #[test]
    fn exact_values_and_or_lists_match_equal_values_only() {
        let p = r#"{"data": {"kind": ["a", "b"], "n": [300]}}"#;
        assert!(check(p, json!({"data": {"kind": "b", "n": 300}})));
        assert!(!check(p, json!({"data": {"kind": "c", "n": 300}})));
        // Numbers match by their text.
        assert!(!check(p, json!({"data": {"kind": "a", "n": 300.0}})));
        assert!(!check(p, json!({"data": {"kind": "a"}})));
    }

    #[test]
    fn null_and_empty_string_are_distinct_values() {
        assert!(check(r#"{"a": [null]}"#, json!({"a": null})));
        assert!(!check(r#"{"a": [null]}"#, json!({"a": ""})));
        assert!(!check(r#"{"a": [null]}"#, json!({})));
        assert!(check(r#"{"a": [""]}"#, json!({"a": ""})));
        assert!(!check(r#"{"a": [""]}"#, json!({"a": null})));
    }

    #[test]
    fn anything_but_excludes_values_prefixes_and_cases() {
        let p = r#"{"s": [{"anything-but": ["x", 5]}]}"#;
        assert!(check(p, json!({"s": "y"})));
        assert!(!check(p, json!({"s": "x"})));
        assert!(!check(p, json!({"s": 5})));
        assert!(!check(p, json!({})));
        let p = r#"{"s": [{"anything-but": {"prefix": "in"}}]}"#;
        assert!(check(p, json!({"s": "out"})));
        assert!(!check(p, json!({"s": "inside"})));
        let p = r#"{"s": [{"anything-but": {"equals-ignore-case": ["Ab"]}}]}"#;
        assert!(!check(p, json!({"s": "aB"})));
        assert!(check(p, json!({"s": "c"})));
        assert!(check(
            r#"{"s": [{"anything-but": "x"}]}"#,
            json!({"s": "z"})
        ));
    }

    #[test]
    fn numeric_ranges_compare_numbers_only() {
        let p = r#"{"t": [{"numeric": [">", 0, "<=", 5]}]}"#;
        assert!(check(p, json!({"t": 5})));
        assert!(check(p, json!({"t": 0.5})));
        assert!(!check(p, json!({"t": 0})));
        assert!(!check(p, json!({"t": "3"})));
        assert!(check(
            r#"{"t": [{"numeric": ["=", 3]}]}"#,
            json!({"t": 3.0})
        ));
    }

    #[test]
    fn exists_prefix_suffix_case_and_wildcard_behave_as_eventbridge() {
        assert!(check(r#"{"a": [{"exists": true}]}"#, json!({"a": 1})));
        assert!(!check(r#"{"a": [{"exists": true}]}"#, json!({"b": 1})));
        assert!(check(r#"{"a": [{"exists": false}]}"#, json!({"b": 1})));
        assert!(!check(r#"{"a": [{"exists": false}]}"#, json!({"a": 1})));
        assert!(check(
            r#"{"r": [{"prefix": "us-"}]}"#,
            json!({"r": "us-east-1"})
        ));
        assert!(check(
            r#"{"r": [{"prefix": {"equals-ignore-case": "US-"}}]}"#,
            json!({"r": "us-east-1"})
        ));
        assert!(check(
            r#"{"f": [{"suffix": ".png"}]}"#,
            json!({"f": "a.png"})
        ));
        assert!(!check(
            r#"{"f": [{"suffix": ".png"}]}"#,
            json!({"f": "a.PNG"})
        ));
        assert!(check(
            r#"{"f": [{"equals-ignore-case": "ABC"}]}"#,
            json!({"f": "aBc"})
        ));
        let w = r#"{"f": [{"wildcard": "dir/*/file*.txt"}]}"#;
        assert!(check(w, json!({"f": "dir/a/b/file1.txt"})));
        assert!(!check(w, json!({"f": "dir/a/file1.txd"})));
        assert!(check(
            r#"{"f": [{"wildcard": "a\\*b"}]}"#,
            json!({"f": "a*b"})
        ));
        assert!(!check(
            r#"{"f": [{"wildcard": "a\\*b"}]}"#,
            json!({"f": "axb"})
        ));
    }

    #[test]
    fn or_groups_and_arrays_in_the_event_match_any_member() {
        let p = r#"{"$or": [{"a": [1]}, {"b": [2]}]}"#;
        assert!(check(p, json!({"b": 2})));
        assert!(!check(p, json!({"a": 2, "b": 1})));
        assert!(check(r#"{"tags": ["x"]}"#, json!({"tags": ["w", "x"]})));
        assert!(check(
            r#"{"items": {"id": [7]}}"#,
            json!({"items": [{"id": 1}, {"id": 7}]})
        ));
    }

    #[test]
    fn the_last_duplicate_key_of_a_pattern_wins() {
        assert!(check(r#"{"a": ["x"], "a": ["y"]}"#, json!({"a": "y"})));
        assert!(!check(r#"{"a": ["x"], "a": ["y"]}"#, json!({"a": "x"})));
    }

    #[test]
    fn invalid_patterns_are_refused_with_aws_message() {
        for bad in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"a": "x"}"#,
            r#"{"a": 1}"#,
            r#"{"a": []}"#,
            r#"{"a": [[1]]}"#,
            r#"{"a": [{"prefix": 1}]}"#,
            r#"{"a": [{"nope": 1}]}"#,
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
            r#"{"a": [{"numeric": [">", 5, "<", 1]}]}"#,
            r#"{"a": [{"numeric": [">", 1, ">", 2]}]}"#,
            r#"{"a": [{"numeric": ["~", 1]}]}"#,
            r#"{"a": [{"exists": "yes"}]}"#,
            r#"{"a": [{"wildcard": "a**b"}]}"#,
            r#"{"$or": [{"a": [1]}]}"#,
            r#"{"a": {}}"#,
        ] {
            let e = Pattern::parse(bad).expect_err(bad);
            assert_eq!(e.to_string(), "Invalid filter pattern definition.", "{bad}");
        }
        let long = format!(r#"{{"a": ["{}"]}}"#, "x".repeat(MAX_PATTERN_CHARS));
        assert!(Pattern::parse(&long).is_err());
    }

    #[test]
    fn at_most_five_filters_are_accepted_and_any_of_them_passes_a_record() {
        let p = r#"{"a": [1]}"#;
        assert_eq!(
            FilterCriteria::parse(vec![Some(p); 6]),
            Err(FilterError::TooManyFilters)
        );
        let f = FilterCriteria::parse([Some(p), Some(r#"{"b": [2]}"#)]).expect("ok");
        assert!(f.matches(&json!({"b": 2})));
        assert!(!f.matches(&json!({"c": 2})));
        assert!(FilterCriteria::default().matches(&json!(1)));
        assert_eq!(
            FilterCriteria::parse([None]),
            Err(FilterError::InvalidPattern)
        );
    }

    #[test]
    fn a_payload_filter_never_passes_a_record_whose_payload_is_not_json() {
        let f = FilterCriteria::parse([Some(r#"{"data": [{"exists": false}]}"#)]).expect("ok");
        assert!(!f.matches_record(&json!({"partitionKey": "k"}), "data", false));
        let f = FilterCriteria::parse([Some(r#"{"partitionKey": ["k"]}"#)]).expect("ok");
        assert!(f.matches_record(&json!({"partitionKey": "k"}), "data", false));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z*\\\\]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c$]{1,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A pattern every value of `event` satisfies (exact values; nested objects).
    fn pattern_of(event: &Map<String, Value>) -> Option<Value> {
        let mut out = Map::new();
        for (k, v) in event {
            let p = match v {
                Value::Object(m) => pattern_of(m)?,
                Value::Array(items) => {
                    let first = items.iter().find(|i| !i.is_object() && !i.is_array())?;
                    json!([first])
                }
                scalar => json!([scalar]),
            };
            out.insert(k.clone(), p);
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    proptest! {
        #[test]
        fn parsing_and_matching_never_panic(s in ".{0,200}", event in json_value()) {
            if let Ok(p) = Pattern::parse(&s) {
                let _ = p.matches(&event);
            }
        }

        #[test]
        fn structured_patterns_never_panic(p in json_value(), event in json_value()) {
            if let Ok(p) = Pattern::parse(&p.to_string()) {
                let _ = p.matches(&event);
            }
        }

        #[test]
        fn a_pattern_built_from_an_event_matches_it(event in json_value()) {
            if let Value::Object(m) = &event
                && !m.contains_key("$or")
                && let Some(p) = pattern_of(m)
                && let Ok(p) = Pattern::parse(&p.to_string())
            {
                prop_assert!(p.matches(&event));
            }
        }

        #[test]
        fn wildcards_of_a_string_itself_match_it(s in "[a-z]{0,10}", cut in 0usize..10) {
            let cut = cut.min(s.len());
            let p = format!("{}*", &s[..cut]);
            prop_assert!(wildcard_match(&p, &s));
            prop_assert!(wildcard_match(&s, &s));
        }
    }
}
