// SPDX-License-Identifier: Apache-2.0
//! PutLogGroupDeletionProtection.

use freshet_protocol::json::{JBool, JStr};
use freshet_protocol::validate::Validator;
use serde::Deserialize;

use super::{Checked, Empty, LogsOp, identifier, owned};
use crate::error::Error;
use crate::model::GroupRef;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_identifier: Option<JStr>,
    deletion_protection_enabled: Option<JBool>,
}

pub(crate) struct PutLogGroupDeletionProtection;

impl Checked for PutLogGroupDeletionProtection {
    type Input = Input;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("logGroupIdentifier", &i.log_group_identifier);
        identifier(v, "logGroupIdentifier", &i.log_group_identifier);
        v.required("deletionProtectionEnabled", &i.deletion_protection_enabled);
    }
}

impl LogsOp for PutLogGroupDeletionProtection {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: Input) -> Result<Empty, Error> {
        let group = GroupRef::Identifier(owned(i.log_group_identifier).unwrap_or_default());
        logs.put_deletion_protection(&group, i.deletion_protection_enabled.is_some_and(|b| b.0))
            .await?;
        Ok(Empty {})
    }
}
