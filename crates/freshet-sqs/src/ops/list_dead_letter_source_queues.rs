// SPDX-License-Identifier: Apache-2.0
//! ListDeadLetterSourceQueues: the queues whose RedrivePolicy targets this one. The output
//! member is `queueUrls` (lower case), always present.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::Ctx;

pub(crate) struct ListDeadLetterSourceQueues;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {
    #[serde(rename = "queueUrls")]
    queue_urls: Vec<String>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl<'a> Operation<Ctx<'a>> for ListDeadLetterSourceQueues {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let page = ctx
            .sqs
            .dead_letter_sources(
                &q,
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
