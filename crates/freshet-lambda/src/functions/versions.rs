// SPDX-License-Identifier: Apache-2.0
//! PublishVersion and aliases: immutable numbered snapshots of `$LATEST`, and names that
//! point at one version (optionally sending a share of traffic to a second).

use std::collections::BTreeMap;

use freshet_protocol::validate::{Shown, Validator};

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
            return Err(revision_mismatch());
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
        check_weights(c.weights.as_ref())?;
        // Lambda names the version the alias was to point at when the function is missing.
        let mut entry = self
            .entry(name)
            .map_err(|e| match (e, &c.function_version) {
                (Error::FunctionNotFound { arn }, Some(v)) => Error::FunctionNotFound {
                    arn: format!("{arn}:{v}"),
                },
                (e, _) => e,
            })?;
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
        check_weights(c.weights.as_ref())?;
        let mut entry = self.entry(name)?;
        let mut record = self.alias_in(&entry, alias)?;
        if c.revision_id
            .as_deref()
            .is_some_and(|r| r != record.revision_id)
        {
            return Err(revision_mismatch());
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

    /// The version and the weighted second version exist, in Lambda's order of checks: the
    /// target version, the number of weights, `$LATEST` with weights, a weight on the target
    /// itself, the weighted version.
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
        if version == LATEST && !weights.is_empty() {
            return Err(Error::InvalidParameter(
                "$LATEST is not supported for an alias pointing to more than 1 version".into(),
            ));
        }
        for v in weights.keys() {
            if v == version {
                return Err(Error::InvalidParameter(format!(
                    "Invalid function version {v}. Function version {v} is already included in \
                     routing configuration."
                )));
            }
            if version_of(entry, v).is_none() {
                return Err(missing(v));
            }
        }
        Ok(())
    }
}

/// The model's constraints on `RoutingConfig.AdditionalVersionWeights` (keys `[0-9]+` of 1 to
/// 1,024 characters, values 0.0 to 1.0), with Coral's message: the map as Java prints it.
fn check_weights(weights: Option<&BTreeMap<String, f64>>) -> Result<(), Error> {
    let Some(weights) = weights else {
        return Ok(());
    };
    let path = "routingConfig.additionalVersionWeights";
    let shown = format!(
        "{{{}}}",
        weights
            .iter()
            .map(|(k, w)| format!("{k}={}", java_double(*w)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut v = Validator::new();
    if weights
        .keys()
        .any(|k| k.is_empty() || k.len() > 1024 || !k.bytes().all(|b| b.is_ascii_digit()))
    {
        v.fail(
            Shown::Text(&shown),
            path,
            "Map keys must satisfy constraint: [Member must have length less than or equal to \
             1024, Member must have length greater than or equal to 1, Member must satisfy \
             regular expression pattern: [0-9]+, Member must not be null]",
        );
    }
    if weights.values().any(|w| !(0.0..=1.0).contains(w)) {
        v.fail(
            Shown::Text(&shown),
            path,
            "Map value must satisfy constraint: [Member must have value less than or equal to \
             1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
        );
    }
    match v.finish() {
        Some(m) => Err(Error::Validation(m)),
        None => Ok(()),
    }
}

/// A double as Java's `Double.toString` prints it (`2.0`, `0.25`, `1.0E-4`), which is how
/// Coral shows numbers inside a map.
fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
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

    #[test]
    fn doubles_print_as_java_prints_them() {
        for (v, text) in [
            (2.0, "2.0"),
            (-1.0, "-1.0"),
            (0.5, "0.5"),
            (0.0, "0.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e-5, "1.5E-5"),
            (12_345_678.0, "1.2345678E7"),
        ] {
            assert_eq!(java_double(v), text, "{v}");
        }
    }

    #[test]
    fn weights_outside_the_model_fail_with_corals_map_message() {
        let w = |k: &str, v: f64| BTreeMap::from([(k.to_owned(), v)]);
        assert_eq!(
            check_weights(Some(&w("2", 2.0))),
            Err(Error::Validation(
                "1 validation error detected: Value '{2=2.0}' at \
                 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value \
                 must satisfy constraint: [Member must have value less than or equal to 1.0, \
                 Member must have value greater than or equal to 0.0, Member must not be null]"
                    .into()
            ))
        );
        assert_eq!(
            check_weights(Some(&w("$LATEST", 0.5))),
            Err(Error::Validation(
                "1 validation error detected: Value '{$LATEST=0.5}' at \
                 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys \
                 must satisfy constraint: [Member must have length less than or equal to 1024, \
                 Member must have length greater than or equal to 1, Member must satisfy regular \
                 expression pattern: [0-9]+, Member must not be null]"
                    .into()
            ))
        );
        assert!(check_weights(Some(&w("3", 1.0))).is_ok());
        assert!(check_weights(None).is_ok());
    }
}
