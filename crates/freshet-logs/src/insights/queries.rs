// SPDX-License-Identifier: Apache-2.0
//! The queries of this server: StartQuery's background scans, and the registry that
//! GetQueryResults, StopQuery and DescribeQueries read.
//!
//! A query runs on one blocking thread: group by group, it reads the range of the group's
//! log that can hold events of the time range (the bounds FilterLogEvents uses), turns each
//! event of a live stream into a row and feeds the [`Plan`]. Every [`PUBLISH_EVERY`] it
//! publishes partial results and statistics, which GetQueryResults answers while the status
//! is Running. At most [`MAX_CONCURRENT`] queries run at once (AWS: 100); a query stops at
//! [`TIMEOUT`] (AWS: 60 minutes) with status Timeout. Results are kept in memory, for
//! [`KEEP`] after the query ends (AWS keeps them 7 days) and for at most [`MAX_KEPT`]
//! queries; a restart forgets them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::QueryError;
use super::parser;
use super::pipeline::Plan;
use super::record::{EventRef, row_of};
use crate::codec;
use crate::group::Group;
use crate::read::{offset_for_min_ts, retention_floor};
use crate::service::Logs;

/// Most queries running at once (AWS: 100 concurrent queries per account).
pub const MAX_CONCURRENT: usize = 100;
/// How long a query may run (AWS: 60 minutes).
pub const TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long results stay after a query ends (AWS: 7 days).
pub const KEEP_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Most finished queries kept.
pub const MAX_KEPT: usize = 1000;
/// How often a running query publishes partial results.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(500);
/// Most log groups one query reads (AWS: 50 by name, 10,000 through SOURCE).
pub const MAX_GROUPS: usize = 10_000;
/// StartQuery's default `limit` (AWS: 10,000).
pub const DEFAULT_LIMIT: usize = 10_000;

const WINDOW: usize = 4096;
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// A query's status (QueryStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Accepted, not started.
    Scheduled,
    /// Scanning.
    Running,
    /// Done.
    Complete,
    /// A storage failure.
    Failed,
    /// StopQuery.
    Cancelled,
    /// Ran past [`TIMEOUT`].
    Timeout,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Running => "Running",
            Status::Complete => "Complete",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
            Status::Timeout => "Timeout",
        }
    }

    fn is_active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Running)
    }
}

/// QueryStatistics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Statistics {
    /// Events that passed the query's filters.
    pub records_matched: u64,
    /// Events of the time range read.
    pub records_scanned: u64,
    /// Message bytes of those events.
    pub bytes_scanned: u64,
    /// Log groups read so far.
    pub log_groups_scanned: u64,
}

/// One result row: (field, value) pairs.
pub type ResultRow = Vec<(String, String)>;

/// What a query shows now.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Status.
    pub status: Status,
    /// Results (partial while Running).
    pub results: Arc<Vec<ResultRow>>,
    /// Statistics.
    pub statistics: Statistics,
}

/// A query in the registry.
#[derive(Debug)]
pub struct QueryEntry {
    /// queryId.
    pub id: String,
    /// queryString.
    pub query_string: String,
    /// The log groups it reads.
    pub groups: Vec<String>,
    /// createTime, ms.
    pub created_ms: i64,
    state: Mutex<(Snapshot, Option<i64>)>,
    cancel: AtomicBool,
}

impl QueryEntry {
    fn lock(&self) -> MutexGuard<'_, (Snapshot, Option<i64>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current status, results and statistics.
    pub fn snapshot(&self) -> Snapshot {
        self.lock().0.clone()
    }

    /// How long it ran, ms (queryDuration), as of `now_ms`.
    pub fn duration_ms(&self, now_ms: i64) -> i64 {
        let end = self.lock().1.unwrap_or(now_ms);
        (end - self.created_ms).max(0)
    }

    fn publish(&self, status: Status, results: Option<Vec<ResultRow>>, stats: Statistics) {
        let mut s = self.lock();
        // A StopQuery that came first wins.
        if s.0.status == Status::Cancelled {
            return;
        }
        s.0.status = status;
        if let Some(r) = results {
            s.0.results = Arc::new(r);
        }
        s.0.statistics = stats;
    }

    fn finish(&self, now_ms: i64) {
        self.lock().1 = Some(now_ms);
    }
}

/// The registry of queries.
#[derive(Debug, Default)]
pub struct Queries {
    map: Mutex<HashMap<String, Arc<QueryEntry>>>,
}

impl Queries {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<QueryEntry>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The query of this id.
    pub fn get(&self, id: &str) -> Result<Arc<QueryEntry>, QueryError> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| QueryError::QueryNotFound { id: id.to_owned() })
    }

    /// Every query, newest first.
    pub fn list(&self) -> Vec<Arc<QueryEntry>> {
        let mut all: Vec<Arc<QueryEntry>> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(b.id.cmp(&a.id)));
        all
    }

    /// Registers a new query unless too many run; forgets expired ones.
    fn admit(&self, entry: Arc<QueryEntry>, now_ms: i64) -> Result<(), QueryError> {
        let mut map = self.lock();
        map.retain(|_, q| {
            let s = q.lock();
            s.0.status.is_active() || s.1.is_none_or(|end| now_ms - end < KEEP_MS)
        });
        let active = map
            .values()
            .filter(|q| q.lock().0.status.is_active())
            .count();
        if active >= MAX_CONCURRENT {
            return Err(QueryError::TooManyQueries(MAX_CONCURRENT));
        }
        if map.len() >= MAX_KEPT + MAX_CONCURRENT {
            let mut done: Vec<(i64, String)> = map
                .values()
                .filter(|q| !q.lock().0.status.is_active())
                .map(|q| (q.created_ms, q.id.clone()))
                .collect();
            done.sort();
            let excess = map.len() + 1 - (MAX_KEPT + MAX_CONCURRENT);
            for (_, id) in done.into_iter().take(excess) {
                map.remove(&id);
            }
        }
        map.insert(entry.id.clone(), entry);
        Ok(())
    }
}

/// A StartQuery request, as the domain sees it.
#[derive(Debug, Clone)]
pub struct StartQuery {
    /// Groups by name or identifier (name or ARN), from whichever member named them.
    pub groups: Vec<String>,
    /// Start of the time range, epoch seconds.
    pub start_s: i64,
    /// End of the time range, epoch seconds (inclusive).
    pub end_s: i64,
    /// The query.
    pub query_string: String,
    /// Most results.
    pub limit: Option<usize>,
}

impl Logs {
    fn group_for_query(&self, name: &str) -> Result<Arc<Group>, QueryError> {
        let not_found = || QueryError::GroupNotFound {
            group: name.to_owned(),
            account: self.inner.opts.account_id.clone(),
        };
        let resolved = if name.starts_with("arn:") {
            self.name_in_arn(name).ok_or_else(not_found)?
        } else {
            name
        };
        self.group(resolved).map_err(|_| not_found())
    }

    /// StartQuery: checks the query and the groups, registers the query and starts its scan.
    pub(crate) fn start_query(&self, req: StartQuery) -> Result<String, QueryError> {
        let q = parser::parse(&req.query_string).map_err(QueryError::Malformed)?;
        if req.end_s < req.start_s {
            return Err(QueryError::Invalid(
                "End time cannot be less than start time.".to_owned(),
            ));
        }
        let mut names = req.groups.clone();
        names.extend(q.source_names.iter().cloned());
        if let Some(prefixes) = &q.source_prefixes {
            let all = self.group_names();
            names.extend(
                all.into_iter()
                    .filter(|n| prefixes.is_empty() || prefixes.iter().any(|p| n.starts_with(p))),
            );
        }
        if names.is_empty() {
            return Err(QueryError::Invalid(
                "Specify the log groups to query with logGroupName, logGroupNames, \
                 logGroupIdentifiers or a SOURCE command in the query string."
                    .to_owned(),
            ));
        }
        let mut groups: Vec<Arc<Group>> = Vec::new();
        for n in &names {
            let g = self.group_for_query(n)?;
            if !groups.iter().any(|x| x.id == g.id) {
                groups.push(g);
            }
        }
        if groups.len() > MAX_GROUPS {
            return Err(QueryError::Invalid(format!(
                "A query can read at most {MAX_GROUPS} log groups, and this one selects {}.",
                groups.len()
            )));
        }
        let now = self.now_ms();
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        let entry = Arc::new(QueryEntry {
            id: uuid::Uuid::new_v4().to_string(),
            query_string: req.query_string.clone(),
            groups: groups.iter().map(|g| g.name.clone()).collect(),
            created_ms: now,
            state: Mutex::new((
                Snapshot {
                    status: Status::Scheduled,
                    results: Arc::new(Vec::new()),
                    statistics: Statistics::default(),
                },
                None,
            )),
            cancel: AtomicBool::new(false),
        });
        self.inner.insights.admit(entry.clone(), now)?;
        let plan = Plan::new(&q, limit);
        let logs = self.clone();
        let range = (
            req.start_s.saturating_mul(1000),
            req.end_s.saturating_mul(1000).saturating_add(999),
        );
        let id = entry.id.clone();
        tokio::task::spawn_blocking(move || {
            let status = logs.run_query(&entry, groups, plan, range);
            tracing::debug!(query = %entry.id, status = status.as_str(), "Logs Insights query ended.");
            entry.finish(logs.now_ms());
        });
        Ok(id)
    }

    /// StopQuery: true if the query was still running.
    pub(crate) fn stop_query(&self, id: &str) -> Result<bool, QueryError> {
        let q = self.inner.insights.get(id)?;
        q.cancel.store(true, Ordering::SeqCst);
        let mut s = q.lock();
        if s.0.status.is_active() {
            s.0.status = Status::Cancelled;
            s.1 = Some(self.now_ms());
            return Ok(true);
        }
        Ok(false)
    }

    /// The query registry.
    pub(crate) fn queries(&self) -> &Queries {
        &self.inner.insights
    }

    fn run_query(
        &self,
        entry: &QueryEntry,
        groups: Vec<Arc<Group>>,
        mut plan: Plan,
        (ts_lo, ts_hi): (i64, i64),
    ) -> Status {
        let started = Instant::now();
        let mut stats = Statistics::default();
        entry.publish(Status::Running, None, stats);
        let mut last_publish = Instant::now();
        let account = self.inner.opts.account_id.clone();
        let now = self.now_ms();
        for g in groups {
            if g.is_deleted() {
                continue;
            }
            stats.log_groups_scanned += 1;
            let bounds = g.bounds();
            let streams: HashMap<String, u64> = g
                .data()
                .streams
                .iter()
                .map(|(n, s)| (n.clone(), s.id))
                .collect();
            let lo = ts_lo.max(retention_floor(now, g.retention_days()));
            let stop_after_arrival = ts_hi.saturating_add(bounds.max_behind_ms.max(0));
            let log = g.log.as_ref();
            let end_offset = log.next_offset();
            let mut pos = offset_for_min_ts(log, lo, bounds.max_ahead_ms);
            'read: while pos < end_offset {
                if entry.cancel.load(Ordering::SeqCst) {
                    return Status::Cancelled;
                }
                if started.elapsed() > TIMEOUT {
                    plan.matched = stats.records_matched;
                    entry.publish(Status::Timeout, Some(plan.results()), stats);
                    return Status::Timeout;
                }
                let want = usize::try_from(end_offset - pos).map_or(WINDOW, |n| n.min(WINDOW));
                let batch = match log.read(pos, want, WINDOW_BYTES, i64::MIN) {
                    Ok(b) => b,
                    Err(error) => {
                        tracing::warn!(query = %entry.id, group = %g.name, %error, "A Logs Insights query could not read its log group.");
                        entry.publish(Status::Failed, None, stats);
                        return Status::Failed;
                    }
                };
                if batch.records.is_empty() {
                    break;
                }
                for r in &batch.records {
                    if r.offset >= end_offset || r.arrival_ms > stop_after_arrival {
                        break 'read;
                    }
                    pos = r.offset + 1;
                    let Some(&sid) = streams.get(&r.partition_key) else {
                        continue;
                    };
                    let Ok(e) = codec::decode(&r.data) else {
                        continue;
                    };
                    if e.stream_id != sid || e.timestamp_ms < lo || e.timestamp_ms > ts_hi {
                        continue;
                    }
                    stats.records_scanned += 1;
                    stats.bytes_scanned += e.message.len() as u64;
                    plan.feed(row_of(&EventRef::stored(&account, &g, r, &e)));
                    stats.records_matched = plan.matched;
                }
                if last_publish.elapsed() >= PUBLISH_EVERY {
                    entry.publish(Status::Running, Some(plan.results()), stats);
                    last_publish = Instant::now();
                }
            }
        }
        if entry.cancel.load(Ordering::SeqCst) {
            return Status::Cancelled;
        }
        entry.publish(Status::Complete, Some(plan.results()), stats);
        Status::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, created_ms: i64, status: Status, ended: Option<i64>) -> Arc<QueryEntry> {
        Arc::new(QueryEntry {
            id: id.to_owned(),
            query_string: String::new(),
            groups: vec!["g".to_owned()],
            created_ms,
            state: Mutex::new((
                Snapshot {
                    status,
                    results: Arc::new(Vec::new()),
                    statistics: Statistics::default(),
                },
                ended,
            )),
            cancel: AtomicBool::new(false),
        })
    }

    #[test]
    fn at_most_the_concurrency_limit_of_queries_run() {
        let q = Queries::default();
        for i in 0..MAX_CONCURRENT {
            q.admit(entry(&format!("r{i}"), 0, Status::Running, None), 0)
                .unwrap();
        }
        let e = q
            .admit(entry("one-more", 0, Status::Scheduled, None), 0)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Account maximum query concurrency limit of [100] reached."
        );
        q.get("r0")
            .unwrap()
            .publish(Status::Complete, None, Statistics::default());
        assert!(
            q.admit(entry("now-fits", 0, Status::Scheduled, None), 0)
                .is_ok()
        );
    }

    #[test]
    fn finished_queries_are_forgotten_after_seven_days_or_beyond_the_cap() {
        let q = Queries::default();
        q.admit(entry("old", 0, Status::Complete, Some(0)), 0)
            .unwrap();
        q.admit(entry("new", 1, Status::Complete, Some(10)), KEEP_MS - 1)
            .unwrap();
        assert!(q.get("old").is_ok());
        q.admit(entry("x", 2, Status::Complete, Some(2)), KEEP_MS + 1)
            .unwrap();
        assert!(q.get("old").is_err());
        assert!(q.get("new").is_ok());
        for i in 0..MAX_KEPT + MAX_CONCURRENT + 5 {
            q.admit(
                entry(&format!("d{i}"), 10 + i as i64, Status::Complete, Some(10)),
                20,
            )
            .unwrap();
        }
        assert_eq!(q.list().len(), MAX_KEPT + MAX_CONCURRENT);
        assert!(q.get("new").is_err());
        assert_eq!(
            q.list()[0].id,
            format!("d{}", MAX_KEPT + MAX_CONCURRENT + 4)
        );
    }
}
