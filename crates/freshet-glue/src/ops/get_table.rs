// SPDX-License-Identifier: Apache-2.0
//! GetTable.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{TableDto, catalog_id, opt, required_name, text};
use crate::Glue;

pub(crate) struct GetTable;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    name: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    table: TableDto,
}

impl Operation<Glue> for GetTable {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        required_name(v, "name", &i.name);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let r = glue.get_table(catalog, text(&i.database_name), text(&i.name))?;
        Ok(Output {
            table: TableDto::new(r, catalog),
        })
    }
}
