// SPDX-License-Identifier: Apache-2.0
//! Evaluating expressions over one row: fields, operators and the scalar functions.
//!
//! An absent field evaluates to `None`; comparisons with it are false, arithmetic with it is
//! absent, and string functions treat it as absent (so `fields strlen(x)` shows nothing for
//! events without `x`), as Logs Insights does. Regular expressions are compiled once per
//! query, in [`Env`].

use std::collections::HashMap;

use regex::Regex;

use super::ast::{BinOp, Expr};
use super::value::{Value, compare_values, equals};

/// One row: an event's fields, or a row of `stats` output. Names are kept in the order they
/// were set, which is the order results show them in when no command picks fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// (name, value) in insertion order.
    pub fields: Vec<(String, Value)>,
}

impl Row {
    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets (or replaces) a field.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }
}

/// What evaluation needs besides the row: the query's compiled regular expressions.
#[derive(Debug, Default, Clone)]
pub struct Env {
    regexes: HashMap<String, Regex>,
}

impl Env {
    /// Compiles every regular expression an expression holds.
    pub fn learn(&mut self, e: &Expr) {
        match e {
            Expr::Regex(r) => {
                if !self.regexes.contains_key(r)
                    && let Ok(re) = Regex::new(r)
                {
                    self.regexes.insert(r.clone(), re);
                }
            }
            Expr::Not(x) | Expr::Neg(x) => self.learn(x),
            Expr::Bin(_, a, b) => {
                self.learn(a);
                self.learn(b);
            }
            Expr::In { expr, list, .. } => {
                self.learn(expr);
                self.learn(list);
            }
            Expr::List(items) | Expr::Call(_, items) => items.iter().for_each(|x| self.learn(x)),
            _ => {}
        }
    }

    /// The compiled form of a regex literal.
    pub fn regex(&self, r: &str) -> Option<&Regex> {
        self.regexes.get(r)
    }
}

/// Whether a filter expression holds for a row.
pub fn holds(env: &Env, row: &Row, e: &Expr) -> bool {
    eval(env, row, e).is_some_and(|v| v.truthy())
}

fn num(env: &Env, row: &Row, e: &Expr) -> Option<f64> {
    eval(env, row, e)?.as_num()
}

fn text(env: &Env, row: &Row, e: &Expr) -> Option<String> {
    eval(env, row, e).map(|v| v.text())
}

fn like(env: &Env, row: &Row, left: &Expr, right: &Expr) -> Option<bool> {
    let subject = text(env, row, left)?;
    Some(match right {
        Expr::Regex(r) => env.regex(r).is_some_and(|re| re.is_match(&subject)),
        other => {
            let needle = text(env, row, other)?;
            subject.contains(&needle)
        }
    })
}

/// Evaluates an expression; `None` is an absent value.
pub fn eval(env: &Env, row: &Row, e: &Expr) -> Option<Value> {
    match e {
        Expr::Field(n) => row.get(n).cloned(),
        Expr::Str(s) => Some(Value::Str(s.clone())),
        Expr::Num(n) => Some(Value::Num(*n)),
        Expr::Duration { ms, .. } => Some(Value::Num(*ms as f64)),
        Expr::Regex(r) => Some(Value::Str(r.clone())),
        Expr::List(_) | Expr::Star => None,
        Expr::Not(x) => Some(Value::Bool(!holds(env, row, x))),
        Expr::Neg(x) => Some(Value::Num(-num(env, row, x)?)),
        Expr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(env, row, expr)?;
            let found = match list.as_ref() {
                Expr::List(items) => items
                    .iter()
                    .any(|i| eval(env, row, i).is_some_and(|x| equals(&v, &x))),
                other => eval(env, row, other).is_some_and(|x| equals(&v, &x)),
            };
            Some(Value::Bool(found != *negated))
        }
        Expr::Bin(op, a, b) => bin(env, row, *op, a, b),
        Expr::Call(name, args) => call(env, row, name, args),
    }
}

fn bin(env: &Env, row: &Row, op: BinOp, a: &Expr, b: &Expr) -> Option<Value> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let cmp = |want: &[std::cmp::Ordering]| -> Option<Value> {
        let (x, y) = (eval(env, row, a), eval(env, row, b));
        Some(Value::Bool(match (x, y) {
            (Some(x), Some(y)) => want.contains(&compare_values(&x, &y)),
            _ => false,
        }))
    };
    let arith = |f: fn(f64, f64) -> f64| -> Option<Value> {
        let r = f(num(env, row, a)?, num(env, row, b)?);
        r.is_finite().then_some(Value::Num(r))
    };
    match op {
        BinOp::Or => Some(Value::Bool(holds(env, row, a) || holds(env, row, b))),
        BinOp::And => Some(Value::Bool(holds(env, row, a) && holds(env, row, b))),
        BinOp::Eq => {
            let (x, y) = (eval(env, row, a), eval(env, row, b));
            Some(Value::Bool(
                matches!((x, y), (Some(x), Some(y)) if equals(&x, &y)),
            ))
        }
        BinOp::Ne => {
            let (x, y) = (eval(env, row, a), eval(env, row, b));
            Some(Value::Bool(
                matches!((x, y), (Some(x), Some(y)) if !equals(&x, &y)),
            ))
        }
        BinOp::Lt => cmp(&[Less]),
        BinOp::Le => cmp(&[Less, Equal]),
        BinOp::Gt => cmp(&[Greater]),
        BinOp::Ge => cmp(&[Greater, Equal]),
        BinOp::Like => Some(Value::Bool(like(env, row, a, b).unwrap_or(false))),
        BinOp::NotLike => Some(Value::Bool(like(env, row, a, b).is_some_and(|m| !m))),
        BinOp::Add => arith(|x, y| x + y),
        BinOp::Sub => arith(|x, y| x - y),
        BinOp::Mul => arith(|x, y| x * y),
        BinOp::Div => arith(|x, y| x / y),
        BinOp::Mod => arith(|x, y| x % y),
        BinOp::Pow => arith(f64::powf),
    }
}

fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::Time(t) => Some(*t),
        other => other.as_num().map(|n| n as i64),
    }
}

fn floor_to(t: i64, period: i64) -> i64 {
    t.div_euclid(period).saturating_mul(period)
}

fn call(env: &Env, row: &Row, name: &str, args: &[Expr]) -> Option<Value> {
    let arg = |i: usize| args.get(i).and_then(|e| eval(env, row, e));
    let s = |i: usize| arg(i).map(|v| v.text());
    let n = |i: usize| arg(i).and_then(|v| v.as_num());
    let number = |x: f64| x.is_finite().then_some(Value::Num(x));
    match name {
        "strlen" => Some(Value::Num(s(0)?.chars().count() as f64)),
        "toupper" => Some(Value::Str(s(0)?.to_uppercase())),
        "tolower" => Some(Value::Str(s(0)?.to_lowercase())),
        "trim" | "ltrim" | "rtrim" => {
            let v = s(0)?;
            let set: Option<Vec<char>> = s(1).map(|c| c.chars().collect());
            let is_trim = |c: char| match &set {
                Some(set) => set.contains(&c),
                None => c.is_whitespace(),
            };
            Some(Value::Str(
                match name {
                    "ltrim" => v.trim_start_matches(is_trim),
                    "rtrim" => v.trim_end_matches(is_trim),
                    _ => v.trim_matches(is_trim),
                }
                .to_owned(),
            ))
        }
        "concat" => {
            let parts: Vec<String> = (0..args.len()).filter_map(s).collect();
            Some(Value::Str(parts.concat()))
        }
        "substr" => {
            let v = s(0)?;
            let start = n(1)?.max(0.0) as usize;
            let chars = v.chars().skip(start);
            Some(Value::Str(match n(2) {
                Some(len) => chars.take(len.max(0.0) as usize).collect(),
                None => chars.collect(),
            }))
        }
        "replace" => {
            let (v, find, with) = (s(0)?, s(1)?, s(2)?);
            if find.is_empty() {
                return Some(Value::Str(v));
            }
            Some(Value::Str(v.replace(&find, &with)))
        }
        "strcontains" => Some(Value::Bool(s(0)?.contains(&s(1)?))),
        "ispresent" => Some(Value::Bool(arg(0).is_some())),
        "isempty" => Some(Value::Bool(s(0).is_none_or(|v| v.is_empty()))),
        "isblank" => Some(Value::Bool(s(0).is_none_or(|v| v.trim().is_empty()))),
        "coalesce" => (0..args.len()).find_map(arg),
        "abs" => number(n(0)?.abs()),
        "ceil" => number(n(0)?.ceil()),
        "floor" => number(n(0)?.floor()),
        "sqrt" => number(n(0)?.sqrt()),
        "log" => number(n(0)?.ln()),
        "round" => {
            let x = n(0)?;
            let digits = n(1).unwrap_or(0.0).clamp(0.0, 15.0) as i32;
            let f = 10f64.powi(digits);
            number((x * f).round() / f)
        }
        "greatest" | "least" => {
            let vals = (0..args.len()).filter_map(n);
            let r = if name == "greatest" {
                vals.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
            } else {
                vals.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
            };
            r.and_then(number)
        }
        "bin" => {
            let period = n(0)? as i64;
            let t = time_of(row.get("@timestamp")?)?;
            (period > 0).then(|| Value::Time(floor_to(t, period)))
        }
        "datefloor" | "dateceil" => {
            let t = time_of(&arg(0)?)?;
            let period = n(1)? as i64;
            if period <= 0 {
                return None;
            }
            let f = floor_to(t, period);
            Some(Value::Time(if name == "dateceil" && f != t {
                f.saturating_add(period)
            } else {
                f
            }))
        }
        "frommillis" => Some(Value::Time(n(0)? as i64)),
        "tomillis" => Some(Value::Num(time_of(&arg(0)?)? as f64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::ast::Command;
    use crate::insights::parser::parse;

    fn filter(q: &str) -> Expr {
        match parse(&format!("filter {q}")).unwrap().commands.remove(0) {
            Command::Filter(e) => e,
            _ => unreachable!(),
        }
    }

    fn row() -> Row {
        let mut r = Row::default();
        r.set("@timestamp", Value::Time(1_700_000_123_456));
        r.set("@message", Value::Str("ERROR user=bob took 12ms".into()));
        r.set("status", Value::Num(500.0));
        r.set("path", Value::Str("/api/items".into()));
        r
    }

    fn check(q: &str) -> bool {
        let e = filter(q);
        let mut env = Env::default();
        env.learn(&e);
        holds(&env, &row(), &e)
    }

    #[test]
    fn filters_compare_match_and_combine() {
        assert!(check("status = 500"));
        assert!(check("status >= 400 and status < 600"));
        assert!(check("status in [404, 500]"));
        assert!(check("path not in ['/x']"));
        assert!(check("@message like 'ERROR'"));
        assert!(check("@message like /user=\\w+/"));
        assert!(check("@message =~ /took \\d+ms/"));
        assert!(check("@message not like /WARN/"));
        assert!(!check("missing = 1"));
        assert!(!check("missing != 1"));
        assert!(check("not ispresent(missing)"));
        assert!(check("strlen(path) = 10 and toupper(path) = '/API/ITEMS'"));
        assert!(check("status * 2 + 1 = 1001 and status % 7 = 3"));
        assert!(check(
            "substr(path, 1, 3) = 'api' and replace(path, 'items', 'x') = '/api/x'"
        ));
        assert!(check(
            "coalesce(missing, status) = 500 and greatest(1, status, 3) = 500"
        ));
        assert!(check(
            "strcontains(path, 'item') and isblank(missing) and not isempty(path)"
        ));
        assert!(check(
            "round(10 / 3, 2) = 3.33 and ceil(1.2) = 2 and abs(-3) = 3"
        ));
    }

    #[test]
    fn time_functions_round_timestamps() {
        let env = Env::default();
        let r = row();
        let v = eval(&env, &r, &filter("bin(1h)")).unwrap();
        assert_eq!(v, Value::Time(1_699_999_200_000));
        let v = eval(&env, &r, &filter("dateceil(@timestamp, 1m)")).unwrap();
        assert_eq!(v, Value::Time(1_700_000_160_000));
        let v = eval(&env, &r, &filter("tomillis(@timestamp)")).unwrap();
        assert_eq!(v, Value::Num(1_700_000_123_456.0));
    }
}
