// SPDX-License-Identifier: Apache-2.0
//! The date format AWS uses inside error messages (`Thu Jan 01 00:00:00 UTC 1970`, Java's
//! `Date.toString()` in UTC).

use freshet_types::civil::civil_from_days;

/// Formats `ms` since the epoch as `Www Mmm dd HH:MM:SS UTC yyyy`.
pub fn aws_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_java_date() {
        assert_eq!(aws_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        // 2026-11-23T18:32:33Z was a Monday.
        assert_eq!(aws_date(1_795_458_753_000), "Mon Nov 23 18:32:33 UTC 2026");
        assert_eq!(aws_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
    }
}
