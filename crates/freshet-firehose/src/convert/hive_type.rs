// SPDX-License-Identifier: Apache-2.0
//! Hive type strings (as Glue `Column.Type` carries them) parsed into [`HiveType`], and the
//! Arrow type each one is written as.
//!
//! Grammar (case-insensitive, spaces allowed around punctuation): `string`, `varchar(n)`,
//! `char(n)`, `boolean`, `tinyint`, `smallint`, `int`/`integer`, `bigint`, `float`, `double`,
//! `decimal`, `decimal(p)`, `decimal(p,s)`, `date`, `timestamp`, `binary`, `array<T>`,
//! `map<K,V>` (K primitive), `struct<name:T,...>`. Nesting is bounded by [`MAX_DEPTH`] so a
//! hostile type string cannot overflow the stack.

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};

/// How deep types may nest.
pub const MAX_DEPTH: usize = 32;
/// Hive's decimal precision limit.
pub const MAX_DECIMAL_PRECISION: u8 = 38;

/// One Hive type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    /// `string`, `varchar(n)`, `char(n)` (lengths are not enforced, as Hive's writer does not).
    String,
    /// `boolean`.
    Boolean,
    /// `tinyint`.
    TinyInt,
    /// `smallint`.
    SmallInt,
    /// `int`.
    Int,
    /// `bigint`.
    BigInt,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `decimal(precision, scale)`.
    Decimal(u8, i8),
    /// `date`.
    Date,
    /// `timestamp`.
    Timestamp,
    /// `binary`.
    Binary,
    /// `array<T>`.
    Array(Box<HiveType>),
    /// `map<K,V>`.
    Map(Box<HiveType>, Box<HiveType>),
    /// `struct<a:T,...>`, fields in order, names as written.
    Struct(Vec<(String, HiveType)>),
}

/// A type string Freshet cannot parse or convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Hive type '{text}': {reason}")]
pub struct TypeError {
    /// The whole type string.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl HiveType {
    /// Parses a whole type string.
    pub fn parse(text: &str) -> Result<HiveType, TypeError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let fail = |reason: String| TypeError {
            text: text.to_owned(),
            reason,
        };
        let t = p.ty(0).map_err(fail)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(fail(format!("unexpected text at position {}", p.i)));
        }
        Ok(t)
    }

    /// The Arrow type this Hive type is written as.
    pub fn arrow_type(&self) -> DataType {
        match self {
            HiveType::String => DataType::Utf8,
            HiveType::Boolean => DataType::Boolean,
            HiveType::TinyInt => DataType::Int8,
            HiveType::SmallInt => DataType::Int16,
            HiveType::Int => DataType::Int32,
            HiveType::BigInt => DataType::Int64,
            HiveType::Float => DataType::Float32,
            HiveType::Double => DataType::Float64,
            HiveType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            HiveType::Date => DataType::Date32,
            // Hive timestamps carry no zone: not adjusted to UTC.
            HiveType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            HiveType::Binary => DataType::Binary,
            HiveType::Array(t) => {
                DataType::List(Arc::new(Field::new("element", t.arrow_type(), true)))
            }
            HiveType::Map(k, v) => DataType::Map(
                Arc::new(Field::new(
                    "key_value",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k.arrow_type(), false),
                        Field::new("value", v.arrow_type(), true),
                    ])),
                    false,
                )),
                false,
            ),
            HiveType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Field::new(n, t.arrow_type(), true))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::String => f.write_str("string"),
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::TinyInt => f.write_str("tinyint"),
            HiveType::SmallInt => f.write_str("smallint"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Float => f.write_str("float"),
            HiveType::Double => f.write_str("double"),
            HiveType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            HiveType::Date => f.write_str("date"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Binary => f.write_str("binary"),
            HiveType::Array(t) => write!(f, "array<{t}>"),
            HiveType::Map(k, v) => write!(f, "map<{k},{v}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{n}:{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at position {}", c as char, self.i))
        }
    }

    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// A struct field name: anything up to the `:` (Hive allows backquoted names too).
    fn field_name(&mut self) -> Result<String, String> {
        self.ws();
        if self.eat(b'`') {
            let start = self.i;
            while self.s.get(self.i).is_some_and(|c| *c != b'`') {
                self.i += 1;
            }
            let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.expect(b'`')?;
            return Ok(name);
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| !matches!(c, b':' | b',' | b'<' | b'>') && !c.is_ascii_whitespace())
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a field name at position {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn number(&mut self) -> Result<u32, String> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) && self.i - start < 9 {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("expected a number at position {start}"))
    }

    fn ty(&mut self, depth: usize) -> Result<HiveType, String> {
        if depth > MAX_DEPTH {
            return Err(format!("types nest deeper than {MAX_DEPTH} levels"));
        }
        let word = self.word().to_ascii_lowercase();
        Ok(match word.as_str() {
            "string" => HiveType::String,
            "varchar" | "char" => {
                self.expect(b'(')?;
                let n = self.number()?;
                self.expect(b')')?;
                let max = if word == "char" { 255 } else { 65535 };
                if n == 0 || n > max {
                    return Err(format!("{word} length must be between 1 and {max}"));
                }
                HiveType::String
            }
            "boolean" => HiveType::Boolean,
            "tinyint" => HiveType::TinyInt,
            "smallint" => HiveType::SmallInt,
            "int" | "integer" => HiveType::Int,
            "bigint" => HiveType::BigInt,
            "float" => HiveType::Float,
            "double" => HiveType::Double,
            "date" => HiveType::Date,
            "timestamp" => HiveType::Timestamp,
            "binary" => HiveType::Binary,
            "decimal" | "numeric" => {
                // Hive's defaults: decimal = decimal(10,0).
                let (mut p, mut s) = (10, 0);
                if self.eat(b'(') {
                    p = self.number()?;
                    s = if self.eat(b',') { self.number()? } else { 0 };
                    self.expect(b')')?;
                }
                if p == 0 || p > u32::from(MAX_DECIMAL_PRECISION) || s > p {
                    return Err(format!(
                        "decimal precision must be 1..={MAX_DECIMAL_PRECISION} and scale 0..=precision"
                    ));
                }
                HiveType::Decimal(p as u8, s as i8)
            }
            "array" => {
                self.expect(b'<')?;
                let t = self.ty(depth + 1)?;
                self.expect(b'>')?;
                HiveType::Array(Box::new(t))
            }
            "map" => {
                self.expect(b'<')?;
                let k = self.ty(depth + 1)?;
                if matches!(
                    k,
                    HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_)
                ) {
                    return Err("map keys must be a primitive type".to_owned());
                }
                self.expect(b',')?;
                let v = self.ty(depth + 1)?;
                self.expect(b'>')?;
                HiveType::Map(Box::new(k), Box::new(v))
            }
            "struct" => {
                self.expect(b'<')?;
                let mut fields: Vec<(String, HiveType)> = Vec::new();
                loop {
                    let name = self.field_name()?;
                    self.expect(b':')?;
                    let t = self.ty(depth + 1)?;
                    if fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        return Err(format!("duplicate struct field '{name}'"));
                    }
                    fields.push((name, t));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b'>')?;
                HiveType::Struct(fields)
            }
            "" => return Err(format!("expected a type at position {}", self.i)),
            other => return Err(format!("unknown type '{other}'")),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn primitive_names_parse_case_insensitively() {
        for (text, t) in [
            ("STRING", HiveType::String),
            ("varchar(20)", HiveType::String),
            ("char( 3 )", HiveType::String),
            ("Int", HiveType::Int),
            ("integer", HiveType::Int),
            ("decimal", HiveType::Decimal(10, 0)),
            ("decimal(12)", HiveType::Decimal(12, 0)),
            ("decimal(12, 4)", HiveType::Decimal(12, 4)),
            ("timestamp", HiveType::Timestamp),
        ] {
            assert_eq!(HiveType::parse(text), Ok(t), "{text}");
        }
    }

    #[test]
    fn nested_types_parse() {
        let t = HiveType::parse("struct<a:int, b : array<map<string,double>>, `c d`:date>")
            .expect("parse");
        assert_eq!(
            t,
            HiveType::Struct(vec![
                ("a".into(), HiveType::Int),
                (
                    "b".into(),
                    HiveType::Array(Box::new(HiveType::Map(
                        Box::new(HiveType::String),
                        Box::new(HiveType::Double)
                    )))
                ),
                ("c d".into(), HiveType::Date),
            ])
        );
    }

    #[test]
    fn bad_types_are_refused_with_a_reason() {
        for text in [
            "",
            "uniontype<int,string>",
            "decimal(39,1)",
            "decimal(5,6)",
            "varchar(0)",
            "array<int",
            "map<array<int>,int>",
            "struct<a:int,a:int>",
            "int extra",
            "interval",
        ] {
            assert!(HiveType::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = format!("{}int{}", "array<".repeat(10_000), ">".repeat(10_000));
        let err = HiveType::parse(&text).expect_err("too deep");
        assert!(err.reason.contains("nest deeper"), "{err}");
    }

    fn arb_type() -> impl Strategy<Value = HiveType> {
        let leaf = prop_oneof![
            Just(HiveType::String),
            Just(HiveType::Boolean),
            Just(HiveType::TinyInt),
            Just(HiveType::SmallInt),
            Just(HiveType::Int),
            Just(HiveType::BigInt),
            Just(HiveType::Float),
            Just(HiveType::Double),
            (1u8..=38)
                .prop_flat_map(|p| (Just(p), 0..=p as i8))
                .prop_map(|(p, s)| HiveType::Decimal(p, s)),
            Just(HiveType::Date),
            Just(HiveType::Timestamp),
            Just(HiveType::Binary),
        ];
        leaf.clone().prop_recursive(4, 24, 4, move |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| HiveType::Array(Box::new(t))),
                (leaf.clone(), inner.clone())
                    .prop_map(|(k, v)| HiveType::Map(Box::new(k), Box::new(v))),
                proptest::collection::btree_map("[a-z][a-z0-9_]{0,6}", inner, 1..4)
                    .prop_map(|m| HiveType::Struct(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(t in arb_type()) {
            prop_assert_eq!(HiveType::parse(&t.to_string()), Ok(t));
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
            let _ = HiveType::parse(&text);
        }
    }
}
