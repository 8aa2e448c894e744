// SPDX-License-Identifier: Apache-2.0
//! What every demo generator yields, and the time formats their records use.
//!
//! A generator is pure: it draws from the seeded random number generator it owns and takes
//! the time to stamp from its caller, so the same seed and the same times give the same
//! records byte for byte.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// One record to send: its partition key and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Partition key (Kinesis); ignored by Firehose.
    pub key: String,
    /// The record's bytes, without a trailing newline.
    pub data: Vec<u8>,
}

/// Makes the records of one demo.
pub trait Generator: Send {
    /// The next record, stamped with `now` where the record has a time.
    fn next_record(&mut self, now: Timestamp) -> Record;

    /// A first line for files (a CSV header), if the format has one.
    fn header(&self) -> Option<&'static str> {
        None
    }
}

/// `now` as a civil date and time in UTC.
pub fn utc(now: Timestamp) -> DateTime {
    now.to_zoned(TimeZone::UTC).datetime()
}

/// `2026-12-06T10:30:45.123456`: Python's `datetime.now().isoformat()` on a host whose local
/// time is UTC, as the Managed Flink getting-started producer writes EVENT_TIME (always with
/// microseconds: Python omits them only when they are exactly zero, which readers must accept
/// anyway).
pub fn iso_micros(t: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.subsec_nanosecond() / 1000
    )
}

/// `2026-12-06 10:30:45`: the TLC trip records' datetime format.
pub fn space_seconds(t: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-12-06T10:30:45Z`: RFC 3339 in UTC to the second.
pub fn rfc3339_seconds(t: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Rounds to cents, as the tutorials' generators do before serializing.
pub fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime {
        utc(s.parse().expect("timestamp"))
    }

    #[test]
    fn times_are_formatted_as_the_tutorials_write_them() {
        let t = at("2026-12-06T10:30:45.1234567Z");
        assert_eq!(iso_micros(t), "2026-12-06T10:30:45.123456");
        assert_eq!(space_seconds(t), "2026-12-06 10:30:45");
        assert_eq!(rfc3339_seconds(t), "2026-12-06T10:30:45Z");
        assert_eq!(
            iso_micros(at("2026-01-02T03:04:05Z")),
            "2026-01-02T03:04:05.000000"
        );
    }

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(cents(395.874), 395.87);
        assert_eq!(cents(0.125), 0.13);
        assert_eq!(cents(-0.054), -0.05);
    }
}
