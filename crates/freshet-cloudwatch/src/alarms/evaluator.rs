// SPDX-License-Identifier: Apache-2.0
//! The evaluator: a component that, every few seconds, evaluates each metric alarm over its
//! last EvaluationPeriods complete periods (a period is complete [`LATE_DATA_MS`] after it
//! ends, so slightly late datapoints still count), then each composite alarm over the
//! others' states; a change of state is stored (with its history item) before its actions
//! run, so a restart resumes from the stored state.

use std::sync::Arc;
use std::time::Duration;

use freshet_metrics::{MetricKey, Unit};
use freshet_runtime::{Component, Periodic};

use super::eval::{Comparison, Rule, Slot, Treat, decide};
use super::model::{AlarmKind, MetricAlarmConfig, MetricRef, State};
use super::{actions, rule};
use crate::CloudWatch;
use crate::math::{MetricQuery, MetricStat};
use crate::statistic::Statistic;
use crate::store::Query;

/// How often alarms are evaluated by default.
pub const EVALUATE_EVERY: Duration = Duration::from_secs(10);
/// How long after a period ends it is evaluated (room for late datapoints).
pub const LATE_DATA_MS: i64 = 2_000;

/// The evaluator component, evaluating every [`EVALUATE_EVERY`].
pub fn evaluator(cw: CloudWatch) -> Arc<dyn Component> {
    evaluator_every(cw, EVALUATE_EVERY)
}

/// The evaluator component, evaluating every `every` (tests use short intervals).
pub fn evaluator_every(cw: CloudWatch, every: Duration) -> Arc<dyn Component> {
    Periodic::new("cloudwatch-alarms", every, move || {
        let cw = cw.clone();
        async move { evaluate_all(&cw).await }
    })
}

/// One evaluation pass over every alarm.
pub async fn evaluate_all(cw: &CloudWatch) {
    let now = cw.alarms.clock().now_ms();
    let all = cw.alarms.all();
    for alarm in all.iter() {
        if let AlarmKind::Metric(c) = &alarm.kind
            && let Some((state, reason, data)) = evaluate_metric(cw, c, alarm.state, now).await
        {
            apply(cw, &alarm.name, state, reason, Some(data));
        }
    }
    for alarm in cw.alarms.all() {
        if let AlarmKind::Composite(c) = &alarm.kind
            && let Ok(r) = rule::parse(&c.rule)
        {
            let state_of = |n: &str| {
                let name = n.rsplit_once(":alarm:").map_or(n, |(_, name)| name);
                cw.alarms.get(name).map(|a| a.state)
            };
            let value = r.eval(&state_of);
            let state = if value { State::Alarm } else { State::Ok };
            let reason = format!(
                "Alarm rule {} evaluated to {}.",
                c.rule,
                if value { "TRUE" } else { "FALSE" }
            );
            apply(cw, &alarm.name, state, reason, None);
        }
    }
}

/// Moves `name` to `state` (if it is not there already) and runs the actions of the new
/// state.
pub fn apply(
    cw: &CloudWatch,
    name: &str,
    state: State,
    reason: String,
    data: Option<serde_json::Value>,
) {
    match cw
        .alarms
        .transition(name, state, reason, data.map(|d| d.to_string()))
    {
        Ok(Some((old, new))) => actions::run(&cw.alarms, &old, &new),
        Ok(None) => {}
        Err(e) => tracing::warn!(alarm = %name, error = %e, "Could not store an alarm state."),
    }
}

/// Evaluates one metric alarm: the decided state, StateReason and StateReasonData, or
/// `None` when the state stays (or cannot be evaluated).
pub async fn evaluate_metric(
    cw: &CloudWatch,
    c: &MetricAlarmConfig,
    current: State,
    now_ms: i64,
) -> Option<(State, String, serde_json::Value)> {
    let comparison = Comparison::parse(&c.comparison_operator)?;
    let threshold = c.threshold?;
    let period_ms = i64::from(c.period_s()) * 1000;
    let n = i64::from(c.evaluation_periods.max(1));
    let end = (now_ms - LATE_DATA_MS).div_euclid(period_ms) * period_ms;
    let start = end - n * period_ms;
    let (slots, statistic) = series(cw, c, start, end).await?;
    let treat = c
        .treat_missing_data
        .as_deref()
        .and_then(Treat::parse)
        .unwrap_or(Treat::Missing);
    let rule = Rule {
        m: c.m(),
        comparison,
        threshold,
        treat,
        statistic: &statistic,
        period_s: c.period_s(),
    };
    let d = decide(&slots, &rule, current, now_ms);
    d.state.map(|s| (s, d.reason, d.data))
}

/// The alarm's time series over `[start, end)`, one slot per period, and the statistic's
/// name. `None` when Freshet cannot compute it (expressions before metric math is wired, an
/// unknown statistic).
pub async fn series(
    cw: &CloudWatch,
    c: &MetricAlarmConfig,
    start: i64,
    end: i64,
) -> Option<(Vec<Slot>, String)> {
    let period_s = c.period_s();
    if let Some(s) = &c.single {
        let (stat_name, low_sample_ignored) = match (&s.statistic, &s.extended_statistic) {
            (Some(st), _) => (st.clone(), false),
            (None, Some(st)) => (
                st.clone(),
                c.evaluate_low_sample_count_percentile.as_deref() == Some("ignore"),
            ),
            (None, None) => return None,
        };
        let stat = Statistic::parse(&stat_name)?;
        let unit = s.unit.as_deref().and_then(Unit::parse);
        let mut slots = metric_slots(cw, &s.metric, stat, period_s, unit, start, end).await?;
        if low_sample_ignored && let Statistic::Percentile(p) = stat {
            // AWS: too few samples for the percentile to mean anything (fewer than
            // 10 / (1 - p)) leave such periods out; only such periods keep the state.
            let min = 10.0 / (1.0 - p / 100.0).max(1e-9);
            let before = slots.iter().filter(|s| s.value.is_some()).count();
            for slot in &mut slots {
                if slot.sample_count.is_some_and(|n| n < min) {
                    slot.value = None;
                }
            }
            let after = slots.iter().filter(|s| s.value.is_some()).count();
            if before > 0 && after == 0 {
                return None;
            }
        }
        return Some((slots, stat_name));
    }
    let returned = c.metrics.iter().find(|q| q.returns_data())?;
    if c.metrics.iter().any(|q| q.expression.is_some()) || c.threshold_metric_id.is_some() {
        return expression_series(cw, c, start, end).await;
    }
    let ms = returned.metric_stat.as_ref()?;
    let stat = Statistic::parse(&ms.stat)?;
    let unit = ms.unit.as_deref().and_then(Unit::parse);
    let slots = metric_slots(cw, &ms.metric, stat, ms.period_s, unit, start, end).await?;
    Some((slots, ms.stat.clone()))
}

/// The series of an alarm whose `Metrics` contain expressions, through metric math: every
/// query is evaluated over `[start, end)` and the returned query's values become one slot per
/// period. Band alarms (`ThresholdMetricId`) need anomaly detection, which Freshet does not
/// run: they are not evaluated and keep their state. An expression that fails (or returns
/// several series) leaves the state as it is, with a warning.
async fn expression_series(
    cw: &CloudWatch,
    c: &MetricAlarmConfig,
    start: i64,
    end: i64,
) -> Option<(Vec<Slot>, String)> {
    if c.threshold_metric_id.is_some() {
        return None;
    }
    let returned = c.metrics.iter().find(|q| q.returns_data())?;
    let mut queries = Vec::with_capacity(c.metrics.len());
    for q in &c.metrics {
        let metric_stat = match &q.metric_stat {
            Some(ms) => Some(MetricStat {
                key: key_of(&ms.metric),
                period_s: ms.period_s,
                stat: Statistic::parse(&ms.stat)?,
                unit: ms.unit.as_deref().and_then(Unit::parse),
            }),
            None => None,
        };
        queries.push(MetricQuery {
            id: q.id.clone(),
            expression: q.expression.clone(),
            metric_stat,
            label: q.label.clone(),
            return_data: q.returns_data(),
            period_s: q.period_s,
        });
    }
    let results = match crate::math::evaluate(&cw.store, &queries, start, end).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "An alarm's metric math failed; its state is kept.");
            return None;
        }
    };
    let mut mine = results.iter().filter(|r| r.id == returned.id);
    let series = mine.next()?;
    if mine.next().is_some() {
        tracing::warn!(id = %returned.id, "An alarm's expression returned several series; its state is kept.");
        return None;
    }
    let period_ms = i64::from(c.period_s().max(1)) * 1000;
    let mut slots: Vec<Slot> = (0..((end - start) / period_ms))
        .map(|i| Slot {
            ts_ms: start + i * period_ms,
            value: None,
            sample_count: None,
        })
        .collect();
    for (ts, v) in series.timestamps.iter().zip(&series.values) {
        let i = (ts - start).div_euclid(period_ms);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| slots.get_mut(i)) {
            slot.value = Some(*v);
        }
    }
    let label = series.label.clone();
    Some((slots, label))
}

fn key_of(m: &MetricRef) -> MetricKey {
    MetricKey::new(
        m.namespace.clone(),
        m.name.clone(),
        m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())),
    )
}

/// One metric's statistic per period of `[start, end)`, as slots (missing periods `None`).
async fn metric_slots(
    cw: &CloudWatch,
    m: &MetricRef,
    stat: Statistic,
    period_s: u32,
    unit: Option<Unit>,
    start: i64,
    end: i64,
) -> Option<Vec<Slot>> {
    let key = key_of(m);
    let q = Query {
        key: &key,
        start_ms: start,
        end_ms: end,
        period_s,
        unit,
    };
    let points = match cw.store.query(&q).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "Alarm evaluation could not read the metric store.");
            return None;
        }
    };
    let period_ms = i64::from(period_s.max(1)) * 1000;
    let mut slots: Vec<Slot> = (0..((end - start) / period_ms))
        .map(|i| Slot {
            ts_ms: start + i * period_ms,
            value: None,
            sample_count: None,
        })
        .collect();
    for (ts, dp) in points {
        let i = (ts - start).div_euclid(period_ms);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| slots.get_mut(i)) {
            slot.value = stat.of(&dp);
            slot.sample_count = Some(dp.stats.count);
        }
    }
    Some(slots)
}
