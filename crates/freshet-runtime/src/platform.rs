// SPDX-License-Identifier: Apache-2.0
//! What every service is built on: the log backend, the metadata store, the clock and the
//! background-task handle, shared by all services of one server.
//!
//! [`Platform::open_local`] lays out an embedded data directory:
//!
//! ```text
//! <data>/meta.redb        metadata store (every service's tables, namespaced)
//! <data>/logs/<ns>/...    logs, one directory per log, under the owning service's namespace
//! ```
//!
//! A data directory written before namespaces kept Kinesis shard logs in `<data>/streams`;
//! opening it moves that directory to `<data>/logs/kinesis` (one rename). The services migrate
//! their own legacy metadata tables.

use std::path::Path;
use std::sync::Arc;

use freshet_log::{LocalBackend, LogBackend, LogConfig, LogError};
use freshet_meta::{Meta, MetaError};
use freshet_types::Clock;

use crate::Tasks;

/// Why the platform could not open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The log backend failed to open.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The metadata store failed to open.
    #[error(transparent)]
    Meta(#[from] MetaError),
}

/// The shared foundations of the services of one server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Where logs live.
    pub logs: Arc<dyn LogBackend>,
    /// The metadata store.
    pub meta: Arc<Meta>,
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
    /// Background work, cancelled at shutdown.
    pub tasks: Tasks,
}

impl Platform {
    /// The embedded platform in `data_dir` (created if missing).
    pub fn open_local(
        data_dir: &Path,
        log_config: LogConfig,
        clock: Arc<dyn Clock>,
        tasks: Tasks,
    ) -> Result<Platform, PlatformError> {
        std::fs::create_dir_all(data_dir).map_err(|source| PlatformError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let logs = LocalBackend::open(&data_dir.join("logs"), log_config)?;
        logs.adopt_legacy_dir(&data_dir.join("streams"), "kinesis")?;
        let meta = Meta::open_local(&data_dir.join("meta.redb"))?;
        Ok(Platform {
            logs: Arc::new(logs),
            meta: Arc::new(meta),
            clock,
            tasks,
        })
    }

    /// Makes every log durable, stops the log's background work and closes the metadata
    /// store. Call once, after the last request and after the services shut down. Blocks.
    pub fn shutdown(&self) {
        self.logs.shutdown();
        self.meta.close();
    }
}
