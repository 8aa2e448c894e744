// SPDX-License-Identifier: Apache-2.0
//! Timestamp and date values as the two JSON SerDes read them, to milliseconds (or days)
//! since the Unix epoch on a zone-less clock (Hive timestamps carry no zone; an explicit
//! offset in the value is applied).
//!
//! * OpenX (AWS docs, "record format conversion"): `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`,
//!   `yyyy-[M]M-[d]d HH:mm:ss[.S]`, epoch seconds, epoch milliseconds and fractional epoch
//!   seconds. An integer of 13 digits or more is milliseconds, shorter ones are seconds.
//! * Hive: each `TimestampFormats` entry in order (a Joda-Time pattern, or `millis`), then
//!   `java.sql.Timestamp.valueOf`'s `yyyy-[m]m-[d]d hh:mm:ss[.f...]`.
//!
//! The Joda subset: `y` `M` (`MMM`/`MMMM` English names) `d` `H` `h` `m` `s` `S` `a` `Z`
//! `ZZ` `E` (names skipped), quoted literals and any other punctuation as literals.

/// Milliseconds of a day.
const DAY_MS: i64 = 86_400_000;
/// From 13 digits on, an epoch number is milliseconds.
const EPOCH_MS_FLOOR: f64 = 1e12;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    freshet_types::civil::days_from_civil(y, i64::from(m), i64::from(d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Fields read from a value.
#[derive(Debug, Default, Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset_minutes: i64,
}

impl Civil {
    fn to_millis(self) -> Option<i64> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
            || !(-9999..=9999).contains(&self.year)
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        Some(
            days * DAY_MS + secs * 1000 + i64::from(self.nanos / 1_000_000)
                - self.offset_minutes * 60_000,
        )
    }
}

/// A cursor over the value text.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn new(s: &'a str) -> Self {
        Scan {
            s: s.as_bytes(),
            i: 0,
        }
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u64> {
        let start = self.i;
        let mut n: u64 = 0;
        while self.i - start < max {
            match self.s.get(self.i) {
                Some(c) if c.is_ascii_digit() => {
                    n = n * 10 + u64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(n)
    }

    fn lit(&mut self, c: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// A fraction of a second: 1 to 9 digits, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.i;
        let n = self.digits(1, 9)?;
        let len = self.i - start;
        let nanos = n * 10u64.pow(u32::try_from(9 - len).ok()?);
        u32::try_from(nanos).ok()
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

fn num<T: TryFrom<u64>>(v: Option<u64>) -> Option<T> {
    v.and_then(|n| T::try_from(n).ok())
}

/// `yyyy-[M]M-[d]d`, then optionally `' 'H:m:s[.f]` (lenient: one or two digits), or
/// `'T'HH:mm:ss[.f]['Z']` (strict two digits) when `iso` is allowed.
fn parse_date_time(text: &str, iso: bool, need_time: bool) -> Option<Civil> {
    let mut p = Scan::new(text.trim());
    let mut c = Civil {
        year: num::<i64>(p.digits(4, 4))?,
        ..Civil::default()
    };
    p.lit(b'-')?;
    let start = p.i;
    c.month = num(p.digits(1, 2))?;
    p.lit(b'-')?;
    c.day = num(p.digits(1, 2))?;
    // "yyyy-MM-dd" exactly: what the strict 'T' form needs.
    let two_digit_date = p.i - start == 5;
    if p.done() {
        return (!need_time).then_some(c);
    }
    let strict = if p.lit(b' ').is_some() {
        false
    } else if iso && two_digit_date && p.lit(b'T').is_some() {
        true
    } else {
        return None;
    };
    let (min, max) = if strict { (2, 2) } else { (1, 2) };
    c.hour = num(p.digits(min, max))?;
    p.lit(b':')?;
    c.minute = num(p.digits(min, max))?;
    p.lit(b':')?;
    c.second = num(p.digits(min, max))?;
    if p.lit(b'.').is_some() {
        c.nanos = p.fraction()?;
    }
    if strict {
        let _ = p.lit(b'Z');
    }
    p.done().then_some(c)
}

/// A `date` column value: `yyyy-[M]M-[d]d`, as days since the epoch.
pub fn parse_date(text: &str) -> Option<i32> {
    let c = parse_date_time(text, false, false)?;
    if c.hour != 0 || c.minute != 0 || c.second != 0 {
        return None;
    }
    let ms = Civil { ..c }.to_millis()?;
    i32::try_from(ms.div_euclid(DAY_MS)).ok()
}

/// An epoch number: 13 digits or more is milliseconds, else (possibly fractional) seconds.
pub fn epoch_number(x: f64) -> Option<i64> {
    if !x.is_finite() {
        return None;
    }
    let ms = if x.abs() >= EPOCH_MS_FLOOR {
        x
    } else {
        x * 1000.0
    };
    // Beyond year ±292 million an i64 of milliseconds overflows; far beyond Hive's range.
    (ms.abs() < 9.0e15).then(|| ms.round() as i64)
}

/// An OpenX timestamp string (a number in a string is read as an epoch number).
pub fn openx_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.bytes()
        .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-')
        && t.bytes().any(|c| c.is_ascii_digit())
        && !t[1..].contains('-')
    {
        return t.parse::<f64>().ok().and_then(epoch_number);
    }
    parse_date_time(t, true, true)?.to_millis()
}

/// A HiveJsonSerDe timestamp string: the formats in order, then `Timestamp.valueOf`.
pub fn hive_timestamp(text: &str, formats: &[String]) -> Option<i64> {
    for f in formats {
        if f == "millis" {
            if let Ok(ms) = text.trim().parse::<i64>() {
                return Some(ms);
            }
            continue;
        }
        if let Some(ms) = joda(f, text) {
            return Some(ms);
        }
    }
    parse_date_time(text, false, true)?.to_millis()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn name_index(p: &mut Scan<'_>, names: &[&str], full: bool) -> Option<usize> {
    let rest = std::str::from_utf8(&p.s[p.i..]).ok()?.to_ascii_lowercase();
    for (i, n) in names.iter().enumerate() {
        let want = if full { n } else { &n[..3] };
        if rest.starts_with(want) {
            p.i += want.len();
            return Some(i);
        }
    }
    None
}

/// Parses `text` with a Joda-Time pattern (the subset in the module docs).
pub fn joda(pattern: &str, text: &str) -> Option<i64> {
    let pat: Vec<char> = pattern.chars().collect();
    let mut p = Scan::new(text);
    let mut c = Civil {
        year: 1970,
        month: 1,
        day: 1,
        ..Civil::default()
    };
    let mut pm: Option<bool> = None;
    let mut k = 0;
    while k < pat.len() {
        let ch = pat[k];
        let mut n = 1;
        while k + n < pat.len() && pat[k + n] == ch {
            n += 1;
        }
        if ch == '\'' {
            if n >= 2 {
                // '' is a literal quote.
                p.lit(b'\'')?;
                k += 2;
                continue;
            }
            let end = pat[k + 1..].iter().position(|c| *c == '\'')? + k + 1;
            for lc in &pat[k + 1..end] {
                let mut buf = [0u8; 4];
                for b in lc.encode_utf8(&mut buf).bytes() {
                    p.lit(b)?;
                }
            }
            k = end + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            let mut buf = [0u8; 4];
            for _ in 0..n {
                for b in ch.encode_utf8(&mut buf).bytes() {
                    p.lit(b)?;
                }
            }
            k += n;
            continue;
        }
        match ch {
            'y' | 'Y' | 'x' => {
                c.year = if n == 2 {
                    2000 + num::<i64>(p.digits(2, 2))?
                } else {
                    let neg = p.lit(b'-').is_some();
                    let y = num::<i64>(p.digits(1, n.max(4)))?;
                    if neg { -y } else { y }
                };
            }
            'M' if n >= 3 => {
                c.month = u32::try_from(name_index(&mut p, &MONTHS, n >= 4)? + 1).ok()?
            }
            'M' => c.month = num(p.digits(1, n.max(2)))?,
            'd' => c.day = num(p.digits(1, n.max(2)))?,
            'H' | 'k' => c.hour = num(p.digits(1, n.max(2)))?,
            'h' | 'K' => c.hour = num::<u32>(p.digits(1, n.max(2)))? % 12,
            'm' => c.minute = num(p.digits(1, n.max(2)))?,
            's' => c.second = num(p.digits(1, n.max(2)))?,
            'S' => c.nanos = p.fraction()?,
            'a' => {
                let rest = std::str::from_utf8(&p.s[p.i..]).ok()?.to_ascii_lowercase();
                pm = Some(if rest.starts_with("pm") {
                    true
                } else if rest.starts_with("am") {
                    false
                } else {
                    return None;
                });
                p.i += 2;
            }
            'E' => {
                name_index(&mut p, &DAYS, n >= 4)?;
            }
            'Z' => {
                if p.lit(b'Z').is_some() {
                    c.offset_minutes = 0;
                } else {
                    let sign = if p.lit(b'+').is_some() {
                        1
                    } else {
                        p.lit(b'-')?;
                        -1
                    };
                    let h = num::<i64>(p.digits(2, 2))?;
                    if n >= 2 {
                        p.lit(b':')?;
                    }
                    let m = num::<i64>(p.digits(2, 2))?;
                    c.offset_minutes = sign * (h * 60 + m);
                }
            }
            _ => return None,
        }
        k += n;
    }
    if let Some(pm) = pm
        && pm
    {
        c.hour += 12;
    }
    if !p.done() {
        return None;
    }
    c.to_millis()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const T: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn openx_reads_every_documented_form() {
        assert_eq!(openx_timestamp("2023-11-14T22:13:20Z"), Some(T));
        assert_eq!(openx_timestamp("2023-11-14T22:13:20.5Z"), Some(T + 500));
        assert_eq!(openx_timestamp("2023-11-14 22:13:20"), Some(T));
        assert_eq!(openx_timestamp("2023-11-14 22:13:20.123"), Some(T + 123));
        assert_eq!(
            openx_timestamp("2023-1-4 2:3:0"),
            openx_timestamp("2023-01-04 02:03:00")
        );
        assert_eq!(openx_timestamp("1700000000"), Some(T));
        assert_eq!(openx_timestamp("1700000000000"), Some(T));
        assert_eq!(openx_timestamp("1700000000.25"), Some(T + 250));
        assert_eq!(epoch_number(1_700_000_000.0), Some(T));
    }

    #[test]
    fn openx_refuses_other_text() {
        for bad in [
            "",
            "yesterday",
            "2023-11-14",
            "2023-9-7T12:00:02Z",
            "2023-13-01 00:00:00",
            "2023-02-30 00:00:00",
            "1-2",
        ] {
            assert_eq!(openx_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn hive_uses_formats_in_order_then_timestamp_value_of() {
        let f = vec!["millis".to_owned(), "dd/MM/yyyy HH:mm:ss".to_owned()];
        assert_eq!(hive_timestamp("1700000000000", &f), Some(T));
        assert_eq!(hive_timestamp("14/11/2023 22:13:20", &f), Some(T));
        assert_eq!(hive_timestamp("2023-11-14 22:13:20", &f), Some(T));
        assert_eq!(hive_timestamp("2023-11-14T22:13:20Z", &[]), None);
    }

    #[test]
    fn joda_patterns_cover_names_offsets_and_literals() {
        assert_eq!(
            joda(
                "yyyy-MM-dd'T'HH:mm:ss.SSSZZ",
                "2023-11-14T23:13:20.000+01:00"
            ),
            Some(T)
        );
        assert_eq!(
            joda(
                "EEE, dd MMM yyyy hh:mm:ss a Z",
                "Tue, 14 Nov 2023 10:13:20 PM +0000"
            ),
            Some(T)
        );
        assert_eq!(
            joda("yyyy-MM-dd", "2023-11-14"),
            Some(T - (22 * 3600 + 13 * 60 + 20) * 1000)
        );
        assert_eq!(joda("yyyy-MM-dd", "2023-11-14x"), None);
        assert_eq!(joda("qqq", "1"), None);
    }

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2023-11-14"), Some(19675));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2023-11-14 01:00:00"), None);
    }

    proptest! {
        #[test]
        fn civil_fields_round_trip_through_both_forms(ms in -62_000_000_000_000i64..250_000_000_000_000i64) {
            let ms = ms - ms.rem_euclid(1000);
            let days = ms.div_euclid(DAY_MS);
            let sod = ms.rem_euclid(DAY_MS) / 1000;
            // Back to civil with the inverse algorithm.
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let d = doy - (153 * mp + 2) / 5 + 1;
            let m = if mp < 10 { mp + 3 } else { mp - 9 };
            let y = yoe + era * 400 + i64::from(m <= 2);
            prop_assume!((1000..=9999).contains(&y));
            let text = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
            prop_assert_eq!(openx_timestamp(&text), Some(ms));
            prop_assert_eq!(hive_timestamp(&text, &[]), Some(ms));
            let iso = text.replace(' ', "T") + "Z";
            prop_assert_eq!(openx_timestamp(&iso), Some(ms));
        }

        #[test]
        fn timestamp_parsers_never_panic(text in "\\PC{0,30}", pat in "[yMdHhmsSaZE' :./-]{0,12}") {
            let _ = openx_timestamp(&text);
            let _ = hive_timestamp(&text, std::slice::from_ref(&pat));
            let _ = parse_date(&text);
        }
    }
}
