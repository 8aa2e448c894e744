// SPDX-License-Identifier: Apache-2.0
//! CreateQueue: a new queue, or the existing one when every given attribute matches.

use freshet_protocol::json::{JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, required};

pub(crate) struct CreateQueue;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_name: Option<JStr>,
    attributes: Option<JMap>,
    #[serde(rename = "tags")]
    tags: Option<JMap>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    queue_url: String,
}

impl<'a> Operation<Ctx<'a>> for CreateQueue {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let name = required(i.queue_name, "QueueName")?;
        let attributes = i.attributes.map(|m| m.0).unwrap_or_default();
        let tags = i.tags.map(|m| m.0).unwrap_or_default();
        let name = ctx
            .sqs
            .create_queue(&name, &attributes, &tags)
            .await
            .map_err(|e| ctx.err(e))?;
        Ok(Output {
            queue_url: ctx.url(&name),
        })
    }
}
