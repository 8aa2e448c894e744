// SPDX-License-Identifier: Apache-2.0
//! ADDMETADATA: wraps each record in `{"ts": ..., "metadata": ..., "data": "<record>"}`.
//!
//! As the agent's converter: `metadata` is any JSON value from the option (absent gives
//! `null`), `data` is the record text without its trailing `\n` (a string, never parsed),
//! and `ts` is present only when `timestamp` is `"true"`: the UTC time the record was read,
//! as `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`. Keys come in that order: ts, metadata, data.
//!
//! One difference: serde_json (without its `preserve_order` feature) hands us `metadata` with
//! its object keys sorted, so a nested object's keys come out sorted rather than in the order
//! of agent.json. The JSON is the same; only the byte order of keys differs.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use super::ProcessingError;
use super::java;
use super::json::JsonFormat;
use super::options::OptionReader;
use freshet_types::civil::civil_from_days;

/// The ADDMETADATA converter.
#[derive(Debug, Clone)]
pub struct AddMetadata {
    metadata: Value,
    timestamp: bool,
    format: JsonFormat,
}

#[derive(Serialize)]
struct Wrapped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<&'a str>,
    metadata: &'a Value,
    data: &'a str,
}

impl AddMetadata {
    /// Reads `metadata`, `timestamp` and `jsonFormat`.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        Ok(Self {
            metadata: option.value("metadata").cloned().unwrap_or(Value::Null),
            timestamp: option.string_flag("timestamp")?,
            format: option.json_format()?,
        })
    }

    /// Converts one record read at `read_at`.
    pub fn convert(
        &self,
        input: &[u8],
        read_at: SystemTime,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let text = java::decode(input);
        let ts = self.timestamp.then(|| format_utc_millis(read_at));
        let wrapped = Wrapped {
            ts: ts.as_deref(),
            metadata: &self.metadata,
            data: java::strip_newline(&text),
        };
        self.format.write_line(&wrapped, out)
    }
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in UTC. Never panics: times before 1970 count backwards
/// from the epoch, and far-future years simply get more digits.
pub fn format_utc_millis(time: SystemTime) -> String {
    let millis: i64 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis())
            .map(|m| -m)
            .unwrap_or(i64::MIN),
    };
    let days = millis.div_euclid(86_400_000);
    let of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn converter(option: Value) -> AddMetadata {
        let object = option.as_object().cloned().unwrap_or_default();
        AddMetadata::from_option(&OptionReader::new(0, "ADDMETADATA", &object)).unwrap()
    }

    fn convert(option: Value, input: &str, at: SystemTime) -> String {
        let mut out = Vec::new();
        converter(option)
            .convert(input.as_bytes(), at, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn at(millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(millis)
    }

    #[test]
    fn the_record_is_wrapped_with_its_metadata_and_data_as_a_string() {
        let option = json!({"metadata": {"key": "value", "foo": {"bar": "baz"}}});
        assert_eq!(
            convert(option, "{\"a\":1}\n", at(0)),
            "{\"metadata\":{\"foo\":{\"bar\":\"baz\"},\"key\":\"value\"},\"data\":\"{\\\"a\\\":1}\"}\n"
        );
    }

    #[test]
    fn timestamp_true_puts_the_read_time_first_in_utc_with_milliseconds() {
        let option = json!({"metadata": {"k": 1}, "timestamp": "true"});
        assert_eq!(
            convert(option, "line\n", at(1_704_164_645_007)),
            "{\"ts\":\"2024-01-02T03:04:05.007Z\",\"metadata\":{\"k\":1},\"data\":\"line\"}\n"
        );
    }

    #[test]
    fn timestamp_false_or_absent_leaves_ts_out() {
        for option in [
            json!({"timestamp": "false"}),
            json!({}),
            json!({"timestamp": "yes"}),
        ] {
            assert_eq!(
                convert(option, "x", at(0)),
                "{\"metadata\":null,\"data\":\"x\"}\n"
            );
        }
    }

    #[test]
    fn a_boolean_timestamp_is_accepted_too() {
        let out = convert(json!({"timestamp": true}), "x", at(0));
        assert!(
            out.starts_with("{\"ts\":\"1970-01-01T00:00:00.000Z\""),
            "{out}"
        );
    }

    #[test]
    fn a_timestamp_that_is_neither_string_nor_boolean_is_an_error() {
        let object = json!({"timestamp": 1}).as_object().cloned().unwrap();
        let err =
            AddMetadata::from_option(&OptionReader::new(2, "ADDMETADATA", &object)).unwrap_err();
        assert_eq!(err.index, 2);
        assert!(err.to_string().contains("timestamp"), "{err}");
    }

    #[test]
    fn times_before_the_epoch_format_without_panicking() {
        let before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(format_utc_millis(before), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn leap_days_format_correctly() {
        // 2024-02-29T12:00:00Z
        assert_eq!(
            format_utc_millis(at(1_709_208_000_000)),
            "2024-02-29T12:00:00.000Z"
        );
    }

    proptest! {
        #[test]
        fn formatted_times_agree_with_humantime(millis in 0u64..253_402_300_799_000) {
            let time = at(millis);
            prop_assert_eq!(
                format_utc_millis(time),
                humantime::format_rfc3339_millis(time).to_string()
            );
        }
    }
}
