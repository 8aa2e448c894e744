// SPDX-License-Identifier: Apache-2.0
//! Asynchronous invocation settings (the *FunctionEventInvokeConfig operations): how Event
//! invocations of a function, version or alias are retried and where their outcome goes.
//!
//! The settings live in the function's record, keyed by qualifier (`$LATEST` when the
//! request names none), so they are written with it and deleted with it. A setting whose
//! version or alias was deleted is not shown and does not apply. Destinations: Freshet
//! delivers to SQS queues of this account and region; other destination types (SNS, Lambda,
//! EventBridge, S3) are refused with AWS's "destination config is invalid" error.
//!
//! Messages follow AWS (<https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html>):
//! a missing function or qualifier is "The function doesn't exist.", a missing setting
//! "The function <qualified ARN> doesn't have an EventInvokeConfig".

use freshet_sqs::redrive::QueueArn;

use crate::functions::names::LATEST;
use crate::functions::record::EventInvokeConfig;
use crate::functions::{Entry, Error, Functions, qualified, version_of};

/// The members of a Put or Update request (each `None` when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInvokeChange {
    /// `MaximumRetryAttempts`.
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumEventAgeInSeconds`.
    pub maximum_event_age_seconds: Option<u32>,
    /// `DestinationConfig`, when given: (OnSuccess, OnFailure) destinations, `None` or empty
    /// for none.
    pub destinations: Option<(Option<String>, Option<String>)>,
}

impl EventInvokeChange {
    fn is_empty(&self) -> bool {
        self.maximum_retry_attempts.is_none()
            && self.maximum_event_age_seconds.is_none()
            && self.destinations.is_none()
    }
}

/// One setting as the API shows it: the qualified function ARN and the setting.
pub type ShownConfig = (String, EventInvokeConfig);

fn no_function() -> Error {
    Error::ResourceNotFound("The function doesn't exist.".into())
}

fn no_config(arn: &str) -> Error {
    Error::ResourceNotFound(format!(
        "The function {arn} doesn't have an EventInvokeConfig"
    ))
}

/// Whether `qualifier` names `$LATEST`, a published version or an alias of `e`.
fn qualifier_exists(e: &Entry, qualifier: &str) -> bool {
    version_of(e, qualifier).is_some() || e.aliases.contains_key(qualifier)
}

impl Functions {
    /// PutFunctionEventInvokeConfig: replaces the setting of `name` (at `qualifier`, else
    /// `$LATEST`); members left out are unset.
    pub async fn put_event_invoke_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        change: EventInvokeChange,
    ) -> Result<ShownConfig, Error> {
        self.change_event_invoke_config(name, qualifier, change, true)
            .await
    }

    /// UpdateFunctionEventInvokeConfig: changes the members given of an existing setting.
    pub async fn update_event_invoke_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        change: EventInvokeChange,
    ) -> Result<ShownConfig, Error> {
        self.change_event_invoke_config(name, qualifier, change, false)
            .await
    }

    async fn change_event_invoke_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        change: EventInvokeChange,
        replace: bool,
    ) -> Result<ShownConfig, Error> {
        if change.is_empty() {
            return Err(Error::InvalidParameter(
                "You must specify at least one of error handling or destination setting.".into(),
            ));
        }
        let entry = self.entry(name).map_err(|_| no_function())?;
        let q = qualifier.unwrap_or(LATEST).to_owned();
        if !qualifier_exists(&entry, &q) {
            return Err(no_function());
        }
        if let Some((success, failure)) = &change.destinations {
            self.check_destinations(name, success.as_deref(), failure.as_deref())?;
        }
        let arn = qualified(&self.function_arn(name), Some(&q));
        let now = self.now_ms();
        let record = self
            .change_record(name, |r| {
                let old = r.event_invoke.get(&q).cloned();
                let mut c = match (replace, old) {
                    (true, _) => EventInvokeConfig::default(),
                    (false, Some(old)) => old,
                    (false, None) => return Err(no_config(&arn)),
                };
                if let Some(n) = change.maximum_retry_attempts {
                    c.maximum_retry_attempts = Some(n);
                }
                if let Some(n) = change.maximum_event_age_seconds {
                    c.maximum_event_age_seconds = Some(n);
                }
                if let Some((success, failure)) = change.destinations.clone() {
                    c.on_success = success.filter(|d| !d.is_empty());
                    c.on_failure = failure.filter(|d| !d.is_empty());
                }
                c.last_modified_ms = now;
                r.event_invoke.insert(q.clone(), c);
                Ok(())
            })
            .await?;
        let c = record.event_invoke.get(&q).cloned().unwrap_or_default();
        Ok((arn, c))
    }

    /// GetFunctionEventInvokeConfig.
    pub fn get_event_invoke_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<ShownConfig, Error> {
        let q = qualifier.unwrap_or(LATEST);
        let arn = qualified(&self.function_arn(name), Some(q));
        let entry = self.entry(name).map_err(|_| no_config(&arn))?;
        match entry.record.event_invoke.get(q) {
            Some(c) if qualifier_exists(&entry, q) => Ok((arn, c.clone())),
            _ => Err(no_config(&arn)),
        }
    }

    /// ListFunctionEventInvokeConfigs: every setting of `name`, in qualifier order.
    pub fn list_event_invoke_configs(&self, name: &str) -> Result<Vec<ShownConfig>, Error> {
        let entry = self.entry(name).map_err(|_| no_function())?;
        let arn = self.function_arn(name);
        Ok(entry
            .record
            .event_invoke
            .iter()
            .filter(|(q, _)| qualifier_exists(&entry, q))
            .map(|(q, c)| (qualified(&arn, Some(q)), c.clone()))
            .collect())
    }

    /// DeleteFunctionEventInvokeConfig.
    pub async fn delete_event_invoke_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), Error> {
        // AWS names the ARN as the request did (unqualified when no qualifier was given).
        let arn = qualified(&self.function_arn(name), qualifier);
        let q = qualifier.unwrap_or(LATEST).to_owned();
        self.entry(name).map_err(|_| no_config(&arn))?;
        self.change_record(name, |r| match r.event_invoke.remove(&q) {
            Some(_) => Ok(()),
            None => Err(no_config(&arn)),
        })
        .await
        .map_err(|e| match e {
            Error::FunctionNotFound { .. } => no_config(&arn),
            e => e,
        })?;
        Ok(())
    }

    /// The setting that applies to Event invocations of `name` at `qualifier` (`None` for
    /// `$LATEST`): the stored one, or AWS's defaults.
    pub fn event_invoke_config_for(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> EventInvokeConfig {
        let q = qualifier.unwrap_or(LATEST);
        self.read(|s| {
            s.get(name)
                .filter(|e| qualifier_exists(e, q))
                .and_then(|e| e.record.event_invoke.get(q).cloned())
        })
        .flatten()
        .unwrap_or_default()
    }

    /// Refuses destinations Freshet cannot deliver to, with AWS's messages.
    fn check_destinations(
        &self,
        name: &str,
        success: Option<&str>,
        failure: Option<&str>,
    ) -> Result<(), Error> {
        let opts = &self.inner.opts;
        let mut valid = true;
        for d in [success, failure].into_iter().flatten() {
            if d.is_empty() {
                continue;
            }
            if let Some(r) = d
                .strip_prefix("arn:aws:lambda:")
                .and_then(|_| crate::functions::names::FunctionRef::parse(d))
                && r.name == name
            {
                return Err(Error::InvalidParameter(
                    "You can't specify the function as a destination for itself.".into(),
                ));
            }
            let ours = QueueArn::parse(d)
                .is_some_and(|q| q.region == opts.region && q.account == opts.account_id);
            valid &= ours;
        }
        if valid {
            return Ok(());
        }
        let part = |kind: &str, d: Option<&str>| match d.filter(|d| !d.is_empty()) {
            Some(d) => format!("{kind}(destination={d})"),
            None => "null".to_owned(),
        };
        Err(Error::InvalidParameter(format!(
            "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) is \
             invalid.",
            part("OnSuccess", success),
            part("OnFailure", failure)
        )))
    }
}
