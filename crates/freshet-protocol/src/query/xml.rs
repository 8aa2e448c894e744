// SPDX-License-Identifier: Apache-2.0
//! Escaping text for XML 1.0 element content.
//!
//! `&`, `<`, `>` and `"` become entities (AWS and moto escape `"` too). `\r` becomes `&#xD;`:
//! a literal carriage return would be normalised to `\n` by every conforming parser (botocore
//! uses expat through ElementTree), and SQS message bodies may contain `\r` that must come back
//! byte for byte. Characters XML 1.0 cannot carry at all, not even as references (C0 controls
//! other than tab, newline and carriage return, and U+FFFE/U+FFFF), become U+FFFD; services
//! that must refuse them (SQS `InvalidMessageContents`) do so on input.

/// Appends `text` escaped for element content.
pub(crate) fn push_text(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let replacement: Option<&str> = match b {
            b'&' => Some("&amp;"),
            b'<' => Some("&lt;"),
            b'>' => Some("&gt;"),
            b'"' => Some("&quot;"),
            b'\r' => Some("&#xD;"),
            b'\t' | b'\n' => None,
            0..=0x1f => Some("\u{FFFD}"),
            // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8.
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                out.push_str(&text[start..i]);
                out.push('\u{FFFD}');
                i += 3;
                start = i;
                continue;
            }
            _ => None,
        };
        if let Some(r) = replacement {
            out.push_str(&text[start..i]);
            out.push_str(r);
            start = i + 1;
        }
        i += 1;
    }
    out.push_str(&text[start..]);
}

/// Appends `<name>`.
pub(crate) fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

/// Appends `</name>`.
pub(crate) fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends `<name>escaped text</name>`.
pub(crate) fn element(out: &mut String, name: &str, text: &str) {
    open(out, name);
    push_text(out, text);
    close(out, name);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_text(&mut out, s);
        out
    }

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(escaped(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c'");
    }

    #[test]
    fn carriage_returns_survive_as_character_references() {
        assert_eq!(escaped("a\r\nb\tc"), "a&#xD;\nb\tc");
    }

    #[test]
    fn characters_xml_cannot_carry_become_replacement_characters() {
        assert_eq!(
            escaped("a\u{0}b\u{1b}c\u{FFFE}d\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}"
        );
        assert_eq!(escaped("\u{FFFD}\u{EFFF}é😀"), "\u{FFFD}\u{EFFF}é😀");
    }
}
