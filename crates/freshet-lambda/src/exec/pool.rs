// SPDX-License-Identifier: Apache-2.0
//! [`Executor`]: warm environments, concurrency and throttling.
//!
//! Invariants, all under one short mutex (never held across an await):
//! - an invocation holds a slot from admission to the end: per function (`busy`, checked
//!   against reserved concurrency) and in total (`total_busy`, checked against
//!   `max_concurrency`); beyond either it is throttled, never queued;
//! - an idle environment is reused only for the same version and spec revision; a newer
//!   revision of a version retires the older idle environments at once and the busy ones
//!   when they finish; `retire` and `shutdown` do the same for a whole function or all;
//! - an environment is returned to the pool only after an invocation that completed on a
//!   healthy environment; a cancelled invocation (the caller went away) kills it;
//! - every started process is either in the pool, in a slot, or killed: `shutdown` kills
//!   the idle ones and the busy ones' process groups.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::exec::clients::{self, Clients};
use crate::exec::environment::{Environment, Start};
use crate::exec::format::MAX_REQUEST_BYTES;
use crate::exec::procs::ProcessRegistry;
use crate::exec::sink::LogSink;
use crate::exec::{ExecConfig, SetupError};
use crate::spec::{FunctionSpec, Invocation, InvocationResult, InvokeError, Runtime};

/// Throttle reason when the function's reserved concurrency is in use.
const RESERVED_REASON: &str = "ReservedFunctionConcurrentInvocationLimitExceeded";
/// Throttle reason when the executor's total is in use.
const TOTAL_REASON: &str = "ConcurrentInvocationLimitExceeded";

/// Runs handlers in warm local processes. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

struct Inner {
    config: ExecConfig,
    sink: Arc<dyn LogSink>,
    clients: Clients,
    scratch_root: PathBuf,
    processes: Arc<ProcessRegistry>,
    pool: Mutex<Pool>,
    interpreters: tokio::sync::Mutex<HashMap<Runtime, Option<PathBuf>>>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Pool {
    total_busy: u32,
    functions: HashMap<String, FnState>,
    /// Process ids of environments running an invocation, by slot id.
    running: HashMap<u64, i32>,
    shutting_down: bool,
}

#[derive(Default)]
struct FnState {
    busy: u32,
    idle: Vec<Environment>,
    /// Newest spec revision seen per version.
    latest: HashMap<String, u64>,
    /// Bumped by `retire`: environments from an older epoch are not reused.
    epoch: u64,
}

impl Executor {
    /// Stops the handler processes an earlier run left behind (see `procs.rs`), writes the
    /// runtime clients under `config.work_dir` and starts the idle reaper (call inside a tokio
    /// runtime).
    pub fn new(config: ExecConfig, sink: Arc<dyn LogSink>) -> Result<Executor, SetupError> {
        let (processes, _reaped) = ProcessRegistry::open(&config.work_dir.join("processes"))?;
        let clients = Clients::write(&config.work_dir.join("runtime"))?;
        let scratch_root = config.work_dir.join("environments");
        // Scratch directories of a previous run are garbage now.
        let _ = std::fs::remove_dir_all(&scratch_root);
        std::fs::create_dir_all(&scratch_root).map_err(|source| SetupError {
            path: scratch_root.clone(),
            source,
        })?;
        let inner = Arc::new(Inner {
            config,
            sink,
            clients,
            scratch_root,
            processes: Arc::new(processes),
            pool: Mutex::new(Pool::default()),
            interpreters: tokio::sync::Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(reap_idle(Arc::downgrade(&inner)));
        Ok(Executor { inner })
    }

    /// Invokes `spec`'s handler with `invocation`, on a warm environment when one is idle.
    /// Function failures (errors, timeouts, crashes, init failures) are `Ok` results with
    /// `function_error` set; `Err` means the function did not run.
    pub async fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> Result<InvocationResult, InvokeError> {
        if invocation.payload.len() > MAX_REQUEST_BYTES {
            return Err(InvokeError::RequestTooLarge(format!(
                "Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation"
            )));
        }
        let inner = &self.inner;
        let (warm, epoch, retired) = inner.admit(&spec)?;
        drop(retired);
        let slot_id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut slot = Slot {
            inner: inner.clone(),
            arn: spec.arn.clone(),
            id: slot_id,
            epoch,
            env: None,
            completed: false,
        };
        let env = match warm {
            Some(env) => env,
            None => inner.start_env(&spec).await?,
        };
        slot.set_env(env);
        let Some(env) = slot.env.as_mut() else {
            return Err(InvokeError::Service("environment lost".to_owned()));
        };
        let result = env.invoke(&spec, invocation).await;
        slot.completed = true;
        result
    }

    /// Stops every environment of the function `arn` (deleted or changed in a way the spec
    /// revision does not capture); busy ones stop when their invocation ends.
    pub fn retire(&self, arn: &str) {
        let idle = match self.inner.pool.lock() {
            Ok(mut p) => p.functions.get_mut(arn).map(|f| {
                f.epoch += 1;
                std::mem::take(&mut f.idle)
            }),
            Err(_) => None,
        };
        drop(idle);
    }

    /// Stops everything: idle environments at once, busy ones by killing their process
    /// groups (their invocations end as crashed). Later invocations fail.
    pub fn shutdown(&self) {
        let (idle, running): (Vec<Environment>, Vec<i32>) = match self.inner.pool.lock() {
            Ok(mut p) => {
                p.shutting_down = true;
                let idle = p
                    .functions
                    .values_mut()
                    .flat_map(|f| std::mem::take(&mut f.idle))
                    .collect();
                (idle, p.running.values().copied().collect())
            }
            Err(_) => (Vec::new(), Vec::new()),
        };
        drop(idle);
        for pid in running {
            if let Some(p) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
            }
        }
    }

    /// How many environments of `arn` are idle (for tests and the console).
    pub fn idle_environments(&self, arn: &str) -> usize {
        self.inner
            .pool
            .lock()
            .map(|p| p.functions.get(arn).map_or(0, |f| f.idle.len()))
            .unwrap_or(0)
    }
}

impl Inner {
    /// Takes a slot (or throttles) and a matching idle environment if there is one; returns
    /// the environments this spec's revision retires, to be dropped outside the lock.
    #[allow(clippy::type_complexity)]
    fn admit(
        &self,
        spec: &FunctionSpec,
    ) -> Result<(Option<Environment>, u64, Vec<Environment>), InvokeError> {
        let mut pool = self
            .pool
            .lock()
            .map_err(|_| InvokeError::Service("executor state poisoned".to_owned()))?;
        if pool.shutting_down {
            return Err(InvokeError::Service(
                "The executor is shutting down".to_owned(),
            ));
        }
        let total_busy = pool.total_busy;
        let f = pool.functions.entry(spec.arn.clone()).or_default();
        let latest = f
            .latest
            .entry(spec.version.clone())
            .or_insert(spec.revision);
        if spec.revision > *latest {
            *latest = spec.revision;
        }
        let latest = *latest;
        let (keep, retired): (Vec<Environment>, Vec<Environment>) = std::mem::take(&mut f.idle)
            .into_iter()
            .partition(|e| e.version != spec.version || e.revision >= latest);
        f.idle = keep;
        if let Some(reserved) = spec.reserved_concurrency
            && f.busy >= reserved
        {
            return Err(InvokeError::Throttled {
                reason: RESERVED_REASON.to_owned(),
            });
        }
        if total_busy >= self.config.max_concurrency {
            return Err(InvokeError::Throttled {
                reason: TOTAL_REASON.to_owned(),
            });
        }
        f.busy += 1;
        let epoch = f.epoch;
        let warm = f
            .idle
            .iter()
            .rposition(|e| e.version == spec.version && e.revision == spec.revision)
            .map(|i| f.idle.remove(i));
        pool.total_busy += 1;
        Ok((warm, epoch, retired))
    }

    async fn start_env(&self, spec: &FunctionSpec) -> Result<Environment, InvokeError> {
        let interpreter = if spec.runtime.is_provided() {
            None
        } else {
            Some(self.interpreter(spec.runtime).await?)
        };
        let id = u128::from_be_bytes(*uuid::Uuid::new_v4().as_bytes());
        let c = &self.config;
        Environment::start(
            spec,
            Start {
                id,
                interpreter: interpreter.as_deref(),
                client: self.clients.script(spec.runtime),
                runtime_dir: &self.clients.dir,
                scratch_root: &self.scratch_root,
                region: &c.region,
                endpoint_url: c.endpoint_url.as_deref(),
                credentials: (&c.access_key_id, &c.secret_access_key, &c.session_token),
                sink: self.sink.clone(),
                init_timeout: c.init_timeout,
                registry: Some(self.processes.clone()),
            },
        )
        .await
    }

    async fn interpreter(&self, runtime: Runtime) -> Result<PathBuf, InvokeError> {
        let mut cache = self.interpreters.lock().await;
        if let Some(found) = cache.get(&runtime) {
            return found.clone().ok_or_else(|| missing(runtime, &self.config));
        }
        let candidates = match self.config.interpreters.get(runtime.id()) {
            Some(p) => vec![p.to_string_lossy().into_owned()],
            None => clients::default_candidates(runtime),
        };
        let found = clients::resolve(runtime, &candidates).await;
        cache.insert(runtime, found.clone());
        found.ok_or_else(|| missing(runtime, &self.config))
    }
}

fn missing(runtime: Runtime, config: &ExecConfig) -> InvokeError {
    let tried = match config.interpreters.get(runtime.id()) {
        Some(p) => p.display().to_string(),
        None => clients::default_candidates(runtime).join(", "),
    };
    InvokeError::Service(format!(
        "No interpreter for runtime {runtime} on this machine (tried {tried}); install one or configure it."
    ))
}

/// An invocation's hold on the pool: releases its concurrency slot when dropped, and puts
/// its environment back only if the invocation completed on a healthy, current environment.
struct Slot {
    inner: Arc<Inner>,
    arn: String,
    id: u64,
    epoch: u64,
    env: Option<Environment>,
    completed: bool,
}

impl Slot {
    fn set_env(&mut self, env: Environment) {
        if let (Some(pid), Ok(mut p)) = (env.pid(), self.inner.pool.lock()) {
            p.running.insert(self.id, pid);
        }
        self.env = Some(env);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let env = self.env.take();
        let mut discard = None;
        if let Ok(mut p) = self.inner.pool.lock() {
            p.total_busy = p.total_busy.saturating_sub(1);
            p.running.remove(&self.id);
            let shutting_down = p.shutting_down;
            if let Some(f) = p.functions.get_mut(&self.arn) {
                f.busy = f.busy.saturating_sub(1);
                match env {
                    Some(e)
                        if self.completed
                            && !shutting_down
                            && e.is_healthy()
                            && f.epoch == self.epoch
                            && f.latest.get(&e.version).is_none_or(|l| *l <= e.revision) =>
                    {
                        f.idle.push(e);
                    }
                    other => discard = other,
                }
            } else {
                discard = env;
            }
        } else {
            discard = env;
        }
        drop(discard);
    }
}

/// Stops environments idle longer than the configured time; ends with the executor.
async fn reap_idle(inner: Weak<Inner>) {
    let period = Duration::from_secs(1);
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else { return };
        let idle_timeout = inner.config.idle_timeout;
        let expired: Vec<Environment> = match inner.pool.lock() {
            Ok(mut p) => {
                let mut out = Vec::new();
                for f in p.functions.values_mut() {
                    let (old, keep): (Vec<Environment>, Vec<Environment>) =
                        std::mem::take(&mut f.idle).into_iter().partition(|e| {
                            e.last_used.elapsed() >= idle_timeout || !e.is_healthy()
                        });
                    f.idle = keep;
                    out.extend(old);
                }
                out
            }
            Err(_) => return,
        };
        drop(expired);
    }
}
