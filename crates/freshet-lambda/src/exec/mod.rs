// SPDX-License-Identifier: Apache-2.0
//! The executor: runs a [`FunctionSpec`]'s handler the way AWS Lambda does, with no Docker.
//!
//! Each execution environment is a local process (`python3`/`node` under a runtime client
//! Freshet embeds, or the function's own `bootstrap`) talking to a Lambda Runtime API that
//! Freshet serves for that environment alone on 127.0.0.1 (`runtime_api.rs`). Environments
//! are kept warm and reused per function version and spec revision (`pool.rs`); what the
//! handler prints and Lambda's START/END/REPORT lines go to the function's log group through
//! a [`LogSink`] (`sink.rs`).
//!
//! - `format.rs`: Lambda's exact texts (log lines, platform error documents, stream names).
//! - `vars.rs`: the environment variables of a runtime process.
//! - `process.rs`: process groups, output lines, exit, peak memory.
//! - `procs.rs`: the record of running handler processes, and stopping the ones a killed
//!   server left behind at the next start.
//! - `environment.rs`: one environment and the state machine of one invocation.
//! - `clients.rs`: the embedded runtime clients and interpreter lookup.
//! - `pool.rs`: warm environments, concurrency, throttling, retirement, idle expiry.

mod clients;
mod environment;
pub mod format;
mod pool;
mod process;
mod procs;
pub mod runtime_api;
mod sink;
mod vars;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use pool::Executor;
pub use sink::{LogEvent, LogSink, LogSinkError};

/// How the executor runs functions.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// Where runtime clients are written and environments get their scratch directories.
    pub work_dir: PathBuf,
    /// Most invocations in flight over all functions; beyond it invocations are throttled
    /// (`ConcurrentInvocationLimitExceeded`).
    pub max_concurrency: u32,
    /// How long an environment may sit idle before it is stopped.
    pub idle_timeout: Duration,
    /// How long a runtime may take to initialise (Lambda: 10 s).
    pub init_timeout: Duration,
    /// Interpreter per runtime id (`python3.12` → `/usr/bin/python3.12`, `nodejs20.x` →
    /// `node`); by default `python3.<minor>` if it runs, else `python3`, and `node`.
    pub interpreters: BTreeMap<String, PathBuf>,
    /// `AWS_REGION` of handlers.
    pub region: String,
    /// `AWS_ENDPOINT_URL` of handlers (Freshet's endpoint), unless the function sets its own.
    pub endpoint_url: Option<String>,
    /// The dummy `AWS_ACCESS_KEY_ID` of handlers.
    pub access_key_id: String,
    /// The dummy `AWS_SECRET_ACCESS_KEY` of handlers.
    pub secret_access_key: String,
    /// The dummy `AWS_SESSION_TOKEN` of handlers.
    pub session_token: String,
}

impl ExecConfig {
    /// Defaults for `work_dir`: 100 concurrent invocations, environments idle for 5 minutes
    /// are stopped, 10 s init, region `us-east-1`, no endpoint, `test` credentials.
    pub fn new(work_dir: impl Into<PathBuf>) -> ExecConfig {
        ExecConfig {
            work_dir: work_dir.into(),
            max_concurrency: 100,
            idle_timeout: Duration::from_secs(300),
            init_timeout: Duration::from_secs(10),
            interpreters: BTreeMap::new(),
            region: "us-east-1".to_owned(),
            endpoint_url: None,
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
            session_token: "test".to_owned(),
        }
    }
}

/// The executor could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("Could not write {path}: {source}")]
pub struct SetupError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}
