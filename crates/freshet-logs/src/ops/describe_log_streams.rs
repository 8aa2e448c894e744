// SPDX-License-Identifier: Apache-2.0
//! DescribeLogStreams.

use freshet_protocol::json::{JBool, JInt, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::{
    Checked, LogsOp, check_long_names, count, group_name, group_ref, identifier, limit, next_token,
    owned, stream_name, text,
};
use crate::error::Error;
use crate::model::DescribeStreams;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    log_group_identifier: Option<JStr>,
    log_stream_name_prefix: Option<JStr>,
    order_by: Option<JStr>,
    descending: Option<JBool>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
}

/// `LogStream`. `storedBytes` is always 0, as AWS has reported it for streams since 2019.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LogStreamDto {
    log_stream_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_ingestion_time: Option<i64>,
    arn: String,
    stored_bytes: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    log_streams: Vec<LogStreamDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct DescribeLogStreams;

impl Checked for DescribeLogStreams {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref(), i.log_stream_name_prefix.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        identifier(v, "logGroupIdentifier", &i.log_group_identifier);
        stream_name(v, "logStreamNamePrefix", &i.log_stream_name_prefix, false);
        v.one_of(
            "orderBy",
            text(&i.order_by),
            &["LogStreamName", "LastEventTime"],
        );
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 50);
    }
}

impl LogsOp for DescribeLogStreams {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let page = logs.describe_log_streams(&DescribeStreams {
            group: group_ref(i.log_group_name, i.log_group_identifier)?,
            prefix: owned(i.log_stream_name_prefix),
            by_last_event_time: text(&i.order_by) == Some("LastEventTime"),
            descending: i.descending.is_some_and(|b| b.0),
            limit: count(i.limit),
            next_token: owned(i.next_token),
        })?;
        Ok(Output {
            log_streams: page
                .items
                .into_iter()
                .map(|s| LogStreamDto {
                    log_stream_name: s.name,
                    creation_time: s.created_ms,
                    first_event_timestamp: s.first_event_ms,
                    last_event_timestamp: s.last_event_ms,
                    last_ingestion_time: s.last_ingestion_ms,
                    arn: s.arn,
                    stored_bytes: 0,
                })
                .collect(),
            next_token: page.next_token,
        })
    }
}
