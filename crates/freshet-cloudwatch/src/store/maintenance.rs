// SPDX-License-Identifier: Apache-2.0
//! Store maintenance, one run at a time: seal complete hours into blocks, roll complete days
//! up into 5-minute and hourly blocks, drop what is past retention, truncate the WAL.
//!
//! Each step writes its blocks first (durable log appends), then commits their directory
//! rows (and seal marks or rollup marks) in one metadata transaction, then publishes them in
//! memory. A crash between leaves unlisted blocks in the log (never read, deleted with their
//! segments) and the data still in the WAL. A failed seal puts its hours back in memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use freshet_meta::{MetaError, Table};
use freshet_runtime::{Component, Periodic};

use super::codec::{self, StoredPoint};
use super::state::{Sealing, SeriesPoints, Window};
use super::tiers::{DAY_MS, HOUR_MS, Tier, floor, merge_into, roll_up};
use super::{BLOCKS, MetricStore, ROLLED, SEALS, SERIES, StoreError, lock, storage};

/// A series' metadata row: id, encoded value, the last-active time in it.
type SeriesRow = (u64, Vec<u8>, i64);

/// How many series one slice of a day's rollup holds in memory.
const ROLLUP_SLICE: usize = 2_048;

/// What one maintenance run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Hours sealed into blocks.
    pub sealed_hours: usize,
    /// Days rolled up into 5-minute and hourly blocks.
    pub rolled_days: usize,
    /// Tier windows dropped past retention.
    pub expired_windows: usize,
    /// Metrics forgotten (no data left in any tier).
    pub expired_metrics: usize,
}

/// The maintenance component: [`MetricStore::maintain`] every
/// [`StoreConfig::maintenance_every`](super::StoreConfig::maintenance_every).
pub fn maintenance_component(store: Arc<MetricStore>) -> Arc<dyn Component> {
    let every = store.config.maintenance_every;
    Periodic::new("cloudwatch-store", every, move || {
        let store = store.clone();
        async move {
            if let Err(e) = store.maintain().await {
                tracing::warn!(
                    error = %e,
                    "Metric store maintenance failed; it retries on the next run."
                );
            }
        }
    })
}

pub(super) async fn run(store: &MetricStore) -> Result<MaintenanceReport, StoreError> {
    let _one = store.maintenance.lock().await;
    let now = store.clock.now_ms();
    let sealed_hours = seal(store, now).await?;
    let rolled_days = roll_up_days(store, now).await?;
    let (expired_windows, expired_metrics) = expire(store, now).await?;
    truncate_wal(store)?;
    Ok(MaintenanceReport {
        sealed_hours,
        rolled_days,
        expired_windows,
        expired_metrics,
    })
}

/// One series' unsealed points as block points of `tier`.
fn tier_points(tier: Tier, points: &SeriesPoints) -> Vec<StoredPoint> {
    match tier {
        Tier::Second => points
            .iter()
            .filter(|((_, res), _)| *res == 1)
            .map(|((ts, res), dp)| (*ts, *res, dp.clone()))
            .collect(),
        _ => roll_up(tier, points.iter().map(|((ts, res), dp)| (*ts, *res, dp))),
    }
}

async fn seal(store: &MetricStore, now: i64) -> Result<usize, StoreError> {
    let cutoff = now - store.config.seal_grace_ms;
    let todo: Vec<(i64, Arc<Window>, u64, bool)> = {
        let mut st = lock(&store.state);
        let mark = store.wal.next_offset();
        let late_due = st
            .last_late_seal_ms
            .is_none_or(|at| now >= at.saturating_add(store.config.late_seal_every_ms));
        let sealed_before = |h: i64| {
            st.blocks.contains_key(&(Tier::Minute, h)) || st.blocks.contains_key(&(Tier::Second, h))
        };
        let hours: Vec<i64> = st
            .mem
            .keys()
            .copied()
            .filter(|h| h.saturating_add(HOUR_MS) <= cutoff && (late_due || !sealed_before(*h)))
            .collect();
        if late_due && hours.iter().any(|h| sealed_before(*h)) {
            st.last_late_seal_ms = Some(now);
        }
        let mut todo = Vec::new();
        for h in hours {
            if let Some(w) = st.mem.remove(&h) {
                let w = Arc::new(w);
                st.sealing.insert(h, Sealing { window: w.clone() });
                // Rollups are written directly when the day's are already there, or when
                // its minutes are past retention (nothing would ever roll them up).
                let day = floor(h, DAY_MS);
                let direct = st.rolled.contains(&day) || Tier::Minute.expired(h, now);
                todo.push((h, w, mark, direct));
            }
        }
        todo
    };
    if todo.is_empty() {
        return Ok(0);
    }
    match write_sealed(store, now, &todo).await {
        Ok(()) => Ok(todo.len()),
        Err(e) => {
            // Put the hours back so that the next run seals them (and queries keep them).
            let mut st = lock(&store.state);
            for (h, _, _, _) in &todo {
                if let Some(s) = st.sealing.remove(h) {
                    let back = st.mem.entry(*h).or_default();
                    back.first_wal = if back.series.is_empty() {
                        s.window.first_wal
                    } else {
                        back.first_wal.min(s.window.first_wal)
                    };
                    for (id, points) in &s.window.series {
                        let into = back.series.entry(*id).or_default();
                        for (at, dp) in points {
                            merge_into(into, *at, dp);
                        }
                    }
                }
            }
            Err(e)
        }
    }
}

async fn write_sealed(
    store: &MetricStore,
    now: i64,
    todo: &[(i64, Arc<Window>, u64, bool)],
) -> Result<(), StoreError> {
    let mut listed: Vec<(Tier, i64, Vec<u64>)> = Vec::new();
    for (hour, window, _, direct) in todo {
        let mut ids: Vec<u64> = window.series.keys().copied().collect();
        ids.sort_unstable();
        let mut tiers = vec![Tier::Second, Tier::Minute];
        if *direct {
            tiers.extend([Tier::FiveMinute, Tier::Hour]);
        }
        for tier in tiers {
            let start = tier.window_of(*hour);
            if tier.expired(start, now) {
                continue;
            }
            let chunks: Vec<(u64, Vec<StoredPoint>)> = ids
                .iter()
                .filter_map(|id| {
                    let points = tier_points(tier, window.series.get(id)?);
                    (!points.is_empty()).then_some((*id, points))
                })
                .collect();
            if chunks.is_empty() {
                continue;
            }
            let offsets = store.blocks.write(tier, start, &chunks, now).await?;
            listed.push((tier, start, offsets));
        }
    }
    // Series rows for new metrics, and last-active times more than an hour newer.
    let (rows, newly_rolled): (Vec<SeriesRow>, Vec<i64>) = {
        let st = lock(&store.state);
        // A day rolled up directly with no minute blocks left to roll is rolled.
        let mut newly_rolled: Vec<i64> = todo
            .iter()
            .filter(|(_, _, _, direct)| *direct)
            .map(|(h, _, _, _)| floor(*h, DAY_MS))
            .filter(|d| {
                !st.rolled.contains(d)
                    && st
                        .blocks
                        .range((Tier::Minute, *d)..(Tier::Minute, d.saturating_add(DAY_MS)))
                        .next()
                        .is_none()
            })
            .collect();
        newly_rolled.dedup();
        let mut ids: Vec<u64> = todo
            .iter()
            .flat_map(|(_, w, _, _)| w.series.keys().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = ids
            .into_iter()
            .filter_map(|id| {
                let info = st.info.get(&id)?;
                let stale = info
                    .persisted_last_ms
                    .is_none_or(|p| info.last_ms >= p.saturating_add(HOUR_MS));
                stale.then(|| {
                    let mut v = codec::encode_key(&info.key);
                    v.extend_from_slice(&info.last_ms.to_le_bytes());
                    (id, v, info.last_ms)
                })
            })
            .collect();
        (rows, newly_rolled)
    };
    let mut c = Commit::default();
    for (tier, start, offsets) in &listed {
        for o in offsets {
            c.put(BLOCKS, block_row(*tier, *start, *o), Vec::new());
        }
    }
    for (hour, _, mark, _) in todo {
        c.put(SEALS, hour.to_string(), mark.to_string().into_bytes());
    }
    for day in &newly_rolled {
        c.put(ROLLED, day.to_string(), Vec::new());
    }
    for (id, v, _) in &rows {
        c.put(SERIES, format!("{id:016x}"), v.clone());
    }
    c.run(store, "commit sealed blocks").await?;
    let mut st = lock(&store.state);
    for (tier, start, offsets) in listed {
        st.blocks.entry((tier, start)).or_default().extend(offsets);
    }
    st.rolled.extend(newly_rolled);
    for (hour, _, mark, _) in todo {
        st.sealing.remove(hour);
        st.seals.insert(*hour, *mark);
    }
    for (id, _, last) in rows {
        if let Some(info) = st.info.get_mut(&id) {
            info.persisted_last_ms = Some(last);
        }
    }
    Ok(())
}

/// Row changes committed in one metadata transaction, off the async runtime (a commit is
/// an fsync).
#[derive(Debug, Default)]
struct Commit {
    puts: Vec<(Table, String, Vec<u8>)>,
    deletes: Vec<(Table, String)>,
}

impl Commit {
    fn put(&mut self, table: Table, key: String, value: Vec<u8>) {
        self.puts.push((table, key, value));
    }

    fn delete(&mut self, table: Table, key: String) {
        self.deletes.push((table, key));
    }

    async fn run(self, store: &MetricStore, what: &str) -> Result<(), StoreError> {
        if self.puts.is_empty() && self.deletes.is_empty() {
            return Ok(());
        }
        let meta = store.meta.clone();
        tokio::task::spawn_blocking(move || {
            meta.transaction(|t| {
                for (table, key, value) in &self.puts {
                    t.put(*table, key, value)?;
                }
                for (table, key) in &self.deletes {
                    t.delete(*table, key)?;
                }
                Ok::<(), MetaError>(())
            })
        })
        .await
        .map_err(|e| storage(what, e))?
        .map_err(|e| storage(what, e))
    }
}

fn block_row(tier: Tier, window: i64, offset: u64) -> String {
    format!("{}/{window}/{offset}", tier as u8)
}

async fn roll_up_days(store: &MetricStore, now: i64) -> Result<usize, StoreError> {
    let days: Vec<(i64, Vec<u64>)> = {
        let st = lock(&store.state);
        let mut days: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
        for ((tier, window), offsets) in &st.blocks {
            let day = floor(*window, DAY_MS);
            if *tier == Tier::Minute
                && day.saturating_add(DAY_MS + store.config.seal_grace_ms) <= now
                && !st.rolled.contains(&day)
                && !Tier::Hour.expired(day, now)
            {
                days.entry(day).or_default().extend(offsets);
            }
        }
        days.into_iter().collect()
    };
    for (day, offsets) in &days {
        roll_up_day(store, now, *day, offsets).await?;
    }
    Ok(days.len())
}

async fn roll_up_day(
    store: &MetricStore,
    now: i64,
    day: i64,
    offsets: &[u64],
) -> Result<(), StoreError> {
    let mut indexes = Vec::with_capacity(offsets.len());
    for o in offsets {
        indexes.push((*o, store.blocks.index(Tier::Minute, *o)?));
    }
    let mut ids: Vec<u64> = indexes
        .iter()
        .flat_map(|(_, i)| i.series.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let targets: Vec<Tier> = [Tier::FiveMinute, Tier::Hour]
        .into_iter()
        .filter(|t| !t.expired(day, now))
        .collect();
    let mut listed: Vec<(Tier, Vec<u64>)> = Vec::new();
    for slice in ids.chunks(ROLLUP_SLICE) {
        let (Some(lo), Some(hi)) = (slice.first(), slice.last()) else {
            continue;
        };
        let mut acc: Vec<BTreeMap<u64, SeriesPoints>> = vec![BTreeMap::new(); targets.len()];
        for (offset, index) in &indexes {
            let from = index.series.partition_point(|s| s < lo);
            let to = index.series.partition_point(|s| s <= hi);
            if from == to {
                continue;
            }
            for (id, points) in store.blocks.chunks(Tier::Minute, *offset, from, to)? {
                for (t, into) in targets.iter().zip(acc.iter_mut()) {
                    let series = into.entry(id).or_default();
                    for (ts, src, dp) in roll_up(*t, points.iter().map(|(a, b, c)| (*a, *b, c))) {
                        merge_into(series, (ts, src), &dp);
                    }
                }
            }
        }
        for (t, series) in targets.iter().zip(acc) {
            let chunks: Vec<(u64, Vec<StoredPoint>)> = series
                .into_iter()
                .map(|(id, p)| (id, p.into_iter().map(|((ts, s), dp)| (ts, s, dp)).collect()))
                .collect();
            let offs = store.blocks.write(*t, day, &chunks, now).await?;
            listed.push((*t, offs));
        }
    }
    let mut c = Commit::default();
    for (tier, offs) in &listed {
        for o in offs {
            c.put(BLOCKS, block_row(*tier, day, *o), Vec::new());
        }
    }
    c.put(ROLLED, day.to_string(), Vec::new());
    c.run(store, "commit rollups").await?;
    let mut st = lock(&store.state);
    for (tier, offs) in listed {
        st.blocks.entry((tier, day)).or_default().extend(offs);
    }
    st.rolled.insert(day);
    Ok(())
}

async fn expire(store: &MetricStore, now: i64) -> Result<(usize, usize), StoreError> {
    let wal_start = store.wal.start_offset();
    let oldest_series = now - Tier::Hour.retention_ms() - DAY_MS;
    let (windows, days, seals, series) = {
        let mut st = lock(&store.state);
        let windows: Vec<((Tier, i64), Vec<u64>)> = st
            .blocks
            .iter()
            .filter(|((t, w), _)| t.expired(*w, now))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (k, _) in &windows {
            st.blocks.remove(k);
        }
        let days: Vec<i64> = st
            .rolled
            .iter()
            .copied()
            .filter(|d| Tier::Hour.expired(*d, now))
            .collect();
        for d in &days {
            st.rolled.remove(d);
        }
        // A seal mark at or below the WAL's start has no record left to filter.
        let seals: Vec<i64> = st
            .seals
            .iter()
            .filter(|(_, m)| **m <= wal_start)
            .map(|(h, _)| *h)
            .collect();
        for h in &seals {
            st.seals.remove(h);
        }
        let series: Vec<u64> = st
            .info
            .iter()
            .filter(|(_, i)| i.last_ms < oldest_series)
            .map(|(id, _)| *id)
            .collect();
        for id in &series {
            if let Some(info) = st.info.remove(id) {
                st.ids.remove(&info.key);
            }
        }
        (windows, days, seals, series)
    };
    let mut c = Commit::default();
    for ((tier, w), offs) in &windows {
        for o in offs {
            c.delete(BLOCKS, block_row(*tier, *w, *o));
        }
    }
    for d in &days {
        c.delete(ROLLED, d.to_string());
    }
    for h in &seals {
        c.delete(SEALS, h.to_string());
    }
    for id in &series {
        c.delete(SERIES, format!("{id:016x}"));
    }
    c.run(store, "commit retention").await?;
    for ((tier, _), offs) in &windows {
        store.blocks.forget(*tier, offs);
    }
    for tier in Tier::ALL {
        store
            .blocks
            .log(tier)?
            .delete_segments_before(now - tier.retention_ms())
            .map_err(|e| storage("delete expired blocks", e))?;
    }
    Ok((windows.len(), series.len()))
}

fn truncate_wal(store: &MetricStore) -> Result<(), StoreError> {
    let needed = lock(&store.state).wal_needed_from(store.wal.next_offset());
    store
        .wal
        .delete_segments_below(needed)
        .map_err(|e| storage("truncate WAL", e))?;
    Ok(())
}
