// SPDX-License-Identifier: Apache-2.0
//! StartLiveTail sessions: the events ingested into up to ten log groups after the session
//! started, optionally only some streams' and only those matching a filter pattern, delivered
//! as one update per interval (AWS: every second, at most 500 events, sampled beyond that).
//!
//! A session follows each group's log from the offset its end was at when the session
//! started. Each update reads at most [`READ_BUDGET`] records per group; when more arrived, it
//! jumps to the log's end and marks the update sampled (AWS drops events a slow session cannot
//! take, too). The session ends after its timeout (AWS: three hours) with
//! SessionTimeoutException, or when the client goes away (the transport stops pulling).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::codec;
use crate::error::{Error, Result};
use crate::filter::FilterPattern;
use crate::group::Group;
use crate::model::StreamSelection;
use crate::service::Logs;

/// Most events in one update.
pub const MAX_UPDATE_EVENTS: usize = 500;
/// Most records read per group per update.
pub const READ_BUDGET: usize = 10_000;
const READ_BYTES: usize = 16 * 1024 * 1024;

/// A StartLiveTail request.
#[derive(Debug, Clone)]
pub struct LiveTailRequest {
    /// logGroupIdentifiers (ARNs, or names).
    pub groups: Vec<String>,
    /// logStreamNames or logStreamNamePrefixes.
    pub streams: StreamSelection,
    /// logEventFilterPattern.
    pub pattern: Option<String>,
}

/// One event of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTailEvent {
    /// logStreamName.
    pub stream: String,
    /// logGroupIdentifier, as the request gave it.
    pub group_identifier: String,
    /// message.
    pub message: String,
    /// timestamp.
    pub timestamp_ms: i64,
    /// ingestionTime.
    pub ingestion_ms: i64,
}

/// One `sessionUpdate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTailUpdate {
    /// Whether events were left out.
    pub sampled: bool,
    /// The events, at most [`MAX_UPDATE_EVENTS`].
    pub results: Vec<LiveTailEvent>,
}

/// What a session yields next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveTailItem {
    /// A `sessionUpdate`.
    Update(LiveTailUpdate),
    /// The session reached its timeout.
    TimedOut,
}

#[derive(Debug)]
struct Followed {
    identifier: String,
    group: Arc<Group>,
    position: u64,
}

/// A running session.
#[derive(Debug)]
pub struct LiveTail {
    /// sessionId.
    pub session_id: String,
    /// The request, for `sessionStart`.
    pub request: LiveTailRequest,
    groups: Vec<Followed>,
    pattern: FilterPattern,
    interval: Duration,
    deadline: tokio::time::Instant,
    ended: bool,
    open_sessions: Arc<AtomicUsize>,
}

impl Drop for LiveTail {
    fn drop(&mut self) {
        self.open_sessions.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Logs {
    /// Starts a Live Tail session.
    pub fn start_live_tail(&self, request: LiveTailRequest) -> Result<LiveTail> {
        let single = request.groups.len() == 1;
        if !single && request.streams != StreamSelection::All {
            return Err(Error::LiveTailStreamFilterWithGroups);
        }
        let pattern = match &request.pattern {
            Some(p) => FilterPattern::parse(p)?,
            None => FilterPattern::match_all(),
        };
        let mut groups = Vec::with_capacity(request.groups.len());
        for identifier in &request.groups {
            if identifier.ends_with('*') {
                return Err(Error::LiveTailWildcardArn {
                    arn: identifier.clone(),
                });
            }
            let group = self.resolve(&crate::model::GroupRef::Identifier(identifier.clone()))?;
            let position = group.log.next_offset();
            groups.push(Followed {
                identifier: identifier.clone(),
                group,
                position,
            });
        }
        let opts = self.options();
        let open_sessions = self.inner.live_tails.clone();
        open_sessions.fetch_add(1, Ordering::SeqCst);
        Ok(LiveTail {
            session_id: uuid::Uuid::new_v4().to_string(),
            request,
            groups,
            pattern,
            interval: opts.live_tail_interval,
            deadline: tokio::time::Instant::now() + opts.live_tail_timeout,
            ended: false,
            open_sessions,
        })
    }
}

impl LiveTail {
    /// Waits one interval and returns the update, or the timeout; `None` after the timeout.
    pub async fn next(&mut self) -> Option<LiveTailItem> {
        if self.ended {
            return None;
        }
        let now = tokio::time::Instant::now();
        if now + self.interval > self.deadline {
            tokio::time::sleep_until(self.deadline).await;
            self.ended = true;
            return Some(LiveTailItem::TimedOut);
        }
        tokio::time::sleep(self.interval).await;
        Some(LiveTailItem::Update(self.poll()))
    }

    /// Reads what arrived since the last update.
    pub fn poll(&mut self) -> LiveTailUpdate {
        let mut update = LiveTailUpdate::default();
        let mut matched: Vec<LiveTailEvent> = Vec::new();
        for f in &mut self.groups {
            if f.group.is_deleted() {
                continue;
            }
            let log = &f.group.log;
            let end = log.next_offset();
            if f.position >= end {
                continue;
            }
            let batch = match log.read(f.position, READ_BUDGET, READ_BYTES, i64::MIN) {
                Ok(b) => b,
                Err(error) => {
                    tracing::warn!(group = %f.group.name, %error, "Live Tail could not read the log.");
                    continue;
                }
            };
            let streams: Vec<(String, u64)> = {
                let data = f.group.data();
                data.streams
                    .iter()
                    .filter(|(n, _)| self.request.streams.selects(n))
                    .map(|(n, s)| (n.clone(), s.id))
                    .collect()
            };
            for r in &batch.records {
                let Some((_, id)) = streams.iter().find(|(n, _)| *n == r.partition_key) else {
                    continue;
                };
                let Ok(e) = codec::decode(&r.data) else {
                    continue;
                };
                if e.stream_id == *id && self.pattern.is_match(e.message) {
                    matched.push(LiveTailEvent {
                        stream: r.partition_key.clone(),
                        group_identifier: f.identifier.clone(),
                        message: e.message.to_owned(),
                        timestamp_ms: e.timestamp_ms,
                        ingestion_ms: r.arrival_ms,
                    });
                }
            }
            f.position = batch.next_offset.max(f.position);
            if f.position < log.next_offset() && batch.records.len() >= READ_BUDGET {
                // More than one update can carry: skip to the end, as AWS drops the oldest.
                f.position = log.next_offset();
                update.sampled = true;
            }
        }
        if matched.len() > MAX_UPDATE_EVENTS {
            update.sampled = true;
            let step = matched.len() as f64 / MAX_UPDATE_EVENTS as f64;
            matched = (0..MAX_UPDATE_EVENTS)
                .filter_map(|i| matched.get((i as f64 * step) as usize).cloned())
                .collect();
        }
        update.results = matched;
        update
    }
}
