// SPDX-License-Identifier: Apache-2.0
//! GetTableVersion.

use freshet_protocol::json::JStr;
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{TableDto, catalog_id, name, opt, required_name, text};
use crate::Glue;

pub(crate) struct GetTableVersion;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    table_name: Option<JStr>,
    version_id: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    table_version: VersionDto,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VersionDto {
    table: TableDto,
    version_id: String,
}

impl VersionDto {
    pub(crate) fn new(r: crate::catalog::TableRecord, catalog: &str) -> Self {
        let version_id = r.version.to_string();
        VersionDto {
            table: TableDto::new(r, catalog),
            version_id,
        }
    }
}

impl Operation<Glue> for GetTableVersion {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        required_name(v, "tableName", &i.table_name);
        name(v, "versionId", &i.version_id);
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let r = glue.get_table_version(
            catalog,
            text(&i.database_name),
            text(&i.table_name),
            opt(&i.version_id),
        )?;
        Ok(Output {
            table_version: VersionDto::new(r, catalog),
        })
    }
}
