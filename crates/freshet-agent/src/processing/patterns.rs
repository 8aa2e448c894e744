// SPDX-License-Identifier: Apache-2.0
//! The agent's built-in log formats as regular expressions, with their default field names.
//!
//! Translated from the agent's `PatternConstants` (which are grok-like Java regexes) so they
//! match the same lines: Java's `\w`, `\d` and `\s` are ASCII-only, so they are spelled out as
//! ASCII classes here (the `regex` crate's are Unicode-aware), and Java's `.` does not match
//! line terminators (`\n`, `\r`, U+0085, U+2028, U+2029), so neither does [`JAVA_DOT`]. A
//! consequence kept on purpose: a line that still ends in `\r` (a CRLF file) does not parse,
//! exactly as with the agent.

/// Java's `.`: any character but a line terminator.
const JAVA_DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";
/// Java's `\s` (ASCII whitespace).
const SPACE: &str = r"[ \t\n\x0B\x0C\r]";
/// Java's `\w` (ASCII word character).
const WORD_CHAR: &str = "[0-9A-Za-z_]";
/// A word boundary between ASCII word characters and anything else.
const BOUNDARY: &str = r"(?-u:\b)";

const INT: &str = "(?:[+-]?(?:[0-9]+))";
const POSINT: &str = "(?:[1-9][0-9]*)";
const NONNEGINT: &str = "(?:[0-9]+)";
const NOQUOTE: &str = "[^\"]+";
const IP: &str = r"(?:[0-9.]+)";
const USER: &str = "(?:[a-zA-Z0-9._-]+)";
const MONTHDAY: &str = "(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])";
const DAY: &str = "(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)";
const MONTH_NAMES: &str = "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
const YEAR: &str = "(?:[1-9][0-9]*)";
const HOUR: &str = "(?:2[0123]|[01]?[0-9])";
const MINUTE: &str = "(?:[0-5][0-9])";
const SECOND: &str = "(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)";
const RFC3339: &str = "(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?)(?:Z|(?:[-+][0-9]{2}:[0-9]{2}))";

/// COMMONAPACHELOG field names.
pub const COMMON_FIELDS: &[&str] = &[
    "host", "ident", "authuser", "datetime", "request", "response", "bytes",
];
/// COMBINEDAPACHELOG field names (the source spells it `referer`, the docs `referrer`: the
/// source is what produces records).
pub const COMBINED_FIELDS: &[&str] = &[
    "host", "ident", "authuser", "datetime", "request", "response", "bytes", "referer", "agent",
];
/// APACHEERRORLOG field names.
pub const ERROR_FIELDS: &[&str] = &[
    "timestamp",
    "module",
    "severity",
    "processid",
    "threadid",
    "client",
    "message",
];
/// SYSLOG and RFC3339SYSLOG field names.
pub const SYSLOG_FIELDS: &[&str] = &["timestamp", "hostname", "program", "processid", "message"];

fn word() -> String {
    format!("{WORD_CHAR}+")
}

fn hostname() -> String {
    let part = "(?:[0-9A-Za-z_\\-]+)";
    format!(r"{part}(?:\.{part})*(?:\.?|{BOUNDARY})")
}

fn ip_or_host() -> String {
    format!("(?:{}|{IP})", hostname())
}

fn uri_host() -> String {
    format!("(?:{}(?::{POSINT})?)", ip_or_host())
}

fn month() -> String {
    format!("{BOUNDARY}{MONTH_NAMES}{BOUNDARY}")
}

fn time() -> String {
    format!("(?:{HOUR}:{MINUTE}:{SECOND})")
}

fn any_data() -> String {
    format!("{JAVA_DOT}*")
}

fn syslog_prog() -> String {
    format!(r"([0-9A-Za-z_./%\-]+)(?:\[({POSINT})\])?")
}

fn syslog_facility() -> String {
    format!("<{NONNEGINT}{JAVA_DOT}{NONNEGINT}>")
}

/// COMMONAPACHELOG; like the agent, anything after the bytes field is allowed.
pub fn common_apache_log() -> String {
    format!("{}{}", common_apache_base(), any_data())
}

fn common_apache_base() -> String {
    format!(
        r#"^({}) ({USER}) ({USER}) \[((?:{MONTHDAY}/{}/{YEAR}:{}{SPACE}{INT}))\] "({NOQUOTE})" ({INT}|\-) ({INT}|\-)"#,
        ip_or_host(),
        month(),
        time(),
    )
}

/// COMBINEDAPACHELOG; anything after the user agent is allowed.
pub fn combined_apache_log() -> String {
    format!(
        r#"{} "({NOQUOTE})" "({NOQUOTE})"{}"#,
        common_apache_base(),
        any_data()
    )
}

/// APACHEERRORLOG.
pub fn apache_error_log() -> String {
    let timestamp = format!(
        "(?:{DAY}{SPACE}+{}{SPACE}+{MONTHDAY}{SPACE}+{}{SPACE}+{YEAR})",
        month(),
        time()
    );
    format!(
        r"^\[({timestamp})\] \[(?:({w}):)?({w})\] \[pid ({NONNEGINT})(?::tid ({NONNEGINT}))?\] \[client ({uri})\] ({any})",
        w = word(),
        uri = uri_host(),
        any = any_data(),
    )
}

/// SYSLOG (RFC 3164 style timestamps).
pub fn syslog() -> String {
    let timestamp = format!("(?:{}{SPACE}+{MONTHDAY}{SPACE}+{})", month(), time());
    syslog_with(&timestamp)
}

/// RFC3339SYSLOG.
pub fn rfc3339_syslog() -> String {
    syslog_with(RFC3339)
}

fn syslog_with(timestamp: &str) -> String {
    format!(
        "^({timestamp}) (?:{} )?({USER}) {}: ({})",
        syslog_facility(),
        syslog_prog(),
        any_data()
    )
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn every_built_in_pattern_compiles_with_one_group_per_field() {
        let cases: [(String, &[&str]); 5] = [
            (common_apache_log(), COMMON_FIELDS),
            (combined_apache_log(), COMBINED_FIELDS),
            (apache_error_log(), ERROR_FIELDS),
            (syslog(), SYSLOG_FIELDS),
            (rfc3339_syslog(), SYSLOG_FIELDS),
        ];
        for (pattern, fields) in cases {
            let regex = Regex::new(&pattern).unwrap();
            assert_eq!(regex.captures_len() - 1, fields.len(), "{pattern}");
        }
    }
}
