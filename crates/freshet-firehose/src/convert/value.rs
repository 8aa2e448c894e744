// SPDX-License-Identifier: Apache-2.0
//! One JSON record read against the columns, as the chosen SerDe reads it, into [`Cell`]s:
//! the typed value of each column, or the [`RecordError`] AWS reports for the record.
//!
//! Rules (AWS docs, "Converting input record format", and recorded AWS behaviour):
//! * keys match case-insensitively unless OpenX's `CaseInsensitive` is false (Hive's SerDe is
//!   always case-insensitive); OpenX can turn dots in keys into underscores and map columns to
//!   other keys (top level only); missing keys and JSON `null` are nulls; extra keys are
//!   ignored;
//! * OpenX is lenient: numbers and booleans inside strings are parsed, a non-array for an
//!   `array`, a non-object for a `map`/`struct` is null, objects in a `string` column are
//!   kept as their JSON text;
//! * Hive is strict: those same cases fail the record with AWS's messages;
//! * a value that cannot be read as its type fails the record
//!   (`DataFormatConversion.MalformedData`); a record that is not JSON fails with
//!   `DataFormatConversion.ParseError`;
//! * a decimal that does not fit its precision is null (Hive's `enforcePrecisionScale`).
//!
//! Invariant: a record either yields a full row or an error; nothing is half-appended.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::hive_type::HiveType;
use super::time;
use super::{Input, RecordError};

/// Prefix of every schema mismatch message, as AWS writes it.
const MISMATCH: &str = "Data does not match the schema.";

/// A typed value of one column (or nested field).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    Dec(i128),
    Date(i32),
    Ts(i64),
    List(Vec<Cell>),
    Map(Vec<(Cell, Cell)>),
    Struct(Vec<Cell>),
}

impl Cell {
    /// Roughly the heap and inline bytes this cell holds, for the batch budget.
    pub(crate) fn weight(&self) -> usize {
        let inner = match self {
            Cell::Str(s) => s.len(),
            Cell::Bin(b) => b.len(),
            Cell::List(v) | Cell::Struct(v) => v.iter().map(Cell::weight).sum(),
            Cell::Map(v) => v.iter().map(|(k, x)| k.weight() + x.weight()).sum(),
            _ => 0,
        };
        inner + std::mem::size_of::<Cell>()
    }
}

/// How records are read: the SerDe's rules, fixed at construction.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    openx: bool,
    case_insensitive: bool,
    dots: bool,
    /// Top-level column (normalized) → JSON key (normalized).
    mappings: HashMap<String, String>,
    timestamp_formats: Vec<String>,
}

fn mismatch(detail: impl std::fmt::Display) -> RecordError {
    RecordError::malformed(format!("{MISMATCH} {detail}"))
}

fn input_string(s: &str) -> RecordError {
    mismatch(format_args!("For input string: \"{s}\""))
}

fn not_numeric() -> RecordError {
    mismatch("Current token (VALUE_STRING) not numeric, can not use numeric value accessors")
}

impl Reader {
    pub(crate) fn new(input: &Input) -> Self {
        match input {
            Input::OpenX {
                case_insensitive,
                convert_dots_to_underscores,
                column_to_json_key,
            } => {
                let mut r = Reader {
                    openx: true,
                    case_insensitive: *case_insensitive,
                    dots: *convert_dots_to_underscores,
                    mappings: HashMap::new(),
                    timestamp_formats: Vec::new(),
                };
                r.mappings = mapping_table(&r, column_to_json_key);
                r
            }
            Input::Hive { timestamp_formats } => Reader {
                openx: false,
                case_insensitive: true,
                dots: false,
                mappings: HashMap::new(),
                timestamp_formats: timestamp_formats.clone(),
            },
        }
    }

    fn norm(&self, key: &str) -> String {
        let k = if self.case_insensitive {
            key.to_lowercase()
        } else {
            key.to_owned()
        };
        if self.dots { k.replace('.', "_") } else { k }
    }

    /// Reads one record into a row of cells, one per column.
    pub(crate) fn row(
        &self,
        columns: &[(String, HiveType)],
        record: &[u8],
    ) -> Result<Vec<Cell>, RecordError> {
        let value: Value = serde_json::from_slice(record).map_err(|e| RecordError {
            code: RecordError::PARSE_ERROR,
            message: format!("Encountered malformed JSON. {e}"),
        })?;
        let Value::Object(obj) = value else {
            return Err(mismatch("A JSON object is required."));
        };
        let index = self.index(&obj);
        columns
            .iter()
            .map(|(name, t)| {
                let key = self.norm(name);
                let key = self.mappings.get(&key).unwrap_or(&key);
                match index.get(key.as_str()) {
                    Some(v) => self.cell(t, v),
                    None => Ok(Cell::Null),
                }
            })
            .collect()
    }

    /// The object's members by normalized key; the first occurrence wins.
    fn index<'v>(&self, obj: &'v Map<String, Value>) -> HashMap<String, &'v Value> {
        let mut index = HashMap::with_capacity(obj.len());
        for (k, v) in obj {
            index.entry(self.norm(k)).or_insert(v);
        }
        index
    }

    fn cell(&self, t: &HiveType, v: &Value) -> Result<Cell, RecordError> {
        if v.is_null() {
            return Ok(Cell::Null);
        }
        match t {
            HiveType::String => self.string(v),
            HiveType::Boolean => self.boolean(v),
            HiveType::TinyInt => self.int(v, i64::from(i8::MIN), i64::from(i8::MAX)),
            HiveType::SmallInt => self.int(v, i64::from(i16::MIN), i64::from(i16::MAX)),
            HiveType::Int => self.int(v, i64::from(i32::MIN), i64::from(i32::MAX)),
            HiveType::BigInt => self.int(v, i64::MIN, i64::MAX),
            HiveType::Float => Ok(Cell::F32(self.float(v)? as f32)),
            HiveType::Double => Ok(Cell::F64(self.float(v)?)),
            HiveType::Decimal(p, s) => self.decimal(v, *p, *s),
            HiveType::Date => match v {
                Value::String(s) => time::parse_date(s)
                    .map(Cell::Date)
                    .ok_or_else(|| input_string(s)),
                other => Err(input_string(&other.to_string())),
            },
            HiveType::Timestamp => self.timestamp(v),
            HiveType::Binary => match v {
                Value::String(s) => Ok(Cell::Bin(s.as_bytes().to_vec())),
                other => Err(input_string(&other.to_string())),
            },
            HiveType::Array(inner) => match v {
                Value::Array(items) => items
                    .iter()
                    .map(|x| self.cell(inner, x))
                    .collect::<Result<_, _>>()
                    .map(Cell::List),
                _ if self.openx => Ok(Cell::Null),
                _ => Err(mismatch("java.io.IOException: Start of Array expected")),
            },
            HiveType::Map(k, val) => match v {
                Value::Object(obj) => {
                    let mut entries = Vec::with_capacity(obj.len());
                    for (key, x) in obj {
                        let key_cell = self.map_key(k, key)?;
                        entries.push((key_cell, self.cell(val, x)?));
                    }
                    Ok(Cell::Map(entries))
                }
                _ if self.openx => Ok(Cell::Null),
                _ => Err(mismatch("java.io.IOException: Start of Object expected")),
            },
            HiveType::Struct(fields) => match v {
                Value::Object(obj) => {
                    let index = self.index(obj);
                    fields
                        .iter()
                        .map(|(name, ft)| match index.get(self.norm(name).as_str()) {
                            Some(x) => self.cell(ft, x),
                            None => Ok(Cell::Null),
                        })
                        .collect::<Result<_, _>>()
                        .map(Cell::Struct)
                }
                _ if self.openx => Ok(Cell::Null),
                _ => Err(mismatch("java.io.IOException: Start of Object expected")),
            },
        }
    }

    /// A map key arrives as JSON object member name text; it is read as its type, leniently,
    /// and may not be null (Parquet map keys are required).
    fn map_key(&self, t: &HiveType, key: &str) -> Result<Cell, RecordError> {
        let lenient = Reader {
            openx: true,
            ..self.clone()
        };
        match lenient.cell(t, &Value::String(key.to_owned()))? {
            Cell::Null => Err(input_string(key)),
            c => Ok(c),
        }
    }

    fn string(&self, v: &Value) -> Result<Cell, RecordError> {
        match v {
            Value::String(s) => Ok(Cell::Str(s.clone())),
            Value::Number(n) => Ok(Cell::Str(n.to_string())),
            Value::Bool(b) => Ok(Cell::Str(b.to_string())),
            _ if self.openx => Ok(Cell::Str(v.to_string())),
            _ => Err(mismatch(
                "One or more fields have incorrect format. Exception when validating field (root)",
            )),
        }
    }

    fn boolean(&self, v: &Value) -> Result<Cell, RecordError> {
        match v {
            Value::Bool(b) => Ok(Cell::Bool(*b)),
            Value::String(s) if self.openx && s.trim().eq_ignore_ascii_case("true") => {
                Ok(Cell::Bool(true))
            }
            Value::String(s) if self.openx && s.trim().eq_ignore_ascii_case("false") => {
                Ok(Cell::Bool(false))
            }
            other => Err(input_string(&text_of(other))),
        }
    }

    fn int(&self, v: &Value, min: i64, max: i64) -> Result<Cell, RecordError> {
        let parsed = match v {
            Value::Number(n) => n.as_i64().ok_or_else(|| input_string(&n.to_string()))?,
            Value::String(s) if self.openx => {
                s.trim().parse::<i64>().map_err(|_| input_string(s))?
            }
            Value::String(_) => return Err(not_numeric()),
            other => return Err(input_string(&other.to_string())),
        };
        if parsed < min || parsed > max {
            return Err(mismatch(format_args!(
                "Value out of range. Value:\"{parsed}\""
            )));
        }
        Ok(Cell::Int(parsed))
    }

    fn float(&self, v: &Value) -> Result<f64, RecordError> {
        match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| input_string(&n.to_string())),
            Value::String(s) if self.openx => java_double(s.trim()).ok_or_else(|| input_string(s)),
            Value::String(_) => Err(not_numeric()),
            other => Err(input_string(&other.to_string())),
        }
    }

    fn decimal(&self, v: &Value, p: u8, s: i8) -> Result<Cell, RecordError> {
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(t) => t.trim().to_owned(),
            other => return Err(input_string(&other.to_string())),
        };
        match parse_decimal(&text, p, s) {
            Some(Some(d)) => Ok(Cell::Dec(d)),
            Some(None) => Ok(Cell::Null),
            None => Err(input_string(&text)),
        }
    }

    fn timestamp(&self, v: &Value) -> Result<Cell, RecordError> {
        let ms = match (v, self.openx) {
            (Value::Number(n), true) => n.as_f64().and_then(time::epoch_number),
            (Value::String(s), true) => time::openx_timestamp(s),
            (Value::Number(n), false) if self.timestamp_formats.iter().any(|f| f == "millis") => {
                n.as_i64()
            }
            (Value::String(s), false) => time::hive_timestamp(s, &self.timestamp_formats),
            _ => None,
        };
        ms.map(Cell::Ts).ok_or_else(|| {
            mismatch(format_args!(
                "Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]. Value: {}",
                text_of(v)
            ))
        })
    }
}

fn mapping_table(r: &Reader, m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter()
        .map(|(col, key)| (r.norm(col), r.norm(key)))
        .collect()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Double.parseDouble`'s extra spellings, then Rust's float syntax.
fn java_double(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if s.eq_ignore_ascii_case("nan") || s.to_ascii_lowercase().contains("inf") => None,
        _ => s.parse().ok(),
    }
}

/// A decimal literal (`-12.345`, `1e3`) scaled to `s` digits with HALF_UP rounding.
/// `None`: not a number; `Some(None)`: a number that does not fit `decimal(p,s)`.
pub(crate) fn parse_decimal(text: &str, p: u8, s: i8) -> Option<Option<i128>> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (neg, body) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    // value = digits × 10^(exp − frac_len); we want value × 10^s.
    let shift = i64::from(exp) - frac_part.len() as i64 + i64::from(s);
    let max_digits = i64::from(p);
    if digits.is_empty() {
        return Some(Some(0));
    }
    // More integer digits than the precision allows (rounding only adds): out of range.
    if digits.len() as i64 + shift > max_digits {
        return Some(None);
    }
    let value: i128 = if shift >= 0 {
        // At most `p` ≤ 38 digits: fits an i128.
        let mut v = digits.parse::<i128>().ok()?;
        for _ in 0..shift {
            v = v.checked_mul(10)?;
        }
        v
    } else {
        let cut = usize::try_from(-shift).ok()?;
        if cut > digits.len() {
            // The first dropped digit is an implied leading zero: rounds down to 0.
            0
        } else {
            let keep = &digits[..digits.len() - cut];
            let dropped = digits.as_bytes()[digits.len() - cut];
            let v = if keep.is_empty() {
                0
            } else {
                keep.parse::<i128>().ok()?
            };
            v + i128::from(dropped >= b'5')
        }
    };
    let limit = 10i128.pow(u32::from(p));
    if value >= limit {
        return Some(None);
    }
    Some(Some(if neg { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn openx() -> Reader {
        Reader::new(&Input::OpenX {
            case_insensitive: true,
            convert_dots_to_underscores: false,
            column_to_json_key: BTreeMap::new(),
        })
    }

    fn hive() -> Reader {
        Reader::new(&Input::Hive {
            timestamp_formats: vec![],
        })
    }

    fn cols(spec: &[(&str, &str)]) -> Vec<(String, HiveType)> {
        spec.iter()
            .map(|(n, t)| ((*n).to_owned(), HiveType::parse(t).expect("type")))
            .collect()
    }

    #[test]
    fn keys_match_case_insensitively_and_missing_keys_are_null() {
        let row = openx()
            .row(
                &cols(&[("ticker", "string"), ("price", "double"), ("gone", "int")]),
                br#"{"TICKER":"AMZN","Price":12.5,"extra":1}"#,
            )
            .expect("row");
        assert_eq!(
            row,
            vec![Cell::Str("AMZN".into()), Cell::F64(12.5), Cell::Null]
        );
    }

    #[test]
    fn case_sensitive_openx_does_not_match_other_cases() {
        let r = Reader::new(&Input::OpenX {
            case_insensitive: false,
            convert_dots_to_underscores: true,
            column_to_json_key: BTreeMap::from([("ts".to_owned(), "event time".to_owned())]),
        });
        let row = r
            .row(
                &cols(&[("a", "int"), ("b_c", "int"), ("ts", "string")]),
                br#"{"A":1,"b.c":2,"event time":"x"}"#,
            )
            .expect("row");
        assert_eq!(row, vec![Cell::Null, Cell::Int(2), Cell::Str("x".into())]);
    }

    #[test]
    fn openx_reads_numbers_and_booleans_inside_strings_but_hive_does_not() {
        let c = cols(&[("n", "int"), ("b", "boolean")]);
        let row = openx().row(&c, br#"{"n":" 42 ","b":"TRUE"}"#).expect("row");
        assert_eq!(row, vec![Cell::Int(42), Cell::Bool(true)]);
        let err = hive().row(&c, br#"{"n":"42"}"#).expect_err("strict");
        assert_eq!(err.code, RecordError::MALFORMED_DATA);
        assert!(err.message.contains("not numeric"), "{}", err.message);
    }

    #[test]
    fn values_that_do_not_fit_fail_the_record() {
        let c = cols(&[("n", "tinyint")]);
        let err = openx().row(&c, br#"{"n":300}"#).expect_err("range");
        assert!(
            err.message.starts_with("Data does not match the schema."),
            "{}",
            err.message
        );
        let err = openx()
            .row(&cols(&[("d", "double")]), br#"{"d":"abc"}"#)
            .expect_err("nan");
        assert_eq!(
            err.message,
            "Data does not match the schema. For input string: \"abc\""
        );
    }

    #[test]
    fn complex_mismatches_are_null_for_openx_and_errors_for_hive() {
        let c = cols(&[
            ("a", "array<int>"),
            ("s", "struct<x:int>"),
            ("m", "map<string,int>"),
        ]);
        let row = openx()
            .row(&c, br#"{"a":1,"s":"x","m":[1]}"#)
            .expect("lenient");
        assert_eq!(row, vec![Cell::Null, Cell::Null, Cell::Null]);
        let err = hive().row(&c, br#"{"a":1}"#).expect_err("strict");
        assert!(
            err.message.ends_with("Start of Array expected"),
            "{}",
            err.message
        );
    }

    #[test]
    fn nested_values_are_read_with_the_same_rules() {
        let c = cols(&[(
            "s",
            "struct<Name:string,tags:array<string>,attrs:map<int,boolean>>",
        )]);
        let row = openx()
            .row(
                &c,
                br#"{"s":{"name":"n","TAGS":["a",null],"attrs":{"1":true}}}"#,
            )
            .expect("row");
        assert_eq!(
            row,
            vec![Cell::Struct(vec![
                Cell::Str("n".into()),
                Cell::List(vec![Cell::Str("a".into()), Cell::Null]),
                Cell::Map(vec![(Cell::Int(1), Cell::Bool(true))]),
            ])]
        );
    }

    #[test]
    fn malformed_json_and_non_objects_fail_with_their_codes() {
        let c = cols(&[("a", "int")]);
        let err = openx().row(&c, b"{not json").expect_err("parse");
        assert_eq!(err.code, RecordError::PARSE_ERROR);
        assert!(
            err.message.starts_with("Encountered malformed JSON."),
            "{}",
            err.message
        );
        let err = openx().row(&c, b"[1,2]").expect_err("array");
        assert_eq!(err.code, RecordError::MALFORMED_DATA);
    }

    #[test]
    fn objects_in_string_columns_keep_their_json_text_under_openx() {
        let row = openx()
            .row(&cols(&[("s", "string")]), br#"{"s":{"a":1}}"#)
            .expect("row");
        assert_eq!(row, vec![Cell::Str(r#"{"a":1}"#.into())]);
        assert!(
            hive()
                .row(&cols(&[("s", "string")]), br#"{"s":{"a":1}}"#)
                .is_err()
        );
    }

    #[test]
    fn decimals_round_half_up_and_overflow_to_null() {
        assert_eq!(parse_decimal("12.345", 10, 2), Some(Some(1235)));
        assert_eq!(parse_decimal("-12.344", 10, 2), Some(Some(-1234)));
        assert_eq!(parse_decimal("1e3", 10, 2), Some(Some(100_000)));
        assert_eq!(parse_decimal("0.005", 4, 2), Some(Some(1)));
        assert_eq!(parse_decimal("0.004", 4, 2), Some(Some(0)));
        assert_eq!(parse_decimal("123456", 5, 0), Some(None));
        assert_eq!(parse_decimal("99.999", 4, 2), Some(None));
        assert_eq!(parse_decimal("abc", 4, 2), None);
        assert_eq!(parse_decimal(".", 4, 2), None);
    }

    proptest! {
        #[test]
        fn integers_in_range_read_back_exactly(n in any::<i32>(), quoted in any::<bool>()) {
            let rec = if quoted { format!(r#"{{"n":"{n}"}}"#) } else { format!(r#"{{"n":{n}}}"#) };
            let row = openx().row(&cols(&[("n", "int")]), rec.as_bytes()).expect("row");
            prop_assert_eq!(row, vec![Cell::Int(i64::from(n))]);
        }

        #[test]
        fn decimals_with_exact_scale_read_back_exactly(v in -99_999_999i64..99_999_999, s in 0i8..6) {
            let scale = 10i64.pow(s as u32);
            let text = if s == 0 { v.to_string() } else {
                format!("{}{}.{:0w$}", if v < 0 { "-" } else { "" }, (v / scale).abs(), (v % scale).abs(), w = s as usize)
            };
            prop_assert_eq!(parse_decimal(&text, 18, s), Some(Some(i128::from(v))));
        }

        #[test]
        fn arbitrary_records_never_panic(rec in "\\PC{0,60}") {
            let c = cols(&[("a", "int"), ("b", "array<struct<x:decimal(5,2)>>"), ("c", "timestamp"), ("d", "map<bigint,date>")]);
            let _ = openx().row(&c, rec.as_bytes());
            let _ = hive().row(&c, rec.as_bytes());
        }

        #[test]
        fn arbitrary_decimal_text_never_panics(text in "[-+0-9.eE]{0,45}", p in 1u8..=38, s in 0i8..=10) {
            let s = s.min(p as i8);
            let _ = parse_decimal(&text, p, s);
        }
    }
}
