// SPDX-License-Identifier: Apache-2.0
//! CreateLogStream.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use serde::Deserialize;

use super::{Checked, Empty, LogsOp, check_long_names, group_name, stream_name, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    log_stream_name: Option<JStr>,
}

pub(crate) struct CreateLogStream;

impl Checked for CreateLogStream {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref(), i.log_stream_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "logStreamName", &i.log_stream_name, true);
    }
}

impl LogsOp for CreateLogStream {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: Input) -> Result<Empty, Error> {
        logs.create_log_stream(
            text(&i.log_group_name).unwrap_or_default(),
            text(&i.log_stream_name).unwrap_or_default(),
        )
        .await?;
        Ok(Empty {})
    }
}
