// SPDX-License-Identifier: Apache-2.0
//! LOGTOJSON: parses a log line with a built-in format or a `matchPattern` and writes its
//! fields as a JSON object; lines that do not parse are filtered out, as the agent does.
//!
//! Rules taken from the agent's parsers:
//! - `logFormat` is required even with `matchPattern` (it picks the parser family: the Apache
//!   formats turn a field that is exactly `-` into `null`, the syslog formats do not);
//! - `matchPattern` requires `customFieldNames`; without `matchPattern`, `customFieldNames`
//!   renames the format's fields and must have as many names as the format has fields;
//! - the pattern must match the whole record (Java `Matcher.matches()`), after one trailing
//!   `\n` is dropped; a group that did not take part in the match is `null`.
//!
//! Differences, on purpose: `matchPattern` is compiled by the `regex` crate (no look-around
//! or back-references, Unicode-aware `\w`/`\d`/`\s`); a pattern that does not compile, or
//! whose number of groups differs from the number of names, is a configuration error here,
//! where the agent would start and then drop every line.

use regex::{CaptureLocations, Regex, RegexBuilder};

use super::ProcessingError;
use super::csv_to_json::map_keys;
use super::java;
use super::json::JsonFormat;
use super::options::OptionReader;
use super::patterns;

/// The `logFormat` values.
pub const LOG_FORMATS: &[&str] = &[
    "COMMONAPACHELOG",
    "COMBINEDAPACHELOG",
    "APACHEERRORLOG",
    "SYSLOG",
    "RFC3339SYSLOG",
];

/// A compiled log format: the agent's `ILogParser`.
#[derive(Debug, Clone)]
pub struct LogParser {
    regex: Regex,
    /// Output keys in order, each with its capture group (1-based).
    keys: Vec<(String, usize)>,
    /// The Apache parsers read a lone `-` as "no value".
    dash_is_null: bool,
}

impl LogParser {
    /// Reads `logFormat` (required), `matchPattern` and `customFieldNames`.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        let format = option
            .string("logFormat")?
            .ok_or_else(|| option.error("the required parameter logFormat is missing"))?;
        let (default_pattern, default_fields, dash_is_null) = match format {
            "COMMONAPACHELOG" => (patterns::common_apache_log(), patterns::COMMON_FIELDS, true),
            "COMBINEDAPACHELOG" => (
                patterns::combined_apache_log(),
                patterns::COMBINED_FIELDS,
                true,
            ),
            "APACHEERRORLOG" => (patterns::apache_error_log(), patterns::ERROR_FIELDS, true),
            "SYSLOG" => (patterns::syslog(), patterns::SYSLOG_FIELDS, false),
            "RFC3339SYSLOG" => (patterns::rfc3339_syslog(), patterns::SYSLOG_FIELDS, false),
            other => {
                return Err(option.error(format!(
                    "unknown logFormat \"{other}\"; supported: {}",
                    LOG_FORMATS.join(", ")
                )));
            }
        };
        let custom = option.string_list("customFieldNames")?;
        let (pattern, fields, user_pattern) = match (option.string("matchPattern")?, custom) {
            (Some(_), None) => {
                return Err(option.error("matchPattern requires customFieldNames"));
            }
            (Some(pattern), Some(fields)) => (pattern.to_owned(), fields, true),
            (None, Some(fields)) => {
                if fields.len() != default_fields.len() {
                    return Err(option.error(format!(
                        "customFieldNames has {} names but {format} has {} fields ({}); \
                         give one name per field or a matchPattern",
                        fields.len(),
                        default_fields.len(),
                        default_fields.join(", ")
                    )));
                }
                (default_pattern, fields, false)
            }
            (None, None) => (
                default_pattern,
                default_fields.iter().map(|f| (*f).to_owned()).collect(),
                false,
            ),
        };
        // Whole-record match, as Java's `matches()`. CRLF mode keeps a user pattern's `.` off
        // `\r` as Java's is; the built-in patterns spell Java's `.` out themselves.
        let regex = RegexBuilder::new(&format!(r"\A(?:{pattern})\z"))
            .crlf(user_pattern)
            .build()
            .map_err(|e| {
                option.error(format!(
                    "matchPattern is not a valid regular expression: {e}"
                ))
            })?;
        let groups = regex.captures_len() - 1;
        if groups != fields.len() {
            return Err(option.error(format!(
                "matchPattern has {groups} capture groups but customFieldNames has {} names",
                fields.len()
            )));
        }
        let keys = map_keys(&fields)
            .into_iter()
            .map(|(name, index)| (name, index + 1))
            .collect();
        Ok(Self {
            regex,
            keys,
            dash_is_null,
        })
    }

    /// The output keys in order (each name once).
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(name, _)| name.as_str())
    }

    /// Writes the fields of `line` as one JSON object; false when the line does not match.
    pub fn write(
        &self,
        line: &str,
        format: JsonFormat,
        out: &mut Vec<u8>,
    ) -> std::io::Result<bool> {
        let mut locations = self.regex.capture_locations();
        if self.regex.captures_read(&mut locations, line).is_none() {
            return Ok(false);
        }
        let row = ParsedRow {
            parser: self,
            line,
            locations: &locations,
        };
        format.write_line(&row, out)?;
        Ok(true)
    }
}

/// A matched line, serialized field by field without building a map.
struct ParsedRow<'a> {
    parser: &'a LogParser,
    line: &'a str,
    locations: &'a CaptureLocations,
}

impl serde::Serialize for ParsedRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.parser.keys.len()))?;
        for (key, group) in &self.parser.keys {
            let value = self
                .locations
                .get(*group)
                .and_then(|(start, end)| self.line.get(start..end))
                .filter(|v| !(self.parser.dash_is_null && *v == "-"));
            map.serialize_entry(key, &value)?;
        }
        map.end()
    }
}

/// The LOGTOJSON converter.
#[derive(Debug, Clone)]
pub struct LogToJson {
    parser: LogParser,
    format: JsonFormat,
}

impl LogToJson {
    /// Reads the parser parameters and `jsonFormat`.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        Ok(Self {
            parser: LogParser::from_option(option)?,
            format: option.json_format()?,
        })
    }

    /// Bytes the output adds to the input's in the usual case.
    pub fn overhead(&self) -> usize {
        self.parser
            .keys
            .iter()
            .map(|(k, _)| k.len() + 6)
            .sum::<usize>()
            + 16
    }

    /// The output keys in order.
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.parser.keys()
    }

    /// Converts one record; false means it did not parse and is filtered out.
    pub fn convert(&self, input: &[u8], out: &mut Vec<u8>) -> std::io::Result<bool> {
        let text = java::decode(input);
        self.parser
            .write(java::strip_newline(&text), self.format, out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn converter(option: Value) -> Result<LogToJson, ProcessingError> {
        let object = option.as_object().cloned().unwrap_or_default();
        LogToJson::from_option(&OptionReader::new(0, "LOGTOJSON", &object))
    }

    fn convert(option: Value, line: &str) -> Option<String> {
        let mut out = Vec::new();
        let parsed = converter(option)
            .unwrap()
            .convert(line.as_bytes(), &mut out)
            .unwrap();
        parsed.then(|| String::from_utf8(out).unwrap())
    }

    const COMMON_LINE: &str = "64.242.88.10 - - [07/Mar/2004:16:10:02 -0800] \"GET /mailman/listinfo/hsdivision HTTP/1.1\" 200 6291";

    #[test]
    fn the_documented_common_log_example_converts_with_dashes_as_null() {
        assert_eq!(
            convert(json!({"logFormat": "COMMONAPACHELOG"}), COMMON_LINE).unwrap(),
            "{\"host\":\"64.242.88.10\",\"ident\":null,\"authuser\":null,\"datetime\":\"07/Mar/2004:16:10:02 -0800\",\"request\":\"GET /mailman/listinfo/hsdivision HTTP/1.1\",\"response\":\"200\",\"bytes\":\"6291\"}\n"
        );
    }

    #[test]
    fn the_documented_custom_field_names_rename_the_fields() {
        let option = json!({
            "logFormat": "COMMONAPACHELOG",
            "customFieldNames": ["f1", "f2", "f3", "f4", "f5", "f6", "f7"]
        });
        assert_eq!(
            convert(option, COMMON_LINE).unwrap(),
            "{\"f1\":\"64.242.88.10\",\"f2\":null,\"f3\":null,\"f4\":\"07/Mar/2004:16:10:02 -0800\",\"f5\":\"GET /mailman/listinfo/hsdivision HTTP/1.1\",\"f6\":\"200\",\"f7\":\"6291\"}\n"
        );
    }

    #[test]
    fn the_documented_match_pattern_example_omits_the_bytes_field() {
        let option = json!({
            "logFormat": "COMMONAPACHELOG",
            "matchPattern": "^([\\d.]+) (\\S+) (\\S+) \\[([\\w:/]+\\s[+\\-]\\d{4})\\] \"(.+?)\" (\\d{3})",
            "customFieldNames": ["host", "ident", "authuser", "datetime", "request", "response"]
        });
        let line = "123.45.67.89 - - [27/Oct/2000:09:27:09 -0400] \"GET /java/javaResources.html HTTP/1.0\" 200";
        assert_eq!(
            convert(option, line).unwrap(),
            "{\"host\":\"123.45.67.89\",\"ident\":null,\"authuser\":null,\"datetime\":\"27/Oct/2000:09:27:09 -0400\",\"request\":\"GET /java/javaResources.html HTTP/1.0\",\"response\":\"200\"}\n"
        );
    }

    #[test]
    fn common_log_accepts_trailing_fields_and_host_names() {
        let option = json!({"logFormat": "COMMONAPACHELOG"});
        let expected = "{\"host\":\"lj1036.inktomisearch.com\",\"ident\":null,\"authuser\":null,\"datetime\":\"27/Oct/2000:09:27:09 -0400\",\"request\":\"GET /java/javaResources.html HTTP/1.0\",\"response\":\"200\",\"bytes\":\"10450\"}\n";
        let line = "lj1036.inktomisearch.com - - [27/Oct/2000:09:27:09 -0400] \"GET /java/javaResources.html HTTP/1.0\" 200 10450 \"-\" \"Mozilla/4.6\"\n";
        assert_eq!(convert(option, line).unwrap(), expected);
    }

    #[test]
    fn combined_log_names_the_referer_as_the_agent_does() {
        let line = "123.45.67.89 - - [27/Oct/2000:09:27:09 -0400] \"GET /java/javaResources.html HTTP/1.0\" 200 10450 \"-\" \"Mozilla/4.6 [en] (X11; U; OpenBSD 2.8 i386; Nav)\" \"ANY_RANDOM_DATA\"";
        assert_eq!(
            convert(json!({"logFormat": "COMBINEDAPACHELOG"}), line).unwrap(),
            "{\"host\":\"123.45.67.89\",\"ident\":null,\"authuser\":null,\"datetime\":\"27/Oct/2000:09:27:09 -0400\",\"request\":\"GET /java/javaResources.html HTTP/1.0\",\"response\":\"200\",\"bytes\":\"10450\",\"referer\":null,\"agent\":\"Mozilla/4.6 [en] (X11; U; OpenBSD 2.8 i386; Nav)\"}\n"
        );
    }

    #[test]
    fn apache_error_log_lines_with_and_without_optional_parts_convert() {
        let option = json!({"logFormat": "APACHEERRORLOG"});
        assert_eq!(
            convert(option.clone(), "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico").unwrap(),
            "{\"timestamp\":\"Fri Sep 09 10:42:29.902022 2011\",\"module\":\"core\",\"severity\":\"error\",\"processid\":\"35708\",\"threadid\":\"4328636416\",\"client\":\"72.15.99.187\",\"message\":\"File does not exist: /usr/local/apache2/htdocs/favicon.ico\"}\n"
        );
        assert_eq!(
            convert(option.clone(), "[Fri Sep 09 10:42:29 2011] [core:error] [pid 35708] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico").unwrap(),
            "{\"timestamp\":\"Fri Sep 09 10:42:29 2011\",\"module\":\"core\",\"severity\":\"error\",\"processid\":\"35708\",\"threadid\":null,\"client\":\"72.15.99.187\",\"message\":\"File does not exist: /usr/local/apache2/htdocs/favicon.ico\"}\n"
        );
        assert_eq!(
            convert(option, "[Fri Sep 09 10:42:29.902022 2011] [error] [pid 35708:tid 4328636416] [client 72.15.99.187:12345] File does not exist: /usr/local/apache2/htdocs/favicon.ico").unwrap(),
            "{\"timestamp\":\"Fri Sep 09 10:42:29.902022 2011\",\"module\":null,\"severity\":\"error\",\"processid\":\"35708\",\"threadid\":\"4328636416\",\"client\":\"72.15.99.187:12345\",\"message\":\"File does not exist: /usr/local/apache2/htdocs/favicon.ico\"}\n"
        );
    }

    #[test]
    fn syslog_lines_with_and_without_a_pid_convert() {
        let option = json!({"logFormat": "SYSLOG"});
        assert_eq!(
            convert(option.clone(), "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds) ").unwrap(),
            "{\"timestamp\":\"Mar 12 12:00:08\",\"hostname\":\"server2\",\"program\":\"rcd\",\"processid\":\"308\",\"message\":\"Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds) \"}\n"
        );
        assert_eq!(
            convert(
                option,
                "Mar 12 12:01:02 server4 snort: Ports to decode telnet on: 21 23 25 119"
            )
            .unwrap(),
            "{\"timestamp\":\"Mar 12 12:01:02\",\"hostname\":\"server4\",\"program\":\"snort\",\"processid\":null,\"message\":\"Ports to decode telnet on: 21 23 25 119\"}\n"
        );
    }

    #[test]
    fn syslog_keeps_a_dash_as_text() {
        assert_eq!(
            convert(
                json!({"logFormat": "SYSLOG"}),
                "Mar 12 12:01:02 server4 snort: -"
            )
            .unwrap(),
            "{\"timestamp\":\"Mar 12 12:01:02\",\"hostname\":\"server4\",\"program\":\"snort\",\"processid\":null,\"message\":\"-\"}\n"
        );
    }

    #[test]
    fn rfc3339_syslog_lines_convert() {
        assert_eq!(
            convert(
                json!({"logFormat": "RFC3339SYSLOG"}),
                "2017-05-04T12:30:01.123+02:00 ip-10-0-0-1 sshd[1234]: Accepted publickey"
            )
            .unwrap(),
            "{\"timestamp\":\"2017-05-04T12:30:01.123+02:00\",\"hostname\":\"ip-10-0-0-1\",\"program\":\"sshd\",\"processid\":\"1234\",\"message\":\"Accepted publickey\"}\n"
        );
    }

    #[test]
    fn a_line_that_does_not_parse_is_filtered_out() {
        let line = "123.45.67.89 - - [27/Oct/2000:09:27:09 -0400] \"GET /java/javaResources.html HTTP/1.0\" 200";
        assert_eq!(convert(json!({"logFormat": "COMMONAPACHELOG"}), line), None);
        assert_eq!(
            convert(json!({"logFormat": "SYSLOG"}), "not a log line"),
            None
        );
    }

    #[test]
    fn a_crlf_line_does_not_parse_as_with_the_agent() {
        let line = format!("{COMMON_LINE}\r\n");
        assert_eq!(
            convert(json!({"logFormat": "COMMONAPACHELOG"}), &line),
            None
        );
    }

    #[test]
    fn configuration_errors_name_the_problem() {
        let cases = [
            (json!({}), "logFormat"),
            (
                json!({"logFormat": "NGINX"}),
                "COMMONAPACHELOG, COMBINEDAPACHELOG",
            ),
            (
                json!({"logFormat": "SYSLOG", "matchPattern": "(.*)"}),
                "customFieldNames",
            ),
            (
                json!({"logFormat": "SYSLOG", "customFieldNames": ["a"]}),
                "5 fields",
            ),
            (
                json!({"logFormat": "SYSLOG", "matchPattern": "(a)(b)", "customFieldNames": ["a"]}),
                "2 capture groups",
            ),
            (
                json!({"logFormat": "SYSLOG", "matchPattern": "(?<=a)b", "customFieldNames": ["a"]}),
                "matchPattern",
            ),
            (
                json!({"logFormat": "SYSLOG", "jsonFormat": "TABLE"}),
                "jsonFormat",
            ),
        ];
        for (option, needle) in cases {
            let err = converter(option.clone()).unwrap_err().to_string();
            assert!(err.contains(needle), "{option}: {err}");
        }
    }

    proptest! {
        #[test]
        fn any_input_either_is_filtered_or_becomes_one_json_object_with_the_format_keys(
            format in proptest::sample::select(LOG_FORMATS),
            pretty in any::<bool>(),
            line in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..120),
                "[0-9a-zA-Z .:/\\[\\]\"+-]{0,120}".prop_map(String::into_bytes),
                Just(COMMON_LINE.as_bytes().to_vec()),
            ],
        ) {
            let json_format = if pretty { "PRETTYPRINT" } else { "COMPACT" };
            let c = converter(json!({"logFormat": format, "jsonFormat": json_format})).unwrap();
            let mut out = Vec::new();
            if c.convert(&line, &mut out).unwrap() {
                let value: Value = serde_json::from_slice(&out).unwrap();
                let object = value.as_object().unwrap();
                let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
                let mut expected: Vec<&str> = c.keys().collect();
                keys.sort_unstable();
                expected.sort_unstable();
                prop_assert_eq!(keys, expected);
            } else {
                prop_assert!(out.is_empty());
            }
        }
    }
}
