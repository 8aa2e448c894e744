// SPDX-License-Identifier: Apache-2.0
//! GetTables.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{TableDto, catalog_id, max_results, opt, page_size, required_name, text};
use crate::Glue;

pub(crate) struct GetTables;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    expression: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    table_list: Vec<TableDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Operation<Glue> for GetTables {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        v.string("expression", opt(&i.expression), 0, Some(2048), None);
        max_results(v, &i.max_results, 100);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let page = glue.list_tables(
            catalog,
            text(&i.database_name),
            opt(&i.expression),
            opt(&i.next_token),
            page_size(&i.max_results, 100),
        )?;
        Ok(Output {
            table_list: page
                .items
                .into_iter()
                .map(|t| TableDto::new(t, catalog))
                .collect(),
            next_token: page.next_token,
        })
    }
}
