// SPDX-License-Identifier: Apache-2.0
//! Object names and prefixes, as delivery uses them. The rules themselves (expressions,
//! time zones, AWS's validation) belong to `rules::prefix`; until that module is merged this
//! file serves the expression-free case only: a Prefix without `!{...}` gets the default
//! `YYYY/MM/dd/HH/` (UTC) appended verbatim, and a prefix with expressions or a
//! CustomTimeZone other than UTC is refused with InvalidArgumentException rather than
//! evaluated wrongly.

/// Checks Prefix and ErrorOutputPrefix together; `Err` is the InvalidArgumentException text.
pub fn check_prefixes(
    prefix: Option<&str>,
    error_prefix: Option<&str>,
    dynamic_partitioning: bool,
) -> Result<(), String> {
    for p in [prefix, error_prefix].into_iter().flatten() {
        if p.contains("!{") {
            return Err(format!(
                "Prefix expressions (!{{...}}) in '{p}' are not evaluated by this Freshet build."
            ));
        }
    }
    if dynamic_partitioning {
        return Err(
            "Dynamic partitioning requires partitionKeyFrom expressions in the Prefix, which \
             this Freshet build does not evaluate."
                .to_owned(),
        );
    }
    Ok(())
}

/// Checks CustomTimeZone.
pub fn check_time_zone(tz: &str) -> Result<(), String> {
    if tz.is_empty() || tz == "UTC" {
        Ok(())
    } else {
        Err(format!(
            "CustomTimeZone {tz} is not supported by this Freshet build (UTC only)."
        ))
    }
}

/// The evaluated data prefix for an object whose oldest record arrived at `arrival_ms`.
pub fn data_prefix(prefix: Option<&str>, arrival_ms: i64) -> String {
    let t = Civil::from_ms(arrival_ms);
    format!(
        "{}{:04}/{:02}/{:02}/{:02}/",
        prefix.unwrap_or(""),
        t.year,
        t.month,
        t.day,
        t.hour
    )
}

/// The evaluated error prefix: `<ErrorOutputPrefix>` or `<Prefix><type>/YYYY/MM/dd/HH/`.
pub fn error_prefix(
    prefix: Option<&str>,
    error_prefix: Option<&str>,
    kind: &str,
    at_ms: i64,
) -> String {
    match error_prefix {
        Some(e) if !e.is_empty() => e.to_owned(),
        _ => data_prefix(Some(&format!("{}{kind}/", prefix.unwrap_or(""))), at_ms),
    }
}

/// `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid><extension>` (UTC).
pub fn object_name(stream: &str, version: u64, at_ms: i64, extension: &str) -> String {
    let t = Civil::from_ms(at_ms);
    format!(
        "{stream}-{version}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{extension}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        uuid::Uuid::new_v4()
    )
}

/// A UTC civil time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// Howard Hinnant's days-to-civil over the proleptic Gregorian calendar.
    fn from_ms(ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_default_prefix_is_the_utc_hour_appended_verbatim() {
        // 2018-08-27T10:30:00Z, the example of AWS's documentation.
        let ms = 1_535_365_800_000;
        assert_eq!(data_prefix(None, ms), "2018/08/27/10/");
        assert_eq!(data_prefix(Some("logs"), ms), "logs2018/08/27/10/");
    }

    #[test]
    fn object_names_carry_stream_version_and_time() {
        let n = object_name("s", 3, 1_535_365_800_000, ".gz");
        assert!(n.starts_with("s-3-2018-08-27-10-30-00-"), "{n}");
        assert!(n.ends_with(".gz"));
        assert_eq!(n.len(), "s-3-2018-08-27-10-30-00-".len() + 36 + 3);
    }

    #[test]
    fn error_output_goes_under_the_prefix_by_type_when_no_error_prefix_is_set() {
        let ms = 1_535_365_800_000;
        assert_eq!(
            error_prefix(Some("p/"), None, "processing-failed", ms),
            "p/processing-failed/2018/08/27/10/"
        );
        assert_eq!(error_prefix(Some("p/"), Some("e/"), "x", ms), "e/");
    }

    #[test]
    fn expressions_are_refused_rather_than_written_verbatim() {
        assert!(check_prefixes(Some("a/!{timestamp:yyyy}/"), Some("e/"), false).is_err());
        assert!(check_prefixes(Some("a/"), None, false).is_ok());
    }

    proptest! {
        #[test]
        fn civil_time_round_trips_through_days(ms in -10_000_000_000_000i64..10_000_000_000_000) {
            let c = Civil::from_ms(ms);
            prop_assert!((1..=12).contains(&c.month));
            prop_assert!((1..=31).contains(&c.day));
            // Days from civil (inverse), checked against the input.
            let y = if c.month <= 2 { c.year - 1 } else { c.year };
            let era = y.div_euclid(400);
            let yoe = y.rem_euclid(400);
            let m = i64::from(c.month);
            let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(c.day) - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            let days = era * 146_097 + doe - 719_468;
            let secs = days * 86_400 + i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second);
            prop_assert_eq!(secs, ms.div_euclid(1000));
        }
    }
}
