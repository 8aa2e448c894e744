// SPDX-License-Identifier: Apache-2.0
//! Functions: the records behind the Lambda API (functions, versions, aliases, tags,
//! concurrency), their code, their states, and the resolution of a name to what runs.
//!
//! [`Functions`] is the handle (cheap to clone). It keeps every record in memory, loaded at
//! open, and writes each change to the metadata store (one transaction, durable before the
//! call returns) before it updates memory, so memory never shows what a restart would lose.
//! One change runs at a time (an async mutex); reads take a short lock and never wait for I/O.
//!
//! States follow AWS so that SDK waiters work: CreateFunction answers `State: Pending`, and a
//! background task makes the function `Active` once its code is ready; updates answer
//! `LastUpdateStatus: InProgress` and become `Successful` the same way. A restart finishes any
//! transition a crash interrupted.
//!
//! - [`names`]: names, ARNs, qualifiers; [`config`]: Lambda's limits; [`code`]: the code store;
//!   [`record`]: the persisted records; [`invoke`]: Invoke and the [`crate::spec::Invoker`];
//!   [`versions`]: PublishVersion and aliases; [`change`]: create, update, delete;
//!   [`event_config`]: asynchronous invocation settings.

pub mod change;
pub mod code;
pub mod config;
pub mod error;
pub mod event_config;
pub mod invoke;
pub mod names;
pub mod record;
pub mod versions;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_meta::Meta;
use freshet_runtime::Tasks;
use freshet_types::Clock;

use crate::async_invoke::AsyncQueue;
use crate::functions::code::CodeStore;
pub use crate::functions::error::Error;
pub use crate::functions::invoke::{Execute, InvocationType, InvokeOutcome, InvokeRequest};
use crate::functions::names::{FunctionRef, LATEST};
use crate::functions::record::{
    ALIASES, AliasRecord, FUNCTIONS, FunctionRecord, REVISION_KEY, STATE, State, UpdateStatus,
    VERSIONS, VersionConfig,
};
use crate::spec::FunctionSpec;

/// How the functions of one server behave.
#[derive(Debug, Clone)]
pub struct FunctionsOptions {
    /// The account id in ARNs.
    pub account_id: String,
    /// The region in ARNs.
    pub region: String,
    /// Where deployment packages are stored and unpacked.
    pub code_dir: PathBuf,
    /// Concurrent executions across all functions (`ConcurrentExecutions`).
    pub total_concurrency: u32,
    /// Concurrency PutFunctionConcurrency must leave unreserved (AWS: 100 of 1,000).
    pub min_unreserved: u32,
    /// Event invocations accepted but not yet finished, beyond which Invoke throttles (the
    /// bound of the asynchronous queue, [`crate::async_invoke::AsyncQueueOptions::max_queued`]).
    pub max_queued_events: usize,
}

/// One function in memory: its record, published versions and aliases.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) record: FunctionRecord,
    pub(crate) versions: BTreeMap<u64, VersionConfig>,
    pub(crate) aliases: BTreeMap<String, AliasRecord>,
}

/// The functions of one server.
#[derive(Clone)]
pub struct Functions {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("region", &self.inner.opts.region)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) meta: Arc<Meta>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) tasks: Tasks,
    pub(crate) code: CodeStore,
    pub(crate) opts: FunctionsOptions,
    pub(crate) state: RwLock<BTreeMap<String, Entry>>,
    /// Serializes changes (held across the metadata write, never by readers).
    pub(crate) write: tokio::sync::Mutex<u64>,
    pub(crate) executor: RwLock<Arc<dyn Execute>>,
    /// Where Event invocations are queued, once installed.
    pub(crate) async_queue: RwLock<Option<AsyncQueue>>,
    /// The AWS/Lambda metric handles (disabled until [`Functions::set_recorder`]).
    pub(crate) metrics: RwLock<Arc<crate::metrics::LambdaMetrics>>,
}

/// A reference resolved to one version of one function.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The function's record.
    pub record: FunctionRecord,
    /// The configuration of the version the reference names.
    pub config: VersionConfig,
    /// The alias the reference named, if it named one.
    pub alias: Option<AliasRecord>,
}

impl Functions {
    /// Opens the functions on `meta` with code under `opts.code_dir`, finishing any state
    /// transition a crash interrupted. Blocks (metadata reads, code checks).
    pub fn open(
        meta: Arc<Meta>,
        clock: Arc<dyn Clock>,
        tasks: Tasks,
        opts: FunctionsOptions,
    ) -> Result<Functions, Error> {
        let code = CodeStore::open(&opts.code_dir)?;
        let mut state = BTreeMap::new();
        for (name, record) in meta.scan_json::<FunctionRecord>(FUNCTIONS, "")? {
            state.insert(
                name,
                Entry {
                    record,
                    versions: BTreeMap::new(),
                    aliases: BTreeMap::new(),
                },
            );
        }
        for (key, v) in meta.scan_json::<VersionConfig>(VERSIONS, "")? {
            let (Some((name, _)), Ok(n)) = (key.rsplit_once('/'), v.version.parse::<u64>()) else {
                continue;
            };
            if let Some(e) = state.get_mut(name) {
                e.versions.insert(n, v);
            }
        }
        for (key, a) in meta.scan_json::<AliasRecord>(ALIASES, "")? {
            if let Some((name, _)) = key.split_once('/')
                && let Some(e) = state.get_mut(name)
            {
                e.aliases.insert(a.name.clone(), a);
            }
        }
        let revision = meta
            .get_json::<u64>(STATE, REVISION_KEY)?
            .unwrap_or_default();
        let functions = Functions {
            inner: Arc::new(Inner {
                meta,
                clock,
                tasks,
                code,
                opts,
                state: RwLock::new(state),
                write: tokio::sync::Mutex::new(revision),
                executor: RwLock::new(Arc::new(invoke::NoExecutor)),
                async_queue: RwLock::new(None),
                metrics: RwLock::new(Arc::new(crate::metrics::LambdaMetrics::new(
                    freshet_metrics::Recorder::disabled(),
                ))),
            }),
        };
        functions.recover()?;
        Ok(functions)
    }

    /// Hands invocations to `executor` from now on.
    pub fn set_executor(&self, executor: Arc<dyn Execute>) {
        if let Ok(mut e) = self.inner.executor.write() {
            *e = executor;
        }
    }

    /// Records the AWS/Lambda metrics into `recorder` from now on.
    pub fn set_recorder(&self, recorder: freshet_metrics::Recorder) {
        if let Ok(mut m) = self.inner.metrics.write() {
            *m = Arc::new(crate::metrics::LambdaMetrics::new(recorder));
        }
    }

    pub(crate) fn metrics(&self) -> Arc<crate::metrics::LambdaMetrics> {
        self.inner
            .metrics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Queues Event invocations on `queue` from now on (without one, they are refused).
    pub fn set_async_queue(&self, queue: AsyncQueue) {
        if let Ok(mut q) = self.inner.async_queue.write() {
            *q = Some(queue);
        }
    }

    /// The queue of Event invocations, once installed.
    pub fn async_queue(&self) -> Option<AsyncQueue> {
        self.inner.async_queue.read().ok().and_then(|q| q.clone())
    }

    /// The reserved concurrency of function `name`, if it has one.
    pub fn reserved_concurrency(&self, name: &str) -> Option<u32> {
        self.read(|s| s.get(name).and_then(|e| e.record.reserved_concurrency))
            .flatten()
    }

    /// The options.
    pub fn options(&self) -> &FunctionsOptions {
        &self.inner.opts
    }

    /// Completes transitions a crash interrupted and rebuilds missing unpacked trees.
    fn recover(&self) -> Result<(), Error> {
        let entries: Vec<Entry> = self
            .read(|s| s.values().cloned().collect())
            .unwrap_or_default();
        let revision = self
            .inner
            .meta
            .get_json::<u64>(STATE, REVISION_KEY)?
            .unwrap_or_default();
        for mut entry in entries {
            let before = entry.clone();
            self.finish_transition(&mut entry.record.latest);
            for v in entry.versions.values_mut() {
                self.finish_transition(v);
            }
            if before.record != entry.record || before.versions != entry.versions {
                self.store_entry(&entry, revision)?;
                self.install(entry);
            }
        }
        Ok(())
    }

    /// Makes the code of `config` runnable and moves it out of Pending/InProgress.
    pub(crate) fn finish_transition(&self, config: &mut VersionConfig) {
        let ready = match &config.code.local_dir {
            Some(dir) => dir.is_dir(),
            None => match self.inner.code.ensure_unpacked(&config.code.sha256) {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, sha256 = %config.code.sha256, "Cannot prepare function code.");
                    false
                }
            },
        };
        match (config.state, ready) {
            (State::Pending, true) => config.state = State::Active,
            (State::Pending, false) => config.state = State::Failed,
            _ => {}
        }
        if config.last_update_status == UpdateStatus::InProgress {
            config.last_update_status = if ready {
                UpdateStatus::Successful
            } else {
                UpdateStatus::Failed
            };
        }
    }

    /// Runs `f` over the in-memory records.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&BTreeMap<String, Entry>) -> T) -> Option<T> {
        self.inner.state.read().ok().map(|s| f(&s))
    }

    /// The unqualified ARN of function `name`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.inner.opts.region, self.inner.opts.account_id
        )
    }

    /// The milliseconds since the epoch now.
    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Splits a `FunctionName` (and an explicit `Qualifier`) into a name and one qualifier,
    /// with AWS's errors for references to other accounts or disagreeing qualifiers.
    pub fn reference(&self, function: &str, qualifier: Option<&str>) -> Result<FunctionRef, Error> {
        let mut r = FunctionRef::parse(function).ok_or_else(|| Error::FunctionNotFound {
            arn: function.to_owned(),
        })?;
        // Lambda answers an ARN of another region with a 404 naming both regions, and one of
        // another account with a bare 403 (it would need that account's resource policy).
        if let Some(region) = r.region.as_deref()
            && region != self.inner.opts.region
        {
            return Err(Error::OtherRegion {
                region: region.to_owned(),
                here: self.inner.opts.region.clone(),
            });
        }
        if let Some(account) = r.account.as_deref()
            && account != self.inner.opts.account_id
        {
            return Err(Error::OtherAccount {
                account: account.to_owned(),
            });
        }
        match (r.qualifier.as_deref(), qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::InvalidParameter(
                    "The derived qualifier from the function name does not match the specified \
                     qualifier."
                        .into(),
                ));
            }
            (None, Some(q)) if !q.is_empty() => r.qualifier = Some(q.to_owned()),
            _ => {}
        }
        Ok(r)
    }

    /// Resolves a reference to the version it names: `$LATEST` when unqualified, a published
    /// version, or an alias's version (the alias's primary version: weighted routing is
    /// applied by Invoke).
    pub fn resolve(&self, r: &FunctionRef) -> Result<Resolved, Error> {
        let not_found = || Error::FunctionNotFound {
            arn: qualified(&self.function_arn(&r.name), r.qualifier.as_deref()),
        };
        self.read(|s| {
            let e = s.get(&r.name).ok_or_else(|| Error::FunctionNotFound {
                arn: qualified(&self.function_arn(&r.name), r.qualifier.as_deref()),
            })?;
            match r.qualifier.as_deref() {
                None | Some(LATEST) => Ok(Resolved {
                    record: e.record.clone(),
                    config: e.record.latest.clone(),
                    alias: None,
                }),
                Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => {
                    let n: u64 = q.parse().map_err(|_| not_found())?;
                    let config = e.versions.get(&n).ok_or_else(not_found)?.clone();
                    Ok(Resolved {
                        record: e.record.clone(),
                        config,
                        alias: None,
                    })
                }
                Some(alias) => {
                    let a = e.aliases.get(alias).ok_or_else(not_found)?;
                    let config = version_of(e, &a.function_version).ok_or_else(not_found)?;
                    Ok(Resolved {
                        record: e.record.clone(),
                        config,
                        alias: Some(a.clone()),
                    })
                }
            }
        })
        .unwrap_or_else(|| Err(Error::Storage("function records are unavailable".into())))
    }

    /// The entry of `name`, or FunctionNotFound.
    pub(crate) fn entry(&self, name: &str) -> Result<Entry, Error> {
        self.read(|s| s.get(name).cloned())
            .flatten()
            .ok_or_else(|| Error::FunctionNotFound {
                arn: self.function_arn(name),
            })
    }

    /// Every function's `$LATEST` (and, with `all_versions`, every published version), in
    /// name order then version order.
    pub fn list(&self, all_versions: bool) -> Vec<(FunctionRecord, VersionConfig)> {
        self.read(|s| {
            let mut out = Vec::new();
            for e in s.values() {
                out.push((e.record.clone(), e.record.latest.clone()));
                if all_versions {
                    for v in e.versions.values() {
                        out.push((e.record.clone(), v.clone()));
                    }
                }
            }
            out
        })
        .unwrap_or_default()
    }

    /// The spec of a resolved version: what the executor runs.
    pub fn spec_of(
        &self,
        record: &FunctionRecord,
        config: &VersionConfig,
    ) -> Result<FunctionSpec, Error> {
        let runtime = config::runtime(&config.runtime)?;
        let code_dir = match &config.code.local_dir {
            Some(dir) => dir.clone(),
            None => self.inner.code.unpacked_dir(&config.code.sha256),
        };
        Ok(FunctionSpec {
            name: record.name.clone(),
            arn: self.function_arn(&record.name),
            version: config.version.clone(),
            runtime,
            handler: config.handler.clone(),
            code_dir,
            code_sha256: config.code.sha256.clone(),
            timeout: Duration::from_secs(u64::from(config.timeout)),
            memory_mb: config.memory_size,
            environment: config.environment.clone(),
            log_group: config
                .log_group
                .clone()
                .unwrap_or_else(|| format!("/aws/lambda/{}", record.name)),
            reserved_concurrency: record.reserved_concurrency,
            revision: config.revision,
        })
    }

    /// Sets the tags of a function (TagResource), merging with the ones it has.
    pub async fn tag(&self, name: &str, tags: BTreeMap<String, String>) -> Result<(), Error> {
        if tags.is_empty() {
            // Lambda's text for an empty Tags map, which the model allows.
            return Err(Error::InvalidParameter(
                "An error occurred and the request cannot be processed.".into(),
            ));
        }
        self.change_record(name, |r| {
            r.tags.extend(tags);
            if r.tags.len() > 50 {
                return Err(Error::InvalidParameter(
                    "Number of tags exceeds resource tag limit.".into(),
                ));
            }
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Removes tags (UntagResource); missing keys are ignored, as in AWS.
    pub async fn untag(&self, name: &str, keys: &[String]) -> Result<(), Error> {
        self.change_record(name, |r| {
            for k in keys {
                r.tags.remove(k);
            }
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Sets or clears reserved concurrency, keeping `min_unreserved` for everyone else.
    pub async fn set_concurrency(&self, name: &str, reserved: Option<u32>) -> Result<(), Error> {
        // A missing function is reported before the limits; PutFunctionConcurrency names its
        // `$LATEST`, as Lambda does.
        if let (Err(e), Some(_)) = (self.entry(name), reserved) {
            return Err(match e {
                Error::FunctionNotFound { arn } => Error::FunctionNotFound {
                    arn: qualified(&arn, Some(LATEST)),
                },
                e => e,
            });
        }
        let total = self.inner.opts.total_concurrency;
        let min = self.inner.opts.min_unreserved;
        let others: u64 = self
            .read(|s| {
                s.values()
                    .filter(|e| e.record.name != name)
                    .filter_map(|e| e.record.reserved_concurrency)
                    .map(u64::from)
                    .sum()
            })
            .unwrap_or_default();
        if let Some(n) = reserved
            && others + u64::from(n) + u64::from(min) > u64::from(total)
        {
            return Err(Error::InvalidParameter(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's \
                 UnreservedConcurrentExecution below its minimum value of [{min}]."
            )));
        }
        self.change_record(name, |r| {
            r.reserved_concurrency = reserved;
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Account-wide numbers for GetAccountSettings: (function count, total code size,
    /// unreserved concurrency).
    pub fn account_usage(&self) -> (u64, u64, u32) {
        self.read(|s| {
            let count = s.len() as u64;
            let code: u64 = s
                .values()
                .map(|e| {
                    e.record.latest.code.size
                        + e.versions.values().map(|v| v.code.size).sum::<u64>()
                })
                .sum();
            let reserved: u64 = s
                .values()
                .filter_map(|e| e.record.reserved_concurrency)
                .map(u64::from)
                .sum();
            let unreserved = u64::from(self.inner.opts.total_concurrency).saturating_sub(reserved);
            (count, code, u32::try_from(unreserved).unwrap_or(u32::MAX))
        })
        .unwrap_or_default()
    }

    /// Applies `f` to the record of `name` and stores it (tags, concurrency: changes that do
    /// not touch the configuration and have no transition).
    async fn change_record(
        &self,
        name: &str,
        f: impl FnOnce(&mut FunctionRecord) -> Result<(), Error>,
    ) -> Result<FunctionRecord, Error> {
        let _w = self.inner.write.lock().await;
        let mut entry = self.entry(name)?;
        f(&mut entry.record)?;
        self.inner.meta.put_json(FUNCTIONS, name, &entry.record)?;
        let record = entry.record.clone();
        if let Ok(mut s) = self.inner.state.write() {
            s.insert(name.to_owned(), entry);
        }
        Ok(record)
    }
}

/// `arn` with `:qualifier` appended when there is one.
pub fn qualified(arn: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{arn}:{q}"),
        None => arn.to_owned(),
    }
}

/// The configuration of `version` (`$LATEST` or a number) in `e`.
pub(crate) fn version_of(e: &Entry, version: &str) -> Option<VersionConfig> {
    if version == LATEST {
        return Some(e.record.latest.clone());
    }
    let n: u64 = version.parse().ok()?;
    e.versions.get(&n).cloned()
}
