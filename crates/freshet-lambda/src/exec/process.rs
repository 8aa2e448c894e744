// SPDX-License-Identifier: Apache-2.0
//! A runtime process: spawned in its own process group (so a kill takes its children too),
//! its stdout and stderr read line by line into the environment's log, its exit watched, its
//! peak memory read from `/proc`.
//!
//! Ordering: a handler prints, then posts its response; the lines may still sit in the pipe
//! when the response arrives. [`Process::drain_output`] waits until the readers have taken
//! everything that was in the pipes at the time of the call (FIONREAD), so START, the
//! handler's lines, END and REPORT land in the order they happened. A reader reads and
//! turns bytes into lines under a lock the drain also takes, so every byte is either still
//! in the pipe (FIONREAD counts it) or already a log line (`consumed` counts it), never in
//! between: without it, bytes a reader had just read but not yet logged were counted by
//! neither, and a line could follow END.
//!
//! Lines: split on `\n`, capped at the CloudWatch event size. A `\r` inside a line becomes
//! `\n`: runtime clients write one multi-line message (a traceback, a logged object) as one
//! line with `\r` separators so it stays ONE event, which is how it appears in Lambda.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, watch};

use crate::exec::format::MAX_EVENT_BYTES;
use crate::exec::procs::ProcessRegistry;
use crate::exec::sink::EnvLog;

/// How long [`Process::drain_output`] waits at most. It waits only while bytes the handler
/// already wrote sit unread in its pipes, so the bound matters only when the readers are
/// starved (an overloaded machine); 1 s was seen too short there (lines after END).
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// One pipe's reader progress.
struct Reader {
    fd: Option<OwnedFd>,
    consumed: Arc<AtomicU64>,
    /// Held while the reader moves bytes from the pipe into log lines.
    moving: Arc<Mutex<()>>,
}

/// A running runtime process.
pub struct Process {
    pid: i32,
    exit: watch::Receiver<Option<ExitStatus>>,
    readers: Vec<Reader>,
    progress: Arc<Notify>,
}

/// What to run.
pub struct Launch<'a> {
    /// The program.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory (the function's code).
    pub cwd: &'a Path,
    /// The complete environment.
    pub env: &'a BTreeMap<String, String>,
    /// Where the process is recorded while it runs, so that a later start of the server can
    /// stop it if this one dies without doing so.
    pub registry: Option<Arc<ProcessRegistry>>,
}

impl Process {
    /// Spawns `launch` in a new process group, with its output going to `log`.
    pub fn spawn(launch: Launch<'_>, log: Arc<EnvLog>) -> std::io::Result<Process> {
        let mut cmd = Command::new(launch.program);
        cmd.args(&launch.args)
            .current_dir(launch.cwd)
            .env_clear()
            .envs(launch.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        let mut child = cmd.spawn()?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| std::io::Error::other("spawned process has no pid"))?;
        let progress = Arc::new(Notify::new());
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take().and_then(|o| o.into_owned_fd().ok()) {
            readers.extend(start_reader(out, log.clone(), progress.clone()));
        }
        if let Some(err) = child.stderr.take().and_then(|e| e.into_owned_fd().ok()) {
            readers.extend(start_reader(err, log, progress.clone()));
        }
        if let Some(r) = &launch.registry {
            r.record(pid);
        }
        let (tx, exit) = watch::channel(None);
        tokio::spawn(wait_child(child, tx, launch.registry, pid));
        Ok(Process {
            pid,
            exit,
            readers,
            progress,
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Resolves when the process has exited, with its status.
    pub async fn exited(&mut self) -> Option<ExitStatus> {
        loop {
            if let Some(s) = *self.exit.borrow_and_update() {
                return Some(s);
            }
            if self.exit.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Whether the process has exited.
    pub fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Kills the whole process group (SIGKILL). Idempotent.
    pub fn kill(&self) {
        kill_group(self.pid);
    }

    /// Waits (briefly) until everything written to stdout and stderr before this call has
    /// been turned into log lines.
    pub async fn drain_output(&self) {
        let targets: Vec<(Arc<AtomicU64>, u64)> = self
            .readers
            .iter()
            .map(|r| {
                let _moving = r.moving.lock().unwrap_or_else(|p| p.into_inner());
                let queued =
                    r.fd.as_ref()
                        .and_then(|fd| rustix::io::ioctl_fionread(fd.as_fd()).ok())
                        .unwrap_or(0);
                let now = r.consumed.load(Ordering::Acquire);
                (r.consumed.clone(), now + queued)
            })
            .collect();
        let done = || {
            targets
                .iter()
                .all(|(c, target)| c.load(Ordering::Acquire) >= *target)
        };
        let _ = tokio::time::timeout(DRAIN_WAIT, async {
            loop {
                let notified = self.progress.notified();
                if done() {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }

    /// Peak resident memory (VmHWM) of the process and its descendants, in MB (rounded up).
    pub fn max_memory_mb(&self) -> u64 {
        let mut total_kb = 0;
        let mut stack = vec![self.pid];
        let mut seen = 0;
        while let Some(pid) = stack.pop() {
            seen += 1;
            if seen > 1024 {
                break;
            }
            total_kb += vm_hwm_kb(pid).unwrap_or(0);
            stack.extend(children(pid));
        }
        total_kb.div_ceil(1024)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        kill_group(self.pid);
    }
}

fn kill_group(pid: i32) {
    if let Some(p) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
    }
}

async fn wait_child(
    mut child: Child,
    tx: watch::Sender<Option<ExitStatus>>,
    registry: Option<Arc<ProcessRegistry>>,
    pid: i32,
) {
    let status = child.wait().await;
    if let Some(r) = registry {
        r.forget(pid);
    }
    if let Ok(status) = status {
        let _ = tx.send(Some(status));
    }
}

fn start_reader(pipe: OwnedFd, log: Arc<EnvLog>, progress: Arc<Notify>) -> Option<Reader> {
    let fd = pipe.try_clone().ok();
    let rx = match pipe::Receiver::from_owned_fd(pipe) {
        Ok(rx) => rx,
        Err(e) => {
            tracing::warn!(error = %e, "Could not read a runtime process's output.");
            return None;
        }
    };
    let consumed = Arc::new(AtomicU64::new(0));
    let moving = Arc::new(Mutex::new(()));
    tokio::spawn(read_lines(
        rx,
        log,
        consumed.clone(),
        moving.clone(),
        progress,
    ));
    Some(Reader {
        fd,
        consumed,
        moving,
    })
}

async fn read_lines(
    rx: pipe::Receiver,
    log: Arc<EnvLog>,
    consumed: Arc<AtomicU64>,
    moving: Arc<Mutex<()>>,
    progress: Arc<Notify>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        if rx.readable().await.is_err() {
            break;
        }
        {
            // Read and log under the lock (no await inside): see the module doc.
            let _moving = moving.lock().unwrap_or_else(|p| p.into_inner());
            let n = match rx.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => break,
            };
            let mut chunk = buf.get(..n).unwrap_or_default();
            while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
                let (head, rest) = chunk.split_at(pos + 1);
                push_capped(&mut line, head);
                log.push(event_text(&std::mem::take(&mut line)));
                chunk = rest;
            }
            push_capped(&mut line, chunk);
            if line.len() >= MAX_EVENT_BYTES {
                // A line longer than an event: emit what fits, drop the rest of it.
                log.push(event_text(&line));
                line.clear();
            }
            consumed.fetch_add(n as u64, Ordering::AcqRel);
        }
        progress.notify_waiters();
    }
    if !line.is_empty() {
        line.push(b'\n');
        log.push(event_text(&line));
    }
    progress.notify_waiters();
}

fn push_capped(line: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_EVENT_BYTES.saturating_sub(line.len());
    line.extend_from_slice(bytes.get(..bytes.len().min(room)).unwrap_or_default());
}

/// One output line as an event message: `\r\n` endings normalised, inner `\r` as `\n`.
fn event_text(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    let body = s.strip_suffix('\n').unwrap_or(&s);
    let body = body.strip_suffix('\r').unwrap_or(body);
    let mut out = body.replace('\r', "\n");
    out.push('\n');
    out
}

fn vm_hwm_kb(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn carriage_returns_join_a_multi_line_message_into_one_event() {
        assert_eq!(
            event_text(b"[ERROR] E: x\rTraceback\r  File\n"),
            "[ERROR] E: x\nTraceback\n  File\n"
        );
        assert_eq!(event_text(b"dos line\r\n"), "dos line\n");
        assert_eq!(event_text(b"no newline"), "no newline\n");
    }

    proptest! {
        #[test]
        fn every_event_ends_with_exactly_one_newline(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let t = event_text(&line);
            prop_assert!(t.ends_with('\n'));
        }
    }
}
