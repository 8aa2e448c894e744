// SPDX-License-Identifier: Apache-2.0
//! JSON output byte-for-byte like the Kinesis Agent's, which prints with Jackson.
//!
//! `jsonFormat` COMPACT is Jackson's `ObjectMapper.writeValueAsString`: no whitespace, control
//! characters escaped as `\n`, `\t`, `\r`, `\b`, `\f` or `\u00XX` with upper-case hex, nothing
//! else escaped (non-ASCII text and `/` are written as they are). PRETTYPRINT is Jackson's
//! `DefaultPrettyPrinter`: objects one entry per line indented by two spaces per level with
//! `"key" : value`, arrays on one line as `[ a, b ]`, empty containers as `{ }` and `[ ]`.
//! Both are serde_json formatters, so records are serialized straight into the output buffer.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// The `jsonFormat` parameter of CSVTOJSON, LOGTOJSON, ADDMETADATA and ADDEC2METADATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonFormat {
    /// One line, no spaces (the default).
    #[default]
    Compact,
    /// Jackson's default pretty printer.
    PrettyPrint,
}

impl JsonFormat {
    /// The names accepted in `jsonFormat`.
    pub const NAMES: &'static [&'static str] = &["COMPACT", "PRETTYPRINT"];

    /// Parses a `jsonFormat` value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "COMPACT" => Some(Self::Compact),
            "PRETTYPRINT" => Some(Self::PrettyPrint),
            _ => None,
        }
    }

    /// Appends `value` as JSON to `out`, followed by the `\n` the agent ends every converted
    /// record with.
    pub fn write_line<T: Serialize + ?Sized>(self, value: &T, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Self::Compact => value
                .serialize(&mut Serializer::with_formatter(&mut *out, JacksonCompact))
                .map_err(io::Error::other)?,
            Self::PrettyPrint => value
                .serialize(&mut Serializer::with_formatter(
                    &mut *out,
                    JacksonPretty::default(),
                ))
                .map_err(io::Error::other)?,
        }
        out.push(b'\n');
        Ok(())
    }
}

/// Jackson's escape of a control character: short forms where JSON has them, otherwise
/// `\u00XX` with upper-case hex digits (serde_json's default writes lower case).
fn write_jackson_escape<W: ?Sized + io::Write>(
    writer: &mut W,
    escape: CharEscape,
) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let short = match escape {
        CharEscape::Quote => b'"',
        CharEscape::ReverseSolidus => b'\\',
        CharEscape::Solidus => b'/',
        CharEscape::Backspace => b'b',
        CharEscape::FormFeed => b'f',
        CharEscape::LineFeed => b'n',
        CharEscape::CarriageReturn => b'r',
        CharEscape::Tab => b't',
        CharEscape::AsciiControl(byte) => {
            let bytes = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xF)],
            ];
            return writer.write_all(&bytes);
        }
    };
    writer.write_all(&[b'\\', short])
}

/// Jackson's compact output.
#[derive(Debug, Clone, Copy, Default)]
pub struct JacksonCompact;

impl Formatter for JacksonCompact {
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        write_jackson_escape(writer, escape)
    }
}

/// Jackson's `DefaultPrettyPrinter`: only objects indent (arrays are "inline"), so the level
/// counts objects alone.
#[derive(Debug, Clone, Default)]
pub struct JacksonPretty {
    level: usize,
    has_value: bool,
}

impl JacksonPretty {
    fn newline_indent<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.level {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for JacksonPretty {
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        write_jackson_escape(writer, escape)
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        // Jackson writes the same single space before `]` whether or not there were values.
        writer.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        writer.write_all(if first { b" " } else { b", " })
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.has_value {
            self.newline_indent(writer)?;
        } else {
            writer.write_all(b" ")?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.newline_indent(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A JSON object whose keys keep the order they are given in (serde_json's `Map` sorts them
/// unless its `preserve_order` feature is on, and the agent's maps are insertion-ordered).
#[derive(Debug, Clone, Copy)]
pub struct OrderedObject<'a, V> {
    /// The entries in output order.
    pub entries: &'a [(&'a str, V)],
}

impl<V: Serialize> Serialize for OrderedObject<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(format: JsonFormat, value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        format.write_line(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compact_output_escapes_control_characters_like_jackson() {
        let value = json!({"a": "x\u{1}y\n\t\"\\/é\u{7f}"});
        assert_eq!(
            render(JsonFormat::Compact, &value),
            "{\"a\":\"x\\u0001y\\n\\t\\\"\\\\/é\u{7f}\"}\n"
        );
    }

    #[test]
    fn upper_case_hex_is_used_for_unicode_escapes() {
        let value = json!("\u{1f}");
        assert_eq!(render(JsonFormat::Compact, &value), "\"\\u001F\"\n");
    }

    #[test]
    fn pretty_print_matches_jacksons_default_pretty_printer() {
        let value =
            json!({"a": "b", "c": null, "d": {"e": [1, 2], "f": {}}, "g": [], "h": [{"i": 1}]});
        let expected = "{\n  \"a\" : \"b\",\n  \"c\" : null,\n  \"d\" : {\n    \"e\" : [ 1, 2 ],\n    \"f\" : { }\n  },\n  \"g\" : [ ],\n  \"h\" : [ {\n    \"i\" : 1\n  } ]\n}\n";
        assert_eq!(render(JsonFormat::PrettyPrint, &value), expected);
    }

    #[test]
    fn an_empty_object_pretty_prints_as_braces_with_a_space() {
        assert_eq!(render(JsonFormat::PrettyPrint, &json!({})), "{ }\n");
    }

    #[test]
    fn ordered_object_keeps_the_given_key_order() {
        let entries = [("z", Some("1")), ("a", None)];
        let mut out = Vec::new();
        JsonFormat::Compact
            .write_line(&OrderedObject { entries: &entries }, &mut out)
            .unwrap();
        assert_eq!(out, b"{\"z\":\"1\",\"a\":null}\n");
    }

    #[test]
    fn json_format_names_parse_and_others_do_not() {
        assert_eq!(JsonFormat::from_name("COMPACT"), Some(JsonFormat::Compact));
        assert_eq!(
            JsonFormat::from_name("PRETTYPRINT"),
            Some(JsonFormat::PrettyPrint)
        );
        assert_eq!(JsonFormat::from_name("pretty"), None);
    }
}
