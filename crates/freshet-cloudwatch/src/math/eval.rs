// SPDX-License-Identifier: Apache-2.0
//! The metric math evaluator: [`Expr`] over time series aligned by timestamp.
//!
//! Values are scalars, series (ascending timestamps), arrays of series (METRICS(), SEARCH,
//! `[a, b]`), strings and bare words (`REPEAT`). Series combine with series where both have
//! a datapoint; with scalars at every datapoint; arrays apply the operation to each member.
//! Non-finite results (division by zero, LOG of a negative) are dropped, as AWS drops them.
//!
//! Bounded: arrays hold at most [`MAX_ARRAY`] series, a grid (FILL, TIME_SERIES) at most
//! [`MAX_GRID`] points, and one evaluation creates at most [`MAX_POINTS`] datapoints in all;
//! beyond, the expression fails with a message instead of allocating.

use std::collections::{BTreeMap, HashMap};

use super::parse::{BinOp, Expr};
use crate::statistic::Statistic;

/// The most series in one array (AWS's SEARCH limit).
pub const MAX_ARRAY: usize = 500;
/// The most points of a generated grid (GetMetricData's MaxDatapoints).
pub const MAX_GRID: usize = 100_800;
/// The most datapoints one evaluation may create.
pub const MAX_POINTS: usize = 5_000_000;

/// One time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The label it is shown with.
    pub label: String,
    /// Its period in seconds.
    pub period_s: u32,
    /// `(epoch ms, value)`, timestamps ascending and unique.
    pub points: Vec<(i64, f64)>,
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Scalar(f64),
    /// One series.
    Series(Series),
    /// Several series.
    Array(Vec<Series>),
    /// A string literal.
    Str(String),
    /// A bare word that is not a query id.
    Word(String),
}

/// What an expression is evaluated against.
pub struct Env<'a> {
    /// Results of the queries by id (one series, or several for arrays).
    pub ids: &'a HashMap<String, Value>,
    /// The MetricStat queries' series, in query order, with their ids (for METRICS()).
    pub metrics: &'a [(String, Series)],
    /// Prefetched SEARCH results by (search text, stat, period).
    pub searches: &'a HashMap<(String, String, u32), Vec<Series>>,
    /// The range, epoch ms.
    pub start_ms: i64,
    /// Exclusive end.
    pub end_ms: i64,
    /// The period of generated series (the query's, else the finest metric period).
    pub period_s: u32,
    /// Datapoints created so far.
    pub created: usize,
}

type R<T> = Result<T, String>;

impl Env<'_> {
    fn count(&mut self, n: usize) -> R<()> {
        self.created = self.created.saturating_add(n);
        if self.created > MAX_POINTS {
            return Err(format!(
                "The expression creates more than {MAX_POINTS} datapoints"
            ));
        }
        Ok(())
    }

    fn series(&mut self, label: String, period_s: u32, points: Vec<(i64, f64)>) -> R<Series> {
        self.count(points.len())?;
        Ok(Series {
            label,
            period_s,
            points: points.into_iter().filter(|(_, v)| v.is_finite()).collect(),
        })
    }

    /// The timestamps `[start, end)` every `period_s`.
    fn grid(&mut self, period_s: u32) -> R<Vec<i64>> {
        let step = i64::from(period_s.max(1)) * 1000;
        let n = (self.end_ms - self.start_ms).max(0) / step;
        if n > MAX_GRID as i64 {
            return Err(format!(
                "The time range holds more than {MAX_GRID} periods of {period_s} seconds"
            ));
        }
        self.count(n as usize)?;
        Ok((0..n).map(|i| self.start_ms + i * step).collect())
    }
}

/// Evaluates `e`.
pub fn eval(e: &Expr, env: &mut Env<'_>) -> R<Value> {
    match e {
        Expr::Num(n) => Ok(Value::Scalar(*n)),
        Expr::Str(s) => Ok(Value::Str(s.clone())),
        Expr::Ident(name) => Ok(env
            .ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| Value::Word(name.clone()))),
        Expr::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match eval(item, env)? {
                    Value::Series(s) => out.push(s),
                    Value::Array(a) => out.extend(a),
                    other => {
                        return Err(format!(
                            "An array may hold only time series, not {}",
                            kind(&other)
                        ));
                    }
                }
                if out.len() > MAX_ARRAY {
                    return Err(format!("An array may hold at most {MAX_ARRAY} time series"));
                }
            }
            Ok(Value::Array(out))
        }
        Expr::Neg(a) => {
            let v = eval(a, env)?;
            map(v, env, |x| -x)
        }
        Expr::Not(a) => {
            let v = eval(a, env)?;
            map(v, env, |x| f64::from(u8::from(x == 0.0)))
        }
        Expr::Binary(op, a, b) => {
            let a = eval(a, env)?;
            let b = eval(b, env)?;
            binary(*op, a, b, env)
        }
        Expr::Call(name, args) => call(name, args, env),
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Scalar(_) => "a number".into(),
        Value::Series(_) => "a time series".into(),
        Value::Array(_) => "an array of time series".into(),
        Value::Str(_) => "a string".into(),
        Value::Word(w) => format!("the unknown identifier {w}"),
    }
}

fn apply(op: BinOp, x: f64, y: f64) -> f64 {
    let b = |c: bool| f64::from(u8::from(c));
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Pow => x.powf(y),
        BinOp::Eq => b(x == y),
        BinOp::Ne => b(x != y),
        BinOp::Lt => b(x < y),
        BinOp::Le => b(x <= y),
        BinOp::Gt => b(x > y),
        BinOp::Ge => b(x >= y),
        BinOp::And => b(x != 0.0 && y != 0.0),
        BinOp::Or => b(x != 0.0 || y != 0.0),
    }
}

/// Applies `f` to every number of `v`.
fn map(v: Value, env: &mut Env<'_>, f: impl Fn(f64) -> f64) -> R<Value> {
    match v {
        Value::Scalar(x) => Ok(Value::Scalar(f(x))),
        Value::Series(s) => {
            let points = s.points.iter().map(|(t, x)| (*t, f(*x))).collect();
            Ok(Value::Series(env.series(s.label, s.period_s, points)?))
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for s in a {
                let points = s.points.iter().map(|(t, x)| (*t, f(*x))).collect();
                out.push(env.series(s.label, s.period_s, points)?);
            }
            Ok(Value::Array(out))
        }
        other => Err(format!("Cannot compute with {}", kind(&other))),
    }
}

/// `a op b` where both have a datapoint.
fn join(op: BinOp, a: &Series, b: &Series, env: &mut Env<'_>) -> R<Series> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.points.len() && j < b.points.len() {
        let (ta, xa) = a.points[i];
        let (tb, xb) = b.points[j];
        if ta == tb {
            out.push((ta, apply(op, xa, xb)));
            i += 1;
            j += 1;
        } else if ta < tb {
            i += 1;
        } else {
            j += 1;
        }
    }
    env.series(a.label.clone(), a.period_s, out)
}

fn binary(op: BinOp, a: Value, b: Value, env: &mut Env<'_>) -> R<Value> {
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => Ok(Value::Scalar(apply(op, x, y))),
        (Value::Scalar(x), v) => map(v, env, |y| apply(op, x, y)),
        (v, Value::Scalar(y)) => map(v, env, |x| apply(op, x, y)),
        (Value::Series(a), Value::Series(b)) => Ok(Value::Series(join(op, &a, &b, env)?)),
        (Value::Array(a), Value::Series(b)) => {
            let mut out = Vec::with_capacity(a.len());
            for s in &a {
                out.push(join(op, s, &b, env)?);
            }
            Ok(Value::Array(out))
        }
        (Value::Series(a), Value::Array(b)) => {
            let mut out = Vec::with_capacity(b.len());
            for s in &b {
                let mut r = join(op, &a, s, env)?;
                r.label.clone_from(&s.label);
                out.push(r);
            }
            Ok(Value::Array(out))
        }
        (Value::Array(_), Value::Array(_)) => {
            Err("Two arrays of time series cannot be combined".into())
        }
        (a, b) => Err(format!("Cannot compute with {} and {}", kind(&a), kind(&b))),
    }
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> R<()> {
    if args.len() < min || args.len() > max {
        return Err(if min == max {
            format!("{name} takes {min} argument(s), not {}", args.len())
        } else {
            format!("{name} takes {min} to {max} arguments, not {}", args.len())
        });
    }
    Ok(())
}

/// Reduces numbers by an aggregate; `None` for no numbers.
fn aggregate(name: &str, xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let sum: f64 = xs.iter().sum();
    Some(match name {
        "SUM" => sum,
        "AVG" => sum / n,
        "MIN" => xs.iter().copied().fold(f64::INFINITY, f64::min),
        "MAX" => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "COUNT" => n,
        _ => {
            let mean = sum / n;
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
        }
    })
}

/// Applies a per-series transformation to a series or each series of an array.
fn each(v: Value, env: &mut Env<'_>, f: &dyn Fn(&Series) -> Vec<(i64, f64)>) -> R<Value> {
    match v {
        Value::Series(s) => {
            let p = f(&s);
            Ok(Value::Series(env.series(s.label, s.period_s, p)?))
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for s in a {
                let p = f(&s);
                out.push(env.series(s.label, s.period_s, p)?);
            }
            Ok(Value::Array(out))
        }
        other => Err(format!("Expected a time series, not {}", kind(&other))),
    }
}

fn array(v: Value, name: &str) -> R<Vec<Series>> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Series(s) => Ok(vec![s]),
        other => Err(format!(
            "{name} expects an array of time series, not {}",
            kind(&other)
        )),
    }
}

fn number(v: &Value, name: &str) -> R<f64> {
    match v {
        Value::Scalar(x) => Ok(*x),
        other => Err(format!("{name} expects a number, not {}", kind(other))),
    }
}

fn call(name: &str, args: &[Expr], env: &mut Env<'_>) -> R<Value> {
    match name {
        "SUM" | "AVG" | "MIN" | "MAX" | "STDDEV" => {
            arity(name, args, 1, 1)?;
            match eval(&args[0], env)? {
                Value::Scalar(x) => Ok(Value::Scalar(x)),
                Value::Series(s) => {
                    let xs: Vec<f64> = s.points.iter().map(|(_, x)| *x).collect();
                    Ok(Value::Scalar(aggregate(name, &xs).unwrap_or(f64::NAN)))
                }
                Value::Array(a) => {
                    let mut at: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                    for s in &a {
                        for (t, x) in &s.points {
                            at.entry(*t).or_default().push(*x);
                        }
                    }
                    let period = a.first().map_or(env.period_s, |s| s.period_s);
                    let points = at
                        .into_iter()
                        .filter_map(|(t, xs)| Some((t, aggregate(name, &xs)?)))
                        .collect();
                    Ok(Value::Series(env.series(String::new(), period, points)?))
                }
                other => Err(format!(
                    "{name} expects a time series, not {}",
                    kind(&other)
                )),
            }
        }
        "ABS" | "CEIL" | "FLOOR" | "LOG" | "LOG10" | "SQRT" => {
            arity(name, args, 1, 1)?;
            let v = eval(&args[0], env)?;
            let f: fn(f64) -> f64 = match name {
                "ABS" => f64::abs,
                "CEIL" => f64::ceil,
                "FLOOR" => f64::floor,
                "LOG" => f64::ln,
                "LOG10" => f64::log10,
                _ => f64::sqrt,
            };
            map(v, env, f)
        }
        "METRICS" => {
            arity(name, args, 0, 1)?;
            let filter = match args.first().map(|a| eval(a, env)).transpose()? {
                None => None,
                Some(Value::Str(s)) => Some(s),
                Some(other) => {
                    return Err(format!("METRICS expects a string, not {}", kind(&other)));
                }
            };
            let out: Vec<Series> = env
                .metrics
                .iter()
                .filter(|(id, s)| {
                    filter
                        .as_ref()
                        .is_none_or(|f| id.contains(f.as_str()) || s.label.contains(f.as_str()))
                })
                .map(|(_, s)| s.clone())
                .collect();
            env.count(out.iter().map(|s| s.points.len()).sum())?;
            Ok(Value::Array(out))
        }
        "RATE" | "DIFF" | "DIFF_TIME" => {
            arity(name, args, 1, 1)?;
            let v = eval(&args[0], env)?;
            let which = name.to_owned();
            each(v, env, &move |s: &Series| {
                s.points
                    .windows(2)
                    .map(|w| {
                        let secs = (w[1].0 - w[0].0) as f64 / 1000.0;
                        let diff = w[1].1 - w[0].1;
                        let v = match which.as_str() {
                            "RATE" => diff / secs,
                            "DIFF" => diff,
                            _ => secs,
                        };
                        (w[1].0, v)
                    })
                    .collect()
            })
        }
        "PERIOD" => {
            arity(name, args, 1, 1)?;
            match eval(&args[0], env)? {
                Value::Series(s) => Ok(Value::Scalar(f64::from(s.period_s))),
                Value::Array(a) => Ok(Value::Scalar(f64::from(
                    a.first().map_or(env.period_s, |s| s.period_s),
                ))),
                other => Err(format!(
                    "PERIOD expects a time series, not {}",
                    kind(&other)
                )),
            }
        }
        "TIME_SERIES" => {
            arity(name, args, 1, 1)?;
            let x = number(&eval(&args[0], env)?, name)?;
            let grid = env.grid(env.period_s)?;
            let points = grid.into_iter().map(|t| (t, x)).collect();
            Ok(Value::Series(env.series(
                String::new(),
                env.period_s,
                points,
            )?))
        }
        "FILL" => {
            arity(name, args, 2, 2)?;
            let v = eval(&args[0], env)?;
            let how = eval(&args[1], env)?;
            fill(v, &how, env)
        }
        "IF" => {
            arity(name, args, 2, 3)?;
            let cond = eval(&args[0], env)?;
            let a = eval(&args[1], env)?;
            let b = args.get(2).map(|e| eval(e, env)).transpose()?;
            if_(cond, a, b, env)
        }
        "FIRST" | "LAST" => {
            arity(name, args, 1, 1)?;
            let a = array(eval(&args[0], env)?, name)?;
            let s = if name == "FIRST" {
                a.into_iter().next()
            } else {
                a.into_iter().last()
            };
            s.map(Value::Series)
                .ok_or_else(|| format!("{name} of an empty array"))
        }
        "SORT" => {
            arity(name, args, 3, 4)?;
            let mut a = array(eval(&args[0], env)?, name)?;
            let by = match &args[1] {
                Expr::Ident(w) | Expr::Call(w, _) => w.to_ascii_uppercase(),
                _ => return Err("SORT expects SUM, AVG, MIN, MAX or STDDEV to sort by".into()),
            };
            if !["SUM", "AVG", "MIN", "MAX", "STDDEV"].contains(&by.as_str()) {
                return Err(format!("SORT cannot sort by {by}"));
            }
            let desc = match &args[2] {
                Expr::Ident(w) if w.eq_ignore_ascii_case("DESC") => true,
                Expr::Ident(w) if w.eq_ignore_ascii_case("ASC") => false,
                _ => return Err("SORT expects ASC or DESC".into()),
            };
            let key = |s: &Series| {
                let xs: Vec<f64> = s.points.iter().map(|(_, x)| *x).collect();
                aggregate(&by, &xs).unwrap_or(f64::NEG_INFINITY)
            };
            a.sort_by(|x, y| key(x).total_cmp(&key(y)));
            if desc {
                a.reverse();
            }
            if let Some(limit) = args.get(3) {
                let n = number(&eval(limit, env)?, name)?;
                a.truncate(n.max(0.0) as usize);
            }
            Ok(Value::Array(a))
        }
        "SLICE" => {
            arity(name, args, 3, 3)?;
            let a = array(eval(&args[0], env)?, name)?;
            let from = number(&eval(&args[1], env)?, name)?.max(0.0) as usize;
            let to = (number(&eval(&args[2], env)?, name)?.max(0.0) as usize).min(a.len());
            Ok(Value::Array(
                a.into_iter()
                    .skip(from)
                    .take(to.saturating_sub(from))
                    .collect(),
            ))
        }
        "SEARCH" => {
            arity(name, args, 3, 3)?;
            let text = match eval(&args[0], env)? {
                Value::Str(s) => s,
                other => {
                    return Err(format!(
                        "SEARCH expects a search string, not {}",
                        kind(&other)
                    ));
                }
            };
            let (stat, period) = search_args(&args[1..], env)?;
            let found = env
                .searches
                .get(&(text, stat.to_string(), period))
                .cloned()
                .unwrap_or_default();
            env.count(found.iter().map(|s| s.points.len()).sum())?;
            Ok(Value::Array(found))
        }
        _ => Err(format!("Unknown function {name}")),
    }
}

/// SEARCH's statistic and period arguments.
pub fn search_args(args: &[Expr], env: &mut Env<'_>) -> R<(Statistic, u32)> {
    let stat = match eval(&args[0], env)? {
        Value::Str(s) | Value::Word(s) => {
            Statistic::parse(&s).ok_or_else(|| format!("SEARCH: unknown statistic {s}"))?
        }
        other => return Err(format!("SEARCH expects a statistic, not {}", kind(&other))),
    };
    let period = number(&eval(&args[1], env)?, "SEARCH")?;
    if !(1.0..=f64::from(u32::MAX)).contains(&period) || period.fract() != 0.0 {
        return Err(format!("SEARCH: invalid period {period}"));
    }
    Ok((stat, period as u32))
}

fn fill(v: Value, how: &Value, env: &mut Env<'_>) -> R<Value> {
    let series = match v {
        Value::Series(s) => vec![s],
        Value::Array(a) => a,
        other => return Err(format!("FILL expects a time series, not {}", kind(&other))),
    };
    let single = series.len() == 1;
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let grid = env.grid(s.period_s)?;
        let have: BTreeMap<i64, f64> = s.points.iter().copied().collect();
        let points: Vec<(i64, f64)> = grid
            .iter()
            .filter_map(|t| {
                if let Some(x) = have.get(t) {
                    return Some((*t, *x));
                }
                let before = have.range(..*t).next_back();
                let after = have.range(*t..).next();
                let x = match how {
                    Value::Scalar(x) => Some(*x),
                    Value::Word(w) if w.eq_ignore_ascii_case("REPEAT") => {
                        before.or(after).map(|(_, x)| *x)
                    }
                    Value::Word(w) if w.eq_ignore_ascii_case("LINEAR") => match (before, after) {
                        (Some((t0, x0)), Some((t1, x1))) => {
                            Some(x0 + (x1 - x0) * ((*t - t0) as f64 / (t1 - t0) as f64))
                        }
                        (Some((_, x)), None) | (None, Some((_, x))) => Some(*x),
                        (None, None) => None,
                    },
                    _ => None,
                };
                x.map(|x| (*t, x))
            })
            .collect();
        out.push(env.series(s.label, s.period_s, points)?);
    }
    match how {
        Value::Scalar(_) => {}
        Value::Word(w) if w.eq_ignore_ascii_case("REPEAT") || w.eq_ignore_ascii_case("LINEAR") => {}
        other => {
            return Err(format!(
                "FILL expects a number, REPEAT or LINEAR, not {}",
                kind(other)
            ));
        }
    }
    Ok(if single {
        out.into_iter()
            .next()
            .map_or(Value::Array(Vec::new()), Value::Series)
    } else {
        Value::Array(out)
    })
}

fn at(v: &Value, t: i64) -> Option<f64> {
    match v {
        Value::Scalar(x) => Some(*x),
        Value::Series(s) => s
            .points
            .binary_search_by_key(&t, |(ts, _)| *ts)
            .ok()
            .map(|i| s.points[i].1),
        _ => None,
    }
}

fn if_(cond: Value, a: Value, b: Option<Value>, env: &mut Env<'_>) -> R<Value> {
    for v in [Some(&a), b.as_ref()].into_iter().flatten() {
        if !matches!(v, Value::Scalar(_) | Value::Series(_)) {
            return Err(format!(
                "IF expects numbers or time series, not {}",
                kind(v)
            ));
        }
    }
    match cond {
        Value::Scalar(c) => Ok(if c != 0.0 {
            a
        } else {
            b.unwrap_or(Value::Series(Series {
                label: String::new(),
                period_s: env.period_s,
                points: Vec::new(),
            }))
        }),
        Value::Series(c) => {
            let points = c
                .points
                .iter()
                .filter_map(|(t, x)| {
                    let v = if *x != 0.0 {
                        at(&a, *t)
                    } else {
                        b.as_ref().and_then(|b| at(b, *t))
                    };
                    v.map(|v| (*t, v))
                })
                .collect();
            Ok(Value::Series(env.series(c.label, c.period_s, points)?))
        }
        other => Err(format!(
            "IF expects a condition time series, not {}",
            kind(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::parse::parse;

    fn s(label: &str, points: &[(i64, f64)]) -> Series {
        Series {
            label: label.into(),
            period_s: 60,
            points: points.to_vec(),
        }
    }

    fn run(text: &str) -> R<Value> {
        let m1 = s("one", &[(0, 1.0), (60_000, 2.0), (180_000, 4.0)]);
        let m2 = s("two", &[(0, 10.0), (60_000, 20.0), (120_000, 30.0)]);
        let ids: HashMap<String, Value> = [
            ("m1".to_owned(), Value::Series(m1.clone())),
            ("m2".to_owned(), Value::Series(m2.clone())),
        ]
        .into();
        let metrics = vec![("m1".to_owned(), m1), ("m2".to_owned(), m2)];
        let searches = HashMap::new();
        let mut env = Env {
            ids: &ids,
            metrics: &metrics,
            searches: &searches,
            start_ms: 0,
            end_ms: 240_000,
            period_s: 60,
            created: 0,
        };
        eval(&parse(text).map_err(|e| e.0)?, &mut env)
    }

    fn points(v: R<Value>) -> Vec<(i64, f64)> {
        match v.expect("evaluates") {
            Value::Series(s) => s.points,
            other => panic!("not a series: {other:?}"),
        }
    }

    #[test]
    fn arithmetic_aligns_series_by_timestamp() {
        assert_eq!(points(run("m1 + m2")), vec![(0, 11.0), (60_000, 22.0)]);
        assert_eq!(
            points(run("m1 * 2 - 1")),
            vec![(0, 1.0), (60_000, 3.0), (180_000, 7.0)]
        );
        assert_eq!(points(run("m1 / 0")), vec![]);
        assert_eq!(run("2 ^ 3 ^ 2"), Ok(Value::Scalar(512.0)));
    }

    #[test]
    fn aggregates_are_per_timestamp_over_arrays_and_scalar_over_a_series() {
        assert_eq!(
            points(run("SUM([m1, m2])")),
            vec![(0, 11.0), (60_000, 22.0), (120_000, 30.0), (180_000, 4.0)]
        );
        assert_eq!(points(run("MAX(METRICS())"))[0], (0, 10.0));
        assert_eq!(run("AVG(m1)"), Ok(Value::Scalar(7.0 / 3.0)));
        assert_eq!(
            points(run("SUM(METRICS(\"two\"))")),
            vec![(0, 10.0), (60_000, 20.0), (120_000, 30.0)]
        );
        assert_eq!(points(run("m1 - AVG(m1)")).len(), 3);
        assert_eq!(
            run("STDDEV(m2)"),
            Ok(Value::Scalar((200.0f64 / 3.0).sqrt()))
        );
    }

    #[test]
    fn rates_and_differences_use_neighbouring_points() {
        assert_eq!(points(run("DIFF(m1)")), vec![(60_000, 1.0), (180_000, 2.0)]);
        assert_eq!(
            points(run("RATE(m1)")),
            vec![(60_000, 1.0 / 60.0), (180_000, 2.0 / 120.0)]
        );
        assert_eq!(
            points(run("DIFF_TIME(m1)")),
            vec![(60_000, 60.0), (180_000, 120.0)]
        );
        assert_eq!(run("PERIOD(m1)"), Ok(Value::Scalar(60.0)));
    }

    #[test]
    fn fill_completes_the_grid() {
        assert_eq!(
            points(run("FILL(m1, 0)")),
            vec![(0, 1.0), (60_000, 2.0), (120_000, 0.0), (180_000, 4.0)]
        );
        assert_eq!(points(run("FILL(m1, REPEAT)"))[2], (120_000, 2.0));
        assert_eq!(points(run("FILL(m1, LINEAR)"))[2], (120_000, 3.0));
        assert!(run("FILL(m1, 'x')").is_err());
    }

    #[test]
    fn if_picks_per_timestamp() {
        assert_eq!(
            points(run("IF(m1 > 1, m2, 0)")),
            vec![(0, 0.0), (60_000, 20.0)]
        );
        assert_eq!(
            points(run("IF(m1 >= 2 AND m1 < 4, 1)")),
            vec![(60_000, 1.0)]
        );
    }

    #[test]
    fn functions_apply_to_every_point() {
        assert_eq!(points(run("ABS(-m1)"))[0], (0, 1.0));
        assert_eq!(points(run("SQRT(m1)"))[2], (180_000, 2.0));
        assert_eq!(points(run("TIME_SERIES(5)")).len(), 4);
        assert_eq!(
            points(run("FIRST(SORT(METRICS(), MAX, DESC))"))[0],
            (0, 10.0)
        );
        assert!(
            matches!(run("SLICE(METRICS(), 1, 2)"), Ok(Value::Array(a)) if a.len() == 1 && a[0].label == "two")
        );
    }

    #[test]
    fn unknown_functions_and_identifiers_are_errors() {
        assert_eq!(run("FOO(m1)"), Err("Unknown function FOO".into()));
        assert!(run("m9 + 1").is_err());
        assert!(run("[m1, 2]").is_err());
        assert!(run("METRICS() + METRICS()").is_err());
        assert!(run("SUM(m1, m2)").is_err());
    }
}
