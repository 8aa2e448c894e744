// SPDX-License-Identifier: Apache-2.0
//! Patterns over space-delimited events: `[ip, user, ..., status_code = 4*, bytes > 1000]`.
//!
//! AWS ("Using filter patterns to match terms in space-delimited log events"):
//! * The event splits into fields on whitespace (spaces and tabs: Lambda's tab-separated REPORT
//!   lines are matched this way in public metric filters). Text between `"…"` or `[…]` is one
//!   field, without the delimiters.
//! * Each comma-separated entry names one field (`ip`), names it with conditions
//!   (`status_code = 4*`, `w1=ERROR || w1=WARN`, `bytes > 1000 && bytes < 5000`), or is empty
//!   (an unnamed field, as in `[..., status_code=4*,]`). `...` stands for any number of fields;
//!   one is allowed.
//! * Without `...` the event must have exactly as many fields as the pattern has entries: the
//!   guide's `[w1=ERROR, w2]` matches "ERROR message" but not "ERROR WARN message".
//! * A condition compares the field it names (see `value`). The entry's field is the first name
//!   in it. A condition may name another field of the pattern; a name the pattern does not
//!   declare falls back to a case-insensitive match (the guide writes `w1=ERROR || W1=WARNING`)
//!   and otherwise never holds.
//! * A match extracts `$name` for named fields and `$N` (1-based position in the event) for
//!   unnamed ones and those `...` covered, the shape TestMetricFilter reports.

use std::fmt;

use super::cursor::Cursor;
use super::error::PatternError;
use super::value::{Candidate, CompareOp, Literal, compare, parse_literal};

#[derive(Debug, Clone, PartialEq)]
struct FieldCompare {
    name: String,
    /// Entry index the name resolves to; `None` when the pattern declares no such field.
    slot: Option<usize>,
    op: CompareOp,
    literal: Literal,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Compare(FieldCompare),
    /// A name without an operator; only valid as a whole entry, never kept inside a condition.
    Declare(String),
}

impl FieldExpr {
    fn holds<'m>(&self, value_of: &dyn Fn(usize) -> Option<&'m str>) -> bool {
        match self {
            Self::Or(parts) => parts.iter().any(|e| e.holds(value_of)),
            Self::And(parts) => parts.iter().all(|e| e.holds(value_of)),
            Self::Compare(cmp) => cmp
                .slot
                .and_then(value_of)
                .is_some_and(|value| compare(cmp.op, &cmp.literal, Candidate::Text(value))),
            Self::Declare(_) => true,
        }
    }

    fn first_name(&self) -> Option<&str> {
        match self {
            Self::Or(parts) | Self::And(parts) => parts.first().and_then(Self::first_name),
            Self::Compare(cmp) => Some(&cmp.name),
            Self::Declare(name) => Some(name),
        }
    }

    fn has_declare(&self) -> bool {
        match self {
            Self::Or(parts) | Self::And(parts) => parts.iter().any(Self::has_declare),
            Self::Compare(_) => false,
            Self::Declare(_) => true,
        }
    }

    fn compares_mut(&mut self, f: &mut dyn FnMut(&mut FieldCompare)) {
        match self {
            Self::Or(parts) | Self::And(parts) => parts.iter_mut().for_each(|e| e.compares_mut(f)),
            Self::Compare(cmp) => f(cmp),
            Self::Declare(_) => {}
        }
    }

    fn regex_count(&self) -> usize {
        match self {
            Self::Or(parts) | Self::And(parts) => parts.iter().map(Self::regex_count).sum(),
            Self::Compare(cmp) => usize::from(cmp.literal.is_regex()),
            Self::Declare(_) => 0,
        }
    }

    fn fmt_in(&self, f: &mut fmt::Formatter<'_>, inside_and: bool) -> fmt::Result {
        match self {
            Self::Or(parts) => {
                if inside_and {
                    f.write_str("(")?;
                }
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    part.fmt_in(f, false)?;
                }
                if inside_and {
                    f.write_str(")")?;
                }
                Ok(())
            }
            Self::And(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    part.fmt_in(f, true)?;
                }
                Ok(())
            }
            Self::Compare(cmp) => write!(f, "{} {} {}", cmp.name, cmp.op.as_str(), cmp.literal),
            Self::Declare(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Ellipsis,
    Unnamed,
    Field {
        name: String,
        condition: Option<FieldExpr>,
    },
}

/// A parsed `[ … ]` pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DelimitedPattern {
    entries: Vec<Entry>,
    ellipsis: Option<usize>,
}

impl DelimitedPattern {
    pub(crate) fn parse(src: &str) -> Result<Self, PatternError> {
        let mut c = Cursor::new(src);
        c.skip_ws();
        if !c.eat("[") {
            return Err(c.expected("'['"));
        }
        c.skip_ws();
        if c.starts_with("]") {
            return Err(c.expected("at least one field"));
        }
        let mut entries = Vec::new();
        let mut ellipsis = None;
        loop {
            c.skip_ws();
            if c.eat("...") {
                if ellipsis.is_some() {
                    return Err(c.invalid("a second '...'"));
                }
                ellipsis = Some(entries.len());
                entries.push(Entry::Ellipsis);
            } else if c.starts_with(",") || c.starts_with("]") {
                entries.push(Entry::Unnamed);
            } else {
                entries.push(parse_entry(&mut c)?);
            }
            c.skip_ws();
            if c.eat("]") {
                break;
            }
            if !c.eat(",") {
                return Err(c.expected("',' or ']'"));
            }
        }
        c.expect_end()?;
        let mut pattern = Self { entries, ellipsis };
        pattern.resolve_names()?;
        Ok(pattern)
    }

    /// Checks names are unique and points every condition at the entry it names.
    fn resolve_names(&mut self) -> Result<(), PatternError> {
        let names: Vec<Option<String>> = self
            .entries
            .iter()
            .map(|e| e.name().map(str::to_owned))
            .collect();
        for (i, name) in names.iter().enumerate() {
            if let Some(name) = name
                && names[..i].iter().flatten().any(|n| n == name)
            {
                return Err(PatternError::DuplicateField { name: name.clone() });
            }
        }
        let slot_of = |wanted: &str| {
            names
                .iter()
                .position(|n| n.as_deref() == Some(wanted))
                .or_else(|| {
                    let mut folded = names.iter().enumerate().filter(|(_, n)| {
                        n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                    });
                    match (folded.next(), folded.next()) {
                        (Some((i, _)), None) => Some(i),
                        _ => None,
                    }
                })
        };
        for entry in &mut self.entries {
            if let Entry::Field {
                condition: Some(expr),
                ..
            } = entry
            {
                expr.compares_mut(&mut |cmp| cmp.slot = slot_of(&cmp.name));
            }
        }
        Ok(())
    }

    /// Splits the event and checks every condition; the fields are kept for the match.
    pub(crate) fn evaluate<'m>(&self, message: &'m str) -> Option<Vec<&'m str>> {
        let fields = split_fields(message);
        let before = self.ellipsis.unwrap_or(self.entries.len());
        let after = self.entries.len() - before - usize::from(self.ellipsis.is_some());
        let fits = match self.ellipsis {
            None => fields.len() == self.entries.len(),
            Some(_) => fields.len() >= before + after,
        };
        if !fits {
            return None;
        }
        let value_of = |slot: usize| self.field_at_slot(&fields, slot);
        let all_hold = self.entries.iter().all(|entry| match entry {
            Entry::Field {
                condition: Some(expr),
                ..
            } => expr.holds(&value_of),
            _ => true,
        });
        all_hold.then_some(fields)
    }

    /// The event field bound to entry `slot`, if the entry is a field.
    fn field_at_slot<'m>(&self, fields: &[&'m str], slot: usize) -> Option<&'m str> {
        match self.ellipsis {
            Some(e) if slot == e => None,
            Some(e) if slot > e => {
                let from_end = self.entries.len().checked_sub(slot)?;
                fields.get(fields.len().checked_sub(from_end)?).copied()
            }
            _ => fields.get(slot).copied(),
        }
    }

    /// The entry an event position is bound to, or `None` when `...` covers it.
    fn slot_of_position(&self, fields: usize, position: usize) -> Option<usize> {
        match self.ellipsis {
            None => Some(position),
            Some(e) if position < e => Some(position),
            Some(_) => {
                let after = self.entries.len() - 1 - self.ellipsis.unwrap_or(0);
                let first_after = fields.checked_sub(after)?;
                (position >= first_after).then(|| self.entries.len() - (fields - position))
            }
        }
    }

    /// `$name` for named fields and `$N` for the rest, in event order.
    pub(crate) fn extracted<'m>(&self, fields: &[&'m str]) -> Vec<(String, &'m str)> {
        fields
            .iter()
            .enumerate()
            .map(|(position, value)| {
                let name = self
                    .slot_of_position(fields.len(), position)
                    .and_then(|slot| self.entries.get(slot))
                    .and_then(Entry::name);
                let key = match name {
                    Some(name) => format!("${name}"),
                    None => format!("${}", position + 1),
                };
                (key, *value)
            })
            .collect()
    }

    /// Resolves `$name` or `$N` against a match's fields.
    pub(crate) fn value<'m>(&self, fields: &[&'m str], reference: &str) -> Option<&'m str> {
        let key = reference.strip_prefix('$')?;
        if let Some(slot) = self.entries.iter().position(|e| e.name() == Some(key)) {
            return self.field_at_slot(fields, slot);
        }
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            let position: usize = key.parse().ok()?;
            return fields.get(position.checked_sub(1)?).copied();
        }
        None
    }

    /// Whether `$name` or `$N` can be read off this pattern's matches.
    pub(crate) fn declares(&self, reference: &str) -> bool {
        let Some(key) = reference.strip_prefix('$') else {
            return false;
        };
        self.entries.iter().any(|e| e.name() == Some(key))
            || (!key.is_empty()
                && key.bytes().all(|b| b.is_ascii_digit())
                && key.parse::<usize>().is_ok_and(|n| n >= 1))
    }

    pub(crate) fn regex_count(&self) -> usize {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Field {
                    condition: Some(expr),
                    ..
                } => expr.regex_count(),
                _ => 0,
            })
            .sum()
    }
}

impl Entry {
    fn name(&self) -> Option<&str> {
        match self {
            Self::Field { name, .. } => Some(name),
            _ => None,
        }
    }
}

fn parse_entry(c: &mut Cursor<'_>) -> Result<Entry, PatternError> {
    let expr = parse_or(c)?;
    match expr {
        FieldExpr::Declare(name) => Ok(Entry::Field {
            name,
            condition: None,
        }),
        expr if expr.has_declare() => {
            Err(c.invalid("a field inside a condition needs an operator and a value"))
        }
        expr => {
            let name = expr.first_name().unwrap_or_default().to_owned();
            Ok(Entry::Field {
                name,
                condition: Some(expr),
            })
        }
    }
}

fn parse_or(c: &mut Cursor<'_>) -> Result<FieldExpr, PatternError> {
    let mut parts = Vec::new();
    loop {
        match parse_and(c)? {
            FieldExpr::Or(inner) => parts.extend(inner),
            other => parts.push(other),
        }
        c.skip_ws();
        if !c.eat("||") {
            break;
        }
    }
    Ok(if parts.len() == 1 {
        parts.swap_remove(0)
    } else {
        FieldExpr::Or(parts)
    })
}

fn parse_and(c: &mut Cursor<'_>) -> Result<FieldExpr, PatternError> {
    let mut parts = Vec::new();
    loop {
        match parse_atom(c)? {
            FieldExpr::And(inner) => parts.extend(inner),
            other => parts.push(other),
        }
        c.skip_ws();
        if !c.eat("&&") {
            break;
        }
    }
    Ok(if parts.len() == 1 {
        parts.swap_remove(0)
    } else {
        FieldExpr::And(parts)
    })
}

fn parse_atom(c: &mut Cursor<'_>) -> Result<FieldExpr, PatternError> {
    c.skip_ws();
    if c.starts_with("(") {
        c.enter()?;
        c.bump();
        let inner = parse_or(c)?;
        c.skip_ws();
        if !c.eat(")") {
            return Err(c.expected("')'"));
        }
        c.leave();
        return Ok(inner);
    }
    // Field names as aws-cdk validates them: letters, digits, '_' and '-'.
    let name = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
    if name.is_empty() {
        return Err(c.expected("a field name"));
    }
    c.skip_ws();
    match CompareOp::parse(c) {
        Some(op) => {
            let literal = parse_literal(c, op)?;
            Ok(FieldExpr::Compare(FieldCompare {
                name: name.to_owned(),
                slot: None,
                op,
                literal,
            }))
        }
        None => Ok(FieldExpr::Declare(name.to_owned())),
    }
}

/// Splits an event into fields: whitespace separates them, and `"…"` or `[…]` at the start of a
/// field keeps its content together (an unclosed one runs to the end of the event).
pub(crate) fn split_fields(message: &str) -> Vec<&str> {
    let bytes = message.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let closing = match bytes[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        let (field, next) = match closing {
            Some(close) => {
                let start = i + 1;
                match memchr::memchr(close, &bytes[start..]) {
                    Some(offset) => (&message[start..start + offset], start + offset + 1),
                    None => (&message[start..], bytes.len()),
                }
            }
            None => {
                let end = bytes[i..]
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .map_or(bytes.len(), |offset| i + offset);
                (&message[i..end], end)
            }
        };
        fields.push(field);
        i = next;
    }
    fields
}

impl fmt::Display for DelimitedPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match entry {
                Entry::Ellipsis => f.write_str("...")?,
                Entry::Unnamed => {}
                Entry::Field {
                    name,
                    condition: None,
                } => f.write_str(name)?,
                Entry::Field {
                    condition: Some(expr),
                    ..
                } => expr.fmt_in(f, false)?,
            }
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_quotes_group_one_field_without_their_delimiters() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        assert_eq!(
            split_fields(line),
            vec![
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
    }

    #[test]
    fn tabs_separate_fields_and_an_unclosed_quote_runs_to_the_end() {
        assert_eq!(split_fields("a\tb \"c d"), vec!["a", "b", "c d"]);
        assert_eq!(split_fields("  "), Vec::<&str>::new());
    }
}
