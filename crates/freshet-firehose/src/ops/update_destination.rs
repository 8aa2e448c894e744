// SPDX-License-Identifier: Apache-2.0
//! UpdateDestination: optimistic concurrency on `CurrentDeliveryStreamVersionId`; the same
//! destination type merges the given members, another type replaces the destination.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    DESTINATION_ID, VERSION_ID, validate_extended_s3, validate_http, validate_name, validate_s3,
};
use crate::Firehose;
use crate::control::DestinationInput;
use crate::model::{ExtendedS3, HttpEndpoint, S3Destination};

pub(crate) struct UpdateDestination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    current_delivery_stream_version_id: Option<JStr>,
    destination_id: Option<JStr>,
    s3_destination_update: Option<S3Destination>,
    extended_s3_destination_update: Option<ExtendedS3>,
    redshift_destination_update: Option<Value>,
    elasticsearch_destination_update: Option<Value>,
    amazonopensearchservice_destination_update: Option<Value>,
    splunk_destination_update: Option<Value>,
    http_endpoint_destination_update: Option<HttpEndpoint>,
    amazon_open_search_serverless_destination_update: Option<Value>,
    snowflake_destination_update: Option<Value>,
    iceberg_destination_update: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {}

impl Operation<Firehose> for UpdateDestination {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        let ver = "currentDeliveryStreamVersionId";
        v.required(ver, &i.current_delivery_stream_version_id);
        v.string(
            ver,
            i.current_delivery_stream_version_id
                .as_ref()
                .map(|s| s.0.as_str()),
            1,
            Some(50),
            Some(VERSION_ID),
        );
        v.required("destinationId", &i.destination_id);
        v.string(
            "destinationId",
            i.destination_id.as_ref().map(|s| s.0.as_str()),
            1,
            Some(100),
            Some(DESTINATION_ID),
        );
        if let Some(d) = &i.s3_destination_update {
            validate_s3(v, "s3DestinationUpdate", d, false);
        }
        if let Some(d) = &i.extended_s3_destination_update {
            validate_extended_s3(v, "extendedS3DestinationUpdate", d, false);
        }
        if let Some(d) = &i.http_endpoint_destination_update {
            validate_http(v, "httpEndpointDestinationUpdate", d, false);
        }
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let mut others = Vec::new();
        for (given, name) in [
            (i.redshift_destination_update.is_some(), "Redshift"),
            (
                i.elasticsearch_destination_update.is_some(),
                "Elasticsearch",
            ),
            (
                i.amazonopensearchservice_destination_update.is_some(),
                "AmazonOpenSearchService",
            ),
            (i.splunk_destination_update.is_some(), "Splunk"),
            (
                i.amazon_open_search_serverless_destination_update.is_some(),
                "AmazonOpenSearchServerless",
            ),
            (i.snowflake_destination_update.is_some(), "Snowflake"),
            (i.iceberg_destination_update.is_some(), "Iceberg"),
        ] {
            if given {
                others.push(name);
            }
        }
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let version = i
            .current_delivery_stream_version_id
            .map(|s| s.0)
            .unwrap_or_default();
        let dest_id = i.destination_id.map(|s| s.0).unwrap_or_default();
        let upd = DestinationInput {
            s3: i.s3_destination_update,
            extended_s3: i.extended_s3_destination_update,
            http_endpoint: i.http_endpoint_destination_update,
            others,
        };
        fh.update_destination(&name, &version, &dest_id, upd)
            .await?;
        Ok(Output {})
    }
}
