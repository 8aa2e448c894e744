// SPDX-License-Identifier: Apache-2.0
//! A message as stored in a queue's messages log: one log record per sent message (the
//! record's partition key is the message id), whose offset is the message's position.
//!
//! # Record data layout (version 1)
//!
//! All integers little-endian. `str16` = u16 length + UTF-8, `str32`/`bytes32` = u32 length +
//! bytes. Optional fields are present exactly when their flag bit is set.
//!
//! | bytes   | field          | notes                                                     |
//! |---------|----------------|-----------------------------------------------------------|
//! | 0       | version        | u8, [`MESSAGE_VERSION`]                                   |
//! | 1       | flags          | u8: bit0 group id, bit1 dedup id, bit2 sequence number, bit3 trace header, bit4 dead-letter origin; other bits zero |
//! | 2..10   | sent ms        | i64, SentTimestamp and the base of retention              |
//! | 10..14  | delay seconds  | u32, the delay this message was sent with (0–900)         |
//! | then    | message id     | str16                                                     |
//! |         | sender id      | str16                                                     |
//! |         | group id       | str16 (bit0)                                              |
//! |         | dedup id       | str16 (bit1)                                              |
//! |         | sequence no.   | u128 (bit2)                                               |
//! |         | trace header   | str32 (bit3): the AWSTraceHeader system attribute         |
//! |         | DLQ source ARN | str16 (bit4)                                              |
//! |         | first receive  | i64 (bit4): ApproximateFirstReceiveTimestamp in the source |
//! |         | attributes     | u16 count, each: name str16, DataType str16, kind u8 (1 string, 2 binary), value bytes32 |
//! |         | body           | str32, last so that [`MessageMeta`] can stop before it    |
//!
//! Nothing may follow the body. Decoding never panics: every length is checked against the
//! bytes left before anything is allocated.

use std::collections::BTreeMap;

use crate::codec::{DecodeError, Reader, put_bytes16, put_bytes32};

/// The current record version. Persisted: a new layout gets a new number.
pub const MESSAGE_VERSION: u8 = 1;

const F_GROUP: u8 = 1;
const F_DEDUP: u8 = 1 << 1;
const F_SEQ: u8 = 1 << 2;
const F_TRACE: u8 = 1 << 3;
const F_DLQ: u8 = 1 << 4;
const F_ALL: u8 = F_GROUP | F_DEDUP | F_SEQ | F_TRACE | F_DLQ;

/// Attribute kind bytes. Persisted: never renumber or reuse.
const KIND_STRING: u8 = 1;
const KIND_BINARY: u8 = 2;

/// The value of a message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeData {
    /// `StringValue` (String and Number types).
    String(String),
    /// `BinaryValue` (Binary types).
    Binary(Vec<u8>),
}

/// A message attribute: its DataType (custom suffix included) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    /// `String`, `Number`, `Binary`, optionally with `.custom`.
    pub data_type: String,
    /// The value.
    pub data: AttributeData,
}

/// Where a dead-lettered message came from, kept the way AWS keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterOrigin {
    /// The DeadLetterQueueSourceArn system attribute.
    pub source_arn: String,
    /// ApproximateFirstReceiveTimestamp in the source queue.
    pub first_receive_ms: Option<i64>,
}

/// A message in a messages log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// MessageId (a UUID the caller allocates).
    pub message_id: String,
    /// The SenderId system attribute.
    pub sender_id: String,
    /// SentTimestamp (Unix ms). For a standard queue's dead-lettered message this is the
    /// original enqueue time, so retention still counts from it.
    pub sent_ms: i64,
    /// The delay the message was sent with, seconds.
    pub delay_seconds: u32,
    /// The body.
    pub body: String,
    /// Message attributes, sorted by name.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// The AWSTraceHeader system attribute.
    pub trace_header: Option<String>,
    /// MessageGroupId (FIFO, or a fair standard queue).
    pub group_id: Option<String>,
    /// MessageDeduplicationId as delivered (explicit or content-derived).
    pub dedup_id: Option<String>,
    /// FIFO SequenceNumber.
    pub sequence_number: Option<u128>,
    /// Set on messages moved to a dead-letter queue.
    pub dead_letter: Option<DeadLetterOrigin>,
}

/// The part of a [`StoredMessage`] the queue engine keeps, decoded without the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// MessageId.
    pub message_id: String,
    /// SentTimestamp.
    pub sent_ms: i64,
    /// Delay, seconds.
    pub delay_seconds: u32,
    /// MessageGroupId.
    pub group_id: Option<String>,
    /// MessageDeduplicationId.
    pub dedup_id: Option<String>,
    /// SequenceNumber.
    pub sequence_number: Option<u128>,
    /// First receive in the dead-letter source, if dead-lettered.
    pub first_receive_ms: Option<i64>,
}

impl StoredMessage {
    /// The record data.
    pub fn encode(&self) -> Vec<u8> {
        let mut flags = 0u8;
        for (set, bit) in [
            (self.group_id.is_some(), F_GROUP),
            (self.dedup_id.is_some(), F_DEDUP),
            (self.sequence_number.is_some(), F_SEQ),
            (self.trace_header.is_some(), F_TRACE),
            (self.dead_letter.is_some(), F_DLQ),
        ] {
            if set {
                flags |= bit;
            }
        }
        let mut out = Vec::with_capacity(64 + self.body.len());
        out.push(MESSAGE_VERSION);
        out.push(flags);
        out.extend_from_slice(&self.sent_ms.to_le_bytes());
        out.extend_from_slice(&self.delay_seconds.to_le_bytes());
        put_bytes16(&mut out, self.message_id.as_bytes());
        put_bytes16(&mut out, self.sender_id.as_bytes());
        if let Some(g) = &self.group_id {
            put_bytes16(&mut out, g.as_bytes());
        }
        if let Some(d) = &self.dedup_id {
            put_bytes16(&mut out, d.as_bytes());
        }
        if let Some(s) = self.sequence_number {
            out.extend_from_slice(&s.to_le_bytes());
        }
        if let Some(t) = &self.trace_header {
            put_bytes32(&mut out, t.as_bytes());
        }
        if let Some(dl) = &self.dead_letter {
            put_bytes16(&mut out, dl.source_arn.as_bytes());
            out.extend_from_slice(&dl.first_receive_ms.unwrap_or(i64::MIN).to_le_bytes());
        }
        let n = u16::try_from(self.attributes.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for (name, v) in self.attributes.iter().take(usize::from(n)) {
            put_bytes16(&mut out, name.as_bytes());
            put_bytes16(&mut out, v.data_type.as_bytes());
            match &v.data {
                AttributeData::String(s) => {
                    out.push(KIND_STRING);
                    put_bytes32(&mut out, s.as_bytes());
                }
                AttributeData::Binary(b) => {
                    out.push(KIND_BINARY);
                    put_bytes32(&mut out, b);
                }
            }
        }
        put_bytes32(&mut out, self.body.as_bytes());
        out
    }

    /// Decodes record data.
    pub fn decode(data: &[u8]) -> Result<StoredMessage, DecodeError> {
        let mut r = Reader::new(data);
        let (meta, sender_id, trace_header, source_arn) = decode_head(&mut r)?;
        let n = usize::from(r.u16("attribute count")?);
        // Each attribute takes at least 2 + 2 + 1 + 4 bytes.
        let n = r.count(n as u64, 9, "attributes")?;
        let mut attributes = BTreeMap::new();
        for _ in 0..n {
            let name = r.str16("attribute name")?.to_owned();
            let data_type = r.str16("attribute type")?.to_owned();
            let data = match r.u8("attribute kind")? {
                KIND_STRING => AttributeData::String(r.str32("attribute value")?.to_owned()),
                KIND_BINARY => AttributeData::Binary(r.bytes32("attribute value")?.to_vec()),
                other => {
                    return Err(DecodeError::Unknown {
                        what: "attribute kind",
                        value: u64::from(other),
                    });
                }
            };
            attributes.insert(name, AttributeValue { data_type, data });
        }
        let body = r.str32("body")?.to_owned();
        r.finish("message")?;
        Ok(StoredMessage {
            message_id: meta.message_id,
            sender_id,
            sent_ms: meta.sent_ms,
            delay_seconds: meta.delay_seconds,
            body,
            attributes,
            trace_header,
            group_id: meta.group_id,
            dedup_id: meta.dedup_id,
            sequence_number: meta.sequence_number,
            dead_letter: source_arn.map(|source_arn| DeadLetterOrigin {
                source_arn,
                first_receive_ms: meta.first_receive_ms,
            }),
        })
    }

    /// The metadata the engine needs.
    pub fn meta(&self) -> MessageMeta {
        MessageMeta {
            message_id: self.message_id.clone(),
            sent_ms: self.sent_ms,
            delay_seconds: self.delay_seconds,
            group_id: self.group_id.clone(),
            dedup_id: self.dedup_id.clone(),
            sequence_number: self.sequence_number,
            first_receive_ms: self.dead_letter.as_ref().and_then(|d| d.first_receive_ms),
        }
    }
}

impl MessageMeta {
    /// Decodes only the metadata of record data, without copying the body or attributes.
    pub fn decode(data: &[u8]) -> Result<MessageMeta, DecodeError> {
        let mut r = Reader::new(data);
        Ok(decode_head(&mut r)?.0)
    }
}

type Head = (MessageMeta, String, Option<String>, Option<String>);

fn decode_head(r: &mut Reader<'_>) -> Result<Head, DecodeError> {
    let version = r.u8("version")?;
    if version != MESSAGE_VERSION {
        return Err(DecodeError::Unknown {
            what: "message version",
            value: u64::from(version),
        });
    }
    let flags = r.u8("flags")?;
    if flags & !F_ALL != 0 {
        return Err(DecodeError::Invalid {
            what: "message flags",
        });
    }
    let sent_ms = r.i64("sent ms")?;
    let delay_seconds = r.u32("delay")?;
    let message_id = r.str16("message id")?.to_owned();
    let sender_id = r.str16("sender id")?.to_owned();
    let group_id = opt(flags & F_GROUP != 0, || Ok(r.str16("group id")?.to_owned()))?;
    let dedup_id = opt(flags & F_DEDUP != 0, || Ok(r.str16("dedup id")?.to_owned()))?;
    let sequence_number = opt(flags & F_SEQ != 0, || r.u128("sequence number"))?;
    let trace_header = opt(flags & F_TRACE != 0, || {
        Ok(r.str32("trace header")?.to_owned())
    })?;
    let (source_arn, first_receive_ms) = if flags & F_DLQ != 0 {
        let arn = r.str16("source arn")?.to_owned();
        let first = r.i64("first receive")?;
        (Some(arn), (first != i64::MIN).then_some(first))
    } else {
        (None, None)
    };
    let meta = MessageMeta {
        message_id,
        sent_ms,
        delay_seconds,
        group_id,
        dedup_id,
        sequence_number,
        first_receive_ms,
    };
    Ok((meta, sender_id, trace_header, source_arn))
}

fn opt<T>(
    present: bool,
    f: impl FnOnce() -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if present { f().map(Some) } else { Ok(None) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn arb_attr() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            ("[A-Za-z.]{1,20}", "\\PC{0,20}").prop_map(|(t, s)| AttributeValue {
                data_type: t,
                data: AttributeData::String(s)
            }),
            (
                "[A-Za-z.]{1,20}",
                proptest::collection::vec(any::<u8>(), 0..40)
            )
                .prop_map(|(t, b)| AttributeValue {
                    data_type: t,
                    data: AttributeData::Binary(b)
                }),
        ]
    }

    pub(crate) fn arb_message() -> impl Strategy<Value = StoredMessage> {
        (
            (
                "[a-f0-9-]{1,36}",
                "[A-Z0-9]{0,21}",
                any::<i64>(),
                0u32..=900,
                "\\PC{0,200}",
            ),
            proptest::collection::btree_map("[A-Za-z0-9_.-]{1,30}", arb_attr(), 0..5),
            (
                proptest::option::of("\\PC{0,50}"),
                proptest::option::of("[!-~]{1,128}"),
                proptest::option::of("[!-~]{1,128}"),
                proptest::option::of(any::<u128>()),
                proptest::option::of(("[a-z:0-9]{1,60}", proptest::option::of(any::<i64>()))),
            ),
        )
            .prop_map(
                |((id, sender, sent, delay, body), attributes, (trace, g, d, s, dl))| {
                    StoredMessage {
                        message_id: id,
                        sender_id: sender,
                        sent_ms: sent,
                        delay_seconds: delay,
                        body,
                        attributes,
                        trace_header: trace,
                        group_id: g,
                        dedup_id: d,
                        sequence_number: s,
                        dead_letter: dl.map(|(source_arn, first)| DeadLetterOrigin {
                            source_arn,
                            first_receive_ms: first.filter(|&f| f != i64::MIN),
                        }),
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn messages_round_trip(m in arb_message()) {
            let bytes = m.encode();
            prop_assert_eq!(StoredMessage::decode(&bytes), Ok(m.clone()));
            prop_assert_eq!(MessageMeta::decode(&bytes), Ok(m.meta()));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = StoredMessage::decode(&bytes);
            let _ = MessageMeta::decode(&bytes);
        }

        #[test]
        fn every_truncation_of_a_message_is_an_error(m in arb_message(), cut in 0usize..400) {
            let bytes = m.encode();
            let cut = cut.min(bytes.len().saturating_sub(1));
            prop_assert!(StoredMessage::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn unknown_versions_and_flags_are_refused() {
        let m = StoredMessage {
            message_id: "id".into(),
            sender_id: "s".into(),
            sent_ms: 1,
            delay_seconds: 0,
            body: "b".into(),
            attributes: BTreeMap::new(),
            trace_header: None,
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            dead_letter: None,
        };
        let mut bytes = m.encode();
        bytes[0] = 9;
        assert!(matches!(
            StoredMessage::decode(&bytes),
            Err(DecodeError::Unknown { .. })
        ));
        bytes[0] = MESSAGE_VERSION;
        bytes[1] = 0x80;
        assert_eq!(
            StoredMessage::decode(&bytes),
            Err(DecodeError::Invalid {
                what: "message flags"
            })
        );
    }
}
