// SPDX-License-Identifier: Apache-2.0
//! CreateDatabase.

use std::collections::BTreeMap;

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{catalog_id, database_input, opt};
use crate::Glue;
use crate::shapes::DatabaseInput;

pub(crate) struct CreateDatabase;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_input: Option<DatabaseInput>,
    /// Accepted; tags are not stored.
    #[allow(dead_code)]
    tags: Option<BTreeMap<String, String>>,
}

impl Operation<Glue> for CreateDatabase {
    type Input = Input;
    type Output = serde_json::Map<String, serde_json::Value>;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        v.required("databaseInput", &i.database_input);
        database_input(v, &i.database_input);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Self::Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id)).to_owned();
        glue.create_database(&catalog, i.database_input.unwrap_or_default())?;
        Ok(serde_json::Map::new())
    }
}
