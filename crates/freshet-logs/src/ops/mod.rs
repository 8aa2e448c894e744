// SPDX-License-Identifier: Apache-2.0
//! One module per Logs operation (closely related pairs share one), the dispatch by name,
//! and the member types and checks they share.
//!
//! Every operation runs through [`run`]: decode the JSON body (SerializationException with
//! Coral's type errors), [`LogsOp::precheck`] for the one constraint AWS words its own way
//! (a group or stream name over 512 characters), the model constraints through the shared
//! `Validator` (answered as `InvalidParameterException`, which is what CloudWatch Logs sends
//! for Coral validation failures, unlike Kinesis's `ValidationException`), then the domain.

mod create_log_group;
mod create_log_stream;
mod delete_log_group;
mod delete_log_stream;
mod describe_log_groups;
mod describe_log_streams;
mod describe_queries;
mod filter_log_events;
mod get_log_events;
mod get_log_group_fields;
mod get_query_results;
mod metric_filters;
mod put_log_events;
mod put_log_group_deletion_protection;
mod query_definitions;
mod retention;
mod start_live_tail;
mod start_query;
mod stop_query;
mod subscription_filters;
mod tag_log_group;
mod tag_resource;
mod test_metric_filter;
mod types;

use std::future::Future;

use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Protocol, Response, Wire, decode_input, encode_output};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use self::types::*;
use crate::error::Error;
use crate::service::Logs;

/// Logs errors carry bare codes and no Query compatibility.
pub(crate) const WIRE: Wire = Wire {
    error_namespace: None,
    query_compatible: false,
};

/// How one operation's request is checked.
pub(crate) trait Checked {
    /// Request DTO.
    type Input: DeserializeOwned;
    /// Checks AWS makes before the model constraints, with their own texts.
    fn precheck(_input: &Self::Input) -> Result<(), Error> {
        Ok(())
    }
    /// The model constraints, in member order.
    fn validate(input: &Self::Input, v: &mut Validator);
}

/// One Logs operation.
pub(crate) trait LogsOp: Checked {
    /// Response DTO.
    type Output: Serialize;
    /// Whether the operation answers with an empty body.
    const EMPTY_OUTPUT: bool = false;
    /// Runs the operation.
    fn call(
        logs: &Logs,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send;
}

/// Decodes, checks, calls and encodes one operation.
pub(crate) async fn run<O: LogsOp>(logs: &Logs, protocol: Protocol, body: &[u8]) -> Response {
    match run_inner::<O>(logs, protocol, body).await {
        Ok(r) => r,
        Err(e) => WIRE.error_response(&e, protocol),
    }
}

/// Decodes the body and checks it; validation failures are InvalidParameterException.
pub(crate) fn decode<O: Checked>(protocol: Protocol, body: &[u8]) -> Result<O::Input, ApiError> {
    let input: O::Input = decode_input(protocol, body, |_, _| {})?;
    O::precheck(&input)?;
    let mut v = Validator::new();
    O::validate(&input, &mut v);
    match v.finish() {
        Some(message) => Err(ApiError::new("InvalidParameterException", 400, message)),
        None => Ok(input),
    }
}

async fn run_inner<O: LogsOp>(
    logs: &Logs,
    protocol: Protocol,
    body: &[u8],
) -> Result<Response, ApiError> {
    let input = decode::<O>(protocol, body)?;
    let output = O::call(logs, input).await?;
    let body = if O::EMPTY_OUTPUT {
        bytes::Bytes::new()
    } else {
        encode_output(protocol, &output)?
    };
    Ok(Response::ok(protocol, body))
}

/// Every operation of the Logs model (botocore 1.43.11), to tell "not implemented" from
/// "not an operation".
const MODEL_OPERATIONS: &[&str] = &[
    "AssociateKmsKey",
    "AssociateSourceToS3TableIntegration",
    "CancelExportTask",
    "CancelImportTask",
    "CreateDelivery",
    "CreateExportTask",
    "CreateImportTask",
    "CreateLogAnomalyDetector",
    "CreateLogGroup",
    "CreateLogStream",
    "CreateLookupTable",
    "CreateScheduledQuery",
    "DeleteAccountPolicy",
    "DeleteDataProtectionPolicy",
    "DeleteDelivery",
    "DeleteDeliveryDestination",
    "DeleteDeliveryDestinationPolicy",
    "DeleteDeliverySource",
    "DeleteDestination",
    "DeleteIndexPolicy",
    "DeleteIntegration",
    "DeleteLogAnomalyDetector",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteLookupTable",
    "DeleteMetricFilter",
    "DeleteQueryDefinition",
    "DeleteResourcePolicy",
    "DeleteRetentionPolicy",
    "DeleteScheduledQuery",
    "DeleteSubscriptionFilter",
    "DeleteTransformer",
    "DescribeAccountPolicies",
    "DescribeConfigurationTemplates",
    "DescribeDeliveries",
    "DescribeDeliveryDestinations",
    "DescribeDeliverySources",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeFieldIndexes",
    "DescribeImportTaskBatches",
    "DescribeImportTasks",
    "DescribeIndexPolicies",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeLookupTables",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "DisassociateKmsKey",
    "DisassociateSourceFromS3TableIntegration",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetDelivery",
    "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy",
    "GetDeliverySource",
    "GetIntegration",
    "GetLogAnomalyDetector",
    "GetLogEvents",
    "GetLogFields",
    "GetLogGroupFields",
    "GetLogObject",
    "GetLogRecord",
    "GetLookupTable",
    "GetQueryResults",
    "GetScheduledQuery",
    "GetScheduledQueryHistory",
    "GetTransformer",
    "ListAggregateLogGroupSummaries",
    "ListAnomalies",
    "ListIntegrations",
    "ListLogAnomalyDetectors",
    "ListLogGroups",
    "ListLogGroupsForQuery",
    "ListScheduledQueries",
    "ListSourcesForS3TableIntegration",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutAccountPolicy",
    "PutBearerTokenAuthentication",
    "PutDataProtectionPolicy",
    "PutDeliveryDestination",
    "PutDeliveryDestinationPolicy",
    "PutDeliverySource",
    "PutDestination",
    "PutDestinationPolicy",
    "PutIndexPolicy",
    "PutIntegration",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutMetricFilter",
    "PutQueryDefinition",
    "PutResourcePolicy",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "PutTransformer",
    "StartLiveTail",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "TestTransformer",
    "UntagLogGroup",
    "UntagResource",
    "UpdateAnomaly",
    "UpdateDeliveryConfiguration",
    "UpdateLogAnomalyDetector",
    "UpdateLookupTable",
    "UpdateScheduledQuery",
];

/// The answer to an operation Freshet does not serve.
fn unknown_operation(op: &str, protocol: Protocol) -> Response {
    let e = if MODEL_OPERATIONS.contains(&op) {
        ApiError::new(
            "UnknownOperationException",
            400,
            format!("Freshet does not implement the CloudWatch Logs operation {op}."),
        )
    } else {
        ApiError::unknown_operation()
    };
    WIRE.error_response(&e, protocol)
}

/// Routes an operation name to its module.
pub(crate) async fn dispatch(
    logs: &Logs,
    op: &str,
    protocol: Protocol,
    body: &[u8],
    request_id: &str,
) -> Response {
    match op {
        "CreateLogGroup" => run::<create_log_group::CreateLogGroup>(logs, protocol, body).await,
        "DeleteLogGroup" => run::<delete_log_group::DeleteLogGroup>(logs, protocol, body).await,
        "DescribeLogGroups" => {
            run::<describe_log_groups::DescribeLogGroups>(logs, protocol, body).await
        }
        "CreateLogStream" => run::<create_log_stream::CreateLogStream>(logs, protocol, body).await,
        "DeleteLogStream" => run::<delete_log_stream::DeleteLogStream>(logs, protocol, body).await,
        "DescribeLogStreams" => {
            run::<describe_log_streams::DescribeLogStreams>(logs, protocol, body).await
        }
        "PutLogEvents" => run::<put_log_events::PutLogEvents>(logs, protocol, body).await,
        "GetLogEvents" => run::<get_log_events::GetLogEvents>(logs, protocol, body).await,
        "FilterLogEvents" => run::<filter_log_events::FilterLogEvents>(logs, protocol, body).await,
        "StartQuery" => start_query::run::<start_query::StartQuery>(logs, protocol, body).await,
        "GetQueryResults" => {
            start_query::run::<get_query_results::GetQueryResults>(logs, protocol, body).await
        }
        "StopQuery" => start_query::run::<stop_query::StopQuery>(logs, protocol, body).await,
        "DescribeQueries" => {
            start_query::run::<describe_queries::DescribeQueries>(logs, protocol, body).await
        }
        "GetLogGroupFields" => {
            start_query::run::<get_log_group_fields::GetLogGroupFields>(logs, protocol, body).await
        }
        "PutQueryDefinition" => {
            start_query::run::<query_definitions::PutQueryDefinition>(logs, protocol, body).await
        }
        "DescribeQueryDefinitions" => {
            start_query::run::<query_definitions::DescribeQueryDefinitions>(logs, protocol, body)
                .await
        }
        "DeleteQueryDefinition" => {
            start_query::run::<query_definitions::DeleteQueryDefinition>(logs, protocol, body).await
        }
        "PutRetentionPolicy" => run::<retention::PutRetentionPolicy>(logs, protocol, body).await,
        "DeleteRetentionPolicy" => {
            run::<retention::DeleteRetentionPolicy>(logs, protocol, body).await
        }
        "TagResource" => run::<tag_resource::TagResource>(logs, protocol, body).await,
        "UntagResource" => run::<tag_resource::UntagResource>(logs, protocol, body).await,
        "ListTagsForResource" => {
            run::<tag_resource::ListTagsForResource>(logs, protocol, body).await
        }
        "TagLogGroup" => run::<tag_log_group::TagLogGroup>(logs, protocol, body).await,
        "UntagLogGroup" => run::<tag_log_group::UntagLogGroup>(logs, protocol, body).await,
        "ListTagsLogGroup" => run::<tag_log_group::ListTagsLogGroup>(logs, protocol, body).await,
        "PutMetricFilter" => run::<metric_filters::PutMetricFilter>(logs, protocol, body).await,
        "DescribeMetricFilters" => {
            run::<metric_filters::DescribeMetricFilters>(logs, protocol, body).await
        }
        "DeleteMetricFilter" => {
            run::<metric_filters::DeleteMetricFilter>(logs, protocol, body).await
        }
        "TestMetricFilter" => {
            run::<test_metric_filter::TestMetricFilter>(logs, protocol, body).await
        }
        "PutLogGroupDeletionProtection" => {
            run::<put_log_group_deletion_protection::PutLogGroupDeletionProtection>(
                logs, protocol, body,
            )
            .await
        }
        "PutSubscriptionFilter" => {
            run::<subscription_filters::PutSubscriptionFilter>(logs, protocol, body).await
        }
        "DescribeSubscriptionFilters" => {
            run::<subscription_filters::DescribeSubscriptionFilters>(logs, protocol, body).await
        }
        "DeleteSubscriptionFilter" => {
            run::<subscription_filters::DeleteSubscriptionFilter>(logs, protocol, body).await
        }
        "StartLiveTail" => start_live_tail::handle(logs, protocol, body, request_id),
        other => unknown_operation(other, protocol),
    }
}
