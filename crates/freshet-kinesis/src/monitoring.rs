// SPDX-License-Identifier: Apache-2.0
//! Enhanced (shard-level) monitoring: EnableEnhancedMonitoring and DisableEnhancedMonitoring.
//!
//! Freshet keeps the setting, reports it (DescribeStream, DescribeStreamSummary) and publishes
//! the enabled shard-level metrics (see `metrics.rs`). `ALL` stands for all seven metrics; lists are kept and
//! answered in model order.

use crate::record::StreamRecord;

use crate::model::StreamRef;
use crate::{Error, Streams};

/// Every shard-level metric, in model order.
pub const SHARD_LEVEL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// The name that selects every metric.
pub const ALL_METRICS: &str = "ALL";

/// The answer of Enable/DisableEnhancedMonitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringChange {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: String,
    /// Enabled metrics before the call.
    pub current: Vec<String>,
    /// Enabled metrics after the call.
    pub desired: Vec<String>,
}

/// `current` with `names` switched on (`enable`) or off, in model order. Unknown names are
/// ignored (the wire layer rejects them first).
pub(crate) fn apply_metrics(current: &[String], names: &[String], enable: bool) -> Vec<String> {
    let named = |m: &str| names.iter().any(|n| n == m || n == ALL_METRICS);
    SHARD_LEVEL_METRICS
        .iter()
        .filter(|m| {
            let on = current.iter().any(|c| c == *m);
            if enable {
                on || named(m)
            } else {
                on && !named(m)
            }
        })
        .map(|m| (*m).to_owned())
        .collect()
}

impl Streams {
    /// EnableEnhancedMonitoring.
    pub async fn enable_enhanced_monitoring(
        &self,
        r: &StreamRef,
        metrics: &[String],
    ) -> Result<MonitoringChange, Error> {
        self.change_monitoring(r, metrics, true).await
    }

    /// DisableEnhancedMonitoring.
    pub async fn disable_enhanced_monitoring(
        &self,
        r: &StreamRef,
        metrics: &[String],
    ) -> Result<MonitoringChange, Error> {
        self.change_monitoring(r, metrics, false).await
    }

    async fn change_monitoring(
        &self,
        r: &StreamRef,
        metrics: &[String],
        enable: bool,
    ) -> Result<MonitoringChange, Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.require_active(&stream)?;
        let (current, rec): (Vec<String>, StreamRecord) = {
            let mut rec = stream.record_mut();
            let current = rec.shard_level_metrics.clone();
            rec.shard_level_metrics = apply_metrics(&current, metrics, enable);
            (current, rec.clone())
        };
        self.persist(&rec)?;
        stream.metrics.set_shard_level(&rec.shard_level_metrics);
        Ok(MonitoringChange {
            stream_name: stream.name.clone(),
            stream_arn: stream.arn.clone(),
            current,
            desired: rec.shard_level_metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn all_expands_and_order_follows_the_model() {
        assert_eq!(
            apply_metrics(&[], &v(&["ALL"]), true),
            v(&SHARD_LEVEL_METRICS)
        );
        assert_eq!(
            apply_metrics(&[], &v(&["OutgoingBytes", "IncomingBytes"]), true),
            v(&["IncomingBytes", "OutgoingBytes"])
        );
        let all = v(&SHARD_LEVEL_METRICS);
        assert_eq!(
            apply_metrics(
                &all,
                &v(&["IncomingBytes", "IteratorAgeMilliseconds"]),
                false
            ),
            v(&SHARD_LEVEL_METRICS[1..6])
        );
        assert!(apply_metrics(&all, &v(&["ALL"]), false).is_empty());
        // Disabling what is off changes nothing.
        assert!(apply_metrics(&[], &v(&["IncomingBytes"]), false).is_empty());
    }
}
