// SPDX-License-Identifier: Apache-2.0
//! The model's destination shapes (botocore `firehose/2015-08-04`), used three ways: as
//! request members (CreateDeliveryStream, UpdateDestination), as the stored configuration,
//! and, with AWS's defaults filled in ([`ExtendedS3::described`]), as the description
//! DescribeDeliveryStream returns. Member names are the model's (PascalCase); absent members
//! stay absent (`None`), so a stored configuration says exactly what the user set.
//!
//! Shapes Freshet does not interpret (ProcessingConfiguration parameters, the
//! DataFormatConversionConfiguration, SecretsManagerConfiguration) are kept as JSON values:
//! they are validated by the modules that own them and echoed verbatim.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default buffer size of S3 destinations (MiB).
pub const DEFAULT_SIZE_MB: i64 = 5;
/// Default buffer interval of S3 and HTTP endpoint destinations (seconds).
pub const DEFAULT_INTERVAL_S: i64 = 300;
/// Default HTTP endpoint retry duration (seconds).
pub const DEFAULT_HTTP_RETRY_S: i64 = 300;

/// `BufferingHints` / `HttpEndpointBufferingHints`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BufferingHints {
    /// `SizeInMBs`.
    #[serde(rename = "SizeInMBs", skip_serializing_if = "Option::is_none")]
    pub size_in_mbs: Option<i64>,
    /// `IntervalInSeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_in_seconds: Option<i64>,
}

/// `EncryptionConfiguration` of an S3 destination (echoed; Freshet does not encrypt objects).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    /// `NoEncryptionConfig` (`NoEncryption`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_encryption_config: Option<String>,
    /// `KMSEncryptionConfig{AWSKMSKeyARN}`.
    #[serde(
        rename = "KMSEncryptionConfig",
        skip_serializing_if = "Option::is_none"
    )]
    pub kms_encryption_config: Option<Value>,
}

/// `CloudWatchLoggingOptions` (echoed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLoggingOptions {
    /// `Enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `LogGroupName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// `LogStreamName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
}

/// `RetryOptions` / `HttpEndpointRetryOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryOptions {
    /// `DurationInSeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
}

/// `DynamicPartitioningConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DynamicPartitioning {
    /// `RetryOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_options: Option<RetryOptions>,
    /// `Enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `S3DestinationConfiguration` / `S3DestinationUpdate` / `S3DestinationDescription`: the
/// deprecated destination, and the backup or error bucket of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Destination {
    /// `RoleARN`.
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `BucketARN`.
    #[serde(rename = "BucketARN", skip_serializing_if = "Option::is_none")]
    pub bucket_arn: Option<String>,
    /// `Prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `ErrorOutputPrefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output_prefix: Option<String>,
    /// `BufferingHints`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    /// `CompressionFormat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_format: Option<String>,
    /// `EncryptionConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
    /// `CloudWatchLoggingOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<CloudWatchLoggingOptions>,
}

/// `ExtendedS3DestinationConfiguration` / `...Update` / `...Description`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExtendedS3 {
    /// `RoleARN`.
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `BucketARN`.
    #[serde(rename = "BucketARN", skip_serializing_if = "Option::is_none")]
    pub bucket_arn: Option<String>,
    /// `Prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `ErrorOutputPrefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output_prefix: Option<String>,
    /// `BufferingHints`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    /// `CompressionFormat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_format: Option<String>,
    /// `EncryptionConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
    /// `CloudWatchLoggingOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<CloudWatchLoggingOptions>,
    /// `ProcessingConfiguration` (parsed by `rules::processing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    /// `S3BackupMode`: `Disabled` | `Enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    /// `S3BackupConfiguration` (create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_configuration: Option<S3Destination>,
    /// `S3BackupUpdate` (update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_update: Option<S3Destination>,
    /// `S3BackupDescription` (describe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_description: Option<S3Destination>,
    /// `DataFormatConversionConfiguration` (parsed by `convert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_format_conversion_configuration: Option<Value>,
    /// `DynamicPartitioningConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_partitioning_configuration: Option<DynamicPartitioning>,
    /// `FileExtension`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_extension: Option<String>,
    /// `CustomTimeZone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_time_zone: Option<String>,
}

/// `HttpEndpointConfiguration` (create/update) and `HttpEndpointDescription` (no access key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    /// `Url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `AccessKey` (never described).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

/// One `HttpEndpointCommonAttribute`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonAttribute {
    /// `AttributeName`.
    pub attribute_name: String,
    /// `AttributeValue`.
    pub attribute_value: String,
}

/// `HttpEndpointRequestConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestConfiguration {
    /// `ContentEncoding`: `NONE` | `GZIP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `CommonAttributes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_attributes: Option<Vec<CommonAttribute>>,
}

/// `HttpEndpointDestinationConfiguration` / `...Update` / `...Description`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpoint {
    /// `EndpointConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
    /// `BufferingHints`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    /// `CloudWatchLoggingOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<CloudWatchLoggingOptions>,
    /// `RequestConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_configuration: Option<RequestConfiguration>,
    /// `ProcessingConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    /// `RoleARN`.
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `RetryOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_options: Option<RetryOptions>,
    /// `S3BackupMode`: `FailedDataOnly` | `AllData`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    /// `S3Configuration` (create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_configuration: Option<S3Destination>,
    /// `S3Update` (update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_update: Option<S3Destination>,
    /// `S3DestinationDescription` (describe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_destination_description: Option<S3Destination>,
    /// `SecretsManagerConfiguration` (echoed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets_manager_configuration: Option<Value>,
}

/// The one destination of a delivery stream, as stored (configuration members, merged by
/// UpdateDestination; the S3 configuration of an HTTP endpoint under `s3_configuration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Destination {
    /// ExtendedS3 (the deprecated S3 destination is stored as this too).
    ExtendedS3(ExtendedS3),
    /// HttpEndpoint.
    HttpEndpoint(HttpEndpoint),
}

impl S3Destination {
    /// The description with AWS's defaults filled in.
    pub fn described(&self) -> S3Destination {
        let mut d = self.clone();
        d.buffering_hints = Some(hints_with_defaults(
            d.buffering_hints.as_ref(),
            DEFAULT_SIZE_MB,
        ));
        d.compression_format
            .get_or_insert_with(|| "UNCOMPRESSED".to_owned());
        d.encryption_configuration.get_or_insert_with(no_encryption);
        d.cloud_watch_logging_options
            .get_or_insert_with(logging_off);
        d
    }

    /// Applies an `S3DestinationUpdate`: every member given replaces the stored one.
    pub fn merge(&mut self, u: &S3Destination) {
        merge_opt(&mut self.role_arn, &u.role_arn);
        merge_opt(&mut self.bucket_arn, &u.bucket_arn);
        merge_opt(&mut self.prefix, &u.prefix);
        merge_opt(&mut self.error_output_prefix, &u.error_output_prefix);
        merge_opt(&mut self.buffering_hints, &u.buffering_hints);
        merge_opt(&mut self.compression_format, &u.compression_format);
        merge_opt(
            &mut self.encryption_configuration,
            &u.encryption_configuration,
        );
        merge_opt(
            &mut self.cloud_watch_logging_options,
            &u.cloud_watch_logging_options,
        );
    }

    /// The deprecated S3 destination as the ExtendedS3 destination it is delivered as.
    pub fn to_extended(&self) -> ExtendedS3 {
        ExtendedS3 {
            role_arn: self.role_arn.clone(),
            bucket_arn: self.bucket_arn.clone(),
            prefix: self.prefix.clone(),
            error_output_prefix: self.error_output_prefix.clone(),
            buffering_hints: self.buffering_hints.clone(),
            compression_format: self.compression_format.clone(),
            encryption_configuration: self.encryption_configuration.clone(),
            cloud_watch_logging_options: self.cloud_watch_logging_options.clone(),
            ..ExtendedS3::default()
        }
    }
}

impl ExtendedS3 {
    /// The description with AWS's defaults filled in (the always-present members, backup
    /// mode `Disabled`), the backup configuration as `S3BackupDescription`.
    pub fn described(&self) -> ExtendedS3 {
        let mut d = self.clone();
        let conversion_on = conversion_enabled(d.data_format_conversion_configuration.as_ref());
        let default_size = if conversion_on { 128 } else { DEFAULT_SIZE_MB };
        d.buffering_hints = Some(hints_with_defaults(
            d.buffering_hints.as_ref(),
            default_size,
        ));
        d.compression_format
            .get_or_insert_with(|| "UNCOMPRESSED".to_owned());
        d.encryption_configuration.get_or_insert_with(no_encryption);
        d.cloud_watch_logging_options
            .get_or_insert_with(logging_off);
        d.s3_backup_mode
            .get_or_insert_with(|| "Disabled".to_owned());
        d.s3_backup_description = d.s3_backup_configuration.take().map(|b| b.described());
        d.s3_backup_update = None;
        d
    }

    /// The S3 description of this destination, which AWS lists beside the extended one.
    pub fn as_s3_description(&self) -> S3Destination {
        S3Destination {
            role_arn: self.role_arn.clone(),
            bucket_arn: self.bucket_arn.clone(),
            prefix: self.prefix.clone(),
            error_output_prefix: self.error_output_prefix.clone(),
            buffering_hints: self.buffering_hints.clone(),
            compression_format: self.compression_format.clone(),
            encryption_configuration: self.encryption_configuration.clone(),
            cloud_watch_logging_options: self.cloud_watch_logging_options.clone(),
        }
        .described()
    }

    /// Applies an `ExtendedS3DestinationUpdate`: every member given replaces the stored one;
    /// `S3BackupUpdate` merges into the backup configuration.
    pub fn merge(&mut self, u: &ExtendedS3) {
        merge_opt(&mut self.role_arn, &u.role_arn);
        merge_opt(&mut self.bucket_arn, &u.bucket_arn);
        merge_opt(&mut self.prefix, &u.prefix);
        merge_opt(&mut self.error_output_prefix, &u.error_output_prefix);
        merge_opt(&mut self.buffering_hints, &u.buffering_hints);
        merge_opt(&mut self.compression_format, &u.compression_format);
        merge_opt(
            &mut self.encryption_configuration,
            &u.encryption_configuration,
        );
        merge_opt(
            &mut self.cloud_watch_logging_options,
            &u.cloud_watch_logging_options,
        );
        merge_opt(
            &mut self.processing_configuration,
            &u.processing_configuration,
        );
        merge_opt(&mut self.s3_backup_mode, &u.s3_backup_mode);
        if let Some(b) = &u.s3_backup_update {
            self.s3_backup_configuration
                .get_or_insert_with(S3Destination::default)
                .merge(b);
        }
        merge_opt(
            &mut self.data_format_conversion_configuration,
            &u.data_format_conversion_configuration,
        );
        merge_opt(
            &mut self.dynamic_partitioning_configuration,
            &u.dynamic_partitioning_configuration,
        );
        merge_opt(&mut self.file_extension, &u.file_extension);
        merge_opt(&mut self.custom_time_zone, &u.custom_time_zone);
    }

    /// Whether dynamic partitioning is on.
    pub fn dynamic_partitioning(&self) -> bool {
        self.dynamic_partitioning_configuration
            .as_ref()
            .and_then(|d| d.enabled)
            .unwrap_or(false)
    }

    /// Whether format conversion is on.
    pub fn conversion(&self) -> bool {
        conversion_enabled(self.data_format_conversion_configuration.as_ref())
    }
}

impl HttpEndpoint {
    /// The description with AWS's defaults filled in; the access key is never returned.
    pub fn described(&self) -> HttpEndpoint {
        let mut d = self.clone();
        if let Some(e) = &mut d.endpoint_configuration {
            e.access_key = None;
        }
        d.buffering_hints = Some(hints_with_defaults(
            d.buffering_hints.as_ref(),
            DEFAULT_SIZE_MB,
        ));
        let req = d
            .request_configuration
            .get_or_insert_with(RequestConfiguration::default);
        req.content_encoding
            .get_or_insert_with(|| "NONE".to_owned());
        d.retry_options
            .get_or_insert_with(RetryOptions::default)
            .duration_in_seconds
            .get_or_insert(DEFAULT_HTTP_RETRY_S);
        d.s3_backup_mode
            .get_or_insert_with(|| "FailedDataOnly".to_owned());
        d.s3_destination_description = d.s3_configuration.take().map(|b| b.described());
        d.s3_update = None;
        d
    }

    /// Applies an `HttpEndpointDestinationUpdate`.
    pub fn merge(&mut self, u: &HttpEndpoint) {
        merge_opt(&mut self.endpoint_configuration, &u.endpoint_configuration);
        merge_opt(&mut self.buffering_hints, &u.buffering_hints);
        merge_opt(
            &mut self.cloud_watch_logging_options,
            &u.cloud_watch_logging_options,
        );
        merge_opt(&mut self.request_configuration, &u.request_configuration);
        merge_opt(
            &mut self.processing_configuration,
            &u.processing_configuration,
        );
        merge_opt(&mut self.role_arn, &u.role_arn);
        merge_opt(&mut self.retry_options, &u.retry_options);
        merge_opt(&mut self.s3_backup_mode, &u.s3_backup_mode);
        if let Some(b) = &u.s3_update {
            self.s3_configuration
                .get_or_insert_with(S3Destination::default)
                .merge(b);
        }
        merge_opt(
            &mut self.secrets_manager_configuration,
            &u.secrets_manager_configuration,
        );
    }
}

/// The bucket name of a `BucketARN` (`arn:<partition>:s3:::<bucket>`).
pub fn bucket_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(":s3:::")?;
    (!rest.is_empty()).then_some(rest)
}

fn hints_with_defaults(h: Option<&BufferingHints>, default_size: i64) -> BufferingHints {
    BufferingHints {
        size_in_mbs: Some(h.and_then(|h| h.size_in_mbs).unwrap_or(default_size)),
        interval_in_seconds: Some(
            h.and_then(|h| h.interval_in_seconds)
                .unwrap_or(DEFAULT_INTERVAL_S),
        ),
    }
}

fn no_encryption() -> EncryptionConfiguration {
    EncryptionConfiguration {
        no_encryption_config: Some("NoEncryption".to_owned()),
        kms_encryption_config: None,
    }
}

fn logging_off() -> CloudWatchLoggingOptions {
    CloudWatchLoggingOptions {
        enabled: Some(false),
        ..CloudWatchLoggingOptions::default()
    }
}

fn conversion_enabled(v: Option<&Value>) -> bool {
    match v {
        None => false,
        // `Enabled` defaults to true when the configuration is present.
        Some(v) => v.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
    }
}

fn merge_opt<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
    if let Some(v) = from {
        *into = Some(v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_s3_destinations_carry_aws_defaults() {
        let d = ExtendedS3 {
            bucket_arn: Some("arn:aws:s3:::b".into()),
            ..ExtendedS3::default()
        }
        .described();
        let h = d.buffering_hints.unwrap_or_default();
        assert_eq!((h.size_in_mbs, h.interval_in_seconds), (Some(5), Some(300)));
        assert_eq!(d.compression_format.as_deref(), Some("UNCOMPRESSED"));
        assert_eq!(d.s3_backup_mode.as_deref(), Some("Disabled"));
    }

    #[test]
    fn updates_replace_only_the_members_they_give() {
        let mut d = ExtendedS3 {
            bucket_arn: Some("arn:aws:s3:::b".into()),
            prefix: Some("p/".into()),
            ..ExtendedS3::default()
        };
        d.merge(&ExtendedS3 {
            prefix: Some("q/".into()),
            ..ExtendedS3::default()
        });
        assert_eq!(d.bucket_arn.as_deref(), Some("arn:aws:s3:::b"));
        assert_eq!(d.prefix.as_deref(), Some("q/"));
    }

    #[test]
    fn bucket_names_come_out_of_bucket_arns() {
        assert_eq!(bucket_of("arn:aws:s3:::my-bucket"), Some("my-bucket"));
        assert_eq!(bucket_of("arn:aws:s3:::"), None);
        assert_eq!(bucket_of("nonsense"), None);
    }
}
