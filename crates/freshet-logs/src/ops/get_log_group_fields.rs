// SPDX-License-Identifier: Apache-2.0
//! GetLogGroupFields: the fields of a group's events around `time` (8 minutes either side)
//! or in the last 15 minutes, with the percentage of events that have each, most common
//! first.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::start_query::InsightsOp;
use super::{Checked, JLong, check_long_names, group_name, group_ref, identifier, timestamp};
use crate::insights::error::QueryError;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    time: Option<JLong>,
    log_group_identifier: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LogGroupField {
    name: String,
    percent: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    log_group_fields: Vec<LogGroupField>,
}

pub(crate) struct GetLogGroupFields;

impl Checked for GetLogGroupFields {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), crate::error::Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        timestamp(v, "time", i.time);
        identifier(v, "logGroupIdentifier", &i.log_group_identifier);
    }
}

impl InsightsOp for GetLogGroupFields {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, QueryError> {
        let group = group_ref(i.log_group_name, i.log_group_identifier)?;
        let fields = logs.log_group_fields(group, i.time.map(|t| t.0)).await?;
        Ok(Output {
            log_group_fields: fields
                .into_iter()
                .map(|(name, percent)| LogGroupField { name, percent })
                .collect(),
        })
    }
}
