// SPDX-License-Identifier: Apache-2.0
//! The JSON a mapping template sees: a request body parsed the way API Gateway reads it, and
//! the two ways a template prints a value.
//!
//! API Gateway parses the body into Java objects and a template prints a value either as JSON
//! (`$input.json(...)`: compact, strings quoted and escaped as Jackson writes them) or as
//! Velocity prints any object (`$input.path(...)`, `$elem.data`: a string's characters
//! without quotes, a list as `[a, b]`, a map as `{k=v}`). [`Json`] keeps what that needs: key
//! order, and each number's text as sent (so `1.50` stays `1.50`; Jackson would print `1.5`, a
//! documented difference).
//!
//! Invariants: [`parse`] never panics and never recurses deeper than [`MAX_DEPTH`]; a
//! duplicated key reads as its last value, as Java maps keep it.

use std::fmt::Write as _;

/// Deepest nesting of arrays and objects a body may have.
pub const MAX_DEPTH: usize = 500;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its text in the body.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in body order.
    Object(Vec<(String, Json)>),
}

/// Why a body is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct ParseError {
    /// What was wrong.
    pub message: &'static str,
    /// Where, in bytes from the start of the body.
    pub offset: usize,
}

/// Parses one JSON value (surrounded by optional whitespace).
pub fn parse(text: &[u8]) -> Result<Json, ParseError> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != text.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

impl Json {
    /// The member `key` of an object (its last occurrence); `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as compact JSON, escaped as Jackson escapes (`"`, `\`, control characters;
    /// `/` and non-ASCII characters as they are).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_json_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// The value as Velocity prints it: Java's `toString` of the object Jackson made (a string
    /// without quotes, `[a, b]`, `{k=v, k2=v2}`); `null` prints nothing.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) {
        match self {
            Json::Null => {}
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => out.push_str(s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_text(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    v.write_text(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            message,
            offset: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Json) -> Result<Json, ParseError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unrecognized token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a double-quoted field name"));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after a field name"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']' in an array")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        // Only ASCII was consumed.
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(Json::Number(text))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            match std::str::from_utf8(&self.s[start..self.i]) {
                Ok(run) => out.push_str(run),
                Err(_) => {
                    return Err(ParseError {
                        message: "invalid UTF-8",
                        offset: start,
                    });
                }
            }
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("unescaped control character in a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
        self.i += 1;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u")
                {
                    let save = self.i;
                    self.i += 2;
                    let lo = self.hex4()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        self.i = save;
                        hi
                    }
                } else {
                    hi
                };
                // A lone surrogate has no Rust char: it reads as U+FFFD.
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            _ => {
                self.i -= 1;
                return Err(self.err("invalid escape"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn strings_print_quoted_as_json_and_bare_as_text() {
        let v = parse(br#"{"Data": "some data", "n": 1.50, "o": {"a": [1, "x", null]}}"#)
            .expect("json");
        let data = v.get("Data").expect("Data");
        assert_eq!(data.to_json(), "\"some data\"");
        assert_eq!(data.to_text(), "some data");
        assert_eq!(v.get("n").expect("n").to_json(), "1.50");
        let o = v.get("o").expect("o");
        assert_eq!(o.to_json(), r#"{"a":[1,"x",null]}"#);
        assert_eq!(o.to_text(), "{a=[1, x, ]}");
    }

    #[test]
    fn escapes_are_rewritten_the_way_jackson_writes_them() {
        let v = parse(br#""a\/b \u00e9 \"q\" \\ \n\u0001 \ud83d\ude00""#).expect("json");
        assert_eq!(v.to_text(), "a/b é \"q\" \\ \n\u{1} 😀");
        assert_eq!(v.to_json(), r#""a/b é \"q\" \\ \n\u0001 😀""#);
    }

    #[test]
    fn the_last_of_duplicated_keys_wins() {
        let v = parse(br#"{"k": 1, "k": 2}"#).expect("json");
        assert_eq!(v.get("k"), Some(&Json::Number("2".into())));
    }

    #[test]
    fn malformed_bodies_are_errors_with_an_offset() {
        for (body, offset) in [
            (&b"{\"a\": 1,}"[..], 8),
            (b"{'a': 1}", 1),
            (b"[1 2]", 3),
            (b"01", 1),
            (b"\"abc", 4),
            (b"", 0),
            (b"{} x", 3),
            (b"tru", 0),
        ] {
            let e = parse(body).expect_err("malformed");
            assert_eq!(e.offset, offset, "{:?}: {e}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(deep.as_bytes()).expect_err("too deep").message,
            "nesting too deep"
        );
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    fn to_serde(v: &Json) -> serde_json::Value {
        match v {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Number(n) => serde_json::from_str(n).expect("number"),
            Json::String(s) => serde_json::Value::String(s.clone()),
            Json::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
            Json::Object(members) => {
                let mut m = serde_json::Map::new();
                for (k, v) in members {
                    m.insert(k.clone(), to_serde(v));
                }
                serde_json::Value::Object(m)
            }
        }
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            (-1_000_000i64..1_000_000).prop_map(|n| Json::Number(n.to_string())),
            "\\PC{0,12}".prop_map(Json::String),
            "[\\x00-\\x1f\"\\\\/]{0,4}".prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..5).prop_map(Json::Object),
            ]
        })
    }

    proptest! {
        #[test]
        fn printed_json_parses_back_to_the_same_value(v in arb_json()) {
            prop_assert_eq!(parse(v.to_json().as_bytes()).expect("parses"), v);
        }

        #[test]
        fn printed_json_means_the_same_to_serde_json(v in arb_json()) {
            let theirs: serde_json::Value = serde_json::from_str(&v.to_json()).expect("serde");
            prop_assert_eq!(to_serde(&v), theirs);
        }

        #[test]
        fn parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }

        // No `u`: a lone surrogate escape is JSON to Jackson (and here) but not to serde_json.
        #[test]
        fn parsing_agrees_with_serde_json_on_validity(text in "[\\[\\]{}\":,0-9a-tv-z .\\\\-]{0,24}") {
            let ours = parse(text.as_bytes()).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            prop_assert_eq!(ours, theirs, "{}", text);
        }
    }
}
