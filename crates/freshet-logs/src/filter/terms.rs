// SPDX-License-Identifier: Apache-2.0
//! Patterns over unstructured events: space-separated terms.
//!
//! AWS ("Using filter patterns to match terms in unstructured log events"):
//! * Terms are separated by whitespace and all must occur in the message, case-sensitively and
//!   as substrings (`ERROR` matches `ERRORCODE`). A `"quoted phrase"` is one term; `\` escapes
//!   the next character inside quotes. A bare term runs to the next whitespace and is literal:
//!   AWS documents no wildcard for unstructured terms, so `*` is an ordinary character here.
//! * `-term` excludes, `?term` makes the pattern match when any `?` term occurs. AWS ignores the
//!   `?` terms when the pattern also has plain or `-` terms (observed on AWS and written up at
//!   radek-pysny.github.io 2025-03-30; the floci emulator does the same). We keep them in the
//!   parsed pattern so it prints back as written. A prefix may be followed by spaces
//!   (`"ERROR" - "Exiting"` in the older user guide).
//! * `%regex%` is a regex term, found anywhere in the message.
//! * A quoted phrase that is empty or only spaces matches everything (`" "`, the current guide's
//!   "match everything" example; `""` in the older one), so it is dropped.
//!
//! Matching allocates nothing: literal terms use precomputed `memmem` finders.

use std::fmt;

use memchr::memmem::Finder;

use super::cursor::Cursor;
use super::error::PatternError;
use super::value::{RegexLiteral, parse_quoted, parse_regex, write_escaped};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermMode {
    Include,
    Exclude,
    Optional,
}

#[derive(Debug, Clone)]
enum TermKind {
    Text {
        text: String,
        // Boxed: a finder is ~300 bytes and most patterns have few terms.
        finder: Box<Finder<'static>>,
    },
    Regex(RegexLiteral),
}

#[derive(Debug, Clone)]
pub(crate) struct Term {
    mode: TermMode,
    kind: TermKind,
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        self.mode == other.mode
            && match (&self.kind, &other.kind) {
                (TermKind::Text { text: a, .. }, TermKind::Text { text: b, .. }) => a == b,
                (TermKind::Regex(a), TermKind::Regex(b)) => a == b,
                _ => false,
            }
    }
}

impl Term {
    fn occurs_in(&self, message: &str) -> bool {
        match &self.kind {
            TermKind::Text { finder, .. } => finder.find(message.as_bytes()).is_some(),
            TermKind::Regex(r) => r.is_match(message),
        }
    }
}

/// A non-empty list of terms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TermsPattern {
    terms: Vec<Term>,
    /// Whether any term is plain or `-`, which turns the `?` terms off.
    required: bool,
}

impl TermsPattern {
    /// Parses terms; `None` when nothing is left to match on (the pattern matches everything).
    pub(crate) fn parse(src: &str) -> Result<Option<Self>, PatternError> {
        let mut c = Cursor::new(src);
        let mut terms = Vec::new();
        loop {
            c.skip_ws();
            if c.at_end() {
                break;
            }
            let mode = if c.eat("-") {
                TermMode::Exclude
            } else if c.eat("?") {
                TermMode::Optional
            } else {
                TermMode::Include
            };
            if mode != TermMode::Include {
                c.skip_ws();
                if c.at_end() {
                    return Err(c.expected("a term after '-' or '?'"));
                }
            }
            let kind = match c.peek() {
                Some('"') => {
                    let text = parse_quoted(&mut c)?;
                    if text.trim().is_empty() {
                        continue;
                    }
                    text_kind(text)
                }
                Some('%') => TermKind::Regex(parse_regex(&mut c)?),
                _ => {
                    let word = c.take_while(|ch| !ch.is_whitespace() && ch != '"');
                    if c.peek() == Some('"') {
                        return Err(c.invalid("a '\"' inside an unquoted term"));
                    }
                    text_kind(word.to_owned())
                }
            };
            terms.push(Term { mode, kind });
        }
        if terms.is_empty() {
            return Ok(None);
        }
        let required = terms.iter().any(|t| t.mode != TermMode::Optional);
        Ok(Some(Self { terms, required }))
    }

    pub(crate) fn is_match(&self, message: &str) -> bool {
        if self.required {
            self.terms.iter().all(|t| match t.mode {
                TermMode::Include => t.occurs_in(message),
                TermMode::Exclude => !t.occurs_in(message),
                TermMode::Optional => true,
            })
        } else {
            self.terms.iter().any(|t| t.occurs_in(message))
        }
    }

    pub(crate) fn regex_count(&self) -> usize {
        self.terms
            .iter()
            .filter(|t| matches!(t.kind, TermKind::Regex(_)))
            .count()
    }
}

fn text_kind(text: String) -> TermKind {
    let finder = Box::new(Finder::new(text.as_bytes()).into_owned());
    TermKind::Text { text, finder }
}

impl fmt::Display for TermsPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match term.mode {
                TermMode::Include => {}
                TermMode::Exclude => f.write_str("-")?,
                TermMode::Optional => f.write_str("?")?,
            }
            match &term.kind {
                TermKind::Text { text, .. } => {
                    f.write_str("\"")?;
                    write_escaped(f, text)?;
                    f.write_str("\"")?;
                }
                TermKind::Regex(r) => r.fmt(f)?,
            }
        }
        Ok(())
    }
}
