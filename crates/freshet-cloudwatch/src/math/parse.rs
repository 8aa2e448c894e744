// SPDX-License-Identifier: Apache-2.0
//! The metric math parser: text to [`Expr`], with AWS's precedence.
//!
//! Grammar (lowest binding first): `OR`/`||`, `AND`/`&&`, comparisons (`== != < <= > >=`),
//! `+ -`, `* /`, unary `-` and `NOT`/`!`, `^` (right-associative), then atoms: numbers, ids
//! (`m1`), bare words (`REPEAT`), strings (`'…'` or `"…"`), function calls `F(a, b)`, arrays
//! `[a, b]` and parentheses.
//!
//! Invariants: the input is at most [`MAX_LEN`] bytes and nesting at most [`MAX_DEPTH`] deep,
//! so recursion and the tree are bounded; every input yields `Ok` or `Err`, never a panic
//! (property-tested below).

use std::fmt;

/// The longest expression (the model's `MetricExpression` max).
pub const MAX_LEN: usize = 2048;
/// The deepest nesting of parentheses, calls, arrays and unary operators.
pub const MAX_DEPTH: usize = 64;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND` / `&&`
    And,
    /// `OR` / `||`
    Or,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// A string literal.
    Str(String),
    /// An identifier: a query id or a bare word such as `REPEAT`.
    Ident(String),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// `-a`.
    Neg(Box<Expr>),
    /// `NOT a` / `!a`.
    Not(Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `NAME(args)`; the name upper-cased.
    Call(String, Vec<Expr>),
}

/// Why an expression does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Word(String),
    Op(&'static str),
}

fn lex(text: &str) -> Result<Vec<Tok>, ParseError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let s = &text[start..i];
            let n: f64 = s
                .parse()
                .map_err(|_| ParseError(format!("Invalid number {s}")))?;
            out.push(Tok::Num(n));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Word(text[start..i].to_owned()));
        } else if c == b'"' || c == b'\'' {
            // Strings may hold the other quote (SEARCH's 'MetricName="X"') and escaped quotes.
            let mut s = String::new();
            let mut j = i + 1;
            let mut closed = false;
            while j < b.len() {
                if b[j] == b'\\'
                    && let Some(next) = text[j + 1..].chars().next()
                {
                    s.push(next);
                    j += 1 + next.len_utf8();
                    continue;
                }
                if b[j] == c {
                    closed = true;
                    break;
                }
                let ch = text[j..].chars().next().unwrap_or('\u{fffd}');
                s.push(ch);
                j += ch.len_utf8();
            }
            if !closed {
                return Err(ParseError("Unterminated string".into()));
            }
            out.push(Tok::Str(s));
            i = j + 1;
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let op = match two {
                "==" | "!=" | "<=" | ">=" | "&&" | "||" => {
                    i += 2;
                    match two {
                        "==" => "==",
                        "!=" => "!=",
                        "<=" => "<=",
                        ">=" => ">=",
                        "&&" => "&&",
                        _ => "||",
                    }
                }
                _ => {
                    i += 1;
                    match c {
                        b'+' => "+",
                        b'-' => "-",
                        b'*' => "*",
                        b'/' => "/",
                        b'^' => "^",
                        b'<' => "<",
                        b'>' => ">",
                        b'!' => "!",
                        b'(' => "(",
                        b')' => ")",
                        b'[' => "[",
                        b']' => "]",
                        b',' => ",",
                        _ => {
                            let ch = text[i - 1..].chars().next().unwrap_or('?');
                            return Err(ParseError(format!("Unexpected character {ch}")));
                        }
                    }
                }
            };
            out.push(Tok::Op(op));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Parses `text`.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_LEN {
        return Err(ParseError(format!(
            "The expression is longer than {MAX_LEN} characters"
        )));
    }
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err(ParseError("The expression is empty".into()));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(ParseError(format!("Unexpected {}", show(t)))),
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Word(w) => format!("identifier {w}"),
        Tok::Op(o) => format!("token {o}"),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn expect(&mut self, op: &str) -> Result<(), ParseError> {
        if self.is_op(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(ParseError(match self.peek() {
                Some(t) => format!("Expected {op} but found {}", show(t)),
                None => format!("Expected {op} at the end of the expression"),
            }))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError(format!(
                "The expression is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.and()?;
        while self.is_op("||") || self.is_word("OR") {
            self.pos += 1;
            let r = self.and()?;
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.cmp()?;
        while self.is_op("&&") || self.is_word("AND") {
            self.pos += 1;
            let r = self.cmp()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.add()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("==")) => BinOp::Eq,
                Some(Tok::Op("!=")) => BinOp::Ne,
                Some(Tok::Op("<")) => BinOp::Lt,
                Some(Tok::Op("<=")) => BinOp::Le,
                Some(Tok::Op(">")) => BinOp::Gt,
                Some(Tok::Op(">=")) => BinOp::Ge,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.add()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn add(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.mul()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("+")) => BinOp::Add,
                Some(Tok::Op("-")) => BinOp::Sub,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.mul()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn mul(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("*")) => BinOp::Mul,
                Some(Tok::Op("/")) => BinOp::Div,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.unary()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.is_op("-") || self.is_op("!") || self.is_word("NOT") {
            let neg = self.is_op("-");
            self.pos += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(if neg {
                Expr::Neg(Box::new(e))
            } else {
                Expr::Not(Box::new(e))
            });
        }
        if self.is_op("+") {
            self.pos += 1;
        }
        self.pow()
    }

    fn pow(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.is_op("^") {
            self.pos += 1;
            self.enter()?;
            // Right-associative, and the exponent may carry its own sign: 2^-1.
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn list(&mut self, close: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.is_op(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            if self.is_op(",") {
                self.pos += 1;
                continue;
            }
            self.expect(close)?;
            return Ok(items);
        }
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        let Some(t) = self.peek().cloned() else {
            return Err(ParseError("The expression ends early".into()));
        };
        self.pos += 1;
        match t {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Word(w) => {
                if self.is_op("(") {
                    self.pos += 1;
                    self.enter()?;
                    let args = self.list(")")?;
                    self.depth -= 1;
                    Ok(Expr::Call(w.to_ascii_uppercase(), args))
                } else {
                    Ok(Expr::Ident(w))
                }
            }
            Tok::Op("(") => {
                self.enter()?;
                let e = self.or()?;
                self.expect(")")?;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Op("[") => {
                self.enter()?;
                let items = self.list("]")?;
                self.depth -= 1;
                Ok(Expr::Array(items))
            }
            Tok::Op(o) => Err(ParseError(format!("Unexpected token {o}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> Box<Expr> {
        Box::new(Expr::Ident(s.into()))
    }

    #[test]
    fn precedence_is_arithmetic() {
        assert_eq!(
            parse("m1 + m2 * 2").expect("parses"),
            Expr::Binary(
                BinOp::Add,
                id("m1"),
                Box::new(Expr::Binary(BinOp::Mul, id("m2"), Box::new(Expr::Num(2.0))))
            )
        );
        assert_eq!(
            parse("-2^2").expect("parses"),
            Expr::Neg(Box::new(Expr::Binary(
                BinOp::Pow,
                Box::new(Expr::Num(2.0)),
                Box::new(Expr::Num(2.0))
            )))
        );
        assert!(matches!(
            parse("m1 > 1 AND m2 < 2 || m3 == 0").expect("parses"),
            Expr::Binary(BinOp::Or, _, _)
        ));
    }

    #[test]
    fn calls_arrays_and_strings_parse() {
        assert_eq!(
            parse("sum([m1, m2])").expect("parses"),
            Expr::Call("SUM".into(), vec![Expr::Array(vec![*id("m1"), *id("m2")])])
        );
        assert_eq!(
            parse(r#"SEARCH('{AWS/Kinesis,StreamName} MetricName="IncomingRecords"', 'Sum', 300)"#)
                .expect("parses"),
            Expr::Call(
                "SEARCH".into(),
                vec![
                    Expr::Str(r#"{AWS/Kinesis,StreamName} MetricName="IncomingRecords""#.into()),
                    Expr::Str("Sum".into()),
                    Expr::Num(300.0)
                ]
            )
        );
        assert_eq!(
            parse("METRICS()").expect("parses"),
            Expr::Call("METRICS".into(), vec![])
        );
        assert_eq!(parse("1.5e3").expect("parses"), Expr::Num(1500.0));
    }

    #[test]
    fn bad_syntax_is_an_error_with_a_reason() {
        for bad in [
            "", "m1 +", "(m1", "[m1, ]", "m1 m2", "SUM(m1", "m1 $ 2", "'open",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"(".repeat(100)).is_err());
        assert!(parse(&"-".repeat(100)).is_err());
        assert!(parse(&"x".repeat(MAX_LEN + 1)).is_err());
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn expression_like_text_never_panics(text in "[a-z0-9_ +*/^()\\[\\],.'\"!<>=&|-]{0,300}") {
            let _ = parse(&text);
        }

        #[test]
        fn deep_nesting_is_refused_not_overflowed(n in 0usize..2000) {
            let text = format!("{}m1{}", "ABS(".repeat(n), ")".repeat(n));
            prop_assert_eq!(parse(&text).is_ok(), n <= MAX_DEPTH && text.len() <= MAX_LEN);
        }
    }
}
