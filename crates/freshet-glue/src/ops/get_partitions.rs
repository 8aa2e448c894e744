// SPDX-License-Identifier: Apache-2.0
//! GetPartitions: partitions are not stored, so an existing table has none.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{catalog_id, opt, required_name, text};
use crate::Glue;

pub(crate) struct GetPartitions;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    database_name: Option<JStr>,
    table_name: Option<JStr>,
    expression: Option<JStr>,
    max_results: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    partitions: Vec<serde_json::Value>,
}

impl Operation<Glue> for GetPartitions {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        required_name(v, "databaseName", &i.database_name);
        required_name(v, "tableName", &i.table_name);
        v.string("expression", opt(&i.expression), 0, Some(2048), None);
        v.int(
            "maxResults",
            i.max_results.as_ref().map(|n| n.0),
            Some(1),
            Some(1000),
        );
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        glue.get_table(catalog, text(&i.database_name), text(&i.table_name))?;
        Ok(Output {
            partitions: Vec::new(),
        })
    }
}
