// SPDX-License-Identifier: Apache-2.0
//! The syntax tree of a Logs Insights query and its canonical text (`Display`): printing a
//! parsed query and parsing the text again gives the same tree.

use std::fmt;

/// A parsed query: the log groups a `SOURCE` prefix names and the piped commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Log groups named by `SOURCE '<name>'` prefixes.
    pub source_names: Vec<String>,
    /// Log group name prefixes from `SOURCE logGroups(namePrefix: [...])`.
    pub source_prefixes: Option<Vec<String>>,
    /// The commands, in order.
    pub commands: Vec<Command>,
}

/// An expression with the name a result column gets: its `as` alias, else its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The expression.
    pub expr: Expr,
    /// The column name.
    pub name: String,
    /// Whether the name came from `as`.
    pub aliased: bool,
}

/// A parse pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePattern {
    /// A glob with `*` wildcards, and the field names its stars fill.
    Glob(String, Vec<String>),
    /// A regular expression with named groups.
    Regex(String),
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The expression.
    pub expr: Expr,
    /// Descending order.
    pub desc: bool,
}

/// One command of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `fields e [as n], ...`.
    Fields(Vec<Named>),
    /// `display f, ...`.
    Display(Vec<Named>),
    /// `filter e`.
    Filter(Expr),
    /// `parse field pattern [as a, b]`.
    Parse {
        /// The field parsed.
        field: String,
        /// The pattern.
        pattern: ParsePattern,
    },
    /// `stats agg [as n], ... [by e [as n], ...]`.
    Stats {
        /// The aggregations.
        aggs: Vec<Named>,
        /// The grouping expressions.
        by: Vec<Named>,
    },
    /// `sort e [asc|desc], ...`.
    Sort(Vec<SortKey>),
    /// `limit n`.
    Limit(u64),
    /// `dedup f, ...`.
    Dedup(Vec<String>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `=~` and `like`.
    Like,
    /// `not like`.
    NotLike,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `^`.
    Pow,
}

impl BinOp {
    fn text(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Like => "like",
            BinOp::NotLike => "not like",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
        }
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field reference.
    Field(String),
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(f64),
    /// A duration literal (`5m`), in milliseconds; `unit` keeps its spelling.
    Duration {
        /// Milliseconds.
        ms: i64,
        /// The amount as written.
        amount: u64,
        /// The unit as written.
        unit: String,
    },
    /// A `/regex/` literal.
    Regex(String),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `*` as the argument of `count(*)`.
    Star,
    /// `not e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `e in [..]` / `e not in [..]`.
    In {
        /// The value.
        expr: Box<Expr>,
        /// The list.
        list: Box<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// A binary operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// A function call (names lower-cased).
    Call(String, Vec<Expr>),
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A field name, in backticks when it is not a plain identifier.
pub fn field_text(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$' || (i == 0 && c == '@')
        })
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !super::parser::is_keyword(name);
    if plain {
        name.to_owned()
    } else {
        format!("`{}`", name.replace('`', ""))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Field(n) => f.write_str(&field_text(n)),
            Expr::Str(s) => f.write_str(&quote(s)),
            Expr::Num(n) => write!(f, "{n:?}"),
            Expr::Duration { amount, unit, .. } => write!(f, "{amount}{unit}"),
            Expr::Regex(r) => write!(f, "/{}/", r.replace('/', "\\/")),
            Expr::List(items) => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            Expr::Star => f.write_str("*"),
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::Neg(e) => write!(f, "-({e})"),
            Expr::In {
                expr,
                list,
                negated,
            } => write!(
                f,
                "({expr}) {}in {list}",
                if *negated { "not " } else { "" }
            ),
            Expr::Bin(op, a, b) => write!(f, "({a}) {} ({b})", op.text()),
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn write_named(f: &mut fmt::Formatter<'_>, items: &[Named]) -> fmt::Result {
    for (i, n) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", n.expr)?;
        if n.aliased {
            write!(f, " as {}", field_text(&n.name))?;
        }
    }
    Ok(())
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Fields(items) => {
                f.write_str("fields ")?;
                write_named(f, items)
            }
            Command::Display(items) => {
                f.write_str("display ")?;
                write_named(f, items)
            }
            Command::Filter(e) => write!(f, "filter {e}"),
            Command::Parse { field, pattern } => {
                write!(f, "parse {} ", field_text(field))?;
                match pattern {
                    ParsePattern::Glob(g, names) => {
                        f.write_str(&quote(g))?;
                        if !names.is_empty() {
                            f.write_str(" as ")?;
                            let names: Vec<String> = names.iter().map(|n| field_text(n)).collect();
                            f.write_str(&names.join(", "))?;
                        }
                        Ok(())
                    }
                    ParsePattern::Regex(r) => write!(f, "{}", Expr::Regex(r.clone())),
                }
            }
            Command::Stats { aggs, by } => {
                f.write_str("stats ")?;
                write_named(f, aggs)?;
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    write_named(f, by)?;
                }
                Ok(())
            }
            Command::Sort(keys) => {
                f.write_str("sort ")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} {}", k.expr, if k.desc { "desc" } else { "asc" })?;
                }
                Ok(())
            }
            Command::Limit(n) => write!(f, "limit {n}"),
            Command::Dedup(fields) => {
                let names: Vec<String> = fields.iter().map(|n| field_text(n)).collect();
                write!(f, "dedup {}", names.join(", "))
            }
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.source_names {
            if !first {
                f.write_str(" | ")?;
            }
            first = false;
            write!(f, "SOURCE {}", quote(s))?;
        }
        if let Some(prefixes) = &self.source_prefixes {
            if !first {
                f.write_str(" | ")?;
            }
            first = false;
            let p: Vec<String> = prefixes.iter().map(|p| quote(p)).collect();
            write!(f, "SOURCE logGroups(namePrefix: [{}])", p.join(", "))?;
        }
        for c in &self.commands {
            if !first {
                f.write_str(" | ")?;
            }
            first = false;
            write!(f, "{c}")?;
        }
        Ok(())
    }
}
