// SPDX-License-Identifier: Apache-2.0
//! Record-level processors without a function: RecordDeAggregation, AppendDelimiterToRecord,
//! Decompression and CloudWatchLogProcessing.
//!
//! Sources: [dynamic partitioning](https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html)
//! (de-aggregation), [CloudWatch Logs decompression and message extraction](https://docs.aws.amazon.com/firehose/latest/dev/Message_extraction.html),
//! and the CloudWatch Logs subscription record format.
//!
//! * JSON de-aggregation: the record is one or more JSON **objects** back to back, optionally
//!   separated by whitespace (`{"a":1}{"a":2}` or one per line); not an array. Each object's
//!   exact bytes become a sub-record. More than [`MAX_SUB_RECORDS`] is an error.
//! * DELIMITED de-aggregation: split on the delimiter; a trailing delimiter does not make an
//!   empty last sub-record; empty sub-records in the middle are kept.
//! * AppendDelimiterToRecord appends `\n` to every record.
//! * Decompression un-gzips (several members allowed), bounded by a caller-given size.
//! * Message extraction turns one CloudWatch Logs `DATA_MESSAGE` into one record per log event
//!   (the `message` text); a `CONTROL_MESSAGE` yields no records (AWS drops them).
//!
//! Errors go to the error output with the code of [`DeaggError::code`].

use std::io::Read;

use bytes::Bytes;
use serde::Deserialize;

/// Most sub-records one record may split into.
pub const MAX_SUB_RECORDS: usize = 500;

/// Why a record could not be processed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeaggError {
    /// The record is not a sequence of JSON objects.
    #[error("The record is not a sequence of JSON objects: {0}")]
    NotJsonObjects(String),
    /// More than [`MAX_SUB_RECORDS`] sub-records.
    #[error("The record has more than 500 sub-records.")]
    TooManySubRecords,
    /// The delimiter is empty.
    #[error("The delimiter is empty.")]
    EmptyDelimiter,
    /// The record is not valid gzip.
    #[error("The record is not valid GZIP data: {0}")]
    NotGzip(String),
    /// The decompressed record is larger than allowed.
    #[error("The decompressed record is larger than {0} bytes.")]
    TooLarge(usize),
    /// The record is not a CloudWatch Logs subscription message.
    #[error("The record is not a CloudWatch Logs message: {0}")]
    NotCloudWatchLogs(String),
}

impl DeaggError {
    /// The error code for the error output document.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJsonObjects(_) | Self::TooManySubRecords | Self::EmptyDelimiter => {
                "DynamicPartitioning.RecordDeAggregationFailed"
            }
            Self::NotGzip(_) | Self::TooLarge(_) => "Decompression.Failed",
            Self::NotCloudWatchLogs(_) => "CloudWatchLogProcessing.Failed",
        }
    }
}

/// Splits concatenated JSON objects into sub-records (each object's exact bytes).
pub fn split_json(record: &[u8]) -> Result<Vec<Bytes>, DeaggError> {
    let mut out = Vec::new();
    let mut stream =
        serde_json::Deserializer::from_slice(record).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(item) = stream.next() {
        item.map_err(|e| DeaggError::NotJsonObjects(e.to_string()))?;
        let end = stream.byte_offset();
        let value = record[start..end].trim_ascii_start();
        if value.first() != Some(&b'{') {
            return Err(DeaggError::NotJsonObjects(
                "a value is not an object".to_owned(),
            ));
        }
        if out.len() == MAX_SUB_RECORDS {
            return Err(DeaggError::TooManySubRecords);
        }
        out.push(Bytes::copy_from_slice(value));
        start = end;
    }
    if out.is_empty() {
        return Err(DeaggError::NotJsonObjects("the record is empty".to_owned()));
    }
    Ok(out)
}

/// Splits on `delimiter` (a trailing delimiter ends the last sub-record).
pub fn split_delimited(record: &[u8], delimiter: &[u8]) -> Result<Vec<Bytes>, DeaggError> {
    if delimiter.is_empty() {
        return Err(DeaggError::EmptyDelimiter);
    }
    let mut out = Vec::new();
    let mut rest = record;
    loop {
        let (piece, next) = match memchr::memmem::find(rest, delimiter) {
            Some(i) => (&rest[..i], Some(&rest[i + delimiter.len()..])),
            None => (rest, None),
        };
        if next.is_some() || !piece.is_empty() || out.is_empty() {
            if out.len() == MAX_SUB_RECORDS {
                return Err(DeaggError::TooManySubRecords);
            }
            out.push(Bytes::copy_from_slice(piece));
        }
        match next {
            Some(n) if !n.is_empty() => rest = n,
            _ => break,
        }
    }
    Ok(out)
}

/// AppendDelimiterToRecord: the record followed by `\n`.
pub fn append_delimiter(record: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(record.len() + 1);
    v.extend_from_slice(record);
    v.push(b'\n');
    Bytes::from(v)
}

/// Decompression (GZIP): inflates all gzip members, failing past `max_len` bytes.
pub fn gunzip(record: &[u8], max_len: usize) -> Result<Bytes, DeaggError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(record)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| DeaggError::NotGzip(e.to_string()))?;
    if out.len() > max_len {
        return Err(DeaggError::TooLarge(max_len));
    }
    Ok(Bytes::from(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudWatchMessage {
    message_type: String,
    #[serde(default)]
    log_events: Vec<LogEvent>,
}

#[derive(Deserialize)]
struct LogEvent {
    message: String,
}

/// CloudWatchLogProcessing with DataMessageExtraction: the `message` of each log event of a
/// (decompressed) subscription record; no records for a `CONTROL_MESSAGE`.
pub fn extract_log_messages(record: &[u8]) -> Result<Vec<Bytes>, DeaggError> {
    let msg: CloudWatchMessage =
        serde_json::from_slice(record).map_err(|e| DeaggError::NotCloudWatchLogs(e.to_string()))?;
    match msg.message_type.as_str() {
        "CONTROL_MESSAGE" => Ok(Vec::new()),
        "DATA_MESSAGE" => Ok(msg
            .log_events
            .into_iter()
            .map(|e| Bytes::from(e.message.into_bytes()))
            .collect()),
        other => Err(DeaggError::NotCloudWatchLogs(format!(
            "unknown messageType {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn concatenated_objects_split_into_exact_sub_records() {
        let out = split_json(b" {\"a\":1}{\"a\":{\"b\":[2]}}\n{ \"a\" : 3 }\n").unwrap();
        assert_eq!(
            out,
            vec![
                Bytes::from_static(b"{\"a\":1}"),
                Bytes::from_static(b"{\"a\":{\"b\":[2]}}"),
                Bytes::from_static(b"{ \"a\" : 3 }"),
            ]
        );
    }

    #[test]
    fn json_that_is_not_objects_is_rejected() {
        for bad in [
            &b"[{\"a\":1}]"[..],
            b"{\"a\":1} 3",
            b"{\"a\":",
            b"",
            b"   ",
            b"{\"a\":1}}",
        ] {
            assert!(
                split_json(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = "{}".repeat(501);
        assert_eq!(
            split_json(many.as_bytes()),
            Err(DeaggError::TooManySubRecords)
        );
        assert_eq!(split_json("{}".repeat(500).as_bytes()).unwrap().len(), 500);
    }

    #[test]
    fn delimited_records_split_on_the_delimiter() {
        let s = |r: &[u8], d: &[u8]| -> Vec<Vec<u8>> {
            split_delimited(r, d)
                .unwrap()
                .into_iter()
                .map(|b| b.to_vec())
                .collect()
        };
        assert_eq!(
            s(b"a####b####", b"####"),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(s(b"a,,b", b","), vec![b"a".to_vec(), vec![], b"b".to_vec()]);
        assert_eq!(s(b"abc", b","), vec![b"abc".to_vec()]);
        assert_eq!(s(b"", b","), vec![Vec::<u8>::new()]);
        assert_eq!(split_delimited(b"a", b""), Err(DeaggError::EmptyDelimiter));
        assert_eq!(
            split_delimited(",".repeat(501).as_bytes(), b","),
            Err(DeaggError::TooManySubRecords)
        );
    }

    #[test]
    fn append_delimiter_adds_a_newline() {
        assert_eq!(append_delimiter(b"x"), Bytes::from_static(b"x\n"));
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_inflates_members_and_enforces_the_limit() {
        let mut two = gz(b"ab");
        two.extend(gz(b"cd"));
        assert_eq!(gunzip(&two, 100).unwrap(), Bytes::from_static(b"abcd"));
        assert_eq!(gunzip(&gz(&[0; 101]), 100), Err(DeaggError::TooLarge(100)));
        assert!(matches!(gunzip(b"plain", 100), Err(DeaggError::NotGzip(_))));
    }

    #[test]
    fn cloudwatch_messages_are_extracted_and_control_messages_dropped() {
        let data = br#"{"messageType":"DATA_MESSAGE","owner":"000000000000","logGroup":"g","logStream":"s",
            "subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"one"},{"id":"2","timestamp":2,"message":"two"}]}"#;
        assert_eq!(
            extract_log_messages(data).unwrap(),
            vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]
        );
        let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        assert!(extract_log_messages(control).unwrap().is_empty());
        assert!(extract_log_messages(b"{}").is_err());
    }

    proptest! {
        #[test]
        fn json_objects_round_trip_through_split(objs in proptest::collection::vec(proptest::collection::btree_map("[a-z]{1,5}", any::<i32>(), 0..4), 1..20), sep in "[ \n\t]{0,2}") {
            let texts: Vec<String> = objs.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
            let joined = texts.join(&sep);
            let out = split_json(joined.as_bytes()).unwrap();
            prop_assert_eq!(out.iter().map(|b| String::from_utf8(b.to_vec()).unwrap()).collect::<Vec<_>>(), texts);
        }

        #[test]
        fn delimited_split_inverts_join(parts in proptest::collection::vec("[a-z]{1,8}", 1..30)) {
            let joined = parts.join("##");
            let out = split_delimited(joined.as_bytes(), b"##").unwrap();
            prop_assert_eq!(out.iter().map(|b| String::from_utf8(b.to_vec()).unwrap()).collect::<Vec<_>>(), parts);
        }

        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), d in proptest::collection::vec(any::<u8>(), 0..3)) {
            let _ = split_json(&data);
            let _ = split_delimited(&data, &d);
            let _ = gunzip(&data, 1000);
            let _ = extract_log_messages(&data);
        }
    }
}
