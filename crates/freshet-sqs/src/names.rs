// SPDX-License-Identifier: Apache-2.0
//! Names and identifiers: queue names, batch entry ids, FIFO group and deduplication ids,
//! receive request attempt ids, and the character set of message bodies.

use crate::error::Error;

/// Longest queue name, `.fifo` included.
pub const MAX_QUEUE_NAME_LEN: usize = 80;
/// Longest batch entry id.
pub const MAX_BATCH_ENTRY_ID_LEN: usize = 80;
/// Longest MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId.
pub const MAX_FIFO_ID_LEN: usize = 128;

const FIFO_SUFFIX: &str = ".fifo";

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Checks a queue name for a queue of the given type. Names are case-sensitive, 1–80
/// characters of `[A-Za-z0-9_-]`, and a FIFO queue's ends with `.fifo` (which counts toward
/// the 80).
pub fn validate_queue_name(name: &str, fifo: bool) -> Result<(), Error> {
    let stem = name.strip_suffix(FIFO_SUFFIX);
    let ok = match (fifo, stem) {
        (true, Some(stem)) => !stem.is_empty() && stem.bytes().all(is_name_char),
        (true, None) => false,
        (false, _) => !name.is_empty() && name.bytes().all(is_name_char),
    } && name.len() <= MAX_QUEUE_NAME_LEN;
    if ok {
        return Ok(());
    }
    let message = if fifo {
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
    } else {
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    };
    Err(Error::invalid_parameter(message))
}

/// Whether a name has the `.fifo` suffix (GetQueueAttributes docs: how to tell a FIFO queue).
pub fn has_fifo_suffix(name: &str) -> bool {
    name.ends_with(FIFO_SUFFIX)
}

/// Checks a batch entry `Id`: 1–80 characters of `[A-Za-z0-9_-]`.
pub fn validate_batch_entry_id(id: &str) -> Result<(), Error> {
    if !id.is_empty() && id.len() <= MAX_BATCH_ENTRY_ID_LEN && id.bytes().all(is_name_char) {
        Ok(())
    } else {
        Err(Error::InvalidBatchEntryId)
    }
}

/// Whether `b` is one of the characters the model allows in FIFO ids: ASCII letters, digits
/// and punctuation `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~` (that is, printable ASCII but space).
fn is_fifo_id_char(b: u8) -> bool {
    b.is_ascii_graphic()
}

/// Checks a `MessageGroupId` or `MessageDeduplicationId` (`parameter` names which).
pub fn validate_fifo_id(value: &str, parameter: &str) -> Result<(), Error> {
    if !value.is_empty() && value.len() <= MAX_FIFO_ID_LEN && value.bytes().all(is_fifo_id_char) {
        return Ok(());
    }
    Err(Error::invalid_value(
        value,
        parameter,
        &format!(
            "{parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        ),
    ))
}

/// Checks a `ReceiveRequestAttemptId` (same character set and length as the FIFO ids).
pub fn validate_attempt_id(value: &str) -> Result<(), Error> {
    validate_fifo_id(value, "ReceiveRequestAttemptId")
}

/// Whether `c` is allowed in a message body or string attribute: the XML 1.0 `Char`
/// production, `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
/// (A Rust `char` cannot be a surrogate, so `#xD800-#xDFFF` never reaches this.)
pub fn is_allowed_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Checks every character of a message body.
pub fn validate_body_chars(body: &str) -> Result<(), Error> {
    if body.chars().all(is_allowed_char) {
        Ok(())
    } else {
        Err(Error::InvalidMessageContents)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn queue_names_follow_the_documented_rules() {
        assert!(validate_queue_name("orders_1-a", false).is_ok());
        assert!(validate_queue_name(&"a".repeat(80), false).is_ok());
        assert!(validate_queue_name(&"a".repeat(81), false).is_err());
        assert!(validate_queue_name("", false).is_err());
        assert!(validate_queue_name("has space", false).is_err());
        assert!(validate_queue_name("q.fifo", false).is_err());
        assert!(validate_queue_name("q.fifo", true).is_ok());
        assert!(validate_queue_name(".fifo", true).is_err());
        assert!(validate_queue_name("q", true).is_err());
        assert!(validate_queue_name(&format!("{}.fifo", "a".repeat(75)), true).is_ok());
        assert!(validate_queue_name(&format!("{}.fifo", "a".repeat(76)), true).is_err());
    }

    #[test]
    fn a_bad_standard_queue_name_gets_the_aws_text() {
        let e = validate_queue_name("a/b", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        );
        assert_eq!(e.query_code(), "InvalidParameterValue");
    }

    #[test]
    fn batch_entry_ids_are_at_most_80_name_characters() {
        assert!(validate_batch_entry_id("a-b_C9").is_ok());
        assert!(validate_batch_entry_id("").is_err());
        assert!(validate_batch_entry_id("invalid:id").is_err());
        assert!(validate_batch_entry_id(&"x".repeat(81)).is_err());
    }

    #[test]
    fn fifo_ids_allow_punctuation_but_not_spaces() {
        assert!(validate_fifo_id("a!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "MessageGroupId").is_ok());
        let e = validate_fifo_id("a b", "MessageGroupId").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Value a b for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."
        );
        assert!(validate_fifo_id(&"x".repeat(129), "MessageDeduplicationId").is_err());
        assert!(validate_fifo_id("é", "MessageDeduplicationId").is_err());
    }

    #[test]
    fn body_characters_follow_the_xml_char_production() {
        assert!(validate_body_chars("tab\tnl\ncr\r ok \u{D7FF}\u{E000}\u{FFFD}\u{10000}").is_ok());
        assert_eq!(
            validate_body_chars("\u{0}"),
            Err(Error::InvalidMessageContents)
        );
        assert!(validate_body_chars("\u{1F}").is_err());
        assert!(validate_body_chars("\u{FFFE}").is_err());
        assert!(validate_body_chars("\u{FFFF}").is_err());
    }

    proptest! {
        #[test]
        fn body_validation_agrees_with_the_char_ranges(s in "\\PC*") {
            let expected = s.chars().all(|c| {
                let u = c as u32;
                u == 9 || u == 0xA || u == 0xD || (0x20..=0xD7FF).contains(&u)
                    || (0xE000..=0xFFFD).contains(&u) || (0x10000..=0x10FFFF).contains(&u)
            });
            prop_assert_eq!(validate_body_chars(&s).is_ok(), expected);
        }
    }
}
