// SPDX-License-Identifier: Apache-2.0
//! DeleteDatabase (its tables go with it).

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use super::{catalog_id, opt, required_name, text};
use crate::Glue;

pub(crate) struct DeleteDatabase;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    name: Option<JStr>,
}

impl Operation<Glue> for DeleteDatabase {
    type Input = Input;
    type Output = serde_json::Map<String, serde_json::Value>;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "name", &i.name);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Self::Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id)).to_owned();
        glue.delete_database(&catalog, text(&i.name))?;
        Ok(serde_json::Map::new())
    }
}
