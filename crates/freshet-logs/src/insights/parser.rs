// SPDX-License-Identifier: Apache-2.0
//! The Logs Insights query parser: text to [`Query`], or a [`ParseError`] with the character
//! range it points at (StartQuery's `queryCompileError`).
//!
//! A hand-written recursive descent over the text. It tokenizes on demand, because a `/`
//! is a regular expression where a value may start and a division after one. Nesting is
//! bounded ([`MAX_DEPTH`]) so no input can overflow the stack; `#` starts a comment that runs
//! to the end of the line.

use super::ast::{BinOp, Command, Expr, Named, ParsePattern, Query, SortKey};

/// Deepest nesting of parentheses, lists and operators accepted.
pub const MAX_DEPTH: usize = 64;
/// Largest `limit` (AWS: 10,000).
pub const MAX_LIMIT: u64 = 10_000;

/// Why a query does not compile, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// First character offset.
    pub start: usize,
    /// Last character offset.
    pub end: usize,
}

/// Words that are operators, not field names.
pub fn is_keyword(s: &str) -> bool {
    ["and", "or", "not", "like", "in", "as", "by", "asc", "desc"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(s))
}

/// Aggregation functions of `stats`.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "count_distinct"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "earliest"
            | "latest"
            | "pct"
            | "stddev"
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Dur(u64, String),
    Regex(String),
    Sym(&'static str),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Quoted(s) => format!("'`{s}`'"),
            Tok::Str(s) => format!("'\"{s}\"'"),
            Tok::Num(n) => format!("'{n}'"),
            Tok::Dur(a, u) => format!("'{a}{u}'"),
            Tok::Regex(r) => format!("'/{r}/'"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Eof => "end of query".to_owned(),
        }
    }
}

const SYMBOLS: &[&str] = &[
    "!=", "<=", ">=", "=~", "|", ",", "(", ")", "[", "]", "=", "<", ">", "+", "-", "*", "/", "%",
    "^", ":",
];

/// Duration units `bin` and `datefloor` take, in milliseconds.
fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit {
        "ms" => 1,
        "s" | "sec" => 1000,
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    })
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, ParseError>;

/// Parses a query.
pub fn parse(src: &str) -> R<Query> {
    let mut p = Parser {
        src,
        pos: 0,
        depth: 0,
    };
    p.query()
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@' || c == '$'
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@' || c == '$'
}

impl Parser<'_> {
    fn err<T>(&self, start: usize, end: usize, message: impl Into<String>) -> R<T> {
        let chars = |b: usize| self.src[..b.min(self.src.len())].chars().count();
        Err(ParseError {
            message: message.into(),
            start: chars(start),
            end: chars(end.max(start)),
        })
    }

    fn skip_ws(&mut self) {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.pos < bytes.len() && bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// The next token and its byte range, without consuming it.
    fn peek(&mut self, regex_ok: bool) -> R<(Tok, usize, usize)> {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.src[start..];
        let Some(c) = rest.chars().next() else {
            return Ok((Tok::Eof, start, start));
        };
        if ident_start(c) {
            let len = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
            return Ok((Tok::Ident(rest[..len].to_owned()), start, start + len));
        }
        if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|c: char| c.is_ascii_digit())) {
            return self.number(start);
        }
        match c {
            '`' => match rest[1..].find('`') {
                Some(i) => Ok((Tok::Quoted(rest[1..1 + i].to_owned()), start, start + i + 2)),
                None => self.err(start, self.src.len(), "unterminated quoted field name"),
            },
            '"' | '\'' => self.string(start, c),
            '/' if regex_ok => self.regex(start),
            _ => {
                for s in SYMBOLS {
                    if rest.starts_with(s) {
                        return Ok((Tok::Sym(s), start, start + s.len()));
                    }
                }
                self.err(
                    start,
                    start + c.len_utf8(),
                    format!("unexpected symbol found '{c}'"),
                )
            }
        }
    }

    fn number(&self, start: usize) -> R<(Tok, usize, usize)> {
        let b = self.src.as_bytes();
        let mut i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_end = i;
        let mut float = false;
        if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            float = true;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < b.len()
            && (b[i] == b'e' || b[i] == b'E')
            && (b.get(i + 1).is_some_and(u8::is_ascii_digit)
                || (matches!(b.get(i + 1), Some(b'+' | b'-'))
                    && b.get(i + 2).is_some_and(u8::is_ascii_digit)))
        {
            float = true;
            i += 2;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if !float && i < b.len() && b[i].is_ascii_alphabetic() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            let unit = &self.src[i..j];
            let Some(_) = unit_ms(unit) else {
                return self.err(start, j, format!("unknown time unit '{unit}'"));
            };
            let Ok(amount) = self.src[start..int_end].parse::<u64>() else {
                return self.err(start, j, "time period too large");
            };
            return Ok((Tok::Dur(amount, unit.to_owned()), start, j));
        }
        match self.src[start..i].parse::<f64>() {
            Ok(n) if n.is_finite() => Ok((Tok::Num(n), start, i)),
            _ => self.err(start, i, "number out of range"),
        }
    }

    fn string(&self, start: usize, quote: char) -> R<(Tok, usize, usize)> {
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                return Ok((Tok::Str(out), start, start + 1 + i + 1));
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, e)) => out.push(e),
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        self.err(start, self.src.len(), "unterminated string literal")
    }

    fn regex(&self, start: usize) -> R<(Tok, usize, usize)> {
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '/' => {
                    if let Err(e) = regex::Regex::new(&out) {
                        return self.err(
                            start,
                            start + i + 2,
                            format!("invalid regular expression: {}", first_line(&e.to_string())),
                        );
                    }
                    return Ok((Tok::Regex(out), start, start + 1 + i + 1));
                }
                '\\' => match chars.next() {
                    Some((_, '/')) => out.push('/'),
                    Some((_, e)) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => break,
                },
                _ => out.push(c),
            }
        }
        self.err(start, self.src.len(), "unterminated regular expression")
    }

    fn next(&mut self, regex_ok: bool) -> R<(Tok, usize, usize)> {
        let t = self.peek(regex_ok)?;
        self.pos = t.2;
        Ok(t)
    }

    fn expect_sym(&mut self, sym: &'static str) -> R<()> {
        let (t, s, e) = self.next(false)?;
        if t == Tok::Sym(sym) {
            return Ok(());
        }
        self.err(
            s,
            e,
            format!("mismatched input {} expecting '{sym}'", t.describe()),
        )
    }

    fn eat_sym(&mut self, sym: &'static str) -> R<bool> {
        let (t, _, e) = self.peek(false)?;
        if t == Tok::Sym(sym) {
            self.pos = e;
            return Ok(true);
        }
        Ok(false)
    }

    fn eat_word(&mut self, word: &str) -> R<bool> {
        let (t, _, e) = self.peek(false)?;
        if matches!(&t, Tok::Ident(w) if w.eq_ignore_ascii_case(word)) {
            self.pos = e;
            return Ok(true);
        }
        Ok(false)
    }

    fn field_name(&mut self) -> R<String> {
        let (t, s, e) = self.next(false)?;
        match t {
            Tok::Ident(n) if !is_keyword(&n) => Ok(n),
            Tok::Quoted(n) if !n.is_empty() => Ok(n),
            t => self.err(
                s,
                e,
                format!("mismatched input {} expecting a field name", t.describe()),
            ),
        }
    }

    fn query(&mut self) -> R<Query> {
        let mut q = Query {
            source_names: Vec::new(),
            source_prefixes: None,
            commands: Vec::new(),
        };
        let (t, _, _) = self.peek(false)?;
        if t == Tok::Eof {
            return Ok(q);
        }
        loop {
            let (t, s, e) = self.next(false)?;
            let Tok::Ident(word) = t else {
                return self.err(
                    s,
                    e,
                    format!("mismatched input {} expecting a command", t.describe()),
                );
            };
            let lower = word.to_ascii_lowercase();
            if lower == "source" && q.commands.is_empty() {
                self.source(&mut q)?;
            } else {
                let c = self.command(&lower, s, e)?;
                q.commands.push(c);
            }
            let (t, s, e) = self.next(false)?;
            match t {
                Tok::Eof => return Ok(q),
                Tok::Sym("|") => {}
                t => {
                    return self.err(
                        s,
                        e,
                        format!("mismatched input {} expecting '|'", t.describe()),
                    );
                }
            }
        }
    }

    fn source(&mut self, q: &mut Query) -> R<()> {
        let (t, s, e) = self.next(false)?;
        match t {
            Tok::Str(name) => q.source_names.push(name),
            Tok::Ident(w) if w.eq_ignore_ascii_case("logGroups") => {
                self.expect_sym("(")?;
                let mut prefixes = Vec::new();
                while !self.eat_sym(")")? {
                    let key = self.field_name()?;
                    self.expect_sym(":")?;
                    self.expect_sym("[")?;
                    let mut values = Vec::new();
                    while !self.eat_sym("]")? {
                        let (t, s, e) = self.next(false)?;
                        let Tok::Str(v) = t else {
                            return self.err(s, e, "expecting a string");
                        };
                        values.push(v);
                        self.eat_sym(",")?;
                    }
                    match key.as_str() {
                        "namePrefix" => prefixes.extend(values),
                        "class" | "logGroupClass" | "accountIdentifiers" | "accountIdentifier" => {}
                        other => {
                            return self.err(s, e, format!("unknown logGroups keyword '{other}'"));
                        }
                    }
                    self.eat_sym(",")?;
                }
                q.source_prefixes
                    .get_or_insert_with(Vec::new)
                    .extend(prefixes);
            }
            t => {
                return self.err(
                    s,
                    e,
                    format!(
                        "mismatched input {} expecting a log group name or logGroups(...)",
                        t.describe()
                    ),
                );
            }
        }
        Ok(())
    }

    fn command(&mut self, word: &str, s: usize, e: usize) -> R<Command> {
        Ok(match word {
            "fields" => Command::Fields(self.named_list()?),
            "display" => Command::Display(self.named_list()?),
            "filter" => Command::Filter(self.expr()?),
            "parse" => self.parse_command()?,
            "stats" => self.stats()?,
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let expr = self.expr()?;
                    let desc = if self.eat_word("desc")? {
                        true
                    } else {
                        self.eat_word("asc")?;
                        false
                    };
                    keys.push(SortKey { expr, desc });
                    if !self.eat_sym(",")? {
                        break;
                    }
                }
                Command::Sort(keys)
            }
            "limit" => {
                let (t, s, e) = self.next(false)?;
                match t {
                    Tok::Num(n) if n.fract() == 0.0 && n >= 1.0 && n <= MAX_LIMIT as f64 => {
                        Command::Limit(n as u64)
                    }
                    t => {
                        return self.err(
                            s,
                            e,
                            format!(
                                "mismatched input {} expecting a limit between 1 and {MAX_LIMIT}",
                                t.describe()
                            ),
                        );
                    }
                }
            }
            "dedup" => {
                let mut fields = vec![self.field_name()?];
                while self.eat_sym(",")? {
                    fields.push(self.field_name()?);
                }
                Command::Dedup(fields)
            }
            "unmask" | "pattern" | "diff" | "anomaly" | "filterindex" | "lookup" | "unnest" => {
                return self.err(
                    s,
                    e,
                    format!("the {word} command is not supported by Freshet"),
                );
            }
            other => {
                return self.err(s, e, format!("unknown command '{other}'"));
            }
        })
    }

    fn named_list(&mut self) -> R<Vec<Named>> {
        let mut out = vec![self.named()?];
        while self.eat_sym(",")? {
            out.push(self.named()?);
        }
        Ok(out)
    }

    fn named(&mut self) -> R<Named> {
        self.skip_ws();
        let start = self.pos;
        let expr = self.expr()?;
        let text = self.src[start..self.pos].trim().to_owned();
        if self.eat_word("as")? {
            let name = self.field_name()?;
            return Ok(Named {
                expr,
                name,
                aliased: true,
            });
        }
        let name = match &expr {
            Expr::Field(f) => f.clone(),
            _ => text,
        };
        Ok(Named {
            expr,
            name,
            aliased: false,
        })
    }

    fn parse_command(&mut self) -> R<Command> {
        let field = self.field_name()?;
        let (t, s, e) = self.next(true)?;
        let pattern = match t {
            Tok::Str(glob) => {
                let stars = glob.matches('*').count();
                let mut names = Vec::new();
                if self.eat_word("as")? {
                    names.push(self.field_name()?);
                    while self.eat_sym(",")? {
                        names.push(self.field_name()?);
                    }
                }
                if stars == 0 || names.len() != stars {
                    return self.err(
                        s,
                        self.pos,
                        format!(
                            "the parse pattern has {stars} wildcards but {} field names follow 'as'",
                            names.len()
                        ),
                    );
                }
                ParsePattern::Glob(glob, names)
            }
            Tok::Regex(r) => {
                let Ok(re) = regex::Regex::new(&r) else {
                    return self.err(s, e, "invalid regular expression");
                };
                if re.capture_names().flatten().next().is_none() {
                    return self.err(
                        s,
                        e,
                        "the parse regular expression needs named groups such as (?<name>...)",
                    );
                }
                ParsePattern::Regex(r)
            }
            t => {
                return self.err(
                    s,
                    e,
                    format!(
                        "mismatched input {} expecting a parse pattern",
                        t.describe()
                    ),
                );
            }
        };
        Ok(Command::Parse { field, pattern })
    }

    fn stats(&mut self) -> R<Command> {
        let aggs = self.named_list()?;
        for a in &aggs {
            if !contains_aggregate(&a.expr) {
                return self.err(
                    0,
                    self.pos,
                    format!(
                        "stats needs an aggregation function such as count(), got {}",
                        a.name
                    ),
                );
            }
        }
        let by = if self.eat_word("by")? {
            self.named_list()?
        } else {
            Vec::new()
        };
        Ok(Command::Stats { aggs, by })
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(self.pos, self.pos, "the query is nested too deeply");
        }
        Ok(())
    }

    fn expr(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.or();
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> R<Expr> {
        let mut left = self.and()?;
        while self.eat_word("or")? {
            let right = self.and()?;
            left = Expr::Bin(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> R<Expr> {
        let mut left = self.not()?;
        while self.eat_word("and")? {
            let right = self.not()?;
            left = Expr::Bin(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> R<Expr> {
        if self.eat_word("not")? {
            self.enter()?;
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> R<Expr> {
        let left = self.additive()?;
        let save = self.pos;
        let (t, _, e) = self.peek(false)?;
        let op = match &t {
            Tok::Sym("=") => Some(BinOp::Eq),
            Tok::Sym("!=") => Some(BinOp::Ne),
            Tok::Sym("<") => Some(BinOp::Lt),
            Tok::Sym("<=") => Some(BinOp::Le),
            Tok::Sym(">") => Some(BinOp::Gt),
            Tok::Sym(">=") => Some(BinOp::Ge),
            Tok::Sym("=~") => Some(BinOp::Like),
            Tok::Ident(w) if w.eq_ignore_ascii_case("like") => Some(BinOp::Like),
            _ => None,
        };
        if let Some(op) = op {
            self.pos = e;
            let right = self.additive()?;
            return Ok(Expr::Bin(op, Box::new(left), Box::new(right)));
        }
        let negated = self.eat_word("not")?;
        if negated && self.eat_word("like")? {
            let right = self.additive()?;
            return Ok(Expr::Bin(BinOp::NotLike, Box::new(left), Box::new(right)));
        }
        if self.eat_word("in")? {
            let list = self.additive()?;
            return Ok(Expr::In {
                expr: Box::new(left),
                list: Box::new(list),
                negated,
            });
        }
        self.pos = save;
        Ok(left)
    }

    fn additive(&mut self) -> R<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+")? {
                BinOp::Add
            } else if self.eat_sym("-")? {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> R<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_sym("*")? {
                BinOp::Mul
            } else if self.eat_sym("/")? {
                BinOp::Div
            } else if self.eat_sym("%")? {
                BinOp::Mod
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> R<Expr> {
        if self.eat_sym("-")? {
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner?)));
        }
        let base = self.primary()?;
        if self.eat_sym("^")? {
            self.enter()?;
            let exp = self.unary();
            self.depth -= 1;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp?)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> R<Expr> {
        let (t, s, e) = self.next(true)?;
        match t {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(v) => Ok(Expr::Str(v)),
            Tok::Regex(r) => Ok(Expr::Regex(r)),
            Tok::Dur(amount, unit) => {
                let ms = unit_ms(&unit)
                    .and_then(|u| i64::try_from(amount).ok()?.checked_mul(u))
                    .filter(|ms| *ms > 0);
                match ms {
                    Some(ms) => Ok(Expr::Duration { ms, amount, unit }),
                    None => self.err(s, e, "invalid time period"),
                }
            }
            Tok::Quoted(n) if !n.is_empty() => Ok(Expr::Field(n)),
            Tok::Sym("(") => {
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Tok::Sym("[") => {
                self.enter()?;
                let mut items = Vec::new();
                if !self.eat_sym("]")? {
                    loop {
                        items.push(self.expr()?);
                        if self.eat_sym("]")? {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                self.depth -= 1;
                Ok(Expr::List(items))
            }
            Tok::Ident(name) if !is_keyword(&name) => {
                if self.eat_sym("(")? {
                    let lower = name.to_ascii_lowercase();
                    let mut args = Vec::new();
                    if lower == "count" && self.eat_sym("*")? {
                        args.push(Expr::Star);
                        self.expect_sym(")")?;
                    } else if !self.eat_sym(")")? {
                        loop {
                            args.push(self.expr()?);
                            if self.eat_sym(")")? {
                                break;
                            }
                            self.expect_sym(",")?;
                        }
                    }
                    check_call(&lower, args.len()).or_else(|m| self.err(s, self.pos, m))?;
                    return Ok(Expr::Call(lower, args));
                }
                Ok(Expr::Field(name))
            }
            t => self.err(
                s,
                e,
                format!("mismatched input {} expecting an expression", t.describe()),
            ),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// Whether an expression uses an aggregation.
pub fn contains_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Call(name, args) => is_aggregate(name) || args.iter().any(contains_aggregate),
        Expr::Not(x) | Expr::Neg(x) => contains_aggregate(x),
        Expr::Bin(_, a, b) => contains_aggregate(a) || contains_aggregate(b),
        Expr::In { expr, list, .. } => contains_aggregate(expr) || contains_aggregate(list),
        Expr::List(items) => items.iter().any(contains_aggregate),
        _ => false,
    }
}

/// The functions Freshet knows, with the argument counts they take.
fn check_call(name: &str, n: usize) -> Result<(), String> {
    let (lo, hi) = match name {
        "count" => (0, 1),
        "count_distinct" | "sum" | "avg" | "min" | "max" | "earliest" | "latest" | "stddev" => {
            (1, 1)
        }
        "pct" => (2, 2),
        "strlen" | "toupper" | "tolower" | "abs" | "ceil" | "floor" | "sqrt" | "isempty"
        | "isblank" | "ispresent" | "frommillis" | "tomillis" | "bin" | "ltrim" | "rtrim" => (1, 1),
        "trim" => (1, 2),
        "log" => (1, 1),
        "round" => (1, 2),
        "concat" | "coalesce" | "greatest" | "least" => (1, usize::MAX),
        "substr" => (2, 3),
        "replace" => (3, 3),
        "strcontains" => (2, 2),
        "datefloor" | "dateceil" => (2, 2),
        _ => return Err(format!("unknown function '{name}'")),
    };
    if n < lo || n > hi {
        return Err(format!("wrong number of arguments to {name}: {n}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn canon(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn a_console_query_parses() {
        let q = parse("fields @timestamp, @message | sort @timestamp desc | limit 20").unwrap();
        assert_eq!(q.commands.len(), 3);
        assert_eq!(q.commands[2], Command::Limit(20));
    }

    #[test]
    fn stats_by_bin_keeps_the_source_text_as_column_names() {
        let q = parse("stats count(*), avg(x) as mean by bin(5m)").unwrap();
        let Command::Stats { aggs, by } = &q.commands[0] else {
            panic!("not stats");
        };
        assert_eq!(aggs[0].name, "count(*)");
        assert_eq!(aggs[1].name, "mean");
        assert_eq!(by[0].name, "bin(5m)");
        assert!(
            matches!(by[0].expr, Expr::Call(_, ref a) if a[0] == Expr::Duration { ms: 300_000, amount: 5, unit: "m".into() })
        );
    }

    #[test]
    fn slashes_are_regexes_where_values_start_and_division_after_them() {
        let q = parse("filter @message like /a\\/b/ and x / 2 > 1").unwrap();
        let s = q.to_string();
        assert!(s.contains("like (/a\\/b/)"), "{s}");
        assert!(s.contains("(x) / (2.0)"), "{s}");
        let q = parse("parse @message /(?<user>\\w+) logged in/").unwrap();
        assert!(matches!(
            &q.commands[0],
            Command::Parse {
                pattern: ParsePattern::Regex(_),
                ..
            }
        ));
    }

    #[test]
    fn parse_globs_need_one_name_per_star() {
        assert!(parse("parse @message \"user=* id=*\" as user, id").is_ok());
        let e = parse("parse @message \"user=*\" as a, b").unwrap_err();
        assert!(e.message.contains("1 wildcards"), "{}", e.message);
    }

    #[test]
    fn source_prefixes_name_log_groups() {
        let q = parse("SOURCE '/aws/lambda/f' | fields @message").unwrap();
        assert_eq!(q.source_names, vec!["/aws/lambda/f".to_owned()]);
        let q = parse("SOURCE logGroups(namePrefix: ['/a', '/b'], class: ['STANDARD']) | limit 1")
            .unwrap();
        assert_eq!(
            q.source_prefixes,
            Some(vec!["/a".to_owned(), "/b".to_owned()])
        );
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let e = parse("fields a | frobnicate b").unwrap_err();
        assert_eq!((e.start, e.end), (11, 21));
        assert_eq!(e.message, "unknown command 'frobnicate'");
        assert!(parse("limit 0").is_err());
        assert!(parse("filter (((a)").is_err());
        assert!(parse("unmask @message").is_err());
        assert!(parse(&"(".repeat(10_000)).is_err());
    }

    #[test]
    fn operators_bind_as_in_logs_insights() {
        assert_eq!(
            canon("filter a = 1 or b = 2 and not c like 'x'"),
            "filter ((a) = (1.0)) or (((b) = (2.0)) and (not ((c) like (\"x\"))))"
        );
        assert_eq!(
            canon("filter x not in [1, 'a'] and y not like /z/"),
            "filter ((x) not in [1.0, \"a\"]) and ((y) not like (/z/))"
        );
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn the_parser_never_panics_on_query_like_text(
            s in "(fields|filter|stats|sort|parse|limit|SOURCE|by|as|not|like|in|[a-z@.`'\"/*(),|=<>!~ 0-9\\[\\]-]){0,40}"
        ) {
            let _ = parse(&s);
        }

        #[test]
        fn what_parses_prints_to_text_that_parses_the_same(
            s in "(fields |filter |stats count\\(\\*\\) by |sort |display |dedup )?([a-z@]{1,3}|[0-9]{1,3}|'[a-z ]{0,4}'|/[a-z]{1,3}/|\\(|\\)|\\[|\\]|,|\\+|-|\\*|/| and | or | not | like | in |=|!=|<|>=|strlen\\(|bin\\(5m\\)| as ){0,12}( \\| limit [1-9])?"
        ) {
            if let Ok(q) = parse(&s) {
                let printed = q.to_string();
                let again = parse(&printed);
                prop_assert!(again.is_ok(), "{} printed as {} does not parse: {:?}", s, printed, again);
                prop_assert_eq!(again.unwrap().to_string(), printed);
            }
        }
    }
}
