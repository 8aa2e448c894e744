// SPDX-License-Identifier: Apache-2.0
//! PutQueryDefinition, DescribeQueryDefinitions and DeleteQueryDefinition: saved queries,
//! durable in the metadata store. `clientToken` and `parameters` are accepted and not kept.

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::describe_queries::offset_page;
use super::start_query::{InsightsOp, LANGUAGES, check_language, names_list};
use super::{Checked, next_token, text};
use crate::insights::definitions::PutDefinition;
use crate::insights::error::QueryError;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutInput {
    query_language: Option<JStr>,
    name: Option<JStr>,
    query_definition_id: Option<JStr>,
    log_group_names: Option<JList<JStr>>,
    query_string: Option<JStr>,
    client_token: Option<JStr>,
    #[allow(dead_code)]
    parameters: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutOutput {
    query_definition_id: String,
}

pub(crate) struct PutQueryDefinition;

impl Checked for PutQueryDefinition {
    type Input = PutInput;

    fn validate(i: &PutInput, v: &mut Validator) {
        v.one_of("queryLanguage", text(&i.query_language), LANGUAGES);
        v.required("name", &i.name);
        v.string("name", text(&i.name), 1, Some(255), None);
        v.string(
            "queryDefinitionId",
            text(&i.query_definition_id),
            1,
            Some(256),
            None,
        );
        names_list(v, "logGroupNames", &i.log_group_names, 512);
        v.required("queryString", &i.query_string);
        v.string("queryString", text(&i.query_string), 1, Some(10_000), None);
        v.string("clientToken", text(&i.client_token), 36, Some(128), None);
    }
}

impl InsightsOp for PutQueryDefinition {
    type Output = PutOutput;

    async fn call(logs: &Logs, i: PutInput) -> Result<PutOutput, QueryError> {
        check_language(&i.query_language)?;
        let id = logs
            .put_query_definition(PutDefinition {
                id: i.query_definition_id.map(|s| s.0),
                name: i.name.map(|s| s.0).unwrap_or_default(),
                query_string: i.query_string.map(|s| s.0).unwrap_or_default(),
                log_group_names: i
                    .log_group_names
                    .map(|l| l.0.into_iter().map(|s| s.0).collect())
                    .unwrap_or_default(),
            })
            .await?;
        Ok(PutOutput {
            query_definition_id: id,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeInput {
    query_language: Option<JStr>,
    query_definition_name_prefix: Option<JStr>,
    max_results: Option<JInt>,
    next_token: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryDefinition {
    query_language: &'static str,
    query_definition_id: String,
    name: String,
    query_string: String,
    last_modified: i64,
    log_group_names: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeOutput {
    query_definitions: Vec<QueryDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) struct DescribeQueryDefinitions;

impl Checked for DescribeQueryDefinitions {
    type Input = DescribeInput;

    fn validate(i: &DescribeInput, v: &mut Validator) {
        v.one_of("queryLanguage", text(&i.query_language), LANGUAGES);
        v.string(
            "queryDefinitionNamePrefix",
            text(&i.query_definition_name_prefix),
            1,
            Some(255),
            None,
        );
        v.int(
            "maxResults",
            i.max_results.map(|n| n.0),
            Some(1),
            Some(1000),
        );
        next_token(v, &i.next_token);
    }
}

impl InsightsOp for DescribeQueryDefinitions {
    type Output = DescribeOutput;

    async fn call(logs: &Logs, i: DescribeInput) -> Result<DescribeOutput, QueryError> {
        check_language(&i.query_language)?;
        let all = logs
            .query_definitions(i.query_definition_name_prefix.map(|s| s.0))
            .await?;
        let (page, next) = offset_page(all, text(&i.next_token), "d", i.max_results.map(|n| n.0))?;
        Ok(DescribeOutput {
            query_definitions: page
                .into_iter()
                .map(|d| QueryDefinition {
                    query_language: "CWLI",
                    query_definition_id: d.id,
                    name: d.name,
                    query_string: d.query_string,
                    last_modified: d.last_modified_ms,
                    log_group_names: d.log_group_names,
                })
                .collect(),
            next_token: next,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteInput {
    query_definition_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DeleteOutput {
    success: bool,
}

pub(crate) struct DeleteQueryDefinition;

impl Checked for DeleteQueryDefinition {
    type Input = DeleteInput;

    fn validate(i: &DeleteInput, v: &mut Validator) {
        v.required("queryDefinitionId", &i.query_definition_id);
        v.string(
            "queryDefinitionId",
            text(&i.query_definition_id),
            1,
            Some(256),
            None,
        );
    }
}

impl InsightsOp for DeleteQueryDefinition {
    type Output = DeleteOutput;

    async fn call(logs: &Logs, i: DeleteInput) -> Result<DeleteOutput, QueryError> {
        let id = i.query_definition_id.map(|s| s.0).unwrap_or_default();
        logs.delete_query_definition(id).await?;
        Ok(DeleteOutput { success: true })
    }
}
