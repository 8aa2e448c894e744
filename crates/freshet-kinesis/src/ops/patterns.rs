// SPDX-License-Identifier: Apache-2.0
//! The Kinesis model's string patterns, matched without a regex engine, with the pattern
//! texts Coral quotes in validation messages.

/// `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+` (ResourceARN: a stream or consumer ARN),
/// matched against the whole value with Java's regex semantics (`.` stops at line ends).
/// Each `.*` gap only needs the next literal to occur later, so taking every literal at its
/// earliest position decides the match in linear time.
pub fn is_resource_arn(s: &str) -> bool {
    if s.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return false;
    }
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let Some(k) = rest.find(":kinesis:") else {
        return false;
    };
    let rest = &rest[k + ":kinesis:".len()..];
    let b = rest.as_bytes();
    // The earliest `:` + 12 digits + `:`.
    let Some(acct_end) = (0..b.len().saturating_sub(13)).find_map(|i| {
        (b[i] == b':' && b[i + 1..i + 13].iter().all(u8::is_ascii_digit) && b[i + 13] == b':')
            .then_some(i + 14)
    }) else {
        return false;
    };
    let rest = &rest[acct_end..];
    // `stream/` followed by at least one character and no white space up to the end.
    let tail_from = rest
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    rest.match_indices("stream/")
        .any(|(i, _)| i >= tail_from && i + "stream/".len() < rest.len())
}

/// The model pattern text of [`is_resource_arn`].
pub const RESOURCE_ARN_PATTERN: &str = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";

/// `[a-zA-Z0-9_.-]+`: stream, consumer and shard-id names.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The model pattern text of [`is_name`].
pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

/// `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`, matched against the whole value.
pub fn is_stream_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let Some(k) = rest.find(":kinesis:") else {
        return false;
    };
    let after = &rest[k + ":kinesis:".len()..];
    // Some `:` + 12 digits + `:stream/` + at least one non-space character must end the value.
    after.match_indices(":stream/").any(|(i, _)| {
        let head = &after[..i];
        let tail = &after[i + ":stream/".len()..];
        head.len() >= 12
            && head[head.len() - 12..].bytes().all(|b| b.is_ascii_digit())
            && (head.len() == 12 || head.as_bytes()[head.len() - 13] == b':')
            && !tail.is_empty()
            && !tail.chars().any(char::is_whitespace)
    })
}

/// The model pattern text of [`is_stream_arn`].
pub const STREAM_ARN_PATTERN: &str = "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+";

/// `0|([1-9]\d{0,38})`: hash keys.
pub fn is_hash_key(s: &str) -> bool {
    decimal(s, 39)
}

/// The model pattern text of [`is_hash_key`].
pub const HASH_KEY_PATTERN: &str = "0|([1-9]\\d{0,38})";

/// `0|([1-9]\d{0,128})`: sequence numbers.
pub fn is_sequence_number(s: &str) -> bool {
    decimal(s, 129)
}

/// The model pattern text of [`is_sequence_number`].
pub const SEQUENCE_NUMBER_PATTERN: &str = "0|([1-9]\\d{0,128})";

fn decimal(s: &str, max_digits: usize) -> bool {
    match s.as_bytes() {
        [b'0'] => true,
        [first, rest @ ..] => {
            (b'1'..=b'9').contains(first)
                && rest.len() < max_digits
                && rest.iter().all(u8::is_ascii_digit)
        }
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn arn_pattern() {
        assert!(is_stream_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        ));
        assert!(is_stream_arn(
            "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b"
        ));
        assert!(!is_stream_arn(
            "arn:aws:kinesis:us-east-1:00000000000:stream/s"
        ));
        assert!(!is_stream_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/"
        ));
        assert!(!is_stream_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/a b"
        ));
        assert!(!is_stream_arn(
            "arn:aws:sqs:us-east-1:000000000000:stream/s"
        ));
    }

    #[test]
    fn decimal_patterns() {
        assert!(is_hash_key("0"));
        assert!(is_hash_key(&"9".repeat(39)));
        assert!(!is_hash_key(&"9".repeat(40)));
        assert!(!is_hash_key("01"));
        assert!(!is_hash_key("-1"));
        assert!(is_sequence_number(&"1".repeat(56)));
    }

    #[test]
    fn resource_arn_pattern() {
        for ok in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000",
            "arn:aws-cn:kinesis:cn-north-1:123456789012:x/stream/a",
            "arn:aws:kinesis:r:a:000000000000:stream/stream/",
        ] {
            assert!(is_resource_arn(ok), "{ok}");
        }
        for bad in [
            "arn:aws:kinesis:us-east-1:00000000000:stream/s",
            "arn:aws:kinesis:us-east-1:000000000000:stream/",
            "arn:aws:kinesis:us-east-1:000000000000:stream/a b",
            "arn:aws:kinesis:us-east-1:000000000000:stream/a\nb",
            "arn:aws:sqs:us-east-1:000000000000:stream/s",
            "arn:gcp:kinesis:us-east-1:000000000000:stream/s",
        ] {
            assert!(!is_resource_arn(bad), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn patterns_never_panic(s in "\\PC*") {
            let _ = is_resource_arn(&s);
            let _ = (is_name(&s), is_stream_arn(&s), is_hash_key(&s), is_sequence_number(&s));
        }
    }
}
