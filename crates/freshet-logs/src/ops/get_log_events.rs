// SPDX-License-Identifier: Apache-2.0
//! GetLogEvents.

use freshet_protocol::json::{JBool, JInt, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::{
    Checked, JLong, LogsOp, check_long_names, count, group_name, group_ref, identifier, limit,
    next_token, owned, stream_name, timestamp,
};
use crate::error::Error;
use crate::model::GetEvents;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    log_group_identifier: Option<JStr>,
    log_stream_name: Option<JStr>,
    start_time: Option<JLong>,
    end_time: Option<JLong>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
    start_from_head: Option<JBool>,
    #[allow(dead_code)]
    unmask: Option<JBool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutputLogEvent {
    timestamp: i64,
    message: String,
    ingestion_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    events: Vec<OutputLogEvent>,
    next_forward_token: String,
    next_backward_token: String,
}

pub(crate) struct GetLogEvents;

impl Checked for GetLogEvents {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref(), i.log_stream_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        identifier(v, "logGroupIdentifier", &i.log_group_identifier);
        stream_name(v, "logStreamName", &i.log_stream_name, true);
        timestamp(v, "startTime", i.start_time);
        timestamp(v, "endTime", i.end_time);
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 10_000);
    }
}

impl LogsOp for GetLogEvents {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let page = logs
            .get_log_events(GetEvents {
                group: group_ref(i.log_group_name, i.log_group_identifier)?,
                stream: owned(i.log_stream_name).unwrap_or_default(),
                start_time: i.start_time.map(|t| t.0),
                end_time: i.end_time.map(|t| t.0),
                next_token: owned(i.next_token),
                limit: count(i.limit),
                start_from_head: i.start_from_head.is_some_and(|b| b.0),
            })
            .await?;
        Ok(Output {
            events: page
                .events
                .into_iter()
                .map(|e| OutputLogEvent {
                    timestamp: e.timestamp_ms,
                    message: e.message,
                    ingestion_time: e.ingestion_ms,
                })
                .collect(),
            next_forward_token: page.next_forward_token,
            next_backward_token: page.next_backward_token,
        })
    }
}
