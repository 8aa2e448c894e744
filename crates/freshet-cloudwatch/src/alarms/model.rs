// SPDX-License-Identifier: Apache-2.0
//! The alarm record as kept in the metadata store (`cloudwatch.alarms`, one JSON record per
//! alarm name) and its history items (`cloudwatch.alarm_history`, one bounded list per name).
//!
//! Invariants: `state_reason` is never empty; `state_transitioned_ms` only moves when the
//! state value changes; a metric alarm has exactly one of `metric` and `metrics`.

use serde::{Deserialize, Serialize};

/// An alarm's state value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// `OK`.
    #[serde(rename = "OK")]
    Ok,
    /// `ALARM`.
    #[serde(rename = "ALARM")]
    Alarm,
    /// `INSUFFICIENT_DATA`.
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl State {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Alarm => "ALARM",
            State::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// The state AWS spells `text`.
    pub fn parse(text: &str) -> Option<State> {
        match text {
            "OK" => Some(State::Ok),
            "ALARM" => Some(State::Alarm),
            "INSUFFICIENT_DATA" => Some(State::InsufficientData),
            _ => None,
        }
    }
}

/// One metric as an alarm names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRef {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub name: String,
    /// Dimensions as given (name, value).
    pub dimensions: Vec<(String, String)>,
}

/// The single-metric form of an alarm (MetricName, Namespace, Statistic…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleMetric {
    /// The metric.
    pub metric: MetricRef,
    /// `Statistic` (standard) when set.
    pub statistic: Option<String>,
    /// `ExtendedStatistic` (percentile) when set.
    pub extended_statistic: Option<String>,
    /// Period in seconds.
    pub period_s: u32,
    /// Unit filter.
    pub unit: Option<String>,
}

/// One `MetricDataQuery` of an alarm's `Metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmQuery {
    /// Id.
    pub id: String,
    /// Expression (metric math).
    pub expression: Option<String>,
    /// MetricStat.
    pub metric_stat: Option<QueryStat>,
    /// Label.
    pub label: Option<String>,
    /// ReturnData as given.
    pub return_data: Option<bool>,
    /// Period (of an expression).
    pub period_s: Option<u32>,
    /// AccountId.
    pub account_id: Option<String>,
}

impl AlarmQuery {
    /// Whether this query is the alarm's time series (ReturnData absent counts as true).
    pub fn returns_data(&self) -> bool {
        self.return_data.unwrap_or(true)
    }
}

/// `MetricStat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStat {
    /// The metric.
    pub metric: MetricRef,
    /// Period in seconds.
    pub period_s: u32,
    /// Stat.
    pub stat: String,
    /// Unit.
    pub unit: Option<String>,
}

/// The configuration of a metric alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarmConfig {
    /// The single-metric form.
    pub single: Option<SingleMetric>,
    /// The `Metrics` form.
    pub metrics: Vec<AlarmQuery>,
    /// EvaluationPeriods (N).
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M) as given.
    pub datapoints_to_alarm: Option<u32>,
    /// Threshold.
    pub threshold: Option<f64>,
    /// ThresholdMetricId.
    pub threshold_metric_id: Option<String>,
    /// ComparisonOperator.
    pub comparison_operator: String,
    /// TreatMissingData as given.
    pub treat_missing_data: Option<String>,
    /// EvaluateLowSampleCountPercentile as given.
    pub evaluate_low_sample_count_percentile: Option<String>,
}

impl MetricAlarmConfig {
    /// M: DatapointsToAlarm, or N when not given.
    pub fn m(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// The evaluation period in seconds (the single metric's, else the returned query's).
    pub fn period_s(&self) -> u32 {
        if let Some(s) = &self.single {
            return s.period_s;
        }
        self.metrics
            .iter()
            .find(|q| q.returns_data())
            .and_then(|q| q.metric_stat.as_ref().map(|s| s.period_s).or(q.period_s))
            .unwrap_or(60)
    }
}

/// The configuration of a composite alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeConfig {
    /// AlarmRule.
    pub rule: String,
}

/// What kind of alarm and its configuration.
// Alarms are few and live in one map: boxing the metric configuration would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmKind {
    /// A metric alarm.
    Metric(MetricAlarmConfig),
    /// A composite alarm.
    Composite(CompositeConfig),
}

/// An alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// AlarmName.
    pub name: String,
    /// AlarmArn.
    pub arn: String,
    /// AlarmDescription.
    pub description: Option<String>,
    /// ActionsEnabled.
    pub actions_enabled: bool,
    /// OKActions.
    pub ok_actions: Vec<String>,
    /// AlarmActions.
    pub alarm_actions: Vec<String>,
    /// InsufficientDataActions.
    pub insufficient_data_actions: Vec<String>,
    /// StateValue.
    pub state: State,
    /// StateReason.
    pub state_reason: String,
    /// StateReasonData (JSON text).
    pub state_reason_data: Option<String>,
    /// StateUpdatedTimestamp (epoch ms).
    pub state_updated_ms: i64,
    /// StateTransitionedTimestamp (epoch ms).
    pub state_transitioned_ms: i64,
    /// AlarmConfigurationUpdatedTimestamp (epoch ms).
    pub configuration_updated_ms: i64,
    /// The kind and its configuration.
    pub kind: AlarmKind,
    /// Tags (key, value) in key order.
    pub tags: Vec<(String, String)>,
}

impl Alarm {
    /// The actions of `state`.
    pub fn actions_for(&self, state: State) -> &[String] {
        match state {
            State::Ok => &self.ok_actions,
            State::Alarm => &self.alarm_actions,
            State::InsufficientData => &self.insufficient_data_actions,
        }
    }

    /// `MetricAlarm` or `CompositeAlarm`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            AlarmKind::Metric(_) => "MetricAlarm",
            AlarmKind::Composite(_) => "CompositeAlarm",
        }
    }

    /// The metric alarm's configuration.
    pub fn metric_config(&self) -> Option<&MetricAlarmConfig> {
        match &self.kind {
            AlarmKind::Metric(c) => Some(c),
            AlarmKind::Composite(_) => None,
        }
    }
}

/// `HistoryItemType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryKind {
    /// `ConfigurationUpdate`.
    ConfigurationUpdate,
    /// `StateUpdate`.
    StateUpdate,
    /// `Action`.
    Action,
}

impl HistoryKind {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::ConfigurationUpdate => "ConfigurationUpdate",
            HistoryKind::StateUpdate => "StateUpdate",
            HistoryKind::Action => "Action",
        }
    }

    /// The kind AWS spells `text`.
    pub fn parse(text: &str) -> Option<HistoryKind> {
        match text {
            "ConfigurationUpdate" => Some(HistoryKind::ConfigurationUpdate),
            "StateUpdate" => Some(HistoryKind::StateUpdate),
            "Action" => Some(HistoryKind::Action),
            _ => None,
        }
    }
}

/// One `AlarmHistoryItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// AlarmName.
    pub alarm_name: String,
    /// AlarmType (`MetricAlarm` / `CompositeAlarm`).
    pub alarm_type: String,
    /// Timestamp (epoch ms).
    pub timestamp_ms: i64,
    /// HistoryItemType.
    pub kind: HistoryKind,
    /// HistorySummary.
    pub summary: String,
    /// HistoryData (JSON text).
    pub data: String,
}
