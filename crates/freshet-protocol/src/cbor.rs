// SPDX-License-Identifier: Apache-2.0
//! The CBOR 1.1 codec (`application/x-amz-cbor-1.1`), the Java SDKs' and KCL's default.
//!
//! Requests decode with ciborium straight into the same DTOs as JSON; the member wrappers in
//! [`crate::json`] switch to CBOR's encodings (byte-string blobs, tag-1 millisecond
//! timestamps) when the deserializer is not human-readable. Responses encode the same output
//! DTOs, and errors are the JSON envelope's `{__type, message}` as a CBOR map.
//!
//! A body is first checked to be exactly one well-formed CBOR data item ([`well_formed`], RFC
//! 8949 appendix C, without recursion or allocation beyond a small stack), so malformed bytes
//! get AWS's message-less `SerializationException` and every error serde reports afterwards is
//! a type error with a Coral message. The check also bounds hostile input before any decoding:
//! a length that claims more than the rest of the body (a 4 GiB string in a 100-byte body, an
//! array of 2^63 items) is refused outright, and nesting is capped at [`MAX_DEPTH`]. Decoding
//! stays bounded by itself too: ciborium reads strings in chunks of its scratch buffer, and the
//! list and map wrappers never reserve memory from a size hint.

use ciborium::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Deepest nesting of arrays, maps and tags a request may have. The deepest Kinesis shape is
/// four levels; the cap keeps recursion far from the stack's end (serde_json uses 128 too).
pub const MAX_DEPTH: usize = 128;

/// Decodes a request body. The error is the `SerializationException` message: `Some` for a
/// well-formed item of the wrong shape (the Coral type error), `None` for bytes that are not
/// one well-formed CBOR item (AWS sends those without a message).
pub fn from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, Option<String>> {
    if !well_formed(body) {
        return Err(None);
    }
    let mut rest = body;
    let crate::strict::StrictValue(value) =
        ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH).map_err(message)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        // Trailing bytes after the request map: not one well-formed item.
        Err(None)
    }
}

/// What the well-formedness check is inside of.
#[derive(Debug, Clone, Copy)]
enum Frame {
    /// A definite-length array, map (two items per entry) or tag (one item): items still due.
    Items(u64),
    /// An indefinite-length array.
    Array,
    /// An indefinite-length map; `odd` when a key is waiting for its value.
    Map { odd: bool },
    /// An indefinite-length byte (2) or text (3) string: only definite chunks of that major
    /// type until the break.
    Chunks(u8),
}

/// Whether `b` is exactly one well-formed CBOR data item (RFC 8949 §3 and appendix C) nested
/// at most [`MAX_DEPTH`] deep, with no length claiming more bytes than remain.
pub fn well_formed(b: &[u8]) -> bool {
    let mut pos = 0usize;
    let mut stack = vec![Frame::Items(1)];
    while let Some(top) = stack.last_mut() {
        match top {
            Frame::Items(0) => {
                stack.pop();
                continue;
            }
            Frame::Items(n) => *n -= 1,
            Frame::Map { odd } => *odd = !*odd,
            Frame::Array | Frame::Chunks(_) => {}
        }
        let context = *top;
        let Some(&initial) = b.get(pos) else {
            return false;
        };
        pos += 1;
        if initial == 0xff {
            // A break ends the innermost indefinite-length item, and nothing else.
            match context {
                // The toggle above counted the break as an item; an even count is complete.
                Frame::Map { odd: true } | Frame::Array | Frame::Chunks(_) => {
                    stack.pop();
                    continue;
                }
                Frame::Map { odd: false } | Frame::Items(_) => return false,
            }
        }
        let major = initial >> 5;
        let info = initial & 0x1f;
        if let Frame::Chunks(m) = context
            && (major != m || info == 31)
        {
            return false;
        }
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let width = 1usize << (info - 24);
                let Some(bytes) = b.get(pos..pos + width) else {
                    return false;
                };
                pos += width;
                bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
            }
            28..=30 => return false,
            _ => {
                // 31: indefinite length, or break (handled above) for major type 7.
                match major {
                    2 | 3 => stack.push(Frame::Chunks(major)),
                    4 => stack.push(Frame::Array),
                    5 => stack.push(Frame::Map { odd: false }),
                    _ => return false,
                }
                if stack.len() > MAX_DEPTH {
                    return false;
                }
                continue;
            }
        };
        let remaining = (b.len() - pos) as u64;
        match major {
            0 | 1 => {}
            2 | 3 => {
                if argument > remaining {
                    return false;
                }
                // Fits in usize: bounded by the body's length.
                pos += argument as usize;
            }
            // Every item takes at least one byte.
            4 => {
                if argument > remaining {
                    return false;
                }
                stack.push(Frame::Items(argument));
            }
            5 => {
                let items = argument.saturating_mul(2);
                if items > remaining {
                    return false;
                }
                stack.push(Frame::Items(items));
            }
            6 => stack.push(Frame::Items(1)),
            // Simple values below 32 must use the one-byte form.
            _ => {
                if info == 24 && argument < 32 {
                    return false;
                }
            }
        }
        if stack.len() > MAX_DEPTH {
            return false;
        }
    }
    pos == b.len()
}

/// The Coral message of a decoding error: only type errors (semantic errors) have one.
fn message<E>(e: ciborium::de::Error<E>) -> Option<String> {
    match e {
        ciborium::de::Error::Semantic(_, message) => Some(message),
        ciborium::de::Error::Io(_)
        | ciborium::de::Error::Syntax(_)
        | ciborium::de::Error::RecursionLimitExceeded => None,
    }
}

/// Encodes a response DTO.
pub fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The CBOR error body: a map `{"__type": code, <member>: text}` (`member` is `message`, or
/// `Message` for Coral's own SerializationException), exactly as in JSON.
pub fn error_body(code: &str, member: &str, message: Option<&str>) -> Vec<u8> {
    let mut map = vec![(Value::Text("__type".into()), Value::Text(code.into()))];
    if let Some(m) = message {
        map.push((Value::Text(member.into()), Value::Text(m.to_owned())));
    }
    // Writing text into a Vec cannot fail.
    to_vec(&Value::Map(map)).unwrap_or_default()
}

/// [`error_body`] with the error shape's other modeled members.
pub fn error_body_with(
    code: &str,
    member: &str,
    message: Option<&str>,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Vec<u8> {
    let mut map = vec![(Value::Text("__type".into()), Value::Text(code.into()))];
    if let Some(m) = message {
        map.push((Value::Text(member.into()), Value::Text(m.to_owned())));
    }
    for (k, v) in fields {
        map.push((Value::Text(k.clone()), json_to_cbor(v)));
    }
    to_vec(&Value::Map(map)).unwrap_or_default()
}

fn json_to_cbor(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Integer(i.into()),
            (None, Some(u), _) => Value::Integer(u.into()),
            (_, _, f) => Value::Float(f.unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::ApiError;
    use crate::json::{JBlob, JInt, JList, JStr, JTimestamp};

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Probe {
        count: Option<JInt>,
        name: Option<JStr>,
        data: Option<JBlob>,
        list: Option<JList<JStr>>,
        when: Option<JTimestamp>,
    }

    fn encode(v: &Value) -> Vec<u8> {
        to_vec(v).expect("encode")
    }

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::Text(k.into()), v))
                .collect(),
        )
    }

    fn tagged_millis(ms: i64) -> Value {
        Value::Tag(1, Box::new(Value::Integer(ms.into())))
    }

    #[test]
    fn byte_strings_are_blobs_and_tag_one_integers_are_millis() {
        let body = encode(&map(vec![
            ("Data", Value::Bytes(b"hi".to_vec())),
            ("When", tagged_millis(1_506_440_188_749)),
            ("Name", Value::Text("s".into())),
        ]));
        let p: Probe = from_slice(&body).expect("decodes");
        assert_eq!(p.data, Some(JBlob(b"hi".to_vec())));
        assert_eq!(p.when, Some(JTimestamp(1_506_440_188_749)));
        assert_eq!(p.name, Some(JStr("s".into())));
    }

    #[test]
    fn untagged_integers_and_floats_are_millis_too() {
        let p: Probe = from_slice(&encode(&map(vec![("When", Value::Integer(1_500.into()))])))
            .expect("decodes");
        assert_eq!(p.when, Some(JTimestamp(1_500)));
        let p: Probe = from_slice(&encode(&map(vec![(
            "When",
            Value::Tag(1, Box::new(Value::Float(1_500.4))),
        )])))
        .expect("decodes");
        assert_eq!(p.when, Some(JTimestamp(1_500)));
    }

    #[test]
    fn other_tags_on_timestamps_are_refused_but_ignored_elsewhere() {
        let err = from_slice::<Probe>(&encode(&map(vec![(
            "When",
            Value::Tag(0, Box::new(Value::Text("2017-09-26T15:36:28Z".into()))),
        )])))
        .expect_err("tag 0 is not epoch millis");
        assert_eq!(err.as_deref(), Some("CBOR tag 0 is not allowed here"));
        let p: Probe = from_slice(&encode(&map(vec![(
            "Name",
            Value::Tag(32, Box::new(Value::Text("s".into()))),
        )])))
        .expect("decodes");
        assert_eq!(p.name, Some(JStr("s".into())));
    }

    #[test]
    fn indefinite_length_maps_arrays_and_strings_decode() {
        // {_ "List": [_ "a", "b"], "Name": (_ "x", "y")}
        let mut body = vec![0xbf, 0x64];
        body.extend_from_slice(b"List");
        body.extend_from_slice(&[0x9f, 0x61, b'a', 0x61, b'b', 0xff, 0x64]);
        body.extend_from_slice(b"Name");
        body.extend_from_slice(&[0x7f, 0x61, b'x', 0x61, b'y', 0xff, 0xff]);
        let p: Probe = from_slice(&body).expect("decodes");
        assert_eq!(
            p.list,
            Some(JList(vec![JStr("a".into()), JStr("b".into())]))
        );
        assert_eq!(p.name, Some(JStr("xy".into())));
    }

    #[test]
    fn wrong_types_get_the_json_coral_messages() {
        let err = |v: Value| from_slice::<Probe>(&encode(&v)).expect_err("must fail");
        assert_eq!(
            err(map(vec![("Count", Value::Text("1".into()))])).as_deref(),
            Some("class java.lang.String can not be converted to an Integer")
        );
        assert_eq!(
            err(map(vec![("Name", Value::Bytes(vec![1]))])).as_deref(),
            Some("class java.nio.HeapByteBuffer can not be converted to an String")
        );
        assert_eq!(
            err(map(vec![("Name", Value::Map(vec![]))])).as_deref(),
            Some("Start of structure or map found where not expected.")
        );
        assert_eq!(
            err(map(vec![("List", Value::Bytes(vec![]))])).as_deref(),
            Some("Expected list or null")
        );
        assert_eq!(
            err(map(vec![("When", Value::Text("x".into()))])).as_deref(),
            Some("class java.lang.String can not be converted to milliseconds since epoch")
        );
    }

    #[test]
    fn big_integers_clamp_like_json_numbers() {
        // Tag 2 bignum 2^64: beyond u64.
        let body = encode(&map(vec![(
            "Count",
            Value::Tag(2, Box::new(Value::Bytes(vec![1, 0, 0, 0, 0, 0, 0, 0, 0]))),
        )]));
        let p: Probe = from_slice(&body).expect("decodes");
        assert_eq!(p.count, Some(JInt(i64::from(i32::MAX))));
        let body = encode(&map(vec![(
            "Count",
            Value::Integer((-5_000_000_000_i64).into()),
        )]));
        let p: Probe = from_slice(&body).expect("decodes");
        assert_eq!(p.count, Some(JInt(i64::from(i32::MIN))));
    }

    #[test]
    fn malformed_and_trailing_bytes_have_no_message() {
        assert_eq!(from_slice::<Probe>(&[]).expect_err("empty"), None);
        assert_eq!(from_slice::<Probe>(&[0xa1, 0x64]).expect_err("cut"), None);
        assert_eq!(
            from_slice::<Probe>(&[0xa0, 0x00]).expect_err("trailing"),
            None
        );
        assert_eq!(from_slice::<Probe>(&[0xff]).expect_err("lone break"), None);
    }

    #[test]
    fn huge_claimed_lengths_fail_without_allocating_them() {
        // {"Data": bytes(len = 2^32 - 1)} followed by 10 bytes; {"List": array(len = 2^63)}.
        let mut body = vec![0xa1, 0x64];
        body.extend_from_slice(b"Data");
        body.extend_from_slice(&[0x5a, 0xff, 0xff, 0xff, 0xff]);
        body.extend_from_slice(&[0u8; 10]);
        assert_eq!(from_slice::<Probe>(&body).expect_err("short"), None);
        let mut body = vec![0xa1, 0x64];
        body.extend_from_slice(b"List");
        body.extend_from_slice(&[0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x61, b'a']);
        assert_eq!(from_slice::<Probe>(&body).expect_err("short"), None);
        // Text claiming 2^64 - 1 bytes, and a map claiming 2^64 - 1 entries.
        let mut body = vec![0xa1, 0x64];
        body.extend_from_slice(b"Name");
        body.extend_from_slice(&[0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(from_slice::<Probe>(&body).expect_err("short"), None);
        let body = [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(from_slice::<Probe>(&body).expect_err("short"), None);
    }

    #[test]
    fn well_formedness_follows_rfc_8949() {
        // Well-formed: integers, floats, tags, indefinite containers and strings, simple values.
        for ok in [
            &[0x00][..],
            &[0x1b, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xf9, 0x3c, 0x00],
            &[0xc1, 0x1a, 0x59, 0xca, 0x76, 0x1c],
            &[0x9f, 0x01, 0x9f, 0xff, 0xff],
            &[0xbf, 0x61, b'a', 0x01, 0xff],
            &[0x5f, 0x41, 0x01, 0x40, 0xff],
            &[0xf8, 0x20],
            &[0xa1, 0x61, b'a', 0x80],
        ] {
            assert!(well_formed(ok), "{ok:02x?}");
        }
        // Malformed: reserved additional info, breaks outside indefinite items, odd maps,
        // mixed chunks, short simple values, truncation, trailing bytes, nested indefinite
        // chunks, indefinite integers.
        for bad in [
            &[0x1c][..],
            &[0xff],
            &[0x81, 0xff],
            &[0xbf, 0x61, b'a', 0xff],
            &[0x5f, 0x61, b'a', 0xff],
            &[0x5f, 0x5f, 0xff, 0xff],
            &[0xf8, 0x01],
            &[0x19, 0x01],
            &[0x00, 0x00],
            &[0x1f],
            &[],
        ] {
            assert!(!well_formed(bad), "{bad:02x?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut body = vec![0xa1, 0x65];
        body.extend_from_slice(b"Other");
        body.extend(std::iter::repeat_n(0x81, 100_000));
        body.push(0x00);
        assert_eq!(from_slice::<Probe>(&body).expect_err("too deep"), None);
    }

    #[test]
    fn error_bodies_are_cbor_maps_with_the_json_member_names() {
        let e = ApiError::serialization(Some("x".into()));
        let v: Value =
            ciborium::de::from_reader(e.body_in(crate::Protocol::Cbor11).as_slice()).expect("cbor");
        assert_eq!(
            v,
            map(vec![
                ("__type", Value::Text("SerializationException".into())),
                ("Message", Value::Text("x".into())),
            ])
        );
        let e = ApiError::unknown_operation();
        let v: Value =
            ciborium::de::from_reader(e.body_in(crate::Protocol::Cbor11).as_slice()).expect("cbor");
        assert_eq!(
            v,
            map(vec![(
                "__type",
                Value::Text("UnknownOperationException".into())
            )])
        );
    }
}
