// SPDX-License-Identifier: Apache-2.0
//! The CloudWatch API on the shared front door: [`CloudWatchService`] claims
//! `X-Amz-Target: GraniteServiceVersion20100801.*` in AWS JSON 1.0 (boto3 and the AWS CLI),
//! `POST /service/GraniteServiceVersion20100801/operation/<Op>` in smithy RPC v2 CBOR (the
//! Java SDK v2 since 2.40.6) and the Query protocol of API version 2010-08-01 (older SDKs),
//! with signing name `monitoring`. All three run the same operation modules (`ops/`).

use std::sync::LazyLock;

use freshet_protocol::query::QueryModel;
use freshet_protocol::{
    ApiError, ApiRequest, Protocol, Response, Route, Service, ServiceInfo, input_of,
};
use futures_util::future::BoxFuture;

use crate::CloudWatch;
use crate::error::WIRE;
use crate::ops::{Ctx, dispatch};

/// Target prefix of JSON 1.0 operations and the RPC v2 CBOR service segment.
pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";
/// The Query API version.
pub const API_VERSION: &str = "2010-08-01";

static INFO: LazyLock<ServiceInfo> = LazyLock::new(|| ServiceInfo {
    name: "CloudWatch",
    signing_name: "monitoring",
    routes: vec![
        Route::Target {
            prefix: TARGET_PREFIX,
            protocols: &[Protocol::Json10],
        },
        Route::RpcV2Cbor {
            service: TARGET_PREFIX,
        },
        Route::Query {
            version: API_VERSION,
        },
    ],
});

/// The CloudWatch API over a [`CloudWatch`] service.
#[derive(Debug, Clone)]
pub struct CloudWatchService {
    cw: CloudWatch,
}

impl CloudWatchService {
    /// The API over `cw`.
    pub fn new(cw: CloudWatch) -> Self {
        Self { cw }
    }

    /// The service behind the API.
    pub fn cloudwatch(&self) -> &CloudWatch {
        &self.cw
    }
}

impl Service for CloudWatchService {
    fn info(&self) -> &ServiceInfo {
        &INFO
    }

    fn call(&self, req: ApiRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            let (op, input) = match input_of(&req, Some(QueryModel::cloudwatch())) {
                Ok(x) => x,
                Err(resp) => return resp,
            };
            let ctx = Ctx {
                cw: &self.cw,
                protocol: req.protocol,
            };
            dispatch(&ctx, &op, input).await
        })
    }
}

/// The answer to an operation CloudWatch does not have.
pub(crate) fn unknown_operation(op: &str, protocol: Protocol) -> Response {
    let e = ApiError::new(
        "UnknownOperationException",
        400,
        format!("CloudWatch has no operation {op}."),
    )
    .with_query_code("InvalidAction");
    WIRE.error_response(&e, protocol)
}

/// Every operation of the CloudWatch model (botocore 1.43).
const MODEL_OPERATIONS: &[&str] = &[
    "DeleteAlarmMuteRule",
    "DeleteAlarms",
    "DeleteAnomalyDetector",
    "DeleteDashboards",
    "DeleteInsightRules",
    "DeleteMetricStream",
    "DescribeAlarmContributors",
    "DescribeAlarmHistory",
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAnomalyDetectors",
    "DescribeInsightRules",
    "DisableAlarmActions",
    "DisableInsightRules",
    "EnableAlarmActions",
    "EnableInsightRules",
    "GetAlarmMuteRule",
    "GetDashboard",
    "GetInsightRuleReport",
    "GetMetricData",
    "GetMetricStatistics",
    "GetMetricStream",
    "GetMetricWidgetImage",
    "GetOTelEnrichment",
    "ListAlarmMuteRules",
    "ListDashboards",
    "ListManagedInsightRules",
    "ListMetricStreams",
    "ListMetrics",
    "ListTagsForResource",
    "PutAlarmMuteRule",
    "PutAnomalyDetector",
    "PutCompositeAlarm",
    "PutDashboard",
    "PutInsightRule",
    "PutManagedInsightRules",
    "PutMetricAlarm",
    "PutMetricData",
    "PutMetricStream",
    "SetAlarmState",
    "StartMetricStreams",
    "StartOTelEnrichment",
    "StopMetricStreams",
    "StopOTelEnrichment",
    "TagResource",
    "UntagResource",
];

/// Whether `op` is an operation of the CloudWatch model.
pub(crate) fn is_model_operation(op: &str) -> bool {
    MODEL_OPERATIONS.contains(&op)
}
