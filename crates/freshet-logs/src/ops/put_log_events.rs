// SPDX-License-Identifier: Apache-2.0
//! PutLogEvents. Sequence tokens are accepted and ignored, as AWS does since 2023: no
//! InvalidSequenceTokenException or DataAlreadyAcceptedException is ever returned.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::{ListMember, Validator};
use serde::{Deserialize, Serialize};

use super::{Checked, JLong, LogsOp, check_long_names, group_name, stream_name, text};
use crate::error::Error;
use crate::model::InputEvent;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    log_stream_name: Option<JStr>,
    log_events: Option<JList<InputLogEvent>>,
    #[allow(dead_code)]
    sequence_token: Option<JStr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InputLogEvent {
    timestamp: Option<JLong>,
    message: Option<JStr>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct RejectedDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    too_new_log_event_start_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    too_old_log_event_end_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired_log_event_end_index: Option<usize>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    next_sequence_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_log_events_info: Option<RejectedDto>,
}

pub(crate) struct PutLogEvents;

impl Checked for PutLogEvents {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref(), i.log_stream_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "logStreamName", &i.log_stream_name, true);
        v.required("logEvents", &i.log_events);
        // The event count and message lengths are the batch rules' (put_rules.rs).
        for (index, e) in i.log_events.iter().flat_map(|l| l.0.iter()).enumerate() {
            let at = |member| ListMember {
                list: "logEvents",
                index,
                member,
            };
            v.required(at("timestamp"), &e.timestamp);
            v.int(at("timestamp"), e.timestamp.map(|t| t.0), Some(0), None);
            v.required(at("message"), &e.message);
        }
    }
}

impl LogsOp for PutLogEvents {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let events: Vec<InputEvent> = i
            .log_events
            .map(|l| l.0)
            .unwrap_or_default()
            .into_iter()
            .map(|e| InputEvent {
                timestamp_ms: e.timestamp.map_or(0, |t| t.0),
                message: e.message.map(|m| m.0).unwrap_or_default(),
            })
            .collect();
        let out = logs
            .put_log_events(
                text(&i.log_group_name).unwrap_or_default(),
                text(&i.log_stream_name).unwrap_or_default(),
                &events,
            )
            .await?;
        let r = out.rejected;
        Ok(Output {
            next_sequence_token: out.next_sequence_token,
            rejected_log_events_info: r.any().then_some(RejectedDto {
                too_new_log_event_start_index: r.too_new_log_event_start_index,
                too_old_log_event_end_index: r.too_old_log_event_end_index,
                expired_log_event_end_index: r.expired_log_event_end_index,
            }),
        })
    }
}
