// SPDX-License-Identifier: Apache-2.0
//! The `dataProcessingOptions` of a flow: an ordered chain of converters applied to each
//! record (one line, or several lines with `multiLineStartPattern`) before it is buffered.
//!
//! A converter maps one record to one record, or filters it out (LOGTOJSON drops lines that
//! do not parse, as the Kinesis Agent does). The chain is built once per flow from the
//! flow's JSON options, so configuration errors surface at start, never per record.

use std::path::Path;
use std::time::SystemTime;

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

/// The converter chain of one flow.
#[derive(Debug, Default)]
pub struct Processors {
    // Filled in by the processing module's implementation.
}

impl Processors {
    /// Builds the chain from a flow's `dataProcessingOptions` array (each element an object
    /// with `optionName`). An empty slice is the identity chain.
    pub fn from_options(options: &[serde_json::Value]) -> Result<Self, ProcessingError> {
        if let Some((index, _)) = options.iter().enumerate().next() {
            return Err(ProcessingError {
                index,
                option: "?".to_owned(),
                message: "dataProcessingOptions are not implemented yet".to_owned(),
            });
        }
        Ok(Self::default())
    }

    /// Whether the chain does nothing (the record is sent as read).
    pub fn is_identity(&self) -> bool {
        true
    }

    /// Applies the chain to one record, without its trailing newline handling changed: the
    /// record is the bytes the splitter produced (lines joined with their `\n`). `None`
    /// means the record is filtered out and must not be sent (its offset still counts as
    /// consumed for checkpoints).
    pub fn apply(&self, record: Vec<u8>, _ctx: &RecordContext<'_>) -> Option<Vec<u8>> {
        Some(record)
    }
}
