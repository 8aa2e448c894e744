// SPDX-License-Identifier: Apache-2.0
//! The AWS/Logs metrics (IncomingBytes, IncomingLogEvents per group and for the account) and
//! the metrics of metric filters.
//!
//! Each stored PutLogEvents batch (or [`crate::Logs::append`]) is one sample of IncomingBytes
//! (the events' uncompressed message bytes) and IncomingLogEvents, under `LogGroupName` and
//! under no dimension. Then every metric filter of the group evaluates every event: a match
//! emits the transformation's value (a number or a field of the event) with its dimensions at
//! the event's timestamp; a transformation with a defaultValue that matched nothing in the
//! batch emits the default once, at the batch's newest timestamp (AWS reports the default for
//! periods with ingested events but no match). Values of one batch are grouped per metric, so
//! a batch costs one series lookup per metric it emits, not per event.
//!
//! A group's handles and its parsed filters are built on first use and kept with the group;
//! PutMetricFilter and DeleteMetricFilter drop the parsed filters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use freshet_metrics::{MetricKey, Recorder, Series, Unit};

use crate::group::Group;
use crate::metric_filters::MetricFilter;
use crate::model::InputEvent;

/// The namespace.
pub const NAMESPACE: &str = "AWS/Logs";

/// The account-level handles and the recorder.
#[derive(Debug)]
pub(crate) struct LogsMetrics {
    recorder: Recorder,
    incoming_bytes: Series,
    incoming_events: Series,
}

/// One group's handles and parsed filters.
#[derive(Debug)]
pub(crate) struct GroupMetrics {
    incoming_bytes: Series,
    incoming_events: Series,
    filters: Mutex<Option<Arc<Vec<MetricFilter>>>>,
}

impl GroupMetrics {
    /// Forgets the parsed filters (they changed).
    pub fn filters_changed(&self) {
        *self.filters.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl LogsMetrics {
    pub fn new(recorder: Recorder) -> Self {
        let none: [(&str, &str); 0] = [];
        Self {
            incoming_bytes: recorder.series(
                MetricKey::new(NAMESPACE, "IncomingBytes", none),
                Unit::Bytes,
            ),
            incoming_events: recorder.series(
                MetricKey::new(NAMESPACE, "IncomingLogEvents", none),
                Unit::Count,
            ),
            recorder,
        }
    }

    fn group<'g>(&self, g: &'g Group) -> &'g GroupMetrics {
        g.metrics.get_or_init(|| {
            let key = |m: &str| MetricKey::new(NAMESPACE, m, [("LogGroupName", g.name.as_str())]);
            GroupMetrics {
                incoming_bytes: self.recorder.series(key("IncomingBytes"), Unit::Bytes),
                incoming_events: self.recorder.series(key("IncomingLogEvents"), Unit::Count),
                filters: Mutex::new(None),
            }
        })
    }

    /// Records a stored batch of `g` and runs its metric filters over it.
    pub fn batch(&self, g: &Group, events: &[InputEvent]) {
        if !self.recorder.enabled() || events.is_empty() {
            return;
        }
        let m = self.group(g);
        let bytes: usize = events.iter().map(|e| e.message.len()).sum();
        for (b, n) in [
            (&m.incoming_bytes, &m.incoming_events),
            (&self.incoming_bytes, &self.incoming_events),
        ] {
            b.record(bytes as f64);
            n.record(events.len() as f64);
        }
        let filters = {
            let mut cached = m.filters.lock().unwrap_or_else(|p| p.into_inner());
            match &*cached {
                Some(f) => f.clone(),
                None => {
                    let parsed: Vec<MetricFilter> = g
                        .data()
                        .filters
                        .values()
                        .filter_map(|r| MetricFilter::new(&g.name, r.clone()))
                        .collect();
                    let parsed = Arc::new(parsed);
                    *cached = Some(parsed.clone());
                    parsed
                }
            }
        };
        for f in filters.iter() {
            self.run_filter(f, events);
        }
    }

    fn run_filter(&self, f: &MetricFilter, events: &[InputEvent]) {
        let mut by_key: HashMap<MetricKey, (Unit, Vec<(i64, f64)>)> = HashMap::new();
        let mut matched = false;
        for e in events {
            let Some(data) = f.evaluate_match(&e.message) else {
                continue;
            };
            matched = true;
            for d in data {
                let key = MetricKey::new(d.namespace, d.name, d.dimensions);
                let unit = d.unit.as_deref().and_then(Unit::parse).unwrap_or_default();
                by_key
                    .entry(key)
                    .or_insert_with(|| (unit, Vec::new()))
                    .1
                    .push((e.timestamp_ms, d.value));
            }
        }
        if !matched {
            let newest = events.iter().map(|e| e.timestamp_ms).max().unwrap_or(0);
            for t in &f.record.transformations {
                if let Some(v) = t.default_value {
                    let none: [(&str, &str); 0] = [];
                    let key = MetricKey::new(&t.metric_namespace, &t.metric_name, none);
                    let unit = t.unit.as_deref().and_then(Unit::parse).unwrap_or_default();
                    by_key
                        .entry(key)
                        .or_insert_with(|| (unit, Vec::new()))
                        .1
                        .push((newest, v));
                }
            }
        }
        for (key, (unit, values)) in by_key {
            let series = self.recorder.series(key, unit);
            for (ts, v) in values {
                series.record_at(ts, v);
            }
        }
    }
}
