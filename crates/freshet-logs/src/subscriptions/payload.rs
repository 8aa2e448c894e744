// SPDX-License-Identifier: Apache-2.0
//! What a subscription filter sends, without I/O: AWS's `DATA_MESSAGE` and `CONTROL_MESSAGE`
//! documents, gzip-compressed, cut to fit the destination's record limit.
//!
//! The document (Amazon CloudWatch Logs User Guide, "Using CloudWatch Logs subscription
//! filters"; keys in this order):
//!
//! ```json
//! {"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g","logStream":"s",
//!  "subscriptionFilters":["f"],"logEvents":[{"id":"<56 digits>","timestamp":1,"message":"m"}]}
//! ```
//!
//! One document holds the events of one log stream. Batching counts the uncompressed JSON
//! against a budget a little below the destination's limit, so the gzip output (at most the
//! input plus a small framing overhead for incompressible data) always fits; an event whose
//! document alone exceeds the budget is compressed on its own and sent if that fits.

use std::io::Write as _;

use base64::Engine as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

/// Kinesis Data Streams: a record's data blob (1 MiB with the partition key; 256 bytes are
/// kept for the key).
pub const KINESIS_RECORD_LIMIT: usize = 1024 * 1024 - 256;
/// Firehose: 1,000 KiB per record.
pub const FIREHOSE_RECORD_LIMIT: usize = 1000 * 1024;
/// Lambda: the asynchronous invocation payload CloudWatch Logs sends (256 KB), whole
/// `{"awslogs":{"data":"..."}}` document included.
pub const LAMBDA_PAYLOAD_LIMIT: usize = 256 * 1024;
/// `{"awslogs":{"data":""}}`.
const LAMBDA_ENVELOPE: usize = 23;

/// The gzip bytes that fit a Lambda payload once base64-encoded and wrapped.
pub const fn lambda_gzip_limit() -> usize {
    (LAMBDA_PAYLOAD_LIMIT - LAMBDA_ENVELOPE) / 4 * 3
}

/// One event of a data message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadEvent {
    /// 56-digit event id (the same one FilterLogEvents shows).
    pub id: String,
    /// The event's timestamp, ms.
    pub timestamp: i64,
    /// The message.
    pub message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    message_type: &'a str,
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    subscription_filters: &'a [String],
    log_events: &'a [PayloadEvent],
}

/// Who the events come from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The account id.
    pub owner: &'a str,
    /// logGroup.
    pub group: &'a str,
    /// logStream.
    pub stream: &'a str,
    /// The filter's name.
    pub filter: &'a str,
}

/// A compressed document with the number of events it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    /// gzip bytes.
    pub data: Vec<u8>,
    /// Events in it.
    pub events: usize,
    /// Their message bytes.
    pub message_bytes: usize,
}

/// What [`batches`] could not send: events too large for the destination even alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Oversized {
    /// Their ids.
    pub ids: Vec<String>,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn document(origin: Origin<'_>, events: &[PayloadEvent]) -> Vec<u8> {
    let filters = [origin.filter.to_owned()];
    let doc = Document {
        message_type: "DATA_MESSAGE",
        owner: origin.owner,
        log_group: origin.group,
        log_stream: origin.stream,
        subscription_filters: &filters,
        log_events: events,
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// The JSON length an event adds to a document's `logEvents`.
fn event_len(e: &PayloadEvent) -> usize {
    serde_json::to_vec(e).map_or(usize::MAX, |v| v.len()) + 1
}

/// The uncompressed bytes a batch may hold so its gzip output stays within `limit`.
pub fn budget(limit: usize) -> usize {
    // Stored deflate blocks add 5 bytes per 16 KiB at most; gzip framing adds 18.
    limit.saturating_sub(limit / 512 + 64)
}

/// Cuts one stream's events into gzip-compressed data messages of at most `limit` bytes.
pub fn batches(
    origin: Origin<'_>,
    events: &[PayloadEvent],
    limit: usize,
) -> (Vec<Compressed>, Oversized) {
    let budget = budget(limit);
    let base = document(origin, &[]).len();
    let mut out = Vec::new();
    let mut oversized = Oversized::default();
    let mut start = 0;
    let mut size = base;
    let flush = |from: usize, to: usize, out: &mut Vec<Compressed>| {
        if from < to {
            out.push(Compressed {
                data: gzip(&document(origin, &events[from..to])),
                events: to - from,
                message_bytes: events[from..to].iter().map(|e| e.message.len()).sum(),
            });
        }
    };
    for (i, e) in events.iter().enumerate() {
        let len = event_len(e);
        if base.saturating_add(len) > budget {
            flush(start, i, &mut out);
            let alone = gzip(&document(origin, std::slice::from_ref(e)));
            if alone.len() <= limit {
                out.push(Compressed {
                    data: alone,
                    events: 1,
                    message_bytes: e.message.len(),
                });
            } else {
                oversized.ids.push(e.id.clone());
            }
            start = i + 1;
            size = base;
            continue;
        }
        if size.saturating_add(len) > budget {
            flush(start, i, &mut out);
            start = i;
            size = base;
        }
        size += len;
    }
    flush(start, events.len(), &mut out);
    (out, oversized)
}

/// The health check AWS sends a Kinesis or Firehose destination when the filter is put.
pub fn control_message(destination: &str, now_ms: i64) -> Vec<u8> {
    let events = [PayloadEvent {
        id: String::new(),
        timestamp: now_ms,
        message: format!("CWL CONTROL MESSAGE: Checking health of destination {destination}."),
    }];
    let doc = Document {
        message_type: "CONTROL_MESSAGE",
        owner: "CloudwatchLogs",
        log_group: "",
        log_stream: "",
        subscription_filters: &[],
        log_events: &events,
    };
    gzip(&serde_json::to_vec(&doc).unwrap_or_default())
}

/// Lambda's event: `{"awslogs":{"data":"<base64 of the gzip bytes>"}}`.
pub fn lambda_event(gzip: &[u8]) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(gzip);
    serde_json::to_vec(&serde_json::json!({ "awslogs": { "data": data } })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use proptest::prelude::*;

    use super::*;

    fn gunzip(data: &[u8]) -> serde_json::Value {
        let mut s = String::new();
        flate2::read::GzDecoder::new(data)
            .read_to_string(&mut s)
            .unwrap();
        serde_json::from_str(&s).unwrap()
    }

    const ORIGIN: Origin<'static> = Origin {
        owner: "000000000000",
        group: "g",
        stream: "s",
        filter: "f",
    };

    fn event(n: u64, message: &str) -> PayloadEvent {
        PayloadEvent {
            id: crate::token::event_id(1, n),
            timestamp: n as i64,
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_data_message_has_aws_keys_in_aws_order() {
        let (out, over) = batches(ORIGIN, &[event(1, "hello")], KINESIS_RECORD_LIMIT);
        assert!(over.ids.is_empty());
        assert_eq!(out.len(), 1);
        let mut s = String::new();
        flate2::read::GzDecoder::new(&out[0].data[..])
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(
            s,
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"000000000000","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"{}","timestamp":1,"message":"hello"}}]}}"#,
                crate::token::event_id(1, 1)
            )
        );
    }

    #[test]
    fn a_control_message_names_the_destination() {
        let v = gunzip(&control_message("Kinesis stream", 5));
        assert_eq!(v["messageType"], "CONTROL_MESSAGE");
        assert_eq!(v["owner"], "CloudwatchLogs");
        assert_eq!(
            v["logEvents"][0]["message"],
            "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
        );
    }

    #[test]
    fn batches_stay_within_the_limit_and_keep_every_event_in_order() {
        // Random-ish text compresses poorly, which is the worst case for the budget.
        let mut seed = 7u64;
        let events: Vec<PayloadEvent> = (0..300)
            .map(|n| {
                let msg: String = (0..3000)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        char::from(b'!' + ((seed >> 33) % 90) as u8)
                    })
                    .collect();
                event(n, &msg)
            })
            .collect();
        let limit = lambda_gzip_limit();
        let (out, over) = batches(ORIGIN, &events, limit);
        assert!(over.ids.is_empty());
        assert!(out.len() > 1);
        let mut ids = Vec::new();
        for c in &out {
            assert!(c.data.len() <= limit, "{} > {limit}", c.data.len());
            let v = gunzip(&c.data);
            let evs = v["logEvents"].as_array().unwrap();
            assert_eq!(evs.len(), c.events);
            ids.extend(evs.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        }
        let want: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, want);
        let lambda = lambda_event(&out[0].data);
        assert!(lambda.len() <= LAMBDA_PAYLOAD_LIMIT);
    }

    #[test]
    fn an_event_too_large_even_compressed_is_reported_not_sent() {
        let mut seed = 1u64;
        let big: String = (0..300_000)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                char::from(b'!' + ((seed >> 33) % 90) as u8)
            })
            .collect();
        let compressible = "a".repeat(300_000);
        let events = [event(1, "x"), event(2, &big), event(3, &compressible)];
        let (out, over) = batches(ORIGIN, &events, lambda_gzip_limit());
        assert_eq!(over.ids, vec![events[1].id.clone()]);
        let sent: usize = out.iter().map(|c| c.events).sum();
        assert_eq!(sent, 2);
    }

    proptest! {
        #[test]
        fn any_events_fit_and_round_trip(
            msgs in proptest::collection::vec("\\PC{0,400}", 0..60),
            limit in 2_000usize..20_000,
        ) {
            let events: Vec<PayloadEvent> =
                msgs.iter().enumerate().map(|(i, m)| event(i as u64, m)).collect();
            let (out, over) = batches(ORIGIN, &events, limit);
            let mut n = 0;
            for c in &out {
                prop_assert!(c.data.len() <= limit);
                let v = gunzip(&c.data);
                for e in v["logEvents"].as_array().unwrap() {
                    prop_assert_eq!(e["message"].as_str().unwrap(), events[n].message.as_str());
                    n += 1;
                }
            }
            prop_assert_eq!(n + over.ids.len(), events.len());
        }
    }
}
