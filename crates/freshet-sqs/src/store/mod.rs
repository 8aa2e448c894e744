// SPDX-License-Identifier: Apache-2.0
//! SQS on the Freshet platform: queues on the log and the metadata store, and [`Sqs`], the
//! handle the API and other services (in process) use.
//!
//! Layout (tables, keys, log names) is in [`record`]; one open queue, its locks and its
//! durability rules in [`queue`]; the control plane (create, delete, attributes, tags,
//! dead-letter sources) in `control`, permissions in `permissions`, message move tasks in
//! `tasks`; the data plane (send, receive
//! with long polling and dead-letter moves, delete, visibility, purge) in `data`; periodic
//! work (checkpoints, loading, move-task steps) in `maintenance`.
//!
//! # Recovery
//!
//! At open, every queue record is loaded and its queue recovered from its checkpoint, the
//! journal after it and the messages appended after it (see [`queue::Queue::open`]); log
//! directories no record names (a delete cut short) are removed.

mod control;
mod data;
mod maintenance;
mod permissions;
pub(crate) mod queue;
pub(crate) mod record;
mod tasks;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freshet_log::{LogBackend, LogError, LogName};
use freshet_meta::{Meta, MetaError};
use freshet_runtime::Platform;
use freshet_types::Clock;
use rand::RngCore;

use crate::checkpoint::Checkpoint;
use crate::engine::EngineConfig;
use crate::error::Error;
use crate::redrive::QueueArn;
pub use crate::store::control::ListPage;
pub use crate::store::data::Received;
use crate::store::queue::{OpenEnv, Queue};
use crate::store::record::{
    CHECKPOINTS, NAMESPACE, QUEUES, QueueRecord, RECEIPT_KEY, SETTINGS, journal_log, messages_log,
    queue_dir,
};
pub use crate::store::tasks::MoveTaskInfo;

/// How the SQS service is set up.
#[derive(Debug, Clone)]
pub struct SqsOptions {
    /// Account id in queue URLs and ARNs.
    pub account_id: String,
    /// Region in ARNs.
    pub region: String,
    /// `host:port` in queue URLs when a request does not say which host it addressed (calls
    /// in process).
    pub default_host: String,
    /// Most messages per queue whose metadata is kept in memory (the window); later ones
    /// wait on disk.
    pub max_loaded_messages: usize,
    /// Longest time between checkpoints of a queue that changed.
    pub checkpoint_interval: Duration,
    /// Checkpoint a queue after this many journal entries and sends, even sooner.
    pub checkpoint_changes: u64,
    /// Where the AWS/SQS metrics are recorded (disabled by default).
    pub recorder: freshet_metrics::Recorder,
}

impl Default for SqsOptions {
    fn default() -> Self {
        SqsOptions {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            default_host: "localhost:4567".to_owned(),
            max_loaded_messages: 100_000,
            checkpoint_interval: Duration::from_secs(30),
            checkpoint_changes: 50_000,
            recorder: freshet_metrics::Recorder::disabled(),
        }
    }
}

/// Why an SQS call failed: an SQS error (with its AWS code), or storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqsError {
    /// An error SQS itself answers with.
    #[error(transparent)]
    Sqs(#[from] Error),
    /// The logs or the metadata store failed.
    #[error("storage failed: {0}")]
    Storage(String),
}

impl From<MetaError> for SqsError {
    fn from(e: MetaError) -> Self {
        SqsError::Storage(e.to_string())
    }
}

impl From<LogError> for SqsError {
    fn from(e: LogError) -> Self {
        SqsError::Storage(e.to_string())
    }
}

/// Why the service could not open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The metadata store failed.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A log could not be opened or listed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A queue could not be recovered.
    #[error("cannot recover queue {queue}: {source}")]
    Queue {
        /// The queue.
        queue: String,
        /// Why.
        source: SqsError,
    },
}

/// The SQS service: every queue of the account. Cheap to clone; share it.
#[derive(Debug, Clone)]
pub struct Sqs {
    inner: Arc<Inner>,
}

struct Inner {
    opts: SqsOptions,
    meta: Arc<Meta>,
    logs: Arc<dyn LogBackend>,
    clock: Arc<dyn Clock>,
    receipt_key: Vec<u8>,
    queues: RwLock<BTreeMap<String, Arc<Queue>>>,
    control: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqs")
            .field("account_id", &self.opts.account_id)
            .finish_non_exhaustive()
    }
}

impl Sqs {
    /// Opens SQS on `platform`: recovers every queue and removes the logs of queues whose
    /// delete was cut short.
    pub async fn open_on(platform: &Platform, opts: SqsOptions) -> Result<Sqs, OpenError> {
        let platform = platform.clone();
        let join = tokio::task::spawn_blocking(move || Self::open_blocking(&platform, opts)).await;
        match join {
            Ok(r) => r,
            Err(e) => Err(OpenError::Meta(MetaError::Db(format!(
                "SQS recovery task failed: {e}"
            )))),
        }
    }

    fn open_blocking(platform: &Platform, opts: SqsOptions) -> Result<Sqs, OpenError> {
        let meta = platform.meta.clone();
        let receipt_key = meta.get_or_init(SETTINGS, RECEIPT_KEY, || {
            let mut k = vec![0u8; 32];
            rand::rng().fill_bytes(&mut k);
            k
        })?;
        let records: Vec<(String, QueueRecord)> = meta.scan_json(QUEUES, "")?;
        let inner = Inner {
            opts,
            meta,
            logs: platform.logs.clone(),
            clock: platform.clock.clone(),
            receipt_key,
            queues: RwLock::new(BTreeMap::new()),
            control: tokio::sync::Mutex::new(()),
        };
        let sqs = Sqs {
            inner: Arc::new(inner),
        };
        let live: BTreeSet<String> = records.iter().map(|(_, r)| r.dir()).collect();
        for dir in sqs.inner.logs.list(&LogName::root(NAMESPACE)?)? {
            if !live.contains(&dir) {
                tracing::info!(dir = %dir, "Removing the logs of a deleted queue.");
                sqs.inner.logs.remove(&queue_dir(&dir)?)?;
            }
        }
        for (dir, _) in sqs.inner.meta.scan(CHECKPOINTS, "")? {
            if !live.contains(&dir) {
                // A checkpoint that raced its queue's delete.
                sqs.inner.meta.delete(CHECKPOINTS, &dir)?;
            }
        }
        for (_, rec) in records {
            let q = sqs.open_queue(&rec).map_err(|source| OpenError::Queue {
                queue: rec.name.clone(),
                source,
            })?;
            sqs.write_queues().insert(rec.name.clone(), q);
        }
        Ok(sqs)
    }

    /// Opens one queue's logs and recovers it. Blocks.
    fn open_queue(&self, rec: &QueueRecord) -> Result<Arc<Queue>, SqsError> {
        let i = &self.inner;
        let dir = rec.dir();
        let messages = i.logs.open(&messages_log(&dir)?)?;
        let journal = i.logs.open(&journal_log(&dir)?)?;
        let checkpoint = match i.meta.get(CHECKPOINTS, &dir)? {
            Some(blob) => Some(Checkpoint::decode(&blob).map_err(|e| {
                SqsError::Storage(format!("checkpoint of queue {}: {e}", rec.name))
            })?),
            None => None,
        };
        Queue::open(
            rec,
            OpenEnv {
                arn: self.arn_of(&rec.name),
                config: self.engine_config(),
                receipt_key: &i.receipt_key,
                clock: i.clock.clone(),
                messages,
                journal,
                checkpoint,
                recorder: &i.opts.recorder,
            },
        )
    }

    fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            window_cap: self.inner.opts.max_loaded_messages.max(1),
            ..EngineConfig::default()
        }
    }

    fn read_queues(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Queue>>> {
        self.inner.queues.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_queues(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Queue>>> {
        self.inner.queues.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The options the service runs with.
    pub fn options(&self) -> &SqsOptions {
        &self.inner.opts
    }

    /// The ARN of queue `name`: `arn:aws:sqs:<region>:<account>:<name>`.
    pub fn arn_of(&self, name: &str) -> String {
        let o = &self.inner.opts;
        format!("arn:aws:sqs:{}:{}:{name}", o.region, o.account_id)
    }

    /// The URL of queue `name` as reached through `host` (`host:port`; the default host when
    /// `None`): `http://<host>/<account>/<name>`.
    pub fn url_of(&self, host: Option<&str>, name: &str) -> String {
        let o = &self.inner.opts;
        format!(
            "http://{}/{}/{name}",
            host.unwrap_or(&o.default_host),
            o.account_id
        )
    }

    /// The names of every queue, sorted.
    pub fn queue_names(&self) -> Vec<String> {
        self.read_queues().keys().cloned().collect()
    }

    /// How many messages of queue `name` have their metadata in memory (at most
    /// [`SqsOptions::max_loaded_messages`], whatever the backlog).
    pub fn loaded_messages(&self, name: &str) -> Option<usize> {
        self.read_queues()
            .get(name)
            .map(|q| q.lock().engine.loaded_len())
    }

    /// Whether every queue's storage is healthy.
    pub fn healthy(&self) -> bool {
        self.read_queues()
            .values()
            .all(|q| !q.is_failed() && !q.logs_poisoned())
    }

    pub(crate) fn queue(&self, name: &str) -> Result<Arc<Queue>, Error> {
        self.read_queues()
            .get(name)
            .cloned()
            .ok_or(Error::QueueDoesNotExist)
    }

    /// The queue a QueueUrl names: `http(s)://<host>/<account>/<name>` (any host), or the
    /// path alone. A URL of another account is a queue that does not exist.
    pub(crate) fn queue_by_url(&self, url: &str) -> Result<Arc<Queue>, Error> {
        let (account, name) = parse_queue_url(url).ok_or(Error::InvalidAddress)?;
        if account != self.inner.opts.account_id {
            return Err(Error::QueueDoesNotExist);
        }
        self.queue(name)
    }

    /// The queue an ARN names, if it is one of this account's and region's.
    pub(crate) fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let a = QueueArn::parse(arn)?;
        let o = &self.inner.opts;
        if a.account != o.account_id || a.region != o.region {
            return None;
        }
        self.read_queues().get(&a.name).cloned()
    }

    fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }
}

/// `(account, name)` of a queue URL: its last two path segments.
pub(crate) fn parse_queue_url(url: &str) -> Option<(&str, &str)> {
    let path = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            &rest[rest.find('/')?..]
        }
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut parts = path.trim_matches('/').split('/').filter(|s| !s.is_empty());
    let mut segs: Vec<&str> = parts.by_ref().collect();
    let name = segs.pop()?;
    let account = segs.pop()?;
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let valid_name = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    (valid_account && valid_name).then_some((account, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_name_their_account_and_queue() {
        assert_eq!(
            parse_queue_url("http://localhost:4567/000000000000/orders"),
            Some(("000000000000", "orders"))
        );
        assert_eq!(
            parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"),
            Some(("123456789012", "q.fifo"))
        );
        assert_eq!(
            parse_queue_url("/000000000000/orders"),
            Some(("000000000000", "orders"))
        );
        assert_eq!(
            parse_queue_url("http://localhost:4566/queue/us-east-1/000000000000/q"),
            Some(("000000000000", "q"))
        );
        for bad in [
            "",
            "orders",
            "http://h/",
            "http://h/12/q",
            "http://h/000000000000/a b",
        ] {
            assert_eq!(parse_queue_url(bad), None, "{bad}");
        }
    }
}
