// SPDX-License-Identifier: Apache-2.0
//! Metric and composite alarms: records, the state machine, evaluation and actions.
//!
//! - [`model`]: the records; [`validate`]: PutMetricAlarm's rules; [`eval`]: the state
//!   machine as pure functions; [`evaluator`]: the component that evaluates every alarm;
//!   [`actions`]: what an action ARN does; [`rule`]: the composite AlarmRule language.
//! - [`Alarms`] keeps every alarm in memory and writes each change through to the metadata
//!   store before it returns (so state survives restarts); the in-memory map is the
//!   authority while the process runs, loaded from the store at open.
//! - History is kept per alarm name (also after a delete, as AWS does) as one bounded list:
//!   at most [`HISTORY_PER_ALARM`] items, none older than 30 days.

pub mod actions;
pub mod eval;
pub mod evaluator;
pub mod model;
pub mod rule;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use freshet_meta::{Meta, Table};
use freshet_runtime::Platform;
use freshet_types::clock::Clock;
use serde_json::json;

pub use evaluator::evaluator;
pub use model::{Alarm, AlarmKind, HistoryItem, HistoryKind, State};

use crate::error::CwError;

/// Alarm records, by name.
const ALARMS: Table = Table::new("cloudwatch", "alarms");
/// History lists, by alarm name.
const HISTORY: Table = Table::new("cloudwatch", "alarm_history");

/// The most history items kept per alarm.
pub const HISTORY_PER_ALARM: usize = 200;
/// How long history is kept (AWS: 30 days).
pub const HISTORY_RETENTION_MS: i64 = 30 * 86_400_000;
/// The most alarms an account may have (LimitExceeded beyond).
pub const MAX_ALARMS: usize = 10_000;

/// The alarms of the account.
pub struct Alarms {
    meta: Arc<Meta>,
    clock: Arc<dyn Clock>,
    alarms: Mutex<BTreeMap<String, Alarm>>,
    history: Mutex<BTreeMap<String, Vec<HistoryItem>>>,
    peers: RwLock<actions::Peers>,
}

impl std::fmt::Debug for Alarms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alarms").finish_non_exhaustive()
    }
}

fn meta_err(e: freshet_meta::MetaError) -> CwError {
    CwError::Internal(e.to_string())
}

impl Alarms {
    /// Loads the alarms kept on `platform`.
    pub fn open(platform: &Platform) -> Result<Self, String> {
        let meta = platform.meta.clone();
        let alarms: BTreeMap<String, Alarm> = meta
            .scan_json::<Alarm>(ALARMS, "")
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        let history: BTreeMap<String, Vec<HistoryItem>> = meta
            .scan_json::<Vec<HistoryItem>>(HISTORY, "")
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        Ok(Self {
            meta,
            clock: platform.clock.clone(),
            alarms: Mutex::new(alarms),
            history: Mutex::new(history),
            peers: RwLock::new(actions::Peers::default()),
        })
    }

    /// The clock alarms are stamped with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Sets what actions reach (the server installs SQS, webhooks, Lambda).
    pub fn set_peers(&self, peers: actions::Peers) {
        *self.peers.write().unwrap_or_else(|p| p.into_inner()) = peers;
    }

    /// What actions reach.
    pub fn peers(&self) -> actions::Peers {
        self.peers.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The alarm named `name`.
    pub fn get(&self, name: &str) -> Option<Alarm> {
        lock(&self.alarms).get(name).cloned()
    }

    /// Every alarm, in name order.
    pub fn all(&self) -> Vec<Alarm> {
        lock(&self.alarms).values().cloned().collect()
    }

    /// The alarm whose ARN is `arn`.
    pub fn by_arn(&self, arn: &str) -> Option<Alarm> {
        let name = arn.rsplit_once(":alarm:").map(|(_, n)| n)?;
        self.get(name).filter(|a| a.arn == arn)
    }

    fn store(&self, alarm: &Alarm) -> Result<(), CwError> {
        self.meta
            .put_json(ALARMS, &alarm.name, alarm)
            .map_err(meta_err)
    }

    /// Creates or replaces an alarm's configuration (PutMetricAlarm, PutCompositeAlarm):
    /// a new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); an
    /// update keeps the state and the tags (new `tags` are added). Records the
    /// ConfigurationUpdate history item.
    pub fn put(&self, mut alarm: Alarm) -> Result<(), CwError> {
        let now = self.clock.now_ms();
        let previous = {
            let mut alarms = lock(&self.alarms);
            let previous = alarms.get(&alarm.name).cloned();
            if previous.is_none() && alarms.len() >= MAX_ALARMS {
                return Err(CwError::LimitExceeded(format!(
                    "The maximum number of alarms ({MAX_ALARMS}) has been reached."
                )));
            }
            if let Some(p) = &previous {
                if p.type_name() != alarm.type_name() {
                    return Err(CwError::InvalidParameterValue(format!(
                        "An alarm of another type named {} already exists.",
                        alarm.name
                    )));
                }
                alarm.state = p.state;
                alarm.state_reason = p.state_reason.clone();
                alarm.state_reason_data = p.state_reason_data.clone();
                alarm.state_updated_ms = p.state_updated_ms;
                alarm.state_transitioned_ms = p.state_transitioned_ms;
                let mut tags: BTreeMap<String, String> = p.tags.iter().cloned().collect();
                tags.extend(alarm.tags.drain(..));
                alarm.tags = tags.into_iter().collect();
            } else {
                alarm.state = State::InsufficientData;
                alarm.state_reason = "Unchecked: Initial alarm creation".to_owned();
                alarm.state_reason_data = None;
                alarm.state_updated_ms = now;
                alarm.state_transitioned_ms = now;
            }
            alarm.configuration_updated_ms = now;
            self.store(&alarm)?;
            alarms.insert(alarm.name.clone(), alarm.clone());
            previous
        };
        let (verb, kind, member) = match &previous {
            None => ("created", "Create", "createdAlarm"),
            Some(_) => ("updated", "Update", "updatedAlarm"),
        };
        let mut data = json!({"version": "1.0", "type": kind});
        if let Some(p) = &previous {
            data["originalAlarm"] = history_view(p);
        }
        data[member] = history_view(&alarm);
        self.add_history(HistoryItem {
            alarm_name: alarm.name.clone(),
            alarm_type: alarm.type_name().to_owned(),
            timestamp_ms: now,
            kind: HistoryKind::ConfigurationUpdate,
            summary: format!("Alarm \"{}\" {verb}", alarm.name),
            data: data.to_string(),
        });
        Ok(())
    }

    /// Deletes alarms: all or nothing (ResourceNotFound naming the first missing one).
    pub fn delete(&self, names: &[String]) -> Result<(), CwError> {
        let mut alarms = lock(&self.alarms);
        if let Some(missing) = names.iter().find(|n| !alarms.contains_key(n.as_str())) {
            return Err(CwError::ResourceNotFound(format!(
                "The following alarms were not found: [{missing}]"
            )));
        }
        for n in names {
            self.meta.delete(ALARMS, n).map_err(meta_err)?;
            alarms.remove(n);
        }
        Ok(())
    }

    /// Sets ActionsEnabled on the alarms that exist among `names` (AWS ignores the others).
    pub fn set_actions_enabled(&self, names: &[String], enabled: bool) -> Result<(), CwError> {
        let mut alarms = lock(&self.alarms);
        for n in names {
            if let Some(a) = alarms.get_mut(n)
                && a.actions_enabled != enabled
            {
                let mut updated = a.clone();
                updated.actions_enabled = enabled;
                self.store(&updated)?;
                *a = updated;
            }
        }
        Ok(())
    }

    /// Adds or replaces tags of the alarm at `arn`.
    pub fn tag(&self, arn: &str, tags: Vec<(String, String)>) -> Result<(), CwError> {
        self.update_tags(arn, |t| {
            t.extend(tags);
        })
    }

    /// Removes tag keys from the alarm at `arn`.
    pub fn untag(&self, arn: &str, keys: &[String]) -> Result<(), CwError> {
        self.update_tags(arn, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    fn update_tags(
        &self,
        arn: &str,
        f: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), CwError> {
        let name = arn.rsplit_once(":alarm:").map(|(_, n)| n).unwrap_or("");
        let mut alarms = lock(&self.alarms);
        let Some(a) = alarms.get_mut(name).filter(|a| a.arn == arn) else {
            return Err(not_found_arn(arn));
        };
        let mut tags: BTreeMap<String, String> = a.tags.iter().cloned().collect();
        f(&mut tags);
        if tags.len() > 50 {
            return Err(CwError::LimitExceeded(
                "The maximum number of tags (50) for the resource has been reached.".to_owned(),
            ));
        }
        let mut updated = a.clone();
        updated.tags = tags.into_iter().collect();
        self.store(&updated)?;
        *a = updated;
        Ok(())
    }

    /// Moves the alarm to `state` with `reason` (evaluation or SetAlarmState), stamping the
    /// StateUpdate history item; returns the alarm as before and after when the state value
    /// changed (the caller runs the actions), `None` when it did not or the alarm is gone.
    pub fn transition(
        &self,
        name: &str,
        state: State,
        reason: String,
        reason_data: Option<String>,
    ) -> Result<Option<(Alarm, Alarm)>, CwError> {
        let now = self.clock.now_ms();
        let (old, new) = {
            let mut alarms = lock(&self.alarms);
            let Some(a) = alarms.get_mut(name) else {
                return Ok(None);
            };
            if a.state == state {
                return Ok(None);
            }
            let old = a.clone();
            let mut new = a.clone();
            new.state = state;
            new.state_reason = reason;
            new.state_reason_data = reason_data;
            new.state_updated_ms = now;
            new.state_transitioned_ms = now;
            self.store(&new)?;
            *a = new.clone();
            (old, new)
        };
        let mut new_state = json!({
            "stateValue": new.state.as_str(),
            "stateReason": new.state_reason,
        });
        if let Some(d) = new
            .state_reason_data
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        {
            new_state["stateReasonData"] = d;
        }
        let data = json!({
            "version": "1.0",
            "oldState": {"stateValue": old.state.as_str(), "stateReason": old.state_reason},
            "newState": new_state,
        });
        self.add_history(HistoryItem {
            alarm_name: name.to_owned(),
            alarm_type: new.type_name().to_owned(),
            timestamp_ms: now,
            kind: HistoryKind::StateUpdate,
            summary: format!(
                "Alarm updated from {} to {}",
                old.state.as_str(),
                new.state.as_str()
            ),
            data: data.to_string(),
        });
        Ok(Some((old, new)))
    }

    /// Appends a history item (bounded; older than 30 days dropped). A failure to persist
    /// is logged: history is not worth failing the state change that already happened.
    pub fn add_history(&self, item: HistoryItem) {
        let now = self.clock.now_ms();
        let mut history = lock(&self.history);
        let list = history.entry(item.alarm_name.clone()).or_default();
        let name = item.alarm_name.clone();
        list.push(item);
        list.retain(|i| now - i.timestamp_ms <= HISTORY_RETENTION_MS);
        if list.len() > HISTORY_PER_ALARM {
            let extra = list.len() - HISTORY_PER_ALARM;
            list.drain(..extra);
        }
        if let Err(e) = self.meta.put_json(HISTORY, &name, list) {
            tracing::warn!(alarm = %name, error = %e, "Could not store alarm history.");
        }
    }

    /// History items of `name` (or of every alarm), newest first unless `oldest_first`.
    pub fn history(&self, name: Option<&str>, oldest_first: bool) -> Vec<HistoryItem> {
        let history = lock(&self.history);
        let mut items: Vec<HistoryItem> = match name {
            Some(n) => history.get(n).cloned().unwrap_or_default(),
            None => history.values().flatten().cloned().collect(),
        };
        items.sort_by_key(|i| i.timestamp_ms);
        if !oldest_first {
            items.reverse();
        }
        items
    }
}

/// The missing-resource error of the tag operations.
fn not_found_arn(arn: &str) -> CwError {
    CwError::ResourceNotFoundException(format!("Resource {arn} not found."))
}

/// The alarm as ConfigurationUpdate HistoryData shows it.
fn history_view(a: &Alarm) -> serde_json::Value {
    let mut v = json!({
        "alarmName": a.name,
        "actionsEnabled": a.actions_enabled,
        "okActions": a.ok_actions,
        "alarmActions": a.alarm_actions,
        "insufficientDataActions": a.insufficient_data_actions,
    });
    if let Some(d) = &a.description {
        v["alarmDescription"] = json!(d);
    }
    match &a.kind {
        AlarmKind::Metric(c) => {
            if let Some(s) = &c.single {
                v["namespace"] = json!(s.metric.namespace);
                v["metricName"] = json!(s.metric.name);
                v["dimensions"] = s
                    .metric
                    .dimensions
                    .iter()
                    .map(|(n, val)| json!({"name": n, "value": val}))
                    .collect();
                v["period"] = json!(s.period_s);
                if let Some(st) = &s.statistic {
                    v["statistic"] = json!(st.to_uppercase());
                }
                if let Some(st) = &s.extended_statistic {
                    v["extendedStatistic"] = json!(st);
                }
            }
            v["evaluationPeriods"] = json!(c.evaluation_periods);
            if let Some(m) = c.datapoints_to_alarm {
                v["datapointsToAlarm"] = json!(m);
            }
            if let Some(t) = c.threshold {
                v["threshold"] = json!(t);
            }
            v["comparisonOperator"] = json!(c.comparison_operator);
            v["treatMissingData"] = json!(c.treat_missing_data.as_deref().unwrap_or("missing"));
        }
        AlarmKind::Composite(c) => {
            v["alarmRule"] = json!(c.rule);
        }
    }
    v
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
