// SPDX-License-Identifier: Apache-2.0
//! Metric filters: PutMetricFilter's rules, DescribeMetricFilters, DeleteMetricFilter and
//! TestMetricFilter, and [`MetricFilter::evaluate`], what the CloudWatch metrics service will
//! call on each ingested event to emit the filter's metric.
//!
//! Rules (API reference, PutMetricFilter): at most 100 filters per group; exactly one metric
//! transformation; `metricValue` is a number or a field the pattern extracts (`$.path` for
//! JSON patterns, `$name`/`$N` for space-delimited ones); at most three dimensions, whose
//! values must be such fields, and only on JSON or space-delimited patterns.

use std::collections::BTreeMap;

use freshet_meta::TxnExt;

use crate::error::{Error, Result};
use crate::filter::{FilterPattern, MetricFilterMatchRecord, metric_value, test_metric_filter};
use crate::model::{DescribeMetricFilters, MetricFilterInfo, Page};
use crate::service::{Logs, blocking};
use crate::store::{self, MetricFilterRecord, TransformationRecord};
use crate::token::{encode_metric_filters_token, parse_metric_filters_token};

/// Most metric filters per group.
pub const MAX_FILTERS_PER_GROUP: usize = 100;
/// Most dimensions per transformation.
pub const MAX_DIMENSIONS: usize = 3;

/// A metric filter, parsed, ready to evaluate events.
#[derive(Debug, Clone)]
pub struct MetricFilter {
    /// The group it belongs to.
    pub group: String,
    /// The stored filter.
    pub record: MetricFilterRecord,
    pattern: FilterPattern,
}

/// One value a metric filter emits for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    /// metricNamespace.
    pub namespace: String,
    /// metricName.
    pub name: String,
    /// The value: the metricValue of a match, or the defaultValue of a non-match.
    pub value: f64,
    /// Dimension name to the value extracted from the event.
    pub dimensions: BTreeMap<String, String>,
    /// unit, if set.
    pub unit: Option<String>,
}

impl MetricFilter {
    /// A filter from its record; `None` if its pattern no longer parses.
    pub fn new(group: &str, record: MetricFilterRecord) -> Option<MetricFilter> {
        let pattern = FilterPattern::parse(&record.pattern).ok()?;
        Some(MetricFilter {
            group: group.to_owned(),
            record,
            pattern,
        })
    }

    /// What the filter emits for one event: for a match, the metric value (with the
    /// dimensions it extracts), for a non-match the default value if there is one; empty when
    /// it emits nothing. AWS aggregates these per minute before publishing.
    /// What the filter emits for a matching event (`None`: the event does not match).
    pub fn evaluate_match(&self, message: &str) -> Option<Vec<MetricDatum>> {
        let m = self.pattern.matches(message)?;
        let data = self
            .record
            .transformations
            .iter()
            .filter_map(|t| {
                let value = metric_value(&t.metric_value, &m)?;
                let mut dimensions = BTreeMap::new();
                for (k, reference) in &t.dimensions {
                    dimensions.insert(k.clone(), m.value(reference)?.into_owned());
                }
                Some(MetricDatum {
                    namespace: t.metric_namespace.clone(),
                    name: t.metric_name.clone(),
                    value,
                    dimensions,
                    unit: t.unit.clone(),
                })
            })
            .collect();
        Some(data)
    }

    /// What the filter emits for one event (see the module doc for defaults).
    pub fn evaluate(&self, message: &str) -> Vec<MetricDatum> {
        let matched = self.pattern.matches(message);
        self.record
            .transformations
            .iter()
            .filter_map(|t| {
                let (value, dimensions) = match &matched {
                    Some(m) => {
                        let value = metric_value(&t.metric_value, m)?;
                        let mut dims = BTreeMap::new();
                        for (k, reference) in &t.dimensions {
                            dims.insert(k.clone(), m.value(reference)?.into_owned());
                        }
                        (value, dims)
                    }
                    None => (t.default_value?, BTreeMap::new()),
                };
                Some(MetricDatum {
                    namespace: t.metric_namespace.clone(),
                    name: t.metric_name.clone(),
                    value,
                    dimensions,
                    unit: t.unit.clone(),
                })
            })
            .collect()
    }
}

/// Checks a transformation against its filter's pattern.
pub fn check_transformation(pattern: &FilterPattern, t: &TransformationRecord) -> Result<()> {
    let value = t.metric_value.trim();
    let is_reference = value.starts_with('$');
    if (is_reference && !pattern.can_resolve(value))
        || (!is_reference && value.parse::<f64>().is_err())
    {
        return Err(Error::MetricValue {
            value: t.metric_value.clone(),
        });
    }
    if t.dimensions.is_empty() {
        return Ok(());
    }
    if t.dimensions.len() > MAX_DIMENSIONS {
        return Err(Error::TooManyDimensions {
            count: t.dimensions.len(),
        });
    }
    if !pattern.supports_dimensions() {
        return Err(Error::DimensionsNotSupported);
    }
    for (key, value) in &t.dimensions {
        if !value.trim().starts_with('$') || !pattern.can_resolve(value) {
            return Err(Error::DimensionValue {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

impl Logs {
    /// PutMetricFilter: creates or replaces the filter.
    pub async fn put_metric_filter(
        &self,
        group: &str,
        mut filter: MetricFilterRecord,
    ) -> Result<()> {
        crate::names::validate_filter_name(&filter.name)?;
        let pattern = FilterPattern::parse(&filter.pattern)
            .map_err(|source| Error::MetricFilterPattern { source })?;
        for t in &filter.transformations {
            crate::names::validate_metric_name("metricName", &t.metric_name)?;
            crate::names::validate_metric_name("metricNamespace", &t.metric_namespace)?;
            check_transformation(&pattern, t)?;
        }
        let _control = self.inner.control.lock().await;
        let g = self.group(group)?;
        {
            let data = g.data();
            match data.filters.get(&filter.name) {
                Some(old) => filter.created_ms = old.created_ms,
                None if data.filters.len() >= MAX_FILTERS_PER_GROUP => {
                    return Err(Error::MetricFilterLimit);
                }
                None => filter.created_ms = self.now_ms(),
            }
        }
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, &filter.name);
        let stored = filter.clone();
        blocking(move || {
            Ok(meta.transaction(|t| t.put_json(store::METRIC_FILTERS, &key, &stored))?)
        })
        .await?;
        g.data().filters.insert(filter.name.clone(), filter);
        if let Some(m) = g.metrics.get() {
            m.filters_changed();
        }
        Ok(())
    }

    /// DeleteMetricFilter.
    pub async fn delete_metric_filter(&self, group: &str, filter: &str) -> Result<()> {
        let _control = self.inner.control.lock().await;
        let g = self.group(group)?;
        if !g.data().filters.contains_key(filter) {
            return Err(Error::MetricFilterNotFound {
                filter: filter.to_owned(),
            });
        }
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, filter);
        blocking(move || Ok(meta.delete(store::METRIC_FILTERS, &key)?)).await?;
        g.data().filters.remove(filter);
        if let Some(m) = g.metrics.get() {
            m.filters_changed();
        }
        Ok(())
    }

    /// DescribeMetricFilters, ASCII-sorted by filter name (then group name).
    pub fn describe_metric_filters(
        &self,
        q: &DescribeMetricFilters,
    ) -> Result<Page<MetricFilterInfo>> {
        if q.metric_name.is_some() != q.metric_namespace.is_some() {
            return Err(Error::MetricNameWithoutNamespace);
        }
        let after = match &q.next_token {
            Some(t) => Some(parse_metric_filters_token(t).ok_or(Error::InvalidNextToken)?),
            None => None,
        };
        let groups = match &q.group {
            Some(name) => vec![self.group(name)?],
            None => self.groups().values().cloned().collect(),
        };
        // AWS uses the prefix only together with a group.
        let prefix = q.group.as_ref().and(q.prefix.as_ref());
        let mut all: Vec<MetricFilterInfo> = Vec::new();
        for g in groups {
            let data = g.data();
            for f in data.filters.values() {
                let metric_ok = match (&q.metric_name, &q.metric_namespace) {
                    (Some(n), Some(ns)) => f
                        .transformations
                        .iter()
                        .any(|t| t.metric_name == *n && t.metric_namespace == *ns),
                    _ => true,
                };
                if metric_ok && prefix.is_none_or(|p| f.name.starts_with(p.as_str())) {
                    all.push(MetricFilterInfo {
                        group: g.name.clone(),
                        filter: f.clone(),
                    });
                }
            }
        }
        all.sort_by(|a, b| (&a.filter.name, &a.group).cmp(&(&b.filter.name, &b.group)));
        if let Some((filter, group)) = &after {
            all.retain(|i| (&i.filter.name, &i.group) > (filter, group));
        }
        let limit = q
            .limit
            .unwrap_or(crate::describe::MAX_DESCRIBE_LIMIT)
            .clamp(1, crate::describe::MAX_DESCRIBE_LIMIT);
        let more = all.len() > limit;
        all.truncate(limit);
        let next_token = match (more, all.last()) {
            (true, Some(last)) => Some(encode_metric_filters_token(&last.filter.name, &last.group)),
            _ => None,
        };
        Ok(Page {
            items: all,
            next_token,
        })
    }

    /// TestMetricFilter.
    pub fn test_metric_filter(
        &self,
        pattern: &str,
        messages: &[String],
    ) -> Result<Vec<MetricFilterMatchRecord>> {
        let pattern = FilterPattern::parse(pattern)
            .map_err(|source| Error::MetricFilterPattern { source })?;
        Ok(test_metric_filter(&pattern, messages))
    }

    /// The metric filters of a group, parsed, for the metrics service to evaluate.
    pub fn metric_filters(&self, group: &str) -> Result<Vec<MetricFilter>> {
        let g = self.group(group)?;
        let data = g.data();
        Ok(data
            .filters
            .values()
            .filter_map(|r| MetricFilter::new(group, r.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transformation(value: &str, dims: &[(&str, &str)]) -> TransformationRecord {
        TransformationRecord {
            metric_name: "Latency".into(),
            metric_namespace: "App".into(),
            metric_value: value.into(),
            default_value: Some(0.0),
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            unit: Some("Milliseconds".into()),
        }
    }

    fn filter(pattern: &str, t: TransformationRecord) -> MetricFilter {
        MetricFilter::new(
            "g",
            MetricFilterRecord {
                name: "f".into(),
                pattern: pattern.into(),
                transformations: vec![t],
                created_ms: 0,
                apply_on_transformed_logs: false,
                field_selection_criteria: None,
                emit_system_field_dimensions: Vec::new(),
            },
        )
        .unwrap()
    }

    #[test]
    fn a_json_filter_emits_the_extracted_value_with_dimensions() {
        let f = filter(
            "{ $.latency > 0 }",
            transformation("$.latency", &[("Service", "$.service")]),
        );
        let out = f.evaluate(r#"{"latency": 42.5, "service": "api"}"#);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].value, 42.5);
        assert_eq!(
            out[0].dimensions.get("Service").map(String::as_str),
            Some("api")
        );
        assert_eq!(out[0].unit.as_deref(), Some("Milliseconds"));
    }

    #[test]
    fn a_non_match_emits_the_default_value_only() {
        let f = filter("ERROR", transformation("1", &[]));
        assert_eq!(f.evaluate("ERROR boom")[0].value, 1.0);
        assert_eq!(f.evaluate("all good")[0].value, 0.0);
        let mut t = transformation("1", &[]);
        t.default_value = None;
        assert!(filter("ERROR", t).evaluate("all good").is_empty());
    }

    #[test]
    fn transformations_must_fit_their_pattern() {
        let terms = FilterPattern::parse("ERROR").unwrap();
        assert!(check_transformation(&terms, &transformation("1", &[])).is_ok());
        assert!(matches!(
            check_transformation(&terms, &transformation("$.x", &[])),
            Err(Error::MetricValue { .. })
        ));
        assert!(matches!(
            check_transformation(&terms, &transformation("1", &[("A", "$.a")])),
            Err(Error::DimensionsNotSupported)
        ));
        let json = FilterPattern::parse("{ $.a = * }").unwrap();
        assert!(check_transformation(&json, &transformation("$.a", &[("A", "$.b")])).is_ok());
        assert!(matches!(
            check_transformation(&json, &transformation("1", &[("A", "b")])),
            Err(Error::DimensionValue { .. })
        ));
        let four = [("A", "$.a"), ("B", "$.b"), ("C", "$.c"), ("D", "$.d")];
        assert!(matches!(
            check_transformation(&json, &transformation("1", &four)),
            Err(Error::TooManyDimensions { count: 4 })
        ));
        assert!(matches!(
            check_transformation(&json, &transformation("lots", &[])),
            Err(Error::MetricValue { .. })
        ));
    }
}
