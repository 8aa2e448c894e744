// SPDX-License-Identifier: Apache-2.0
//! The persisted records of functions, versions and aliases, and the tables they live in.
//!
//! Tables (namespace `lambda`), JSON values, owned by this module alone:
//!
//! | table | key | value |
//! |---|---|---|
//! | `lambda.functions` | function name | [`FunctionRecord`] (with its `$LATEST` configuration) |
//! | `lambda.versions` | `<name>/<version, 10 digits>` | [`VersionConfig`] of a published version |
//! | `lambda.aliases` | `<name>/<alias>` | [`AliasRecord`] |
//! | `lambda.state` | `revision` | the last [`VersionConfig::revision`] handed out (u64) |
//!
//! A function's asynchronous invocation settings ([`EventInvokeConfig`]) live in its
//! [`FunctionRecord`], so they go with it.
//!
//! Invariants: a version or alias row exists only while its function row does (they are
//! written and deleted in the same transaction); published versions never change; revisions
//! only grow, across deletes and re-creations of the same name, so the executor never mistakes
//! a new function for an old one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use freshet_meta::Table;
use serde::{Deserialize, Serialize};

/// Functions by name.
pub const FUNCTIONS: Table = Table::new("lambda", "functions");
/// Published versions by `<name>/<version:010>`.
pub const VERSIONS: Table = Table::new("lambda", "versions");
/// Aliases by `<name>/<alias>`.
pub const ALIASES: Table = Table::new("lambda", "aliases");
/// Counters.
pub const STATE: Table = Table::new("lambda", "state");
/// Key of the revision counter in [`STATE`].
pub const REVISION_KEY: &str = "revision";

/// Key of a version row.
pub fn version_key(name: &str, version: u64) -> String {
    format!("{name}/{version:010}")
}

/// Key of an alias row.
pub fn alias_key(name: &str, alias: &str) -> String {
    format!("{name}/{alias}")
}

/// A function's lifecycle state (`State`). Persisted by name: never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// Created; its code is being prepared.
    Pending,
    /// Invocable.
    Active,
    /// Its code could not be prepared.
    Failed,
}

impl State {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "Pending",
            State::Active => "Active",
            State::Failed => "Failed",
        }
    }
}

/// The outcome of the last change (`LastUpdateStatus`). Persisted by name: never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateStatus {
    /// Applied.
    Successful,
    /// Being applied.
    InProgress,
    /// Could not be applied.
    Failed,
}

impl UpdateStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Successful => "Successful",
            UpdateStatus::InProgress => "InProgress",
            UpdateStatus::Failed => "Failed",
        }
    }
}

/// Where a version's code is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    /// Hex SHA-256 of the package (or of the local directory's files).
    pub sha256: String,
    /// `CodeSize`.
    pub size: u64,
    /// Set for the `freshet-local` extension: the directory the handler runs in, as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_dir: Option<PathBuf>,
}

/// The configuration of one version of a function (`$LATEST` or published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionConfig {
    /// `$LATEST` or the version number.
    pub version: String,
    /// Runtime identifier (always one Freshet runs).
    pub runtime: String,
    /// Handler string.
    pub handler: String,
    /// Execution role ARN (stored and shown, not enforced).
    pub role: String,
    /// Description.
    pub description: String,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Memory in MB.
    pub memory_size: u32,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// The code.
    pub code: CodeRef,
    /// `LastModified`, ms since the epoch.
    pub last_modified_ms: i64,
    /// `RevisionId`: a new UUID on every change.
    pub revision_id: String,
    /// The spec revision (see the module docs).
    pub revision: u64,
    /// `State`.
    pub state: State,
    /// `LastUpdateStatus`.
    pub last_update_status: UpdateStatus,
    /// `Architectures` (one element).
    pub architecture: String,
    /// `EphemeralStorage.Size` in MB.
    pub ephemeral_storage: u32,
    /// `TracingConfig.Mode`.
    pub tracing_mode: String,
    /// `LoggingConfig.LogGroup`, when set (else `/aws/lambda/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
    /// `LoggingConfig.LogFormat` (`Text` or `JSON`).
    pub log_format: String,
}

/// One function: its `$LATEST` configuration and what applies to all versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    /// The name.
    pub name: String,
    /// `$LATEST`.
    pub latest: VersionConfig,
    /// The last version number published (0: none yet). Never reused, even after a
    /// version is deleted.
    pub last_version: u64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency (PutFunctionConcurrency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    /// Asynchronous invocation settings (PutFunctionEventInvokeConfig) by qualifier:
    /// `$LATEST`, a version number or an alias name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_invoke: BTreeMap<String, EventInvokeConfig>,
}

/// How Event (asynchronous) invocations of one function version or alias are retried and
/// where their outcome is recorded (`FunctionEventInvokeConfig`). Unset members take AWS's
/// defaults: 2 retries, 6 hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    /// `MaximumRetryAttempts` (0 to 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumEventAgeInSeconds` (60 to 21,600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_seconds: Option<u32>,
    /// `DestinationConfig.OnSuccess.Destination`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
    /// `DestinationConfig.OnFailure.Destination`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    /// `LastModified`, ms since the epoch.
    pub last_modified_ms: i64,
}

impl EventInvokeConfig {
    /// AWS's default `MaximumRetryAttempts`.
    pub const DEFAULT_RETRIES: u32 = 2;
    /// AWS's default `MaximumEventAgeInSeconds` (6 hours).
    pub const DEFAULT_MAX_AGE_SECONDS: u32 = 21_600;

    /// Retries after a function error.
    pub fn retries(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(Self::DEFAULT_RETRIES)
    }

    /// How long an event may wait in the queue, in ms.
    pub fn max_age_ms(&self) -> i64 {
        i64::from(
            self.maximum_event_age_seconds
                .unwrap_or(Self::DEFAULT_MAX_AGE_SECONDS),
        ) * 1000
    }
}

/// An alias: a name for a version, optionally splitting traffic with a second one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// The alias name.
    pub name: String,
    /// The version it points at.
    pub function_version: String,
    /// Description.
    pub description: String,
    /// `RoutingConfig.AdditionalVersionWeights`: version → share of traffic (0..1).
    pub weights: BTreeMap<String, f64>,
    /// `RevisionId`.
    pub revision_id: String,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config(version: String, env: BTreeMap<String, String>) -> VersionConfig {
        VersionConfig {
            version,
            runtime: "python3.12".into(),
            handler: "app.handler".into(),
            role: "arn:aws:iam::000000000000:role/r".into(),
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            environment: env,
            code: CodeRef {
                sha256: "ab".into(),
                size: 1,
                local_dir: None,
            },
            last_modified_ms: 0,
            revision_id: "r".into(),
            revision: 1,
            state: State::Active,
            last_update_status: UpdateStatus::Successful,
            architecture: "x86_64".into(),
            ephemeral_storage: 512,
            tracing_mode: "PassThrough".into(),
            log_group: None,
            log_format: "Text".into(),
        }
    }

    #[test]
    fn version_keys_sort_numerically() {
        assert!(version_key("f", 9) < version_key("f", 10));
        assert_eq!(alias_key("f", "prod"), "f/prod");
    }

    proptest! {
        #[test]
        fn version_configs_round_trip_through_json(
            version in "[0-9]{1,5}",
            env in proptest::collection::btree_map("[A-Z][A-Z0-9_]{0,10}", ".{0,20}", 0..5),
        ) {
            let c = config(version, env);
            let json = serde_json::to_vec(&c).expect("encode");
            let back: VersionConfig = serde_json::from_slice(&json).expect("decode");
            prop_assert_eq!(back, c);
        }
    }
}
