// SPDX-License-Identifier: Apache-2.0
//! Names and values the CloudWatch Logs model constrains, with the texts AWS answers.
//!
//! Constraints come from the botocore model (`logs/2014-03-28`). Every violation is an
//! `InvalidParameterException`. Texts:
//! * Model violations use AWS's validation format, "1 validation error detected: Value '…' at
//!   '<member>' failed to satisfy constraint: Member must …" (AWS-validated snapshots in
//!   LocalStack's test suite; user reports quote the regex form for `logGroupName`).
//! * A log group name over 512 characters gets "Invalid LogGroup or LogStream, both must have
//!   length less than or equal to 512." (CreateLogGroup and DeleteMetricFilter, LocalStack's
//!   AWS-validated snapshots). We use it for stream names too [unverified].
//! * The `aws/` prefix text is ours: AWS's is not known to us.
//!
//! Lengths are counted in UTF-16 code units, as AWS's Java validators count them.

use thiserror::Error;

/// Longest log group, log stream or filter name.
pub const MAX_NAME_LEN: usize = 512;
/// Longest metric name or namespace.
pub const MAX_METRIC_NAME_LEN: usize = 255;
/// `retentionInDays` values PutRetentionPolicy accepts.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
const STREAM_NAME_PATTERN: &str = "[^:*]*";
const METRIC_NAME_PATTERN: &str = "[^:*$]*";

/// A name or value the model does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// Shorter than the member's minimum (always 1 here).
    #[error(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: Member must have length greater than or equal to {min}"
    )]
    TooShort {
        /// Request member name, as in the model.
        member: &'static str,
        /// The refused value.
        value: String,
        /// The minimum length.
        min: usize,
    },
    /// Longer than the member's maximum.
    #[error(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: Member must have length less than or equal to {max}"
    )]
    TooLong {
        /// Request member name.
        member: &'static str,
        /// The refused value.
        value: String,
        /// The maximum length.
        max: usize,
    },
    /// A log group or stream name over 512 characters.
    #[error("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")]
    GroupOrStreamTooLong,
    /// Characters outside the member's pattern.
    #[error(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: {pattern}"
    )]
    Pattern {
        /// Request member name.
        member: &'static str,
        /// The refused value.
        value: String,
        /// The model's pattern.
        pattern: &'static str,
    },
    /// A new log group name starting with `aws/`, which AWS reserves.
    #[error("Log group names cannot start with 'aws/': {value}")]
    ReservedPrefix {
        /// The refused name.
        value: String,
    },
    /// A `retentionInDays` outside [`RETENTION_DAYS`].
    #[error(
        "1 validation error detected: Value '{value}' at 'retentionInDays' failed to satisfy \
         constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, \
         180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"
    )]
    RetentionDays {
        /// The refused value.
        value: i64,
    },
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn check_length(member: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = utf16_len(value);
    if len == 0 {
        return Err(ValidationError::TooShort {
            member,
            value: value.to_owned(),
            min: 1,
        });
    }
    if len > max {
        return Err(ValidationError::TooLong {
            member,
            value: value.to_owned(),
            max,
        });
    }
    Ok(())
}

/// A log group name as any operation takes it: 1–512 of `[.-_/#A-Za-z0-9]`.
pub fn validate_log_group_name(name: &str) -> Result<(), ValidationError> {
    if utf16_len(name) > MAX_NAME_LEN {
        return Err(ValidationError::GroupOrStreamTooLong);
    }
    check_length("logGroupName", name, MAX_NAME_LEN)?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b".-_/#".contains(&b);
    if !name.bytes().all(allowed) {
        return Err(ValidationError::Pattern {
            member: "logGroupName",
            value: name.to_owned(),
            pattern: GROUP_NAME_PATTERN,
        });
    }
    Ok(())
}

/// A name for CreateLogGroup: also must not start with `aws/` (Lambda's `/aws/lambda/…` starts
/// with a slash, so it is allowed).
pub fn validate_new_log_group_name(name: &str) -> Result<(), ValidationError> {
    validate_log_group_name(name)?;
    if name.starts_with("aws/") {
        return Err(ValidationError::ReservedPrefix {
            value: name.to_owned(),
        });
    }
    Ok(())
}

/// A log stream name: 1–512 characters, no `:` or `*`.
pub fn validate_log_stream_name(name: &str) -> Result<(), ValidationError> {
    if utf16_len(name) > MAX_NAME_LEN {
        return Err(ValidationError::GroupOrStreamTooLong);
    }
    check_length("logStreamName", name, MAX_NAME_LEN)?;
    no_colon_or_star("logStreamName", name)
}

/// A metric (or subscription) filter name: 1–512 characters, no `:` or `*`.
pub fn validate_filter_name(name: &str) -> Result<(), ValidationError> {
    check_length("filterName", name, MAX_NAME_LEN)?;
    no_colon_or_star("filterName", name)
}

fn no_colon_or_star(member: &'static str, name: &str) -> Result<(), ValidationError> {
    if name.contains([':', '*']) {
        return Err(ValidationError::Pattern {
            member,
            value: name.to_owned(),
            pattern: STREAM_NAME_PATTERN,
        });
    }
    Ok(())
}

/// A metric transformation's `metricName` or `metricNamespace` (pass the member name):
/// up to 255 characters, no `:`, `*` or `$`. The model sets no minimum; an empty name is
/// refused as the CloudWatch metrics API would refuse it.
pub fn validate_metric_name(member: &'static str, name: &str) -> Result<(), ValidationError> {
    check_length(member, name, MAX_METRIC_NAME_LEN)?;
    if name.contains([':', '*', '$']) {
        return Err(ValidationError::Pattern {
            member,
            value: name.to_owned(),
            pattern: METRIC_NAME_PATTERN,
        });
    }
    Ok(())
}

/// A PutRetentionPolicy `retentionInDays`.
pub fn validate_retention_days(days: i64) -> Result<u32, ValidationError> {
    u32::try_from(days)
        .ok()
        .filter(|d| RETENTION_DAYS.contains(d))
        .ok_or(ValidationError::RetentionDays { value: days })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_names_allow_exactly_the_documented_characters() {
        for ok in ["a", "/aws/lambda/my-fn", "my.group_1#x", &"a".repeat(512)] {
            assert!(validate_log_group_name(ok).is_ok(), "{ok}");
        }
        let err = validate_log_group_name("C:/Program Files/Git/aws/ecs/app").unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value 'C:/Program Files/Git/aws/ecs/app' at \
             'logGroupName' failed to satisfy constraint: Member must satisfy regular expression \
             pattern: [\\.\\-_/#A-Za-z0-9]+"
        );
        assert!(validate_log_group_name("grüße").is_err());
    }

    #[test]
    fn an_overlong_group_name_gets_the_aws_text() {
        let err = validate_log_group_name(&"X".repeat(513)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        );
    }

    #[test]
    fn empty_names_are_too_short() {
        assert!(matches!(
            validate_log_group_name(""),
            Err(ValidationError::TooShort {
                member: "logGroupName",
                ..
            })
        ));
        assert!(matches!(
            validate_log_stream_name(""),
            Err(ValidationError::TooShort {
                member: "logStreamName",
                ..
            })
        ));
        assert!(matches!(
            validate_filter_name(""),
            Err(ValidationError::TooShort { .. })
        ));
    }

    #[test]
    fn new_group_names_cannot_start_with_aws_slash() {
        assert!(validate_new_log_group_name("aws/mine").is_err());
        assert!(validate_new_log_group_name("/aws/lambda/fn").is_ok());
    }

    #[test]
    fn stream_names_refuse_colon_and_star_but_take_anything_else() {
        assert!(validate_log_stream_name("2021/12/17/[$LATEST]6922e90439514d81").is_ok());
        assert!(validate_log_stream_name("grüße 1").is_ok());
        assert!(validate_log_stream_name("a:b").is_err());
        assert!(validate_log_stream_name("a*").is_err());
        assert_eq!(
            validate_log_stream_name(&"s".repeat(513)),
            Err(ValidationError::GroupOrStreamTooLong)
        );
    }

    #[test]
    fn filter_names_follow_the_model_and_quote_the_value() {
        let err = validate_filter_name(&"X".repeat(513)).unwrap_err();
        assert!(err.to_string().ends_with(
            "at 'filterName' failed to satisfy constraint: Member must have length less than or \
             equal to 512"
        ));
        assert!(validate_filter_name("errors:count").is_err());
    }

    #[test]
    fn metric_names_refuse_colon_star_and_dollar() {
        assert!(validate_metric_name("metricName", "ErrorCount").is_ok());
        assert!(validate_metric_name("metricNamespace", "a$b").is_err());
        assert!(validate_metric_name("metricName", &"m".repeat(256)).is_err());
    }

    #[test]
    fn only_the_listed_retention_days_are_accepted() {
        for d in RETENTION_DAYS {
            assert_eq!(validate_retention_days(i64::from(d)), Ok(d));
        }
        for d in [0, 2, -1, 4000, i64::MAX] {
            assert!(validate_retention_days(d).is_err(), "{d}");
        }
        assert!(
            validate_retention_days(2)
                .unwrap_err()
                .to_string()
                .starts_with("1 validation error detected: Value '2' at 'retentionInDays'")
        );
    }
}
