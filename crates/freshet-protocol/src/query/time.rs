// SPDX-License-Identifier: Apache-2.0
//! Timestamps between the Query protocol's ISO-8601 text and the JSON protocol's epoch seconds.
//!
//! Parsing takes what Query clients send: botocore writes `2024-01-01T00:00:00Z` or, with
//! microseconds, `2024-01-01T00:00:00.123456Z`; Java and .NET SDKs write milliseconds; offsets
//! (`+01:00`, `+0100`) and plain epoch seconds are accepted too. Formatting writes what AWS
//! writes: UTC with milliseconds, `2024-01-01T00:00:00.000Z`. Years are limited to 0000-9999,
//! the range ISO-8601's four-digit form covers.

pub(crate) use freshet_types::civil::{civil_from_days, days_from_civil};

/// Seconds from 1970-01-01 to 0000-01-01 (proleptic Gregorian).
const MIN_SECONDS: i64 = -62_167_219_200;
/// Seconds from 1970-01-01 to 10000-01-01.
const MAX_SECONDS_EXCL: i64 = 253_402_300_800;

/// A parsed instant: whole seconds since the epoch and nanoseconds within the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant {
    pub(crate) seconds: i64,
    pub(crate) nanos: u32,
}

impl Instant {
    /// The JSON protocol's value: an integer when whole, else fractional seconds.
    pub(crate) fn to_json(self) -> serde_json::Value {
        if self.nanos == 0 {
            serde_json::Value::from(self.seconds)
        } else {
            serde_json::Number::from_f64(self.seconds as f64 + f64::from(self.nanos) / 1e9)
                .map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
    }
}

/// Parses an ISO-8601 date-time or epoch seconds.
pub(crate) fn parse(text: &str) -> Option<Instant> {
    if text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-')
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && !text.contains('T')
    {
        return parse_epoch(text);
    }
    parse_iso(text.as_bytes())
}

fn parse_epoch(text: &str) -> Option<Instant> {
    if let Ok(seconds) = text.parse::<i64>() {
        return in_range(seconds).then_some(Instant { seconds, nanos: 0 });
    }
    let (whole, frac) = text.split_once('.')?;
    let mut seconds: i64 = if whole.is_empty() || whole == "-" {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = fraction_nanos(frac.as_bytes())?;
    if whole.starts_with('-') && nanos > 0 {
        seconds -= 1;
        nanos = 1_000_000_000 - nanos;
    }
    in_range(seconds).then_some(Instant { seconds, nanos })
}

fn in_range(seconds: i64) -> bool {
    (MIN_SECONDS..MAX_SECONDS_EXCL).contains(&seconds)
}

/// Nanoseconds from fraction digits (`123` → 123_000_000); digits past the ninth are dropped.
fn fraction_nanos(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
    }
    Some(nanos)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

fn parse_iso(b: &[u8]) -> Option<Instant> {
    // YYYY-MM-DDTHH:MM:SS
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let len = frac.iter().take_while(|d| d.is_ascii_digit()).count();
        nanos = fraction_nanos(&frac[..len])?;
        rest = &frac[len..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail.len() {
                2 => (digits(tail, 0, 2)?, 0),
                4 => (digits(tail, 0, 2)?, digits(tail, 2, 2)?),
                5 if tail[2] == b':' => (digits(tail, 0, 2)?, digits(tail, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Instant { seconds, nanos })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Epoch milliseconds from JSON epoch seconds, rounded to the millisecond and clamped to the
/// formattable range.
pub(crate) fn millis_from_seconds(seconds: f64) -> i64 {
    let ms = (seconds * 1000.0).round();
    let (lo, hi) = (MIN_SECONDS * 1000, MAX_SECONDS_EXCL * 1000 - 1);
    if ms.is_nan() {
        0
    } else if ms <= lo as f64 {
        lo
    } else if ms >= hi as f64 {
        hi
    } else {
        ms as i64
    }
}

/// Epoch milliseconds from whole JSON epoch seconds, clamped like [`millis_from_seconds`].
pub(crate) fn millis_from_whole_seconds(seconds: i64) -> i64 {
    seconds.clamp(MIN_SECONDS, MAX_SECONDS_EXCL - 1) * 1000
}

/// Appends `2024-01-01T00:00:00.000Z` for epoch milliseconds in range (see the clamps above).
pub(crate) fn write_iso_millis(out: &mut String, millis: i64) {
    let seconds = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(seconds.div_euclid(86_400));
    let sod = seconds.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let push2 = |out: &mut String, v: i64| {
        out.push(char::from(b'0' + (v / 10 % 10) as u8));
        out.push(char::from(b'0' + (v % 10) as u8));
    };
    push2(out, y / 100);
    push2(out, y % 100);
    out.push('-');
    push2(out, mo);
    out.push('-');
    push2(out, d);
    out.push('T');
    push2(out, h);
    out.push(':');
    push2(out, mi);
    out.push(':');
    push2(out, s);
    out.push('.');
    out.push(char::from(b'0' + (ms / 100) as u8));
    push2(out, ms % 100);
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn iso(millis: i64) -> String {
        let mut s = String::new();
        write_iso_millis(&mut s, millis);
        s
    }

    #[test]
    fn botocore_formats_parse_to_epoch_seconds() {
        let at = |s| parse(s).map(|i| (i.seconds, i.nanos));
        assert_eq!(at("2024-01-01T00:00:00Z"), Some((1_704_067_200, 0)));
        assert_eq!(
            at("2024-01-01T00:00:00.123456Z"),
            Some((1_704_067_200, 123_456_000))
        );
        assert_eq!(at("2024-01-01T01:00:00+01:00"), Some((1_704_067_200, 0)));
        assert_eq!(at("2023-12-31T23:00:00-0100"), Some((1_704_067_200, 0)));
        assert_eq!(at("2024-01-01T00:00:00"), Some((1_704_067_200, 0)));
        assert_eq!(at("1704067200"), Some((1_704_067_200, 0)));
        assert_eq!(at("1704067200.5"), Some((1_704_067_200, 500_000_000)));
        assert_eq!(at("-1.25"), Some((-2, 750_000_000)));
        assert_eq!(at("1969-12-31T23:59:59.999Z"), Some((-1, 999_000_000)));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Zjunk",
            "",
            "tomorrow",
            "99999999999999999999",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn formatting_writes_milliseconds_and_z() {
        assert_eq!(iso(1_704_067_200_000), "2024-01-01T00:00:00.000Z");
        assert_eq!(iso(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(millis_from_seconds(1e300)), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso(millis_from_seconds(-1e300)), "0000-01-01T00:00:00.000Z");
        assert_eq!(
            iso(millis_from_whole_seconds(i64::MAX)),
            "9999-12-31T23:59:59.000Z"
        );
    }

    proptest! {
        #[test]
        fn formatted_milliseconds_parse_back(ms in MIN_SECONDS * 1000..MAX_SECONDS_EXCL * 1000) {
            let text = iso(ms);
            let back = parse(&text).expect("parses");
            prop_assert_eq!(back.seconds * 1000 + i64::from(back.nanos / 1_000_000), ms);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }
    }
}
