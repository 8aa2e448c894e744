// SPDX-License-Identifier: Apache-2.0
//! The AWS/Lambda metrics functions publish.
//!
//! Each invocation that reaches the executor (synchronous, asynchronous or from an event
//! source mapping) is one sample of Invocations, Errors (function errors and timeouts) and
//! Duration (a distribution: AWS offers percentiles of it), recorded under the dimension sets
//! AWS uses: `FunctionName`; `FunctionName` + `Resource` (the function, or
//! `function:qualifier` when invoked qualified); `FunctionName` + `ExecutedVersion` for
//! published versions; and no dimension (the account). A refused invocation counts in
//! Throttles. ConcurrentExecutions is sampled at each start (read it with Maximum).
//! IteratorAge is the age of a stream batch's last record when its invocation finished.
//! Event invocations add AsyncEventsReceived (1 per event queued), AsyncEventAge (per run
//! of a queued event: how long since it was queued), AsyncEventsDropped (1 per event given
//! up) and DestinationDeliveryFailures (1 per invocation record a destination refused).
//!
//! Handles are cached per (function, resource); invocations start processes, so one map
//! lookup per invocation costs nothing measurable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_metrics::{MetricKey, Recorder, Series, Unit};

use crate::spec::{InvocationResult, InvokeError};

/// The namespace.
pub const NAMESPACE: &str = "AWS/Lambda";

/// Every function's handles.
pub(crate) struct LambdaMetrics {
    recorder: Recorder,
    by_resource: RwLock<HashMap<(String, String), Arc<ResourceMetrics>>>,
    account: Option<Arc<Group>>,
    running_total: Arc<AtomicI64>,
}

/// The four event metrics under one dimension set.
struct Group {
    invocations: Series,
    errors: Series,
    throttles: Series,
    duration: Series,
    concurrent: Series,
}

impl Group {
    fn new(r: &Recorder, dims: &[(&str, &str)]) -> Self {
        let key = |m: &str| MetricKey::new(NAMESPACE, m, dims.iter().copied());
        Self {
            invocations: r.series(key("Invocations"), Unit::Count),
            errors: r.series(key("Errors"), Unit::Count),
            throttles: r.series(key("Throttles"), Unit::Count),
            duration: r.distribution(key("Duration"), Unit::Milliseconds),
            concurrent: r.series(key("ConcurrentExecutions"), Unit::Count),
        }
    }
}

/// One (function, resource)'s handles.
struct ResourceMetrics {
    function: Arc<Group>,
    resource: Option<Group>,
    iterator_age: Series,
    async_received: Series,
    async_age: Series,
    async_dropped: Series,
    destination_failures: Series,
    running: Arc<AtomicI64>,
}

impl LambdaMetrics {
    /// Handles on `recorder`.
    pub fn new(recorder: Recorder) -> Self {
        let account = recorder
            .enabled()
            .then(|| Arc::new(Group::new(&recorder, &[])));
        Self {
            recorder,
            by_resource: RwLock::new(HashMap::new()),
            account,
            running_total: Arc::default(),
        }
    }

    fn resource(&self, function: &str, qualifier: Option<&str>) -> Option<Arc<ResourceMetrics>> {
        if !self.recorder.enabled() {
            return None;
        }
        let resource = match qualifier {
            Some(q) if q != "$LATEST" => format!("{function}:{q}"),
            _ => function.to_owned(),
        };
        let k = (function.to_owned(), resource);
        if let Some(m) = self
            .by_resource
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&k)
        {
            return Some(m.clone());
        }
        let mut map = self.by_resource.write().unwrap_or_else(|p| p.into_inner());
        let function_group = map
            .iter()
            .find(|((f, _), _)| f == function)
            .map(|(_, m)| m.function.clone())
            .unwrap_or_else(|| Arc::new(Group::new(&self.recorder, &[("FunctionName", function)])));
        let running = map
            .iter()
            .find(|((f, _), _)| f == function)
            .map(|(_, m)| m.running.clone())
            .unwrap_or_default();
        let fkey = |m: &str| MetricKey::new(NAMESPACE, m, [("FunctionName", function)]);
        let made = Arc::new(ResourceMetrics {
            function: function_group,
            resource: Some(Group::new(
                &self.recorder,
                &[("FunctionName", function), ("Resource", &k.1)],
            )),
            iterator_age: self
                .recorder
                .series(fkey("IteratorAge"), Unit::Milliseconds),
            async_received: self
                .recorder
                .series(fkey("AsyncEventsReceived"), Unit::Count),
            async_age: self
                .recorder
                .series(fkey("AsyncEventAge"), Unit::Milliseconds),
            async_dropped: self
                .recorder
                .series(fkey("AsyncEventsDropped"), Unit::Count),
            destination_failures: self
                .recorder
                .series(fkey("DestinationDeliveryFailures"), Unit::Count),
            running,
        });
        Some(map.entry(k).or_insert(made).clone())
    }

    /// Forgets a deleted function's handles.
    pub fn forget(&self, function: &str) {
        self.by_resource
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(f, _), _| f != function);
    }

    fn groups<'a>(&'a self, m: &'a ResourceMetrics) -> impl Iterator<Item = &'a Group> {
        std::iter::once(&*m.function)
            .chain(m.resource.iter())
            .chain(self.account.as_deref())
    }

    /// An invocation of `function` (`qualifier` as invoked) starts; the returned guard ends it.
    pub fn start(&self, function: &str, qualifier: Option<&str>) -> Option<Started> {
        let m = self.resource(function, qualifier)?;
        let n = m.running.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.running_total.fetch_add(1, Ordering::Relaxed) + 1;
        m.function.concurrent.record(n as f64);
        if let Some(a) = &self.account {
            a.concurrent.record(total as f64);
        }
        Some(Started {
            metrics: m,
            total: self.running_total.clone(),
            function: function.to_owned(),
        })
    }

    /// Records how a started invocation ended.
    pub fn finish(&self, started: Option<Started>, result: &Result<InvocationResult, InvokeError>) {
        let Some(s) = started else { return };
        match result {
            Ok(r) => {
                let errored = if r.function_error.is_some() { 1.0 } else { 0.0 };
                let ms = r.duration.as_secs_f64() * 1000.0;
                for g in self.groups(&s.metrics) {
                    g.invocations.record(1.0);
                    g.errors.record(errored);
                    g.duration.record(ms);
                }
                if r.executed_version != "$LATEST" {
                    let key = |m: &str| {
                        MetricKey::new(
                            NAMESPACE,
                            m,
                            [
                                ("FunctionName", s.function.as_str()),
                                ("ExecutedVersion", r.executed_version.as_str()),
                            ],
                        )
                    };
                    // Versions are rare next to invocations of $LATEST; a lookup is fine.
                    self.recorder
                        .series(key("Invocations"), Unit::Count)
                        .record(1.0);
                    self.recorder
                        .series(key("Errors"), Unit::Count)
                        .record(errored);
                    self.recorder
                        .distribution(key("Duration"), Unit::Milliseconds)
                        .record(ms);
                }
            }
            Err(InvokeError::Throttled { .. }) => self.throttled_on(&s.metrics),
            Err(_) => {}
        }
    }

    /// An invocation refused before it started (reserved concurrency 0, limits).
    pub fn throttled(&self, function: &str, qualifier: Option<&str>) {
        if let Some(m) = self.resource(function, qualifier) {
            self.throttled_on(&m);
        }
    }

    fn throttled_on(&self, m: &ResourceMetrics) {
        for g in self.groups(m) {
            g.throttles.record(1.0);
        }
    }

    /// A stream mapping's invocation finished `age` after its last record arrived.
    pub fn iterator_age(&self, function: &str, age: Duration) {
        if let Some(m) = self.resource(function, None) {
            m.iterator_age.record(age.as_secs_f64() * 1000.0);
        }
    }

    /// An Event invocation of `function` was queued.
    pub fn async_received(&self, function: &str) {
        if let Some(m) = self.resource(function, None) {
            m.async_received.record(1.0);
        }
    }

    /// A queued event of `function` is about to be run, `age_ms` after it was queued.
    pub fn async_age(&self, function: &str, age_ms: i64) {
        if let Some(m) = self.resource(function, None) {
            m.async_age.record(age_ms.max(0) as f64);
        }
    }

    /// A queued event of `function` was given up (retries or age exhausted, or the function
    /// is gone), whether or not an OnFailure destination got its record.
    pub fn async_dropped(&self, function: &str) {
        if let Some(m) = self.resource(function, None) {
            m.async_dropped.record(1.0);
        }
    }

    /// A destination refused the invocation record of `function`; the record is lost.
    pub fn destination_failed(&self, function: &str) {
        if let Some(m) = self.resource(function, None) {
            m.destination_failures.record(1.0);
        }
    }
}

/// An invocation in progress, for [`LambdaMetrics::finish`]; counts as running until
/// dropped (also when the caller went away mid-invocation).
pub(crate) struct Started {
    metrics: Arc<ResourceMetrics>,
    total: Arc<AtomicI64>,
    function: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        self.metrics.running.fetch_sub(1, Ordering::Relaxed);
        self.total.fetch_sub(1, Ordering::Relaxed);
    }
}
