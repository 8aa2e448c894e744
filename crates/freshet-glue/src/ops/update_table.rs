// SPDX-License-Identifier: Apache-2.0
//! UpdateTable: a new table version.

use freshet_protocol::json::{JBool, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{catalog_id, name, opt, required_name, table_input, text};
use crate::shapes::TableInput;
use crate::{Glue, GlueError};

pub(crate) struct UpdateTable;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    name: Option<JStr>,
    table_input: Option<TableInput>,
    skip_archive: Option<JBool>,
    version_id: Option<JStr>,
}

impl Operation<Glue> for UpdateTable {
    type Input = Input;
    type Output = serde_json::Map<String, serde_json::Value>;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        name(v, "name", &i.name);
        table_input(v, &i.table_input);
        name(v, "versionId", &i.version_id);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Self::Output, ApiError> {
        let Some(input) = i.table_input else {
            return Err(GlueError::InvalidInput("TableInput is required.".to_owned()).into());
        };
        if let (Some(n), Some(t)) = (&i.name, &input.name)
            && !n.0.eq_ignore_ascii_case(t)
        {
            return Err(GlueError::InvalidInput(
                "Table name in TableInput must match the Name of the table to update.".to_owned(),
            )
            .into());
        }
        let catalog = glue.catalog(opt(&i.catalog_id)).to_owned();
        glue.update_table(
            &catalog,
            text(&i.database_name),
            input,
            i.skip_archive.is_some_and(|b| b.0),
            opt(&i.version_id),
        )?;
        Ok(serde_json::Map::new())
    }
}
