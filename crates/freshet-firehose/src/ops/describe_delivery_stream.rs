// SPDX-License-Identifier: Apache-2.0
//! DescribeDeliveryStream: the stored stream with AWS's defaults filled in. An ExtendedS3
//! destination is listed with its `S3DestinationDescription` beside it, as AWS does.

use freshet_protocol::json::{JInt, JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{DESTINATION_ID, validate_name};
use crate::Firehose;
use crate::model::{Destination, ExtendedS3, HttpEndpoint, S3Destination};
use crate::store::{SourceKind, StreamRecord};

pub(crate) struct DescribeDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    limit: Option<JInt>,
    exclusive_start_destination_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    delivery_stream_description: Description,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Encryption {
    #[serde(rename = "KeyARN", skip_serializing_if = "Option::is_none")]
    key_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_type: Option<String>,
    status: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DirectPutSource {
    #[serde(
        rename = "ThroughputHintInMBs",
        skip_serializing_if = "Option::is_none"
    )]
    throughput_hint_in_mbs: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KinesisSource {
    #[serde(rename = "KinesisStreamARN")]
    kinesis_stream_arn: String,
    #[serde(rename = "RoleARN")]
    role_arn: String,
    delivery_start_timestamp: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Source {
    #[serde(skip_serializing_if = "Option::is_none")]
    direct_put_source_description: Option<DirectPutSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kinesis_stream_source_description: Option<KinesisSource>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationDescription {
    destination_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3_destination_description: Option<S3Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_s3_destination_description: Option<ExtendedS3>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_endpoint_destination_description: Option<HttpEndpoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Description {
    delivery_stream_name: String,
    #[serde(rename = "DeliveryStreamARN")]
    delivery_stream_arn: String,
    delivery_stream_status: &'static str,
    delivery_stream_encryption_configuration: Encryption,
    delivery_stream_type: &'static str,
    version_id: String,
    create_timestamp: Timestamp,
    last_update_timestamp: Timestamp,
    source: Source,
    destinations: Vec<DestinationDescription>,
    has_more_destinations: bool,
}

impl Operation<Firehose> for DescribeDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(10000));
        v.string(
            "exclusiveStartDestinationId",
            i.exclusive_start_destination_id
                .as_ref()
                .map(|s| s.0.as_str()),
            1,
            Some(100),
            Some(DESTINATION_ID),
        );
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let rec = fh.record(&name)?;
        // One destination per stream: a start id at or past it leaves none.
        let skip = i
            .exclusive_start_destination_id
            .is_some_and(|s| s.0.as_str() >= rec.destination_id.as_str());
        Ok(Output {
            delivery_stream_description: describe(&rec, skip),
        })
    }
}

fn describe(rec: &StreamRecord, skip_destinations: bool) -> Description {
    let destination = match &rec.destination {
        Destination::ExtendedS3(d) => DestinationDescription {
            destination_id: rec.destination_id.clone(),
            s3_destination_description: Some(d.as_s3_description()),
            extended_s3_destination_description: Some(d.described()),
            http_endpoint_destination_description: None,
        },
        Destination::HttpEndpoint(d) => DestinationDescription {
            destination_id: rec.destination_id.clone(),
            s3_destination_description: None,
            extended_s3_destination_description: None,
            http_endpoint_destination_description: Some(d.described()),
        },
    };
    let source = match (&rec.source, &rec.kinesis) {
        (SourceKind::KinesisStreamAsSource, Some(k)) => Source {
            direct_put_source_description: None,
            kinesis_stream_source_description: Some(KinesisSource {
                kinesis_stream_arn: k.stream_arn.clone(),
                role_arn: k.role_arn.clone(),
                delivery_start_timestamp: Timestamp(k.start_ms),
            }),
        },
        _ => Source {
            direct_put_source_description: rec.throughput_hint.map(|h| DirectPutSource {
                throughput_hint_in_mbs: Some(h),
            }),
            kinesis_stream_source_description: None,
        },
    };
    Description {
        delivery_stream_name: rec.name.clone(),
        delivery_stream_arn: rec.arn.clone(),
        delivery_stream_status: rec.status.as_str(),
        delivery_stream_encryption_configuration: Encryption {
            key_arn: rec.encryption.key_arn.clone(),
            key_type: rec.encryption.key_type.clone(),
            status: rec.encryption.status.clone(),
        },
        delivery_stream_type: rec.source.as_str(),
        version_id: rec.version.to_string(),
        create_timestamp: Timestamp(rec.created_ms),
        last_update_timestamp: Timestamp(rec.updated_ms),
        source,
        destinations: if skip_destinations {
            Vec::new()
        } else {
            vec![destination]
        },
        has_more_destinations: false,
    }
}
