// SPDX-License-Identifier: Apache-2.0
//! The CloudWatch Logs filter-pattern language: parse once, match many events.
//!
//! One pattern language serves FilterLogEvents, metric filters, subscription filters and Live
//! Tail (AWS "Filter pattern syntax for metric filters, subscription filters, filter log
//! events, and Live Tail"). The first non-blank character picks the form:
//! * nothing: every event matches;
//! * `{`: a JSON pattern (`json`);
//! * `[`: a space-delimited pattern (`delimited`);
//! * anything else: terms over unstructured text (`terms`).
//!
//! Any form may use `%regex%` (`value`), at most [`MAX_REGEXES`] per pattern. A pattern is at
//! most [`MAX_PATTERN_CHARS`] characters and parenthesis nesting is capped at [`MAX_NESTING`].
//!
//! [`FilterPattern`] prints back in a canonical form that parses to the same pattern.
//! A [`Match`] keeps what a metric filter needs from the event: the parsed JSON, or the
//! space-delimited fields, so `metricValue` and dimensions (`$.latency`, `$bytes`, `$7`) resolve.

mod cursor;
mod delimited;
mod error;
mod json;
mod terms;
mod value;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

pub use error::{
    AWS_INVALID_METRIC_FILTER_PATTERN, MAX_NESTING, MAX_PATTERN_CHARS, MAX_REGEXES,
    MAX_WILDCARD_SELECTORS, PatternError,
};

use delimited::DelimitedPattern;
use json::{JsonPattern, Selector};
use terms::TermsPattern;

/// Which of the documented forms a pattern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternKind {
    /// The empty pattern (or one that is only blank phrases): matches every event.
    MatchAll,
    /// Terms over unstructured text.
    Terms,
    /// `{ … }` over JSON events.
    Json,
    /// `[ … ]` over space-delimited events.
    SpaceDelimited,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    All,
    Terms(TermsPattern),
    Json(JsonPattern),
    Delimited(DelimitedPattern),
}

/// A parsed filter pattern. Immutable, cheap to share between threads.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPattern {
    body: Body,
}

impl FilterPattern {
    /// Parses a pattern as FilterLogEvents, PutMetricFilter and TestMetricFilter receive it.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let chars = pattern.chars().count();
        if chars > MAX_PATTERN_CHARS {
            return Err(PatternError::TooLong { chars });
        }
        let body = match pattern.trim_start().chars().next() {
            None => Body::All,
            Some('{') => Body::Json(JsonPattern::parse(pattern)?),
            Some('[') => Body::Delimited(DelimitedPattern::parse(pattern)?),
            Some(_) => TermsPattern::parse(pattern)?.map_or(Body::All, Body::Terms),
        };
        let regexes = match &body {
            Body::All => 0,
            Body::Terms(t) => t.regex_count(),
            Body::Json(j) => j.regex_count(),
            Body::Delimited(d) => d.regex_count(),
        };
        if regexes > MAX_REGEXES {
            return Err(PatternError::TooManyRegexes { count: regexes });
        }
        Ok(Self { body })
    }

    /// The pattern that matches every event (what an empty `filterPattern` means).
    pub fn match_all() -> Self {
        Self { body: Body::All }
    }

    /// Which documented form this is.
    pub fn kind(&self) -> PatternKind {
        match self.body {
            Body::All => PatternKind::MatchAll,
            Body::Terms(_) => PatternKind::Terms,
            Body::Json(_) => PatternKind::Json,
            Body::Delimited(_) => PatternKind::SpaceDelimited,
        }
    }

    /// Whether a metric filter with this pattern may have dimensions: AWS allows them only for
    /// JSON and space-delimited patterns ("The specified filter pattern does not support
    /// dimensions" otherwise).
    pub fn supports_dimensions(&self) -> bool {
        matches!(self.body, Body::Json(_) | Body::Delimited(_))
    }

    /// Whether a metric value or dimension reference (`$.path`, `$name`, `$N`) can be read off
    /// this pattern's matches.
    pub fn can_resolve(&self, reference: &str) -> bool {
        match &self.body {
            Body::Json(_) => Selector::parse_reference(reference.trim()).is_some(),
            Body::Delimited(d) => d.declares(reference.trim()),
            Body::All | Body::Terms(_) => false,
        }
    }

    /// Whether the event matches. Terms and match-all patterns allocate nothing; a JSON pattern
    /// parses the event (only if it starts with `{`); a space-delimited one splits it.
    pub fn is_match(&self, message: &str) -> bool {
        match &self.body {
            Body::All => true,
            Body::Terms(t) => t.is_match(message),
            Body::Json(j) => j.evaluate(message).is_some(),
            Body::Delimited(d) => d.evaluate(message).is_some(),
        }
    }

    /// Matches an event and keeps what was extracted from it.
    pub fn matches<'a>(&'a self, message: &'a str) -> Option<Match<'a>> {
        let inner = match &self.body {
            Body::All => Extracted::Nothing,
            Body::Terms(t) => {
                if !t.is_match(message) {
                    return None;
                }
                Extracted::Nothing
            }
            Body::Json(j) => Extracted::Json(j.evaluate(message)?),
            Body::Delimited(d) => Extracted::Fields {
                pattern: d,
                fields: d.evaluate(message)?,
            },
        };
        Some(Match { inner })
    }
}

impl fmt::Display for FilterPattern {
    /// The canonical form: terms and text values quoted, single spaces, the fewest parentheses.
    /// It parses back to an equal pattern.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            Body::All => Ok(()),
            Body::Terms(t) => t.fmt(f),
            Body::Json(j) => j.fmt(f),
            Body::Delimited(d) => d.fmt(f),
        }
    }
}

#[derive(Debug)]
enum Extracted<'a> {
    Nothing,
    Json(serde_json::Value),
    Fields {
        pattern: &'a DelimitedPattern,
        fields: Vec<&'a str>,
    },
}

/// A matched event and the values its pattern can read off it.
#[derive(Debug)]
pub struct Match<'a> {
    inner: Extracted<'a>,
}

impl Match<'_> {
    /// Resolves a metric value or dimension reference: `$.a.b[0]` against a JSON event (the first
    /// string or number it selects), `$name` or `$N` (1-based) against a space-delimited one.
    /// `None` when the reference does not fit the pattern or selects nothing usable.
    pub fn value(&self, reference: &str) -> Option<Cow<'_, str>> {
        let reference = reference.trim();
        match &self.inner {
            Extracted::Nothing => None,
            Extracted::Json(root) => Selector::parse_reference(reference)?.first_value(root),
            Extracted::Fields { pattern, fields } => {
                pattern.value(fields, reference).map(Cow::Borrowed)
            }
        }
    }

    /// The values TestMetricFilter reports in `extractedValues`. AWS fills them only for
    /// space-delimited patterns ("If you are not using a space-delimited filter, this will be
    /// empty", FilterAndPatternSyntax): `$name` for named fields, `$N` for the others.
    pub fn extracted_values(&self) -> BTreeMap<String, String> {
        match &self.inner {
            Extracted::Fields { pattern, fields } => pattern
                .extracted(fields)
                .into_iter()
                .map(|(key, value)| (key, value.to_owned()))
                .collect(),
            Extracted::Nothing | Extracted::Json(_) => BTreeMap::new(),
        }
    }
}

/// The value a metric transformation publishes for a match: `spec` is the filter's
/// `metricValue`, a number (`"1"`) or a reference (`"$.latency"`, `"$bytes"`). `None` when the
/// reference resolves to nothing or to text that is not a number; AWS then publishes nothing
/// for that event.
pub fn metric_value(spec: &str, m: &Match<'_>) -> Option<f64> {
    let spec = spec.trim();
    if spec.starts_with('$') {
        value::parse_number(m.value(spec)?.trim())
    } else {
        value::parse_number(spec)
    }
}

/// One entry of TestMetricFilter's `matches`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricFilterMatchRecord {
    /// 1-based position of the message in `logEventMessages`.
    pub event_number: u64,
    /// The message as sent.
    pub event_message: String,
    /// See [`Match::extracted_values`].
    pub extracted_values: BTreeMap<String, String>,
}

/// TestMetricFilter: the messages that match, numbered from 1 in the order given.
pub fn test_metric_filter<S: AsRef<str>>(
    pattern: &FilterPattern,
    messages: &[S],
) -> Vec<MetricFilterMatchRecord> {
    messages
        .iter()
        .zip(1u64..)
        .filter_map(|(message, number)| {
            let message = message.as_ref();
            pattern.matches(message).map(|m| MetricFilterMatchRecord {
                event_number: number,
                event_message: message.to_owned(),
                extracted_values: m.extracted_values(),
            })
        })
        .collect()
}
