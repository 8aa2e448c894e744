// SPDX-License-Identifier: Apache-2.0
//! Metric math: the `Expression`s of GetMetricData, metric alarms and dashboard widgets.
//!
//! [`evaluate`] is the entry point: it reads every `MetricStat` query from the store and
//! evaluates every expression over the results, returning one [`SeriesResult`] per query
//! (whether or not it has `ReturnData`), in the order given; an expression that yields several
//! series (SEARCH, METRICS()) gives one result per series, all with its id.
//!
//! - [`parse`]: text to expression tree (bounded length and depth).
//! - [`eval`]: the evaluator over aligned series (bounded allocation).
//! - [`search`]: SEARCH over the store's metric index.
//!
//! Expressions are evaluated in dependency order (an expression may use another's id); a
//! cycle, an unknown id, a syntax error or an unknown function fails the whole call with
//! `InvalidParameterValue` naming the query (`Error in expression e1: Unknown function FOO`).

pub mod eval;
pub mod parse;
pub mod search;

use std::collections::{HashMap, HashSet};

use freshet_metrics::{MetricKey, Unit};

use self::eval::{Env, Series, Value};
use self::parse::Expr;
use crate::error::CwError;
use crate::statistic::Statistic;
use crate::store::{MetricStore, Query};

/// A metric, a period and a statistic: what a `MetricStat` names.
#[derive(Debug, Clone)]
pub struct MetricStat {
    /// The metric.
    pub key: MetricKey,
    /// The period in seconds.
    pub period_s: u32,
    /// The statistic.
    pub stat: Statistic,
    /// Only datapoints in this unit, when set.
    pub unit: Option<Unit>,
}

/// One query of GetMetricData (or of an alarm's `Metrics`).
#[derive(Debug, Clone)]
pub struct MetricQuery {
    /// The query's id (`^[a-z][a-zA-Z0-9_]*$`), how expressions refer to it.
    pub id: String,
    /// A metric math expression (exactly one of this and `metric_stat`).
    pub expression: Option<String>,
    /// A metric (exactly one of this and `expression`).
    pub metric_stat: Option<MetricStat>,
    /// The label; the default is derived as AWS does.
    pub label: Option<String>,
    /// Whether the caller wants the result back (all are evaluated anyway).
    pub return_data: bool,
    /// The period of an expression (SEARCH, TIME_SERIES); `None`: the metrics' period.
    pub period_s: Option<u32>,
}

/// Whether a result has every datapoint of its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `Complete`.
    Complete,
    /// `PartialData`: more datapoints are available than were returned.
    PartialData,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "Complete",
            Status::PartialData => "PartialData",
        }
    }
}

/// The result of one query: timestamps ascending, with their values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// The query's id.
    pub id: String,
    /// The query's label (or the default one).
    pub label: String,
    /// Epoch ms, ascending.
    pub timestamps: Vec<i64>,
    /// One value per timestamp.
    pub values: Vec<f64>,
    /// Complete or partial.
    pub status: Status,
    /// Messages `(Code, Value)` about the query, e.g. an expression error.
    pub messages: Vec<(String, String)>,
}

/// Evaluates every query over `[start_ms, end_ms)`; the result of every query, in order.
pub async fn evaluate(
    store: &MetricStore,
    queries: &[MetricQuery],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<SeriesResult>, CwError> {
    let mut ids: HashMap<String, Value> = HashMap::new();
    let mut metrics: Vec<(String, Series)> = Vec::new();
    for q in queries {
        if let Some(ms) = &q.metric_stat {
            let s = read(store, ms, q.label.as_deref(), start_ms, end_ms).await?;
            ids.insert(q.id.clone(), Value::Series(s.clone()));
            metrics.push((q.id.clone(), s));
        }
    }
    let finest = queries
        .iter()
        .filter_map(|q| q.metric_stat.as_ref().map(|m| m.period_s))
        .min()
        .unwrap_or(60);
    let failed = |id: &str, why: &str| {
        CwError::InvalidParameterValue(format!("Error in expression {id}: {why}"))
    };
    let mut exprs: Vec<(usize, Expr)> = Vec::new();
    for (n, q) in queries.iter().enumerate() {
        if let (None, Some(text)) = (&q.metric_stat, &q.expression) {
            let e = parse::parse(text).map_err(|e| failed(&q.id, &e.0))?;
            exprs.push((n, e));
        }
    }
    let searches = prefetch(store, &exprs, start_ms, end_ms)
        .await
        .map_err(|(n, why)| failed(&queries[n].id, &why))?;
    // Evaluate in dependency order: each pass evaluates what only needs evaluated ids.
    let expr_ids: HashSet<&str> = exprs.iter().map(|(n, _)| queries[*n].id.as_str()).collect();
    let mut pending: Vec<(usize, Expr, Vec<String>)> = exprs
        .into_iter()
        .map(|(n, e)| {
            let mut used = Vec::new();
            idents(&e, &mut used);
            used.retain(|u| expr_ids.contains(u.as_str()));
            (n, e, used)
        })
        .collect();
    let mut created = 0usize;
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, _, used)| used.iter().all(|u| ids.contains_key(u)));
        let Some(i) = ready else {
            let (n, _, _) = &pending[0];
            return Err(failed(
                &queries[*n].id,
                "The expressions refer to each other in a cycle",
            ));
        };
        let (n, e, _) = pending.swap_remove(i);
        let q = &queries[n];
        let period_s = q.period_s.unwrap_or(finest);
        let mut env = Env {
            ids: &ids,
            metrics: &metrics,
            searches: &searches,
            start_ms,
            end_ms,
            period_s,
            created,
        };
        let v = eval::eval(&e, &mut env).map_err(|why| failed(&q.id, &why))?;
        let v = match v {
            Value::Scalar(x) => {
                // A number is shown as a flat line over the range.
                let step = i64::from(period_s.max(1)) * 1000;
                let n = ((end_ms - start_ms).max(0) / step).min(eval::MAX_GRID as i64);
                Value::Series(Series {
                    label: String::new(),
                    period_s,
                    points: if x.is_finite() {
                        (0..n).map(|i| (start_ms + i * step, x)).collect()
                    } else {
                        Vec::new()
                    },
                })
            }
            Value::Word(w) => return Err(failed(&q.id, &format!("Unrecognized identifier {w}"))),
            Value::Str(_) => return Err(failed(&q.id, "A string is not a time series")),
            v => v,
        };
        created = env.created;
        ids.insert(q.id.clone(), v);
    }
    let mut out = Vec::with_capacity(queries.len());
    for q in queries {
        let result = |label: String, s: Series| SeriesResult {
            id: q.id.clone(),
            label,
            timestamps: s.points.iter().map(|(t, _)| *t).collect(),
            values: s.points.iter().map(|(_, v)| *v).collect(),
            status: Status::Complete,
            messages: Vec::new(),
        };
        match ids.remove(&q.id) {
            Some(Value::Series(s)) => {
                let label = match (&q.label, &q.metric_stat) {
                    (Some(l), _) => l.clone(),
                    (None, Some(_)) => s.label.clone(),
                    (None, None) => q.id.clone(),
                };
                out.push(result(label, s));
            }
            Some(Value::Array(a)) => {
                for s in a {
                    let label = match &q.label {
                        Some(l) => l.clone(),
                        None if s.label.is_empty() => q.id.clone(),
                        None => s.label.clone(),
                    };
                    out.push(result(label, s));
                }
            }
            _ => out.push(result(
                q.label.clone().unwrap_or_else(|| q.id.clone()),
                Series {
                    label: String::new(),
                    period_s: finest,
                    points: Vec::new(),
                },
            )),
        }
    }
    Ok(out)
}

/// One MetricStat's series; its label is the query's, else the metric name.
async fn read(
    store: &MetricStore,
    ms: &MetricStat,
    label: Option<&str>,
    start_ms: i64,
    end_ms: i64,
) -> Result<Series, CwError> {
    let points = store
        .query(&Query {
            key: &ms.key,
            start_ms,
            end_ms,
            period_s: ms.period_s,
            unit: ms.unit,
        })
        .await
        .map_err(CwError::from)?;
    Ok(Series {
        label: label.map_or_else(|| ms.key.name.clone(), str::to_owned),
        period_s: ms.period_s,
        points: points
            .iter()
            .filter_map(|(t, dp)| Some((*t, ms.stat.of(dp)?)))
            .collect(),
    })
}

/// The identifiers `e` uses.
fn idents(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ident(name) => out.push(name.clone()),
        Expr::Array(items) | Expr::Call(_, items) => items.iter().for_each(|i| idents(i, out)),
        Expr::Neg(a) | Expr::Not(a) => idents(a, out),
        Expr::Binary(_, a, b) => {
            idents(a, out);
            idents(b, out);
        }
        Expr::Num(_) | Expr::Str(_) => {}
    }
}

/// The SEARCH calls of `e` as (text, statistic, period).
fn searches_of(e: &Expr, out: &mut Vec<Result<(String, Statistic, u32), String>>) {
    match e {
        Expr::Call(name, args) if name == "SEARCH" && args.len() == 3 => {
            if let Expr::Str(text) = &args[0] {
                let (ids, metrics, searches) = (HashMap::new(), Vec::new(), HashMap::new());
                let mut env = Env {
                    ids: &ids,
                    metrics: &metrics,
                    searches: &searches,
                    start_ms: 0,
                    end_ms: 0,
                    period_s: 60,
                    created: 0,
                };
                out.push(
                    eval::search_args(&args[1..], &mut env).map(|(s, p)| (text.clone(), s, p)),
                );
            }
        }
        Expr::Array(items) | Expr::Call(_, items) => {
            items.iter().for_each(|i| searches_of(i, out));
        }
        Expr::Neg(a) | Expr::Not(a) => searches_of(a, out),
        Expr::Binary(_, a, b) => {
            searches_of(a, out);
            searches_of(b, out);
        }
        _ => {}
    }
}

/// Runs every SEARCH of the expressions once; an error names the expression's index.
async fn prefetch(
    store: &MetricStore,
    exprs: &[(usize, Expr)],
    start_ms: i64,
    end_ms: i64,
) -> Result<HashMap<(String, String, u32), Vec<Series>>, (usize, String)> {
    let mut out = HashMap::new();
    for (n, e) in exprs {
        let mut found = Vec::new();
        searches_of(e, &mut found);
        for f in found {
            let (text, stat, period) = f.map_err(|why| (*n, why))?;
            let key = (text.clone(), stat.to_string(), period);
            if out.contains_key(&key) {
                continue;
            }
            let step = i64::from(period) * 1000;
            let start = start_ms.div_euclid(step) * step;
            let series = search::run(store, &text, stat, period, start, end_ms)
                .await
                .map_err(|why| (*n, why))?;
            out.insert(key, series);
        }
    }
    Ok(out)
}
