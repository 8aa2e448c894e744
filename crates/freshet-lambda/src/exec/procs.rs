// SPDX-License-Identifier: Apache-2.0
//! The record of the handler processes this server started, so that a server that could not
//! stop them (SIGKILL, a crash, an OOM kill) stops them at its next start.
//!
//! Handler processes run in their own process group (`process_group(0)`, safe std API), so
//! they do not die with the server. The embedded runtime clients watch their parent and exit
//! when it is gone, but `provided` bootstraps and third-party clients (awslambdaric) do not.
//! This registry covers those.
//!
//! # Layout
//!
//! One file per process in `<exec work dir>/processes/`, named by the process id, written when
//! the process starts and removed when it has exited:
//!
//! ```text
//! freshet-process 1
//! <pid> <start time>
//! ```
//!
//! The first line is the magic and the format version. The start time is field 22 of
//! `/proc/<pid>/stat` (clock ticks since boot): at startup a recorded process is killed only
//! if a process with that pid exists *and* started at that time, so a pid the kernel reused
//! for an unrelated process is never touched. Its whole process group goes (the group id is
//! the pid), which takes the handler's own children too.
//!
//! Files are written to `<pid>.tmp` and renamed, so a reader never sees half a file. They
//! are not fsynced: they only matter while the machine keeps running (a power loss ends the
//! processes too), and the page cache outlives a killed server.

use std::path::{Path, PathBuf};

use crate::exec::SetupError;

/// The first line of every record file.
const MAGIC_LINE: &str = "freshet-process 1";

/// The handler processes of one executor, recorded under one directory.
#[derive(Debug)]
pub struct ProcessRegistry {
    dir: PathBuf,
}

/// A process left over from an earlier run and stopped at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// Its process id (and process group id).
    pub pid: i32,
}

impl ProcessRegistry {
    /// Opens the registry in `dir` (created if missing) and stops every process an earlier
    /// run recorded that is still running, with its process group. Returns the registry and
    /// what it stopped.
    pub fn open(dir: &Path) -> Result<(ProcessRegistry, Vec<Reaped>), SetupError> {
        std::fs::create_dir_all(dir).map_err(|source| SetupError {
            path: dir.to_path_buf(),
            source,
        })?;
        let entries = std::fs::read_dir(dir).map_err(|source| SetupError {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut reaped = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if let Some(rec) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| decode(&text))
                && start_time(rec.pid) == Some(rec.start_time)
            {
                kill_group(rec.pid);
                tracing::warn!(
                    pid = rec.pid,
                    "Stopped a handler process left running by an earlier run of the server."
                );
                reaped.push(Reaped { pid: rec.pid });
            }
            // Stopped, gone, reused by another program or unreadable: the record is done.
            let _ = std::fs::remove_file(&path);
        }
        Ok((
            ProcessRegistry {
                dir: dir.to_path_buf(),
            },
            reaped,
        ))
    }

    /// Records the running process `pid`. Best effort: a process that cannot be recorded
    /// still runs (and is still stopped by a clean shutdown).
    pub fn record(&self, pid: i32) {
        let Some(start_time) = start_time(pid) else {
            // Already gone.
            return;
        };
        let text = encode(&Record { pid, start_time });
        let tmp = self.dir.join(format!("{pid}.tmp"));
        let done = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, self.path(pid)));
        if let Err(error) = done {
            tracing::warn!(pid, %error, "Cannot record a handler process; a crash of the server would leave it running.");
        }
    }

    /// Forgets `pid` (it exited).
    pub fn forget(&self, pid: i32) {
        let _ = std::fs::remove_file(self.path(pid));
    }

    fn path(&self, pid: i32) -> PathBuf {
        self.dir.join(pid.to_string())
    }
}

/// One record file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    pid: i32,
    start_time: u64,
}

fn encode(r: &Record) -> String {
    format!("{MAGIC_LINE}\n{} {}\n", r.pid, r.start_time)
}

fn decode(text: &str) -> Option<Record> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC_LINE {
        return None;
    }
    let mut fields = lines.next()?.split(' ');
    let pid: i32 = fields.next()?.parse().ok()?;
    let start_time: u64 = fields.next()?.parse().ok()?;
    if pid <= 1 || fields.next().is_some() || lines.next().is_some() {
        return None;
    }
    Some(Record { pid, start_time })
}

/// Field 22 (`starttime`) of `/proc/<pid>/stat`, if the process exists.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The start time in a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields 3.. follow the name; starttime is field 22, the 20th of them.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn kill_group(pid: i32) {
    if let Some(p) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
        // In case it left its group: the process itself.
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt as _;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_start_time_is_field_22_even_when_the_name_has_spaces_and_parentheses() {
        let stat = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000000 100 18446744073709551615";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("4242 (x) S 1 2"), None);
        assert_eq!(parse_start_time("no parenthesis"), None);
    }

    #[test]
    fn this_process_has_a_start_time() {
        let me = i32::try_from(std::process::id()).expect("pid fits");
        assert!(start_time(me).is_some());
    }

    #[test]
    fn records_of_other_formats_are_not_read() {
        assert_eq!(decode("freshet-process 2\n10 20\n"), None);
        assert_eq!(decode("freshet-process 1\n10\n"), None);
        assert_eq!(decode("freshet-process 1\n10 20 30\n"), None);
        assert_eq!(decode("freshet-process 1\n1 20\n"), None, "never init");
        assert_eq!(decode(""), None);
    }

    #[test]
    fn a_recorded_process_that_still_runs_is_stopped_at_the_next_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (reg, reaped) = ProcessRegistry::open(dir.path()).expect("open");
        assert!(reaped.is_empty());
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .process_group(0)
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid fits");
        reg.record(pid);
        drop(reg);
        let (_reg, reaped) = ProcessRegistry::open(dir.path()).expect("reopen");
        assert_eq!(reaped, vec![Reaped { pid }]);
        let status = child.wait().expect("wait");
        assert!(!status.success(), "killed, not exited: {status}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn a_record_whose_pid_now_belongs_to_another_process_is_dropped_without_a_kill() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .process_group(0)
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let real = start_time(pid).expect("running");
        // The same pid, started at another time: a reused pid.
        let stale = encode(&Record {
            pid,
            start_time: real + 1,
        });
        std::fs::write(dir.path().join(pid.to_string()), stale).expect("write");
        let (_reg, reaped) = ProcessRegistry::open(dir.path()).expect("open");
        assert!(reaped.is_empty());
        assert_eq!(child.try_wait().expect("try_wait"), None, "still running");
        let _ = child.kill();
        let _ = child.wait();
    }

    proptest! {
        #[test]
        fn records_round_trip(pid in 2i32..i32::MAX, start_time in any::<u64>()) {
            let r = Record { pid, start_time };
            prop_assert_eq!(decode(&encode(&r)), Some(r));
        }

        #[test]
        fn any_text_decodes_without_panicking(text in ".{0,80}") {
            let _ = decode(&text);
            let _ = parse_start_time(&text);
        }
    }
}
