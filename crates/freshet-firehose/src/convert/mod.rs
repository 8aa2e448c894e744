// SPDX-License-Identifier: Apache-2.0
//! Record format conversion: JSON records into one Parquet file, with the columns of a Glue
//! table (Hive types), as Firehose's `DataFormatConversionConfiguration` does.
//!
//! * [`config`]: the model shapes, their validation, and the semantic checks that turn them
//!   into an [`Input`] and [`ParquetOptions`].
//! * [`hive_type`]: Hive type strings and the Arrow/Parquet types they are written as.
//! * `value`: one record read by the OpenX or Hive JSON SerDe rules; `time`: their
//!   timestamp and date forms; `build`: buffered rows into Arrow arrays.
//!
//! What is written: one Parquet file per [`Converter`], columns in table order, every column
//! optional. Timestamps are INT64 `TIMESTAMP(MILLIS, isAdjustedToUTC=false)`: AWS's
//! Hive-based writer emits INT96, which the Rust writer cannot produce; pyarrow, DuckDB,
//! Spark and Athena read both as the same zone-less timestamp. Strings are `BYTE_ARRAY`
//! UTF8, decimals `DECIMAL(p,s)`, lists 3-level `LIST` with `element`, maps `MAP` with
//! `key_value`.
//!
//! Memory is bounded: rows are buffered as typed cells up to [`BATCH_BUDGET`] bytes, then
//! encoded; a row group is closed when its encoded size passes the smaller of
//! `BlockSizeBytes` and [`ROW_GROUP_BUDGET`], so a 256 MiB block size never means 256 MiB
//! held in memory.
//!
//! ORC (`OrcSerDe`) is refused at configuration time: the only Rust ORC writer
//! (`orc-rust`) describes its writing as initial support and pulls a second, full copy of
//! Arrow; see [`config::parse_data_format_conversion`].

pub mod config;
pub mod hive_type;

mod build;
mod time;
mod value;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion as PqWriterVersion};

pub use hive_type::{HiveType, TypeError};

use value::{Cell, Reader};

/// Rows are encoded once their cells hold this many bytes.
pub const BATCH_BUDGET: usize = 4 * 1024 * 1024;
/// A row group is closed once its encoded size passes this (or `BlockSizeBytes`, if smaller).
pub const ROW_GROUP_BUDGET: usize = 16 * 1024 * 1024;

/// One column of the table: its name and Hive type string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name (written as given).
    pub name: String,
    /// The Hive type, e.g. `array<struct<a:int>>`.
    pub hive_type: String,
}

/// The deserializer and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The OpenX JSON SerDe.
    OpenX {
        /// Match keys regardless of case (AWS default true).
        case_insensitive: bool,
        /// Read `a.b` keys as `a_b` (AWS default false).
        convert_dots_to_underscores: bool,
        /// Column name → the JSON key holding it.
        column_to_json_key: BTreeMap<String, String>,
    },
    /// The Apache Hive JSON SerDe.
    Hive {
        /// Joda-Time patterns or `millis`, tried in order.
        timestamp_formats: Vec<String>,
    },
}

/// ParquetSerDe's compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    /// No compression.
    Uncompressed,
    /// GZIP.
    Gzip,
    /// Snappy (AWS's default).
    #[default]
    Snappy,
}

/// ParquetSerDe's writer version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriterVersion {
    /// Parquet 1.0 (AWS's default).
    #[default]
    V1,
    /// Parquet 2.0 data pages.
    V2,
}

/// Parquet writer settings (ParquetSerDe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Compression codec.
    pub compression: ParquetCompression,
    /// Row group size (`BlockSizeBytes`, default 256 MiB; capped by [`ROW_GROUP_BUDGET`]).
    pub block_size_bytes: u64,
    /// Data page size (`PageSizeBytes`, default 1 MiB).
    pub page_size_bytes: u64,
    /// Dictionary encoding (`EnableDictionaryCompression`; default true, parquet-mr's).
    pub enable_dictionary: bool,
    /// Writer version.
    pub writer_version: WriterVersion,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            compression: ParquetCompression::Snappy,
            block_size_bytes: 256 * 1024 * 1024,
            page_size_bytes: 1024 * 1024,
            enable_dictionary: true,
            writer_version: WriterVersion::V1,
        }
    }
}

/// The conversion as a whole cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The table has no columns.
    #[error("the table has no columns to convert to")]
    NoColumns,
    /// A column's type cannot be converted.
    #[error("column '{column}': {source}")]
    UnsupportedType {
        /// The column.
        column: String,
        /// Why.
        source: TypeError,
    },
    /// Two columns have the same name.
    #[error("column '{0}' appears more than once")]
    DuplicateColumn(String),
    /// Encoding or writing the file failed (an I/O error of the output included).
    #[error("writing Parquet failed: {0}")]
    Write(String),
}

/// One record failed conversion (it goes to the `format-conversion-failed` output).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RecordError {
    /// AWS's `lastErrorCode`.
    pub code: &'static str,
    /// AWS's `lastErrorMessage`.
    pub message: String,
}

impl RecordError {
    /// The record is not JSON.
    pub const PARSE_ERROR: &'static str = "DataFormatConversion.ParseError";
    /// The record does not fit the schema.
    pub const MALFORMED_DATA: &'static str = "DataFormatConversion.MalformedData";

    fn malformed(message: String) -> Self {
        RecordError {
            code: Self::MALFORMED_DATA,
            message,
        }
    }
}

/// Parses the table's columns, refusing types Freshet cannot write.
pub fn parse_columns(columns: &[Column]) -> Result<Vec<(String, HiveType)>, ConvertError> {
    if columns.is_empty() {
        return Err(ConvertError::NoColumns);
    }
    let mut out: Vec<(String, HiveType)> = Vec::with_capacity(columns.len());
    for c in columns {
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&c.name)) {
            return Err(ConvertError::DuplicateColumn(c.name.clone()));
        }
        let t = HiveType::parse(&c.hive_type).map_err(|source| ConvertError::UnsupportedType {
            column: c.name.clone(),
            source,
        })?;
        out.push((c.name.clone(), t));
    }
    Ok(out)
}

/// JSON records in, one Parquet file out.
pub struct Converter<W: Write + Send> {
    columns: Vec<(String, HiveType)>,
    reader: Reader,
    schema: SchemaRef,
    writer: ArrowWriter<W>,
    buffered: Vec<Vec<Cell>>,
    buffered_bytes: usize,
    /// Rows are encoded once this many bytes are buffered (the smaller of
    /// [`BATCH_BUDGET`] and the row group size).
    batch_budget: usize,
    rows: u64,
    /// A write failure, reported by [`Converter::finish`]; nothing is written after it.
    failed: Option<ConvertError>,
}

impl<W: Write + Send> std::fmt::Debug for Converter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

fn write_error(e: impl std::fmt::Display) -> ConvertError {
    ConvertError::Write(e.to_string())
}

impl<W: Write + Send> Converter<W> {
    /// A converter for `columns`, or why the schema cannot be converted.
    pub fn new(
        columns: &[Column],
        input: Input,
        output: ParquetOptions,
        out: W,
    ) -> Result<Self, ConvertError> {
        let columns = parse_columns(columns)?;
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(n, t.arrow_type(), true))
                .collect::<Vec<_>>(),
        ));
        let compression = match output.compression {
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::Snappy => Compression::SNAPPY,
        };
        let row_group = usize::try_from(output.block_size_bytes)
            .unwrap_or(usize::MAX)
            .clamp(1, ROW_GROUP_BUDGET);
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_data_page_size_limit(
                usize::try_from(output.page_size_bytes)
                    .unwrap_or(usize::MAX)
                    .max(1),
            )
            .set_dictionary_enabled(output.enable_dictionary)
            .set_writer_version(match output.writer_version {
                WriterVersion::V1 => PqWriterVersion::PARQUET_1_0,
                WriterVersion::V2 => PqWriterVersion::PARQUET_2_0,
            })
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(Some(row_group))
            .set_created_by(format!("freshet version {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(write_error)?;
        Ok(Converter {
            reader: Reader::new(&input),
            columns,
            schema,
            writer,
            buffered: Vec::new(),
            buffered_bytes: 0,
            batch_budget: row_group.min(BATCH_BUDGET),
            rows: 0,
            failed: None,
        })
    }

    /// One JSON record. `Err`: this record failed conversion (AWS's `lastErrorCode` and
    /// `lastErrorMessage`); the converter stays usable.
    pub fn push(&mut self, record: &[u8]) -> Result<(), RecordError> {
        let row = self.reader.row(&self.columns, record)?;
        self.buffered_bytes += row.iter().map(Cell::weight).sum::<usize>();
        self.buffered.push(row);
        self.rows += 1;
        if self.buffered_bytes >= self.batch_budget {
            self.encode();
        }
        Ok(())
    }

    /// Records converted so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Encodes the buffered rows into the writer (which closes row groups as they fill).
    fn encode(&mut self) {
        let rows = std::mem::take(&mut self.buffered);
        self.buffered_bytes = 0;
        if rows.is_empty() || self.failed.is_some() {
            return;
        }
        let result = build::batch(&self.schema, &self.columns, &rows)
            .map_err(write_error)
            .and_then(|b| self.writer.write(&b).map_err(write_error));
        if let Err(e) = result {
            self.failed = Some(e);
        }
    }

    /// Writes the remaining rows and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ConvertError> {
        self.encode();
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.writer.into_inner().map_err(write_error)
    }
}

#[cfg(test)]
mod tests;
