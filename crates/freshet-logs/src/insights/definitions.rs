// SPDX-License-Identifier: Apache-2.0
//! Saved queries (PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition), one
//! JSON record per definition in the metadata table `logs.query_definitions`, keyed by id.

use freshet_meta::Table;
use serde::{Deserialize, Serialize};

use super::error::QueryError;
use crate::service::{Logs, blocking};
use crate::store::NAMESPACE;

/// Saved queries by id.
pub const QUERY_DEFINITIONS: Table = Table::new(NAMESPACE, "query_definitions");
/// Most saved queries (AWS: 1,000 per account and region).
pub const MAX_DEFINITIONS: usize = 1000;

/// A saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefinitionRecord {
    /// queryDefinitionId.
    pub id: String,
    /// name (folders are `/`-separated).
    pub name: String,
    /// queryString.
    pub query_string: String,
    /// logGroupNames.
    #[serde(default)]
    pub log_group_names: Vec<String>,
    /// lastModified, ms.
    pub last_modified_ms: i64,
}

/// PutQueryDefinition's input.
#[derive(Debug, Clone)]
pub struct PutDefinition {
    /// An existing id to update; none creates one.
    pub id: Option<String>,
    /// name.
    pub name: String,
    /// queryString.
    pub query_string: String,
    /// logGroupNames.
    pub log_group_names: Vec<String>,
}

impl Logs {
    /// PutQueryDefinition: creates or updates; returns the id.
    pub(crate) async fn put_query_definition(
        &self,
        p: PutDefinition,
    ) -> Result<String, QueryError> {
        let meta = self.inner.meta.clone();
        let now = self.now_ms();
        blocking(move || {
            Ok(meta.transaction(|t| {
                let id = match &p.id {
                    Some(id) => {
                        if t.get(QUERY_DEFINITIONS, id)?.is_none() {
                            return Ok(Err(QueryError::DefinitionNotFound { id: id.clone() }));
                        }
                        id.clone()
                    }
                    None => {
                        if t.scan(QUERY_DEFINITIONS, "")?.len() >= MAX_DEFINITIONS {
                            return Ok(Err(QueryError::TooManyDefinitions(MAX_DEFINITIONS)));
                        }
                        uuid::Uuid::new_v4().to_string()
                    }
                };
                let record = DefinitionRecord {
                    id: id.clone(),
                    name: p.name.clone(),
                    query_string: p.query_string.clone(),
                    log_group_names: p.log_group_names.clone(),
                    last_modified_ms: now,
                };
                freshet_meta::TxnExt::put_json(t, QUERY_DEFINITIONS, &id, &record)?;
                Ok::<_, freshet_meta::MetaError>(Ok(id))
            })?)
        })
        .await?
    }

    /// DescribeQueryDefinitions: every saved query whose name starts with `prefix`, by name.
    pub(crate) async fn query_definitions(
        &self,
        prefix: Option<String>,
    ) -> Result<Vec<DefinitionRecord>, QueryError> {
        let meta = self.inner.meta.clone();
        let mut all: Vec<DefinitionRecord> = blocking(move || {
            Ok(meta
                .scan_json::<DefinitionRecord>(QUERY_DEFINITIONS, "")?
                .into_iter()
                .map(|(_, v)| v)
                .collect())
        })
        .await?;
        if let Some(p) = prefix {
            all.retain(|d| d.name.starts_with(&p));
        }
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// DeleteQueryDefinition.
    pub(crate) async fn delete_query_definition(&self, id: String) -> Result<(), QueryError> {
        let meta = self.inner.meta.clone();
        let key = id.clone();
        let removed = blocking(move || Ok(meta.delete(QUERY_DEFINITIONS, &key)?)).await?;
        if removed {
            Ok(())
        } else {
            Err(QueryError::DefinitionNotFound { id })
        }
    }
}
