// SPDX-License-Identifier: Apache-2.0
//! GetDatabases.

use freshet_protocol::json::{JInt, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{DatabaseDto, catalog_id, max_results, opt, page_size};
use crate::Glue;

pub(crate) struct GetDatabases;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    catalog_id: Option<JStr>,
    next_token: Option<JStr>,
    max_results: Option<JInt>,
    resource_share_type: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    database_list: Vec<DatabaseDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl Operation<Glue> for GetDatabases {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        catalog_id(v, &i.catalog_id);
        max_results(v, &i.max_results, 100);
        v.one_of(
            "resourceShareType",
            opt(&i.resource_share_type),
            &["FOREIGN", "ALL", "FEDERATED"],
        );
    }

    async fn call(glue: &Glue, i: Input) -> Result<Output, ApiError> {
        let catalog = glue.catalog(opt(&i.catalog_id));
        let page =
            glue.list_databases(catalog, opt(&i.next_token), page_size(&i.max_results, 100))?;
        Ok(Output {
            database_list: page
                .items
                .into_iter()
                .map(|d| DatabaseDto::new(d, catalog))
                .collect(),
            next_token: page.next_token,
        })
    }
}
