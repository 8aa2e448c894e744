// SPDX-License-Identifier: Apache-2.0
//! CreateDeliveryStream.

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    KEY_ARN, ROLE_ARN, STREAM_ARN, TagIn, tag_pairs, validate_extended_s3, validate_http,
    validate_name, validate_s3, validate_tags,
};
use crate::Firehose;
use crate::control::{CreateRequest, DestinationInput};
use crate::model::{ExtendedS3, HttpEndpoint, S3Destination};

pub(crate) struct CreateDeliveryStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KinesisSourceIn {
    #[serde(rename = "KinesisStreamARN")]
    kinesis_stream_arn: Option<JStr>,
    #[serde(rename = "RoleARN")]
    role_arn: Option<JStr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DirectPutIn {
    #[serde(rename = "ThroughputHintInMBs")]
    throughput_hint_in_mbs: Option<JInt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptionIn {
    #[serde(rename = "KeyARN")]
    pub key_arn: Option<JStr>,
    pub key_type: Option<JStr>,
}

/// Validates a `DeliveryStreamEncryptionConfigurationInput` at `path`.
pub(crate) fn validate_encryption(v: &mut Validator, path: &str, e: &Option<EncryptionIn>) {
    let Some(e) = e else { return };
    let arn = format!("{path}.keyARN");
    let kt = format!("{path}.keyType");
    v.string(
        arn.as_str(),
        e.key_arn.as_ref().map(|s| s.0.as_str()),
        1,
        Some(512),
        Some(KEY_ARN),
    );
    v.required(kt.as_str(), &e.key_type);
    v.one_of(
        kt.as_str(),
        e.key_type.as_ref().map(|s| s.0.as_str()),
        &["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"],
    );
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    delivery_stream_type: Option<JStr>,
    direct_put_source_configuration: Option<DirectPutIn>,
    kinesis_stream_source_configuration: Option<KinesisSourceIn>,
    delivery_stream_encryption_configuration_input: Option<EncryptionIn>,
    s3_destination_configuration: Option<S3Destination>,
    extended_s3_destination_configuration: Option<ExtendedS3>,
    redshift_destination_configuration: Option<Value>,
    elasticsearch_destination_configuration: Option<Value>,
    amazonopensearchservice_destination_configuration: Option<Value>,
    splunk_destination_configuration: Option<Value>,
    http_endpoint_destination_configuration: Option<HttpEndpoint>,
    tags: Option<JList<TagIn>>,
    amazon_open_search_serverless_destination_configuration: Option<Value>,
    #[serde(rename = "MSKSourceConfiguration")]
    msk_source_configuration: Option<Value>,
    snowflake_destination_configuration: Option<Value>,
    iceberg_destination_configuration: Option<Value>,
    database_source_configuration: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {
    #[serde(rename = "DeliveryStreamARN")]
    arn: String,
}

const TYPES: &[&str] = &[
    "DirectPut",
    "KinesisStreamAsSource",
    "MSKAsSource",
    "DatabaseAsSource",
];

impl Operation<Firehose> for CreateDeliveryStream {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.one_of(
            "deliveryStreamType",
            i.delivery_stream_type.as_ref().map(|s| s.0.as_str()),
            TYPES,
        );
        if let Some(d) = &i.direct_put_source_configuration {
            let p = "directPutSourceConfiguration.throughputHintInMBs";
            v.required(p, &d.throughput_hint_in_mbs);
            v.int(p, d.throughput_hint_in_mbs.map(|n| n.0), Some(1), Some(100));
        }
        if let Some(k) = &i.kinesis_stream_source_configuration {
            let arn = "kinesisStreamSourceConfiguration.kinesisStreamARN";
            let role = "kinesisStreamSourceConfiguration.roleARN";
            v.required(arn, &k.kinesis_stream_arn);
            v.string(
                arn,
                k.kinesis_stream_arn.as_ref().map(|s| s.0.as_str()),
                1,
                Some(512),
                Some(STREAM_ARN),
            );
            v.required(role, &k.role_arn);
            v.string(
                role,
                k.role_arn.as_ref().map(|s| s.0.as_str()),
                1,
                Some(512),
                Some(ROLE_ARN),
            );
        }
        validate_encryption(
            v,
            "deliveryStreamEncryptionConfigurationInput",
            &i.delivery_stream_encryption_configuration_input,
        );
        if let Some(d) = &i.s3_destination_configuration {
            validate_s3(v, "s3DestinationConfiguration", d, true);
        }
        if let Some(d) = &i.extended_s3_destination_configuration {
            validate_extended_s3(v, "extendedS3DestinationConfiguration", d, true);
        }
        if let Some(d) = &i.http_endpoint_destination_configuration {
            validate_http(v, "httpEndpointDestinationConfiguration", d, true);
        }
        validate_tags(v, "tags", i.tags.as_ref().map(|t| t.0.as_slice()));
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let mut others = Vec::new();
        for (given, name) in [
            (i.redshift_destination_configuration.is_some(), "Redshift"),
            (
                i.elasticsearch_destination_configuration.is_some(),
                "Elasticsearch",
            ),
            (
                i.amazonopensearchservice_destination_configuration
                    .is_some(),
                "AmazonOpenSearchService",
            ),
            (i.splunk_destination_configuration.is_some(), "Splunk"),
            (
                i.amazon_open_search_serverless_destination_configuration
                    .is_some(),
                "AmazonOpenSearchServerless",
            ),
            (i.snowflake_destination_configuration.is_some(), "Snowflake"),
            (i.iceberg_destination_configuration.is_some(), "Iceberg"),
        ] {
            if given {
                others.push(name);
            }
        }
        let other_source = if i.msk_source_configuration.is_some() {
            Some("MSKSourceConfiguration")
        } else if i.database_source_configuration.is_some() {
            Some("DatabaseSourceConfiguration")
        } else {
            None
        };
        let req = CreateRequest {
            name: i.delivery_stream_name.map(|s| s.0).unwrap_or_default(),
            stream_type: i.delivery_stream_type.map(|s| s.0),
            direct_put: i
                .direct_put_source_configuration
                .and_then(|d| d.throughput_hint_in_mbs.map(|n| n.0)),
            kinesis: i.kinesis_stream_source_configuration.map(|k| {
                (
                    k.kinesis_stream_arn.map(|s| s.0).unwrap_or_default(),
                    k.role_arn.map(|s| s.0).unwrap_or_default(),
                )
            }),
            encryption: i.delivery_stream_encryption_configuration_input.map(|e| {
                (
                    e.key_type.map(|s| s.0).unwrap_or_default(),
                    e.key_arn.map(|s| s.0),
                )
            }),
            other_source,
            destination: DestinationInput {
                s3: i.s3_destination_configuration,
                extended_s3: i.extended_s3_destination_configuration,
                http_endpoint: i.http_endpoint_destination_configuration,
                others,
            },
            tags: tag_pairs(i.tags.map(|t| t.0)),
        };
        let arn = fh.create(req).await?;
        Ok(Output { arn })
    }
}
