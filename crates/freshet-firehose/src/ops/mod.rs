// SPDX-License-Identifier: Apache-2.0
//! One module per Firehose operation, plus the model checks they share (patterns, the
//! destination shapes' member constraints with Coral's paths).

mod create_delivery_stream;
mod delete_delivery_stream;
mod describe_delivery_stream;
mod encryption;
mod list_delivery_streams;
mod list_tags_for_delivery_stream;
mod put_record;
mod put_record_batch;
mod tag_delivery_stream;
mod untag_delivery_stream;
mod update_destination;

use std::sync::LazyLock;

use freshet_protocol::json::JStr;
use freshet_protocol::validate::{Pattern, Validator};
use freshet_protocol::{ApiError, Protocol, Response, Wire, run};
use regex::Regex;

use crate::Firehose;
use crate::model::{BufferingHints, ExtendedS3, HttpEndpoint, S3Destination};

/// Firehose errors carry bare codes.
pub(crate) const WIRE: Wire = Wire {
    error_namespace: None,
    query_compatible: false,
};

/// Routes an operation name to its module.
pub(crate) async fn dispatch(fh: &Firehose, op: &str, protocol: Protocol, body: &[u8]) -> Response {
    use create_delivery_stream::CreateDeliveryStream as Create;
    use delete_delivery_stream::DeleteDeliveryStream as Delete;
    use describe_delivery_stream::DescribeDeliveryStream as Describe;
    use encryption::{
        StartDeliveryStreamEncryption as Start, StopDeliveryStreamEncryption as Stop,
    };
    use list_delivery_streams::ListDeliveryStreams as List;
    use list_tags_for_delivery_stream::ListTagsForDeliveryStream as ListTags;
    use put_record::PutRecord;
    use put_record_batch::PutRecordBatch;
    use tag_delivery_stream::TagDeliveryStream as Tag;
    use untag_delivery_stream::UntagDeliveryStream as Untag;
    use update_destination::UpdateDestination as Update;
    match op {
        "CreateDeliveryStream" => run::<Firehose, Create>(fh, protocol, body, &WIRE).await,
        "DeleteDeliveryStream" => run::<Firehose, Delete>(fh, protocol, body, &WIRE).await,
        "DescribeDeliveryStream" => run::<Firehose, Describe>(fh, protocol, body, &WIRE).await,
        "ListDeliveryStreams" => run::<Firehose, List>(fh, protocol, body, &WIRE).await,
        "PutRecord" => run::<Firehose, PutRecord>(fh, protocol, body, &WIRE).await,
        "PutRecordBatch" => run::<Firehose, PutRecordBatch>(fh, protocol, body, &WIRE).await,
        "UpdateDestination" => run::<Firehose, Update>(fh, protocol, body, &WIRE).await,
        "TagDeliveryStream" => run::<Firehose, Tag>(fh, protocol, body, &WIRE).await,
        "UntagDeliveryStream" => run::<Firehose, Untag>(fh, protocol, body, &WIRE).await,
        "ListTagsForDeliveryStream" => run::<Firehose, ListTags>(fh, protocol, body, &WIRE).await,
        "StartDeliveryStreamEncryption" => run::<Firehose, Start>(fh, protocol, body, &WIRE).await,
        "StopDeliveryStreamEncryption" => run::<Firehose, Stop>(fh, protocol, body, &WIRE).await,
        _ => Response::error_in(&ApiError::unknown_operation(), protocol),
    }
}

macro_rules! pattern {
    ($fn:ident, $text:literal) => {
        pub(crate) fn $fn(s: &str) -> bool {
            static RE: LazyLock<Option<Regex>> =
                LazyLock::new(|| Regex::new(concat!("^(?:", $text, ")$")).ok());
            RE.as_ref().is_some_and(|re| re.is_match(s))
        }
    };
}

pattern!(is_name, "[a-zA-Z0-9_.-]+");
pattern!(
    is_role_arn,
    r"arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+"
);
// Java's \w is ASCII (and a Unicode \w{1,255} is too big a regex).
pattern!(is_bucket_arn, r"arn:.*:s3:::[A-Za-z0-9_.\-]{1,255}");
pattern!(
    is_stream_arn,
    r"arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+"
);
pattern!(
    is_key_arn,
    r"arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+"
);
pattern!(is_tag_key, r"[\p{L}\p{Z}\p{N}_.:/=+\-@%]*");
pattern!(is_tag_value, r"[\p{L}\p{Z}\p{N}_.:/=+\-@%]*");
pattern!(is_file_extension, r"|\.[0-9a-z!\-_.*'()]+");
pattern!(is_time_zone, r"|[a-zA-Z/_]+");
pattern!(is_version_id, "[0-9]+");
pattern!(is_destination_id, "[a-zA-Z0-9-]+");

pub(crate) const NAME: Pattern = (is_name, "[a-zA-Z0-9_.-]+");
pub(crate) const ROLE_ARN: Pattern = (
    is_role_arn,
    r"arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+",
);
pub(crate) const BUCKET_ARN: Pattern = (is_bucket_arn, r"arn:.*:s3:::[\w\.\-]{1,255}");
pub(crate) const STREAM_ARN: Pattern = (
    is_stream_arn,
    r"arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+",
);
pub(crate) const KEY_ARN: Pattern = (
    is_key_arn,
    r"arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+",
);
/// Tag keys: the model's pattern plus its `aws:` exclusion, checked apart.
pub(crate) const TAG_KEY: Pattern = (tag_key_ok, r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$");
pub(crate) const TAG_VALUE: Pattern = (is_tag_value, r"^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$");
pub(crate) const FILE_EXTENSION: Pattern = (is_file_extension, r"^$|\.[0-9a-z!\-_.*'()]+");
pub(crate) const TIME_ZONE: Pattern = (is_time_zone, r"^$|[a-zA-Z/_]+");
pub(crate) const VERSION_ID: Pattern = (is_version_id, "[0-9]+");
pub(crate) const DESTINATION_ID: Pattern = (is_destination_id, "[a-zA-Z0-9-]+");

fn tag_key_ok(s: &str) -> bool {
    !s.starts_with("aws:") && is_tag_key(s)
}

/// `DeliveryStreamName` at `path` (required).
pub(crate) fn validate_name(v: &mut Validator, path: &str, name: &Option<JStr>) {
    v.required(path, name);
    v.string(
        path,
        name.as_ref().map(|s| s.0.as_str()),
        1,
        Some(64),
        Some(NAME),
    );
}

fn join(path: &str, member: &str) -> String {
    format!("{path}.{member}")
}

fn validate_hints(v: &mut Validator, path: &str, h: Option<&BufferingHints>, max_mb: i64) {
    let Some(h) = h else { return };
    v.int(
        join(path, "sizeInMBs").as_str(),
        h.size_in_mbs,
        Some(1),
        Some(max_mb),
    );
    v.int(
        join(path, "intervalInSeconds").as_str(),
        h.interval_in_seconds,
        Some(0),
        Some(900),
    );
}

const COMPRESSION: &[&str] = &["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"];

/// The member constraints of an S3 destination shape at `path`; `create` says whether the
/// role and bucket are required.
pub(crate) fn validate_s3(v: &mut Validator, path: &str, d: &S3Destination, create: bool) {
    let role = join(path, "roleARN");
    let bucket = join(path, "bucketARN");
    if create {
        v.required(role.as_str(), &d.role_arn);
        v.required(bucket.as_str(), &d.bucket_arn);
    }
    v.string(
        role.as_str(),
        d.role_arn.as_deref(),
        1,
        Some(512),
        Some(ROLE_ARN),
    );
    v.string(
        bucket.as_str(),
        d.bucket_arn.as_deref(),
        1,
        Some(2048),
        Some(BUCKET_ARN),
    );
    v.string(
        join(path, "prefix").as_str(),
        d.prefix.as_deref(),
        0,
        Some(1024),
        None,
    );
    v.string(
        join(path, "errorOutputPrefix").as_str(),
        d.error_output_prefix.as_deref(),
        0,
        Some(1024),
        None,
    );
    validate_hints(
        v,
        &join(path, "bufferingHints"),
        d.buffering_hints.as_ref(),
        128,
    );
    v.one_of(
        join(path, "compressionFormat").as_str(),
        d.compression_format.as_deref(),
        COMPRESSION,
    );
}

/// The member constraints of an ExtendedS3 shape at `path`.
pub(crate) fn validate_extended_s3(v: &mut Validator, path: &str, d: &ExtendedS3, create: bool) {
    let plain = S3Destination {
        role_arn: d.role_arn.clone(),
        bucket_arn: d.bucket_arn.clone(),
        prefix: d.prefix.clone(),
        error_output_prefix: d.error_output_prefix.clone(),
        buffering_hints: d.buffering_hints.clone(),
        compression_format: d.compression_format.clone(),
        encryption_configuration: None,
        cloud_watch_logging_options: None,
    };
    validate_s3(v, path, &plain, create);
    v.one_of(
        join(path, "s3BackupMode").as_str(),
        d.s3_backup_mode.as_deref(),
        &["Disabled", "Enabled"],
    );
    if let Some(b) = &d.s3_backup_configuration {
        validate_s3(v, &join(path, "s3BackupConfiguration"), b, true);
    }
    if let Some(b) = &d.s3_backup_update {
        validate_s3(v, &join(path, "s3BackupUpdate"), b, false);
    }
    if let Some(r) = d
        .dynamic_partitioning_configuration
        .as_ref()
        .and_then(|p| p.retry_options.as_ref())
    {
        v.int(
            join(
                path,
                "dynamicPartitioningConfiguration.retryOptions.durationInSeconds",
            )
            .as_str(),
            r.duration_in_seconds,
            Some(0),
            Some(7200),
        );
    }
    v.string(
        join(path, "fileExtension").as_str(),
        d.file_extension.as_deref(),
        0,
        Some(128),
        Some(FILE_EXTENSION),
    );
    v.string(
        join(path, "customTimeZone").as_str(),
        d.custom_time_zone.as_deref(),
        0,
        Some(50),
        Some(TIME_ZONE),
    );
}

/// The member constraints of an HttpEndpoint shape at `path`.
pub(crate) fn validate_http(v: &mut Validator, path: &str, d: &HttpEndpoint, create: bool) {
    let endpoint = join(path, "endpointConfiguration");
    if create {
        v.required(endpoint.as_str(), &d.endpoint_configuration);
        v.required(join(path, "s3Configuration").as_str(), &d.s3_configuration);
    }
    if let Some(e) = &d.endpoint_configuration {
        let url = join(&endpoint, "url");
        v.required(url.as_str(), &e.url);
        // The model's pattern is https://.*; Freshet takes http:// too (localhost tests),
        // checked by the domain.
        v.string(url.as_str(), e.url.as_deref(), 1, Some(1000), None);
        v.string(
            join(&endpoint, "name").as_str(),
            e.name.as_deref(),
            1,
            Some(256),
            None,
        );
        v.string(
            join(&endpoint, "accessKey").as_str(),
            e.access_key.as_deref(),
            0,
            Some(4096),
            None,
        );
    }
    validate_hints(
        v,
        &join(path, "bufferingHints"),
        d.buffering_hints.as_ref(),
        64,
    );
    if let Some(r) = &d.request_configuration {
        v.one_of(
            join(path, "requestConfiguration.contentEncoding").as_str(),
            r.content_encoding.as_deref(),
            &["NONE", "GZIP"],
        );
        v.list_len(
            join(path, "requestConfiguration.commonAttributes").as_str(),
            r.common_attributes.as_ref().map(Vec::len),
            "[...]",
            0,
            50,
        );
    }
    if let Some(r) = &d.retry_options {
        v.int(
            join(path, "retryOptions.durationInSeconds").as_str(),
            r.duration_in_seconds,
            Some(0),
            Some(7200),
        );
    }
    v.string(
        join(path, "roleARN").as_str(),
        d.role_arn.as_deref(),
        1,
        Some(512),
        Some(ROLE_ARN),
    );
    v.one_of(
        join(path, "s3BackupMode").as_str(),
        d.s3_backup_mode.as_deref(),
        &["FailedDataOnly", "AllData"],
    );
    if let Some(b) = &d.s3_configuration {
        validate_s3(v, &join(path, "s3Configuration"), b, true);
    }
    if let Some(b) = &d.s3_update {
        validate_s3(v, &join(path, "s3Update"), b, false);
    }
}

/// A `Tag` list at `path`: 1–50 tags, key and value constraints.
pub(crate) fn validate_tags(v: &mut Validator, path: &str, tags: Option<&[TagIn]>) {
    let Some(tags) = tags else { return };
    v.list_len(path, Some(tags.len()), "[...]", 1, 50);
    for (i, t) in tags.iter().enumerate() {
        let key = format!("{path}.{}.member.key", i + 1);
        let value = format!("{path}.{}.member.value", i + 1);
        v.required(key.as_str(), &t.key);
        v.string(
            key.as_str(),
            t.key.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some(TAG_KEY),
        );
        v.string(
            value.as_str(),
            t.value.as_ref().map(|s| s.0.as_str()),
            0,
            Some(256),
            Some(TAG_VALUE),
        );
    }
}

/// `Tag` in a request.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagIn {
    pub key: Option<JStr>,
    pub value: Option<JStr>,
}

/// `Tag` in a response.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagOut {
    pub key: String,
    pub value: String,
}

/// Request tags as pairs (validated: keys present).
pub(crate) fn tag_pairs(tags: Option<Vec<TagIn>>) -> Vec<(String, String)> {
    tags.unwrap_or_default()
        .into_iter()
        .filter_map(|t| Some((t.key?.0, t.value.map(|v| v.0).unwrap_or_default())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_patterns_match_what_aws_accepts() {
        assert!(is_bucket_arn("arn:aws:s3:::bucket"));
        assert!(!is_bucket_arn("arn:aws:s3:::"));
        assert!(is_role_arn("arn:aws:iam::000000000000:role/firehose"));
        assert!(is_name("a.b-c_d"));
        assert!(!is_name("a b"));
        assert!(tag_key_ok("env"));
        assert!(!tag_key_ok("aws:x"));
        assert!(is_file_extension(""));
        assert!(is_file_extension(".json"));
    }
}
