// SPDX-License-Identifier: Apache-2.0
//! [`Logs`]: the CloudWatch Logs service handle. It owns the log groups of one server,
//! recovers them at open, and serializes control-plane changes; the data path (`append.rs`),
//! reads (`read.rs`, `filter_events.rs`, `describe.rs`, `live_tail.rs`), metric filters and
//! maintenance (`maintenance.rs`) are `impl Logs` blocks of their own modules.
//!
//! Concurrency: control-plane changes (create and delete of groups and streams, retention,
//! tags, metric filters, checkpoints) hold one async mutex and commit to the metadata store
//! before they change memory. The data path takes no global lock: it clones the group's `Arc`
//! out of a read-locked map and appends to the group's log, which serializes appends.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_log::{LogBackend, LogError};
use freshet_meta::{Meta, TxnExt};
use freshet_runtime::{Platform, Tasks};
use freshet_types::Clock;

use crate::error::{Error, Result};
use crate::group::Group;
use crate::model::{GroupRef, NewGroup};
use crate::names;
use crate::store::{self, GroupRecord, StreamRecord};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Settings of the Logs service.
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// Account id in ARNs.
    pub account_id: String,
    /// Region in ARNs.
    pub region: String,
    /// Period of StartLiveTail's session updates (AWS: one second).
    pub live_tail_interval: Duration,
    /// How long a StartLiveTail session stays open (AWS: three hours).
    pub live_tail_timeout: Duration,
    /// Most log groups (LimitExceededException beyond; AWS: 1,000,000 per region).
    pub max_log_groups: usize,
    /// Where the AWS/Logs and metric filter metrics are recorded (disabled by default).
    pub recorder: freshet_metrics::Recorder,
}

impl Default for LogsOptions {
    fn default() -> Self {
        LogsOptions {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            live_tail_interval: Duration::from_secs(1),
            live_tail_timeout: Duration::from_secs(3 * 60 * 60),
            max_log_groups: 1_000_000,
            recorder: freshet_metrics::Recorder::disabled(),
        }
    }
}

/// The CloudWatch Logs service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Logs {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) backend: Arc<dyn LogBackend>,
    pub(crate) meta: Arc<Meta>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) tasks: Tasks,
    pub(crate) opts: LogsOptions,
    pub(crate) groups: RwLock<BTreeMap<String, Arc<Group>>>,
    pub(crate) control: tokio::sync::Mutex<()>,
    /// Logs Insights queries.
    pub(crate) insights: crate::insights::queries::Queries,
    /// Live Tail sessions open now.
    pub(crate) live_tails: Arc<std::sync::atomic::AtomicUsize>,
    /// The AWS/Logs metrics.
    pub(crate) metrics: crate::metrics::LogsMetrics,
    /// Subscription filters and their destinations.
    pub(crate) subscriptions: crate::subscriptions::Registry,
}

/// Runs blocking work (metadata commits, log opens and scans) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Task(e.to_string()))?
}

impl Logs {
    /// Opens the service on `platform`: loads every group, opens its log, replays the log
    /// after each group's checkpoint, and starts rebuilding stream indexes in the background.
    pub async fn open(platform: &Platform, opts: LogsOptions) -> Result<Logs> {
        let meta = platform.meta.clone();
        let backend = platform.logs.clone();
        let loaded = blocking(move || {
            let loaded = meta.read(store::load_all)?;
            sweep_orphan_logs(backend.as_ref(), &loaded);
            let mut groups = Vec::with_capacity(loaded.len());
            let mut replayed = 0u64;
            for l in loaded {
                let log = backend.open(&store::log_name(l.group.id)?)?;
                let group = Group::new(l.group, log, l.streams, l.checkpoint, l.filters);
                replayed += group.replay();
                groups.push(Arc::new(group));
            }
            if !groups.is_empty() {
                tracing::info!(
                    groups = groups.len(),
                    replayed,
                    "Recovered CloudWatch Logs groups."
                );
            }
            Ok(groups)
        })
        .await?;
        let logs = Logs {
            inner: Arc::new(Inner {
                metrics: crate::metrics::LogsMetrics::new(opts.recorder.clone()),
                backend: platform.logs.clone(),
                meta: platform.meta.clone(),
                clock: platform.clock.clone(),
                tasks: platform.tasks.clone(),
                opts,
                groups: RwLock::new(BTreeMap::new()),
                control: tokio::sync::Mutex::new(()),
                insights: Default::default(),
                live_tails: Arc::default(),
                subscriptions: crate::subscriptions::Registry::default(),
            }),
        };
        {
            let mut map = logs.groups_mut();
            for g in &loaded {
                map.insert(g.name.clone(), g.clone());
            }
        }
        for g in loaded {
            logs.rebuild_index_later(g);
        }
        let l = logs.clone();
        blocking(move || l.load_subscriptions()).await?;
        Ok(logs)
    }

    /// Rebuilds the stream indexes of the range recovery could not index, in the background.
    fn rebuild_index_later(&self, g: Arc<Group>) {
        let upto = {
            let data = g.data();
            let unknown_end = data
                .streams
                .values()
                .filter_map(|s| s.index.chunks().first())
                .filter(|c| c.events == u32::MAX)
                .map(|c| c.end())
                .max();
            match unknown_end {
                Some(end) => end,
                None => return,
            }
        };
        self.inner.tasks.spawn(async move {
            let name = g.name.clone();
            let built = tokio::task::spawn_blocking(move || g.build_index(upto)).await;
            match built {
                Ok(Ok(())) => tracing::debug!(group = %name, "Rebuilt the stream indexes."),
                Ok(Err(error)) => {
                    tracing::warn!(group = %name, %error, "Cannot rebuild the stream indexes; reads scan more of the log.");
                }
                Err(error) => tracing::warn!(group = %name, %error, "Index rebuild task failed."),
            }
        });
    }

    pub(crate) fn groups(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Group>>> {
        self.inner.groups.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn groups_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Group>>> {
        self.inner.groups.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The server clock's time.
    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// How many StartLiveTail sessions are open.
    pub fn live_tail_sessions(&self) -> usize {
        self.inner
            .live_tails
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The options the service runs with.
    pub fn options(&self) -> &LogsOptions {
        &self.inner.opts
    }

    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (no `:*`).
    pub fn group_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{name}",
            self.inner.opts.region, self.inner.opts.account_id
        )
    }

    /// The group of this name.
    pub(crate) fn group(&self, name: &str) -> Result<Arc<Group>> {
        self.groups()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::GroupNotFound {
                group: name.to_owned(),
            })
    }

    /// The group name in a log group ARN of this account and region (`:*` allowed), if it is
    /// one.
    pub(crate) fn name_in_arn<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let rest = arn.strip_prefix("arn:")?;
        let mut parts = rest.splitn(5, ':');
        let (partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if !partition.starts_with("aws")
            || service != "logs"
            || region != self.inner.opts.region
            || account != self.inner.opts.account_id
        {
            return None;
        }
        let name = resource.strip_prefix("log-group:")?;
        Some(name.strip_suffix(":*").unwrap_or(name))
    }

    /// The group a request names.
    pub(crate) fn resolve(&self, group: &GroupRef) -> Result<Arc<Group>> {
        match group {
            GroupRef::Name(name) => self.group(name),
            GroupRef::Identifier(id) if id.starts_with("arn:") => {
                let name = self.name_in_arn(id).ok_or_else(|| Error::BadIdentifier {
                    identifier: id.clone(),
                })?;
                self.group(name)
            }
            GroupRef::Identifier(name) => self.group(name),
        }
    }

    /// The groups whose log is read-only after a storage failure.
    pub fn poisoned_groups(&self) -> Vec<String> {
        self.groups()
            .values()
            .filter(|g| g.log.is_poisoned())
            .map(|g| g.name.clone())
            .collect()
    }

    /// The names of every group, in order.
    pub fn group_names(&self) -> Vec<String> {
        self.groups().keys().cloned().collect()
    }

    /// CreateLogGroup.
    pub async fn create_log_group(&self, new: NewGroup) -> Result<()> {
        names::validate_new_log_group_name(&new.name)?;
        let _control = self.inner.control.lock().await;
        {
            let groups = self.groups();
            if groups.contains_key(&new.name) {
                return Err(Error::GroupExists { group: new.name });
            }
            if groups.len() >= self.inner.opts.max_log_groups {
                return Err(Error::GroupLimit);
            }
        }
        let now = self.now_ms();
        let meta = self.inner.meta.clone();
        let backend = self.inner.backend.clone();
        let group = blocking(move || {
            let record = meta.transaction(|t| {
                if t.get(store::GROUPS, &new.name)?.is_some() {
                    return Err(Error::GroupExists {
                        group: new.name.clone(),
                    });
                }
                let record = GroupRecord {
                    id: store::allocate_id(t)?,
                    name: new.name.clone(),
                    created_ms: now,
                    retention_days: None,
                    kms_key_id: new.kms_key_id.clone(),
                    class: new.class.clone().unwrap_or_else(|| "STANDARD".to_owned()),
                    deletion_protection: new.deletion_protection,
                    tags: new.tags.clone(),
                };
                t.put_json(store::GROUPS, &record.name, &record)?;
                Ok::<_, Error>(record)
            })?;
            let log = match store::log_name(record.id).and_then(|n| backend.open(&n)) {
                Ok(log) => log,
                Err(e) => {
                    // Take the record back, so the name is free again.
                    meta.transaction(|t| store::delete_group(t, &record))?;
                    return Err(e.into());
                }
            };
            Ok(Group::new(record, log, Vec::new(), None, Vec::new()))
        })
        .await?;
        self.groups_mut()
            .insert(group.name.clone(), Arc::new(group));
        Ok(())
    }

    /// DeleteLogGroup: the records at once, the log's data right after.
    pub async fn delete_log_group(&self, name: &str) -> Result<()> {
        let _control = self.inner.control.lock().await;
        let g = self.group(name)?;
        let record = g.record().clone();
        if record.deletion_protection {
            return Err(Error::DeletionProtected {
                group: name.to_owned(),
            });
        }
        let meta = self.inner.meta.clone();
        blocking(move || Ok(meta.transaction(|t| store::delete_group(t, &record))?)).await?;
        self.groups_mut().remove(name);
        g.mark_deleted();
        self.inner.subscriptions.group_deleted(g.id);
        let backend = self.inner.backend.clone();
        let removed = blocking(move || {
            g.log.close()?;
            backend.remove(g.log.name())?;
            Ok(())
        })
        .await;
        if let Err(error) = removed {
            // The records are gone, so the group is; its directory is only garbage now.
            tracing::warn!(group = %name, %error, "Deleted the log group but could not remove its data.");
        }
        Ok(())
    }

    /// CreateLogStream.
    pub async fn create_log_stream(&self, group: &str, stream: &str) -> Result<()> {
        names::validate_log_stream_name(stream)?;
        let _control = self.inner.control.lock().await;
        let g = self.group(group)?;
        if g.stream_id(stream).is_some() {
            return Err(Error::StreamExists {
                group: group.to_owned(),
                stream: stream.to_owned(),
            });
        }
        let now = self.now_ms();
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, stream);
        let name = stream.to_owned();
        let (gname, sname) = (group.to_owned(), stream.to_owned());
        let record = blocking(move || {
            meta.transaction(|t| {
                if t.get(store::STREAMS, &key)?.is_some() {
                    return Err(Error::StreamExists {
                        group: gname.clone(),
                        stream: sname.clone(),
                    });
                }
                let record = StreamRecord {
                    id: store::allocate_id(t)?,
                    name: name.clone(),
                    created_ms: now,
                };
                t.put_json(store::STREAMS, &key, &record)?;
                Ok(record)
            })
        })
        .await?;
        g.data().streams.insert(
            record.name,
            crate::group::StreamState {
                id: record.id,
                created_ms: record.created_ms,
                stats: store::StatsRecord::default(),
                index: crate::index::SparseIndex::default(),
                dirty: false,
            },
        );
        Ok(())
    }

    /// DeleteLogStream: the record and statistics at once; the events stay in the group's log,
    /// invisible (no stream has their id), until retention or the group's deletion removes
    /// their segments.
    pub async fn delete_log_stream(&self, group: &str, stream: &str) -> Result<()> {
        let _control = self.inner.control.lock().await;
        let g = self.group(group)?;
        if g.record().deletion_protection {
            return Err(Error::DeletionProtected {
                group: group.to_owned(),
            });
        }
        let Some(id) = g.stream_id(stream) else {
            return Err(Error::StreamNotFound {
                group: group.to_owned(),
                stream: stream.to_owned(),
            });
        };
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, stream);
        blocking(move || {
            meta.transaction(|t| {
                t.delete(store::STREAMS, &key)?;
                t.delete(store::STATS, &store::stats_key(id))?;
                Ok::<_, Error>(())
            })
        })
        .await?;
        g.data().streams.remove(stream);
        Ok(())
    }

    /// Changes a group's record durably, then in memory.
    pub(crate) async fn update_group(
        &self,
        name: &str,
        change: impl FnOnce(&mut GroupRecord) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let _control = self.inner.control.lock().await;
        let g = self.group(name)?;
        let mut record = g.record().clone();
        change(&mut record)?;
        let meta = self.inner.meta.clone();
        let stored = record.clone();
        blocking(move || Ok(meta.put_json(store::GROUPS, &stored.name, &stored)?)).await?;
        *g.record_mut() = record;
        Ok(())
    }

    /// PutRetentionPolicy.
    pub async fn put_retention_policy(&self, group: &str, days: i64) -> Result<()> {
        let days = names::validate_retention_days(days)?;
        self.update_group(group, move |r| {
            r.retention_days = Some(days);
            Ok(())
        })
        .await
    }

    /// DeleteRetentionPolicy.
    pub async fn delete_retention_policy(&self, group: &str) -> Result<()> {
        self.update_group(group, |r| {
            r.retention_days = None;
            Ok(())
        })
        .await
    }

    /// PutLogGroupDeletionProtection.
    pub async fn put_deletion_protection(&self, group: &GroupRef, enabled: bool) -> Result<()> {
        let name = self.resolve(group)?.name.clone();
        self.update_group(&name, move |r| {
            r.deletion_protection = enabled;
            Ok(())
        })
        .await
    }
}

/// Removes group logs whose group record is gone (a deletion that crashed before it removed
/// the data, or whose removal failed).
fn sweep_orphan_logs(backend: &dyn LogBackend, loaded: &[store::LoadedGroup]) {
    let Ok(root) = freshet_log::LogName::root(store::NAMESPACE) else {
        return;
    };
    let live: std::collections::HashSet<String> = loaded
        .iter()
        .map(|l| store::group_key(l.group.id))
        .collect();
    let children = match backend.list(&root) {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(%error, "Cannot list the CloudWatch Logs logs.");
            return;
        }
    };
    for child in children.into_iter().filter(|c| !live.contains(c)) {
        match root.child(child.clone()).and_then(|n| backend.remove(&n)) {
            Ok(()) => tracing::info!(log = %child, "Removed the log of a deleted log group."),
            Err(error) => {
                tracing::warn!(log = %child, %error, "Cannot remove the log of a deleted log group.")
            }
        }
    }
}

/// Maps a log failure of a group that may have been deleted meanwhile.
pub(crate) fn log_error(g: &Group, e: LogError) -> Error {
    if g.is_deleted() {
        Error::GroupNotFound {
            group: g.name.clone(),
        }
    } else {
        Error::Log(e)
    }
}
