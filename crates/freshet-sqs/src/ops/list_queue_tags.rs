// SPDX-License-Identifier: Apache-2.0
//! ListQueueTags.

use std::collections::BTreeMap;

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::Ctx;

pub(crate) struct ListQueueTags;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
}

impl<'a> Operation<Ctx<'a>> for ListQueueTags {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let tags = ctx.sqs.queue_tags(&q).map_err(|e| ctx.err(e))?;
        Ok(Output { tags })
    }
}
