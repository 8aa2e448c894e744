// SPDX-License-Identifier: Apache-2.0
//! UpdateDatabase.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{catalog_id, database_input, opt, required_name, text};
use crate::Glue;
use crate::shapes::DatabaseInput;

pub(crate) struct UpdateDatabase;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    name: Option<JStr>,
    database_input: Option<DatabaseInput>,
}

impl Operation<Glue> for UpdateDatabase {
    type Input = Input;
    type Output = serde_json::Map<String, serde_json::Value>;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "name", &i.name);
        v.required("databaseInput", &i.database_input);
        database_input(v, &i.database_input);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Self::Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id)).to_owned();
        glue.update_database(
            &catalog,
            text(&i.name),
            i.database_input.unwrap_or_default(),
        )?;
        Ok(serde_json::Map::new())
    }
}
