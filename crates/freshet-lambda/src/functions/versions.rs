// SPDX-License-Identifier: Apache-2.0
//! PublishVersion and aliases: immutable numbered snapshots of `$LATEST`, and names that
//! point at one version (optionally sending a share of traffic to a second).

use std::collections::BTreeMap;

use crate::functions::change::{new_revision_id, publish_into};
use crate::functions::error::{Error, revision_mismatch};
use crate::functions::names::LATEST;
use crate::functions::record::{AliasRecord, State, UpdateStatus, VersionConfig};
use crate::functions::{Entry, Functions, version_of};

/// An alias's settings as CreateAlias / UpdateAlias give them.
#[derive(Debug, Clone, Default)]
pub struct AliasChange {
    /// The version it points at.
    pub function_version: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `RoutingConfig.AdditionalVersionWeights`.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Expected RevisionId (UpdateAlias).
    pub revision_id: Option<String>,
}

impl Functions {
    /// PublishVersion.
    pub async fn publish_version(
        &self,
        name: &str,
        code_sha256_b64: Option<&str>,
        description: Option<String>,
        revision_id: Option<&str>,
    ) -> Result<VersionConfig, Error> {
        let mut revision = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        let latest = &entry.record.latest;
        if latest.last_update_status == UpdateStatus::InProgress || latest.state == State::Pending {
            return Err(Error::UpdateInProgress {
                arn: self.function_arn(name),
            });
        }
        if revision_id.is_some_and(|r| r != latest.revision_id) {
            return Err(revision_mismatch("GetFunction"));
        }
        let current = b64_of_hex(&latest.code.sha256);
        if let Some(given) = code_sha256_b64
            && given != current
        {
            return Err(Error::InvalidParameter(format!(
                "CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST \
                 ({current}). Please try again with the CodeSHA256 in $LATEST."
            )));
        }
        *revision += 1;
        let v = publish_into(&mut entry, description, *revision);
        self.store_entry(&entry, *revision)?;
        self.install(entry);
        Ok(v)
    }

    /// The published versions of `name`, after `$LATEST`.
    pub fn versions(&self, name: &str) -> Result<Vec<VersionConfig>, Error> {
        let e = self.entry(name)?;
        Ok(std::iter::once(e.record.latest.clone())
            .chain(e.versions.values().cloned())
            .collect())
    }

    /// CreateAlias.
    pub async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        c: AliasChange,
    ) -> Result<AliasRecord, Error> {
        let revision = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        if entry.aliases.contains_key(alias) {
            return Err(Error::AliasExists {
                arn: format!("{}:{alias}", self.function_arn(name)),
            });
        }
        let version = c.function_version.unwrap_or_else(|| LATEST.to_owned());
        let weights = c.weights.unwrap_or_default();
        self.check_alias_target(&entry, &version, &weights)?;
        let record = AliasRecord {
            name: alias.to_owned(),
            function_version: version,
            description: c.description.unwrap_or_default(),
            weights,
            revision_id: new_revision_id(),
        };
        entry.aliases.insert(alias.to_owned(), record.clone());
        self.store_entry(&entry, *revision)?;
        self.install(entry);
        Ok(record)
    }

    /// UpdateAlias.
    pub async fn update_alias(
        &self,
        name: &str,
        alias: &str,
        c: AliasChange,
    ) -> Result<AliasRecord, Error> {
        let revision = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        let mut record = self.alias_in(&entry, alias)?;
        if c.revision_id
            .as_deref()
            .is_some_and(|r| r != record.revision_id)
        {
            return Err(revision_mismatch("GetAlias"));
        }
        if let Some(v) = c.function_version {
            record.function_version = v;
        }
        if let Some(d) = c.description {
            record.description = d;
        }
        if let Some(w) = c.weights {
            record.weights = w;
        }
        self.check_alias_target(&entry, &record.function_version, &record.weights)?;
        record.revision_id = new_revision_id();
        entry.aliases.insert(alias.to_owned(), record.clone());
        self.store_entry(&entry, *revision)?;
        self.install(entry);
        Ok(record)
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<(), Error> {
        let _w = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        self.alias_in(&entry, alias)?;
        self.inner.meta.delete(
            crate::functions::record::ALIASES,
            &crate::functions::record::alias_key(name, alias),
        )?;
        entry.aliases.remove(alias);
        self.install(entry);
        Ok(())
    }

    /// GetAlias.
    pub fn alias(&self, name: &str, alias: &str) -> Result<AliasRecord, Error> {
        let entry = self.entry(name)?;
        self.alias_in(&entry, alias)
    }

    /// ListAliases, optionally only those pointing at `version`.
    pub fn aliases(&self, name: &str, version: Option<&str>) -> Result<Vec<AliasRecord>, Error> {
        let entry = self.entry(name)?;
        Ok(entry
            .aliases
            .into_values()
            .filter(|a| version.is_none_or(|v| a.function_version == v))
            .collect())
    }

    fn alias_in(&self, entry: &Entry, alias: &str) -> Result<AliasRecord, Error> {
        entry
            .aliases
            .get(alias)
            .cloned()
            .ok_or_else(|| Error::AliasNotFound {
                arn: format!("{}:{alias}", self.function_arn(&entry.record.name)),
            })
    }

    /// The version and the weighted second version exist; weights are a share in [0, 1] of
    /// one other version.
    fn check_alias_target(
        &self,
        entry: &Entry,
        version: &str,
        weights: &BTreeMap<String, f64>,
    ) -> Result<(), Error> {
        let missing = |v: &str| Error::FunctionNotFound {
            arn: format!("{}:{v}", self.function_arn(&entry.record.name)),
        };
        if version_of(entry, version).is_none() {
            return Err(missing(version));
        }
        if weights.len() > 1 {
            return Err(Error::InvalidParameter(
                "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
            ));
        }
        for (v, w) in weights {
            if version_of(entry, v).is_none() || v == LATEST {
                return Err(missing(v));
            }
            if v == version {
                return Err(Error::InvalidParameter(format!(
                    "Invalid function version {v}. Function version {v} is already included in \
                     routing configuration."
                )));
            }
            if !(0.0..=1.0).contains(w) {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '{{{v}={w}}}' at \
                     'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map \
                     value must satisfy constraint: [Member must have value less than or equal \
                     to 1.0, Member must have value greater than or equal to 0.0]"
                )));
            }
        }
        Ok(())
    }
}

/// The base64 form of a hex SHA-256 (`CodeSha256`).
pub fn b64_of_hex(hex: &str) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sha256_is_the_base64_of_the_digest() {
        // SHA-256 of the empty string.
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            b64_of_hex(hex),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
