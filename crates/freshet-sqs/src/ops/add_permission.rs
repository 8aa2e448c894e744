// SPDX-License-Identifier: Apache-2.0
//! AddPermission: a statement in the queue's Policy (stored, not enforced).

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{Ctx, required, strings};
use crate::error::Error;

pub(crate) struct AddPermission;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    queue_url: Option<JStr>,
    label: Option<JStr>,
    #[serde(rename = "AWSAccountIds")]
    aws_account_ids: Option<JList<JStr>>,
    actions: Option<JList<JStr>>,
}

/// A permission label: 1–80 of `[A-Za-z0-9_-]`.
pub(crate) fn check_label(label: &str) -> Result<(), Error> {
    let ok = !label.is_empty()
        && label.len() <= 80
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_value(
            label,
            "Label",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ))
    }
}

impl<'a> Operation<Ctx<'a>> for AddPermission {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<(), ApiError> {
        let q = ctx.queue(i.queue_url)?;
        let label = required(i.label, "Label")?;
        check_label(&label).map_err(|e| ctx.err(e))?;
        let accounts = strings(i.aws_account_ids);
        let actions = strings(i.actions);
        ctx.sqs
            .add_permission(&q, &label, &accounts, &actions)
            .await
            .map_err(|e| ctx.err(e))
    }
}
