// SPDX-License-Identifier: Apache-2.0
//! ListQueues: by name prefix, paged only when MaxResults is given.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::Ctx;

pub(crate) struct ListQueues;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_name_prefix: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    queue_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl<'a> Operation<Ctx<'a>> for ListQueues {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let page = ctx
            .sqs
            .list_queues(
                i.queue_name_prefix.as_ref().map(|p| p.0.as_str()),
                i.max_results.map(|m| m.0),
                i.next_token.as_ref().map(|t| t.0.as_str()),
            )
            .map_err(|e| ctx.err(e))?;
        Ok(Output {
            queue_urls: page.names.iter().map(|n| ctx.url(n)).collect(),
            next_token: page.next_token,
        })
    }
}
