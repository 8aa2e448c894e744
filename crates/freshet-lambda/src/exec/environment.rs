// SPDX-License-Identifier: Apache-2.0
//! One execution environment: a runtime process, its Runtime API listener, its log stream
//! and its scratch directory, and the state machine of one invocation on it (init, invoke,
//! answer, timeout, crash) with the platform log lines each step writes.
//!
//! Invariants: an environment runs one invocation at a time (`invoke` takes `&mut self`);
//! after a timeout, a crash or an init failure it is marked broken, its process group is
//! killed, and it is never reused. Dropping an environment kills its process group and
//! removes its scratch directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::exec::format::{self, Report};
use crate::exec::process::{Launch, Process};
use crate::exec::procs::ProcessRegistry;
use crate::exec::runtime_api::{Delivery, RuntimeApi, RuntimeEvent};
use crate::exec::sink::{EnvLog, LogSink};
use crate::exec::vars::{EnvContext, environment};
use crate::spec::{FunctionError, FunctionSpec, Invocation, InvocationResult, InvokeError};

/// How long a timed-out invocation waits for its killed process to be gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// What starting an environment needs besides the spec.
pub struct Start<'a> {
    /// Unique id of the environment (its log stream's 32 hex digits).
    pub id: u128,
    /// The interpreter for Python/Node runtimes (unused for `provided.*`).
    pub interpreter: Option<&'a Path>,
    /// The runtime client script for Python/Node runtimes.
    pub client: Option<&'a Path>,
    /// Where runtime clients are (`LAMBDA_RUNTIME_DIR`).
    pub runtime_dir: &'a Path,
    /// The parent of scratch directories.
    pub scratch_root: &'a Path,
    /// Region, endpoint and credentials for the handler's SDKs.
    pub region: &'a str,
    /// `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<&'a str>,
    /// Dummy credentials.
    pub credentials: (&'a str, &'a str, &'a str),
    /// Where logs go.
    pub sink: Arc<dyn LogSink>,
    /// How long init may take.
    pub init_timeout: Duration,
    /// Where runtime processes are recorded while they run.
    pub registry: Option<Arc<ProcessRegistry>>,
}

/// A started environment.
pub struct Environment {
    /// The spec revision it was started from.
    pub revision: u64,
    /// The version it runs.
    pub version: String,
    process: Option<Process>,
    api: RuntimeApi,
    log: Arc<EnvLog>,
    scratch: PathBuf,
    started: Instant,
    init_timeout: Duration,
    /// Set until the first invocation has waited for init.
    initialized: bool,
    broken: bool,
    /// When the environment last finished an invocation.
    pub last_used: Instant,
}

/// How an invocation on an environment ended, before it is turned into a result.
enum Outcome {
    Answered(Bytes),
    Failed(Bytes),
    /// The platform wrote the error document (timeout, crash, oversize, init failure).
    Platform(String),
}

impl Environment {
    /// Starts the runtime process. Init runs in the background; the first invocation waits
    /// for it.
    pub async fn start(spec: &FunctionSpec, s: Start<'_>) -> Result<Environment, InvokeError> {
        let api = RuntimeApi::start()
            .await
            .map_err(|e| InvokeError::Service(format!("Runtime API listener: {e}")))?;
        let stream = format::log_stream_name(SystemTime::now(), &spec.version, s.id);
        let log = EnvLog::new(spec.log_group.clone(), stream.clone());
        tokio::spawn(log.clone().run_flusher(s.sink.clone()));
        let scratch = s.scratch_root.join(format!("{:032x}", s.id));
        let mut env = Environment {
            revision: spec.revision,
            version: spec.version.clone(),
            process: None,
            api,
            log,
            scratch,
            started: Instant::now(),
            init_timeout: s.init_timeout,
            initialized: false,
            broken: false,
            last_used: Instant::now(),
        };
        let tmp = env.scratch.join("tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|e| InvokeError::Service(format!("scratch directory: {e}")))?;
        let host_port = env.api.host_port();
        let vars = environment(
            spec,
            &EnvContext {
                runtime_api: &host_port,
                log_stream: &stream,
                runtime_dir: s.runtime_dir,
                tmp_dir: &tmp,
                region: s.region,
                endpoint_url: s.endpoint_url,
                credentials: s.credentials,
            },
        );
        let bootstrap = spec.code_dir.join("bootstrap");
        let (program, args) = match (s.interpreter, s.client) {
            (Some(interp), Some(client)) if !spec.runtime.is_provided() => (
                interp.to_path_buf(),
                vec![client.to_string_lossy().into_owned(), spec.handler.clone()],
            ),
            _ => (bootstrap, Vec::new()),
        };
        if spec.runtime.is_provided() && !is_executable(&program) {
            // Lambda answers with Runtime.InvalidEntrypoint; keep the environment broken
            // so the invocation reports it.
            env.broken = true;
            return Ok(env);
        }
        let launch = Launch {
            program: &program,
            args,
            cwd: &spec.code_dir,
            env: &vars,
            registry: s.registry.clone(),
        };
        env.started = Instant::now();
        let process = Process::spawn(launch, env.log.clone()).map_err(|e| {
            InvokeError::Service(format!(
                "Could not start the {} runtime ({}): {e}",
                spec.runtime,
                program.display()
            ))
        })?;
        env.process = Some(process);
        Ok(env)
    }

    /// Whether the environment can take another invocation.
    pub fn is_healthy(&self) -> bool {
        !self.broken && self.process.as_ref().is_some_and(|p| !p.has_exited())
    }

    /// The process id of the runtime (tests check reuse with it).
    pub fn pid(&self) -> Option<i32> {
        self.process.as_ref().map(Process::pid)
    }

    /// Runs one invocation. Function failures are results; only Freshet's own failures are
    /// errors.
    pub async fn invoke(
        &mut self,
        spec: &FunctionSpec,
        inv: Invocation,
    ) -> Result<InvocationResult, InvokeError> {
        let id = inv.request_id.clone();
        let mut init_duration = None;
        let mut init_failure: Option<Bytes> = None;
        if self.process.is_none() {
            // provided.* without a bootstrap.
            return Ok(self.platform_failure(
                spec,
                &inv,
                format::invalid_entrypoint_payload(&id, &spec.code_dir.to_string_lossy()),
                None,
                Duration::ZERO,
            ));
        }
        if !self.initialized {
            self.initialized = true;
            match self.wait_init().await {
                InitEnd::Ready => init_duration = Some(self.started.elapsed()),
                InitEnd::Failed(body) => {
                    init_duration = Some(self.started.elapsed());
                    init_failure = Some(body);
                }
                InitEnd::Exited(reason) => {
                    init_duration = Some(self.started.elapsed());
                    let payload = format::exit_payload(&id, &reason);
                    self.drain().await;
                    self.log.push(format::exit_log_line(&id, &reason));
                    return Ok(self.platform_failure(
                        spec,
                        &inv,
                        payload,
                        init_duration,
                        Duration::ZERO,
                    ));
                }
                InitEnd::TimedOut => {
                    let payload = format::timeout_payload(&id, self.init_timeout);
                    self.drain().await;
                    self.log.push(format::timeout_log_line(
                        SystemTime::now(),
                        &id,
                        self.init_timeout,
                    ));
                    return Ok(self.platform_failure(
                        spec,
                        &inv,
                        payload,
                        Some(self.init_timeout),
                        Duration::ZERO,
                    ));
                }
            }
        }
        if let Some(body) = init_failure {
            // Lambda fails the invocation with the init error, as the runtime posted it.
            self.broken = true;
            self.drain().await;
            self.begin(spec, &inv);
            let result = self.finish(
                spec,
                &inv,
                Outcome::Failed(body),
                init_duration,
                Duration::ZERO,
            );
            self.stop();
            return Ok(result);
        }
        self.drain().await;
        self.begin(spec, &inv);
        let started = Instant::now();
        let delivery = Delivery {
            request_id: id.clone(),
            payload: inv.payload.clone(),
            invoked_arn: inv.invoked_arn.clone(),
            client_context: inv.client_context.clone(),
            timeout: spec.timeout,
        };
        if self.api.deliver(delivery).is_err() {
            self.broken = true;
            return Err(InvokeError::Service(
                "The execution environment is busy".to_owned(),
            ));
        }
        let outcome = self.wait_answer(spec, &id, started).await;
        let duration = started.elapsed();
        let result = self.finish(spec, &inv, outcome, init_duration, duration);
        self.last_used = Instant::now();
        if self.broken {
            self.stop();
        }
        Ok(result)
    }

    async fn wait_init(&mut self) -> InitEnd {
        let deadline = tokio::time::sleep(self.init_timeout);
        tokio::pin!(deadline);
        loop {
            let Some(process) = self.process.as_mut() else {
                return InitEnd::Exited(format::exit_reason(None, None));
            };
            tokio::select! {
                biased;
                ev = self.api.events.recv() => match ev {
                    Some(RuntimeEvent::Next) => return InitEnd::Ready,
                    Some(RuntimeEvent::InitError { body, .. }) => return InitEnd::Failed(body),
                    Some(_) => {}
                    None => return InitEnd::Exited(format::exit_reason(None, None)),
                },
                status = process.exited() => {
                    self.broken = true;
                    return InitEnd::Exited(exit_reason(status));
                }
                _ = &mut deadline => {
                    self.broken = true;
                    if let Some(p) = &self.process { p.kill(); }
                    return InitEnd::TimedOut;
                }
            }
        }
    }

    async fn wait_answer(&mut self, spec: &FunctionSpec, id: &str, started: Instant) -> Outcome {
        let deadline = tokio::time::sleep_until((started + spec.timeout).into());
        tokio::pin!(deadline);
        loop {
            let Some(process) = self.process.as_mut() else {
                self.broken = true;
                return Outcome::Platform(format::exit_payload(
                    id,
                    &format::exit_reason(None, None),
                ));
            };
            tokio::select! {
                biased;
                ev = self.api.events.recv() => match ev {
                    // What the handler printed before answering belongs before END, as in
                    // AWS: wait until the pipes' queued bytes are log lines (FIONREAD says
                    // how many, so an idle pipe costs nothing).
                    Some(RuntimeEvent::Response { request_id, body }) if request_id == id => {
                        self.drain().await;
                        return Outcome::Answered(body);
                    }
                    Some(RuntimeEvent::Error { request_id, body, .. }) if request_id == id => {
                        self.drain().await;
                        return Outcome::Failed(body);
                    }
                    Some(RuntimeEvent::TooLarge { request_id }) if request_id == id => {
                        return Outcome::Platform(format::response_too_large_payload());
                    }
                    Some(_) => {}
                    None => {
                        self.broken = true;
                        return Outcome::Platform(format::exit_payload(id, &format::exit_reason(None, None)));
                    }
                },
                status = process.exited() => {
                    self.broken = true;
                    let reason = exit_reason(status);
                    self.drain().await;
                    self.log.push(format::exit_log_line(id, &reason));
                    return Outcome::Platform(format::exit_payload(id, &reason));
                }
                _ = &mut deadline => {
                    self.broken = true;
                    self.kill_and_wait().await;
                    self.drain().await;
                    self.log.push(format::timeout_log_line(SystemTime::now(), id, spec.timeout));
                    return Outcome::Platform(format::timeout_payload(id, spec.timeout));
                }
            }
        }
    }

    /// START, and the capture for `LogType: Tail`.
    fn begin(&self, spec: &FunctionSpec, inv: &Invocation) {
        if inv.tail_log {
            self.log.start_capture();
        }
        self.log
            .push(format::start_line(&inv.request_id, &spec.version));
    }

    /// A failure the platform reports without having run the handler (START first).
    fn platform_failure(
        &mut self,
        spec: &FunctionSpec,
        inv: &Invocation,
        payload: String,
        init_duration: Option<Duration>,
        duration: Duration,
    ) -> InvocationResult {
        self.broken = true;
        self.begin(spec, inv);
        let r = self.finish(
            spec,
            inv,
            Outcome::Platform(payload),
            init_duration,
            duration,
        );
        self.stop();
        r
    }

    /// END and REPORT, then the result.
    fn finish(
        &self,
        spec: &FunctionSpec,
        inv: &Invocation,
        outcome: Outcome,
        init_duration: Option<Duration>,
        duration: Duration,
    ) -> InvocationResult {
        let id = &inv.request_id;
        self.log.push(format::end_line(id));
        let max_memory_mb = self.process.as_ref().map_or(0, Process::max_memory_mb);
        self.log.push(format::report_line(
            id,
            &Report {
                duration,
                memory_mb: spec.memory_mb,
                max_memory_mb,
                init_duration,
            },
        ));
        self.log.flush_soon();
        let log_tail = if inv.tail_log {
            self.log.take_capture()
        } else {
            None
        };
        let (payload, function_error) = match outcome {
            Outcome::Answered(b) => (b, None),
            Outcome::Failed(b) => (b, Some(FunctionError::Unhandled)),
            Outcome::Platform(s) => (Bytes::from(s), Some(FunctionError::Unhandled)),
        };
        InvocationResult {
            payload,
            function_error,
            log_tail,
            executed_version: spec.version.clone(),
            duration,
            init_duration,
        }
    }

    /// Kills the process group and waits (briefly) until the runtime process is gone, so a
    /// timed-out invocation answers only once its process was stopped.
    async fn kill_and_wait(&mut self) {
        if let Some(p) = self.process.as_mut() {
            p.kill();
            let _ = tokio::time::timeout(KILL_WAIT, p.exited()).await;
        }
    }

    async fn drain(&self) {
        if let Some(p) = &self.process {
            p.drain_output().await;
        }
    }

    /// Kills the process group and closes the log (pending lines are still written).
    pub fn stop(&mut self) {
        self.broken = true;
        if let Some(p) = &self.process {
            p.kill();
        }
        self.log.close();
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

enum InitEnd {
    Ready,
    Failed(Bytes),
    Exited(String),
    TimedOut,
}

fn exit_reason(status: Option<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => format::exit_reason(s.code(), s.signal()),
        None => format::exit_reason(None, None),
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
