// SPDX-License-Identifier: Apache-2.0
//! CloudWatch operations, in three groups that each route their own operations: metrics
//! (`metric/`), alarms (`alarm/`) and dashboards (`dashboard/`).

mod alarm;
mod dashboard;
mod metric;
mod shapes;

use freshet_protocol::{ApiError, Input, Protocol, Response};

use crate::CloudWatch;
use crate::error::WIRE;

/// What an operation runs with.
pub(crate) struct Ctx<'a> {
    pub cw: &'a CloudWatch,
    #[allow(dead_code)]
    pub protocol: Protocol,
}

/// Routes an operation name to its group.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    let protocol = input.protocol();
    match op {
        "PutMetricData" | "GetMetricData" | "GetMetricStatistics" | "ListMetrics" => {
            metric::dispatch(ctx, op, input).await
        }
        "PutMetricAlarm"
        | "PutCompositeAlarm"
        | "DescribeAlarms"
        | "DescribeAlarmsForMetric"
        | "DescribeAlarmHistory"
        | "SetAlarmState"
        | "EnableAlarmActions"
        | "DisableAlarmActions"
        | "DeleteAlarms"
        | "ListTagsForResource"
        | "TagResource"
        | "UntagResource" => alarm::dispatch(ctx, op, input).await,
        "PutDashboard" | "GetDashboard" | "ListDashboards" | "DeleteDashboards" => {
            dashboard::dispatch(ctx, op, input).await
        }
        _ if crate::api::is_model_operation(op) => not_supported(op, protocol),
        _ => crate::api::unknown_operation(op, protocol),
    }
}

/// The answer to an operation of the model Freshet does not run (anomaly detectors, insight
/// rules, metric streams…): 501, which SDKs do not retry, naming it.
fn not_supported(op: &str, protocol: Protocol) -> Response {
    let e = ApiError::new(
        "NotImplemented",
        501,
        format!("Freshet's CloudWatch does not run {op}."),
    )
    .with_query_code("NotImplemented");
    WIRE.error_response(&e, protocol)
}
