// SPDX-License-Identifier: Apache-2.0
//! StartQuery, and how the Logs Insights operations run: the shared decode and checks of
//! [`super::decode`], then the domain, whose [`QueryError`]s carry their own wire codes
//! (MalformedQueryException has a `queryCompileError` member).

use std::future::Future;

use freshet_protocol::json::{JInt, JList, JStr};
use freshet_protocol::validate::{StringMember, Validator};
use freshet_protocol::{ApiError, Protocol, Response, encode_output};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Checked, JLong, WIRE, check_long_names, decode, group_name, text, timestamp};
use crate::insights::error::QueryError;
use crate::insights::queries::StartQuery as Start;
use crate::service::Logs;

/// One Logs Insights operation.
pub(crate) trait InsightsOp: Checked<Input: DeserializeOwned> {
    /// Response DTO.
    type Output: Serialize;
    /// Runs the operation.
    fn call(
        logs: &Logs,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, QueryError>> + Send;
}

/// Decodes, checks, calls and encodes one Logs Insights operation.
pub(crate) async fn run<O: InsightsOp>(logs: &Logs, protocol: Protocol, body: &[u8]) -> Response {
    let r = async {
        let input = decode::<O>(protocol, body)?;
        let output = O::call(logs, input).await.map_err(ApiError::from)?;
        Ok::<_, ApiError>(Response::ok(protocol, encode_output(protocol, &output)?))
    };
    match r.await {
        Ok(r) => r,
        Err(e) => WIRE.error_response(&e, protocol),
    }
}

/// The query languages of the model; Freshet runs CWLI.
pub(crate) const LANGUAGES: &[&str] = &["CWLI", "SQL", "PPL"];

/// Refuses the query languages Freshet does not run.
pub(crate) fn check_language(l: &Option<JStr>) -> Result<(), QueryError> {
    match text(l) {
        None | Some("CWLI") => Ok(()),
        Some(other) => Err(QueryError::Invalid(format!(
            "Freshet runs CloudWatch Logs Insights queries (queryLanguage CWLI) only, not {other}."
        ))),
    }
}

/// A `LogGroupNames` or `LogGroupIdentifiers` list.
pub(crate) fn names_list(v: &mut Validator, path: &str, l: &Option<JList<JStr>>, max_len: usize) {
    let names: Option<Vec<String>> = l
        .as_ref()
        .map(|l| l.0.iter().map(|s| s.0.clone()).collect());
    v.string_list(
        path,
        names.as_deref(),
        (0, 50),
        StringMember::Length(1, max_len),
    );
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    query_language: Option<JStr>,
    log_group_name: Option<JStr>,
    log_group_names: Option<JList<JStr>>,
    log_group_identifiers: Option<JList<JStr>>,
    start_time: Option<JLong>,
    end_time: Option<JLong>,
    query_string: Option<JStr>,
    limit: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    query_id: String,
}

pub(crate) struct StartQuery;

impl Checked for StartQuery {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), crate::error::Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        v.one_of("queryLanguage", text(&i.query_language), LANGUAGES);
        group_name(v, "logGroupName", &i.log_group_name, false);
        names_list(v, "logGroupNames", &i.log_group_names, 512);
        names_list(v, "logGroupIdentifiers", &i.log_group_identifiers, 2048);
        v.required("startTime", &i.start_time);
        timestamp(v, "startTime", i.start_time);
        v.required("endTime", &i.end_time);
        timestamp(v, "endTime", i.end_time);
        v.required("queryString", &i.query_string);
        v.string("queryString", text(&i.query_string), 0, Some(10_000), None);
        v.int("limit", i.limit.map(|n| n.0), Some(1), Some(100_000));
    }
}

impl InsightsOp for StartQuery {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, QueryError> {
        check_language(&i.query_language)?;
        let given = [
            i.log_group_name.is_some(),
            i.log_group_names.is_some(),
            i.log_group_identifiers.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(QueryError::Invalid(
                "logGroupName, logGroupNames and logGroupIdentifiers are mutually exclusive \
                 parameters."
                    .to_owned(),
            ));
        }
        let mut groups: Vec<String> = Vec::new();
        if let Some(n) = i.log_group_name {
            groups.push(n.0);
        }
        for l in [i.log_group_names, i.log_group_identifiers]
            .into_iter()
            .flatten()
        {
            groups.extend(l.0.into_iter().map(|s| s.0));
        }
        let id = logs.start_query(Start {
            groups,
            start_s: i.start_time.map_or(0, |t| t.0),
            end_s: i.end_time.map_or(0, |t| t.0),
            query_string: i.query_string.map(|s| s.0).unwrap_or_default(),
            limit: i.limit.and_then(|n| usize::try_from(n.0).ok()),
        })?;
        Ok(Output { query_id: id })
    }
}
