// SPDX-License-Identifier: Apache-2.0
//! A Logs service on a temporary directory, restartable, on a manual clock.

use std::sync::Arc;

use freshet_log::LogConfig;
use freshet_logs::{
    EventsPage, FilterEvents, FilteredEvent, GetEvents, GroupRef, InputEvent, Logs, LogsOptions,
    StreamSelection,
};
use freshet_runtime::{Platform, Tasks};
use freshet_types::ManualClock;
use tempfile::TempDir;

/// 2027-01-15, a time all test events sit near.
pub const T0: i64 = 1_800_000_000_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

pub struct Env {
    pub dir: TempDir,
    pub clock: ManualClock,
    pub platform: Platform,
    pub logs: Logs,
    segment_bytes: u64,
}

async fn boot(dir: &std::path::Path, clock: &ManualClock, segment_bytes: u64) -> (Platform, Logs) {
    let config = LogConfig {
        segment_bytes,
        ..LogConfig::default()
    };
    let platform = Platform::open_local(dir, config, Arc::new(clock.clone()), Tasks::detached())
        .expect("open the platform");
    let logs = Logs::open(&platform, LogsOptions::default())
        .await
        .expect("open the logs service");
    (platform, logs)
}

impl Env {
    pub async fn new() -> Env {
        Env::with_segments(64 * 1024 * 1024).await
    }

    pub async fn with_segments(segment_bytes: u64) -> Env {
        let dir = tempfile::tempdir().expect("temporary directory");
        let clock = ManualClock::new(T0);
        let (platform, logs) = boot(dir.path(), &clock, segment_bytes).await;
        Env {
            dir,
            clock,
            platform,
            logs,
            segment_bytes,
        }
    }

    /// Shuts down cleanly (checkpoint, logs flushed) and opens again.
    pub async fn restart(self) -> Env {
        let logs = self.logs.clone();
        let platform = self.platform.clone();
        tokio::task::spawn_blocking(move || {
            logs.shutdown();
            platform.shutdown();
        })
        .await
        .expect("shutdown");
        self.reopen().await
    }

    /// Opens again without a checkpoint or shutdown of the service: what a crash leaves
    /// behind in fsync mode (every acknowledged append is on disk, statistics are not).
    pub async fn crash(self) -> Env {
        let platform = self.platform.clone();
        tokio::task::spawn_blocking(move || platform.shutdown())
            .await
            .expect("close the storage");
        self.reopen().await
    }

    async fn reopen(self) -> Env {
        let Env {
            dir,
            clock,
            segment_bytes,
            ..
        } = self;
        let (platform, logs) = boot(dir.path(), &clock, segment_bytes).await;
        Env {
            dir,
            clock,
            platform,
            logs,
            segment_bytes,
        }
    }
}

pub fn events(ts_and_messages: &[(i64, &str)]) -> Vec<InputEvent> {
    ts_and_messages
        .iter()
        .map(|(ts, m)| InputEvent {
            timestamp_ms: *ts,
            message: (*m).to_owned(),
        })
        .collect()
}

pub fn group(name: &str) -> GroupRef {
    GroupRef::Name(name.to_owned())
}

pub fn get(g: &str, s: &str) -> GetEvents {
    GetEvents {
        group: group(g),
        stream: s.to_owned(),
        start_time: None,
        end_time: None,
        next_token: None,
        limit: None,
        start_from_head: false,
    }
}

pub fn filter(g: &str) -> FilterEvents {
    FilterEvents {
        group: group(g),
        streams: StreamSelection::All,
        start_time: None,
        end_time: None,
        pattern: None,
        limit: None,
        next_token: None,
    }
}

pub fn messages(page: &EventsPage) -> Vec<String> {
    page.events.iter().map(|e| e.message.clone()).collect()
}

/// Pages GetLogEvents forward from the head until the token comes back unchanged.
pub async fn read_forward(logs: &Logs, mut q: GetEvents) -> Vec<String> {
    q.start_from_head = true;
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let page = logs
            .get_log_events(q.clone())
            .await
            .expect("get log events");
        out.extend(messages(&page));
        if q.next_token.as_deref() == Some(page.next_forward_token.as_str()) {
            return out;
        }
        q.next_token = Some(page.next_forward_token);
    }
    panic!("forward pagination did not end");
}

/// Pages GetLogEvents backward from the tail until the token comes back unchanged; returns
/// the events oldest first.
pub async fn read_backward(logs: &Logs, mut q: GetEvents) -> Vec<String> {
    q.start_from_head = false;
    let mut pages: Vec<Vec<String>> = Vec::new();
    for _ in 0..100_000 {
        let page = logs
            .get_log_events(q.clone())
            .await
            .expect("get log events");
        pages.push(messages(&page));
        if q.next_token.as_deref() == Some(page.next_backward_token.as_str()) {
            pages.reverse();
            return pages.concat();
        }
        q.next_token = Some(page.next_backward_token);
    }
    panic!("backward pagination did not end");
}

/// Pages FilterLogEvents until there is no nextToken.
pub async fn filter_all(logs: &Logs, mut q: FilterEvents) -> Vec<FilteredEvent> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let page = logs
            .filter_log_events(q.clone())
            .await
            .expect("filter log events");
        out.extend(page.items);
        match page.next_token {
            Some(t) => q.next_token = Some(t),
            None => return out,
        }
    }
    panic!("filter pagination did not end");
}

pub async fn create(logs: &Logs, g: &str, streams: &[&str]) {
    logs.create_log_group(freshet_logs::NewGroup {
        name: g.to_owned(),
        ..Default::default()
    })
    .await
    .expect("create group");
    for s in streams {
        logs.create_log_stream(g, s).await.expect("create stream");
    }
}
