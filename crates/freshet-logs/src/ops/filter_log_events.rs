// SPDX-License-Identifier: Apache-2.0
//! FilterLogEvents. `interleaved` is accepted and ignored (AWS always interleaves since 2019);
//! `searchedLogStreams` is always empty, as AWS returns it since 2020.

use freshet_protocol::json::{JBool, JInt, JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use serde::{Deserialize, Serialize};

use super::{
    Checked, JLong, LogsOp, check_long_names, count, filter_pattern, group_name, group_ref,
    identifier, limit, next_token, owned, stream_name, timestamp,
};
use crate::error::Error;
use crate::model::{FilterEvents, StreamSelection};
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    log_group_identifier: Option<JStr>,
    log_stream_names: Option<JList<JStr>>,
    log_stream_name_prefix: Option<JStr>,
    start_time: Option<JLong>,
    end_time: Option<JLong>,
    filter_pattern: Option<JStr>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
    #[allow(dead_code)]
    interleaved: Option<JBool>,
    #[allow(dead_code)]
    unmask: Option<JBool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FilteredLogEvent {
    log_stream_name: String,
    timestamp: i64,
    message: String,
    ingestion_time: i64,
    event_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    events: Vec<FilteredLogEvent>,
    searched_log_streams: Vec<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct FilterLogEvents;

impl Checked for FilterLogEvents {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref(), i.log_stream_name_prefix.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, false);
        identifier(v, "logGroupIdentifier", &i.log_group_identifier);
        let names: Option<Vec<String>> = i
            .log_stream_names
            .as_ref()
            .map(|l| l.0.iter().map(|s| s.0.clone()).collect());
        v.string_list(
            "logStreamNames",
            names.as_deref(),
            (1, 100),
            StringMember::Length(1, 512),
        );
        stream_name(v, "logStreamNamePrefix", &i.log_stream_name_prefix, false);
        timestamp(v, "startTime", i.start_time);
        timestamp(v, "endTime", i.end_time);
        filter_pattern(v, "filterPattern", &i.filter_pattern);
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 10_000);
    }
}

impl LogsOp for FilterLogEvents {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let group = group_ref(i.log_group_name, i.log_group_identifier)?;
        let streams = match (i.log_stream_names, i.log_stream_name_prefix) {
            (Some(_), Some(_)) => return Err(Error::StreamNamesAndPrefix),
            (Some(names), None) => {
                StreamSelection::Names(names.0.into_iter().map(|s| s.0).collect())
            }
            (None, Some(prefix)) => StreamSelection::Prefixes(vec![prefix.0]),
            (None, None) => StreamSelection::All,
        };
        let page = logs
            .filter_log_events(FilterEvents {
                group,
                streams,
                start_time: i.start_time.map(|t| t.0),
                end_time: i.end_time.map(|t| t.0),
                pattern: owned(i.filter_pattern),
                limit: count(i.limit),
                next_token: owned(i.next_token),
            })
            .await?;
        Ok(Output {
            events: page
                .items
                .into_iter()
                .map(|e| FilteredLogEvent {
                    log_stream_name: e.stream,
                    timestamp: e.timestamp_ms,
                    message: e.message,
                    ingestion_time: e.ingestion_ms,
                    event_id: e.event_id,
                })
                .collect(),
            searched_log_streams: Vec::new(),
            next_token: page.next_token,
        })
    }
}
