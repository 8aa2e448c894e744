// SPDX-License-Identifier: Apache-2.0
//! Dashboards: bodies validated as AWS validates them ([`validate`]), kept in the metadata
//! store (`cloudwatch.dashboards`, one JSON record per name). Dashboards are global: their
//! ARN has no region.

pub mod validate;

use std::sync::Arc;

use freshet_meta::{Meta, Table};
use freshet_runtime::Platform;
use freshet_types::clock::Clock;
use serde::{Deserialize, Serialize};

use crate::error::CwError;

const DASHBOARDS: Table = Table::new("cloudwatch", "dashboards");

/// A dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// DashboardName.
    pub name: String,
    /// DashboardBody, as put.
    pub body: String,
    /// LastModified (epoch ms).
    pub last_modified_ms: i64,
}

impl Dashboard {
    /// Size: the body's length in bytes.
    pub fn size(&self) -> usize {
        self.body.len()
    }
}

/// The dashboards of the account.
pub struct Dashboards {
    meta: Arc<Meta>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Dashboards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboards").finish_non_exhaustive()
    }
}

fn meta_err(e: freshet_meta::MetaError) -> CwError {
    CwError::Internal(e.to_string())
}

impl Dashboards {
    /// Loads the dashboards kept on `platform`.
    pub fn open(platform: &Platform) -> Result<Self, String> {
        Ok(Self {
            meta: platform.meta.clone(),
            clock: platform.clock.clone(),
        })
    }

    /// Validates and stores a dashboard (creating or replacing it); the warnings
    /// (`DataPath`, `Message`) that did not fail it.
    pub fn put(&self, name: &str, body: &str) -> Result<Vec<(String, String)>, CwError> {
        validate::check_name(name)?;
        let warnings = validate::check_body(body)?;
        let d = Dashboard {
            name: name.to_owned(),
            body: body.to_owned(),
            last_modified_ms: self.clock.now_ms(),
        };
        self.meta.put_json(DASHBOARDS, name, &d).map_err(meta_err)?;
        Ok(warnings)
    }

    /// The dashboard named `name`.
    pub fn get(&self, name: &str) -> Result<Option<Dashboard>, CwError> {
        self.meta.get_json(DASHBOARDS, name).map_err(meta_err)
    }

    /// Dashboards whose name starts with `prefix`, after `after`, at most `limit`.
    pub fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Dashboard>, CwError> {
        let rows = self
            .meta
            .scan_after(DASHBOARDS, prefix, after, limit)
            .map_err(meta_err)?;
        rows.into_iter()
            .map(|(_, v)| serde_json::from_slice(&v).map_err(|e| CwError::Internal(e.to_string())))
            .collect()
    }

    /// Deletes dashboards: all or nothing (DashboardNotFound when one does not exist).
    pub fn delete(&self, names: &[String]) -> Result<(), CwError> {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !matches!(self.meta.get(DASHBOARDS, n), Ok(Some(_))))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(CwError::DashboardNotFound(format!(
                "The specified dashboard does not exist. [{}]",
                missing.join(", ")
            )));
        }
        self.meta
            .transaction(|t| {
                for n in names {
                    t.delete(DASHBOARDS, n)?;
                }
                Ok::<_, freshet_meta::MetaError>(())
            })
            .map_err(meta_err)
    }
}
