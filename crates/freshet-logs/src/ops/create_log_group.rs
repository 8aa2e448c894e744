// SPDX-License-Identifier: Apache-2.0
//! CreateLogGroup.

use freshet_protocol::json::{JBool, JMap, JStr};
use freshet_protocol::validate::Validator;
use serde::Deserialize;

use super::{CLASSES, Checked, Empty, LogsOp, check_long_names, group_name, owned, text};
use crate::error::Error;
use crate::model::NewGroup;
use crate::service::Logs;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    log_group_name: Option<JStr>,
    kms_key_id: Option<JStr>,
    tags: Option<JMap>,
    log_group_class: Option<JStr>,
    deletion_protection_enabled: Option<JBool>,
}

pub(crate) struct CreateLogGroup;

impl Checked for CreateLogGroup {
    type Input = Input;

    fn precheck(i: &Input) -> Result<(), Error> {
        check_long_names(&[i.log_group_name.as_ref()])
    }

    fn validate(i: &Input, v: &mut Validator) {
        group_name(v, "logGroupName", &i.log_group_name, true);
        v.string("kmsKeyId", text(&i.kms_key_id), 0, Some(256), None);
        v.string_map(
            "tags",
            i.tags.as_ref().map(|t| &t.0),
            (1, 50),
            (1, 128),
            (0, 256),
        );
        v.one_of("logGroupClass", text(&i.log_group_class), CLASSES);
    }
}

impl LogsOp for CreateLogGroup {
    type Output = Empty;
    const EMPTY_OUTPUT: bool = true;

    async fn call(logs: &Logs, i: Input) -> Result<Empty, Error> {
        let tags = i.tags.map(|t| t.0).unwrap_or_default();
        crate::tags::validate_tags("tags", &tags)?;
        logs.create_log_group(NewGroup {
            name: owned(i.log_group_name).unwrap_or_default(),
            kms_key_id: owned(i.kms_key_id),
            tags,
            class: owned(i.log_group_class),
            deletion_protection: i.deletion_protection_enabled.is_some_and(|b| b.0),
        })
        .await?;
        Ok(Empty {})
    }
}
