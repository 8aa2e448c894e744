// SPDX-License-Identifier: Apache-2.0
//! EnableEnhancedMonitoring (and the shapes DisableEnhancedMonitoring shares).

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{stream_ref, validate_stream};
use crate::monitoring::{ALL_METRICS, SHARD_LEVEL_METRICS};
use crate::{MonitoringChange, Streams};

pub(crate) struct EnableEnhancedMonitoring;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    pub stream_name: Option<JStr>,
    pub shard_level_metrics: Option<JList<JStr>>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<JStr>,
}

impl Input {
    /// The metric names asked for.
    pub fn metrics(&self) -> Vec<String> {
        self.shard_level_metrics
            .as_ref()
            .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
            .unwrap_or_default()
    }
}

/// `EnhancedMonitoringOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    stream_name: String,
    current_shard_level_metrics: Vec<String>,
    desired_shard_level_metrics: Vec<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
}

impl From<MonitoringChange> for Output {
    fn from(c: MonitoringChange) -> Self {
        Self {
            stream_name: c.stream_name,
            current_shard_level_metrics: c.current,
            desired_shard_level_metrics: c.desired,
            stream_arn: c.stream_arn,
        }
    }
}

/// Model checks of the monitoring inputs.
pub(crate) fn validate_monitoring(i: &Input, v: &mut Validator) {
    const NAMES: [&str; 8] = [
        SHARD_LEVEL_METRICS[0],
        SHARD_LEVEL_METRICS[1],
        SHARD_LEVEL_METRICS[2],
        SHARD_LEVEL_METRICS[3],
        SHARD_LEVEL_METRICS[4],
        SHARD_LEVEL_METRICS[5],
        SHARD_LEVEL_METRICS[6],
        ALL_METRICS,
    ];
    validate_stream(v, &i.stream_name, &i.stream_arn);
    v.required("shardLevelMetrics", &i.shard_level_metrics);
    let metrics = i.shard_level_metrics.as_ref().map(|_| i.metrics());
    v.string_list(
        "shardLevelMetrics",
        metrics.as_deref(),
        (1, 7),
        StringMember::OneOf(&NAMES),
    );
}

impl Operation<Streams> for EnableEnhancedMonitoring {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_monitoring(i, v);
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let metrics = i.metrics();
        let change = streams
            .enable_enhanced_monitoring(&stream_ref(i.stream_name, i.stream_arn), &metrics)
            .await?;
        Ok(change.into())
    }
}
