// SPDX-License-Identifier: Apache-2.0
//! Member types and model checks the Logs operations share: `Long` and `Double` members with
//! Coral's type errors, the name patterns, limits and log group references.

use std::fmt;

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::Error;
use crate::model::GroupRef;
use crate::names::{MAX_NAME_LEN, ValidationError};

const STRING_CLASS: &str = "class java.lang.String";
const BOOLEAN_CLASS: &str = "class java.lang.Boolean";

macro_rules! number_member {
    ($name:ident, $ty:ty, $target:literal, $doc:literal,
     i64 => $from_i:expr, u64 => $from_u:expr, f64 => $from_f:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) struct $name(pub $ty);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a number")
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        Ok($name($from_i(v)))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        Ok($name($from_u(v)))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        Ok($name($from_f(v)))
                    }
                    fn visit_str<E: de::Error>(self, _: &str) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{STRING_CLASS} can not be converted to {}",
                            $target
                        )))
                    }
                    fn visit_bool<E: de::Error>(self, _: bool) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{BOOLEAN_CLASS} can not be converted to {}",
                            $target
                        )))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<$name, A::Error> {
                        Err(de::Error::custom(
                            "Start of structure or map found where not expected.",
                        ))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<$name, A::Error> {
                        Err(de::Error::custom("Start of list found where not expected"))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

number_member!(JLong, i64, "an Long", "A `Long` member (epoch milliseconds in Logs).",
    i64 => |v| v,
    u64 => |v: u64| i64::try_from(v).unwrap_or(i64::MAX),
    f64 => |v: f64| v.trunc() as i64);

number_member!(JDouble, f64, "an Double", "A `Double` member.",
    i64 => |v| v as f64,
    u64 => |v| v as f64,
    f64 => |v| v);

/// The output of operations without one.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Empty {}

/// `logGroupClass` values.
pub(crate) const CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

/// The text of an optional string member.
pub(crate) fn text(s: &Option<JStr>) -> Option<&str> {
    s.as_ref().map(|s| s.0.as_str())
}

/// The owned value of an optional string member.
pub(crate) fn owned(s: Option<JStr>) -> Option<String> {
    s.map(|s| s.0)
}

/// The model pattern of log group names.
pub(crate) const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// The model pattern of stream, filter names (`[^:*]*`).
pub(crate) const STREAM_NAME_PATTERN: &str = "[^:*]*";
/// The model pattern of log group identifiers.
pub(crate) const IDENTIFIER_PATTERN: &str = r"[\w#+=/:,.@-]*";
/// The model pattern of resource ARNs.
pub(crate) const ARN_PATTERN: &str = r"[\w+=/:,.@-]*";
/// The model pattern of metric names and namespaces.
pub(crate) const METRIC_NAME_PATTERN: &str = "[^:*$]*";

pub(crate) fn is_group_name(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-_/#".contains(&b))
}

pub(crate) fn is_stream_name(s: &str) -> bool {
    !s.contains([':', '*'])
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) fn is_identifier(s: &str) -> bool {
    s.chars().all(|c| is_word(c) || "#+=/:,.@-".contains(c))
}

pub(crate) fn is_arn(s: &str) -> bool {
    s.chars().all(|c| is_word(c) || "+=/:,.@-".contains(c))
}

pub(crate) fn is_metric_name(s: &str) -> bool {
    !s.contains([':', '*', '$'])
}

/// AWS's own text for a group or stream name over 512 characters, checked before the model.
pub(crate) fn check_long_names(names: &[Option<&JStr>]) -> Result<(), Error> {
    if names
        .iter()
        .flatten()
        .any(|n| n.0.encode_utf16().count() > MAX_NAME_LEN)
    {
        return Err(ValidationError::GroupOrStreamTooLong.into());
    }
    Ok(())
}

/// A `LogGroupName` member.
pub(crate) fn group_name(v: &mut Validator, path: &str, s: &Option<JStr>, required: bool) {
    if required {
        v.required(path, s);
    }
    v.string(
        path,
        text(s),
        1,
        Some(MAX_NAME_LEN),
        Some((is_group_name, GROUP_NAME_PATTERN)),
    );
}

/// A `LogStreamName` (or `FilterName`) member.
pub(crate) fn stream_name(v: &mut Validator, path: &str, s: &Option<JStr>, required: bool) {
    if required {
        v.required(path, s);
    }
    v.string(
        path,
        text(s),
        1,
        Some(MAX_NAME_LEN),
        Some((is_stream_name, STREAM_NAME_PATTERN)),
    );
}

/// A `LogGroupIdentifier` member.
pub(crate) fn identifier(v: &mut Validator, path: &str, s: &Option<JStr>) {
    v.string(
        path,
        text(s),
        1,
        Some(2048),
        Some((is_identifier, IDENTIFIER_PATTERN)),
    );
}

/// An `AmazonResourceName` member.
pub(crate) fn resource_arn(v: &mut Validator, path: &str, s: &Option<JStr>) {
    v.required(path, s);
    v.string(path, text(s), 1, Some(1011), Some((is_arn, ARN_PATTERN)));
}

/// A `NextToken` member.
pub(crate) fn next_token(v: &mut Validator, s: &Option<JStr>) {
    v.string("nextToken", text(s), 1, None, None);
}

/// An integer `limit` member.
pub(crate) fn limit(v: &mut Validator, n: Option<i64>, max: i64) {
    v.int("limit", n, Some(1), Some(max));
}

/// A `Timestamp` (long, min 0) member.
pub(crate) fn timestamp(v: &mut Validator, path: impl fmt::Display + Copy, t: Option<JLong>) {
    v.int(path, t.map(|t| t.0), Some(0), None);
}

/// A `FilterPattern` member (0–1024 characters).
pub(crate) fn filter_pattern(v: &mut Validator, path: &str, s: &Option<JStr>) {
    v.string(path, text(s), 0, Some(1024), None);
}

/// The group a request names by `logGroupName` or `logGroupIdentifier`.
pub(crate) fn group_ref(name: Option<JStr>, identifier: Option<JStr>) -> Result<GroupRef, Error> {
    GroupRef::from_members(owned(name), owned(identifier))
}

/// A limit member as a count.
pub(crate) fn count(n: Option<freshet_protocol::json::JInt>) -> Option<usize> {
    n.and_then(|n| usize::try_from(n.0).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        t: Option<JLong>,
        d: Option<JDouble>,
    }

    #[test]
    fn longs_and_doubles_take_numbers_and_refuse_the_rest_as_coral_does() {
        let p: Probe = serde_json::from_str(r#"{"t": 1700000000000, "d": 1.5}"#).unwrap();
        assert_eq!(p.t, Some(JLong(1_700_000_000_000)));
        assert_eq!(p.d, Some(JDouble(1.5)));
        let e = freshet_protocol::json::from_slice::<Probe>(br#"{"t": "1"}"#).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("class java.lang.String can not be converted to an Long")
        );
        let e = freshet_protocol::json::from_slice::<Probe>(br#"{"d": true}"#).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("class java.lang.Boolean can not be converted to an Double")
        );
    }

    #[test]
    fn patterns_follow_the_model() {
        assert!(is_group_name("/aws/lambda/fn-1_a.b#c"));
        assert!(!is_group_name("a b"));
        assert!(is_identifier(
            "arn:aws:logs:us-east-1:000000000000:log-group:/a/b"
        ));
        assert!(!is_identifier("a b"));
        assert!(is_arn("arn:aws:logs:us-east-1:0:log-group:x"));
        assert!(!is_arn("x#y"));
        assert!(is_stream_name("2021/12/17/[$LATEST]abc"));
        assert!(!is_metric_name("a$b"));
    }
}
