// SPDX-License-Identifier: Apache-2.0
//! GetDatabase.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{DatabaseDto, catalog_id, opt, required_name, text};
use crate::Glue;

pub(crate) struct GetDatabase;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    name: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    database: DatabaseDto,
}

impl Operation<Glue> for GetDatabase {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "name", &i.name);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let r = glue.get_database(catalog, text(&i.name))?;
        Ok(Output {
            database: DatabaseDto::new(r, catalog),
        })
    }
}
