// SPDX-License-Identifier: Apache-2.0
//! `ProcessingConfiguration`: the wire shape (model `ProcessingConfiguration`) and its
//! validated form, [`Processing`].
//!
//! Source: the botocore model (`ProcessorType`, `ProcessorParameterName`) and
//! [ProcessorParameter](https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html),
//! [data transformation](https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html),
//! [dynamic partitioning](https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html).
//!
//! Rules: each processor type at most once; only the parameters of its type, each at most
//! once; values non-blank and at most 5,120 characters (the model). Defaults: Lambda
//! `NumberOfRetries` 3, `BufferSizeInMBs` 1, `BufferIntervalInSeconds` 60; JsonParsingEngine
//! `JQ-1.6` (the only engine). Cross-field rules that involve the destination (e.g.
//! MetadataExtraction needs dynamic partitioning on) are the caller's.
//!
//! The order delivery applies processors in, whatever order they are listed in:
//! Decompression → CloudWatchLogProcessing → RecordDeAggregation → Lambda →
//! MetadataExtraction → AppendDelimiterToRecord.

use serde::{Deserialize, Serialize};

use super::extract::MetadataQuery;

/// Longest parameter value (model `ProcessorParameterValue`).
pub const MAX_PARAMETER_VALUE: usize = 5120;

/// Wire shape of `ProcessingConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingConfiguration {
    /// Whether processing is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The processors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processors: Option<Vec<ProcessorConfig>>,
}

/// Wire shape of `Processor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorConfig {
    /// `ProcessorType` (validated here, so an unknown value gets AWS's message).
    #[serde(rename = "Type")]
    pub processor_type: String,
    /// The parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ProcessorParameter>>,
}

/// Wire shape of `ProcessorParameter`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorParameter {
    /// `ProcessorParameterName`.
    pub parameter_name: String,
    /// The value, 1–5,120 characters.
    pub parameter_value: String,
}

/// The validated processing configuration of one destination.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Processing {
    /// `Enabled` (processors are validated and kept even when off).
    pub enabled: bool,
    /// The Lambda transform.
    pub lambda: Option<LambdaProcessor>,
    /// Inline jq partition key extraction.
    pub metadata_extraction: Option<MetadataExtraction>,
    /// Splitting records into sub-records.
    pub deaggregation: Option<Deaggregation>,
    /// `AppendDelimiterToRecord`: a `\n` after every record.
    pub append_delimiter: bool,
    /// `Decompression` of records (GZIP).
    pub decompression: bool,
    /// `CloudWatchLogProcessing` with `DataMessageExtraction` true.
    pub cloudwatch_message_extraction: bool,
}

impl Processing {
    /// Whether any processor acts (processing enabled and at least one processor).
    pub fn is_active(&self) -> bool {
        self.enabled
            && (self.lambda.is_some()
                || self.metadata_extraction.is_some()
                || self.deaggregation.is_some()
                || self.append_delimiter
                || self.decompression
                || self.cloudwatch_message_extraction)
    }
}

/// Parameters of the `Lambda` processor.
#[derive(Clone, Debug, PartialEq)]
pub struct LambdaProcessor {
    /// `LambdaArn` (may carry a version or alias qualifier).
    pub lambda_arn: String,
    /// `NumberOfRetries` (0–300, default 3).
    pub number_of_retries: u32,
    /// `BufferSizeInMBs` in bytes (0.2–3 MB, default 1 MB; 1 MB = 1,048,576 bytes).
    pub buffer_size_bytes: u64,
    /// `BufferIntervalInSeconds` (0–900, default 60).
    pub buffer_interval_secs: u32,
    /// `RoleArn`, when given.
    pub role_arn: Option<String>,
}

/// Parameters of `MetadataExtraction`.
#[derive(Clone, Debug)]
pub struct MetadataExtraction {
    /// `MetadataExtractionQuery` as written.
    pub query_text: String,
    /// The compiled query.
    pub query: MetadataQuery,
}

impl PartialEq for MetadataExtraction {
    fn eq(&self, other: &Self) -> bool {
        self.query_text == other.query_text
    }
}

/// `RecordDeAggregation` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deaggregation {
    /// `SubRecordType` JSON: concatenated JSON objects.
    Json,
    /// `SubRecordType` DELIMITED with the decoded `Delimiter`.
    Delimited(Vec<u8>),
}

const TYPES: [&str; 6] = [
    "RecordDeAggregation",
    "Decompression",
    "CloudWatchLogProcessing",
    "Lambda",
    "MetadataExtraction",
    "AppendDelimiterToRecord",
];

fn allowed(ty: &str) -> &'static [&'static str] {
    match ty {
        "Lambda" => &[
            "LambdaArn",
            "NumberOfRetries",
            "RoleArn",
            "BufferSizeInMBs",
            "BufferIntervalInSeconds",
        ],
        "MetadataExtraction" => &["MetadataExtractionQuery", "JsonParsingEngine"],
        "RecordDeAggregation" => &["SubRecordType", "Delimiter"],
        "Decompression" => &["CompressionFormat"],
        "CloudWatchLogProcessing" => &["DataMessageExtraction"],
        // Users pass Delimiter "\n" to AppendDelimiterToRecord; AWS accepts and ignores it.
        "AppendDelimiterToRecord" => &["Delimiter"],
        _ => &[],
    }
}

/// Validates a `ProcessingConfiguration`; `Err` is the InvalidArgumentException message.
pub fn parse_processors(cfg: &ProcessingConfiguration) -> Result<Processing, String> {
    let mut out = Processing {
        enabled: cfg.enabled.unwrap_or(false),
        ..Processing::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for processor in cfg.processors.as_deref().unwrap_or(&[]) {
        let ty = processor.processor_type.as_str();
        if !TYPES.contains(&ty) {
            return Err(format!(
                "Processor type {ty} is not supported. Valid types are {}.",
                TYPES.join(", ")
            ));
        }
        if seen.contains(&ty) {
            return Err(format!("Processor type {ty} is specified more than once."));
        }
        seen.push(ty);
        let params = Params::new(ty, processor.parameters.as_deref().unwrap_or(&[]))?;
        match ty {
            "Lambda" => out.lambda = Some(lambda(&params)?),
            "MetadataExtraction" => {
                let query_text = params.required("MetadataExtractionQuery")?.to_owned();
                let engine = params.required("JsonParsingEngine")?;
                if engine != "JQ-1.6" {
                    return Err(format!(
                        "JsonParsingEngine {engine} is not supported. The supported value is JQ-1.6."
                    ));
                }
                let query = MetadataQuery::compile(&query_text)
                    .map_err(|e| format!("MetadataExtractionQuery is invalid: {e}"))?;
                out.metadata_extraction = Some(MetadataExtraction { query_text, query });
            }
            "RecordDeAggregation" => {
                out.deaggregation = Some(match params.required("SubRecordType")? {
                    "JSON" => {
                        if params.get("Delimiter").is_some() {
                            return Err(
                                "Delimiter is only supported with SubRecordType DELIMITED."
                                    .to_owned(),
                            );
                        }
                        Deaggregation::Json
                    }
                    "DELIMITED" => {
                        let raw = params.required("Delimiter")?;
                        let delimiter = base64_decode(raw).ok_or_else(|| {
                            format!("Delimiter {raw} is not a valid base64-encoded string.")
                        })?;
                        if delimiter.is_empty() {
                            return Err("Delimiter must not be empty.".to_owned());
                        }
                        Deaggregation::Delimited(delimiter)
                    }
                    other => {
                        return Err(format!(
                            "SubRecordType {other} is not supported. Valid values are JSON and DELIMITED."
                        ));
                    }
                });
            }
            "Decompression" => {
                let format = params.get("CompressionFormat").unwrap_or("GZIP");
                if format != "GZIP" {
                    return Err(format!(
                        "CompressionFormat {format} is not supported for Decompression. The supported value is GZIP."
                    ));
                }
                out.decompression = true;
            }
            "CloudWatchLogProcessing" => {
                out.cloudwatch_message_extraction = parse_bool(
                    "DataMessageExtraction",
                    params.required("DataMessageExtraction")?,
                )?;
            }
            _ => out.append_delimiter = true,
        }
    }
    Ok(out)
}

fn lambda(params: &Params<'_>) -> Result<LambdaProcessor, String> {
    let lambda_arn = params.required("LambdaArn")?;
    if !lambda_arn.starts_with("arn:") || lambda_arn.split(':').count() < 7 {
        return Err(format!(
            "LambdaArn {lambda_arn} is not a valid Lambda function ARN."
        ));
    }
    let number_of_retries =
        match params.get("NumberOfRetries") {
            None => 3,
            Some(v) => v.parse::<u32>().ok().filter(|n| *n <= 300).ok_or_else(|| {
                format!("NumberOfRetries {v} is invalid. Valid range is 0 to 300.")
            })?,
        };
    let buffer_size_bytes = match params.get("BufferSizeInMBs") {
        None => 1024 * 1024,
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|mb| mb.is_finite() && (0.2..=3.0).contains(mb))
            .map(|mb| (mb * 1024.0 * 1024.0) as u64)
            .ok_or_else(|| format!("BufferSizeInMBs {v} is invalid. Valid range is 0.2 to 3."))?,
    };
    let buffer_interval_secs = match params.get("BufferIntervalInSeconds") {
        None => 60,
        Some(v) => v.parse::<u32>().ok().filter(|s| *s <= 900).ok_or_else(|| {
            format!("BufferIntervalInSeconds {v} is invalid. Valid range is 0 to 900.")
        })?,
    };
    Ok(LambdaProcessor {
        lambda_arn: lambda_arn.to_owned(),
        number_of_retries,
        buffer_size_bytes,
        buffer_interval_secs,
        role_arn: params.get("RoleArn").map(str::to_owned),
    })
}

fn parse_bool(name: &str, v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "{name} {v} is invalid. Valid values are true and false."
        )),
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

struct Params<'a> {
    ty: &'a str,
    values: Vec<(&'a str, &'a str)>,
}

impl<'a> Params<'a> {
    fn new(ty: &'a str, list: &'a [ProcessorParameter]) -> Result<Self, String> {
        let ok = allowed(ty);
        let mut values: Vec<(&str, &str)> = Vec::new();
        for p in list {
            let name = p.parameter_name.as_str();
            if !ok.contains(&name) {
                return Err(format!(
                    "Parameter {name} is not supported for processor type {ty}."
                ));
            }
            if values.iter().any(|(n, _)| *n == name) {
                return Err(format!(
                    "Parameter {name} is specified more than once for processor type {ty}."
                ));
            }
            let value = p.parameter_value.as_str();
            if value.trim().is_empty() || value.chars().count() > MAX_PARAMETER_VALUE {
                return Err(format!(
                    "Parameter {name} of processor type {ty} must be 1 to {MAX_PARAMETER_VALUE} characters and not blank."
                ));
            }
            values.push((name, value));
        }
        Ok(Params { ty, values })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    fn required(&self, name: &str) -> Result<&'a str, String> {
        self.get(name).ok_or_else(|| {
            format!(
                "Parameter {name} is required for processor type {}.",
                self.ty
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cfg(json: &str) -> ProcessingConfiguration {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_lambda_processor_gets_aws_defaults() {
        let p = parse_processors(&cfg(r#"{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
            {"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"}]}]}"#))
        .unwrap();
        let l = p.lambda.clone().unwrap();
        assert_eq!(l.number_of_retries, 3);
        assert_eq!(l.buffer_size_bytes, 1 << 20);
        assert_eq!(l.buffer_interval_secs, 60);
        assert!(p.is_active());
    }

    #[test]
    fn every_processor_type_parses() {
        let p = parse_processors(&cfg(r#"{"Enabled":true,"Processors":[
            {"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"DELIMITED"},{"ParameterName":"Delimiter","ParameterValue":"IyMjIw=="}]},
            {"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{customer_id:.customer_id}"},{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]},
            {"Type":"AppendDelimiterToRecord"},
            {"Type":"Decompression","Parameters":[{"ParameterName":"CompressionFormat","ParameterValue":"GZIP"}]},
            {"Type":"CloudWatchLogProcessing","Parameters":[{"ParameterName":"DataMessageExtraction","ParameterValue":"true"}]}
        ]}"#)).unwrap();
        assert_eq!(
            p.deaggregation,
            Some(Deaggregation::Delimited(b"####".to_vec()))
        );
        assert_eq!(
            p.metadata_extraction.unwrap().query_text,
            "{customer_id:.customer_id}"
        );
        assert!(p.append_delimiter && p.decompression && p.cloudwatch_message_extraction);
    }

    #[test]
    fn invalid_configurations_are_rejected() {
        let arn = r#"{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"}"#;
        let bad = [
            r#"{"Processors":[{"Type":"Nope"}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"Lambda"}]}"#.to_owned(),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn},{{"ParameterName":"NumberOfRetries","ParameterValue":"301"}}]}}]}}"#),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn},{{"ParameterName":"BufferSizeInMBs","ParameterValue":"4"}}]}}]}}"#),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn},{{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"901"}}]}}]}}"#),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn},{arn}]}}]}}"#),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn},{{"ParameterName":"SubRecordType","ParameterValue":"JSON"}}]}}]}}"#),
            format!(r#"{{"Processors":[{{"Type":"Lambda","Parameters":[{arn}]}},{{"Type":"Lambda","Parameters":[{arn}]}}]}}"#),
            r#"{"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"f"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{a:.a}"},{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.5"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":".a"},{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"DELIMITED"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"KPL"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"Decompression","Parameters":[{"ParameterName":"CompressionFormat","ParameterValue":"ZIP"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"CloudWatchLogProcessing","Parameters":[{"ParameterName":"DataMessageExtraction","ParameterValue":"yes"}]}]}"#.to_owned(),
            r#"{"Processors":[{"Type":"AppendDelimiterToRecord","Parameters":[{"ParameterName":"Delimiter","ParameterValue":"  "}]}]}"#.to_owned(),
        ];
        for json in bad {
            assert!(parse_processors(&cfg(&json)).is_err(), "{json} should fail");
        }
    }

    #[test]
    fn the_wire_shape_round_trips_through_json() {
        let json = r#"{"Enabled":true,"Processors":[{"Type":"AppendDelimiterToRecord","Parameters":[{"ParameterName":"Delimiter","ParameterValue":"\\n"}]}]}"#;
        let c = cfg(json);
        assert_eq!(serde_json::to_string(&c).unwrap(), json);
    }

    proptest! {
        #[test]
        fn arbitrary_parameters_never_panic(ty in "[A-Za-z]{0,24}", name in "[A-Za-z]{0,24}", value in ".{0,40}") {
            let c = ProcessingConfiguration {
                enabled: Some(true),
                processors: Some(vec![ProcessorConfig {
                    processor_type: ty,
                    parameters: Some(vec![ProcessorParameter { parameter_name: name, parameter_value: value }]),
                }]),
            };
            let _ = parse_processors(&c);
        }
    }
}
