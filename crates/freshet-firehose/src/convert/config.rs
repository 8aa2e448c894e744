// SPDX-License-Identifier: Apache-2.0
//! `DataFormatConversionConfiguration` (Firehose API 2015-08-04): the model shapes as serde
//! structs with AWS member names, their model constraints in Coral's message format, and the
//! semantic checks CreateDeliveryStream / UpdateDestination make on top, which turn a
//! configuration into the [`Input`] and [`ParquetOptions`] a [`super::Converter`] takes.
//!
//! Invariants: [`validate_model`] only reports constraint violations (Coral order: not null,
//! value bounds, pattern, length, enum); [`parse_data_format_conversion`] runs after it and
//! answers the first semantic problem as an `InvalidArgumentException` message. ORC output is
//! refused there: no well-kept Rust ORC writer covers the Hive types (see the crate docs).

use std::collections::BTreeMap;

use freshet_protocol::validate::{Shown, Validator};
use serde::{Deserialize, Serialize};

use super::{Input, ParquetCompression, ParquetOptions, WriterVersion};

/// `DataFormatConversionConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataFormatConversionConfiguration {
    /// Where the schema comes from (a Glue table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_configuration: Option<SchemaConfiguration>,
    /// How records are read (the JSON deserializer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_format_configuration: Option<InputFormatConfiguration>,
    /// How records are written (the columnar serializer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format_configuration: Option<OutputFormatConfiguration>,
    /// Defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `SchemaConfiguration`: the Glue table holding the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaConfiguration {
    /// The role Firehose assumes to read the table (stored, not enforced).
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The catalog (defaults to the account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// The Glue database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    /// The Glue table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// The table's region (defaults to the stream's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The table version; absent or `LATEST` means the newest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// `InputFormatConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputFormatConfiguration {
    /// Exactly one deserializer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deserializer: Option<Deserializer>,
}

/// `Deserializer`: exactly one member may be set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deserializer {
    /// The OpenX JSON SerDe.
    #[serde(rename = "OpenXJsonSerDe", skip_serializing_if = "Option::is_none")]
    pub open_x_json_ser_de: Option<OpenXJsonSerDe>,
    /// The Apache Hive JSON SerDe.
    #[serde(rename = "HiveJsonSerDe", skip_serializing_if = "Option::is_none")]
    pub hive_json_ser_de: Option<HiveJsonSerDe>,
}

/// `OpenXJsonSerDe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OpenXJsonSerDe {
    /// Replace dots in JSON keys with underscores (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convert_dots_in_json_keys_to_underscores: Option<bool>,
    /// Match keys case-insensitively (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_insensitive: Option<bool>,
    /// Column name → JSON key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_to_json_key_mappings: Option<BTreeMap<String, String>>,
}

/// `HiveJsonSerDe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HiveJsonSerDe {
    /// Joda-Time patterns, or `millis`, for timestamp values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_formats: Option<Vec<String>>,
}

/// `OutputFormatConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputFormatConfiguration {
    /// Exactly one serializer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serializer: Option<Serializer>,
}

/// `Serializer`: exactly one member may be set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Serializer {
    /// Parquet output.
    #[serde(rename = "ParquetSerDe", skip_serializing_if = "Option::is_none")]
    pub parquet_ser_de: Option<ParquetSerDe>,
    /// ORC output (validated, then refused: see the module docs).
    #[serde(rename = "OrcSerDe", skip_serializing_if = "Option::is_none")]
    pub orc_ser_de: Option<OrcSerDe>,
}

/// `ParquetSerDe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParquetSerDe {
    /// Row group size, ≥ 64 MiB (default 256 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size_bytes: Option<i64>,
    /// Page size, ≥ 64 KiB (default 1 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size_bytes: Option<i64>,
    /// UNCOMPRESSED | GZIP | SNAPPY (default SNAPPY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Dictionary encoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_dictionary_compression: Option<bool>,
    /// Padding between row groups (accepted; Freshet writes none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_padding_bytes: Option<i64>,
    /// V1 (default) | V2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer_version: Option<String>,
}

/// `OrcSerDe`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrcSerDe {
    /// ≥ 8 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_size_bytes: Option<i64>,
    /// ≥ 64 MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size_bytes: Option<i64>,
    /// ≥ 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_index_stride: Option<i64>,
    /// Stripe padding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_padding: Option<bool>,
    /// 0..=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub padding_tolerance: Option<f64>,
    /// NONE | ZLIB | SNAPPY.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Columns with bloom filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bloom_filter_columns: Option<Vec<String>>,
    /// 0..=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bloom_filter_false_positive_probability: Option<f64>,
    /// 0..=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dictionary_key_threshold: Option<f64>,
    /// V0_11 | V0_12.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
}

/// A validated, enabled conversion: what delivery needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The Glue table to read the columns from.
    pub schema: SchemaConfiguration,
    /// The deserializer.
    pub input: Input,
    /// The Parquet writer settings.
    pub output: ParquetOptions,
}

const MIB: i64 = 1024 * 1024;
const NON_EMPTY_NO_SPACE: &str = "^\\S+$";

/// Checks the model constraints of a configuration found at `path` (lowerCamel, e.g.
/// `extendedS3DestinationConfiguration.dataFormatConversionConfiguration`), in model member
/// order.
pub fn validate_model(c: &DataFormatConversionConfiguration, path: &str, v: &mut Validator) {
    if let Some(s) = &c.schema_configuration {
        let p = format!("{path}.schemaConfiguration");
        for (name, value) in [
            ("roleARN", &s.role_arn),
            ("catalogId", &s.catalog_id),
            ("databaseName", &s.database_name),
            ("tableName", &s.table_name),
            ("region", &s.region),
            ("versionId", &s.version_id),
        ] {
            no_space_string(v, &format!("{p}.{name}"), value.as_deref());
        }
    }
    if let Some(OpenXJsonSerDe {
        column_to_json_key_mappings: Some(map),
        ..
    }) = c
        .input_format_configuration
        .as_ref()
        .and_then(|i| i.deserializer.as_ref())
        .and_then(|d| d.open_x_json_ser_de.as_ref())
    {
        let p = format!(
            "{path}.inputFormatConfiguration.deserializer.openXJsonSerDe.columnToJsonKeyMappings"
        );
        for (k, val) in map {
            no_space_string(v, &format!("{p}.key"), Some(k));
            v.string(&format!("{p}.value"), Some(val), 1, None, None);
        }
    }
    let ser = c
        .output_format_configuration
        .as_ref()
        .and_then(|o| o.serializer.as_ref());
    let sp = format!("{path}.outputFormatConfiguration.serializer");
    if let Some(pq) = ser.and_then(|s| s.parquet_ser_de.as_ref()) {
        let p = format!("{sp}.parquetSerDe");
        v.int(
            &format!("{p}.blockSizeBytes"),
            pq.block_size_bytes,
            Some(64 * MIB),
            None,
        );
        v.int(
            &format!("{p}.pageSizeBytes"),
            pq.page_size_bytes,
            Some(64 * 1024),
            None,
        );
        v.one_of(
            &format!("{p}.compression"),
            pq.compression.as_deref(),
            &["UNCOMPRESSED", "GZIP", "SNAPPY"],
        );
        v.int(
            &format!("{p}.maxPaddingBytes"),
            pq.max_padding_bytes,
            Some(0),
            None,
        );
        v.one_of(
            &format!("{p}.writerVersion"),
            pq.writer_version.as_deref(),
            &["V1", "V2"],
        );
    }
    if let Some(orc) = ser.and_then(|s| s.orc_ser_de.as_ref()) {
        let p = format!("{sp}.orcSerDe");
        v.int(
            &format!("{p}.stripeSizeBytes"),
            orc.stripe_size_bytes,
            Some(8 * MIB),
            None,
        );
        v.int(
            &format!("{p}.blockSizeBytes"),
            orc.block_size_bytes,
            Some(64 * MIB),
            None,
        );
        v.int(
            &format!("{p}.rowIndexStride"),
            orc.row_index_stride,
            Some(1000),
            None,
        );
        proportion(v, &format!("{p}.paddingTolerance"), orc.padding_tolerance);
        v.one_of(
            &format!("{p}.compression"),
            orc.compression.as_deref(),
            &["NONE", "ZLIB", "SNAPPY"],
        );
        if let Some(cols) = &orc.bloom_filter_columns {
            for (i, col) in cols.iter().enumerate() {
                no_space_string(
                    v,
                    &format!("{p}.bloomFilterColumns.{}.member", i + 1),
                    Some(col),
                );
            }
        }
        proportion(
            v,
            &format!("{p}.bloomFilterFalsePositiveProbability"),
            orc.bloom_filter_false_positive_probability,
        );
        proportion(
            v,
            &format!("{p}.dictionaryKeyThreshold"),
            orc.dictionary_key_threshold,
        );
        v.one_of(
            &format!("{p}.formatVersion"),
            orc.format_version.as_deref(),
            &["V0_11", "V0_12"],
        );
    }
}

fn no_space_string(v: &mut Validator, path: &str, value: Option<&str>) {
    v.string(
        path,
        value,
        1,
        Some(1024),
        Some((
            |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace),
            NON_EMPTY_NO_SPACE,
        )),
    );
}

fn proportion(v: &mut Validator, path: &str, value: Option<f64>) {
    let Some(x) = value else { return };
    let shown = x.to_string();
    if x < 0.0 {
        v.fail(
            Shown::Text(&shown),
            path,
            "Member must have value greater than or equal to 0",
        );
    }
    if x > 1.0 {
        v.fail(
            Shown::Text(&shown),
            path,
            "Member must have value less than or equal to 1",
        );
    }
}

/// The semantic checks of an S3 destination's conversion configuration, after
/// [`validate_model`]. `Ok(None)`: conversion is off (absent or `Enabled: false`). `Err`: the
/// message of an `InvalidArgumentException`. `compression_format` and `size_in_mbs` are the
/// destination's `CompressionFormat` and `BufferingHints.SizeInMBs` as the request gave them.
pub fn parse_data_format_conversion(
    c: Option<&DataFormatConversionConfiguration>,
    compression_format: Option<&str>,
    size_in_mbs: Option<i64>,
) -> Result<Option<Conversion>, String> {
    let Some(c) = c else { return Ok(None) };
    if c.enabled == Some(false) {
        return Ok(None);
    }
    if let Some(f) = compression_format
        && f != "UNCOMPRESSED"
    {
        return Err(format!(
            "CompressionFormat {f} is not supported with data format conversion: the \
             serializer compresses, so CompressionFormat must be UNCOMPRESSED."
        ));
    }
    if let Some(size) = size_in_mbs
        && size < 64
    {
        return Err(format!(
            "BufferingHints.SizeInMBs must be at least 64 when data format conversion is \
             enabled; got {size}."
        ));
    }
    let schema = c.schema_configuration.clone().ok_or_else(|| {
        "SchemaConfiguration is required when data format conversion is enabled.".to_owned()
    })?;
    if schema.database_name.is_none() || schema.table_name.is_none() {
        return Err(
            "SchemaConfiguration must specify DatabaseName and TableName when data format \
             conversion is enabled."
                .to_owned(),
        );
    }
    let de = c
        .input_format_configuration
        .as_ref()
        .and_then(|i| i.deserializer.as_ref())
        .ok_or_else(|| {
            "InputFormatConfiguration with a Deserializer is required when data format \
             conversion is enabled."
                .to_owned()
        })?;
    let input = match (&de.open_x_json_ser_de, &de.hive_json_ser_de) {
        (Some(o), None) => Input::OpenX {
            case_insensitive: o.case_insensitive.unwrap_or(true),
            convert_dots_to_underscores: o
                .convert_dots_in_json_keys_to_underscores
                .unwrap_or(false),
            column_to_json_key: o.column_to_json_key_mappings.clone().unwrap_or_default(),
        },
        (None, Some(h)) => Input::Hive {
            timestamp_formats: h.timestamp_formats.clone().unwrap_or_default(),
        },
        _ => {
            return Err(
                "Exactly one of OpenXJsonSerDe or HiveJsonSerDe must be specified in the \
                 Deserializer."
                    .to_owned(),
            );
        }
    };
    let ser = c
        .output_format_configuration
        .as_ref()
        .and_then(|o| o.serializer.as_ref())
        .ok_or_else(|| {
            "OutputFormatConfiguration with a Serializer is required when data format \
             conversion is enabled."
                .to_owned()
        })?;
    let pq = match (&ser.parquet_ser_de, &ser.orc_ser_de) {
        (Some(p), None) => p,
        (None, Some(_)) => {
            return Err(
                "OrcSerDe is not supported by Freshet: use ParquetSerDe for data format \
                 conversion."
                    .to_owned(),
            );
        }
        _ => {
            return Err(
                "Exactly one of ParquetSerDe or OrcSerDe must be specified in the Serializer."
                    .to_owned(),
            );
        }
    };
    Ok(Some(Conversion {
        schema,
        input,
        output: parquet_options(pq),
    }))
}

/// The writer settings of a (validated) `ParquetSerDe`, with AWS's defaults.
pub fn parquet_options(pq: &ParquetSerDe) -> ParquetOptions {
    let d = ParquetOptions::default();
    ParquetOptions {
        compression: match pq.compression.as_deref() {
            Some("UNCOMPRESSED") => ParquetCompression::Uncompressed,
            Some("GZIP") => ParquetCompression::Gzip,
            _ => ParquetCompression::Snappy,
        },
        block_size_bytes: pq
            .block_size_bytes
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or(d.block_size_bytes),
        page_size_bytes: pq
            .page_size_bytes
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or(d.page_size_bytes),
        enable_dictionary: pq
            .enable_dictionary_compression
            .unwrap_or(d.enable_dictionary),
        writer_version: match pq.writer_version.as_deref() {
            Some("V2") => WriterVersion::V2,
            _ => WriterVersion::V1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "extendedS3DestinationConfiguration.dataFormatConversionConfiguration";

    fn config(json: &str) -> DataFormatConversionConfiguration {
        serde_json::from_str(json).expect("config json")
    }

    fn full() -> DataFormatConversionConfiguration {
        config(
            r#"{"SchemaConfiguration":{"DatabaseName":"db","TableName":"t","RoleARN":"arn:aws:iam::000000000000:role/r"},
                "InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{"CaseInsensitive":false}}},
                "OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"Compression":"GZIP","WriterVersion":"V2"}}}}"#,
        )
    }

    fn model_errors(c: &DataFormatConversionConfiguration) -> Option<String> {
        let mut v = Validator::new();
        validate_model(c, PATH, &mut v);
        v.finish()
    }

    #[test]
    fn a_full_configuration_parses_into_converter_settings() {
        let conv = parse_data_format_conversion(Some(&full()), Some("UNCOMPRESSED"), Some(128))
            .expect("valid")
            .expect("enabled");
        assert_eq!(conv.schema.table_name.as_deref(), Some("t"));
        assert_eq!(
            conv.input,
            Input::OpenX {
                case_insensitive: false,
                convert_dots_to_underscores: false,
                column_to_json_key: BTreeMap::new()
            }
        );
        assert_eq!(conv.output.compression, ParquetCompression::Gzip);
        assert_eq!(conv.output.writer_version, WriterVersion::V2);
        assert_eq!(conv.output.block_size_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn disabled_or_absent_conversion_is_none() {
        let mut c = full();
        c.enabled = Some(false);
        assert_eq!(
            parse_data_format_conversion(Some(&c), Some("GZIP"), Some(1)),
            Ok(None)
        );
        assert_eq!(parse_data_format_conversion(None, None, None), Ok(None));
    }

    #[test]
    fn parquet_ranges_fail_with_coral_messages() {
        let c = config(
            r#"{"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"BlockSizeBytes":1024,"PageSizeBytes":10,"Compression":"LZO"}}}}"#,
        );
        let msg = model_errors(&c).expect("errors");
        assert!(msg.starts_with("3 validation errors detected: "), "{msg}");
        assert!(
            msg.contains(&format!("Value '1024' at '{PATH}.outputFormatConfiguration.serializer.parquetSerDe.blockSizeBytes' failed to satisfy constraint: Member must have value greater than or equal to 67108864")),
            "{msg}"
        );
        assert!(
            msg.contains("Member must satisfy enum value set: [UNCOMPRESSED, GZIP, SNAPPY]"),
            "{msg}"
        );
    }

    #[test]
    fn orc_ranges_are_checked_even_though_orc_is_refused() {
        let c = config(
            r#"{"OutputFormatConfiguration":{"Serializer":{"OrcSerDe":{"StripeSizeBytes":1,"PaddingTolerance":1.5}}}}"#,
        );
        let msg = model_errors(&c).expect("errors");
        assert!(msg.contains("orcSerDe.stripeSizeBytes"), "{msg}");
        assert!(msg.contains("orcSerDe.paddingTolerance"), "{msg}");
        let mut c = full();
        c.output_format_configuration = Some(OutputFormatConfiguration {
            serializer: Some(Serializer {
                parquet_ser_de: None,
                orc_ser_de: Some(OrcSerDe::default()),
            }),
        });
        let err = parse_data_format_conversion(Some(&c), None, None).expect_err("orc");
        assert!(err.contains("OrcSerDe is not supported"), "{err}");
    }

    #[test]
    fn both_or_neither_serializer_is_refused() {
        let mut c = full();
        c.output_format_configuration = Some(OutputFormatConfiguration {
            serializer: Some(Serializer::default()),
        });
        let err = parse_data_format_conversion(Some(&c), None, None).expect_err("none");
        assert!(
            err.starts_with("Exactly one of ParquetSerDe or OrcSerDe"),
            "{err}"
        );
        let mut c = full();
        c.input_format_configuration = Some(InputFormatConfiguration {
            deserializer: Some(Deserializer {
                open_x_json_ser_de: Some(OpenXJsonSerDe::default()),
                hive_json_ser_de: Some(HiveJsonSerDe::default()),
            }),
        });
        let err = parse_data_format_conversion(Some(&c), None, None).expect_err("both");
        assert!(err.starts_with("Exactly one of OpenXJsonSerDe"), "{err}");
    }

    #[test]
    fn compression_and_small_buffers_are_refused_when_converting() {
        let err = parse_data_format_conversion(Some(&full()), Some("GZIP"), None).expect_err("gz");
        assert!(err.contains("must be UNCOMPRESSED"), "{err}");
        let err = parse_data_format_conversion(Some(&full()), None, Some(5)).expect_err("size");
        assert!(err.contains("at least 64"), "{err}");
    }

    #[test]
    fn schema_strings_with_spaces_fail_the_pattern() {
        let c = config(r#"{"SchemaConfiguration":{"DatabaseName":"a b","TableName":""}}"#);
        let msg = model_errors(&c).expect("errors");
        assert!(msg.contains("schemaConfiguration.databaseName"), "{msg}");
        assert!(
            msg.contains("Member must have length greater than or equal to 1"),
            "{msg}"
        );
    }

    #[test]
    fn configurations_round_trip_through_json_with_aws_member_names() {
        let c = full();
        let json = serde_json::to_string(&c).expect("encode");
        assert!(json.contains("\"OpenXJsonSerDe\""), "{json}");
        assert!(json.contains("\"RoleARN\""), "{json}");
        assert_eq!(config(&json), c);
    }
}
