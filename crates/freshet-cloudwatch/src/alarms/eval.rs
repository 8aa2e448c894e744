// SPDX-License-Identifier: Apache-2.0
//! The alarm state machine, as pure functions: given the last N period values of an alarm's
//! series (oldest first), M (DatapointsToAlarm), the comparison, the threshold and
//! TreatMissingData, which state the alarm is in and AWS's StateReason and StateReasonData.
//!
//! Missing data (AWS's table in "Configuring how CloudWatch alarms treat missing data"):
//! - `breaching` / `notBreaching`: a missing period counts as breaching / not breaching.
//! - `missing`: with no datapoint at all, INSUFFICIENT_DATA; otherwise missing periods count
//!   for neither side: ALARM when at least M present datapoints breach, or when fewer than M
//!   are present and all of them breach; OK otherwise.
//! - `ignore`: as `missing`, except that the cases `missing` decides from too little data
//!   (nothing present; fewer than M present, all breaching) keep the current state.

use serde_json::json;

use super::model::State;

/// TreatMissingData.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treat {
    /// `missing` (the default).
    Missing,
    /// `ignore`.
    Ignore,
    /// `breaching`.
    Breaching,
    /// `notBreaching`.
    NotBreaching,
}

impl Treat {
    /// The value AWS spells `text`.
    pub fn parse(text: &str) -> Option<Treat> {
        match text {
            "missing" => Some(Treat::Missing),
            "ignore" => Some(Treat::Ignore),
            "breaching" => Some(Treat::Breaching),
            "notBreaching" => Some(Treat::NotBreaching),
            _ => None,
        }
    }
}

/// The static-threshold ComparisonOperators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    Ge,
    /// `GreaterThanThreshold`.
    Gt,
    /// `LessThanThreshold`.
    Lt,
    /// `LessThanOrEqualToThreshold`.
    Le,
}

impl Comparison {
    /// The operator AWS spells `text` (band operators are not static comparisons).
    pub fn parse(text: &str) -> Option<Comparison> {
        match text {
            "GreaterThanOrEqualToThreshold" => Some(Comparison::Ge),
            "GreaterThanThreshold" => Some(Comparison::Gt),
            "LessThanThreshold" => Some(Comparison::Lt),
            "LessThanOrEqualToThreshold" => Some(Comparison::Le),
            _ => None,
        }
    }

    /// Whether `v` breaches `threshold`.
    pub fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::Ge => v >= threshold,
            Comparison::Gt => v > threshold,
            Comparison::Lt => v < threshold,
            Comparison::Le => v <= threshold,
        }
    }

    /// The words of StateReason: "greater than or equal to".
    fn words(self) -> &'static str {
        match self {
            Comparison::Ge => "greater than or equal to",
            Comparison::Gt => "greater than",
            Comparison::Lt => "less than",
            Comparison::Le => "less than or equal to",
        }
    }
}

/// One evaluation period: its start and value (`None`: no datapoint).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    /// Period start, epoch ms.
    pub ts_ms: i64,
    /// The statistic's value.
    pub value: Option<f64>,
    /// The period's sample count, when known.
    pub sample_count: Option<f64>,
}

/// What one evaluation decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The new state (`None`: keep the current one).
    pub state: Option<State>,
    /// StateReason.
    pub reason: String,
    /// StateReasonData.
    pub data: serde_json::Value,
}

/// What [`decide`] evaluates with.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// M.
    pub m: u32,
    /// The comparison.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// TreatMissingData.
    pub treat: Treat,
    /// The statistic's name for StateReasonData (`Maximum`, `p99`).
    pub statistic: &'a str,
    /// The period in seconds.
    pub period_s: u32,
}

/// Decides the state from `slots` (the last N periods, oldest first) at `now_ms`.
pub fn decide(slots: &[Slot], rule: &Rule<'_>, current: State, now_ms: i64) -> Decision {
    let n = slots.len();
    let m = (rule.m as usize).clamp(1, n.max(1));
    let present: Vec<&Slot> = slots.iter().filter(|s| s.value.is_some()).collect();
    let breaching: Vec<&Slot> = present
        .iter()
        .copied()
        .filter(|s| {
            s.value
                .is_some_and(|v| rule.comparison.breaches(v, rule.threshold))
        })
        .collect();
    let missing = n - present.len();
    let data = reason_data(slots, rule, now_ms);

    if present.is_empty() {
        let (state, treated) = match rule.treat {
            Treat::Missing => {
                let reason = format!(
                    "Insufficient Data: {} {} unknown.",
                    plural(n, "datapoint"),
                    if n == 1 { "was" } else { "were" }
                );
                return Decision {
                    state: Some(State::InsufficientData),
                    reason,
                    data,
                };
            }
            Treat::Ignore => {
                return Decision {
                    state: None,
                    reason: String::new(),
                    data,
                };
            }
            Treat::Breaching => (if n >= m { State::Alarm } else { State::Ok }, "Breaching"),
            Treat::NotBreaching => (State::Ok, "NonBreaching"),
        };
        let reason = format!(
            "Threshold Crossed: no datapoints were received for {} and {} missing {} treated as [{treated}].",
            plural(n, "period"),
            n,
            if n == 1 {
                "datapoint was"
            } else {
                "datapoints were"
            },
        );
        return Decision {
            state: Some(state),
            reason,
            data,
        };
    }

    let (bad, state) = match rule.treat {
        Treat::Breaching => {
            let bad = breaching.len() + missing;
            (bad, if bad >= m { State::Alarm } else { State::Ok })
        }
        Treat::NotBreaching => {
            let bad = breaching.len();
            (bad, if bad >= m { State::Alarm } else { State::Ok })
        }
        Treat::Missing | Treat::Ignore => {
            let bad = breaching.len();
            if bad >= m {
                (bad, State::Alarm)
            } else if present.len() < m && bad == present.len() {
                if rule.treat == Treat::Ignore {
                    return Decision {
                        state: None,
                        reason: String::new(),
                        data,
                    };
                }
                (bad, State::Alarm)
            } else {
                (bad, State::Ok)
            }
        }
    };
    let shown: Vec<&Slot> = match state {
        State::Alarm => breaching.iter().rev().copied().collect(),
        _ => present
            .iter()
            .rev()
            .copied()
            .filter(|s| {
                s.value
                    .is_some_and(|v| !rule.comparison.breaches(v, rule.threshold))
            })
            .collect(),
    };
    let list = shown
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                java_double(s.value.unwrap_or_default()),
                reason_time(s.ts_ms)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let not = if state == State::Alarm { "" } else { "not " };
    let threshold = java_double(rule.threshold);
    let words = rule.comparison.words();
    let reason = if n == 1 {
        format!(
            "Threshold Crossed: 1 datapoint [{list}] was {not}{words} the threshold ({threshold})."
        )
    } else {
        let count = if state == State::Alarm {
            bad
        } else {
            shown.len()
        };
        let (from, to, min) = if state == State::Alarm {
            (current_or_ok(current), "ALARM", m)
        } else {
            ("ALARM", "OK", 1)
        };
        format!(
            "Threshold Crossed: {count} out of the last {n} datapoints [{list}] {} {not}{words} the threshold ({threshold}) (minimum {} for {from} -> {to} transition).",
            if count == 1 { "was" } else { "were" },
            plural(min, "datapoint"),
        )
    };
    Decision {
        state: Some(state),
        reason,
        data,
    }
}

fn current_or_ok(current: State) -> &'static str {
    match current {
        State::Alarm => "OK",
        other => other.as_str(),
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// StateReasonData: AWS's `version 1.0` document of the evaluation.
fn reason_data(slots: &[Slot], rule: &Rule<'_>, now_ms: i64) -> serde_json::Value {
    let recent: Vec<f64> = slots.iter().rev().filter_map(|s| s.value).collect();
    let evaluated: Vec<serde_json::Value> = slots
        .iter()
        .rev()
        .map(|s| {
            let mut o = serde_json::Map::new();
            o.insert("timestamp".into(), json!(iso_time(s.ts_ms)));
            if let Some(c) = s.sample_count {
                o.insert("sampleCount".into(), json!(c));
            }
            if let Some(v) = s.value {
                o.insert("value".into(), json!(v));
            }
            serde_json::Value::Object(o)
        })
        .collect();
    json!({
        "version": "1.0",
        "queryDate": iso_time(now_ms),
        "startDate": iso_time(slots.first().map_or(now_ms, |s| s.ts_ms)),
        "statistic": rule.statistic,
        "period": rule.period_s,
        "recentDatapoints": recent,
        "threshold": rule.threshold,
        "evaluatedDatapoints": evaluated,
    })
}

/// A double as Java prints it (`5.0`, `0.25`, `1.0E7`), as AWS's texts show them.
pub fn java_double(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        let s = format!("{v:E}");
        // Rust writes `1E7`; Java `1.0E7`.
        return match s.split_once('E') {
            Some((mant, exp)) if !mant.contains('.') => format!("{mant}.0E{exp}"),
            _ => s,
        };
    }
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// `dd/MM/yy HH:mm:ss` (UTC), the datapoint times of StateReason.
pub fn reason_time(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(ms);
    format!(
        "{d:02}/{mo:02}/{:02} {h:02}:{mi:02}:{s:02}",
        y.rem_euclid(100)
    )
}

/// `2026-12-05T10:00:00.000+0000` (UTC), the times of StateReasonData and HistoryData.
pub fn iso_time(ms: i64) -> String {
    let (y, mo, d, h, mi, s, milli) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}+0000")
}

/// (year, month, day, hour, minute, second, millisecond) of epoch ms, UTC.
fn civil(ms: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = freshet_types::civil::civil_from_days(days);
    (
        y,
        m,
        d,
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_796_464_800_000; // 2026-12-05T10:00:00Z

    fn slots(pattern: &str) -> Vec<Slot> {
        pattern
            .split_whitespace()
            .enumerate()
            .map(|(i, c)| Slot {
                ts_ms: T0 + i as i64 * 60_000,
                value: match c {
                    "X" => Some(5.0),
                    "0" => Some(0.0),
                    _ => None,
                },
                sample_count: None,
            })
            .collect()
    }

    fn rule(m: u32, treat: Treat) -> Rule<'static> {
        Rule {
            m,
            comparison: Comparison::Ge,
            threshold: 1.0,
            treat,
            statistic: "Maximum",
            period_s: 60,
        }
    }

    fn state(pattern: &str, m: u32, treat: Treat, current: State) -> Option<State> {
        decide(&slots(pattern), &rule(m, treat), current, T0).state
    }

    #[test]
    fn m_of_n_with_each_treatment_of_missing_data_follows_aws_table() {
        use State::*;
        use Treat::*;
        // (datapoints oldest first, M, [missing, ignore, breaching, notBreaching]); `None` keeps
        // the current state.
        let table: &[(&str, u32, [Option<State>; 4])] = &[
            ("0 0 0", 2, [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
            (
                "X X X",
                3,
                [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
            ),
            (
                "0 X X",
                2,
                [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
            ),
            ("X 0 0", 2, [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]),
            (
                "- - -",
                2,
                [Some(InsufficientData), None, Some(Alarm), Some(Ok)],
            ),
            ("- X -", 2, [Some(Alarm), None, Some(Alarm), Some(Ok)]),
            ("- 0 -", 2, [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)]),
            ("0 - X - X", 3, [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)]),
            (
                "0 X X - X",
                3,
                [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)],
            ),
            ("- - X - -", 3, [Some(Alarm), None, Some(Alarm), Some(Ok)]),
        ];
        for (pattern, m, want) in table {
            for (treat, want) in [Missing, Ignore, Breaching, NotBreaching].iter().zip(want) {
                assert_eq!(
                    state(pattern, *m, *treat, InsufficientData),
                    *want,
                    "{pattern} M={m} {treat:?}"
                );
            }
        }
    }

    #[test]
    fn one_breaching_datapoint_is_explained_as_aws_writes_it() {
        let d = decide(
            &slots("X"),
            &rule(1, Treat::Missing),
            State::Ok,
            T0 + 90_000,
        );
        assert_eq!(d.state, Some(State::Alarm));
        assert_eq!(
            d.reason,
            "Threshold Crossed: 1 datapoint [5.0 (05/12/26 10:00:00)] was greater than or equal to the threshold (1.0)."
        );
        assert_eq!(d.data["version"], "1.0");
        assert_eq!(d.data["statistic"], "Maximum");
        assert_eq!(d.data["recentDatapoints"], json!([5.0]));
        assert_eq!(d.data["startDate"], "2026-12-05T10:00:00.000+0000");
    }

    #[test]
    fn recovery_over_several_periods_names_the_good_datapoints() {
        let d = decide(&slots("X 0"), &rule(2, Treat::Missing), State::Alarm, T0);
        assert_eq!(d.state, Some(State::Ok));
        assert!(
            d.reason.starts_with(
                "Threshold Crossed: 1 out of the last 2 datapoints [0.0 (05/12/26 10:01:00)] was not greater than or equal to"
            ),
            "{}",
            d.reason
        );
    }

    #[test]
    fn all_missing_is_explained_per_treatment() {
        let d = decide(&slots("- -"), &rule(1, Treat::Missing), State::Ok, T0);
        assert_eq!(d.reason, "Insufficient Data: 2 datapoints were unknown.");
        let d = decide(&slots("-"), &rule(1, Treat::Breaching), State::Ok, T0);
        assert_eq!(
            d.reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]."
        );
    }

    #[test]
    fn doubles_print_as_java_prints_them() {
        assert_eq!(java_double(5.0), "5.0");
        assert_eq!(java_double(0.25), "0.25");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(0.0), "0.0");
    }

    #[test]
    fn times_are_utc_in_both_formats() {
        assert_eq!(reason_time(T0), "05/12/26 10:00:00");
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(iso_time(T0 + 1_234), "2026-12-05T10:00:01.234+0000");
    }
}
