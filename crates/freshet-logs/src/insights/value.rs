// SPDX-License-Identifier: Apache-2.0
//! Values of the query language: strings, numbers and timestamps, how they compare and how
//! GetQueryResults prints them (every result value is a string on the wire).

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

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Orders two optional values for `sort`: absent first, numbers numerically (text that
/// reads as a number too), then text lexicographically.
pub fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare_values(a, b),
    }
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
    fn text_that_reads_as_a_number_compares_as_one() {
        let a = Value::Str("10".into());
        let b = Value::Num(9.0);
        assert_eq!(compare_values(&a, &b), Ordering::Greater);
        assert!(equals(&Value::Str("200".into()), &Value::Num(200.0)));
    }
}
