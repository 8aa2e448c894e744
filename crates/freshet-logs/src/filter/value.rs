// SPDX-License-Identifier: Apache-2.0
//! Values on the right of a comparison, and how one compares with a field of an event.
//!
//! Shared by JSON (`{ $.a = … }`) and space-delimited (`[a = …]`) patterns. What AWS documents
//! (FilterAndPatternSyntax, old and current versions) and what we do:
//! * A value is a quoted string (`"…"`, `\` escapes the next character), a `%regex%`, or a bare
//!   word. A bare word that is a number by AWS's grammar (optional sign, digits, optional
//!   decimals, optional `e` exponent: `+1000`, `55.5`, `10e-3`) is a number; anything else is text.
//! * Text compares with `=`/`!=` only. `*` is a wildcard at the start and/or end of the text
//!   (also inside quotes, as the CIS patterns `"*UnauthorizedOperation"` rely on); a `*` in the
//!   middle is literal ("Ev*ent will only match the actual string Ev*ent"). A lone `*` matches
//!   any value.
//! * A number compares numerically with `= != < > <= >=` against a field that reads as a number;
//!   against one that does not, only `!=` holds.
//! * A `%regex%` compares with `=`/`!=` and matches anywhere in the field (use `^`/`$` to anchor).
//!   AWS limits the characters a regex may use (alphanumerics, space, `:_#=@/;,-`, the operators
//!   `^$?[]{}|\*+.`, no parentheses, no multi-byte characters); we refuse the rest at parse time.
//!   Matching uses the `regex` crate: linear time, and compiled size is capped.

use std::fmt;

use memchr::memmem;
use regex::{Regex, RegexBuilder};

use super::cursor::Cursor;
use super::error::PatternError;

/// Compiled-program cap for one `%regex%` (the regex crate's default is 10 MiB; a filter
/// regex that needs more than 1 MiB is a mistake or an attack).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Characters that end a bare (unquoted) value.
const BARE_STOP: &[char] = &[
    '&', '|', '(', ')', '{', '}', '[', ']', ',', '"', '=', '!', '<', '>',
];

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// Reads an operator at the cursor, if there is one.
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Option<Self> {
        // Two-character operators first, so `<=` is not read as `<`.
        let op = if c.eat("!=") {
            Self::Ne
        } else if c.eat("<=") {
            Self::Le
        } else if c.eat(">=") {
            Self::Ge
        } else if c.eat("=") {
            Self::Eq
        } else if c.eat("<") {
            Self::Lt
        } else if c.eat(">") {
            Self::Gt
        } else {
            return None;
        };
        Some(op)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Self::Eq | Self::Ne)
    }

    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
        }
    }
}

/// Text with optional `*` wildcards at either end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextPattern {
    leading: bool,
    core: String,
    trailing: bool,
}

impl TextPattern {
    pub(crate) fn new(raw: &str) -> Self {
        let after_leading = raw.trim_start_matches('*');
        let core = after_leading.trim_end_matches('*');
        Self {
            leading: after_leading.len() != raw.len(),
            core: core.to_owned(),
            trailing: core.len() != after_leading.len(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        match (self.leading, self.trailing) {
            (false, false) => text == self.core,
            (true, false) => text.ends_with(&self.core),
            (false, true) => text.starts_with(&self.core),
            (true, true) => memmem::find(text.as_bytes(), self.core.as_bytes()).is_some(),
        }
    }
}

impl fmt::Display for TextPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        if self.leading {
            f.write_str("*")?;
        }
        write_escaped(f, &self.core)?;
        if self.trailing {
            f.write_str("*")?;
        }
        f.write_str("\"")
    }
}

/// A number as written, and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberLiteral {
    text: String,
    value: f64,
}

/// A `%regex%` term: the source between the `%` signs, and its compiled form.
#[derive(Debug, Clone)]
pub(crate) struct RegexLiteral {
    source: String,
    regex: Regex,
}

impl PartialEq for RegexLiteral {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl RegexLiteral {
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl fmt::Display for RegexLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}%", self.source)
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Text(TextPattern),
    Number(NumberLiteral),
    Regex(RegexLiteral),
}

impl Literal {
    pub(crate) fn is_regex(&self) -> bool {
        matches!(self, Self::Regex(_))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => t.fmt(f),
            Self::Number(n) => f.write_str(&n.text),
            Self::Regex(r) => r.fmt(f),
        }
    }
}

/// A field of an event as a comparison sees it.
#[derive(Clone, Copy)]
pub(crate) enum Candidate<'v> {
    /// A space-delimited field, or a JSON string.
    Text(&'v str),
    /// A JSON number.
    Json(&'v serde_json::Number),
}

impl Candidate<'_> {
    fn number(self) -> Option<f64> {
        match self {
            Self::Text(s) => parse_number(s),
            Self::Json(n) => n.as_f64(),
        }
    }
}

fn with_text<R>(candidate: Candidate<'_>, f: impl FnOnce(&str) -> R) -> R {
    match candidate {
        Candidate::Text(s) => f(s),
        Candidate::Json(n) => f(&n.to_string()),
    }
}

/// Whether `candidate op literal` holds.
pub(crate) fn compare(op: CompareOp, literal: &Literal, candidate: Candidate<'_>) -> bool {
    match literal {
        Literal::Number(n) => match candidate.number() {
            Some(value) => op.holds(value, n.value),
            // A field that is not a number equals no number, so only `!=` holds.
            None => op == CompareOp::Ne,
        },
        Literal::Text(t) => with_text(candidate, |s| t.matches(s)) == (op == CompareOp::Eq),
        Literal::Regex(r) => with_text(candidate, |s| r.is_match(s)) == (op == CompareOp::Eq),
    }
}

/// Parses a number by AWS's grammar: `[+-]digits[.digits][e[+-]digits]` or `[+-].digits…`.
/// Refuses what Rust's float parser also takes (`inf`, `NaN`, `1.`) and non-finite results.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_digits = digits(&mut i);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits(&mut i);
        if frac_digits == 0 {
            return None;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads a `"…"` string at the cursor (which is on the opening quote); `\` escapes the next
/// character, as in the quoting aws-cdk applies (`\\` and `\"`).
pub(crate) fn parse_quoted(c: &mut Cursor<'_>) -> Result<String, PatternError> {
    c.bump();
    let mut out = String::new();
    loop {
        match c.bump() {
            None => return Err(c.expected("a closing '\"'")),
            Some('"') => return Ok(out),
            Some('\\') => match c.bump() {
                Some(ch) => out.push(ch),
                None => return Err(c.expected("a closing '\"'")),
            },
            Some(ch) => out.push(ch),
        }
    }
}

/// Writes text so that [`parse_quoted`] reads it back unchanged (without the quotes).
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{ch}")?;
    }
    Ok(())
}

/// Characters AWS lets a regex use unescaped ("Supported regular expressions (regex) syntax").
/// Space is not in AWS's list but AWS accepts it (aws/aws-cdk#36901 deploys
/// `%Task timed out after|^REPORT\s.+\sStatus: timeout%`).
fn regex_char_allowed(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || " :_#=@/;,-^$?[]{}|*+.".contains(ch)
}

/// Reads a `%regex%` at the cursor (which is on the opening `%`). The regex ends at the next
/// `%` that is not escaped with `\`.
pub(crate) fn parse_regex(c: &mut Cursor<'_>) -> Result<RegexLiteral, PatternError> {
    let opening = c.position();
    c.bump();
    let start = c.byte_pos();
    let end = loop {
        let at = c.position();
        let here = c.byte_pos();
        match c.bump() {
            None => return Err(c.expected("a closing '%'")),
            Some('%') => break here,
            Some('\\') => match c.bump() {
                // An escape makes any printable ASCII character literal (`\%`, `\(`, `\.`).
                Some(ch) if ch.is_ascii_graphic() || ch == ' ' => {}
                Some(ch) => return Err(PatternError::RegexCharacter { at: at + 1, ch }),
                None => return Err(c.expected("a closing '%'")),
            },
            Some(ch) if regex_char_allowed(ch) => {}
            Some(ch) => return Err(PatternError::RegexCharacter { at, ch }),
        }
    };
    let source = c.slice(start, end);
    if source.is_empty() {
        return Err(PatternError::Invalid {
            at: opening,
            problem: "an empty regular expression",
        });
    }
    let regex = RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| PatternError::Regex {
            at: opening,
            detail: err
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_owned(),
        })?;
    Ok(RegexLiteral {
        source: source.to_owned(),
        regex,
    })
}

/// Reads the value after a comparison operator; `< > <= >=` need a number, as AWS defines them
/// only for numbers.
pub(crate) fn parse_literal(c: &mut Cursor<'_>, op: CompareOp) -> Result<Literal, PatternError> {
    c.skip_ws();
    let at = c.position();
    let literal = match c.peek() {
        Some('"') => Literal::Text(TextPattern::new(&parse_quoted(c)?)),
        Some('%') => Literal::Regex(parse_regex(c)?),
        _ => {
            let word = c.take_while(|ch| !ch.is_whitespace() && !BARE_STOP.contains(&ch));
            if word.is_empty() {
                return Err(c.expected("a value after the operator"));
            }
            match parse_number(word) {
                Some(value) => Literal::Number(NumberLiteral {
                    text: word.to_owned(),
                    value,
                }),
                None => Literal::Text(TextPattern::new(word)),
            }
        }
    };
    if !op.is_equality() && !matches!(literal, Literal::Number(_)) {
        return Err(PatternError::Invalid {
            at,
            problem: "a numeric operator needs a number",
        });
    }
    Ok(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_grammar() {
        for ok in [
            "400", "+1000", "-5", "55.5", "10e3", "10e-3", "1e+3", ".5", "0",
        ] {
            assert!(parse_number(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "+",
            "1.",
            "e3",
            "1e",
            "inf",
            "NaN",
            "4*",
            "123.123.1",
            "1e999",
            "0x10",
        ] {
            assert!(parse_number(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn wildcards_apply_only_at_the_ends_of_text() {
        assert!(TextPattern::new("*Event").matches("PutEvent"));
        assert!(TextPattern::new("Event*").matches("EventName"));
        assert!(!TextPattern::new("Ev*ent").matches("Event"));
        assert!(TextPattern::new("Ev*ent").matches("Ev*ent"));
        assert!(TextPattern::new("*").matches(""));
        assert!(TextPattern::new("*html*").matches("GET /index.html HTTP/1.0"));
    }

    #[test]
    fn a_number_literal_never_equals_text_that_is_not_a_number() {
        let lit = Literal::Number(NumberLiteral {
            text: "500".into(),
            value: 500.0,
        });
        assert!(!compare(
            CompareOp::Eq,
            &lit,
            Candidate::Text("AccessDenied")
        ));
        assert!(compare(
            CompareOp::Ne,
            &lit,
            Candidate::Text("AccessDenied")
        ));
        assert!(!compare(
            CompareOp::Lt,
            &lit,
            Candidate::Text("AccessDenied")
        ));
        assert!(compare(CompareOp::Eq, &lit, Candidate::Text("500.0")));
    }
}
