// SPDX-License-Identifier: Apache-2.0
//! GetTableVersions (newest first).

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::get_table_version::VersionDto;
use super::{catalog_id, max_results, opt, page_size, required_name, text};
use crate::Glue;

pub(crate) struct GetTableVersions;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    table_name: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    table_versions: Vec<VersionDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Operation<Glue> for GetTableVersions {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        required_name(v, "tableName", &i.table_name);
        max_results(v, &i.max_results, 100);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let page = glue.list_table_versions(
            catalog,
            text(&i.database_name),
            text(&i.table_name),
            opt(&i.next_token),
            page_size(&i.max_results, 100),
        )?;
        Ok(Output {
            table_versions: page
                .items
                .into_iter()
                .map(|r| VersionDto::new(r, catalog))
                .collect(),
            next_token: page.next_token,
        })
    }
}
