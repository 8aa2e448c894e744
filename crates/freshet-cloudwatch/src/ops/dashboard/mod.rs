// SPDX-License-Identifier: Apache-2.0
//! The dashboard operations: PutDashboard, GetDashboard, ListDashboards, DeleteDashboards.

use freshet_protocol::json::{JList, JStr, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Input, Operation, Response, run_input};
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::error::{CwError, WIRE};

/// Routes one of the dashboard operations.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    macro_rules! run {
        ($t:ty) => {
            run_input::<Ctx<'_>, $t>(ctx, op, input, &WIRE).await
        };
    }
    match op {
        "PutDashboard" => run!(PutDashboard),
        "GetDashboard" => run!(GetDashboard),
        "ListDashboards" => run!(ListDashboards),
        "DeleteDashboards" => run!(DeleteDashboards),
        _ => crate::api::unknown_operation(op, input.protocol()),
    }
}

/// Entries per ListDashboards page (AWS: 1000).
const PAGE: usize = 1000;

fn required<T>(v: Option<T>, name: &str) -> Result<T, CwError> {
    v.ok_or_else(|| CwError::MissingParameter(format!("The parameter {name} is required.")))
}

fn arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!("arn:aws:cloudwatch::{}:dashboard/{name}", ctx.cw.account.id)
}

/// `DashboardValidationMessage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ValidationMessage {
    data_path: String,
    message: String,
}

pub(crate) struct PutDashboard;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutDashboardInput {
    dashboard_name: Option<JStr>,
    dashboard_body: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutDashboardOutput {
    dashboard_validation_messages: Vec<ValidationMessage>,
}

impl<'a> Operation<Ctx<'a>> for PutDashboard {
    type Input = PutDashboardInput;
    type Output = PutDashboardOutput;

    fn validate(_: &PutDashboardInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: PutDashboardInput) -> Result<PutDashboardOutput, ApiError> {
        let name = required(i.dashboard_name, "DashboardName")?.0;
        let body = required(i.dashboard_body, "DashboardBody")?.0;
        let warnings = ctx.cw.dashboards.put(&name, &body)?;
        Ok(PutDashboardOutput {
            dashboard_validation_messages: warnings
                .into_iter()
                .map(|(data_path, message)| ValidationMessage { data_path, message })
                .collect(),
        })
    }
}

pub(crate) struct GetDashboard;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetDashboardInput {
    dashboard_name: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetDashboardOutput {
    dashboard_arn: String,
    dashboard_body: String,
    dashboard_name: String,
}

impl<'a> Operation<Ctx<'a>> for GetDashboard {
    type Input = GetDashboardInput;
    type Output = GetDashboardOutput;

    fn validate(_: &GetDashboardInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: GetDashboardInput) -> Result<GetDashboardOutput, ApiError> {
        let name = required(i.dashboard_name, "DashboardName")?.0;
        let d = ctx.cw.dashboards.get(&name)?.ok_or_else(|| {
            CwError::DashboardNotFound(format!("Dashboard {name} does not exist"))
        })?;
        Ok(GetDashboardOutput {
            dashboard_arn: arn(ctx, &d.name),
            dashboard_body: d.body,
            dashboard_name: d.name,
        })
    }
}

pub(crate) struct ListDashboards;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDashboardsInput {
    dashboard_name_prefix: Option<JStr>,
    next_token: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DashboardEntry {
    dashboard_name: String,
    dashboard_arn: String,
    last_modified: Timestamp,
    size: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDashboardsOutput {
    dashboard_entries: Vec<DashboardEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl<'a> Operation<Ctx<'a>> for ListDashboards {
    type Input = ListDashboardsInput;
    type Output = ListDashboardsOutput;

    fn validate(_: &ListDashboardsInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: ListDashboardsInput) -> Result<ListDashboardsOutput, ApiError> {
        let prefix = i.dashboard_name_prefix.map(|p| p.0).unwrap_or_default();
        // The token is the last name of the previous page.
        let after = i.next_token.map(|t| t.0);
        let mut page = ctx
            .cw
            .dashboards
            .list(&prefix, after.as_deref(), PAGE + 1)?;
        let next_token = if page.len() > PAGE {
            page.truncate(PAGE);
            page.last().map(|d| d.name.clone())
        } else {
            None
        };
        Ok(ListDashboardsOutput {
            dashboard_entries: page
                .into_iter()
                .map(|d| DashboardEntry {
                    dashboard_arn: arn(ctx, &d.name),
                    last_modified: Timestamp(d.last_modified_ms),
                    size: d.size(),
                    dashboard_name: d.name,
                })
                .collect(),
            next_token,
        })
    }
}

pub(crate) struct DeleteDashboards;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteDashboardsInput {
    dashboard_names: Option<JList<JStr>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

impl<'a> Operation<Ctx<'a>> for DeleteDashboards {
    type Input = DeleteDashboardsInput;
    type Output = Empty;

    fn validate(_: &DeleteDashboardsInput, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: DeleteDashboardsInput) -> Result<Empty, ApiError> {
        let names: Vec<String> = required(i.dashboard_names, "DashboardNames")?
            .0
            .into_iter()
            .map(|s| s.0)
            .collect();
        ctx.cw.dashboards.delete(&names)?;
        Ok(Empty {})
    }
}
