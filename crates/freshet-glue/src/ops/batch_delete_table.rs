// SPDX-License-Identifier: Apache-2.0
//! BatchDeleteTable.

use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{catalog_id, opt, required_name, text};
use crate::Glue;
use crate::api::code_of;

pub(crate) struct BatchDeleteTable;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    tables_to_delete: Option<JList<JStr>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    errors: Vec<TableErrorDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TableErrorDto {
    table_name: String,
    error_detail: ErrorDetailDto,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorDetailDto {
    error_code: &'static str,
    error_message: String,
}

impl Operation<Glue> for BatchDeleteTable {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        v.required("tablesToDelete", &i.tables_to_delete);
        if let Some(list) = &i.tables_to_delete {
            let names: Vec<String> = list.0.iter().map(|s| s.0.clone()).collect();
            v.list_len(
                "tablesToDelete",
                Some(names.len()),
                &format!("[{}]", names.join(", ")),
                0,
                100,
            );
        }
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let names: Vec<String> = i
            .tables_to_delete
            .map(|l| l.0.into_iter().map(|s| s.0).collect())
            .unwrap_or_default();
        let errors = glue.batch_delete_tables(catalog, text(&i.database_name), &names)?;
        Ok(Output {
            errors: errors
                .into_iter()
                .map(|(table_name, e)| TableErrorDto {
                    table_name,
                    error_detail: ErrorDetailDto {
                        error_code: code_of(e.kind()).0,
                        error_message: e.to_string(),
                    },
                })
                .collect(),
        })
    }
}
