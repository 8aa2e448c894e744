// SPDX-License-Identifier: Apache-2.0
//! The opaque strings the Logs API hands out: GetLogEvents' forward and backward tokens, the
//! pagination tokens of FilterLogEvents and the Describe operations, event ids and sequence
//! tokens. Every token carries a version and a checksum, so a token that was mangled, made up
//! or taken from another resource is answered "The specified nextToken is invalid." instead of
//! being misread.
//!
//! * GetLogEvents: `f/<56 digits>/s` and `b/<56 digits>/s`, the shape AWS's tokens have. The
//!   digits are a 2-digit version, the 20-digit stream id, the 20-digit log offset and a
//!   14-digit CRC32C of the 42 digits before it. A forward token means "events at or after this
//!   offset", a backward one "events before this offset".
//! * FilterLogEvents and the Describe operations: URL-safe base64 (no padding) of a version
//!   byte, a kind byte, the cursor, and a CRC32C of everything before it.
//! * Event ids: 56 digits, the group id (20) and the event's log offset (36): unique within a
//!   group's lifetime and stable for as long as the event is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Version of every token this build writes.
const TOKEN_VERSION: u8 = 1;

/// Direction of a GetLogEvents token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `nextForwardToken`: events at or after the position.
    Forward,
    /// `nextBackwardToken`: events before the position.
    Backward,
}

/// A GetLogEvents position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamToken {
    /// Which way it reads.
    pub direction: Direction,
    /// The stream incarnation it belongs to.
    pub stream_id: u64,
    /// A log offset in the stream's group.
    pub position: u64,
}

impl StreamToken {
    /// The token's text.
    pub fn encode(&self) -> String {
        let digits = format!(
            "{TOKEN_VERSION:02}{:020}{:020}",
            self.stream_id, self.position
        );
        let crc = crc32c::crc32c(digits.as_bytes());
        let d = match self.direction {
            Direction::Forward => 'f',
            Direction::Backward => 'b',
        };
        format!("{d}/{digits}{crc:014}/s")
    }

    /// Parses a token; `None` if it is not one of ours.
    pub fn parse(s: &str) -> Option<StreamToken> {
        let (direction, rest) = match s.split_at_checked(2)? {
            ("f/", rest) => (Direction::Forward, rest),
            ("b/", rest) => (Direction::Backward, rest),
            _ => return None,
        };
        let digits = rest.strip_suffix("/s")?;
        if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (body, crc) = digits.split_at(42);
        if crc.parse::<u64>().ok()? != u64::from(crc32c::crc32c(body.as_bytes())) {
            return None;
        }
        if body[..2].parse::<u8>().ok()? != TOKEN_VERSION {
            return None;
        }
        Some(StreamToken {
            direction,
            stream_id: body[2..22].parse().ok()?,
            position: body[22..42].parse().ok()?,
        })
    }
}

/// What a FilterLogEvents `nextToken` remembers: where the last page ended in
/// (timestamp, offset) order, and the log end the first page saw (so a pagination ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterToken {
    /// The group incarnation.
    pub group_id: u64,
    /// Timestamp of the last event returned.
    pub after_timestamp: i64,
    /// Log offset of the last event returned.
    pub after_offset: u64,
    /// One past the last log offset this pagination looks at.
    pub end_offset: u64,
}

const KIND_FILTER: u8 = 1;
const KIND_GROUPS: u8 = 2;
const KIND_STREAMS: u8 = 3;
const KIND_METRIC_FILTERS: u8 = 4;

fn seal(kind: u8, payload: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(payload.len() + 6);
    bytes.push(TOKEN_VERSION);
    bytes.push(kind);
    bytes.extend_from_slice(payload);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn open(kind: u8, s: &str) -> Option<Vec<u8>> {
    // A describe cursor holds at most two 512-character names.
    if s.len() > 8 * 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    if bytes.len() < 6 {
        return None;
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let crc = u32::from_le_bytes(crc.try_into().ok()?);
    if crc != crc32c::crc32c(body) || body[0] != TOKEN_VERSION || body[1] != kind {
        return None;
    }
    Some(body[2..].to_vec())
}

/// Reads fixed-width and length-prefixed fields off a token payload.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn string(&mut self) -> Option<String> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        String::from_utf8(self.take(usize::from(len))?.to_vec()).ok()
    }
    fn end(self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    // Names are at most 512 characters (2,048 bytes); cut anything longer rather than panic.
    let bytes = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl FilterToken {
    /// The token's text.
    pub fn encode(&self) -> String {
        let mut p = Vec::with_capacity(32);
        p.extend_from_slice(&self.group_id.to_le_bytes());
        p.extend_from_slice(&self.after_timestamp.to_le_bytes());
        p.extend_from_slice(&self.after_offset.to_le_bytes());
        p.extend_from_slice(&self.end_offset.to_le_bytes());
        seal(KIND_FILTER, &p)
    }

    /// Parses a token; `None` if it is not one of ours.
    pub fn parse(s: &str) -> Option<FilterToken> {
        let payload = open(KIND_FILTER, s)?;
        let mut r = Reader(&payload);
        let t = FilterToken {
            group_id: r.u64()?,
            after_timestamp: r.i64()?,
            after_offset: r.u64()?,
            end_offset: r.u64()?,
        };
        r.end()?;
        Some(t)
    }
}

/// DescribeLogGroups: the last group name returned.
pub fn encode_groups_token(last_name: &str) -> String {
    let mut p = Vec::new();
    put_string(&mut p, last_name);
    seal(KIND_GROUPS, &p)
}

/// The last group name of a DescribeLogGroups token.
pub fn parse_groups_token(s: &str) -> Option<String> {
    let payload = open(KIND_GROUPS, s)?;
    let mut r = Reader(&payload);
    let name = r.string()?;
    r.end()?;
    Some(name)
}

/// A DescribeLogStreams cursor: the sort key of the last stream returned, and the ordering it
/// belongs to (a token is refused under another ordering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamsCursor {
    /// Ordered by last event time (else by name).
    pub by_last_event_time: bool,
    /// Descending order.
    pub descending: bool,
    /// The last stream's `lastEventTimestamp`, when ordered by it.
    pub last_event_ms: Option<i64>,
    /// The last stream's name.
    pub name: String,
}

/// The DescribeLogStreams token of a cursor.
pub fn encode_streams_token(group_id: u64, c: &StreamsCursor) -> String {
    let mut p = Vec::new();
    p.extend_from_slice(&group_id.to_le_bytes());
    p.push(u8::from(c.by_last_event_time));
    p.push(u8::from(c.descending));
    match c.last_event_ms {
        Some(ms) => {
            p.push(1);
            p.extend_from_slice(&ms.to_le_bytes());
        }
        None => p.push(0),
    }
    put_string(&mut p, &c.name);
    seal(KIND_STREAMS, &p)
}

/// The group id and cursor of a DescribeLogStreams token.
pub fn parse_streams_token(s: &str) -> Option<(u64, StreamsCursor)> {
    let payload = open(KIND_STREAMS, s)?;
    let mut r = Reader(&payload);
    let group_id = r.u64()?;
    let by_last_event_time = r.u8()? != 0;
    let descending = r.u8()? != 0;
    let last_event_ms = match r.u8()? {
        0 => None,
        1 => Some(r.i64()?),
        _ => return None,
    };
    let name = r.string()?;
    r.end()?;
    Some((
        group_id,
        StreamsCursor {
            by_last_event_time,
            descending,
            last_event_ms,
            name,
        },
    ))
}

/// DescribeMetricFilters: the (filter name, group name) of the last filter returned.
pub fn encode_metric_filters_token(filter: &str, group: &str) -> String {
    let mut p = Vec::new();
    put_string(&mut p, filter);
    put_string(&mut p, group);
    seal(KIND_METRIC_FILTERS, &p)
}

/// The cursor of a DescribeMetricFilters token.
pub fn parse_metric_filters_token(s: &str) -> Option<(String, String)> {
    let payload = open(KIND_METRIC_FILTERS, s)?;
    let mut r = Reader(&payload);
    let filter = r.string()?;
    let group = r.string()?;
    r.end()?;
    Some((filter, group))
}

/// The `eventId` of the event at `offset` of group `group_id`.
pub fn event_id(group_id: u64, offset: u64) -> String {
    format!("{group_id:020}{offset:036}")
}

/// The deprecated `nextSequenceToken` PutLogEvents still returns: 56 digits that grow with
/// every accepted batch of the group.
pub fn sequence_token(next_offset: u64) -> String {
    format!("{next_offset:056}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn stream_tokens_look_like_aws_ones() {
        let t = StreamToken {
            direction: Direction::Forward,
            stream_id: 7,
            position: 42,
        };
        let s = t.encode();
        assert!(s.starts_with("f/01"));
        assert!(s.ends_with("/s"));
        assert_eq!(s.len(), 2 + 56 + 2);
        assert_eq!(StreamToken::parse(&s), Some(t));
        let b = StreamToken {
            direction: Direction::Backward,
            ..t
        };
        assert!(b.encode().starts_with("b/"));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let s = StreamToken {
            direction: Direction::Backward,
            stream_id: 3,
            position: 9,
        }
        .encode();
        let mut changed = s.clone().into_bytes();
        changed[30] = if changed[30] == b'1' { b'2' } else { b'1' };
        assert_eq!(
            StreamToken::parse(&String::from_utf8(changed).unwrap()),
            None
        );
        for bad in ["", "f/", "x/123/s", "f/abc/s", "f/0000/s"] {
            assert_eq!(StreamToken::parse(bad), None, "{bad}");
        }
        let filter = FilterToken {
            group_id: 1,
            after_timestamp: 2,
            after_offset: 3,
            end_offset: 4,
        }
        .encode();
        assert_eq!(parse_groups_token(&filter), None, "kinds do not mix");
        assert_eq!(FilterToken::parse(&filter[1..]), None);
    }

    #[test]
    fn event_ids_are_56_digits_in_offset_order() {
        let a = event_id(5, 9);
        let b = event_id(5, 10);
        assert_eq!(a.len(), 56);
        assert!(a < b);
        assert_eq!(sequence_token(3).len(), 56);
    }

    proptest! {
        #[test]
        fn stream_tokens_round_trip(forward in any::<bool>(), id in any::<u64>(), pos in any::<u64>()) {
            let t = StreamToken {
                direction: if forward { Direction::Forward } else { Direction::Backward },
                stream_id: id,
                position: pos,
            };
            prop_assert_eq!(StreamToken::parse(&t.encode()), Some(t));
        }

        #[test]
        fn filter_tokens_round_trip(g in any::<u64>(), ts in any::<i64>(), o in any::<u64>(), e in any::<u64>()) {
            let t = FilterToken { group_id: g, after_timestamp: ts, after_offset: o, end_offset: e };
            prop_assert_eq!(FilterToken::parse(&t.encode()), Some(t));
        }

        #[test]
        fn describe_tokens_round_trip(a in "\\PC{0,100}", b in "\\PC{0,100}", g in any::<u64>(),
                                      by_time in any::<bool>(), desc in any::<bool>(),
                                      ms in proptest::option::of(any::<i64>())) {
            prop_assert_eq!(parse_groups_token(&encode_groups_token(&a)), Some(a.clone()));
            prop_assert_eq!(
                parse_metric_filters_token(&encode_metric_filters_token(&a, &b)),
                Some((a.clone(), b.clone()))
            );
            let c = StreamsCursor { by_last_event_time: by_time, descending: desc, last_event_ms: ms, name: b };
            prop_assert_eq!(parse_streams_token(&encode_streams_token(g, &c)), Some((g, c)));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(s in "\\PC{0,80}") {
            let _ = StreamToken::parse(&s);
            let _ = FilterToken::parse(&s);
            let _ = parse_groups_token(&s);
            let _ = parse_streams_token(&s);
            let _ = parse_metric_filters_token(&s);
        }
    }
}
