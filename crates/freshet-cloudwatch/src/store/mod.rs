// SPDX-License-Identifier: Apache-2.0
//! The metric store: datapoints per metric, merged per period, kept under AWS's retention
//! tiers, queried by period; and the index of metrics behind ListMetrics.
//!
//! The contract (what the API, alarms, math and Prometheus rely on):
//! - [`MetricStore::put`] is durable when it returns (PutMetricData acknowledges after it):
//!   its points are in a group-committed WAL record.
//! - [`MetricStore::ingest`] takes the collector's per-minute deltas the same way. A
//!   minute's datapoint is the merge of every delta and every put for it; 1-second points
//!   (`resolution_s == 1`) are kept apart from minute ones until they roll into minutes.
//! - [`MetricStore::query`] answers one metric's datapoints in `[start, end)` aggregated
//!   into `period`-long buckets starting at `start`, from the tier AWS would read for that
//!   range (see [`tiers`]).
//! - [`MetricStore::list`] lists metrics with data in the last two weeks unless the filter
//!   says otherwise; [`MetricStore::put`] refuses new metrics past
//!   [`StoreConfig::max_metrics`] with [`StoreError::TooManyMetrics`].
//!
//! How data flows and where it lives (all on the platform's log backend and metadata store,
//! no files of its own):
//! - `cloudwatch/metrics/wal`: one record per put/ingest (`codec`). Points go into the
//!   memtable (`state`) first, then the record is appended; so every WAL record below the
//!   WAL's next offset read under the state lock is already in memory.
//! - Maintenance (`maintenance`, run by [`maintenance_component`]) seals each hour once it
//!   is complete (plus a grace period): it writes the hour's 1-second block and minute block,
//!   commits the blocks' directory rows and a seal mark (hour → WAL offset) in one metadata
//!   transaction, drops the hour from memory and deletes WAL segments nobody needs. Once a
//!   day is complete it reads the day's minute blocks and writes its 5-minute and hourly
//!   rollup blocks. Late points (an hour already sealed) gather in memory and are sealed
//!   every [`StoreConfig::late_seal_every_ms`] as extra blocks of their windows, and of their
//!   day's rollups when those exist: merging is associative, so a window's data is the
//!   merge of its blocks. Blocks past retention are dropped from the directory and their
//!   log segments deleted (`blocks`, [`tiers`]).
//! - Tier logs `cloudwatch/metrics/tier-{1,60,300,3600}s` hold the blocks; metadata tables
//!   `cloudwatch.metric-series` (id → key, last-active), `metric-blocks` (the directory),
//!   `metric-seals` (seal marks) and `metric-rolled` (days rolled up).
//! - Recovery replays the WAL, skipping points of hours whose seal mark is above the
//!   record's offset (they are in blocks).
//!
//! Memory holds the series index (bounded by `max_metrics`), the unsealed hours (about one
//! hour plus the grace period, and late points for up to `late_seal_every_ms`), the block
//! directory (one entry per tier window, a constant bounded by retention) and a bounded
//! cache of block indexes; never data by days kept.
//!
//! Subset and known limits: `ingest` waits for the WAL's group commit like `put`; a point
//! that was being appended while its hour was sealed may be counted twice after a crash at
//! that moment (never lost); a put whose WAL append fails (a poisoned disk) answers an
//! error although its points stay in memory; late blocks are not compacted into their
//! window's block; rolling up a day holds that day's minute-block indexes and a
//! 2,048-series slice of its data in memory; last-active times survive a restart to within
//! an hour; log reads and segment deletions (short, blocking) run on the calling task,
//! metadata commits on the blocking pool.

mod blocks;
mod codec;
mod maintenance;
mod state;
#[cfg(test)]
mod tests;
pub mod tiers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freshet_log::{Log, LogName, RecordIn};
use freshet_meta::Table;
use freshet_metrics::{Datapoint, MetricKey, Point, Unit};
use freshet_runtime::Platform;
use freshet_types::clock::Clock;

pub use maintenance::{MaintenanceReport, maintenance_component};

use blocks::Blocks;
use state::State;
use tiers::{Buckets, DAY_MS, HOUR_MS, Tier};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing storage failed.
    #[error("metric storage: {0}")]
    Storage(String),
    /// The points name new metrics past the store's limit on distinct metrics.
    #[error("the limit of {limit} distinct metrics is reached")]
    TooManyMetrics {
        /// The limit ([`StoreConfig::max_metrics`]).
        limit: usize,
    },
}

/// How the store is sized and paced.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The most distinct metrics kept (new ones past it are refused).
    pub max_metrics: usize,
    /// How long after an hour ends it is sealed (points for it may still be in flight).
    pub seal_grace_ms: i64,
    /// How often maintenance runs.
    pub maintenance_every: Duration,
    /// How often late points (for hours already sealed) are sealed as extra blocks: each
    /// seal adds a block per window, so they gather in memory a while.
    pub late_seal_every_ms: i64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_metrics: 1_000_000,
            seal_grace_ms: 5 * 60_000,
            maintenance_every: Duration::from_secs(60),
            late_seal_every_ms: 15 * 60_000,
        }
    }
}

/// What [`MetricStore::query`] reads.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The metric (dimensions match exactly).
    pub key: &'a MetricKey,
    /// Inclusive start, epoch ms; the first bucket starts here.
    pub start_ms: i64,
    /// Exclusive end, epoch ms.
    pub end_ms: i64,
    /// Bucket length in seconds (1, 5, 10, 30 or a multiple of 60).
    pub period_s: u32,
    /// Only datapoints recorded in this unit, when set.
    pub unit: Option<Unit>,
}

/// Which metrics [`MetricStore::list`] returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this metric name.
    pub name: Option<String>,
    /// Each must be a dimension of the metric; with a value, with that value.
    pub dimensions: Vec<(String, Option<String>)>,
    /// Only metrics with a datapoint at or after this time (epoch ms).
    pub active_since_ms: Option<i64>,
}

impl ListFilter {
    /// Whether `key` passes the name filters (not the activity filter).
    pub fn matches(&self, key: &MetricKey) -> bool {
        self.namespace.as_ref().is_none_or(|n| *n == key.namespace)
            && self.name.as_ref().is_none_or(|n| *n == key.name)
            && self.dimensions.iter().all(|(name, value)| {
                key.dimension(name)
                    .is_some_and(|v| value.as_ref().is_none_or(|want| want == v))
            })
    }
}

/// How long a metric stays listed without new data (ListMetrics: two weeks).
pub const LIST_ACTIVE_MS: i64 = 14 * DAY_MS;

/// Metadata: series id (hex) → key and last-active time.
const SERIES: Table = Table::new("cloudwatch", "metric-series");
/// Metadata: `<tier>/<window>/<index offset>` → nothing (the block directory).
const BLOCKS: Table = Table::new("cloudwatch", "metric-blocks");
/// Metadata: hour → the WAL offset below which its points are sealed.
const SEALS: Table = Table::new("cloudwatch", "metric-seals");
/// Metadata: day → nothing (its rollups exist).
const ROLLED: Table = Table::new("cloudwatch", "metric-rolled");

/// How many WAL records recovery reads at a time.
const REPLAY_BATCH: usize = 1_024;

/// The metric store.
pub struct MetricStore {
    clock: Arc<dyn Clock>,
    config: StoreConfig,
    meta: Arc<freshet_meta::Meta>,
    wal: Arc<dyn Log>,
    blocks: Blocks,
    state: Mutex<State>,
    /// Serializes maintenance runs (the tier logs have one writer).
    maintenance: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for MetricStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricStore").finish_non_exhaustive()
    }
}

fn storage(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("{what}: {e}"))
}

fn log_name(part: &str) -> Result<LogName, StoreError> {
    LogName::new("cloudwatch", ["metrics", part]).map_err(|e| storage("log name", e))
}

impl MetricStore {
    /// Opens (and recovers) the store on `platform`.
    pub fn open(platform: &Platform) -> Result<Arc<Self>, StoreError> {
        Self::open_with(platform, StoreConfig::default())
    }

    /// Opens (and recovers) the store on `platform` with `config`. Blocks while it replays
    /// the WAL.
    pub fn open_with(platform: &Platform, config: StoreConfig) -> Result<Arc<Self>, StoreError> {
        let open = |part: &str| {
            platform
                .logs
                .open(&log_name(part)?)
                .map_err(|e| storage("open log", e))
        };
        let wal = open("wal")?;
        let mut logs = HashMap::new();
        for t in Tier::ALL {
            logs.insert(t, open(t.log_part())?);
        }
        let store = Self {
            clock: platform.clock.clone(),
            config,
            meta: platform.meta.clone(),
            wal,
            blocks: Blocks::new(logs),
            state: Mutex::new(State::default()),
            maintenance: tokio::sync::Mutex::new(()),
        };
        store.recover()?;
        Ok(Arc::new(store))
    }

    fn recover(&self) -> Result<(), StoreError> {
        let meta = |e| storage("metadata", e);
        let mut st = State::default();
        for (k, v) in self.meta.scan(SERIES, "").map_err(meta)? {
            let id = u64::from_str_radix(&k, 16).map_err(|e| storage("series row", e))?;
            let (key, rest) = codec::decode_key(&v).map_err(|e| storage("series row", e))?;
            let last = rest
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(i64::MIN, i64::from_le_bytes);
            st.load_series(id, key, last);
        }
        for (k, _) in self.meta.scan(BLOCKS, "").map_err(meta)? {
            let mut parts = k.split('/');
            let parsed = (|| {
                let tier = Tier::from_code(parts.next()?.parse().ok()?)?;
                let window: i64 = parts.next()?.parse().ok()?;
                let offset: u64 = parts.next()?.parse().ok()?;
                Some((tier, window, offset))
            })();
            let Some((tier, window, offset)) = parsed else {
                return Err(StoreError::Storage(format!("bad block row {k}")));
            };
            // Expired ones too: the next maintenance deletes their rows.
            st.blocks.entry((tier, window)).or_default().push(offset);
        }
        for (k, _) in self.meta.scan(ROLLED, "").map_err(meta)? {
            if let Ok(day) = k.parse() {
                st.rolled.insert(day);
            }
        }
        let mut seals = std::collections::BTreeMap::new();
        for (k, v) in self.meta.scan(SEALS, "").map_err(meta)? {
            let mark = std::str::from_utf8(&v).ok().and_then(|v| v.parse().ok());
            if let (Ok(hour), Some(mark)) = (k.parse(), mark) {
                seals.insert(hour, mark);
            }
        }
        let oldest = self.clock.now_ms() - Tier::Hour.retention_ms();
        let (mut replayed, mut skipped) = (0usize, 0usize);
        let mut from = self.wal.start_offset();
        let end = self.wal.next_offset();
        while from < end {
            let batch = self
                .wal
                .read(from, REPLAY_BATCH, 16 << 20, i64::MIN)
                .map_err(|e| storage("read WAL", e))?;
            if batch.records.is_empty() {
                break;
            }
            for r in &batch.records {
                let points = match codec::decode_wal(&r.data) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(
                            offset = r.offset,
                            error = %e,
                            "Skipped an undecodable metric WAL record."
                        );
                        skipped += 1;
                        continue;
                    }
                };
                let keep: Vec<Point> = points
                    .into_iter()
                    .filter(|p| {
                        let hour = tiers::floor(p.timestamp_ms, HOUR_MS);
                        p.timestamp_ms >= oldest && seals.get(&hour).is_none_or(|m| *m <= r.offset)
                    })
                    .collect();
                replayed += keep.len();
                // Acknowledged points are kept even past the limit.
                let _ = st.apply(&keep, r.offset, None);
            }
            from = batch.next_offset;
        }
        tracing::info!(
            metrics = st.ids.len(),
            points = replayed,
            undecodable = skipped,
            "Recovered the metric store."
        );
        st.seals = seals;
        *lock(&self.state) = st;
        Ok(())
    }

    /// The store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The store's configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Adds PutMetricData's points; durable when it returns. Refuses them all when they
    /// would add metrics past [`StoreConfig::max_metrics`].
    pub async fn put(&self, points: Vec<Point>) -> Result<(), StoreError> {
        self.append(points, Some(self.config.max_metrics)).await
    }

    /// Adds the collector's deltas (durable when it returns). Service metrics are not
    /// refused at the limit: they are few and bounded by the services' own resources.
    pub async fn ingest(&self, points: Vec<Point>) -> Result<(), StoreError> {
        self.append(points, None).await
    }

    async fn append(&self, mut points: Vec<Point>, limit: Option<usize>) -> Result<(), StoreError> {
        // Nothing could ever read them.
        let oldest = self.clock.now_ms() - Tier::Hour.retention_ms();
        points.retain(|p| p.timestamp_ms >= oldest);
        if points.is_empty() {
            return Ok(());
        }
        let record = codec::encode_wal(&points);
        {
            let mut st = lock(&self.state);
            // Read under the lock: this record's offset will be at or above it.
            let hint = self.wal.next_offset();
            st.apply(&points, hint, limit)
                .map_err(|_| StoreError::TooManyMetrics {
                    limit: self.config.max_metrics,
                })?;
        }
        let rec = [RecordIn {
            partition_key: "",
            data: &record,
        }];
        self.wal
            .append(&rec, self.clock.now_ms())
            .await
            .map_err(|e| storage("append WAL", e))?;
        Ok(())
    }

    /// One metric's datapoints in `[q.start_ms, q.end_ms)`, one per non-empty bucket, as
    /// `(bucket start, merged datapoint)` in time order.
    pub async fn query(&self, q: &Query<'_>) -> Result<Vec<(i64, Datapoint)>, StoreError> {
        let now = self.clock.now_ms();
        let Some(tier) = tiers::tier_for(now, q.start_ms, q.period_s) else {
            return Ok(Vec::new());
        };
        if q.end_ms <= q.start_ms {
            return Ok(Vec::new());
        }
        let mut buckets = Buckets::new(q.start_ms, q.end_ms, q.period_s, q.unit);
        // (tier, index offset, only points from this source resolution)
        let mut reads: Vec<(Tier, u64, Option<u8>)> = Vec::new();
        let id = {
            let st = lock(&self.state);
            let Some(id) = st.ids.get(q.key).copied() else {
                return Ok(Vec::new());
            };
            for (ts, _, dp) in st.unsealed(id, q.start_ms, q.end_ms) {
                buckets.add(ts, &dp);
            }
            // Blocks only hold the past (an end far ahead must not walk days that never come).
            let end_ms = q.end_ms.min(now.saturating_add(HOUR_MS));
            let all = |t: Tier, s: i64, e: i64| st.blocks_overlapping(t, s, e);
            match tier {
                Tier::Second => {
                    for o in all(Tier::Second, q.start_ms, end_ms) {
                        reads.push((Tier::Second, o, None));
                    }
                    for o in all(Tier::Minute, q.start_ms, end_ms) {
                        reads.push((Tier::Minute, o, Some(60)));
                    }
                }
                Tier::Minute => {
                    for o in all(Tier::Minute, q.start_ms, end_ms) {
                        reads.push((Tier::Minute, o, None));
                    }
                }
                Tier::FiveMinute | Tier::Hour => {
                    let mut day = tiers::floor(q.start_ms, DAY_MS);
                    while day < end_ms {
                        let (from, to) =
                            (day.max(q.start_ms), day.saturating_add(DAY_MS).min(end_ms));
                        let source = if st.rolled.contains(&day) {
                            tier
                        } else {
                            Tier::Minute
                        };
                        for o in all(source, from, to) {
                            reads.push((source, o, None));
                        }
                        day = day.saturating_add(DAY_MS);
                    }
                }
            }
            id
        };
        for (t, offset, src) in reads {
            for (ts, from, dp) in self.blocks.series(t, offset, id)? {
                if src.is_none_or(|s| s == from) {
                    buckets.add(ts, &dp);
                }
            }
        }
        Ok(buckets.finish())
    }

    /// Metrics passing `filter`, in key order, after `after` (exclusive), at most `limit`.
    /// Without `filter.active_since_ms`, only metrics with data in the last two weeks.
    pub fn list(
        &self,
        filter: &ListFilter,
        after: Option<&MetricKey>,
        limit: usize,
    ) -> Vec<Arc<MetricKey>> {
        let since = filter
            .active_since_ms
            .unwrap_or_else(|| self.clock.now_ms() - LIST_ACTIVE_MS);
        let st = lock(&self.state);
        let range = match after {
            Some(a) => st
                .ids
                .range::<MetricKey, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => st.ids.range::<MetricKey, _>(..),
        };
        range
            .filter(|(k, id)| {
                filter.matches(k) && st.info.get(id).is_some_and(|i| i.last_ms >= since)
            })
            .map(|(k, _)| k.clone())
            .take(limit)
            .collect()
    }

    /// Every metric's newest datapoint since this process started, as `(metric, timestamp,
    /// datapoint)`; for the Prometheus exposition.
    pub fn latest(&self) -> Vec<(Arc<MetricKey>, i64, Datapoint)> {
        let st = lock(&self.state);
        st.info
            .values()
            .filter_map(|i| {
                i.latest
                    .as_ref()
                    .map(|(ts, dp)| (i.key.clone(), *ts, dp.clone()))
            })
            .collect()
    }

    /// Like [`MetricStore::latest`], but each metric's newest datapoint whose period has ended
    /// by `now_ms` (a minute still filling would read as a drop at every minute's start).
    pub fn latest_complete(&self, now_ms: i64) -> Vec<(Arc<MetricKey>, i64, Datapoint)> {
        let st = lock(&self.state);
        st.info
            .values()
            .filter_map(|i| {
                let newest = i.latest.as_ref()?;
                let pick = if newest.0 + i.latest_step_ms <= now_ms {
                    Some(newest)
                } else {
                    i.previous.as_ref()
                };
                pick.map(|(ts, dp)| (i.key.clone(), *ts, dp.clone()))
            })
            .collect()
    }

    /// Seals complete hours, rolls up complete days and applies retention, now. The
    /// maintenance component calls it periodically; tests call it after moving the clock.
    pub async fn maintain(&self) -> Result<MaintenanceReport, StoreError> {
        maintenance::run(self).await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
