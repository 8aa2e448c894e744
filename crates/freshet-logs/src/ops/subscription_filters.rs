// SPDX-License-Identifier: Apache-2.0
//! PutSubscriptionFilter, DescribeSubscriptionFilters and DeleteSubscriptionFilter.

use freshet_protocol::json::{JBool, JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::metric_filters::{DeleteInput, DeleteMetricFilter};
use super::{
    Checked, Empty, LogsOp, check_long_names, count, filter_pattern, group_name, limit, next_token,
    owned, stream_name, text,
};
use crate::error::Error;
use crate::service::Logs;
use crate::subscriptions::{Distribution, PutSubscriptionFilter as Put};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    log_group_name: Option<JStr>,
    filter_name: Option<JStr>,
    filter_pattern: Option<JStr>,
    destination_arn: Option<JStr>,
    role_arn: Option<JStr>,
    distribution: Option<JStr>,
    apply_on_transformed_logs: Option<JBool>,
    field_selection_criteria: Option<JStr>,
    emit_system_fields: Option<JList<JStr>>,
}

pub(crate) struct PutSubscriptionFilter;

impl Checked for PutSubscriptionFilter {
    type Input = PutInput;

    fn precheck(i: &PutInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &PutInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "filterName", &i.filter_name, true);
        v.required("filterPattern", &i.filter_pattern);
        filter_pattern(v, "filterPattern", &i.filter_pattern);
        v.required("destinationArn", &i.destination_arn);
        v.string("destinationArn", text(&i.destination_arn), 1, None, None);
        v.string("roleArn", text(&i.role_arn), 1, None, None);
        v.one_of(
            "distribution",
            text(&i.distribution),
            &["Random", "ByLogStream"],
        );
        v.string(
            "fieldSelectionCriteria",
            text(&i.field_selection_criteria),
            0,
            Some(2000),
            None,
        );
    }
}

impl LogsOp for PutSubscriptionFilter {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: PutInput) -> Result<Empty, Error> {
        let distribution = match text(&i.distribution) {
            Some("Random") => Some(Distribution::Random),
            Some(_) => Some(Distribution::ByLogStream),
            None => None,
        };
        logs.put_subscription_filter(Put {
            group: owned(i.log_group_name).unwrap_or_default(),
            name: owned(i.filter_name).unwrap_or_default(),
            pattern: owned(i.filter_pattern).unwrap_or_default(),
            destination_arn: owned(i.destination_arn).unwrap_or_default(),
            role_arn: owned(i.role_arn),
            distribution,
            apply_on_transformed_logs: i.apply_on_transformed_logs.is_some_and(|b| b.0),
            field_selection_criteria: owned(i.field_selection_criteria),
            emit_system_fields: i
                .emit_system_fields
                .map(|l| l.0.into_iter().map(|s| s.0).collect())
                .unwrap_or_default(),
        })
        .await?;
        Ok(Empty {})
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeInput {
    log_group_name: Option<JStr>,
    filter_name_prefix: Option<JStr>,
    next_token: Option<JStr>,
    limit: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionFilterDto {
    filter_name: String,
    log_group_name: String,
    filter_pattern: String,
    destination_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    distribution: &'static str,
    apply_on_transformed_logs: bool,
    creation_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeOutput {
    subscription_filters: Vec<SubscriptionFilterDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct DescribeSubscriptionFilters;

impl Checked for DescribeSubscriptionFilters {
    type Input = DescribeInput;

    fn precheck(i: &DescribeInput) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &DescribeInput, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        stream_name(v, "filterNamePrefix", &i.filter_name_prefix, false);
        next_token(v, &i.next_token);
        limit(v, i.limit.map(|n| n.0), 50);
    }
}

impl LogsOp for DescribeSubscriptionFilters {
    type Output = DescribeOutput;

    async fn call(logs: &Logs, i: DescribeInput) -> Result<DescribeOutput, Error> {
        let page = logs.describe_subscription_filters(
            text(&i.log_group_name).unwrap_or_default(),
            text(&i.filter_name_prefix),
            count(i.limit),
            text(&i.next_token),
        )?;
        Ok(DescribeOutput {
            subscription_filters: page
                .items
                .into_iter()
                .map(|info| {
                    let f = info.filter;
                    SubscriptionFilterDto {
                        filter_name: f.name,
                        log_group_name: info.group,
                        filter_pattern: f.pattern,
                        destination_arn: f.destination_arn,
                        role_arn: f.role_arn,
                        distribution: f.distribution.as_str(),
                        apply_on_transformed_logs: f.apply_on_transformed_logs,
                        creation_time: f.created_ms,
                    }
                })
                .collect(),
            next_token: page.next_token,
        })
    }
}

pub(crate) struct DeleteSubscriptionFilter;

/// DeleteSubscriptionFilter takes what DeleteMetricFilter takes, checked the same way.
impl Checked for DeleteSubscriptionFilter {
    type Input = DeleteInput;

    fn precheck(i: &DeleteInput) -> Result<(), Error> {
        DeleteMetricFilter::precheck(i)
    }

    fn validate(i: &DeleteInput, v: &mut Validator) {
        DeleteMetricFilter::validate(i, v)
    }
}

impl LogsOp for DeleteSubscriptionFilter {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: DeleteInput) -> Result<Empty, Error> {
        logs.delete_subscription_filter(
            text(&i.log_group_name).unwrap_or_default(),
            text(&i.filter_name).unwrap_or_default(),
        )
        .await?;
        Ok(Empty {})
    }
}
