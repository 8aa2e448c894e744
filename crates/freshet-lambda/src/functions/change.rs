// SPDX-License-Identifier: Apache-2.0
//! Creating, updating and deleting functions, and the state transitions that follow.
//!
//! Every change: validate (pure), store the code (under the write lock, so the garbage
//! collection of unreferenced packages never races an upload), write the records in one
//! transaction, update memory, then schedule the transition (Pending → Active, InProgress →
//! Successful) as a background task.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use freshet_meta::TxnExt;

use crate::functions::code::{self, StoredCode};
use crate::functions::error::{Error, revision_mismatch};
use crate::functions::names::LATEST;
use crate::functions::record::{
    ALIASES, CodeRef, FUNCTIONS, FunctionRecord, REVISION_KEY, STATE, State, UpdateStatus,
    VERSIONS, VersionConfig, alias_key, version_key,
};
use crate::functions::{Entry, Functions, config};

/// Where new code comes from.
#[derive(Debug, Clone)]
pub enum CodeSource {
    /// A zip (`Code.ZipFile`).
    Zip(Bytes),
    /// A local directory, run in place (the `freshet-local` extension).
    LocalDir(PathBuf),
}

/// CreateFunction's input, after the model checks.
#[derive(Debug, Clone)]
pub struct NewFunction {
    /// Name.
    pub name: String,
    /// Runtime identifier.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// Role ARN.
    pub role: String,
    /// Code.
    pub code: CodeSource,
    /// Description.
    pub description: String,
    /// Timeout (s).
    pub timeout: u32,
    /// Memory (MB).
    pub memory_size: u32,
    /// Environment.
    pub environment: BTreeMap<String, String>,
    /// Publish version 1 as well.
    pub publish: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Architecture.
    pub architecture: String,
    /// Ephemeral storage (MB).
    pub ephemeral_storage: u32,
    /// Tracing mode.
    pub tracing_mode: String,
    /// Log group override.
    pub log_group: Option<String>,
    /// Log format.
    pub log_format: String,
}

/// UpdateFunctionConfiguration's input: the members given.
#[derive(Debug, Clone, Default)]
pub struct ConfigChange {
    /// Runtime.
    pub runtime: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Timeout.
    pub timeout: Option<u32>,
    /// Memory.
    pub memory_size: Option<u32>,
    /// Environment (replaces the whole map).
    pub environment: Option<BTreeMap<String, String>>,
    /// Ephemeral storage.
    pub ephemeral_storage: Option<u32>,
    /// Tracing mode.
    pub tracing_mode: Option<String>,
    /// Log group.
    pub log_group: Option<String>,
    /// Log format.
    pub log_format: Option<String>,
    /// Expected RevisionId.
    pub revision_id: Option<String>,
}

impl Functions {
    /// CreateFunction. Returns the `$LATEST` configuration (Pending) and, with `publish`,
    /// the version published.
    pub async fn create(&self, f: NewFunction) -> Result<(FunctionRecord, VersionConfig), Error> {
        config::function_name_length(&f.name)?;
        config::runtime(&f.runtime)?;
        config::environment(&f.environment)?;
        if f.tags.len() > 50 {
            return Err(Error::InvalidParameter(
                "Number of tags exceeds resource tag limit.".into(),
            ));
        }
        let exists = || Error::FunctionExists {
            name: f.name.clone(),
        };
        if self.read(|s| s.contains_key(&f.name)).unwrap_or(false) {
            return Err(exists());
        }
        let mut revision = self.inner.write.lock().await;
        if self.read(|s| s.contains_key(&f.name)).unwrap_or(false) {
            return Err(exists());
        }
        let code = self.store_code(f.code.clone(), "CreateFunction").await?;
        *revision += 1;
        let latest = VersionConfig {
            version: LATEST.to_owned(),
            runtime: f.runtime,
            handler: f.handler,
            role: f.role,
            description: f.description,
            timeout: f.timeout,
            memory_size: f.memory_size,
            environment: f.environment,
            code,
            last_modified_ms: self.now_ms(),
            revision_id: new_revision_id(),
            revision: *revision,
            state: State::Pending,
            last_update_status: UpdateStatus::InProgress,
            architecture: f.architecture,
            ephemeral_storage: f.ephemeral_storage,
            tracing_mode: f.tracing_mode,
            log_group: f.log_group,
            log_format: f.log_format,
        };
        let mut entry = Entry {
            record: FunctionRecord {
                name: f.name.clone(),
                latest: latest.clone(),
                last_version: 0,
                tags: f.tags,
                reserved_concurrency: None,
                event_invoke: BTreeMap::new(),
            },
            versions: BTreeMap::new(),
            aliases: BTreeMap::new(),
        };
        let mut shown = latest;
        if f.publish {
            *revision += 1;
            shown = publish_into(&mut entry, None, *revision);
        }
        self.store_entry(&entry, *revision)?;
        let record = entry.record.clone();
        self.install(entry);
        drop(revision);
        self.schedule_transition(f.name);
        Ok((record, shown))
    }

    /// UpdateFunctionCode. Returns `$LATEST` (InProgress), or the new version with `publish`.
    pub async fn update_code(
        &self,
        name: &str,
        source: CodeSource,
        publish: bool,
        revision_id: Option<&str>,
    ) -> Result<(FunctionRecord, VersionConfig), Error> {
        let mut revision = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        self.check_updatable(&entry, revision_id)?;
        let code = self.store_code(source, "UpdateFunctionCode").await?;
        *revision += 1;
        let latest = &mut entry.record.latest;
        latest.code = code;
        self.touch(latest, *revision);
        let mut shown = latest.clone();
        if publish {
            *revision += 1;
            shown = publish_into(&mut entry, None, *revision);
        }
        self.store_entry(&entry, *revision)?;
        let record = entry.record.clone();
        self.install(entry);
        self.collect_garbage();
        drop(revision);
        self.schedule_transition(name.to_owned());
        Ok((record, shown))
    }

    /// UpdateFunctionConfiguration. Returns `$LATEST` (InProgress).
    pub async fn update_config(
        &self,
        name: &str,
        c: ConfigChange,
    ) -> Result<(FunctionRecord, VersionConfig), Error> {
        if let Some(r) = &c.runtime {
            config::runtime(r)?;
        }
        if let Some(env) = &c.environment {
            config::environment(env)?;
        }
        let mut revision = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        self.check_updatable(&entry, c.revision_id.as_deref())?;
        *revision += 1;
        let l = &mut entry.record.latest;
        set(&mut l.runtime, c.runtime);
        set(&mut l.handler, c.handler);
        set(&mut l.role, c.role);
        set(&mut l.description, c.description);
        set(&mut l.timeout, c.timeout);
        set(&mut l.memory_size, c.memory_size);
        set(&mut l.environment, c.environment);
        set(&mut l.ephemeral_storage, c.ephemeral_storage);
        set(&mut l.tracing_mode, c.tracing_mode);
        set(&mut l.log_format, c.log_format);
        if c.log_group.is_some() {
            l.log_group = c.log_group;
        }
        self.touch(l, *revision);
        let shown = l.clone();
        self.store_entry(&entry, *revision)?;
        let record = entry.record.clone();
        self.install(entry);
        drop(revision);
        self.schedule_transition(name.to_owned());
        Ok((record, shown))
    }

    /// DeleteFunction: the whole function, or one published version.
    pub async fn delete(&self, name: &str, qualifier: Option<&str>) -> Result<(), Error> {
        let _w = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        match qualifier {
            None => {
                let keys: Vec<String> = entry
                    .versions
                    .keys()
                    .map(|n| version_key(name, *n))
                    .collect();
                let aliases: Vec<String> =
                    entry.aliases.keys().map(|a| alias_key(name, a)).collect();
                self.inner.meta.transaction(|txn| {
                    txn.delete(FUNCTIONS, name)?;
                    for k in &keys {
                        txn.delete(VERSIONS, k)?;
                    }
                    for k in &aliases {
                        txn.delete(ALIASES, k)?;
                    }
                    Ok::<_, Error>(())
                })?;
                if let Ok(mut s) = self.inner.state.write() {
                    s.remove(name);
                }
                self.executor().retire(&self.function_arn(name));
                self.metrics().forget(name);
            }
            Some(LATEST) => {
                return Err(Error::InvalidParameter(
                    "$LATEST version cannot be deleted without deleting the function.".into(),
                ));
            }
            Some(q) => {
                let n: u64 = q.parse().map_err(|_| {
                    Error::InvalidParameter(
                        "Deletion of aliases is not supported through DeleteFunction; call \
                         DeleteAlias."
                            .into(),
                    )
                })?;
                if !entry.versions.contains_key(&n) {
                    return Err(Error::FunctionNotFound {
                        arn: format!("{}:{q}", self.function_arn(name)),
                    });
                }
                let users: Vec<&str> = entry
                    .aliases
                    .values()
                    .filter(|a| a.function_version == q || a.weights.contains_key(q))
                    .map(|a| a.name.as_str())
                    .collect();
                if !users.is_empty() {
                    return Err(Error::Conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        users.join(", ")
                    )));
                }
                self.inner.meta.delete(VERSIONS, &version_key(name, n))?;
                entry.versions.remove(&n);
                self.install(entry);
            }
        }
        self.collect_garbage();
        Ok(())
    }

    /// Refuses a change while the last one is in progress, or when `revision_id` is stale.
    fn check_updatable(&self, entry: &Entry, revision_id: Option<&str>) -> Result<(), Error> {
        let latest = &entry.record.latest;
        if latest.last_update_status == UpdateStatus::InProgress || latest.state == State::Pending {
            return Err(Error::UpdateInProgress {
                arn: self.function_arn(&entry.record.name),
            });
        }
        if revision_id.is_some_and(|r| r != latest.revision_id) {
            return Err(revision_mismatch());
        }
        Ok(())
    }

    /// Marks `$LATEST` changed: new revision, RevisionId, LastModified, InProgress.
    fn touch(&self, latest: &mut VersionConfig, revision: u64) {
        latest.revision = revision;
        latest.revision_id = new_revision_id();
        latest.last_modified_ms = self.now_ms();
        latest.last_update_status = UpdateStatus::InProgress;
    }

    /// Stores new code (blocking work off the async workers).
    async fn store_code(&self, source: CodeSource, operation: &str) -> Result<CodeRef, Error> {
        match source {
            CodeSource::Zip(zip) => {
                code::check_zip_size(&zip, operation)?;
                let store = self.inner.code.clone();
                let stored: StoredCode = tokio::task::spawn_blocking(move || store.put_zip(&zip))
                    .await
                    .map_err(|e| Error::Storage(e.to_string()))??;
                Ok(CodeRef {
                    sha256: stored.sha256,
                    size: stored.size,
                    local_dir: None,
                })
            }
            CodeSource::LocalDir(dir) => {
                let d = dir.clone();
                let stored = tokio::task::spawn_blocking(move || code::describe_dir(&d))
                    .await
                    .map_err(|e| Error::Storage(e.to_string()))??;
                Ok(CodeRef {
                    sha256: stored.sha256,
                    size: stored.size,
                    local_dir: Some(dir),
                })
            }
        }
    }

    /// Writes the function row, its versions and aliases and the revision counter in one
    /// transaction.
    pub(crate) fn store_entry(&self, entry: &Entry, revision: u64) -> Result<(), Error> {
        let name = &entry.record.name;
        self.inner.meta.transaction(|txn| {
            txn.put_json(FUNCTIONS, name, &entry.record)?;
            for (n, v) in &entry.versions {
                txn.put_json(VERSIONS, &version_key(name, *n), v)?;
            }
            for (a, rec) in &entry.aliases {
                txn.put_json(ALIASES, &alias_key(name, a), rec)?;
            }
            txn.put_json(STATE, REVISION_KEY, &revision)?;
            Ok::<_, Error>(())
        })
    }

    /// Replaces the in-memory entry.
    pub(crate) fn install(&self, entry: Entry) {
        if let Ok(mut s) = self.inner.state.write() {
            s.insert(entry.record.name.clone(), entry);
        }
    }

    /// Finishes the transitions of `name` in the background.
    fn schedule_transition(&self, name: String) {
        let this = self.clone();
        self.inner.tasks.spawn(async move {
            if let Err(error) = this.complete_transition(&name).await {
                tracing::warn!(function = %name, %error, "Cannot finish a function's state transition.");
            }
        });
    }

    async fn complete_transition(&self, name: &str) -> Result<(), Error> {
        let revision = self.inner.write.lock().await;
        let Ok(mut entry) = self.entry(name) else {
            return Ok(());
        };
        let this = self.clone();
        let (entry, changed) = tokio::task::spawn_blocking(move || {
            let before = entry.clone();
            this.finish_transition(&mut entry.record.latest);
            for v in entry.versions.values_mut() {
                this.finish_transition(v);
            }
            let changed = before.record != entry.record || before.versions != entry.versions;
            (entry, changed)
        })
        .await
        .map_err(|e| Error::Storage(e.to_string()))?;
        if changed {
            self.store_entry(&entry, *revision)?;
            self.install(entry);
        }
        Ok(())
    }

    /// Deletes stored packages no version refers to any more.
    fn collect_garbage(&self) {
        let used: std::collections::BTreeSet<String> = self
            .read(|s| {
                s.values()
                    .flat_map(|e| {
                        std::iter::once(&e.record.latest)
                            .chain(e.versions.values())
                            .filter(|v| v.code.local_dir.is_none())
                            .map(|v| v.code.sha256.clone())
                            .collect::<Vec<_>>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let store = self.inner.code.clone();
        let stored = store.stored_hashes();
        for sha in stored.into_iter().filter(|h| !used.contains(h)) {
            store.remove(&sha);
        }
    }
}

/// Publishes `$LATEST` of `entry` as its next version (or returns the last version when
/// nothing changed since it was published); returns the version's configuration.
pub(crate) fn publish_into(
    entry: &mut Entry,
    description: Option<String>,
    revision: u64,
) -> VersionConfig {
    let latest = &entry.record.latest;
    if let Some(last) = entry.versions.values().next_back()
        && same_content(last, latest)
    {
        return last.clone();
    }
    entry.record.last_version += 1;
    let n = entry.record.last_version;
    let mut v = latest.clone();
    v.version = n.to_string();
    v.revision = revision;
    v.revision_id = new_revision_id();
    if let Some(d) = description {
        v.description = d;
    }
    entry.versions.insert(n, v.clone());
    v
}

/// Whether a published version has the code and configuration of `$LATEST`.
fn same_content(v: &VersionConfig, latest: &VersionConfig) -> bool {
    v.code == latest.code
        && v.runtime == latest.runtime
        && v.handler == latest.handler
        && v.role == latest.role
        && v.timeout == latest.timeout
        && v.memory_size == latest.memory_size
        && v.environment == latest.environment
        && v.log_group == latest.log_group
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A new RevisionId.
pub(crate) fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
