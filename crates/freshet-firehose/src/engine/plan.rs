// SPDX-License-Identifier: Apache-2.0
//! A delivery stream's configuration, resolved once per delivery run into what the pipeline
//! needs: where objects go and how they are named and encoded (data, error output, backup),
//! the buffering hints, the processors, and the Parquet schema from the Glue table. A change
//! (UpdateDestination) ends the run, and the next run resolves a new plan: configuration
//! changes apply from the next object on, as in AWS.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::tz::TimeZone;

use super::buffer::Hints;
use super::staging::Format;
use crate::convert::config::{DataFormatConversionConfiguration, parse_data_format_conversion};
use crate::convert::{Column, ParquetOptions};
use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::model::{
    BufferingHints, DEFAULT_INTERVAL_S, DEFAULT_SIZE_MB, Destination, S3Destination, bucket_of,
};
use crate::rules::compress::{Compression, OutputFormat, default_extension};
use crate::rules::error_doc::DataCatalogTable;
use crate::rules::http_endpoint;
use crate::rules::prefix::{KeySource, Prefixes, time_zone};
use crate::rules::processing::Processing;
use crate::store::StreamRecord;
use crate::validate::processing;

/// Active partitions a stream may have at once (AWS's default quota).
pub const PARTITION_LIMIT: usize = 500;
/// Row group size of Parquet objects when the stream is partitioned: hundreds of partitions
/// may convert at once, and each holds one row group in memory.
const PARTITIONED_ROW_GROUP: u64 = 1 << 20;

/// Where and how one kind of object is written.
#[derive(Debug, Clone)]
pub struct ObjectTarget {
    /// The bucket.
    pub bucket: String,
    /// Prefix and error prefix templates.
    pub prefixes: Prefixes,
    /// The time zone of prefixes and object names.
    pub tz: TimeZone,
    /// The object encoding.
    pub format: Format,
    /// Appended to object names.
    pub extension: String,
    /// When buffers flush.
    pub hints: Hints,
}

/// Where objects of failed records go, and how those are named.
#[derive(Debug, Clone)]
pub struct ErrorTarget {
    /// The bucket.
    pub bucket: String,
    /// The templates (their error prefix is used).
    pub prefixes: Prefixes,
    /// The time zone.
    pub tz: TimeZone,
}

/// Everything one delivery run needs to know about its stream.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The stream's name (object names).
    pub stream: String,
    /// The stream's version (object names).
    pub version: u64,
    /// The stream's ARN (transform events).
    pub stream_arn: String,
    /// The Kinesis source stream's ARN, if any (transform events).
    pub source_arn: Option<String>,
    /// Data objects (for an HTTP endpoint: how records are staged before a request).
    pub data: ObjectTarget,
    /// The HTTP endpoint, for that destination.
    pub http: Option<Arc<http_endpoint::HttpEndpoint>>,
    /// Error output.
    pub errors: ErrorTarget,
    /// Source-record backup (`S3BackupMode` Enabled / AllData).
    pub backup: Option<ObjectTarget>,
    /// The processors.
    pub processing: Processing,
    /// The partition keys the Prefix names (dynamic partitioning), in order.
    pub partition_keys: Vec<(KeySource, String)>,
    /// The Glue table of record format conversion, for its error documents.
    pub table: Option<DataCatalogTable>,
    /// Where staging files go.
    pub staging_dir: PathBuf,
}

/// The hints of a `BufferingHints`, with AWS's defaults.
pub fn hints(h: Option<&BufferingHints>) -> Hints {
    let h = h.cloned().unwrap_or_default();
    let mb = h.size_in_mbs.unwrap_or(DEFAULT_SIZE_MB).max(1) as u64;
    let s = h.interval_in_seconds.unwrap_or(DEFAULT_INTERVAL_S).max(0);
    Hints {
        size_bytes: mb << 20,
        interval_ms: s * 1000,
    }
}

fn bad(m: impl Into<String>) -> Error {
    Error::InvalidArgument(m.into())
}

fn bucket(arn: Option<&str>) -> Result<String> {
    arn.and_then(bucket_of)
        .map(str::to_owned)
        .ok_or_else(|| bad("the destination has no bucket"))
}

fn compression(c: Option<&str>) -> Compression {
    c.and_then(Compression::parse).unwrap_or_default()
}

/// A plain S3 configuration (backup, or an HTTP endpoint's bucket) as a target.
fn s3_target(d: &S3Destination) -> Result<ObjectTarget> {
    let c = compression(d.compression_format.as_deref());
    Ok(ObjectTarget {
        bucket: bucket(d.bucket_arn.as_deref())?,
        prefixes: Prefixes::parse(d.prefix.as_deref(), d.error_output_prefix.as_deref(), false)
            .map_err(bad)?,
        tz: TimeZone::UTC,
        format: Format::Raw(c),
        extension: default_extension(c, OutputFormat::Raw).to_owned(),
        hints: hints(d.buffering_hints.as_ref()),
    })
}

impl Plan {
    /// Resolves the plan of stream `rec` (the Glue table is read now).
    pub fn resolve(fh: &Firehose, rec: &StreamRecord) -> Result<Plan> {
        let staging_dir = fh.options().staging_dir.clone();
        let source_arn = rec.kinesis.as_ref().map(|k| k.stream_arn.clone());
        let (data, http, errors, backup, processing, table) = match &rec.destination {
            Destination::ExtendedS3(d) => {
                let prefixes = Prefixes::parse(
                    d.prefix.as_deref(),
                    d.error_output_prefix.as_deref(),
                    d.dynamic_partitioning(),
                )
                .map_err(bad)?;
                let tz = time_zone(d.custom_time_zone.as_deref()).map_err(bad)?;
                let b = bucket(d.bucket_arn.as_deref())?;
                let (format, table, output) = conversion(fh, d, prefixes.is_partitioned())?;
                let c = compression(d.compression_format.as_deref());
                let extension = match d.file_extension.as_deref() {
                    Some(e) if !e.is_empty() => e.to_owned(),
                    _ => default_extension(c, output).to_owned(),
                };
                let data = ObjectTarget {
                    bucket: b.clone(),
                    prefixes: prefixes.clone(),
                    tz: tz.clone(),
                    format: format.unwrap_or(Format::Raw(c)),
                    extension,
                    hints: hints(d.buffering_hints.as_ref()),
                };
                let backup = match (d.s3_backup_mode.as_deref(), &d.s3_backup_configuration) {
                    (Some("Enabled"), Some(b)) => Some(s3_target(b)?),
                    _ => None,
                };
                let errors = ErrorTarget {
                    bucket: b,
                    prefixes,
                    tz,
                };
                let p = processing(d.processing_configuration.as_ref())?;
                (data, None, errors, backup, p, table)
            }
            Destination::HttpEndpoint(d) => {
                let s3 = d.s3_configuration.clone().unwrap_or_default();
                let bucket_target = s3_target(&s3)?;
                let endpoint = super::http::endpoint_of(d, &rec.arn)?;
                let data = ObjectTarget {
                    format: Format::Records,
                    extension: String::new(),
                    hints: hints(d.buffering_hints.as_ref()),
                    ..bucket_target.clone()
                };
                let backup =
                    (d.s3_backup_mode.as_deref() == Some("AllData")).then(|| bucket_target.clone());
                let errors = ErrorTarget {
                    bucket: bucket_target.bucket,
                    prefixes: bucket_target.prefixes,
                    tz: TimeZone::UTC,
                };
                let p = processing(d.processing_configuration.as_ref())?;
                (data, Some(Arc::new(endpoint)), errors, backup, p, None)
            }
        };
        let partition_keys = data.prefixes.partition_keys();
        Ok(Plan {
            stream: rec.name.clone(),
            version: rec.version,
            stream_arn: rec.arn.clone(),
            source_arn,
            data,
            http,
            errors,
            backup,
            processing,
            partition_keys,
            table,
            staging_dir,
        })
    }
}

type ConversionPlan = (Option<Format>, Option<DataCatalogTable>, OutputFormat);

/// Record format conversion of `d`: the Parquet format with the Glue table's columns.
fn conversion(
    fh: &Firehose,
    d: &crate::model::ExtendedS3,
    partitioned: bool,
) -> Result<ConversionPlan> {
    let Some(v) = d.data_format_conversion_configuration.as_ref() else {
        return Ok((None, None, OutputFormat::Raw));
    };
    let cfg: DataFormatConversionConfiguration = serde_json::from_value(v.clone())
        .map_err(|e| bad(format!("DataFormatConversionConfiguration: {e}")))?;
    let Some(conv) = parse_data_format_conversion(Some(&cfg), None, None).map_err(bad)? else {
        return Ok((None, None, OutputFormat::Raw));
    };
    let glue = fh
        .peers()
        .glue
        .ok_or_else(|| Error::Storage("the Glue Data Catalog is not available".to_owned()))?;
    let s = &conv.schema;
    let (db, table) = (
        s.database_name.clone().unwrap_or_default(),
        s.table_name.clone().unwrap_or_default(),
    );
    let version = s.version_id.as_deref().filter(|v| *v != "LATEST");
    let columns = glue
        .table_columns(s.catalog_id.as_deref(), &db, &table, version)
        .map_err(|e| {
            Error::Storage(format!(
                "record format conversion: the Glue table {db}.{table} could not be read: {e}"
            ))
        })?;
    let columns: Vec<Column> = columns
        .into_iter()
        .map(|c| Column {
            name: c.name,
            hive_type: c.type_name,
        })
        .collect();
    let opts = fh.options();
    let catalog_id = s
        .catalog_id
        .clone()
        .unwrap_or_else(|| opts.account_id.clone());
    let region = s.region.clone().unwrap_or_else(|| opts.region.clone());
    let table_doc = DataCatalogTable {
        catalog_arn: format!("arn:aws:glue:{region}:{catalog_id}:catalog"),
        catalog_id,
        database_name: db,
        table_name: table,
        region,
        version_id: s.version_id.clone().unwrap_or_else(|| "LATEST".to_owned()),
    };
    let mut output: ParquetOptions = conv.output;
    if partitioned {
        output.block_size_bytes = output.block_size_bytes.min(PARTITIONED_ROW_GROUP);
    }
    Ok((
        Some(Format::Parquet {
            columns,
            input: conv.input,
            output,
        }),
        Some(table_doc),
        OutputFormat::Parquet,
    ))
}
