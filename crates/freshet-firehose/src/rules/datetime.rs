// SPDX-License-Identifier: Apache-2.0
//! The subset of Java's `DateTimeFormatter` patterns that `!{timestamp:...}` accepts.
//!
//! AWS evaluates `!{timestamp:<pattern>}` with `java.time.format.DateTimeFormatter.ofPattern`
//! ([s3-prefixes](https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)). This
//! module implements the letters below exactly as Java prints them (ISO chronology, English
//! text); any other pattern letter is rejected at validation, never printed wrong:
//!
//! | letters | field | printed as |
//! |---|---|---|
//! | `y`, `u` (1, 3+), `yy`/`uu` | year (of era / proleptic) | unpadded or zero-padded to the count; `yy` = last two digits |
//! | `M`, `MM`, `MMM`, `MMMM`, `MMMMM` | month | `1`, `01`, `Jan`, `January`, `J` |
//! | `L` (same counts) | stand-alone month | as `M` |
//! | `d`, `dd` | day of month | `7`, `07` |
//! | `D`, `DD`, `DDD` | day of year | `5`, `05`, `005` |
//! | `H`, `HH` / `k`, `kk` | hour 0–23 / 1–24 | unpadded, padded |
//! | `h`, `hh` / `K`, `KK` | hour 1–12 / 0–11 | unpadded, padded |
//! | `a` | AM/PM | `AM`, `PM` |
//! | `m`, `mm`; `s`, `ss` | minute; second | unpadded, padded |
//! | `S`…`SSSSSSSSS` | fraction of second | the first *n* digits |
//! | `E`…`EEE`, `EEEE`, `EEEEE` | day of week | `Mon`, `Monday`, `M` |
//! | `'text'`, `''` | literal text, a single quote | verbatim |
//!
//! Characters that are not ASCII letters print as themselves, except Java's reserved
//! `[ ] { } #`, which are rejected (optional sections are not supported).

use jiff::Zoned;

/// One element of a parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// Printed verbatim.
    Literal(String),
    /// Year; the count decides padding (2 = two-digit reduced).
    Year(usize),
    /// Month of year (1–2 numeric, 3 short, 4 full, 5 narrow text).
    Month(usize),
    /// Day of month.
    Day(usize),
    /// Day of year.
    DayOfYear(usize),
    /// Hour 0–23.
    Hour(usize),
    /// Hour 1–24.
    HourOf24(usize),
    /// Hour 1–12.
    ClockHour12(usize),
    /// Hour 0–11.
    Hour12(usize),
    /// AM/PM marker.
    AmPm,
    /// Minute.
    Minute(usize),
    /// Second.
    Second(usize),
    /// Fraction of second with this many digits.
    Fraction(usize),
    /// Day of week as text (1–3 short, 4 full, 5 narrow).
    Weekday(usize),
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Parses a pattern; `Err` names what Java or this subset rejects.
pub(crate) fn parse(pattern: &str) -> Result<Vec<Item>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal; '' inside or outside quotes is one quote.
            if chars.get(i + 1) == Some(&'\'') {
                items.push(Item::Literal("'".to_owned()));
                i += 2;
                continue;
            }
            let mut text = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => {
                        return Err(format!(
                            "Pattern ends with an incomplete string literal: {pattern}"
                        ));
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        text.push('\'');
                        j += 2;
                    }
                    Some('\'') => {
                        j += 1;
                        break;
                    }
                    Some(&other) => {
                        text.push(other);
                        j += 1;
                    }
                }
            }
            items.push(Item::Literal(text));
            i = j;
            continue;
        }
        if c.is_ascii_alphabetic() {
            let mut count = 1;
            while chars.get(i + count) == Some(&c) {
                count += 1;
            }
            items.push(letter(c, count, pattern)?);
            i += count;
            continue;
        }
        if matches!(c, '[' | ']' | '{' | '}' | '#') {
            return Err(format!(
                "Unsupported character '{c}' in timestamp pattern: {pattern}"
            ));
        }
        items.push(Item::Literal(c.to_string()));
        i += 1;
    }
    Ok(items)
}

fn letter(c: char, count: usize, pattern: &str) -> Result<Item, String> {
    let too_many = || Err(format!("Too many pattern letters: {c} in {pattern}"));
    match c {
        'y' | 'u' if count <= 19 => Ok(Item::Year(count)),
        'M' | 'L' if count <= 5 => Ok(Item::Month(count)),
        'd' if count <= 2 => Ok(Item::Day(count)),
        'D' if count <= 3 => Ok(Item::DayOfYear(count)),
        'H' if count <= 2 => Ok(Item::Hour(count)),
        'k' if count <= 2 => Ok(Item::HourOf24(count)),
        'h' if count <= 2 => Ok(Item::ClockHour12(count)),
        'K' if count <= 2 => Ok(Item::Hour12(count)),
        'a' if count == 1 => Ok(Item::AmPm),
        'm' if count <= 2 => Ok(Item::Minute(count)),
        's' if count <= 2 => Ok(Item::Second(count)),
        'S' if count <= 9 => Ok(Item::Fraction(count)),
        'E' if count <= 5 => Ok(Item::Weekday(count)),
        'y' | 'u' | 'M' | 'L' | 'd' | 'D' | 'H' | 'k' | 'h' | 'K' | 'a' | 'm' | 's' | 'S' | 'E' => {
            too_many()
        }
        _ => Err(format!(
            "Unsupported pattern letter '{c}' in timestamp pattern: {pattern}"
        )),
    }
}

fn num(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    let digits = value.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// Prints `items` for the instant `at`.
pub(crate) fn format(items: &[Item], at: &Zoned, out: &mut String) {
    for item in items {
        match item {
            Item::Literal(text) => out.push_str(text),
            Item::Year(2) => num(out, i64::from(at.year()).rem_euclid(100), 2),
            Item::Year(n) => {
                let year = i64::from(at.year());
                // Java's EXCEEDS_PAD: a '+' when a 4+ letter year has more digits than letters.
                if *n >= 4 && year > 0 && year.to_string().len() > *n {
                    out.push('+');
                }
                num(out, year, if *n == 1 { 1 } else { *n })
            }
            Item::Month(n @ 1..=2) => num(out, i64::from(at.month()), *n),
            Item::Month(n) => {
                let name = MONTHS[usize::from(at.month().unsigned_abs()).saturating_sub(1) % 12];
                text(out, name, *n);
            }
            Item::Day(n) => num(out, i64::from(at.day()), *n),
            Item::DayOfYear(n) => num(out, i64::from(at.day_of_year()), *n),
            Item::Hour(n) => num(out, i64::from(at.hour()), *n),
            Item::HourOf24(n) => {
                let h = i64::from(at.hour());
                num(out, if h == 0 { 24 } else { h }, *n)
            }
            Item::ClockHour12(n) => {
                let h = i64::from(at.hour()) % 12;
                num(out, if h == 0 { 12 } else { h }, *n)
            }
            Item::Hour12(n) => num(out, i64::from(at.hour()) % 12, *n),
            Item::AmPm => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
            Item::Minute(n) => num(out, i64::from(at.minute()), *n),
            Item::Second(n) => num(out, i64::from(at.second()), *n),
            Item::Fraction(n) => {
                let nanos = format!("{:09}", at.subsec_nanosecond().unsigned_abs());
                out.push_str(&nanos[..(*n).min(9)]);
            }
            Item::Weekday(n) => {
                let idx = usize::from(at.weekday().to_monday_zero_offset().unsigned_abs());
                text(out, WEEKDAYS[idx % 7], if *n <= 3 { 3 } else { *n });
            }
        }
    }
}

/// Java's text styles: 3 letters short, 4 full, 5 narrow.
fn text(out: &mut String, full: &str, count: usize) {
    match count {
        3 => out.push_str(&full[..3]),
        5 => out.push_str(&full[..1]),
        _ => out.push_str(full),
    }
}

#[cfg(test)]
mod tests {
    use jiff::{Timestamp, tz::TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn render(pattern: &str, ms: i64) -> String {
        let items = parse(pattern).unwrap();
        let at = Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned(TimeZone::UTC);
        let mut out = String::new();
        format(&items, &at, &mut out);
        out
    }

    // 2018-08-27T10:30:05.123Z, a Monday: the example instant of AWS's s3-prefixes page.
    const AWS_EXAMPLE_MS: i64 = 1_535_365_805_123;

    #[test]
    fn default_layout_prints_as_aws_documents() {
        assert_eq!(render("yyyy/MM/dd/HH/", AWS_EXAMPLE_MS), "2018/08/27/10/");
    }

    #[test]
    fn quoted_literals_and_doubled_quotes_print_verbatim() {
        assert_eq!(render("yyyy'-'MM'-'dd", AWS_EXAMPLE_MS), "2018-08-27");
        assert_eq!(render("'year='yyyy''", AWS_EXAMPLE_MS), "year=2018'");
        assert_eq!(render("'it''s' H", AWS_EXAMPLE_MS), "it's 10");
    }

    #[test]
    fn every_supported_letter_prints_like_java() {
        assert_eq!(
            render("y yy yyy yyyy yyyyy", AWS_EXAMPLE_MS),
            "2018 18 2018 2018 02018"
        );
        assert_eq!(
            render("M MM MMM MMMM MMMMM", AWS_EXAMPLE_MS),
            "8 08 Aug August A"
        );
        assert_eq!(render("D DD DDD d", AWS_EXAMPLE_MS), "239 239 239 27");
        assert_eq!(render("h hh K a k", AWS_EXAMPLE_MS), "10 10 10 AM 10");
        assert_eq!(
            render("m mm s ss S SSS", AWS_EXAMPLE_MS),
            "30 30 5 05 1 123"
        );
        assert_eq!(
            render("E EEE EEEE EEEEE", AWS_EXAMPLE_MS),
            "Mon Mon Monday M"
        );
        assert_eq!(render("H k h K a", 1_535_328_000_000), "0 24 12 0 AM");
    }

    #[test]
    fn unsupported_letters_and_reserved_characters_are_rejected() {
        for bad in [
            "yyyy-ww", "Q", "z", "VV", "[yyyy]", "HHH", "dd'open", "#", "aa",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn any_pattern_parses_or_fails_without_panicking(pattern in ".{0,40}", ms in -62_000_000_000_000i64..250_000_000_000_000) {
            if let Ok(items) = parse(&pattern) {
                let at = Timestamp::from_millisecond(ms).unwrap().to_zoned(TimeZone::UTC);
                let mut out = String::new();
                format(&items, &at, &mut out);
            }
        }

        #[test]
        fn padded_numeric_fields_have_fixed_width(ms in 0i64..250_000_000_000_000) {
            let out = render("yyyy/MM/dd/HH/mm/ss", ms);
            prop_assert_eq!(out.len(), 19);
        }
    }
}
