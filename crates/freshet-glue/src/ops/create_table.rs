// SPDX-License-Identifier: Apache-2.0
//! CreateTable.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{catalog_id, name, opt, required_name, table_input, text};
use crate::Glue;
use crate::shapes::TableInput;

pub(crate) struct CreateTable;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    name: Option<JStr>,
    table_input: Option<TableInput>,
}

impl Operation<Glue> for CreateTable {
    type Input = Input;
    type Output = serde_json::Map<String, serde_json::Value>;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        name(v, "name", &i.name);
        table_input(v, &i.table_input);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Self::Output, ApiError> {
        let mut input = match (i.table_input, &i.name) {
            (Some(t), _) => t,
            // The newer top-level `Name` (open table formats) names a table without a document.
            (None, Some(n)) => TableInput {
                name: Some(n.0.clone()),
                ..TableInput::default()
            },
            (None, None) => {
                return Err(
                    crate::GlueError::InvalidInput("TableInput is required.".to_owned()).into(),
                );
            }
        };
        if input.name.is_none() {
            input.name = i.name.map(|n| n.0);
        }
        let catalog = glue.catalog(opt(&i.catalog_id)).to_owned();
        glue.create_table(&catalog, text(&i.database_name), input)?;
        Ok(serde_json::Map::new())
    }
}
