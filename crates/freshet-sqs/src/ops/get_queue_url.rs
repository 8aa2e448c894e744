// SPDX-License-Identifier: Apache-2.0
//! GetQueueUrl.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, required};
use crate::error::Error;

pub(crate) struct GetQueueUrl;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_name: Option<JStr>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    queue_url: String,
}

impl<'a> Operation<Ctx<'a>> for GetQueueUrl {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let name = required(i.queue_name, "QueueName")?;
        if let Some(owner) = i.queue_owner_aws_account_id
            && owner.0 != ctx.sqs.options().account_id
        {
            return Err(ctx.err(Error::QueueDoesNotExist));
        }
        let q = ctx.sqs.queue(&name).map_err(|e| ctx.err(e))?;
        Ok(Output {
            queue_url: ctx.url(&q.name),
        })
    }
}
