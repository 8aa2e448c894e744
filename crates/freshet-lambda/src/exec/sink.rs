// SPDX-License-Identifier: Apache-2.0
//! Where function logs go: the [`LogSink`] trait, its implementation for CloudWatch Logs
//! ([`freshet_logs::Logs`]), and [`EnvLog`], one environment's log: lines in arrival order,
//! batched into few appends (one per invocation in the common case, never one per line), and
//! the capture of one invocation's lines for `LogType: Tail`.
//!
//! Invariants: events of one stream are appended by one task, in order, with non-decreasing
//! timestamps; pending memory is bounded (lines are capped at [`MAX_EVENT_BYTES`], and a
//! producer that outruns the sink has its oldest pending lines dropped past
//! [`MAX_PENDING_BYTES`], counted in a warning).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use crate::exec::format::{MAX_EVENT_BYTES, TAIL_BYTES, tail_utf8, truncate_utf8};
use crate::spec::BoxFuture;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// When it was written, ms since the epoch.
    pub timestamp_ms: i64,
    /// The message, ending with `\n` like Lambda's.
    pub message: String,
}

/// Why a sink did not store events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LogSinkError(pub String);

/// Receives function logs: CloudWatch Logs in the server, a recorder in tests.
pub trait LogSink: Send + Sync + 'static {
    /// Appends `events` (chronological) to `stream` of `group`, creating both when missing.
    fn append<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        events: Vec<LogEvent>,
    ) -> BoxFuture<'a, Result<(), LogSinkError>>;
}

impl LogSink for freshet_logs::Logs {
    fn append<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        events: Vec<LogEvent>,
    ) -> BoxFuture<'a, Result<(), LogSinkError>> {
        Box::pin(async move {
            let events: Vec<freshet_logs::model::InputEvent> = events
                .into_iter()
                .map(|e| freshet_logs::model::InputEvent {
                    timestamp_ms: e.timestamp_ms,
                    message: e.message,
                })
                .collect();
            freshet_logs::Logs::append(self, group, stream, &events)
                .await
                .map(|_| ())
                .map_err(|e| LogSinkError(e.to_string()))
        })
    }
}

/// PutLogEvents limits: events and bytes (message bytes plus 26 per event) per call.
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
/// Pending bytes past which the oldest pending lines are dropped (a sink that cannot keep up
/// must not grow memory without bound).
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;
/// How often lines of a long invocation are flushed.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Pending {
    events: Vec<LogEvent>,
    bytes: usize,
    last_ts: i64,
    dropped: u64,
    /// The current invocation's lines, for `LogType: Tail` (only while capturing).
    capture: Option<String>,
    closed: bool,
}

/// One environment's log stream.
pub struct EnvLog {
    group: String,
    stream: String,
    pending: Mutex<Pending>,
    wake: Notify,
}

impl EnvLog {
    /// A log for `stream` of `group`; nothing is written until lines arrive.
    pub fn new(group: String, stream: String) -> Arc<EnvLog> {
        Arc::new(EnvLog {
            group,
            stream,
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
        })
    }

    /// Adds one event (a line with its `\n`, or a platform line), capped at the event limit.
    pub fn push(&self, mut message: String) {
        truncate_utf8(&mut message, MAX_EVENT_BYTES);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let Ok(mut p) = self.pending.lock() else {
            return;
        };
        if p.closed {
            return;
        }
        let ts = now.max(p.last_ts);
        p.last_ts = ts;
        if let Some(c) = p.capture.as_mut() {
            c.push_str(&message);
            if c.len() > 4 * TAIL_BYTES {
                let keep = tail_utf8(c, TAIL_BYTES).to_owned();
                *c = keep;
            }
        }
        p.bytes += message.len();
        p.events.push(LogEvent {
            timestamp_ms: ts,
            message,
        });
        while p.bytes > MAX_PENDING_BYTES && !p.events.is_empty() {
            let e = p.events.remove(0);
            p.bytes -= e.message.len();
            p.dropped += 1;
        }
    }

    /// Starts capturing lines for `LogType: Tail`.
    pub fn start_capture(&self) {
        if let Ok(mut p) = self.pending.lock() {
            p.capture = Some(String::new());
        }
    }

    /// Stops capturing and returns the last 4 KB captured.
    pub fn take_capture(&self) -> Option<String> {
        let mut p = self.pending.lock().ok()?;
        p.capture
            .take()
            .map(|c| tail_utf8(&c, TAIL_BYTES).to_owned())
    }

    /// Asks the flusher to write what is pending now (at the end of an invocation).
    pub fn flush_soon(&self) {
        self.wake.notify_one();
    }

    /// Stops accepting lines; the flusher writes what is pending and ends.
    pub fn close(&self) {
        if let Ok(mut p) = self.pending.lock() {
            p.closed = true;
        }
        self.wake.notify_one();
    }

    fn take(&self) -> (Vec<LogEvent>, u64, bool) {
        match self.pending.lock() {
            Ok(mut p) => {
                p.bytes = 0;
                let dropped = std::mem::take(&mut p.dropped);
                (std::mem::take(&mut p.events), dropped, p.closed)
            }
            Err(_) => (Vec::new(), 0, true),
        }
    }

    /// Writes pending lines to `sink` until the log is closed and drained. Run as one task
    /// per environment, so a stream's appends never interleave.
    pub async fn run_flusher(self: Arc<Self>, sink: Arc<dyn LogSink>) {
        loop {
            let _ = tokio::time::timeout(FLUSH_EVERY, self.wake.notified()).await;
            let (events, dropped, closed) = self.take();
            if dropped > 0 {
                tracing::warn!(
                    group = %self.group,
                    stream = %self.stream,
                    dropped,
                    "Function log lines dropped: the log sink is not keeping up."
                );
            }
            for batch in batches(events) {
                if let Err(e) = sink.append(&self.group, &self.stream, batch).await {
                    tracing::warn!(
                        group = %self.group,
                        stream = %self.stream,
                        error = %e,
                        "Function log lines could not be stored."
                    );
                }
            }
            if closed {
                return;
            }
        }
    }
}

/// Splits events into PutLogEvents-sized batches, keeping their order.
fn batches(events: Vec<LogEvent>) -> Vec<Vec<LogEvent>> {
    let mut out = Vec::new();
    let mut cur: Vec<LogEvent> = Vec::new();
    let mut bytes = 0;
    for e in events {
        let size = e.message.len() + 26;
        if !cur.is_empty() && (cur.len() >= MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES) {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += size;
        cur.push(e);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(n: usize) -> LogEvent {
        LogEvent {
            timestamp_ms: 0,
            message: "x".repeat(n),
        }
    }

    #[test]
    fn capture_keeps_the_last_four_kilobytes_of_an_invocation() {
        let log = EnvLog::new("g".into(), "s".into());
        log.push("before\n".into());
        log.start_capture();
        for i in 0..1000 {
            log.push(format!("line {i}\n"));
        }
        let tail = log.take_capture().unwrap();
        assert!(tail.len() <= TAIL_BYTES);
        assert!(tail.ends_with("line 999\n"));
        assert!(!tail.contains("before"));
        assert_eq!(log.take_capture(), None);
    }

    #[test]
    fn timestamps_never_go_backwards_and_lines_are_capped() {
        let log = EnvLog::new("g".into(), "s".into());
        log.push("a".repeat(MAX_EVENT_BYTES + 10));
        log.push("b\n".into());
        let (events, _, _) = log.take();
        assert_eq!(events[0].message.len(), MAX_EVENT_BYTES);
        assert!(events[0].timestamp_ms <= events[1].timestamp_ms);
    }

    proptest! {
        #[test]
        fn batches_keep_every_event_in_order_within_putlogevents_limits(
            sizes in proptest::collection::vec(0usize..300_000, 0..40)
        ) {
            let events: Vec<LogEvent> = sizes.iter().map(|&n| ev(n)).collect();
            let out = batches(events.clone());
            let flat: Vec<LogEvent> = out.iter().flatten().cloned().collect();
            prop_assert_eq!(flat, events);
            for b in &out {
                prop_assert!(!b.is_empty());
                prop_assert!(b.len() <= MAX_BATCH_EVENTS);
                let bytes: usize = b.iter().map(|e| e.message.len() + 26).sum();
                prop_assert!(bytes <= MAX_BATCH_BYTES || b.len() == 1);
            }
        }
    }
}
