// SPDX-License-Identifier: Apache-2.0
//! Running a parsed query over rows with bounded memory.
//!
//! The commands before the first "barrier" (`stats`, `sort`, `limit`, `dedup`) run on each
//! event as it is read; the barrier keeps a bounded state: `sort` a top-k (k = the `limit`
//! that follows, else the query's limit), `limit n` the newest n events, `dedup` at most
//! [`MAX_ROWS`] rows, `stats` at most [`MAX_STATS_GROUPS`] groups. A query with no barrier
//! keeps the newest `limit` events (by `@timestamp`, newest first).
//! The commands after the barrier run on that bounded set when results are asked for, which
//! is also how partial results are produced while the scan runs.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::ast::{Command, Expr, Named, ParsePattern, Query, SortKey};
use super::eval::{Env, Row, eval, holds};
use super::parser::is_aggregate;
use super::value::{Value, compare, compare_values};

/// Most rows any intermediate step keeps (`dedup`, a `sort` followed by a `filter`).
pub const MAX_ROWS: usize = 100_000;
/// Most groups one `stats` keeps; rows of further groups are not counted.
pub const MAX_STATS_GROUPS: usize = 100_000;
/// Most distinct values `count_distinct` tracks per group (beyond it, a lower bound).
pub const MAX_DISTINCT: usize = 100_000;
/// Most values `pct` keeps per group before it halves its sample.
const MAX_PCT_SAMPLES: usize = 65_536;

/// A compiled query.
#[derive(Debug, Clone)]
pub struct Plan {
    env: Env,
    parsers: HashMap<usize, (Regex, Vec<String>)>,
    commands: Vec<Command>,
    barrier: usize,
    sink: Sink,
    limit: usize,
    seq: u64,
    /// Rows that reached the barrier (recordsMatched).
    pub matched: u64,
    columns: Option<Vec<String>>,
    with_ptr: bool,
}

#[derive(Debug, Clone)]
enum Sink {
    Top {
        keys: Vec<SortKey>,
        k: usize,
        rows: Vec<(Vec<Option<Value>>, u64, Row)>,
    },
    Dedup {
        fields: Vec<String>,
        seen: HashSet<Vec<String>>,
        rows: Vec<Row>,
    },
    Stats(Box<Aggregator>),
}

fn glob_regex(glob: &str) -> Option<Regex> {
    let parts: Vec<&str> = glob.split('*').collect();
    let mut re = String::from("(?s)");
    for (i, p) in parts.iter().enumerate() {
        re.push_str(&regex::escape(p));
        if i + 1 < parts.len() {
            re.push_str(if i + 2 == parts.len() && parts[i + 1].is_empty() {
                "(.*)"
            } else {
                "(.*?)"
            });
        }
    }
    Regex::new(&re).ok()
}

fn newest_first() -> Vec<SortKey> {
    vec![SortKey {
        expr: Expr::Field("@timestamp".to_owned()),
        desc: true,
    }]
}

fn is_barrier(c: &Command) -> bool {
    matches!(
        c,
        Command::Stats { .. } | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_)
    )
}

/// How many rows a `sort` at `at` must keep for the commands after it.
fn keep_after(commands: &[Command], at: usize, limit: usize) -> usize {
    for c in &commands[at + 1..] {
        match c {
            Command::Fields(_) | Command::Display(_) | Command::Parse { .. } => {}
            Command::Limit(n) => return (*n as usize).min(limit),
            Command::Sort(_) => return limit,
            Command::Filter(_) | Command::Stats { .. } | Command::Dedup(_) => return MAX_ROWS,
        }
    }
    limit
}

impl Plan {
    /// Compiles a query that returns at most `limit` rows.
    pub fn new(q: &Query, limit: usize) -> Plan {
        let commands = q.commands.clone();
        let mut env = Env::default();
        let mut parsers = HashMap::new();
        for (i, c) in commands.iter().enumerate() {
            match c {
                Command::Fields(items) | Command::Display(items) => {
                    items.iter().for_each(|n| env.learn(&n.expr));
                }
                Command::Filter(e) => env.learn(e),
                Command::Stats { aggs, by } => {
                    aggs.iter().chain(by).for_each(|n| env.learn(&n.expr));
                }
                Command::Sort(keys) => keys.iter().for_each(|k| env.learn(&k.expr)),
                Command::Parse { pattern, .. } => {
                    let compiled = match pattern {
                        ParsePattern::Glob(g, names) => glob_regex(g).map(|r| (r, names.clone())),
                        ParsePattern::Regex(r) => Regex::new(r).ok().map(|re| {
                            let names = re.capture_names().flatten().map(str::to_owned).collect();
                            (re, names)
                        }),
                    };
                    if let Some(c) = compiled {
                        parsers.insert(i, c);
                    }
                }
                Command::Limit(_) | Command::Dedup(_) => {}
            }
        }
        let barrier = commands
            .iter()
            .position(is_barrier)
            .unwrap_or(commands.len());
        let limit = limit.clamp(1, MAX_ROWS);
        let sink = match commands.get(barrier) {
            Some(Command::Sort(keys)) => Sink::Top {
                keys: keys.clone(),
                k: keep_after(&commands, barrier, limit),
                rows: Vec::new(),
            },
            // Without a sort, `limit n` keeps the newest n events, as a query without a
            // barrier does.
            Some(Command::Limit(n)) => Sink::Top {
                keys: newest_first(),
                k: (*n as usize).min(limit),
                rows: Vec::new(),
            },
            Some(Command::Dedup(fields)) => Sink::Dedup {
                fields: fields.clone(),
                seen: HashSet::new(),
                rows: Vec::new(),
            },
            Some(Command::Stats { aggs, by }) => Sink::Stats(Box::new(Aggregator::new(aggs, by))),
            _ => Sink::Top {
                keys: newest_first(),
                k: limit,
                rows: Vec::new(),
            },
        };
        let (columns, with_ptr) = columns_of(&commands);
        Plan {
            env,
            parsers,
            commands,
            barrier,
            sink,
            limit,
            seq: 0,
            matched: 0,
            columns,
            with_ptr,
        }
    }

    /// Feeds one event's row.
    pub fn feed(&mut self, mut row: Row) {
        for i in 0..self.barrier {
            if !self.apply_row(i, &mut row) {
                return;
            }
        }
        self.matched += 1;
        self.seq += 1;
        let seq = self.seq;
        let env = &self.env;
        match &mut self.sink {
            Sink::Top { keys, k, rows } => {
                let key = keys.iter().map(|s| eval(env, &row, &s.expr)).collect();
                rows.push((key, seq, row));
                if rows.len() >= k.saturating_mul(2).max(64) {
                    sort_top(rows, keys);
                    rows.truncate(*k);
                }
            }
            Sink::Dedup { fields, seen, rows } => {
                if rows.len() < MAX_ROWS {
                    let key: Vec<String> = fields
                        .iter()
                        .map(|f| row.get(f).map_or_else(String::new, Value::render))
                        .collect();
                    if seen.insert(key) {
                        rows.push(row);
                    }
                }
            }
            Sink::Stats(agg) => agg.add(env, &row),
        }
    }

    /// Applies a row-wise command; false drops the row.
    fn apply_row(&self, i: usize, row: &mut Row) -> bool {
        match &self.commands[i] {
            Command::Fields(items) | Command::Display(items) => {
                for n in items {
                    if let Expr::Field(f) = &n.expr
                        && *f == n.name
                    {
                        continue;
                    }
                    match eval(&self.env, row, &n.expr) {
                        Some(v) => row.set(&n.name, v),
                        None => row.fields.retain(|(k, _)| *k != n.name),
                    }
                }
                true
            }
            Command::Filter(e) => holds(&self.env, row, e),
            Command::Parse { field, .. } => {
                if let Some((re, names)) = self.parsers.get(&i) {
                    let subject = row.get(field).map(Value::text);
                    if let Some(caps) = subject.as_deref().and_then(|s| re.captures(s)) {
                        let values: Vec<(String, String)> = match &self.commands[i] {
                            Command::Parse {
                                pattern: ParsePattern::Glob(..),
                                ..
                            } => names
                                .iter()
                                .enumerate()
                                .filter_map(|(j, n)| {
                                    Some((n.clone(), caps.get(j + 1)?.as_str().to_owned()))
                                })
                                .collect(),
                            _ => names
                                .iter()
                                .filter_map(|n| {
                                    Some((n.clone(), caps.name(n)?.as_str().to_owned()))
                                })
                                .collect(),
                        };
                        for (n, v) in values {
                            row.set(&n, Value::Str(v));
                        }
                    }
                }
                true
            }
            Command::Stats { .. } | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_) => {
                true
            }
        }
    }

    /// The result rows so far (all of them once every event was fed), as (field, value)
    /// pairs in the order GetQueryResults shows them.
    pub fn results(&self) -> Vec<Vec<(String, String)>> {
        let mut rows = match &self.sink {
            Sink::Top { keys, k, rows } => {
                let mut rows = rows.clone();
                sort_top(&mut rows, keys);
                rows.truncate(*k);
                rows.into_iter().map(|(_, _, r)| r).collect()
            }
            Sink::Dedup { rows, .. } => rows.clone(),
            Sink::Stats(agg) => agg.rows(),
        };
        for i in self.barrier + 1..self.commands.len() {
            rows = self.apply_all(i, rows);
        }
        rows.truncate(self.limit);
        rows.iter().map(|r| self.render(r)).collect()
    }

    fn apply_all(&self, i: usize, mut rows: Vec<Row>) -> Vec<Row> {
        match &self.commands[i] {
            Command::Stats { aggs, by } => {
                let mut agg = Aggregator::new(aggs, by);
                rows.iter().for_each(|r| agg.add(&self.env, r));
                agg.rows()
            }
            Command::Sort(keys) => {
                let mut keyed: Vec<(Vec<Option<Value>>, u64, Row)> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(j, r)| {
                        let k = keys.iter().map(|s| eval(&self.env, &r, &s.expr)).collect();
                        (k, j as u64, r)
                    })
                    .collect();
                sort_top(&mut keyed, keys);
                keyed.into_iter().map(|(_, _, r)| r).collect()
            }
            Command::Limit(n) => {
                rows.truncate(*n as usize);
                rows
            }
            Command::Dedup(fields) => {
                let mut seen = HashSet::new();
                rows.retain(|row| {
                    seen.insert(
                        fields
                            .iter()
                            .map(|f| row.get(f).map_or_else(String::new, Value::render))
                            .collect::<Vec<_>>(),
                    )
                });
                rows
            }
            _ => rows
                .into_iter()
                .filter_map(|mut r| self.apply_row(i, &mut r).then_some(r))
                .collect(),
        }
    }

    fn render(&self, row: &Row) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = match &self.columns {
            Some(cols) => cols
                .iter()
                .filter_map(|c| Some((c.clone(), row.get(c)?.render())))
                .collect(),
            None => row
                .fields
                .iter()
                .filter(|(n, _)| n != "@ptr")
                .map(|(n, v)| (n.clone(), v.render()))
                .collect(),
        };
        if self.with_ptr
            && let Some(p) = row.get("@ptr")
        {
            out.push(("@ptr".to_owned(), p.render()));
        }
        out
    }
}

/// The columns results show (`None`: every field of the row) and whether `@ptr` follows:
/// the fields `fields` names (`parse` results only when no `fields` picks), `stats`'s
/// columns, or `display`'s.
fn columns_of(commands: &[Command]) -> (Option<Vec<String>>, bool) {
    let mut cols: Option<Vec<String>> = None;
    let mut with_ptr = true;
    let add = |cols: &mut Vec<String>, name: &str| {
        if !cols.iter().any(|c| c == name) {
            cols.push(name.to_owned());
        }
    };
    for c in commands {
        match c {
            Command::Fields(items) => {
                let list = cols.get_or_insert_with(Vec::new);
                items.iter().for_each(|n| add(list, &n.name));
            }
            Command::Stats { aggs, by } => {
                let mut list = Vec::new();
                by.iter().chain(aggs).for_each(|n| add(&mut list, &n.name));
                cols = Some(list);
                with_ptr = false;
            }
            Command::Display(items) => {
                let mut list = Vec::new();
                items.iter().for_each(|n| add(&mut list, &n.name));
                cols = Some(list);
            }
            Command::Filter(_)
            | Command::Parse { .. }
            | Command::Sort(_)
            | Command::Limit(_)
            | Command::Dedup(_) => {}
        }
    }
    (cols, with_ptr)
}

fn sort_top(rows: &mut [(Vec<Option<Value>>, u64, Row)], keys: &[SortKey]) {
    rows.sort_by(|a, b| {
        for (i, k) in keys.iter().enumerate() {
            let o = compare(a.0[i].as_ref(), b.0[i].as_ref());
            let o = if k.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.1.cmp(&b.1)
    });
}

/// One aggregation's running state.
#[derive(Debug, Clone)]
enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum(Option<f64>),
    Avg(f64, u64),
    Min(Option<Value>),
    Max(Option<Value>),
    Earliest(Option<(i64, u64, Value)>),
    Latest(Option<(i64, u64, Value)>),
    Pct(Vec<f64>, u64, f64),
    Stddev(u64, f64, f64),
}

/// `stats`: groups by the `by` values, with one accumulator per aggregation call.
#[derive(Debug, Clone)]
struct Aggregator {
    aggs: Vec<Named>,
    by: Vec<Named>,
    /// Aggregation calls (name, argument) in the order [`rewrite`] numbered them.
    calls: Vec<(String, Vec<Expr>)>,
    /// The aggregation expressions with each call replaced by a synthetic field.
    rewritten: Vec<Expr>,
    index: HashMap<Vec<String>, usize>,
    groups: Vec<(Vec<Option<Value>>, Vec<Acc>)>,
    seq: u64,
}

fn synthetic(i: usize) -> String {
    format!("\u{0}agg{i}")
}

fn rewrite(e: &Expr, calls: &mut Vec<(String, Vec<Expr>)>) -> Expr {
    match e {
        Expr::Call(name, args) if is_aggregate(name) => {
            calls.push((name.clone(), args.clone()));
            Expr::Field(synthetic(calls.len() - 1))
        }
        Expr::Call(name, args) => Expr::Call(
            name.clone(),
            args.iter().map(|a| rewrite(a, calls)).collect(),
        ),
        Expr::Not(x) => Expr::Not(Box::new(rewrite(x, calls))),
        Expr::Neg(x) => Expr::Neg(Box::new(rewrite(x, calls))),
        Expr::Bin(op, a, b) => Expr::Bin(
            *op,
            Box::new(rewrite(a, calls)),
            Box::new(rewrite(b, calls)),
        ),
        other => other.clone(),
    }
}

impl Aggregator {
    fn new(aggs: &[Named], by: &[Named]) -> Aggregator {
        let mut calls = Vec::new();
        let rewritten = aggs.iter().map(|a| rewrite(&a.expr, &mut calls)).collect();
        Aggregator {
            aggs: aggs.to_vec(),
            by: by.to_vec(),
            calls,
            rewritten,
            index: HashMap::new(),
            groups: Vec::new(),
            seq: 0,
        }
    }

    fn fresh(&self, env: &Env, row: &Row) -> Vec<Acc> {
        self.calls
            .iter()
            .map(|(name, args)| match name.as_str() {
                "count" => Acc::Count(0),
                "count_distinct" => Acc::Distinct(HashSet::new()),
                "sum" => Acc::Sum(None),
                "avg" => Acc::Avg(0.0, 0),
                "min" => Acc::Min(None),
                "max" => Acc::Max(None),
                "earliest" => Acc::Earliest(None),
                "latest" => Acc::Latest(None),
                "pct" => {
                    let p = args
                        .get(1)
                        .and_then(|e| eval(env, row, e))
                        .and_then(|v| v.as_num())
                        .unwrap_or(50.0)
                        .clamp(0.0, 100.0);
                    Acc::Pct(Vec::new(), 1, p)
                }
                _ => Acc::Stddev(0, 0.0, 0.0),
            })
            .collect()
    }

    fn add(&mut self, env: &Env, row: &Row) {
        self.seq += 1;
        let seq = self.seq;
        let keys: Vec<Option<Value>> = self.by.iter().map(|b| eval(env, row, &b.expr)).collect();
        let text: Vec<String> = keys
            .iter()
            .map(|k| match k {
                None => "\u{0}".to_owned(),
                Some(Value::Str(s)) => format!("s{s}"),
                Some(v) => format!("n{}", v.render()),
            })
            .collect();
        let at = match self.index.get(&text) {
            Some(&i) => i,
            None => {
                if self.groups.len() >= MAX_STATS_GROUPS {
                    return;
                }
                let accs = self.fresh(env, row);
                self.groups.push((keys, accs));
                self.index.insert(text, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let ts = row
            .get("@timestamp")
            .and_then(|v| match v {
                Value::Time(t) => Some(*t),
                _ => None,
            })
            .unwrap_or(0);
        let (_, accs) = &mut self.groups[at];
        for (acc, (_, args)) in accs.iter_mut().zip(&self.calls) {
            let arg = args.first();
            let v = match arg {
                None | Some(Expr::Star) => None,
                Some(e) => eval(env, row, e),
            };
            match acc {
                Acc::Count(n) => {
                    if matches!(arg, None | Some(Expr::Star)) || v.is_some() {
                        *n += 1;
                    }
                }
                Acc::Distinct(set) => {
                    if let Some(v) = v
                        && set.len() < MAX_DISTINCT
                    {
                        set.insert(v.render());
                    }
                }
                Acc::Sum(s) => {
                    if let Some(x) = v.and_then(|v| v.as_num()) {
                        *s = Some(s.unwrap_or(0.0) + x);
                    }
                }
                Acc::Avg(s, n) => {
                    if let Some(x) = v.and_then(|v| v.as_num()) {
                        *s += x;
                        *n += 1;
                    }
                }
                Acc::Min(slot) => {
                    if let Some(v) = v
                        && slot
                            .as_ref()
                            .is_none_or(|cur| compare_values(&v, cur) == Ordering::Less)
                    {
                        *slot = Some(v);
                    }
                }
                Acc::Max(slot) => {
                    if let Some(v) = v
                        && slot
                            .as_ref()
                            .is_none_or(|cur| compare_values(&v, cur) == Ordering::Greater)
                    {
                        *slot = Some(v);
                    }
                }
                Acc::Earliest(e) => {
                    if let Some(v) = v
                        && e.as_ref().is_none_or(|(t, s, _)| (ts, seq) < (*t, *s))
                    {
                        *e = Some((ts, seq, v));
                    }
                }
                Acc::Latest(l) => {
                    if let Some(v) = v
                        && l.as_ref().is_none_or(|(t, s, _)| (ts, seq) > (*t, *s))
                    {
                        *l = Some((ts, seq, v));
                    }
                }
                Acc::Pct(values, stride, _) => {
                    if let Some(x) = v.and_then(|v| v.as_num()) {
                        if seq.is_multiple_of(*stride) {
                            values.push(x);
                        }
                        if values.len() >= MAX_PCT_SAMPLES {
                            let kept: Vec<f64> = values.iter().step_by(2).copied().collect();
                            *values = kept;
                            *stride = stride.saturating_mul(2);
                        }
                    }
                }
                Acc::Stddev(n, mean, m2) => {
                    if let Some(x) = v.and_then(|v| v.as_num()) {
                        *n += 1;
                        let d = x - *mean;
                        *mean += d / *n as f64;
                        *m2 += d * (x - *mean);
                    }
                }
            }
        }
    }

    fn rows(&self) -> Vec<Row> {
        let env = Env::default();
        self.groups
            .iter()
            .map(|(keys, accs)| {
                let mut scratch = Row::default();
                for (i, acc) in accs.iter().enumerate() {
                    if let Some(v) = finish(acc) {
                        scratch.set(&synthetic(i), v);
                    }
                }
                let mut row = Row::default();
                for (b, k) in self.by.iter().zip(keys) {
                    if let Some(k) = k {
                        row.set(&b.name, k.clone());
                    }
                }
                for (a, e) in self.aggs.iter().zip(&self.rewritten) {
                    if let Some(v) = eval(&env, &scratch, e) {
                        row.set(&a.name, v);
                    }
                }
                row
            })
            .collect()
    }
}

fn finish(acc: &Acc) -> Option<Value> {
    match acc {
        Acc::Count(n) => Some(Value::Num(*n as f64)),
        Acc::Distinct(set) => Some(Value::Num(set.len() as f64)),
        Acc::Sum(s) => s.map(Value::Num),
        Acc::Avg(s, n) => (*n > 0).then(|| Value::Num(s / *n as f64)),
        Acc::Min(v) | Acc::Max(v) => v.clone(),
        Acc::Earliest(e) | Acc::Latest(e) => e.as_ref().map(|(_, _, v)| v.clone()),
        Acc::Pct(values, _, p) => {
            if values.is_empty() {
                return None;
            }
            let mut v = values.clone();
            v.sort_by(f64::total_cmp);
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            Some(Value::Num(v[rank.clamp(1, v.len()) - 1]))
        }
        Acc::Stddev(n, _, m2) => (*n > 0).then(|| {
            let var = if *n > 1 { m2 / (*n - 1) as f64 } else { 0.0 };
            Value::Num(var.sqrt())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::parser::parse;
    use crate::insights::record::{EventRef, row_of};

    fn run(q: &str, messages: &[(i64, &str)]) -> Vec<Vec<(String, String)>> {
        let mut plan = Plan::new(&parse(q).unwrap(), 10_000);
        for (i, (ts, m)) in messages.iter().enumerate() {
            plan.feed(row_of(&EventRef {
                account: "000000000000",
                group: "g",
                group_id: 1,
                stream: "s",
                offset: i as u64,
                timestamp_ms: *ts,
                ingestion_ms: *ts,
                message: m,
            }));
        }
        plan.results()
    }

    fn column(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    const EVENTS: &[(i64, &str)] = &[
        (1_000, r#"{"level":"INFO","ms":10,"user":"ann"}"#),
        (2_000, r#"{"level":"ERROR","ms":30,"user":"bob"}"#),
        (3_000, r#"{"level":"INFO","ms":20,"user":"bob"}"#),
        (301_000, r#"{"level":"ERROR","ms":50,"user":"cat"}"#),
    ];

    #[test]
    fn without_sort_the_newest_events_come_first_with_their_ptr() {
        let rows = run("fields @timestamp, level", EVENTS);
        assert_eq!(column(&rows, "level"), ["ERROR", "INFO", "ERROR", "INFO"]);
        assert_eq!(
            rows[0][0],
            ("@timestamp".into(), "1970-01-01 00:05:01.000".into())
        );
        assert_eq!(rows[0].len(), 3);
        assert_eq!(rows[0][2].0, "@ptr");
    }

    #[test]
    fn stats_group_by_fields_and_bins() {
        let rows = run(
            "stats count(*) as n, avg(ms), sum(ms) / count(*) as mean2, max(ms), min(user), pct(ms, 50), count_distinct(user) by level | sort level",
            EVENTS,
        );
        assert_eq!(
            rows[0],
            vec![
                ("level".into(), "ERROR".into()),
                ("n".into(), "2".into()),
                ("avg(ms)".into(), "40".into()),
                ("mean2".into(), "40".into()),
                ("max(ms)".into(), "50".into()),
                ("min(user)".into(), "bob".into()),
                ("pct(ms, 50)".into(), "30".into()),
                ("count_distinct(user)".into(), "2".into()),
            ]
        );
        let rows = run("stats count(*) by bin(5m)", EVENTS);
        assert_eq!(
            column(&rows, "bin(5m)"),
            ["1970-01-01 00:00:00.000", "1970-01-01 00:05:00.000"]
        );
        assert_eq!(column(&rows, "count(*)"), ["3", "1"]);
    }

    #[test]
    fn sort_limit_keeps_the_top_rows() {
        let rows = run(
            "filter level = 'INFO' or ms > 40 | sort ms desc | limit 2",
            EVENTS,
        );
        assert_eq!(column(&rows, "ms"), ["50", "20"]);
        let mut many = Vec::new();
        let msgs: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"v":{}}}"#, (i * 7919) % 1000))
            .collect();
        for (i, m) in msgs.iter().enumerate() {
            many.push((i as i64, m.as_str()));
        }
        let rows = run("sort v asc | limit 3 | fields v", &many);
        assert_eq!(column(&rows, "v"), ["0", "1", "2"]);
    }

    #[test]
    fn parse_extracts_fields_by_glob_and_regex() {
        let ev = &[(1, "user=ann took 12ms"), (2, "no match here")];
        let rows = run(
            "parse @message 'user=* took *ms' as user, took | filter ispresent(user) | fields user, took * 2 as twice",
            ev,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0][..3],
            [
                ("user".into(), "ann".into()),
                ("twice".into(), "24".into()),
                ("@ptr".into(), "AAAAAAAAAAEAAAAAAAAAAA==".into()),
            ]
        );
        let rows = run(
            "parse @message /user=(?<who>\\w+)/ | stats count(*) by who",
            ev,
        );
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn dedup_display_and_limit_work_together() {
        let rows = run("sort @timestamp asc | dedup user | display user", EVENTS);
        assert_eq!(column(&rows, "user"), ["ann", "bob", "cat"]);
        assert!(rows.iter().all(|r| r.len() == 2));
        let rows = run("limit 1 | fields user", EVENTS);
        assert_eq!(column(&rows, "user"), ["cat"]);
    }

    #[test]
    fn earliest_latest_and_stddev() {
        let rows = run("stats earliest(user), latest(user), stddev(ms)", EVENTS);
        assert_eq!(column(&rows, "earliest(user)"), ["ann"]);
        assert_eq!(column(&rows, "latest(user)"), ["cat"]);
        assert!(column(&rows, "stddev(ms)")[0].starts_with("17.07"));
    }
}
