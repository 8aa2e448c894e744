// SPDX-License-Identifier: Apache-2.0
//! Request rules that do not depend on queue state: message attributes, system attributes,
//! body size and characters, per-message delays, receive parameters, batch shape.
//!
//! Texts follow AWS where a recorded response exists (LocalStack's AWS-validated snapshots:
//! `Message must be shorter than`, `must contain a non-empty value of type 'String'`,
//! `Must be between 1 and 10, if provided.`, batch errors); the others follow the same
//! `Value X for parameter P is invalid. Reason: R` pattern and are marked unverified.
//! Order of checks per batch follows AWS: empty, too many, entry ids, distinct ids, then size.

use std::collections::{BTreeMap, HashSet};

use crate::error::{BatchKind, Error};
use crate::md5::AWS_TRACE_HEADER;
use crate::message::{AttributeData, AttributeValue};
use crate::names::{is_allowed_char, validate_batch_entry_id, validate_body_chars};

/// Most message attributes per message.
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// Longest attribute name and DataType.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 256;
/// Most entries in a batch request.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Largest total payload of a SendMessageBatch (bodies plus attributes), bytes.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Largest per-message or per-queue delay, seconds.
pub const MAX_DELAY_SECONDS: i64 = 900;
/// Largest visibility timeout, seconds.
pub const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;
/// Largest ReceiveMessage wait, seconds.
pub const MAX_WAIT_SECONDS: i64 = 20;
/// Most messages one ReceiveMessage returns.
pub const MAX_RECEIVE_MESSAGES: i64 = 10;
/// Most significant digits of a Number attribute.
const MAX_NUMBER_DIGITS: usize = 38;

/// The size a message counts against MaximumMessageSize: body plus, per attribute, its
/// name, DataType and value (system attributes do not count).
pub fn message_size(body: &str, attributes: &BTreeMap<String, AttributeValue>) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(n, v)| {
                n.len()
                    + v.data_type.len()
                    + match &v.data {
                        AttributeData::String(s) => s.len(),
                        AttributeData::Binary(b) => b.len(),
                    }
            })
            .sum::<usize>()
}

/// Checks a body against the queue's MaximumMessageSize (with attributes) and the allowed
/// characters.
pub fn validate_body(
    body: &str,
    attributes: &BTreeMap<String, AttributeValue>,
    max_size: usize,
) -> Result<(), Error> {
    if body.is_empty() {
        return Err(Error::MissingParameter {
            parameter: "MessageBody",
        });
    }
    if message_size(body, attributes) > max_size {
        return Err(Error::invalid_parameter(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
        )));
    }
    validate_body_chars(body)
}

fn base_type(data_type: &str) -> Option<&'static str> {
    ["String", "Number", "Binary"].into_iter().find(|base| {
        data_type
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || (rest.len() > 1 && rest.starts_with('.')))
    })
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    let significant = format!("{int}{frac}");
    let significant = significant.trim_start_matches('0').trim_end_matches('0');
    digits_ok && exp_ok && significant.len() <= MAX_NUMBER_DIGITS
}

fn validate_attribute_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() >= MAX_ATTRIBUTE_NAME_LEN {
        return Err(Error::invalid_parameter(
            "Message (user) attribute names must be shorter than 256 Bytes",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(Error::invalid_parameter(
            "Message (user) attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ",
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.")
        || lower.starts_with("amazon.")
        || name.starts_with('.')
        || name.ends_with('.')
        || name.contains("..")
    {
        return Err(Error::invalid_parameter(
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'.",
        ));
    }
    Ok(())
}

/// Checks message attributes: at most 10; names; DataType `String|Number|Binary[.custom]`;
/// values of the right kind, non-empty, Number parseable with at most 38 digits, String
/// characters allowed.
pub fn validate_message_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Result<(), Error> {
    if attrs.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(Error::invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    for (name, v) in attrs {
        validate_attribute_name(name)?;
        if v.data_type.is_empty() {
            return Err(Error::invalid_parameter(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        if v.data_type.len() >= MAX_ATTRIBUTE_NAME_LEN {
            return Err(Error::invalid_parameter(
                "Message (user) attribute types must be shorter than 256 Bytes",
            ));
        }
        let Some(base) = base_type(&v.data_type) else {
            return Err(Error::invalid_parameter(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        };
        match (base, &v.data) {
            ("Binary", AttributeData::Binary(b)) => {
                if b.is_empty() {
                    return Err(Error::invalid_parameter(format!(
                        "Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'."
                    )));
                }
            }
            ("String" | "Number", AttributeData::String(s)) => {
                if s.is_empty() {
                    return Err(Error::invalid_parameter(format!(
                        "Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                    )));
                }
                if !s.chars().all(is_allowed_char) {
                    return Err(Error::invalid_parameter(format!(
                        "Message (user) attribute '{name}' value contains invalid characters."
                    )));
                }
                if base == "Number" && !is_number(s) {
                    return Err(Error::invalid_parameter(format!(
                        "Could not cast message attribute '{name}' value to number."
                    )));
                }
            }
            _ => {
                return Err(Error::invalid_parameter(format!(
                    "Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                )));
            }
        }
    }
    Ok(())
}

/// Checks the system attributes of a send (only `AWSTraceHeader`, a String) and returns the
/// trace header.
pub fn validate_system_attributes(
    attrs: &BTreeMap<String, AttributeValue>,
) -> Result<Option<String>, Error> {
    let mut trace = None;
    for (name, v) in attrs {
        if name != AWS_TRACE_HEADER {
            return Err(Error::invalid_parameter(format!(
                "Message system attribute name '{name}' is invalid."
            )));
        }
        match (&v.data, v.data_type.as_str()) {
            (AttributeData::String(s), "String") if !s.is_empty() => trace = Some(s.clone()),
            _ => {
                return Err(Error::invalid_parameter(format!(
                    "Message system attribute '{name}' must contain a non-empty value of type 'String'."
                )));
            }
        }
    }
    Ok(trace)
}

/// Checks a per-message DelaySeconds (standard queues; FIFO queues refuse any, see
/// [`crate::engine`]).
pub fn validate_delay(delay: i64) -> Result<u32, Error> {
    if (0..=MAX_DELAY_SECONDS).contains(&delay) {
        Ok(u32::try_from(delay).unwrap_or(0))
    } else {
        Err(Error::invalid_value(
            delay,
            "DelaySeconds",
            "DelaySeconds must be >= 0 and <= 900.",
        ))
    }
}

/// Checks a VisibilityTimeout parameter (ReceiveMessage, ChangeMessageVisibility).
pub fn validate_visibility_timeout(v: i64) -> Result<u32, Error> {
    if (0..=MAX_VISIBILITY_TIMEOUT).contains(&v) {
        Ok(u32::try_from(v).unwrap_or(0))
    } else {
        Err(Error::invalid_value(
            v,
            "VisibilityTimeout",
            "Must be between 0 and 43200, if provided.",
        ))
    }
}

/// Checks MaxNumberOfMessages (default 1).
pub fn validate_max_messages(v: Option<i64>) -> Result<usize, Error> {
    match v {
        None => Ok(1),
        Some(n) if (1..=MAX_RECEIVE_MESSAGES).contains(&n) => Ok(usize::try_from(n).unwrap_or(1)),
        Some(n) => Err(Error::invalid_value(
            n,
            "MaxNumberOfMessages",
            "Must be between 1 and 10, if provided.",
        )),
    }
}

/// Checks WaitTimeSeconds.
pub fn validate_wait_seconds(v: i64) -> Result<u32, Error> {
    if (0..=MAX_WAIT_SECONDS).contains(&v) {
        Ok(u32::try_from(v).unwrap_or(0))
    } else {
        Err(Error::invalid_value(
            v,
            "WaitTimeSeconds",
            "Must be >= 0 and <= 20, if provided.",
        ))
    }
}

/// Checks the shape of a batch: not empty, at most 10 entries, valid and distinct ids.
pub fn validate_batch_ids<'a>(
    ids: impl ExactSizeIterator<Item = &'a str>,
    kind: BatchKind,
) -> Result<(), Error> {
    let count = ids.len();
    if count == 0 {
        return Err(Error::EmptyBatchRequest { kind });
    }
    if count > MAX_BATCH_ENTRIES {
        return Err(Error::TooManyEntriesInBatchRequest { count });
    }
    let mut seen = HashSet::with_capacity(count);
    for id in ids {
        validate_batch_entry_id(id)?;
        if !seen.insert(id) {
            return Err(Error::BatchEntryIdsNotDistinct { id: id.to_owned() });
        }
    }
    Ok(())
}

/// Checks the total payload of a SendMessageBatch (sum of [`message_size`] of its entries).
pub fn validate_batch_size(total: usize) -> Result<(), Error> {
    if total > MAX_BATCH_BYTES {
        Err(Error::BatchRequestTooLong {
            limit: MAX_BATCH_BYTES,
            sent: total,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(t: &str, v: &str) -> AttributeValue {
        AttributeValue {
            data_type: t.into(),
            data: AttributeData::String(v.into()),
        }
    }

    fn one(name: &str, v: AttributeValue) -> BTreeMap<String, AttributeValue> {
        BTreeMap::from([(name.to_owned(), v)])
    }

    #[test]
    fn oversized_messages_get_the_recorded_text() {
        let e = validate_body(&"a".repeat(1025), &BTreeMap::new(), 1024).unwrap_err();
        assert_eq!(
            e.to_string(),
            "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
        );
        // Attributes count toward the limit: 1000 + 4 + 6 + 20 > 1024.
        let attrs = one("name", sv("String", &"v".repeat(20)));
        assert!(validate_body(&"a".repeat(1000), &attrs, 1024).is_err());
        assert!(validate_body(&"a".repeat(994), &attrs, 1024).is_ok());
    }

    #[test]
    fn an_empty_body_is_a_missing_parameter() {
        assert_eq!(
            validate_body("", &BTreeMap::new(), 1024),
            Err(Error::MissingParameter {
                parameter: "MessageBody"
            })
        );
    }

    #[test]
    fn attribute_names_and_types_are_checked() {
        assert!(validate_message_attributes(&one("a.b-c_D", sv("String.custom", "x"))).is_ok());
        assert!(validate_message_attributes(&one("AWS.x", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one("amazon.x", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one(".a", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one("a.", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one("a..b", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one("a b", sv("String", "x"))).is_err());
        assert!(validate_message_attributes(&one("a", sv("Stringy", "x"))).is_err());
        assert!(validate_message_attributes(&one("a", sv("String.", "x"))).is_err());
        assert!(validate_message_attributes(&one("a", sv("Text", "x"))).is_err());
    }

    #[test]
    fn an_empty_string_attribute_gets_the_recorded_text() {
        let e = validate_message_attributes(&one("ErrorDetails", sv("String", ""))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'."
        );
    }

    #[test]
    fn number_attributes_must_be_numbers_of_at_most_38_digits() {
        for ok in [
            "1",
            "-1.5",
            "+0.25",
            "1e10",
            "1.5E-3",
            ".5",
            &"9".repeat(38),
        ] {
            assert!(
                validate_message_attributes(&one("n", sv("Number", ok))).is_ok(),
                "{ok}"
            );
        }
        for bad in ["x", "1.2.3", "e5", "1e", "--1", &"9".repeat(39)] {
            assert!(
                validate_message_attributes(&one("n", sv("Number.int", bad))).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn binary_types_need_binary_values() {
        let bin = |b: &[u8]| AttributeValue {
            data_type: "Binary.png".into(),
            data: AttributeData::Binary(b.to_vec()),
        };
        assert!(validate_message_attributes(&one("b", bin(b"\x00\x01"))).is_ok());
        assert!(validate_message_attributes(&one("b", bin(b""))).is_err());
        assert!(validate_message_attributes(&one("b", sv("Binary", "x"))).is_err());
    }

    #[test]
    fn more_than_ten_attributes_are_refused() {
        let attrs: BTreeMap<_, _> = (0..11)
            .map(|i| (format!("a{i}"), sv("String", "v")))
            .collect();
        assert!(validate_message_attributes(&attrs).is_err());
    }

    #[test]
    fn only_the_trace_header_is_a_sendable_system_attribute() {
        let ok = one(
            "AWSTraceHeader",
            sv("String", "Root=1-5759e988-bd862e3fe1be46a994272793"),
        );
        assert_eq!(
            validate_system_attributes(&ok).unwrap().as_deref(),
            Some("Root=1-5759e988-bd862e3fe1be46a994272793")
        );
        assert!(validate_system_attributes(&one("SenderId", sv("String", "x"))).is_err());
        assert!(validate_system_attributes(&one("AWSTraceHeader", sv("Number", "1"))).is_err());
    }

    #[test]
    fn receive_parameters_have_their_ranges() {
        assert_eq!(validate_max_messages(None), Ok(1));
        assert_eq!(validate_max_messages(Some(10)), Ok(10));
        assert_eq!(
            validate_max_messages(Some(11)).unwrap_err().to_string(),
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        );
        assert!(validate_max_messages(Some(0)).is_err());
        assert!(validate_visibility_timeout(43_200).is_ok());
        assert!(validate_visibility_timeout(43_201).is_err());
        assert!(validate_visibility_timeout(-1).is_err());
        assert!(validate_wait_seconds(20).is_ok());
        assert!(validate_wait_seconds(21).is_err());
        assert!(validate_delay(900).is_ok());
        assert!(validate_delay(901).is_err());
    }

    #[test]
    fn batches_are_checked_in_aws_order() {
        let none: Vec<&str> = vec![];
        assert_eq!(
            validate_batch_ids(none.into_iter(), BatchKind::Send),
            Err(Error::EmptyBatchRequest {
                kind: BatchKind::Send
            })
        );
        let many: Vec<String> = (0..11).map(|i| format!("bad:{i}")).collect();
        assert_eq!(
            validate_batch_ids(many.iter().map(String::as_str), BatchKind::Send),
            Err(Error::TooManyEntriesInBatchRequest { count: 11 })
        );
        assert_eq!(
            validate_batch_ids(["a", "b:c"].into_iter(), BatchKind::Delete),
            Err(Error::InvalidBatchEntryId)
        );
        assert_eq!(
            validate_batch_ids(["a", "b", "a"].into_iter(), BatchKind::Delete),
            Err(Error::BatchEntryIdsNotDistinct { id: "a".into() })
        );
        assert!(validate_batch_size(MAX_BATCH_BYTES).is_ok());
        assert_eq!(
            validate_batch_size(MAX_BATCH_BYTES + 1),
            Err(Error::BatchRequestTooLong {
                limit: MAX_BATCH_BYTES,
                sent: MAX_BATCH_BYTES + 1
            })
        );
    }
}
