// SPDX-License-Identifier: Apache-2.0
//! SEARCH expressions: `'{Namespace,DimName,…} MetricName="X" word "phrase"'` over the store's
//! metric index.
//!
//! A schema `{ns, d1, d2}` keeps metrics of that namespace whose dimension names are exactly
//! `d1, d2`; `Key=value` / `Key="value"` matches MetricName, Namespace or a dimension exactly;
//! other words match (case-insensitively) part of the namespace, name or any dimension name or
//! value. Terms are ANDed (`AND` may be written); OR and NOT are refused. At most
//! [`MAX_RESULTS`] metrics are returned and at most [`MAX_SCAN`] index entries read.

use freshet_metrics::MetricKey;

use super::eval::Series;
use crate::statistic::Statistic;
use crate::store::{ListFilter, MetricStore, Query};

/// The most metrics one SEARCH returns (AWS: 500).
pub const MAX_RESULTS: usize = 500;
/// The most index entries one SEARCH reads.
pub const MAX_SCAN: usize = 100_000;

/// A parsed search string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// The schema's namespace.
    pub namespace: Option<String>,
    /// The schema's dimension names (exactly these), when a schema is given.
    pub dimensions: Option<Vec<String>>,
    /// `Key=value` terms.
    pub exact: Vec<(String, String)>,
    /// Partial-match words.
    pub words: Vec<String>,
}

/// Splits on whitespace and commas outside double quotes, dropping the quotes.
fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if !quoted && (c.is_whitespace() || c == ',') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err("SEARCH: unterminated quote".into());
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// Parses a search string.
pub fn parse(text: &str) -> Result<Search, String> {
    let mut s = Search::default();
    let mut rest = text.trim();
    if let Some(after) = rest.strip_prefix('{') {
        let end = after
            .find('}')
            .ok_or_else(|| "SEARCH: the schema has no closing }".to_owned())?;
        let parts = tokens(&after[..end])?;
        let mut parts = parts.into_iter();
        s.namespace = Some(
            parts
                .next()
                .ok_or_else(|| "SEARCH: the schema has no namespace".to_owned())?,
        );
        s.dimensions = Some(parts.collect());
        rest = &after[end + 1..];
    }
    for t in tokens(rest)? {
        if t == "AND" {
            continue;
        }
        if t == "OR" || t == "NOT" {
            return Err(format!("SEARCH: {t} is not supported"));
        }
        match t.split_once('=') {
            Some((k, v)) if !k.is_empty() => s.exact.push((k.to_owned(), v.to_owned())),
            _ => s.words.push(t.to_lowercase()),
        }
    }
    if s.namespace.is_none() && s.exact.is_empty() && s.words.is_empty() {
        return Err("SEARCH: the search string is empty".into());
    }
    Ok(s)
}

impl Search {
    /// Whether `key` is found.
    pub fn matches(&self, key: &MetricKey) -> bool {
        if self.namespace.as_ref().is_some_and(|n| *n != key.namespace) {
            return false;
        }
        if let Some(dims) = &self.dimensions
            && (dims.len() != key.dimensions.len()
                || !dims.iter().all(|d| key.dimension(d).is_some()))
        {
            return false;
        }
        let exact = self.exact.iter().all(|(k, v)| match k.as_str() {
            "MetricName" => key.name == *v,
            "Namespace" => key.namespace == *v,
            dim => key.dimension(dim) == Some(v.as_str()),
        });
        exact
            && self.words.iter().all(|w| {
                let has = |s: &str| s.to_lowercase().contains(w.as_str());
                has(&key.namespace)
                    || has(&key.name)
                    || key.dimensions.iter().any(|d| has(&d.name) || has(&d.value))
            })
    }
}

/// The label of a found metric: its dimension values, else its name.
fn label(key: &MetricKey) -> String {
    if key.dimensions.is_empty() {
        key.name.clone()
    } else {
        key.dimensions
            .iter()
            .map(|d| d.value.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs a search: the matching metrics' `stat` per `period_s` over `[start_ms, end_ms)`.
pub async fn run(
    store: &MetricStore,
    text: &str,
    stat: Statistic,
    period_s: u32,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<Series>, String> {
    let search = parse(text)?;
    let filter = ListFilter {
        namespace: search.namespace.clone(),
        ..ListFilter::default()
    };
    let mut found: Vec<std::sync::Arc<MetricKey>> = Vec::new();
    let mut after: Option<std::sync::Arc<MetricKey>> = None;
    let mut scanned = 0usize;
    const PAGE: usize = 1000;
    while found.len() < MAX_RESULTS && scanned < MAX_SCAN {
        let page = store.list(&filter, after.as_deref(), PAGE);
        let full = page.len() == PAGE;
        scanned += page.len();
        let last = page.last().cloned();
        found.extend(page.into_iter().filter(|k| search.matches(k)));
        if !full {
            break;
        }
        after = last;
    }
    found.truncate(MAX_RESULTS);
    let mut out = Vec::with_capacity(found.len());
    for key in found {
        let points = store
            .query(&Query {
                key: &key,
                start_ms,
                end_ms,
                period_s,
                unit: None,
            })
            .await
            .map_err(|e| e.to_string())?;
        out.push(Series {
            label: label(&key),
            period_s,
            points: points
                .iter()
                .filter_map(|(t, dp)| Some((*t, stat.of(dp)?)))
                .collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn schemas_and_terms_parse() {
        let s = parse(r#"{AWS/Kinesis,StreamName} MetricName="IncomingRecords" orders"#)
            .expect("parses");
        assert_eq!(s.namespace.as_deref(), Some("AWS/Kinesis"));
        assert_eq!(s.dimensions, Some(vec!["StreamName".to_owned()]));
        assert_eq!(
            s.exact,
            vec![("MetricName".to_owned(), "IncomingRecords".to_owned())]
        );
        assert_eq!(s.words, vec!["orders".to_owned()]);
        assert!(parse("a OR b").is_err());
        assert!(parse("").is_err());
        assert!(parse("{ns").is_err());
    }

    #[test]
    fn matching_needs_the_schema_dimensions_exactly() {
        let s = parse(r#"{AWS/Kinesis,StreamName} MetricName="IncomingRecords""#).expect("parses");
        assert!(s.matches(&MetricKey::new(
            "AWS/Kinesis",
            "IncomingRecords",
            [("StreamName", "a")]
        )));
        assert!(!s.matches(&MetricKey::new(
            "AWS/Kinesis",
            "IncomingRecords",
            [("StreamName", "a"), ("ShardId", "s")]
        )));
        assert!(!s.matches(&MetricKey::new(
            "AWS/Kinesis",
            "IncomingBytes",
            [("StreamName", "a")]
        )));
        let w = parse("ORD").expect("parses");
        assert!(w.matches(&MetricKey::new("App", "M", [("StreamName", "orders")])));
    }

    proptest! {
        #[test]
        fn search_strings_never_panic(text in "\\PC{0,120}") {
            let _ = parse(&text);
        }
    }
}
