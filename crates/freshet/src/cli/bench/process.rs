// SPDX-License-Identifier: Apache-2.0
//! CPU time and memory of the server under test, when it is a local process (Linux `/proc`).
//!
//! The server is given by `--server-pid`, or found from the endpoint: a loopback endpoint's
//! port is looked up among listening sockets in `/proc/net/tcp{,6}`, and the process holding
//! that socket is the server. A sampler reads the resident set every 50 ms (the peak during the
//! run is what matters, not the process's lifetime peak) and CPU time at the start and end.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Clock ticks per second of `/proc/<pid>/stat` times. 100 on every mainstream Linux
/// configuration (USER_HZ), which is what `getconf CLK_TCK` reports.
const TICKS_PER_SECOND: f64 = 100.0;
/// How often the resident set is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// Resource use of the server during the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct ServerUsage {
    /// Process id.
    pub pid: u32,
    /// CPU used (user + system) as a percentage of one core.
    pub cpu_percent: f64,
    /// CPU seconds used.
    pub cpu_seconds: f64,
    /// Highest resident set seen during the run, MiB.
    pub peak_rss_mib: f64,
    /// Resident set at the end, MiB.
    pub end_rss_mib: f64,
}

/// Samples one process until stopped.
#[derive(Debug)]
pub struct Sampler {
    pid: u32,
    started: Instant,
    cpu_start: f64,
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pid`, or returns `None` when its `/proc` entry cannot be read.
    pub fn start(pid: u32) -> Option<Self> {
        let cpu_start = cpu_seconds(pid)?;
        let peak_kib = Arc::new(AtomicU64::new(rss_kib(pid).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak_kib.clone(), stop.clone());
            std::thread::Builder::new()
                .name("bench-rss".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(kib) = rss_kib(pid) {
                            peak.fetch_max(kib, Ordering::Relaxed);
                        }
                        std::thread::sleep(SAMPLE_EVERY);
                    }
                })
                .ok()?
        };
        Some(Self {
            pid,
            started: Instant::now(),
            cpu_start,
            peak_kib,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops sampling and summarises.
    pub fn finish(mut self) -> Option<ServerUsage> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let cpu = cpu_seconds(self.pid)? - self.cpu_start;
        let end = rss_kib(self.pid).unwrap_or(0);
        let peak = self.peak_kib.load(Ordering::Relaxed).max(end);
        Some(ServerUsage {
            pid: self.pid,
            cpu_percent: cpu / elapsed * 100.0,
            cpu_seconds: cpu,
            peak_rss_mib: peak as f64 / 1024.0,
            end_rss_mib: end as f64 / 1024.0,
        })
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// User plus system CPU seconds of `pid`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|t| t as f64 / TICKS_PER_SECOND)
}

/// utime + stime from a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses
/// and may contain spaces, so fields are counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state(3) ... utime is field 14, stime field 15 → offsets 11 and 12.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Current resident set of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&status, "VmRSS:")
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The process listening on `port` on this machine, if it can be found.
pub fn find_listener(port: u16) -> Option<u32> {
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if holds_socket(&entry.path().join("fd"), &wanted) {
            return Some(pid);
        }
    }
    None
}

fn holds_socket(fd_dir: &Path, wanted: &[String]) -> bool {
    let Ok(fds) = std::fs::read_dir(fd_dir) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .ok()
            .and_then(|t| t.to_str().map(|s| wanted.iter().any(|w| w == s)))
            .unwrap_or(false)
    })
}

/// Inodes of sockets in LISTEN state (0A) on `port` in a `/proc/net/tcp*` table.
fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f.get(1)?;
            let state = f.get(3)?;
            let local_port = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            (local_port == port && *state == "0A")
                .then(|| f.get(9)?.parse().ok())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let stat = "1234 (freshet (x) y) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    #[test]
    fn status_rss() {
        let s = "Name:\tfreshet\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_kib(s, "VmRSS:"), Some(10240));
        assert_eq!(parse_status_kib(s, "VmSwap:"), None);
    }

    #[test]
    fn listening_sockets_by_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:11D7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n   1: 0100007F:11D7 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table, 4567), vec![4242]);
        assert!(listening_inodes(table, 4568).is_empty());
    }

    #[test]
    fn samples_this_process() {
        let s = Sampler::start(std::process::id()).expect("own /proc entry");
        let usage = s.finish().expect("usage");
        assert!(usage.peak_rss_mib > 0.0);
    }
}
