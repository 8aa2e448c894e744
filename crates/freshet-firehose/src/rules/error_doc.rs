// SPDX-License-Identifier: Apache-2.0
//! Error output documents: what Firehose writes under the ErrorOutputPrefix, one JSON
//! document per failed record, one per line (AWS concatenates them; we end each with `\n`
//! so `jq`/pandas read the objects line by line).
//!
//! Field names and types, with their sources:
//! * `processing-failed` (Lambda transform) — [data transformation failure handling](https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html):
//!   `{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
//!   "attemptEndingTimestamp", "rawData", "lambdaArn"}`. The page prints the template with
//!   quoted placeholders; delivered documents carry numbers for the counts and timestamps
//!   (epoch ms), which is what we write.
//! * `processing-failed` from dynamic partitioning (jq extraction, de-aggregation, partition
//!   limit): the same shape without `lambdaArn`, with codes such as
//!   `DynamicPartitioning.MetadataExtractionFailed` (message "Non JSON record provided").
//! * `format-conversion-failed` — [record format conversion error handling](https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html):
//!   `{"attemptsMade", "arrivalTimestamp", "lastErrorCode", "lastErrorMessage",
//!   "attemptEndingTimestamp", "rawData", "sequenceNumber", "subSequenceNumber",
//!   "dataCatalogTable": {"catalogId", "databaseName", "tableName", "region", "versionId",
//!   "catalogArn"}}`. (One translation of the page shows `ErrorCode`/`ErrorMessage`;
//!   delivered objects, and the current English page, use `lastErrorCode`/`lastErrorMessage`.)
//! * `http-endpoint-failed` — [HTTP endpoint delivery failures](https://docs.aws.amazon.com/firehose/latest/dev/retry.html):
//!   `{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
//!   "attemptEndingTimestamp", "rawData", "subsequenceNumber", "dataId"}`; codes as in
//!   [HTTP troubleshooting](https://docs.aws.amazon.com/firehose/latest/dev/http_troubleshooting.html)
//!   (`HttpEndpoint.DestinationException`, ...).
//! * S3 backup (`S3BackupMode` Enabled / AllData / FailedDataOnly) writes the source records
//!   themselves, concatenated, not documents; nothing here.
//!
//! `rawData` is always the base64 of the record as it entered the failing step.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Serialize, Serializer};

fn base64<S: Serializer>(data: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&B64.encode(data))
}

fn line<T: Serialize>(doc: &T) -> Vec<u8> {
    // Structs of strings, integers and base64 text always serialize.
    let mut out = serde_json::to_vec(doc).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A `processing-failed` document (Lambda transform, or dynamic partitioning without
/// `lambda_arn`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingFailed {
    /// Invocation attempts made (1 + retries).
    pub attempts_made: u32,
    /// When Firehose received the record (epoch ms).
    pub arrival_timestamp: i64,
    /// E.g. `Lambda.FunctionError`, `Lambda.ProcessingFailed`, `Lambda.MissingRecordId`,
    /// `DynamicPartitioning.MetadataExtractionFailed`.
    pub error_code: String,
    /// What failed.
    pub error_message: String,
    /// When Firehose stopped trying (epoch ms).
    pub attempt_ending_timestamp: i64,
    /// The record.
    #[serde(serialize_with = "base64")]
    pub raw_data: Bytes,
    /// The transform function; absent for dynamic partitioning failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
}

impl ProcessingFailed {
    /// The document as one line.
    pub fn to_line(&self) -> Vec<u8> {
        line(self)
    }
}

/// The Glue table a conversion used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCatalogTable {
    /// The catalog (account id).
    pub catalog_id: String,
    /// `DatabaseName`.
    pub database_name: String,
    /// `TableName`.
    pub table_name: String,
    /// The region.
    pub region: String,
    /// `VersionId` (`LATEST` by default).
    pub version_id: String,
    /// `arn:aws:glue:<region>:<account>:catalog`.
    pub catalog_arn: String,
}

/// A `format-conversion-failed` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatConversionFailed {
    /// Attempts made.
    pub attempts_made: u32,
    /// When Firehose received the record (epoch ms).
    pub arrival_timestamp: i64,
    /// E.g. `DataFormatConversion.MalformedData`.
    pub last_error_code: String,
    /// What failed.
    pub last_error_message: String,
    /// When Firehose stopped trying (epoch ms).
    pub attempt_ending_timestamp: i64,
    /// The record.
    #[serde(serialize_with = "base64")]
    pub raw_data: Bytes,
    /// The Kinesis sequence number (Kinesis sources only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// The position in a KPL aggregate (Kinesis sources only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_sequence_number: Option<i64>,
    /// The schema's table.
    pub data_catalog_table: DataCatalogTable,
}

impl FormatConversionFailed {
    /// The document as one line.
    pub fn to_line(&self) -> Vec<u8> {
        line(self)
    }
}

/// An `http-endpoint-failed` document (one per record of a batch that ran out of retries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpEndpointFailed {
    /// Requests attempted.
    pub attempts_made: u32,
    /// When Firehose received the record (epoch ms).
    pub arrival_timestamp: i64,
    /// E.g. `HttpEndpoint.DestinationException`.
    pub error_code: String,
    /// E.g. "The following response was received from the endpoint destination. 500: ...".
    pub error_message: String,
    /// When Firehose stopped trying (epoch ms).
    pub attempt_ending_timestamp: i64,
    /// The record.
    #[serde(serialize_with = "base64")]
    pub raw_data: Bytes,
    /// Position in a KPL aggregate (Kinesis sources only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<i64>,
    /// An id of the record (Freshet uses the record id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_id: Option<String>,
}

impl HttpEndpointFailed {
    /// The document as one line.
    pub fn to_line(&self) -> Vec<u8> {
        line(self)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn parse(line: &[u8]) -> Value {
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        serde_json::from_slice(line).unwrap()
    }

    #[test]
    fn processing_failed_has_aws_field_names() {
        let doc = ProcessingFailed {
            attempts_made: 4,
            arrival_timestamp: 1_700_000_000_000,
            error_code: "Lambda.FunctionError".into(),
            error_message: "boom".into(),
            attempt_ending_timestamp: 1_700_000_001_000,
            raw_data: Bytes::from_static(b"hello"),
            lambda_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:f".into()),
        };
        assert_eq!(
            parse(&doc.to_line()),
            json!({"attemptsMade":4,"arrivalTimestamp":1_700_000_000_000i64,"errorCode":"Lambda.FunctionError",
                "errorMessage":"boom","attemptEndingTimestamp":1_700_000_001_000i64,"rawData":"aGVsbG8=",
                "lambdaArn":"arn:aws:lambda:us-east-1:000000000000:function:f"})
        );
        let dp = ProcessingFailed {
            lambda_arn: None,
            ..doc
        };
        assert!(parse(&dp.to_line()).get("lambdaArn").is_none());
    }

    #[test]
    fn format_conversion_failed_has_aws_field_names() {
        let doc = FormatConversionFailed {
            attempts_made: 1,
            arrival_timestamp: 1,
            last_error_code: "DataFormatConversion.MalformedData".into(),
            last_error_message: "The record was empty or contained only whitespace.".into(),
            attempt_ending_timestamp: 2,
            raw_data: Bytes::new(),
            sequence_number: Some("4967".into()),
            sub_sequence_number: Some(0),
            data_catalog_table: DataCatalogTable {
                catalog_id: "000000000000".into(),
                database_name: "db".into(),
                table_name: "t".into(),
                region: "us-east-1".into(),
                version_id: "LATEST".into(),
                catalog_arn: "arn:aws:glue:us-east-1:000000000000:catalog".into(),
            },
        };
        let v = parse(&doc.to_line());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "attemptsMade",
            "arrivalTimestamp",
            "lastErrorCode",
            "lastErrorMessage",
            "attemptEndingTimestamp",
            "rawData",
            "sequenceNumber",
            "subSequenceNumber",
            "dataCatalogTable",
        ] {
            assert!(keys.contains(&k), "{k} missing");
        }
        assert_eq!(
            v["dataCatalogTable"]["catalogArn"],
            "arn:aws:glue:us-east-1:000000000000:catalog"
        );
        assert_eq!(v["rawData"], "");
    }

    #[test]
    fn http_endpoint_failed_has_aws_field_names() {
        let doc = HttpEndpointFailed {
            attempts_made: 3,
            arrival_timestamp: 1,
            error_code: "HttpEndpoint.DestinationException".into(),
            error_message: "m".into(),
            attempt_ending_timestamp: 2,
            raw_data: Bytes::from_static(b"x"),
            subsequence_number: None,
            data_id: Some("id".into()),
        };
        assert_eq!(
            parse(&doc.to_line()),
            json!({"attemptsMade":3,"arrivalTimestamp":1,"errorCode":"HttpEndpoint.DestinationException",
                "errorMessage":"m","attemptEndingTimestamp":2,"rawData":"eA==","dataId":"id"})
        );
    }

    proptest! {
        #[test]
        fn any_content_is_one_json_line_whose_raw_data_decodes(data in proptest::collection::vec(any::<u8>(), 0..200), msg in ".{0,50}") {
            let doc = ProcessingFailed { attempts_made: 1, arrival_timestamp: 0, error_code: "c".into(),
                error_message: msg.clone(), attempt_ending_timestamp: 0, raw_data: Bytes::from(data.clone()), lambda_arn: None };
            let v = parse(&doc.to_line());
            prop_assert_eq!(v["errorMessage"].as_str().unwrap(), msg.as_str());
            prop_assert_eq!(B64.decode(v["rawData"].as_str().unwrap()).unwrap(), data);
        }
    }
}
