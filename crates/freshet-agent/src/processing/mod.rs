// SPDX-License-Identifier: Apache-2.0
//! The `dataProcessingOptions` of a flow: an ordered chain of converters applied to each
//! record (one line, or several lines with `multiLineStartPattern`) before it is buffered.
//!
//! A converter maps one record to one record, or filters it out (LOGTOJSON drops lines that
//! do not parse, as the Kinesis Agent does). The chain is built once per flow from the
//! flow's JSON options, so configuration errors surface at start, never per record.
//!
//! What the chain does with a record, following the agent's `AgentDataConverterChain` and
//! `AbstractParser`:
//! - each converter gets the previous one's output; once one filters the record out, the
//!   rest do not run and [`Processors::apply`] returns `None`;
//! - if a converter fails (only ADDEC2METADATA can, on a record that is not a JSON object),
//!   the *original* record is sent unchanged ("falling back to raw data");
//! - converters read bytes as UTF-8 and replace malformed sequences with U+FFFD, as Java's
//!   decoder does, so their output is always valid UTF-8; an empty chain (and ADDEC2METADATA
//!   without metadata) passes the bytes through untouched, invalid or not.
//!
//! Supported: SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA, ADDEC2METADATA and ADDBRACKETS
//! (one module each). Not supported: USINGPLUGGIN, which loads a Java class. The issue's
//! "ADDEPHEMERALMETADATA" is not an agent option; asking for it is an error that points to
//! ADDMETADATA and ADDEC2METADATA.
//!
//! Hot path: converters serialize straight into a byte buffer through serde_json (no maps or
//! strings per record), the regexes are compiled once here, and a chain of several converters
//! reuses two buffers, swapping them between steps.

mod add_brackets;
mod add_ec2_metadata;
mod add_metadata;
mod csv_to_json;
mod java;
pub mod json;
mod log_to_json;
mod options;
mod patterns;
mod single_line;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde_json::Value;

pub use add_metadata::format_utc_millis;
pub use log_to_json::LOG_FORMATS;

use add_ec2_metadata::{AddEc2Metadata, Ec2Outcome};
use add_metadata::AddMetadata;
use csv_to_json::CsvToJson;
use log_to_json::LogToJson;
use options::OptionReader;
use single_line::SingleLine;

/// The `optionName` values this chain implements.
pub const OPTION_NAMES: &[&str] = &[
    "SINGLELINE",
    "CSVTOJSON",
    "LOGTOJSON",
    "ADDMETADATA",
    "ADDEC2METADATA",
    "ADDBRACKETS",
];

/// The keys each option reads besides `optionName`; the agent ignores others, and so does
/// this chain, with a warning.
fn known_keys(option: &str) -> &'static [&'static str] {
    match option {
        "SINGLELINE" => &["parseOptions"],
        "CSVTOJSON" => &["customFieldNames", "delimiter", "jsonFormat"],
        "LOGTOJSON" => &[
            "logFormat",
            "matchPattern",
            "customFieldNames",
            "jsonFormat",
        ],
        "ADDMETADATA" => &["metadata", "timestamp", "jsonFormat"],
        "ADDEC2METADATA" => &[
            "logFormat",
            "matchPattern",
            "customFieldNames",
            "jsonFormat",
            "metadataTTL",
        ],
        _ => &[],
    }
}

/// A configuration error in `dataProcessingOptions`, naming the option and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("dataProcessingOptions[{index}] ({option}): {message}")]
pub struct ProcessingError {
    /// Position of the option in the list.
    pub index: usize,
    /// Its `optionName` (or `?` when missing).
    pub option: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

/// What a converter may know about the record besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    /// The file the record was read from.
    pub file: &'a Path,
    /// Byte offset of the record's first byte in that file.
    pub offset: u64,
    /// When the record was read (ADDMETADATA's `ts`).
    pub read_at: SystemTime,
}

/// Counts of what the chain did, named after the agent's parser metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessingStats {
    /// Records converted (`TotalRecordsProcessed`).
    pub processed: u64,
    /// Records filtered out (`TotalRecordsSkipped`).
    pub skipped: u64,
    /// Records sent raw because a converter failed (`TotalDataProcessingErrors`).
    pub errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    processed: AtomicU64,
    skipped: AtomicU64,
    errors: AtomicU64,
}

#[derive(Debug, Clone)]
enum Converter {
    SingleLine(SingleLine),
    CsvToJson(CsvToJson),
    LogToJson(LogToJson),
    AddMetadata(AddMetadata),
    AddEc2Metadata(AddEc2Metadata),
    AddBrackets,
}

/// What one converter did with a record.
enum Step {
    Converted,
    Filtered,
    Failed,
}

impl Converter {
    fn from_option(option: &OptionReader<'_>, name: &str) -> Result<Self, ProcessingError> {
        Ok(match name {
            "SINGLELINE" => Self::SingleLine(SingleLine::from_option(option)?),
            "CSVTOJSON" => Self::CsvToJson(CsvToJson::from_option(option)?),
            "LOGTOJSON" => Self::LogToJson(LogToJson::from_option(option)?),
            "ADDMETADATA" => Self::AddMetadata(AddMetadata::from_option(option)?),
            "ADDEC2METADATA" => Self::AddEc2Metadata(AddEc2Metadata::from_option(option)?),
            "ADDBRACKETS" => Self::AddBrackets,
            "USINGPLUGGIN" => {
                return Err(option.error(format!(
                    "USINGPLUGGIN loads a Java converter class, which Freshet cannot run; \
                     supported: {}",
                    OPTION_NAMES.join(", ")
                )));
            }
            "ADDEPHEMERALMETADATA" => {
                return Err(option.error(format!(
                    "the Kinesis Agent has no ADDEPHEMERALMETADATA option: use ADDMETADATA \
                     (fixed metadata and a read timestamp) or ADDEC2METADATA (instance \
                     metadata); supported: {}",
                    OPTION_NAMES.join(", ")
                )));
            }
            other => {
                return Err(option.error(format!(
                    "unknown optionName \"{other}\"; supported: {}",
                    OPTION_NAMES.join(", ")
                )));
            }
        })
    }

    /// A guess of the output size, so the buffer is allocated once in the usual case.
    fn output_capacity(&self, input_len: usize) -> usize {
        match self {
            Self::SingleLine(_) | Self::AddEc2Metadata(_) | Self::AddBrackets => input_len + 8,
            Self::CsvToJson(c) => input_len + c.overhead(),
            Self::LogToJson(c) => input_len + c.overhead(),
            Self::AddMetadata(_) => input_len + input_len / 8 + 128,
        }
    }

    fn convert(&self, input: &[u8], ctx: &RecordContext<'_>, out: &mut Vec<u8>) -> Step {
        let written = match self {
            Self::SingleLine(c) => {
                c.convert(input, out);
                Ok(true)
            }
            Self::CsvToJson(c) => c.convert(input, out).map(|()| true),
            Self::LogToJson(c) => c.convert(input, out),
            Self::AddMetadata(c) => c.convert(input, ctx.read_at, out).map(|()| true),
            Self::AddEc2Metadata(c) => match c.convert(input, out) {
                Ok(Ec2Outcome::Converted) => Ok(true),
                Ok(Ec2Outcome::NotAJsonObject) => return Step::Failed,
                Err(e) => Err(e),
            },
            Self::AddBrackets => {
                add_brackets::convert(input, out);
                Ok(true)
            }
        };
        match written {
            Ok(true) => Step::Converted,
            Ok(false) => Step::Filtered,
            // Writing into a Vec cannot fail; if serialization ever did, send the raw record.
            Err(_) => Step::Failed,
        }
    }
}

/// The converter chain of one flow.
#[derive(Debug, Default)]
pub struct Processors {
    converters: Vec<Converter>,
    /// Warnings found while reading the options (unknown keys).
    config_warnings: Vec<String>,
    counters: Counters,
}

impl Processors {
    /// Builds the chain from a flow's `dataProcessingOptions` array (each element an object
    /// with `optionName`). An empty slice is the identity chain.
    pub fn from_options(options: &[serde_json::Value]) -> Result<Self, ProcessingError> {
        let mut converters = Vec::with_capacity(options.len());
        let mut config_warnings = Vec::new();
        for (index, option) in options.iter().enumerate() {
            let unnamed = |message: String| ProcessingError {
                index,
                option: "?".to_owned(),
                message,
            };
            let Value::Object(object) = option else {
                return Err(unnamed(format!(
                    "each option must be an object with an optionName, not {}",
                    options::type_name(option)
                )));
            };
            let name = match object.get("optionName") {
                Some(Value::String(name)) => name.as_str(),
                None | Some(Value::Null) => {
                    return Err(unnamed(format!(
                        "optionName is missing; supported: {}",
                        OPTION_NAMES.join(", ")
                    )));
                }
                Some(other) => {
                    return Err(unnamed(format!(
                        "optionName must be a string, not {}",
                        options::type_name(other)
                    )));
                }
            };
            let reader = OptionReader::new(index, name, object);
            converters.push(Converter::from_option(&reader, name)?);
            let known = known_keys(name);
            config_warnings.extend(
                object
                    .keys()
                    .filter(|key| *key != "optionName" && !known.contains(&key.as_str()))
                    .map(|key| {
                        format!(
                            "dataProcessingOptions[{index}] ({name}): unknown key \"{key}\" is \
                             ignored; {name} reads {}",
                            if known.is_empty() {
                                "no other keys".to_owned()
                            } else {
                                known.join(", ")
                            }
                        )
                    }),
            );
        }
        Ok(Self {
            converters,
            config_warnings,
            counters: Counters::default(),
        })
    }

    /// Whether the chain does nothing (the record is sent as read).
    pub fn is_identity(&self) -> bool {
        self.converters.is_empty()
    }

    /// Things worth logging at start: keys the agent would ignore too (often typos), and
    /// options that cannot do here what they do on EC2.
    pub fn warnings(&self) -> Vec<String> {
        let runtime = self.converters.iter().filter_map(|c| match c {
            Converter::AddEc2Metadata(c) if !c.has_metadata() => Some(
                "ADDEC2METADATA: there is no EC2 instance metadata service here, so records \
                     pass through unchanged (as the Kinesis Agent does when the service cannot \
                     be reached)"
                    .to_owned(),
            ),
            _ => None,
        });
        self.config_warnings
            .iter()
            .cloned()
            .chain(runtime)
            .collect()
    }

    /// Supplies the instance metadata that ADDEC2METADATA adds (keys in output order, such as
    /// `privateIp`, `availabilityZone`, `instanceId`, `instanceType`, `accountId`, `amiId`,
    /// `region`, `metadataTimestamp`, `tags`).
    pub fn set_ec2_metadata(&mut self, metadata: Vec<(String, Value)>) {
        for converter in &mut self.converters {
            if let Converter::AddEc2Metadata(c) = converter {
                c.set_metadata(metadata.clone());
            }
        }
    }

    /// What the chain has done so far.
    pub fn stats(&self) -> ProcessingStats {
        ProcessingStats {
            processed: self.counters.processed.load(Ordering::Relaxed),
            skipped: self.counters.skipped.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
        }
    }

    /// Applies the chain to one record, without its trailing newline handling changed: the
    /// record is the bytes the splitter produced (lines joined with their `\n`). `None`
    /// means the record is filtered out and must not be sent (its offset still counts as
    /// consumed for checkpoints).
    pub fn apply(&self, record: Vec<u8>, ctx: &RecordContext<'_>) -> Option<Vec<u8>> {
        if self.converters.is_empty() {
            return Some(record);
        }
        // `current` holds the last converter's output (empty before the first step); `next`
        // receives the next one's, then they swap, so a chain allocates at most two buffers.
        let mut current: Vec<u8> = Vec::new();
        let mut next: Vec<u8> = Vec::new();
        for (step, converter) in self.converters.iter().enumerate() {
            let input: &[u8] = if step == 0 { &record } else { &current };
            next.clear();
            next.reserve(converter.output_capacity(input.len()));
            match converter.convert(input, ctx, &mut next) {
                Step::Converted => std::mem::swap(&mut current, &mut next),
                Step::Filtered => {
                    self.counters.skipped.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Step::Failed => {
                    self.counters.errors.fetch_add(1, Ordering::Relaxed);
                    return Some(record);
                }
            }
        }
        self.counters.processed.fetch_add(1, Ordering::Relaxed);
        Some(current)
    }
}

#[cfg(test)]
mod tests;
