// SPDX-License-Identifier: Apache-2.0
//! Patterns over JSON events: `{ SELECTOR OP VALUE && … || … }`.
//!
//! AWS ("Using filter patterns to match terms in JSON log events"):
//! * Selectors start at `$`, name properties with `.name` (letters, digits, `-`, `_`) and array
//!   elements with `[N]` after a property: `$.eventId`, `$.users[0].id`, `$.coordinates[0][1]`.
//!   `.*` and `[*]` stand for every property or element (at most one per selector and three per
//!   pattern, as the floci emulator reads AWS's quota [unverified]).
//! * A comparison holds when a selected node is a string or a number and satisfies it (see
//!   `value`); an object, an array, a boolean, null or a missing property satisfies none, so
//!   `{ $.users = 1 }` and `{ $.users != 1 }` both fail when `users` is an array.
//! * `IS NULL`, `IS TRUE`, `IS FALSE` test the node; `NOT EXISTS` holds when nothing is
//!   selected. Keywords are read case-insensitively.
//! * `&&` binds tighter than `||`; parentheses group ("() > && > ||").
//!
//! Events are parsed with serde_json only when the pattern is JSON and the message starts with
//! `{`; anything that does not parse simply does not match.
//!
//! The parsed expression is flattened (`a && (b && c)` becomes one `&&` of three), so printing
//! it with the fewest parentheses and parsing it again gives the same tree.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use super::cursor::Cursor;
use super::error::{MAX_WILDCARD_SELECTORS, PatternError};
use super::value::{Candidate, CompareOp, Literal, compare, parse_literal};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(u32),
    /// `.*`
    AnyProperty,
    /// `[*]`
    AnyElement,
}

/// A property selector such as `$.users[0].email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    segments: Vec<Segment>,
}

impl Selector {
    fn parse(c: &mut Cursor<'_>) -> Result<Self, PatternError> {
        c.skip_ws();
        if !c.eat("$") {
            return Err(c.expected("a property selector starting with '$.'"));
        }
        let mut segments = Vec::new();
        loop {
            if c.eat(".") {
                if c.eat("*") {
                    segments.push(Segment::AnyProperty);
                    continue;
                }
                let name = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
                if name.is_empty() {
                    return Err(c.expected("a property name after '.'"));
                }
                segments.push(Segment::Name(name.to_owned()));
            } else if c.starts_with("[") {
                if segments.is_empty() {
                    return Err(c.invalid("an array index must follow a property"));
                }
                c.bump();
                if c.eat("*") {
                    segments.push(Segment::AnyElement);
                } else {
                    let digits = c.take_while(|ch| ch.is_ascii_digit());
                    let index = digits
                        .parse::<u32>()
                        .map_err(|_| c.expected("an array index"))?;
                    segments.push(Segment::Index(index));
                }
                if !c.eat("]") {
                    return Err(c.expected("']'"));
                }
            } else {
                break;
            }
        }
        if segments.is_empty() {
            return Err(c.expected("'.' and a property name after '$'"));
        }
        if segments.iter().filter(|s| s.is_wildcard()).count() > 1 {
            return Err(c.invalid("a property selector may hold only one wildcard"));
        }
        Ok(Self { segments })
    }

    /// Parses a whole selector such as a metric filter's `metricValue` (`$.latency`).
    pub(crate) fn parse_reference(text: &str) -> Option<Self> {
        let mut c = Cursor::new(text);
        let selector = Self::parse(&mut c).ok()?;
        c.at_end().then_some(selector)
    }

    fn wildcards(&self) -> usize {
        self.segments.iter().filter(|s| s.is_wildcard()).count()
    }

    /// Calls `f` on every selected node until it returns true; returns whether it did.
    fn any<'v>(&self, root: &'v Value, f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
        walk(root, &self.segments, f)
    }

    /// The first selected string or number, as text.
    pub(crate) fn first_value<'v>(&self, root: &'v Value) -> Option<Cow<'v, str>> {
        let mut found = None;
        self.any(root, &mut |node| match node {
            Value::String(s) => {
                found = Some(Cow::Borrowed(s.as_str()));
                true
            }
            Value::Number(n) => {
                found = Some(Cow::Owned(n.to_string()));
                true
            }
            _ => false,
        });
        found
    }
}

impl Segment {
    fn is_wildcard(&self) -> bool {
        matches!(self, Self::AnyProperty | Self::AnyElement)
    }
}

fn walk<'v>(node: &'v Value, segments: &[Segment], f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    let Some((segment, rest)) = segments.split_first() else {
        return f(node);
    };
    match segment {
        Segment::Name(name) => node
            .get(name.as_str())
            .is_some_and(|child| walk(child, rest, f)),
        Segment::Index(i) => node
            .as_array()
            .and_then(|items| items.get(*i as usize))
            .is_some_and(|child| walk(child, rest, f)),
        Segment::AnyProperty | Segment::AnyElement => match node {
            Value::Object(map) => map.values().any(|child| walk(child, rest, f)),
            Value::Array(items) => items.iter().any(|child| walk(child, rest, f)),
            _ => false,
        },
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for segment in &self.segments {
            match segment {
                Segment::Name(name) => write!(f, ".{name}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::AnyProperty => f.write_str(".*")?,
                Segment::AnyElement => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare(CompareOp, Literal),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    selector: Selector,
    test: Test,
}

impl Condition {
    fn holds(&self, root: &Value) -> bool {
        let selector = &self.selector;
        match &self.test {
            Test::NotExists => !selector.any(root, &mut |_| true),
            Test::IsNull => selector.any(root, &mut Value::is_null),
            Test::IsTrue => selector.any(root, &mut |v| v.as_bool() == Some(true)),
            Test::IsFalse => selector.any(root, &mut |v| v.as_bool() == Some(false)),
            Test::Compare(op, literal) => selector.any(root, &mut |v| match v {
                Value::String(s) => compare(*op, literal, Candidate::Text(s)),
                Value::Number(n) => compare(*op, literal, Candidate::Json(n)),
                _ => false,
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Condition),
}

impl Expr {
    fn holds(&self, root: &Value) -> bool {
        match self {
            Self::Or(parts) => parts.iter().any(|e| e.holds(root)),
            Self::And(parts) => parts.iter().all(|e| e.holds(root)),
            Self::Cond(cond) => cond.holds(root),
        }
    }

    fn visit(&self, f: &mut dyn FnMut(&Condition)) {
        match self {
            Self::Or(parts) | Self::And(parts) => parts.iter().for_each(|e| e.visit(f)),
            Self::Cond(cond) => f(cond),
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
            Self::Cond(cond) => {
                write!(f, "{}", cond.selector)?;
                match &cond.test {
                    Test::Compare(op, literal) => write!(f, " {} {literal}", op.as_str()),
                    Test::IsNull => f.write_str(" IS NULL"),
                    Test::IsTrue => f.write_str(" IS TRUE"),
                    Test::IsFalse => f.write_str(" IS FALSE"),
                    Test::NotExists => f.write_str(" NOT EXISTS"),
                }
            }
        }
    }
}

/// A parsed `{ … }` pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPattern {
    expr: Expr,
}

impl JsonPattern {
    pub(crate) fn parse(src: &str) -> Result<Self, PatternError> {
        let mut c = Cursor::new(src);
        c.skip_ws();
        if !c.eat("{") {
            return Err(c.expected("'{'"));
        }
        let expr = parse_or(&mut c)?;
        c.skip_ws();
        if !c.eat("}") {
            return Err(c.expected("'&&', '||' or the closing '}'"));
        }
        c.expect_end()?;
        let mut wildcards = 0;
        expr.visit(&mut |cond| wildcards += cond.selector.wildcards());
        if wildcards > MAX_WILDCARD_SELECTORS {
            return Err(PatternError::TooManyWildcards { count: wildcards });
        }
        Ok(Self { expr })
    }

    /// Parses the event and evaluates the pattern; the parsed event is kept for the match.
    pub(crate) fn evaluate(&self, message: &str) -> Option<Value> {
        // Only objects can hold the properties a selector names; skip parsing anything else.
        if !message.trim_start().starts_with('{') {
            return None;
        }
        let root: Value = serde_json::from_str(message).ok()?;
        self.expr.holds(&root).then_some(root)
    }

    pub(crate) fn regex_count(&self) -> usize {
        let mut count = 0;
        self.expr.visit(&mut |cond| {
            if let Test::Compare(_, literal) = &cond.test {
                count += usize::from(literal.is_regex());
            }
        });
        count
    }
}

impl fmt::Display for JsonPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{ ")?;
        self.expr.fmt_in(f, false)?;
        f.write_str(" }")
    }
}

fn parse_or(c: &mut Cursor<'_>) -> Result<Expr, PatternError> {
    let mut parts = Vec::new();
    loop {
        match parse_and(c)? {
            Expr::Or(inner) => parts.extend(inner),
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
        Expr::Or(parts)
    })
}

fn parse_and(c: &mut Cursor<'_>) -> Result<Expr, PatternError> {
    let mut parts = Vec::new();
    loop {
        match parse_unary(c)? {
            Expr::And(inner) => parts.extend(inner),
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
        Expr::And(parts)
    })
}

fn parse_unary(c: &mut Cursor<'_>) -> Result<Expr, PatternError> {
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
    let selector = Selector::parse(c)?;
    c.skip_ws();
    let test = if c.peek().is_some_and(|ch| ch.is_ascii_alphabetic()) {
        let keyword = c.take_while(|ch| ch.is_ascii_alphabetic());
        c.skip_ws();
        let second = c.take_while(|ch| ch.is_ascii_alphabetic());
        match (
            keyword.to_ascii_uppercase().as_str(),
            second.to_ascii_uppercase().as_str(),
        ) {
            ("IS", "NULL") => Test::IsNull,
            ("IS", "TRUE") => Test::IsTrue,
            ("IS", "FALSE") => Test::IsFalse,
            ("NOT", "EXISTS") => Test::NotExists,
            ("IS", _) => return Err(c.expected("NULL, TRUE or FALSE after IS")),
            ("NOT", _) => return Err(c.expected("EXISTS after NOT")),
            _ => return Err(c.expected("an operator, IS or NOT EXISTS")),
        }
    } else {
        let op = CompareOp::parse(c)
            .ok_or_else(|| c.expected("an operator (= != < > <= >=), IS or NOT EXISTS"))?;
        Test::Compare(op, parse_literal(c, op)?)
    };
    Ok(Expr::Cond(Condition { selector, test }))
}
