// SPDX-License-Identifier: Apache-2.0
//! Values of the query language: strings, numbers and timestamps, how they compare and how
//! GetQueryResults prints them (every result value is a string on the wire).

use freshet_types::civil::civil_from_days;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// A field or expression value. A field that is absent is `None` where values are optional.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// A number (JSON numbers, arithmetic, aggregates).
    Num(f64),
    /// A timestamp in epoch milliseconds (`@timestamp`, `@ingestionTime`, `bin`).
    Time(i64),
    /// A truth value (comparisons, `ispresent`).
    Bool(bool),
}

impl Value {
    /// The value as a number, if it is one or text that reads as one.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Time(t) => Some(*t as f64),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Str(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        }
    }

    /// Whether the value counts as true in a filter.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0,
            Value::Time(_) => true,
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// The text GetQueryResults shows.
    pub fn render(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(n) => format_number(*n),
            Value::Time(t) => format_time(*t),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        }
    }

    /// The value as text (for string functions and `like`).
    pub fn text(&self) -> String {
        self.render()
    }
}

/// Numbers as Logs Insights shows them: integers without a fraction, others in the
/// shortest form that reads back.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_owned();
    }
    if n.fract() == 0.0 && n.abs() < 1e17 {
        return format!("{}", n as i64);
    }
    format!("{n}")
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC, as Logs Insights shows `@timestamp`.
pub fn format_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(23);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    );
    s
}

/// Orders two optional values for `sort` as Logs Insights does: absent first, then every
/// value that is not a number (in natural order, [`natural_cmp`]), then numbers numerically.
pub fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => {
            let num = |v: &Value| match v {
                Value::Str(_) => v.as_num(),
                Value::Bool(_) => None,
                other => other.as_num(),
            };
            match (num(a), num(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => natural_cmp(&a.text(), &b.text()),
            }
        }
    }
}

/// Natural order (AWS's `sort` for values that are not numbers): runs of digits compare by
/// length, then by value; every other character by its Unicode value.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let o = (i - si).cmp(&(j - sj)).then(a[si..i].cmp(&b[sj..j]));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            // UTF-8 byte order is code point order.
            let o = a[i].cmp(&b[j]);
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// Orders two values: numerically when both read as numbers, else as text.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => match (a.as_num(), b.as_num()) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => x.cmp(y),
        },
        _ => match (a.as_num(), b.as_num()) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => a.text().cmp(&b.text()),
        },
    }
}

/// Equality as `=` sees it: numbers numerically, else text.
pub fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => match (a.as_num(), b.as_num()) {
            (Some(p), Some(q)) => p == q,
            _ => a.text() == b.text(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_logs_insights_shows_them() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14 22:13:20.123");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00:00.000");
    }

    #[test]
    fn numbers_print_without_a_needless_fraction() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(-0.125), "-0.125");
    }

    #[test]
    fn sort_order_is_aws_natural_order_with_numbers_last() {
        let mut v: Vec<Value> = [
            "1",
            "a12345hfh",
            "0#",
            "@",
            "111A",
            "!:",
            "A9876fghj",
            "5A",
            "2345_",
            "#",
            "*%04",
            "@_",
            "A",
            "0",
            "3",
            "2",
        ]
        .iter()
        .map(|s| Value::Str((*s).to_owned()))
        .collect();
        v.sort_by(|a, b| compare(Some(a), Some(b)));
        let got: Vec<String> = v.iter().map(Value::text).collect();
        assert_eq!(
            got,
            [
                "!:",
                "#",
                "*%04",
                "0#",
                "5A",
                "111A",
                "2345_",
                "@",
                "@_",
                "A",
                "A9876fghj",
                "a12345hfh",
                "0",
                "1",
                "2",
                "3"
            ]
        );
    }

    #[test]
    fn text_that_reads_as_a_number_compares_as_one() {
        let a = Value::Str("10".into());
        let b = Value::Num(9.0);
        assert_eq!(compare_values(&a, &b), Ordering::Greater);
        assert!(equals(&Value::Str("200".into()), &Value::Num(200.0)));
    }
}
