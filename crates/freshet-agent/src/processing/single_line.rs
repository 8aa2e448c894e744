// SPDX-License-Identifier: Apache-2.0
//! SINGLELINE: joins the lines of a multi-line record into one line.
//!
//! As the agent does it: the record is split on `\n` (Java `split`, so trailing empty lines
//! vanish), each line is trimmed (Java `trim`: spaces and control characters) unless
//! `parseOptions` holds `NO_TRIM`, the lines are joined with nothing, or with the three
//! characters `\\n` when `parseOptions` holds `ESCAPE_NEW_LINE` (the agent's literal), and the
//! result ends with one `\n`.

use super::ProcessingError;
use super::java;
use super::options::OptionReader;

/// The `parseOptions` values the agent knows.
const PARSE_OPTIONS: &[&str] = &["NO_TRIM", "ESCAPE_NEW_LINE"];

/// The agent's join string for ESCAPE_NEW_LINE: backslash, backslash, `n`.
const ESCAPED_NEW_LINE: &[u8] = b"\\\\n";

/// The SINGLELINE converter.
#[derive(Debug, Clone)]
pub struct SingleLine {
    trim: bool,
    escape_new_line: bool,
}

impl SingleLine {
    /// Reads `parseOptions`. The agent ignores values it does not know; a typo there silently
    /// changes the output, so here it is an error.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        let parse_options = option.string_list("parseOptions")?.unwrap_or_default();
        if let Some(unknown) = parse_options
            .iter()
            .find(|o| !PARSE_OPTIONS.contains(&o.as_str()))
        {
            return Err(option.error(format!(
                "unknown parseOptions value \"{unknown}\"; supported: {}",
                PARSE_OPTIONS.join(", ")
            )));
        }
        Ok(Self {
            trim: !parse_options.iter().any(|o| o == "NO_TRIM"),
            escape_new_line: parse_options.iter().any(|o| o == "ESCAPE_NEW_LINE"),
        })
    }

    /// Converts one record.
    pub fn convert(&self, input: &[u8], out: &mut Vec<u8>) {
        let text = java::decode(input);
        // Java's split drops trailing empty strings, which is the same as dropping the trailing
        // newlines first (when there are only newlines both leave nothing to join).
        let body = text.trim_end_matches('\n');
        for (i, line) in body.split('\n').enumerate() {
            if i > 0 && self.escape_new_line {
                out.extend_from_slice(ESCAPED_NEW_LINE);
            }
            let line = if self.trim { java::trim(line) } else { line };
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn converter(option: serde_json::Value) -> Result<SingleLine, ProcessingError> {
        let object = option.as_object().cloned().unwrap_or_default();
        SingleLine::from_option(&OptionReader::new(0, "SINGLELINE", &object))
    }

    fn convert(option: serde_json::Value, input: &str) -> String {
        let mut out = Vec::new();
        converter(option)
            .unwrap()
            .convert(input.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_pretty_printed_json_record_becomes_one_line_as_in_the_agents_test() {
        let input = "{\n   \"a\": {\n           \"b\": 1,\n           \"c\": null,\n           \"d\": true\n    },\n   \"e\": \"f\",\n   \"g\": 2\n     }\n";
        assert_eq!(
            convert(json!({}), input),
            "{\"a\": {\"b\": 1,\"c\": null,\"d\": true},\"e\": \"f\",\"g\": 2}\n"
        );
    }

    #[test]
    fn no_trim_keeps_the_spaces_around_lines() {
        assert_eq!(
            convert(json!({"parseOptions": ["NO_TRIM"]}), " a \n b \n"),
            " a  b \n"
        );
    }

    #[test]
    fn escape_new_line_joins_with_the_agents_backslash_literal() {
        assert_eq!(
            convert(json!({"parseOptions": ["ESCAPE_NEW_LINE"]}), "a\n b\n\n"),
            "a\\\\nb\n"
        );
    }

    #[test]
    fn an_empty_record_becomes_a_lone_newline() {
        assert_eq!(convert(json!({}), ""), "\n");
        assert_eq!(convert(json!({}), "\n\n"), "\n");
    }

    #[test]
    fn carriage_returns_are_trimmed_like_other_control_characters() {
        assert_eq!(convert(json!({}), "a\r\nb\r\n"), "ab\n");
    }

    #[test]
    fn an_unknown_parse_option_is_a_configuration_error() {
        let err = converter(json!({"parseOptions": ["NOTRIM"]})).unwrap_err();
        assert!(err.to_string().contains("NOTRIM"), "{err}");
        assert!(
            err.to_string().contains("NO_TRIM, ESCAPE_NEW_LINE"),
            "{err}"
        );
    }
}
