// SPDX-License-Identifier: Apache-2.0
//! GetQueueAttributes: none asked, none given; `All` for every one.

use std::collections::BTreeMap;

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, strings};

pub(crate) struct GetQueueAttributes;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    attribute_names: Option<JList<JStr>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
}

impl<'a> Operation<Ctx<'a>> for GetQueueAttributes {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let names = strings(i.attribute_names);
        let attributes = ctx
            .sqs
            .queue_attributes(&q, &names)
            .map_err(|e| ctx.err(e))?;
        Ok(Output { attributes })
    }
}
