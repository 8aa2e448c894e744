// SPDX-License-Identifier: Apache-2.0
//! DeleteLogGroup.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use serde::Deserialize;

use super::{Checked, Empty, LogsOp, check_long_names, group_name, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
}

pub(crate) struct DeleteLogGroup;

impl Checked for DeleteLogGroup {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
    }
}

impl LogsOp for DeleteLogGroup {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: Input) -> Result<Empty, Error> {
        logs.delete_log_group(text(&i.log_group_name).unwrap_or_default())
            .await?;
        Ok(Empty {})
    }
}
