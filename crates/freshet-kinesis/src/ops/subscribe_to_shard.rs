// SPDX-License-Identifier: Apache-2.0
//! SubscribeToShard: an `application/vnd.amazon.eventstream` response.
//!
//! Failures before the stream starts (bad parameters, unknown or inactive consumer, unknown
//! shard, a second call within five seconds) are ordinary error responses. Once started, the
//! body is an `initial-response` event, then `SubscribeToShardEvent`s pulled one at a time
//! from the domain's [`Subscription`], then either a clean end (lifetime over, or the last
//! event of a closed shard) or one `:message-type=exception` message. Event payloads use the
//! request's protocol: JSON (Data base64, timestamps epoch seconds) or CBOR (byte strings,
//! tag-1 epoch milliseconds), written as GetRecords writes its records (see `ops::records`).

use bytes::Bytes;
use freshet_protocol::json::{JStr, JTimestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{
    ApiError, EVENT_STREAM, EventStream, Protocol, Response, decode_input, eventstream,
};
use futures_util::stream;
use serde::{Deserialize, Serialize};

use super::ChildShardDto;
use super::consumer::validate_consumer_arn;
use super::records::{RecordsJson, serialize_records};
use crate::ops::patterns::{NAME_PATTERN, SEQUENCE_NUMBER_PATTERN, is_name, is_sequence_number};
use crate::{Error, IteratorStart, RecordOut, ShardEvent, Streams, Subscription};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<JStr>,
    shard_id: Option<JStr>,
    starting_position: Option<StartingPosition>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartingPosition {
    #[serde(rename = "Type")]
    kind: Option<JStr>,
    sequence_number: Option<JStr>,
    timestamp: Option<JTimestamp>,
}

/// `SubscribeToShardEvent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventDto {
    #[serde(serialize_with = "serialize_records")]
    records: Vec<RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuation_sequence_number: Option<String>,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    child_shards: Vec<ChildShardDto>,
}

#[derive(Debug, Serialize)]
struct ExceptionDto<'a> {
    message: &'a str,
}

const TYPES: &[&str] = &[
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

/// Handles one SubscribeToShard request.
pub(crate) async fn handle(streams: &Streams, protocol: Protocol, body: &[u8]) -> Response {
    match subscribe(streams, protocol, body) {
        Ok(r) => r,
        Err(e) => Response::error_in(&e, protocol),
    }
}

fn validate(i: &Input, v: &mut Validator) {
    v.required("consumerARN", &i.consumer_arn);
    validate_consumer_arn(v, &i.consumer_arn);
    v.required("shardId", &i.shard_id);
    v.string(
        "shardId",
        i.shard_id.as_ref().map(|s| s.0.as_str()),
        1,
        Some(128),
        Some((is_name, NAME_PATTERN)),
    );
    v.required("startingPosition", &i.starting_position);
    if let Some(p) = &i.starting_position {
        v.required("startingPosition.type", &p.kind);
        v.one_of(
            "startingPosition.type",
            p.kind.as_ref().map(|s| s.0.as_str()),
            TYPES,
        );
        v.string(
            "startingPosition.sequenceNumber",
            p.sequence_number.as_ref().map(|s| s.0.as_str()),
            0,
            None,
            Some((is_sequence_number, SEQUENCE_NUMBER_PATTERN)),
        );
    }
}

/// The domain starting position, with GetShardIterator's rules for which members go together.
fn start_of(p: StartingPosition) -> Result<IteratorStart, Error> {
    let ty = p.kind.as_ref().map_or("", |s| s.0.as_str());
    let iterator_type = TYPES.iter().copied().find(|t| *t == ty).unwrap_or("LATEST");
    let mismatch = |has_sequence| Error::IteratorSequenceMismatch {
        iterator_type,
        has_sequence,
    };
    Ok(match (iterator_type, p.sequence_number.map(|s| s.0)) {
        ("AT_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AtSequence(s),
        ("AFTER_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AfterSequence(s),
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => return Err(mismatch(false)),
        (_, Some(_)) => return Err(mismatch(true)),
        ("TRIM_HORIZON", None) => IteratorStart::TrimHorizon,
        ("AT_TIMESTAMP", None) => {
            IteratorStart::AtTimestamp(p.timestamp.ok_or(Error::TimestampMissing)?.0)
        }
        (_, None) => IteratorStart::Latest,
    })
}

fn subscribe(streams: &Streams, protocol: Protocol, body: &[u8]) -> Result<Response, ApiError> {
    let input: Input = decode_input(protocol, body, validate)?;
    let position = input
        .starting_position
        .ok_or_else(|| ApiError::validation("startingPosition is required".to_owned()))?;
    let subscription = streams.subscribe_to_shard(crate::SubscribeToShard {
        consumer_arn: input.consumer_arn.map(|s| s.0).unwrap_or_default(),
        shard_id: input.shard_id.map(|s| s.0).unwrap_or_default(),
        start: start_of(position)?,
    })?;
    let initial = message(
        protocol,
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
        ],
        payload(protocol, &EmptyDto {}),
    );
    let events = stream::unfold(Some(subscription), move |sub| next_message(sub, protocol));
    let mut resp = Response::ok(protocol, initial);
    resp.content_type = EVENT_STREAM.into();
    resp.events = Some(EventStream(Box::pin(events)));
    Ok(resp)
}

#[derive(Debug, Serialize)]
struct EmptyDto {}

/// The next encoded message of a subscription, or `None` once it is over.
async fn next_message(
    sub: Option<Subscription>,
    protocol: Protocol,
) -> Option<(Bytes, Option<Subscription>)> {
    let mut sub = sub?;
    match sub.next_event().await? {
        Ok(event) => Some((event_message(protocol, event), Some(sub))),
        Err(e) => {
            let e = ApiError::from(e);
            // The event-stream union names the internal failure InternalFailureException.
            let code = match e.code {
                "InternalFailure" => "InternalFailureException",
                other => other,
            };
            let text = e.message.unwrap_or_default();
            let m = message(
                protocol,
                &[(":message-type", "exception"), (":exception-type", code)],
                payload(protocol, &ExceptionDto { message: &text }),
            );
            Some((m, None))
        }
    }
}

fn event_message(protocol: Protocol, e: ShardEvent) -> Bytes {
    let dto = EventDto {
        records: e.records,
        continuation_sequence_number: e.continuation_sequence,
        millis_behind_latest: e.millis_behind_latest,
        child_shards: e
            .child_shards
            .into_iter()
            .map(ChildShardDto::from)
            .collect(),
    };
    let body = match protocol.is_cbor() {
        false => RecordsJson {
            records: &dto.records,
            continuation: (
                "ContinuationSequenceNumber",
                dto.continuation_sequence_number.as_deref(),
            ),
            millis_behind_latest: dto.millis_behind_latest,
            child_shards: &dto.child_shards,
        }
        .to_vec()
        .ok(),
        true => payload(protocol, &dto),
    };
    message(
        protocol,
        &[
            (":message-type", "event"),
            (":event-type", "SubscribeToShardEvent"),
        ],
        body,
    )
}

/// A message payload in the request's protocol, or `None` if it could not be encoded.
fn payload(protocol: Protocol, dto: &impl Serialize) -> Option<Vec<u8>> {
    if protocol.is_cbor() {
        let mut out = Vec::new();
        ciborium::into_writer(dto, &mut out).is_ok().then_some(out)
    } else {
        serde_json::to_vec(dto).ok()
    }
}

/// One message with `headers` plus `:content-type`, and `body`, the payload in the request's
/// protocol.
fn message(protocol: Protocol, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Bytes {
    let content_type = if protocol.is_cbor() {
        protocol.content_type()
    } else {
        "application/json"
    };
    let mut all = headers.to_vec();
    all.push((":content-type", content_type));
    match body {
        Some(body) => eventstream::encode(&all, &body),
        None => {
            // Our DTOs always encode; if one ever did not, the client learns it from the stream.
            tracing::error!("Could not encode a SubscribeToShard event.");
            eventstream::encode(
                &[
                    (":message-type", "exception"),
                    (":exception-type", "InternalFailureException"),
                    (":content-type", "application/json"),
                ],
                br#"{"message":"Internal service failure: could not encode the event."}"#,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::records::reference::{OldRecordDto, child_shards, continuation, record};
    use super::*;

    /// `SubscribeToShardEvent` as it was before the JSON writer.
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct OldEventDto {
        records: Vec<OldRecordDto>,
        #[serde(skip_serializing_if = "Option::is_none")]
        continuation_sequence_number: Option<String>,
        millis_behind_latest: i64,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        child_shards: Vec<ChildShardDto>,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn event_payloads_are_byte_for_byte_what_serde_wrote(
            records in proptest::collection::vec(record(), 0..8),
            continuation_sequence in continuation(),
            millis_behind_latest: i64,
            child_shards in child_shards(),
        ) {
            let event = ShardEvent {
                records,
                continuation_sequence,
                millis_behind_latest,
                child_shards,
            };
            let old = OldEventDto {
                records: event.records.iter().cloned().map(OldRecordDto::from).collect(),
                continuation_sequence_number: event.continuation_sequence.clone(),
                millis_behind_latest: event.millis_behind_latest,
                child_shards: event
                    .child_shards
                    .iter()
                    .cloned()
                    .map(ChildShardDto::from)
                    .collect(),
            };
            for protocol in [Protocol::Json11, Protocol::Cbor11] {
                let m = event_message(protocol, event.clone());
                let (msg, _) = eventstream::decode(&m).expect("valid").expect("complete");
                prop_assert_eq!(msg.payload.to_vec(), payload(protocol, &old).expect("encodes"));
            }
        }
    }

    #[test]
    fn cbor_events_use_byte_strings_and_integer_millis() {
        let e = ShardEvent {
            records: vec![crate::RecordOut {
                sequence: freshet_types::SequenceNumber::new(1, 0, 5),
                arrival_ms: 1_700_000_000_123,
                partition_key: "k".into(),
                data: Bytes::from_static(b"\x00\xff"),
                encrypted: false,
            }],
            continuation_sequence: Some("7".into()),
            millis_behind_latest: 0,
            child_shards: Vec::new(),
        };
        let m = event_message(Protocol::Cbor11, e);
        let (msg, _) = eventstream::decode(&m).expect("valid").expect("complete");
        assert_eq!(
            msg.header(":content-type"),
            Some(freshet_protocol::CBOR_1_1)
        );
        let v: ciborium::Value = ciborium::from_reader(&msg.payload[..]).expect("cbor");
        let records = v
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some("Records")))
            .and_then(|(_, v)| v.as_array())
            .expect("Records");
        let rec = records[0].as_map().expect("record map");
        let get = |name: &str| {
            rec.iter()
                .find(|(k, _)| k.as_text() == Some(name))
                .map(|(_, v)| v.clone())
                .expect(name)
        };
        assert_eq!(
            get("Data").as_bytes().map(Vec::as_slice),
            Some(&b"\x00\xff"[..])
        );
        let ts = get("ApproximateArrivalTimestamp");
        let (tag, inner) = ts.as_tag().expect("tag");
        assert_eq!(tag, 1);
        assert_eq!(inner.as_integer().map(i128::from), Some(1_700_000_000_123));
    }

    #[test]
    fn json_events_end_a_closed_shard_without_continuation() {
        let e = ShardEvent {
            records: Vec::new(),
            continuation_sequence: None,
            millis_behind_latest: 0,
            child_shards: Vec::new(),
        };
        let m = event_message(Protocol::Json11, e);
        let (msg, _) = eventstream::decode(&m).expect("valid").expect("complete");
        assert_eq!(msg.header(":event-type"), Some("SubscribeToShardEvent"));
        assert_eq!(msg.header(":content-type"), Some("application/json"));
        let v: serde_json::Value = serde_json::from_slice(&msg.payload).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"Records": [], "MillisBehindLatest": 0})
        );
    }
}
