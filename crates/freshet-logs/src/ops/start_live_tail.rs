// SPDX-License-Identifier: Apache-2.0
//! StartLiveTail: an `application/vnd.amazon.eventstream` response.
//!
//! Failures before the session starts (bad parameters, unknown groups) are ordinary error
//! responses. Then the body is an `initial-response` event (`{}`: botocore requires it first
//! for JSON protocols), one `sessionStart` event, a `sessionUpdate` event every interval
//! (empty when nothing arrived), and at the session's timeout a `SessionTimeoutException`
//! exception message, after which the stream ends. The AWS SDKs address StartLiveTail at the
//! host prefix `stream-`; the service answers on any host.

use bytes::Bytes;
use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use freshet_protocol::{EVENT_STREAM, EventStream, Protocol, Response, eventstream};
use futures_util::stream;
use serde::Deserialize;
use serde::Serialize;

use super::{Checked, WIRE, decode, filter_pattern};
use crate::error::Error;
use crate::live_tail::{LiveTail, LiveTailItem, LiveTailRequest, LiveTailUpdate};
use crate::model::StreamSelection;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_identifiers: Option<JList<JStr>>,
    log_stream_names: Option<JList<JStr>>,
    log_stream_name_prefixes: Option<JList<JStr>>,
    log_event_filter_pattern: Option<JStr>,
}

fn strings(l: &Option<JList<JStr>>) -> Option<Vec<String>> {
    l.as_ref()
        .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
}

pub(crate) struct StartLiveTail;

impl Checked for StartLiveTail {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("logGroupIdentifiers", &i.log_group_identifiers);
        v.string_list(
            "logGroupIdentifiers",
            strings(&i.log_group_identifiers).as_deref(),
            (1, 10),
            StringMember::Length(1, 2048),
        );
        for (member, list) in [
            ("logStreamNames", &i.log_stream_names),
            ("logStreamNamePrefixes", &i.log_stream_name_prefixes),
        ] {
            v.string_list(
                member,
                strings(list).as_deref(),
                (1, 100),
                StringMember::Length(1, 512),
            );
        }
        filter_pattern(v, "logEventFilterPattern", &i.log_event_filter_pattern);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionStart<'a> {
    request_id: &'a str,
    session_id: &'a str,
    log_group_identifiers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    log_stream_names: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_stream_name_prefixes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_event_filter_pattern: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionMetadata {
    sampled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionResult {
    log_stream_name: String,
    log_group_identifier: String,
    message: String,
    timestamp: i64,
    ingestion_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionUpdate {
    session_metadata: SessionMetadata,
    session_results: Vec<SessionResult>,
}

fn event(event_type: &str, payload: &impl Serialize) -> Bytes {
    let body = serde_json::to_vec(payload).unwrap_or_else(|_| b"{}".to_vec());
    eventstream::encode(
        &[
            (":message-type", "event"),
            (":event-type", event_type),
            (":content-type", "application/json"),
        ],
        &body,
    )
}

fn exception(exception_type: &str, message: &str) -> Bytes {
    let body = serde_json::json!({ "message": message }).to_string();
    eventstream::encode(
        &[
            (":message-type", "exception"),
            (":exception-type", exception_type),
            (":content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn update_message(u: LiveTailUpdate) -> Bytes {
    event(
        "sessionUpdate",
        &SessionUpdate {
            session_metadata: SessionMetadata { sampled: u.sampled },
            session_results: u
                .results
                .into_iter()
                .map(|e| SessionResult {
                    log_stream_name: e.stream,
                    log_group_identifier: e.group_identifier,
                    message: e.message,
                    timestamp: e.timestamp_ms,
                    ingestion_time: e.ingestion_ms,
                })
                .collect(),
        },
    )
}

fn start(logs: &Logs, i: Input) -> Result<LiveTail, Error> {
    let streams = match (i.log_stream_names, i.log_stream_name_prefixes) {
        (Some(_), Some(_)) => return Err(Error::LiveTailBothStreamFilters),
        (Some(n), None) => StreamSelection::Names(n.0.into_iter().map(|s| s.0).collect()),
        (None, Some(p)) => StreamSelection::Prefixes(p.0.into_iter().map(|s| s.0).collect()),
        (None, None) => StreamSelection::All,
    };
    logs.start_live_tail(LiveTailRequest {
        groups: i
            .log_group_identifiers
            .map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default(),
        streams,
        pattern: i.log_event_filter_pattern.map(|p| p.0),
    })
}

/// Handles one StartLiveTail request.
pub(crate) fn handle(logs: &Logs, protocol: Protocol, body: &[u8], request_id: &str) -> Response {
    let tail = match decode::<StartLiveTail>(protocol, body)
        .and_then(|i| start(logs, i).map_err(Into::into))
    {
        Ok(t) => t,
        Err(e) => return WIRE.error_response(&e, protocol),
    };
    let (names, prefixes) = match &tail.request.streams {
        StreamSelection::Names(n) => (Some(n.as_slice()), None),
        StreamSelection::Prefixes(p) => (None, Some(p.as_slice())),
        StreamSelection::All => (None, None),
    };
    let start = event(
        "sessionStart",
        &SessionStart {
            request_id,
            session_id: &tail.session_id,
            log_group_identifiers: &tail.request.groups,
            log_stream_names: names,
            log_stream_name_prefixes: prefixes,
            log_event_filter_pattern: tail.request.pattern.as_deref(),
        },
    );
    let initial = eventstream::encode(
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
            (":content-type", "application/json"),
        ],
        b"{}",
    );
    let first = stream::iter([start]);
    let rest = stream::unfold(Some(tail), |tail| async move {
        let mut tail = tail?;
        match tail.next().await? {
            LiveTailItem::Update(u) => Some((update_message(u), Some(tail))),
            LiveTailItem::TimedOut => Some((
                exception(
                    "SessionTimeoutException",
                    "The Live Tail session reached its time limit and has ended.",
                ),
                None,
            )),
        }
    });
    let mut resp = Response::ok(protocol, initial);
    resp.content_type = EVENT_STREAM.into();
    resp.events = Some(EventStream(Box::pin(futures_util::StreamExt::chain(
        first, rest,
    ))));
    resp
}
