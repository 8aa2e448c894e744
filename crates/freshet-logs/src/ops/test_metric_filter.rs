// SPDX-License-Identifier: Apache-2.0
//! TestMetricFilter.

use std::collections::BTreeMap;

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use serde::{Deserialize, Serialize};

use super::{Checked, LogsOp, filter_pattern, text};
use crate::error::Error;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    filter_pattern: Option<JStr>,
    log_event_messages: Option<JList<JStr>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchDto {
    event_number: u64,
    event_message: String,
    extracted_values: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    matches: Vec<MatchDto>,
}

pub(crate) struct TestMetricFilter;

impl Checked for TestMetricFilter {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("filterPattern", &i.filter_pattern);
        filter_pattern(v, "filterPattern", &i.filter_pattern);
        v.required("logEventMessages", &i.log_event_messages);
        if let Some(list) = &i.log_event_messages {
            let shown: Vec<&str> = list.0.iter().map(|s| s.0.as_str()).collect();
            let shown = format!("[{}]", shown.join(", "));
            v.list_len("logEventMessages", Some(list.0.len()), &shown, 1, 50);
            if list.0.iter().any(|m| m.0.is_empty()) {
                v.fail(
                    freshet_protocol::validate::Shown::Text(&shown),
                    "logEventMessages",
                    "Member must satisfy constraint: [Member must have length greater than or equal to 1]",
                );
            }
        }
    }
}

impl LogsOp for TestMetricFilter {
    type Output = Output;

    async fn call(logs: &Logs, i: Input) -> Result<Output, Error> {
        let messages: Vec<String> = i
            .log_event_messages
            .map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default();
        let matches =
            logs.test_metric_filter(text(&i.filter_pattern).unwrap_or_default(), &messages)?;
        Ok(Output {
            matches: matches
                .into_iter()
                .map(|m| MatchDto {
                    event_number: m.event_number,
                    event_message: m.event_message,
                    extracted_values: m.extracted_values,
                })
                .collect(),
        })
    }
}
