// SPDX-License-Identifier: Apache-2.0
//! The built-in processors a record goes through before the Lambda transform, in the order
//! Firehose applies them: Decompression (GZIP), CloudWatch Logs message extraction,
//! RecordDeAggregation, then MetadataExtraction (jq partition keys). Each turns one record
//! into zero or more [`Item`]s, or fails it with a `processing-failed` document.
//!
//! After the transform, [`finish`] applies AppendDelimiterToRecord. Pure: no I/O.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::source::SourceRecord;
use super::watermark::BatchId;
use crate::rules::deagg::{self, DeaggError};
use crate::rules::error_doc::ProcessingFailed;
use crate::rules::processing::{Deaggregation, Processing};
use crate::rules::transform::KinesisRecordMetadata;

/// Largest decompressed record (AWS's record limit after decompression is not documented;
/// this bounds memory per record).
pub const MAX_DECOMPRESSED: usize = 16 << 20;

/// One record on its way to a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The payload as it is now.
    pub data: Bytes,
    /// Arrival of the source record (ms).
    pub arrival_ms: i64,
    /// Kinesis metadata of the source record.
    pub kinesis: Option<KinesisRecordMetadata>,
    /// Keys from MetadataExtraction.
    pub query_keys: BTreeMap<String, String>,
    /// Keys from the Lambda transform.
    pub lambda_keys: BTreeMap<String, String>,
    /// The source batch it came from.
    pub batch: BatchId,
}

/// A record that failed a processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The document for the error output.
    pub doc: ProcessingFailed,
    /// The source batch it came from.
    pub batch: BatchId,
}

fn failure(
    code: &str,
    message: String,
    raw: &Bytes,
    arrival_ms: i64,
    now_ms: i64,
    batch: BatchId,
) -> Failure {
    Failure {
        doc: ProcessingFailed {
            attempts_made: 1,
            arrival_timestamp: arrival_ms,
            error_code: code.to_owned(),
            error_message: message,
            attempt_ending_timestamp: now_ms,
            raw_data: raw.clone(),
            lambda_arn: None,
        },
        batch,
    }
}

/// Runs the processors before the transform on `r`, appending to `items` and `failures`.
pub fn before_transform(
    p: &Processing,
    r: SourceRecord,
    batch: BatchId,
    now_ms: i64,
    items: &mut Vec<Item>,
    failures: &mut Vec<Failure>,
) {
    let on = p.enabled;
    let mut parts = vec![r.data];
    // Each processor maps every part to zero or more parts; a part it cannot process fails
    // alone, with the processor's error code.
    let mut step = |parts: Vec<Bytes>, f: &dyn Fn(&Bytes) -> Result<Vec<Bytes>, DeaggError>| {
        let mut out = Vec::with_capacity(parts.len());
        for d in parts {
            match f(&d) {
                Ok(x) => out.extend(x),
                Err(e) => failures.push(failure(
                    e.code(),
                    e.to_string(),
                    &d,
                    r.arrival_ms,
                    now_ms,
                    batch,
                )),
            }
        }
        out
    };
    if on && p.decompression {
        parts = step(parts, &|d| {
            deagg::gunzip(d, MAX_DECOMPRESSED).map(|x| vec![x])
        });
    }
    if on && p.cloudwatch_message_extraction {
        parts = step(parts, &|d| deagg::extract_log_messages(d));
    }
    if on && let Some(how) = &p.deaggregation {
        parts = step(parts, &|d| match how {
            Deaggregation::Json => deagg::split_json(d),
            Deaggregation::Delimited(delim) => deagg::split_delimited(d, delim),
        });
    }
    for data in parts {
        let query_keys = match (on, &p.metadata_extraction) {
            (true, Some(m)) => match m.query.evaluate(&data) {
                Ok(keys) => keys,
                Err(e) => {
                    failures.push(failure(
                        e.code(),
                        e.to_string(),
                        &data,
                        r.arrival_ms,
                        now_ms,
                        batch,
                    ));
                    continue;
                }
            },
            _ => BTreeMap::new(),
        };
        items.push(Item {
            data,
            arrival_ms: r.arrival_ms,
            kinesis: r.kinesis.clone(),
            query_keys,
            lambda_keys: BTreeMap::new(),
            batch,
        });
    }
}

/// The processors after the transform: AppendDelimiterToRecord.
pub fn finish(p: &Processing, mut item: Item) -> Item {
    if p.enabled && p.append_delimiter {
        item.data = deagg::append_delimiter(&item.data);
    }
    item
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::rules::extract::MetadataQuery;
    use crate::rules::processing::MetadataExtraction;

    fn rec(data: &[u8]) -> SourceRecord {
        SourceRecord {
            data: Bytes::copy_from_slice(data),
            arrival_ms: 7,
            kinesis: None,
        }
    }

    fn run(p: &Processing, data: &[u8]) -> (Vec<Item>, Vec<Failure>) {
        let (mut items, mut failures) = (Vec::new(), Vec::new());
        before_transform(p, rec(data), 3, 9, &mut items, &mut failures);
        (items, failures)
    }

    #[test]
    fn without_processors_a_record_passes_unchanged() {
        let (items, failures) = run(&Processing::default(), b"abc");
        assert!(failures.is_empty());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].data, "abc");
        assert_eq!((items[0].arrival_ms, items[0].batch), (7, 3));
    }

    #[test]
    fn gzip_cloudwatch_logs_records_become_one_item_per_log_event() {
        let msg =
            br#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a"},{"message":"b"}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(msg).unwrap();
        let p = Processing {
            enabled: true,
            decompression: true,
            cloudwatch_message_extraction: true,
            ..Processing::default()
        };
        let (items, failures) = run(&p, &gz.finish().unwrap());
        assert!(failures.is_empty());
        let data: Vec<_> = items.iter().map(|i| i.data.clone()).collect();
        assert_eq!(data, vec!["a", "b"]);
    }

    #[test]
    fn sub_records_get_their_own_keys_and_a_bad_one_fails_alone() {
        let p = Processing {
            enabled: true,
            deaggregation: Some(Deaggregation::Json),
            metadata_extraction: Some(MetadataExtraction {
                query_text: "{c:.c}".to_owned(),
                query: MetadataQuery::compile("{c:.c}").unwrap(),
            }),
            ..Processing::default()
        };
        let (items, failures) = run(&p, br#"{"c":"x"}{"d":1}{"c":2}"#);
        let keys: Vec<_> = items.iter().map(|i| i.query_keys["c"].clone()).collect();
        assert_eq!(keys, vec!["x", "2"]);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].doc.raw_data, r#"{"d":1}"#);
        assert_eq!(failures[0].doc.arrival_timestamp, 7);
        assert_eq!(failures[0].doc.attempt_ending_timestamp, 9);
        assert!(
            failures[0]
                .doc
                .error_code
                .starts_with("DynamicPartitioning.")
        );
    }

    #[test]
    fn processors_do_nothing_while_processing_is_disabled() {
        let p = Processing {
            enabled: false,
            decompression: true,
            append_delimiter: true,
            ..Processing::default()
        };
        let (items, failures) = run(&p, b"not gzip");
        assert!(failures.is_empty());
        assert_eq!(finish(&p, items[0].clone()).data, "not gzip");
    }
}
