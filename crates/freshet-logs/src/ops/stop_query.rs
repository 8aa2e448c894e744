// SPDX-License-Identifier: Apache-2.0
//! StopQuery: `success` is true when the query was still running and is now Cancelled;
//! a finished query stays as it ended.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::start_query::InsightsOp;
use super::{Checked, text};
use crate::insights::error::QueryError;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    query_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {
    success: bool,
}

pub(crate) struct StopQuery;

impl Checked for StopQuery {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("queryId", &i.query_id);
        v.string("queryId", text(&i.query_id), 1, Some(256), None);
    }
}

impl InsightsOp for StopQuery {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, QueryError> {
        let id = i.query_id.map(|s| s.0).unwrap_or_default();
        Ok(Output {
            success: logs.stop_query(&id)?,
        })
    }
}
