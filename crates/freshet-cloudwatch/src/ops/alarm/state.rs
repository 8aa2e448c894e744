// SPDX-License-Identifier: Apache-2.0
//! SetAlarmState, EnableAlarmActions, DisableAlarmActions and DeleteAlarms.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{required, strings};
use crate::alarms::State;
use crate::error::CwError;
use crate::ops::Ctx;

pub(crate) struct SetAlarmState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetAlarmStateInput {
    alarm_name: Option<JStr>,
    state_value: Option<JStr>,
    state_reason: Option<JStr>,
    state_reason_data: Option<JStr>,
}

impl<'a> Operation<Ctx<'a>> for SetAlarmState {
    type Input = SetAlarmStateInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &SetAlarmStateInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: SetAlarmStateInput) -> Result<(), ApiError> {
        let name = required(i.alarm_name, "AlarmName")?.0;
        let value = required(i.state_value, "StateValue")?.0;
        let reason = required(i.state_reason, "StateReason")?.0;
        let state = State::parse(&value).ok_or_else(|| {
            CwError::InvalidParameterValue(format!(
                "The value {value} for parameter StateValue is not valid."
            ))
        })?;
        if reason.chars().count() > 1023 {
            return Err(CwError::InvalidParameterValue(
                "The parameter StateReason must be shorter than 1024 characters.".into(),
            )
            .into());
        }
        let data = match i.state_reason_data {
            None => None,
            Some(d) if d.0.len() <= 4000 => Some(
                serde_json::from_str::<serde_json::Value>(&d.0).map_err(|_| {
                    CwError::InvalidFormat(
                        "The StateReasonData parameter is not valid JSON.".into(),
                    )
                })?,
            ),
            Some(_) => {
                return Err(CwError::InvalidParameterValue(
                    "The parameter StateReasonData must be shorter than 4001 characters.".into(),
                )
                .into());
            }
        };
        if ctx.cw.alarms.get(&name).is_none() {
            return Err(CwError::ResourceNotFound(format!("Alarm {name} not found")).into());
        }
        crate::alarms::evaluator::apply(ctx.cw, &name, state, reason, data);
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct NamesInput {
    alarm_names: Option<JList<JStr>>,
}

fn names(i: NamesInput) -> Result<Vec<String>, CwError> {
    let names = strings(Some(required(i.alarm_names, "AlarmNames")?));
    if names.len() > 100 {
        return Err(CwError::InvalidParameterValue(
            "The collection AlarmNames must not have a size greater than 100.".into(),
        ));
    }
    Ok(names)
}

pub(crate) struct EnableAlarmActions;

impl<'a> Operation<Ctx<'a>> for EnableAlarmActions {
    type Input = NamesInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &NamesInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: NamesInput) -> Result<(), ApiError> {
        ctx.cw.alarms.set_actions_enabled(&names(i)?, true)?;
        Ok(())
    }
}

pub(crate) struct DisableAlarmActions;

impl<'a> Operation<Ctx<'a>> for DisableAlarmActions {
    type Input = NamesInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &NamesInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: NamesInput) -> Result<(), ApiError> {
        ctx.cw.alarms.set_actions_enabled(&names(i)?, false)?;
        Ok(())
    }
}

pub(crate) struct DeleteAlarms;

impl<'a> Operation<Ctx<'a>> for DeleteAlarms {
    type Input = NamesInput;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &NamesInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: NamesInput) -> Result<(), ApiError> {
        ctx.cw.alarms.delete(&names(i)?)?;
        Ok(())
    }
}
