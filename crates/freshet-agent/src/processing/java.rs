// SPDX-License-Identifier: Apache-2.0
//! The few `java.lang.String` behaviours the Kinesis Agent's converters rely on, reproduced so
//! the same line gives the same record: `split(regex)` (limit 0) and `trim()`, plus the
//! agent's "one trailing newline is not part of the data" rule and its UTF-8 decoding.

use std::borrow::Cow;

use regex::Regex;

/// How a delimiter is found: most delimiters are plain text and need no regex engine.
#[derive(Debug, Clone)]
pub enum Delimiter {
    /// A delimiter without regex metacharacters (or `\t`), searched as a substring.
    Literal(String),
    /// Any other delimiter, a regex as in Java's `String.split`.
    Regex(Regex),
}

impl Delimiter {
    /// Compiles a Java `split` delimiter. Returns the regex error text when it does not compile.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            // The empty regex matches between every character; the regex path handles it.
            return Regex::new("").map(Self::Regex).map_err(|e| e.to_string());
        }
        if regex::escape(pattern) == pattern {
            return Ok(Self::Literal(pattern.to_owned()));
        }
        if pattern == r"\t" {
            return Ok(Self::Literal("\t".to_owned()));
        }
        Regex::new(pattern)
            .map(Self::Regex)
            .map_err(|e| e.to_string())
    }

    /// Splits `input` exactly as Java's `input.split(delimiter)` does: a zero-width match at the
    /// start yields no leading empty part, trailing empty parts are removed, and an input with no
    /// match at all comes back whole (so `""` gives `[""]`, not `[]`).
    pub fn split<'a>(&self, input: &'a str, parts: &mut Vec<&'a str>) {
        parts.clear();
        let mut index = 0usize;
        let mut matched = false;
        match self {
            Self::Literal(literal) if literal.len() == 1 => {
                // One ASCII byte (`,`, `\t`, `;`, `|`...): memchr is several times faster than
                // the general substring search, and an ASCII byte is always a char boundary.
                for start in memchr::memchr_iter(literal.as_bytes()[0], input.as_bytes()) {
                    parts.push(&input[index..start]);
                    index = start + 1;
                    matched = true;
                }
            }
            Self::Literal(literal) => {
                for (start, found) in input.match_indices(literal.as_str()) {
                    parts.push(&input[index..start]);
                    index = start + found.len();
                    matched = true;
                }
            }
            Self::Regex(regex) => {
                for found in regex.find_iter(input) {
                    if index == 0 && found.start() == 0 && found.end() == 0 {
                        continue;
                    }
                    parts.push(&input[index..found.start()]);
                    index = found.end();
                    matched = true;
                }
            }
        }
        if !matched {
            // Java: "If no match was found, return this" (before trailing empties are removed).
            parts.clear();
            parts.push(input);
            return;
        }
        parts.push(&input[index..]);
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
}

/// Java's `String.trim()`: removes every character up to U+0020 (spaces and all ASCII control
/// characters, `\r` and `\t` included) from both ends, and nothing else.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// The agent decodes records as UTF-8, replacing malformed sequences with U+FFFD (Java's
/// `new String(bytes, UTF_8)`). Valid input is borrowed, not copied.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Removes one trailing `\n` (not `\r\n`): the converters treat it as the record separator,
/// not data, and end their own output with `\n`.
pub fn strip_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn split(delimiter: &str, input: &str) -> Vec<String> {
        let mut parts = Vec::new();
        Delimiter::new(delimiter).unwrap().split(input, &mut parts);
        parts.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn split_drops_trailing_empty_parts_but_keeps_inner_and_leading_ones() {
        assert_eq!(split(",", "a,,b,,"), ["a", "", "b"]);
        assert_eq!(split(",", ",a"), ["", "a"]);
    }

    #[test]
    fn split_of_an_input_without_a_match_returns_the_input_even_when_empty() {
        assert_eq!(split(",", ""), [""]);
        assert_eq!(split(",", "abc"), ["abc"]);
    }

    #[test]
    fn split_of_only_delimiters_is_empty() {
        assert!(split(",", ",,,").is_empty());
    }

    #[test]
    fn multi_byte_literals_and_non_ascii_text_split_at_the_right_places() {
        assert_eq!(split("::", "é::ü::"), ["é", "ü"]);
        assert_eq!(split(",", "é,ü"), ["é", "ü"]);
        assert_eq!(split("→", "a→b"), ["a", "b"]);
    }

    #[test]
    fn split_takes_a_regex_like_java() {
        assert_eq!(split(r"\s*;\s*", "a ; b;c"), ["a", "b", "c"]);
        assert_eq!(split(r"\t", "a\tb"), ["a", "b"]);
        assert_eq!(split("|", "ab"), ["a", "b"]);
        assert_eq!(split("", "ab"), ["a", "b"]);
    }

    #[test]
    fn a_delimiter_that_is_not_a_regex_is_an_error() {
        assert!(Delimiter::new("(").is_err());
    }

    #[test]
    fn trim_removes_control_characters_but_not_unicode_spaces() {
        assert_eq!(trim("\t \r x y\u{0}\n"), "x y");
        assert_eq!(trim("\u{a0}x\u{2003}"), "\u{a0}x\u{2003}");
    }

    #[test]
    fn only_one_trailing_newline_is_stripped() {
        assert_eq!(strip_newline("a\n\n"), "a\n");
        assert_eq!(strip_newline("a\r\n"), "a\r");
        assert_eq!(strip_newline("a"), "a");
    }

    proptest! {
        #[test]
        fn literal_split_rejoins_to_the_input_without_its_trailing_delimiters(
            input in "[a,]{0,20}",
        ) {
            let parts = split(",", &input);
            let expected = if input.contains(',') { input.trim_end_matches(',') } else { &input };
            prop_assert_eq!(parts.join(","), expected);
        }

        #[test]
        fn regex_and_literal_paths_split_alike(input in "[ab,;]{0,20}") {
            let literal = split(",", &input);
            let regex = split("[,]", &input);
            prop_assert_eq!(literal, regex);
        }
    }
}
