// SPDX-License-Identifier: Apache-2.0
//! The checks AWS makes on a destination beyond the model's constraints (which the
//! operations check with the Coral validator): each failure is an InvalidArgumentException
//! with the text below.

use crate::convert::config::{DataFormatConversionConfiguration, parse_data_format_conversion};
use crate::error::{Error, Result};
use crate::model::{ExtendedS3, HttpEndpoint, S3Destination, bucket_of};
use crate::rules::prefix::{KeySource, Prefixes, time_zone};
use crate::rules::processing::{Processing, ProcessingConfiguration, parse_processors};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// A bucket ARN names a bucket.
fn check_bucket(arn: Option<&str>, member: &str) -> Result<()> {
    match arn {
        None => Err(invalid(format!("{member} must be specified."))),
        Some(a) if bucket_of(a).is_none() => Err(invalid(format!(
            "{member} {a} is not a valid S3 bucket ARN."
        ))),
        Some(_) => Ok(()),
    }
}

/// An S3 configuration (the deprecated destination, a backup or an HTTP endpoint's bucket).
pub fn s3(d: &S3Destination) -> Result<()> {
    check_bucket(d.bucket_arn.as_deref(), "BucketARN")?;
    Prefixes::parse(d.prefix.as_deref(), d.error_output_prefix.as_deref(), false)
        .map(|_| ())
        .map_err(invalid)
}

/// A whole ExtendedS3 configuration (after an update is merged into it, too).
pub fn extended_s3(d: &ExtendedS3) -> Result<()> {
    check_bucket(d.bucket_arn.as_deref(), "BucketARN")?;
    let dynamic = d.dynamic_partitioning();
    Prefixes::parse(
        d.prefix.as_deref(),
        d.error_output_prefix.as_deref(),
        dynamic,
    )
    .map_err(invalid)?;
    if d.conversion() {
        let compression = d.compression_format.as_deref().unwrap_or("UNCOMPRESSED");
        if compression != "UNCOMPRESSED" {
            return Err(invalid(
                "CompressionFormat must be UNCOMPRESSED when DataFormatConversionConfiguration \
                 is enabled.",
            ));
        }
        if let Some(size) = d.buffering_hints.as_ref().and_then(|h| h.size_in_mbs)
            && size < 64
        {
            return Err(invalid(
                "BufferingHints.SizeInMBs must be at least 64 when data format conversion is \
                 enabled.",
            ));
        }
    }
    match d.s3_backup_mode.as_deref() {
        Some("Enabled") => match &d.s3_backup_configuration {
            None => {
                return Err(invalid(
                    "S3BackupConfiguration must be specified when S3BackupMode is Enabled.",
                ));
            }
            Some(b) => {
                s3(b)?;
                if b.buffering_hints
                    .as_ref()
                    .and_then(|h| h.interval_in_seconds)
                    == Some(0)
                {
                    return Err(invalid(
                        "Zero buffering (IntervalInSeconds 0) is not supported for S3 backup.",
                    ));
                }
            }
        },
        _ => {
            if let Some(b) = &d.s3_backup_configuration {
                s3(b)?;
            }
        }
    }
    time_zone(d.custom_time_zone.as_deref()).map_err(invalid)?;
    processing_and_conversion(d)
}

/// The processors, the partition keys the Prefix names and the conversion settings, as
/// delivery will use them.
fn processing_and_conversion(d: &ExtendedS3) -> Result<()> {
    let p = processing(d.processing_configuration.as_ref())?;
    let prefixes = Prefixes::parse(
        d.prefix.as_deref(),
        d.error_output_prefix.as_deref(),
        d.dynamic_partitioning(),
    )
    .map_err(invalid)?;
    for (source, key) in prefixes.partition_keys() {
        let (has, processor) = match source {
            KeySource::Query => (p.metadata_extraction.is_some(), "MetadataExtraction"),
            KeySource::Lambda => (p.lambda.is_some(), "Lambda"),
        };
        if !has || !p.enabled {
            return Err(invalid(format!(
                "Prefix uses !{{{source}:{key}}}, which needs an enabled {processor} processor \
                 in ProcessingConfiguration."
            )));
        }
    }
    if let Some(v) = d.data_format_conversion_configuration.as_ref() {
        let cfg: DataFormatConversionConfiguration = serde_json::from_value(v.clone())
            .map_err(|e| invalid(format!("DataFormatConversionConfiguration: {e}")))?;
        parse_data_format_conversion(Some(&cfg), None, None).map_err(invalid)?;
    }
    Ok(())
}

/// Parses a ProcessingConfiguration (absent: no processors).
pub fn processing(cfg: Option<&serde_json::Value>) -> Result<Processing> {
    match cfg {
        None => Ok(Processing::default()),
        Some(v) => {
            let c: ProcessingConfiguration = serde_json::from_value(v.clone())
                .map_err(|e| invalid(format!("ProcessingConfiguration: {e}")))?;
            parse_processors(&c).map_err(invalid)
        }
    }
}

/// The rules of an ExtendedS3 update against the stored configuration `old`.
pub fn extended_s3_update(old: &ExtendedS3, new: &ExtendedS3) -> Result<()> {
    if old.dynamic_partitioning() != new.dynamic_partitioning() {
        return Err(invalid(if old.dynamic_partitioning() {
            "Dynamic partitioning cannot be disabled once it is enabled."
        } else {
            "Dynamic partitioning can only be enabled when the delivery stream is created."
        }));
    }
    if old.s3_backup_mode.as_deref() == Some("Enabled")
        && new.s3_backup_mode.as_deref() != Some("Enabled")
    {
        return Err(invalid(
            "S3BackupMode cannot be changed from Enabled to Disabled.",
        ));
    }
    extended_s3(new)
}

/// A whole HttpEndpoint configuration.
pub fn http_endpoint(d: &HttpEndpoint) -> Result<()> {
    let url = d
        .endpoint_configuration
        .as_ref()
        .and_then(|e| e.url.as_deref())
        .ok_or_else(|| invalid("EndpointConfiguration.Url must be specified."))?;
    // AWS accepts https:// only; Freshet also takes http:// so endpoints on localhost work.
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid(format!(
            "Endpoint URL {url} must start with https:// (or http:// on Freshet)."
        )));
    }
    processing(d.processing_configuration.as_ref())?;
    match &d.s3_configuration {
        None => Err(invalid("S3Configuration must be specified.")),
        Some(b) => s3(b),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::BufferingHints;

    fn base() -> ExtendedS3 {
        ExtendedS3 {
            role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
            bucket_arn: Some("arn:aws:s3:::b".into()),
            ..ExtendedS3::default()
        }
    }

    #[test]
    fn conversion_requires_uncompressed_output_and_big_buffers() {
        let mut d = base();
        d.data_format_conversion_configuration = Some(json!({"Enabled": true}));
        d.compression_format = Some("GZIP".into());
        assert!(extended_s3(&d).is_err());
        d.compression_format = None;
        d.buffering_hints = Some(BufferingHints {
            size_in_mbs: Some(5),
            interval_in_seconds: None,
        });
        assert!(extended_s3(&d).is_err());
    }

    #[test]
    fn backup_cannot_be_switched_off() {
        let mut old = base();
        old.s3_backup_mode = Some("Enabled".into());
        old.s3_backup_configuration = Some(S3Destination {
            bucket_arn: Some("arn:aws:s3:::bk".into()),
            ..S3Destination::default()
        });
        let mut new = old.clone();
        new.s3_backup_mode = Some("Disabled".into());
        assert!(extended_s3_update(&old, &new).is_err());
        assert!(extended_s3_update(&old, &old).is_ok());
    }
}
