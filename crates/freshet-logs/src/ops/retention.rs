// SPDX-License-Identifier: Apache-2.0
//! PutRetentionPolicy and DeleteRetentionPolicy.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use serde::Deserialize;

use super::{Checked, Empty, LogsOp, check_long_names, group_name, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    log_group_name: Option<JStr>,
    retention_in_days: Option<JInt>,
}

pub(crate) struct PutRetentionPolicy;

impl Checked for PutRetentionPolicy {
    type Input = PutInput;

    fn precheck(i: &PutInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &PutInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        v.required("retentionInDays", &i.retention_in_days);
    }
}

impl LogsOp for PutRetentionPolicy {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: PutInput) -> Result<Empty, Error> {
        logs.put_retention_policy(
            text(&i.log_group_name).unwrap_or_default(),
            i.retention_in_days.map_or(0, |d| d.0),
        )
        .await?;
        Ok(Empty {})
    }
}
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteInput {
    log_group_name: Option<JStr>,
}

pub(crate) struct DeleteRetentionPolicy;

impl Checked for DeleteRetentionPolicy {
    type Input = DeleteInput;

    fn precheck(i: &DeleteInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &DeleteInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
    }
}

impl LogsOp for DeleteRetentionPolicy {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: DeleteInput) -> Result<Empty, Error> {
        logs.delete_retention_policy(text(&i.log_group_name).unwrap_or_default())
            .await?;
        Ok(Empty {})
    }
}
