// SPDX-License-Identifier: Apache-2.0
//! Resharding: SplitShard, MergeShards, UpdateShardCount, closed-shard expiry, and the switch
//! they (and the on-demand scaler) share.
//!
//! Planning is pure: a reshard is a list of [`Step`]s applied to a copy of the stream's shard
//! records ([`apply_steps`]). Children take the next free indexes in step order; a split's
//! children own `[start, key - 1]` and `[key, end]`; a merge's child names `ShardToMerge` as
//! parent and the other shard as adjacent parent and owns the union. Steps may name shards an
//! earlier step of the same plan created (UpdateShardCount splits, then merges split halves).
//!
//! # The switch
//!
//! Under the control lock, after validation:
//! 1. open (create and fsync) the new shards' log directories;
//! 2. take the stream's gate exclusively: every put that routed with the old layout has
//!    resolved (acknowledged or failed) and new puts wait;
//! 3. close the parents' logs (which fsyncs them) and take each one's next offset as its end,
//!    so every record a put was told about lies below it and stays readable;
//! 4. persist the new layout (parents closed with their end, children open) in one metadata
//!    transaction, then install it in memory and open the gate.
//!
//! A crash before 4 leaves the old layout in the metadata: recovery removes the children's
//! empty directories and the parents take writes again. A crash after it recovers the new
//! layout and closes the parents' logs again when it loads them. Child sequence numbers carry a
//! larger shard index than their parents', so they compare greater than anything in a parent.

use std::sync::Arc;

use freshet_log::Log;
use freshet_types::hash::parse_hash_key;
use freshet_types::{HashKeyRange, ShardId, even_hash_ranges};

use crate::data::unparsable_shard_first;
use crate::model::{ShardCountUpdate, StreamRef};
use crate::record::{ShardRecord, StreamMode, StreamRecord, StreamStatus};
use crate::state::{Shard, ShardSet, Stream, range_of, retention_start};
use crate::store::shard_log;
use crate::{Error, Streams};

/// Most open shards UpdateShardCount may leave a stream with.
pub(crate) const MAX_SCALING_SHARDS: u32 = 10_000;
/// UpdateShardCount calls allowed per stream in any 24 hours.
pub(crate) const MAX_SCALINGS_PER_DAY: usize = 10;
const DAY_MS: i64 = 24 * 3_600_000;

/// One change of a reshard plan. Shard numbers are indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Close `shard`; children `[start, at - 1]` and `[at, end]`.
    Split { shard: u32, at: u128 },
    /// Close both; one child owning the union. `shard` ends where `adjacent` starts.
    Merge { shard: u32, adjacent: u32 },
}

/// Applies `steps` to `shards` (every shard of a stream, position = index), closing parents
/// and appending children, all at `now_ms`. `None` if a step names a missing or closed shard
/// or an invalid split key, leaving `shards` partly changed.
pub(crate) fn apply_steps(
    shards: &mut Vec<ShardRecord>,
    steps: &[Step],
    now_ms: i64,
) -> Option<()> {
    for step in steps {
        let next = u32::try_from(shards.len()).ok()?;
        match *step {
            Step::Split { shard, at } => {
                let p = shards.get_mut(shard as usize).filter(|p| p.is_open())?;
                if !split_key_valid(range_of(p), at) {
                    return None;
                }
                p.closed_ms = Some(now_ms);
                let (start, end) = (p.hash_start, p.hash_end);
                shards.push(child(next, start, at - 1, shard, None, now_ms));
                shards.push(child(next + 1, at, end, shard, None, now_ms));
            }
            Step::Merge { shard, adjacent } => {
                let a = shards.get(shard as usize).filter(|s| s.is_open())?;
                let b = shards.get(adjacent as usize).filter(|s| s.is_open())?;
                if shard == adjacent || a.hash_end.checked_add(1) != Some(b.hash_start) {
                    return None;
                }
                let (start, end) = (a.hash_start, b.hash_end);
                for i in [shard, adjacent] {
                    shards.get_mut(i as usize)?.closed_ms = Some(now_ms);
                }
                shards.push(child(next, start, end, shard, Some(adjacent), now_ms));
            }
        }
    }
    Some(())
}

fn child(
    index: u32,
    start: u128,
    end: u128,
    parent: u32,
    adjacent_parent: Option<u32>,
    now_ms: i64,
) -> ShardRecord {
    ShardRecord {
        index,
        hash_start: start,
        hash_end: end,
        parent: Some(parent),
        adjacent_parent,
        created_ms: now_ms,
        closed_ms: None,
        ending_offset: None,
        expired: false,
    }
}

/// SplitShard's rule: the key must exceed the shard's start by more than one and stay below
/// its end, so both children own at least two keys.
pub(crate) fn split_key_valid(r: HashKeyRange, at: u128) -> bool {
    r.start.checked_add(1).is_some_and(|s1| at > s1) && at < r.end
}

/// The key that halves `r`, if `r` can be split at all.
pub(crate) fn midpoint(r: HashKeyRange) -> Option<u128> {
    let at = r.start + (r.end - r.start) / 2 + 1;
    split_key_valid(r, at).then_some(at)
}

/// The steps of a uniform scaling from the open shards `open` (in hash-key order) to `target`
/// open shards, with children numbered from `first_free`.
///
/// Like AWS (whose lineage counts this reproduces: 2→4 makes 6 shards in all, 4→5 15,
/// 10→13 37, 4→2 6, 5→3 7), scaling up splits every open shard once and then merges adjacent
/// pieces down to the target; scaling down only merges. Each shard is split at the target
/// layout's boundary nearest its middle (its middle if none falls inside), and the pieces
/// are grouped so the groups' boundaries are the ones nearest the target layout's. From an
/// even layout the result is the even layout of `target` shards whenever every target
/// boundary falls in a different shard (4→5, 2→3, any doubling); otherwise each boundary is
/// off by at most the width of the piece it snapped to.
pub(crate) fn plan_uniform_scaling(
    open: &[(u32, HashKeyRange)],
    first_free: u32,
    target: u32,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut next = first_free;
    let mut pieces: Vec<(u32, HashKeyRange)> = Vec::with_capacity(open.len() * 2);
    if target as usize > open.len() {
        let goal = boundaries(target);
        for &(index, r) in open {
            match split_point(r, &goal) {
                Some(at) => {
                    steps.push(Step::Split { shard: index, at });
                    pieces.push((
                        next,
                        HashKeyRange {
                            start: r.start,
                            end: at - 1,
                        },
                    ));
                    pieces.push((
                        next + 1,
                        HashKeyRange {
                            start: at,
                            end: r.end,
                        },
                    ));
                    next += 2;
                }
                None => pieces.push((index, r)),
            }
        }
    } else {
        pieces.extend_from_slice(open);
    }
    if pieces.is_empty() {
        return steps;
    }
    let groups = (target as usize).clamp(1, pieces.len());
    let goal = boundaries(groups as u32);
    // Positions (1..pieces.len()) of the pieces that start a group after the first.
    let mut cuts = Vec::with_capacity(groups.saturating_sub(1));
    let mut lo = 1;
    for (k, &g) in goal.iter().enumerate() {
        let hi = pieces.len() - groups + 1 + k;
        let nearest = pieces.partition_point(|p| p.1.start < g);
        let best = [nearest.saturating_sub(1), nearest]
            .into_iter()
            .map(|j| j.clamp(lo, hi))
            .min_by_key(|&j| pieces[j].1.start.abs_diff(g))
            .unwrap_or(lo);
        cuts.push(best);
        lo = best + 1;
    }
    let mut start = 0;
    for end in cuts.into_iter().chain([pieces.len()]) {
        let mut acc = pieces[start];
        for &(index, r) in &pieces[start + 1..end] {
            steps.push(Step::Merge {
                shard: acc.0,
                adjacent: index,
            });
            acc = (
                next,
                HashKeyRange {
                    start: acc.1.start,
                    end: r.end,
                },
            );
            next += 1;
        }
        start = end;
    }
    steps
}

/// The inner boundaries (starts of shards 1..n) of the even layout of `n` shards.
fn boundaries(n: u32) -> Vec<u128> {
    even_hash_ranges(n)
        .iter()
        .skip(1)
        .map(|r| r.start)
        .collect()
}

/// Where to split `r`: the goal boundary inside it nearest its middle, else its middle.
fn split_point(r: HashKeyRange, goal: &[u128]) -> Option<u128> {
    let mid = midpoint(r)?;
    goal.iter()
        .copied()
        .filter(|&g| split_key_valid(r, g))
        .min_by_key(|g| g.abs_diff(mid))
        .or(Some(mid))
}

impl Streams {
    /// SplitShard.
    pub async fn split_shard(
        &self,
        r: &StreamRef,
        shard_to_split: &str,
        new_starting_hash_key: &str,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self
            .reshardable(r)
            .map_err(|e| unparsable_shard_first(e, shard_to_split))?;
        let rec = stream.record().clone();
        let parent = self.reshard_target(&stream, &rec, shard_to_split)?;
        self.check_shard_limit(1)?;
        self.check_still_open(&stream, parent)?;
        let range = range_of(parent);
        let at = parse_hash_key(new_starting_hash_key).filter(|&k| split_key_valid(range, k));
        let Some(at) = at else {
            return Err(Error::SplitKeyOutOfRange {
                key: new_starting_hash_key.to_owned(),
                shard: ShardId(parent.index),
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
                start: range.start,
                end: range.end,
            });
        };
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(&stream));
        }
        let step = Step::Split {
            shard: parent.index,
            at,
        };
        self.reshard(&stream, rec, &[step], true).await
    }

    /// MergeShards. `shard_to_merge` must end right where `adjacent_shard_to_merge` starts.
    pub async fn merge_shards(
        &self,
        r: &StreamRef,
        shard_to_merge: &str,
        adjacent_shard_to_merge: &str,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self
            .reshardable(r)
            .map_err(|e| unparsable_shard_first(e, shard_to_merge))?;
        let rec = stream.record().clone();
        let a = self.reshard_target(&stream, &rec, shard_to_merge)?;
        let b = self.reshard_target(&stream, &rec, adjacent_shard_to_merge)?;
        self.check_still_open(&stream, a)?;
        self.check_still_open(&stream, b)?;
        if a.index == b.index || a.hash_end.checked_add(1) != Some(b.hash_start) {
            return Err(Error::NotAdjacent {
                shard: ShardId(a.index),
                adjacent: ShardId(b.index),
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
            });
        }
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(&stream));
        }
        let step = Step::Merge {
            shard: a.index,
            adjacent: b.index,
        };
        self.reshard(&stream, rec, &[step], true).await
    }

    /// UpdateShardCount with UNIFORM_SCALING.
    pub async fn update_shard_count(
        &self,
        r: &StreamRef,
        target: u32,
    ) -> Result<ShardCountUpdate, Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.reshardable(r)?;
        if stream.status() != StreamStatus::Active {
            return Err(self.not_active(&stream));
        }
        let mut rec = stream.record().clone();
        let open = open_ranges(&rec);
        let current = open.len() as u32;
        let answer = ShardCountUpdate {
            stream_name: stream.name.clone(),
            stream_arn: stream.arn.clone(),
            current,
            target,
        };
        if u64::from(target) > 2 * u64::from(current) {
            return Err(Error::ScaleUpTooFar { current, target });
        }
        if 2 * u64::from(target) < u64::from(current) {
            return Err(Error::ScaleDownTooFar { current, target });
        }
        if target > MAX_SCALING_SHARDS {
            return Err(Error::TooManyShardsForScaling {
                target,
                max: MAX_SCALING_SHARDS,
            });
        }
        let now = self.now();
        rec.scalings_ms.retain(|&t| now - t < DAY_MS);
        if rec.scalings_ms.len() >= MAX_SCALINGS_PER_DAY {
            return Err(Error::TooManyScalings {
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
                max: MAX_SCALINGS_PER_DAY,
            });
        }
        if target > current {
            self.check_shard_limit(target - current)?;
        }
        if target == current {
            return Ok(answer);
        }
        rec.scalings_ms.push(now);
        let steps = plan_uniform_scaling(&open, rec.shards.len() as u32, target);
        self.reshard(&stream, rec, &steps, true).await?;
        Ok(answer)
    }

    /// The stream a Split/Merge/UpdateShardCount names, if it may be resharded by hand.
    fn reshardable(&self, r: &StreamRef) -> Result<Arc<Stream>, Error> {
        let stream = self.stream(r)?;
        if stream.record().mode == StreamMode::OnDemand {
            return Err(Error::OnDemandReshard {
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
            });
        }
        Ok(stream)
    }

    /// The shard record a Split/Merge names; AWS answers both an unparsable and an unknown
    /// id with "Could not find shard" (the latter with the canonical id).
    fn reshard_target<'a>(
        &self,
        stream: &Stream,
        rec: &'a StreamRecord,
        raw: &str,
    ) -> Result<&'a ShardRecord, Error> {
        let unknown = |shown: String| Error::ShardUnparsable {
            raw: shown,
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
        };
        let id = ShardId::parse(raw).ok_or_else(|| unknown(raw.to_owned()))?;
        rec.shards
            .get(id.0 as usize)
            .ok_or_else(|| unknown(id.to_string()))
    }

    fn check_still_open(&self, stream: &Stream, s: &ShardRecord) -> Result<(), Error> {
        if s.is_open() {
            return Ok(());
        }
        Err(Error::AlreadyResharded {
            shard: ShardId(s.index),
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
        })
    }

    /// Fails with the account shard limit if `additional` more open shards would exceed it.
    pub(crate) fn check_shard_limit(&self, additional: u32) -> Result<(), Error> {
        let current = self.open_shard_count();
        let limit = self.inner.opts.shard_limit;
        if u64::from(current) + u64::from(additional) > u64::from(limit) {
            return Err(Error::ShardLimit {
                account: self.inner.opts.account_id.clone(),
                region: self.inner.opts.region.clone(),
                current,
                limit,
                additional,
            });
        }
        Ok(())
    }

    /// Applies `steps` to `rec` (the stream's record, possibly with other changes) and switches
    /// the stream to the result, as the module doc describes. With `show_updating` the stream
    /// is UPDATING for the configured delay afterwards. Call with the control lock held.
    pub(crate) async fn reshard(
        &self,
        stream: &Arc<Stream>,
        mut rec: StreamRecord,
        steps: &[Step],
        show_updating: bool,
    ) -> Result<(), Error> {
        let now = self.now();
        let before = rec.shards.len();
        let layout_before = rec.shards.clone();
        apply_steps(&mut rec.shards, steps, now)
            .ok_or_else(|| Error::Storage(format!("invalid reshard plan {steps:?}")))?;
        let mut children: Vec<Arc<dyn Log>> = Vec::with_capacity(rec.shards.len() - before);
        for s in &rec.shards[before..] {
            let opened = shard_log(&stream.logs, ShardId(s.index))
                .and_then(|name| self.inner.logs.open(&name));
            match opened {
                Ok(log) => children.push(log),
                Err(e) => {
                    self.discard_children(stream, &rec.shards[before..], &children);
                    return Err(Error::Storage(e.to_string()));
                }
            }
        }
        let gate = stream.gate.write().await;
        let old = stream.shards();
        let log_of = |i: usize| -> Option<Arc<dyn Log>> {
            match i.checked_sub(before) {
                Some(c) => children.get(c).cloned(),
                None => old.get(ShardId(i as u32)).map(|s| s.log.clone()),
            }
        };
        for (i, s) in rec.shards.iter_mut().enumerate() {
            if s.closed_ms != Some(now) || s.ending_offset.is_some() {
                continue;
            }
            let Some(log) = log_of(i) else { continue };
            if let Err(error) = log.close() {
                // A poisoned parent keeps what was durable; its children take the writes.
                tracing::warn!(stream = %stream.name, shard = %ShardId(s.index), %error,
                    "Closing a resharded shard's log failed.");
            }
            s.ending_offset = Some(log.next_offset());
        }
        if show_updating && !self.inner.opts.update_delay.is_zero() {
            rec.status = StreamStatus::Updating;
        }
        if let Err(e) = self.persist(&rec) {
            self.reopen_parents(stream, &old, before);
            self.discard_children(stream, &rec.shards[before..], &children);
            return Err(e);
        }
        let all = rec
            .shards
            .iter()
            .enumerate()
            .map(|(i, s)| match old.all.get(i).cloned().flatten() {
                Some(shard) if s.is_open() || shard.end_offset.is_some() => Some(shard),
                Some(shard) => Some(Arc::new(Shard::from_record(s, shard.log.clone()))),
                None if s.expired => None,
                None => log_of(i).map(|log| Arc::new(Shard::from_record(s, log))),
            })
            .collect();
        stream.set_shards(ShardSet::new(all));
        let status = rec.status;
        // DescribeStream shows the old layout until the stream is ACTIVE again, as AWS does.
        stream
            .set_layout_before_update((status == StreamStatus::Updating).then_some(layout_before));
        *stream.record_mut() = rec;
        drop(gate);
        // Subscriptions waiting on a parent for records find its end (and children) now.
        for s in old.iter().filter(|s| s.end_offset.is_none()) {
            if s.log.is_closed() {
                s.log.wake_watchers();
            }
        }
        tracing::info!(stream = %stream.name, steps = steps.len(), "Stream resharded.");
        if status == StreamStatus::Updating {
            self.finish_later(stream.clone(), self.inner.opts.update_delay, status);
        }
        Ok(())
    }

    /// After a failed metadata write: gives the parents writable logs again (closing one makes
    /// the store hand out a fresh log for its directory).
    fn reopen_parents(&self, stream: &Stream, old: &ShardSet, before: usize) {
        let rec = stream.record().clone();
        let all = rec.shards[..before.min(rec.shards.len())]
            .iter()
            .map(|s| {
                let current = old.get(ShardId(s.index))?;
                if !s.is_open() || !current.log.is_closed() {
                    return Some(current.clone());
                }
                match self.inner.logs.open(current.log.name()) {
                    Ok(log) => Some(Arc::new(Shard::from_record(s, log))),
                    Err(error) => {
                        tracing::error!(stream = %stream.name, shard = %current.id, %error,
                            "Could not reopen a shard after a failed reshard.");
                        Some(current.clone())
                    }
                }
            })
            .collect();
        stream.set_shards(ShardSet::new(all));
    }

    /// Closes and removes the logs of children a failed reshard created.
    fn discard_children(&self, stream: &Stream, shards: &[ShardRecord], logs: &[Arc<dyn Log>]) {
        for log in logs {
            let _ = log.close();
        }
        for s in shards {
            let removed = shard_log(&stream.logs, ShardId(s.index))
                .and_then(|name| self.inner.logs.remove(&name));
            if let Err(error) = removed {
                tracing::warn!(stream = %stream.name, shard = s.index, %error,
                    "Could not remove the log of a discarded shard.");
            }
        }
    }

    /// Expires closed shards whose every record has left the retention period: they stop being
    /// listed or readable and their log directories are deleted. Returns how many expired.
    pub async fn expire_closed_shards(&self) -> usize {
        let _guard = self.inner.control.lock().await;
        let streams: Vec<Arc<Stream>> = self.streams().values().cloned().collect();
        let mut expired = 0;
        for stream in streams {
            let mut rec = stream.record().clone();
            let cutoff = retention_start(rec.retention_hours, self.now());
            let mut gone = Vec::new();
            for s in &mut rec.shards {
                if !s.expired && s.closed_ms.is_some_and(|c| c < cutoff) {
                    s.expired = true;
                    gone.push(ShardId(s.index));
                }
            }
            if gone.is_empty() {
                continue;
            }
            if let Err(error) = self.persist(&rec) {
                tracing::warn!(stream = %stream.name, %error, "Could not expire closed shards.");
                continue;
            }
            let old = stream.shards();
            let all = old
                .all
                .iter()
                .enumerate()
                .map(|(i, s)| s.clone().filter(|_| !gone.contains(&ShardId(i as u32))))
                .collect();
            stream.set_shards(ShardSet::new(all));
            *stream.record_mut() = rec;
            for id in &gone {
                if let Some(shard) = old.get(*id) {
                    let _ = shard.log.close();
                }
                let backend = self.inner.logs.clone();
                let name = shard_log(&stream.logs, *id);
                let removed =
                    tokio::task::spawn_blocking(move || name.and_then(|n| backend.remove(&n)));
                if let Ok(Err(error)) = removed.await {
                    tracing::warn!(stream = %stream.name, shard = %id, %error,
                        "Could not remove an expired shard's directory.");
                }
            }
            tracing::info!(stream = %stream.name, shards = gone.len(), "Closed shards expired.");
            expired += gone.len();
        }
        expired
    }
}

/// The open shards of a record in hash-key order, as (index, range).
pub(crate) fn open_ranges(rec: &StreamRecord) -> Vec<(u32, HashKeyRange)> {
    let mut open: Vec<(u32, HashKeyRange)> = rec
        .shards
        .iter()
        .filter(|s| s.is_open())
        .map(|s| (s.index, range_of(s)))
        .collect();
    open.sort_by_key(|(_, r)| r.start);
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(n: u32) -> Vec<ShardRecord> {
        even_hash_ranges(n)
            .into_iter()
            .enumerate()
            .map(|(i, r)| ShardRecord {
                index: i as u32,
                hash_start: r.start,
                hash_end: r.end,
                parent: None,
                adjacent_parent: None,
                created_ms: 0,
                closed_ms: None,
                ending_offset: None,
                expired: false,
            })
            .collect()
    }

    fn scale(shards: &mut Vec<ShardRecord>, target: u32) {
        let rec_open = open_of(shards);
        let steps = plan_uniform_scaling(&rec_open, shards.len() as u32, target);
        apply_steps(shards, &steps, 1).expect("valid plan");
    }

    fn open_of(shards: &[ShardRecord]) -> Vec<(u32, HashKeyRange)> {
        let mut open: Vec<_> = shards
            .iter()
            .filter(|s| s.is_open())
            .map(|s| (s.index, range_of(s)))
            .collect();
        open.sort_by_key(|(_, r)| r.start);
        open
    }

    #[test]
    fn scaling_reproduces_the_lineage_counts_aws_shows() {
        for (from, to, total) in [
            (2, 4, 6),
            (4, 5, 15),
            (10, 13, 37),
            (4, 2, 6),
            (5, 3, 7),
            (10, 3, 17),
        ] {
            let mut shards = layout(from);
            scale(&mut shards, to);
            assert_eq!(shards.len(), total, "{from} -> {to}");
            assert_eq!(open_of(&shards).len(), to as usize, "{from} -> {to}");
        }
    }

    #[test]
    fn scaling_four_to_five_gives_the_even_five_shard_layout() {
        let mut shards = layout(4);
        scale(&mut shards, 5);
        let ranges: Vec<HashKeyRange> = open_of(&shards).into_iter().map(|(_, r)| r).collect();
        assert_eq!(ranges, even_hash_ranges(5));
    }

    #[test]
    fn scaling_ten_to_thirteen_stays_near_even() {
        let mut shards = layout(10);
        scale(&mut shards, 13);
        let widths: Vec<u128> = open_of(&shards)
            .into_iter()
            .map(|(_, r)| r.end - r.start)
            .collect();
        let ideal = u128::MAX / 13;
        for w in widths {
            // Within one piece (half an old shard, 1/20 of the space) of 1/13.
            assert!(w.abs_diff(ideal) <= u128::MAX / 20, "width {w}");
        }
    }

    #[test]
    fn split_children_take_the_next_indexes_and_halves() {
        let mut shards = layout(1);
        apply_steps(&mut shards, &[Step::Split { shard: 0, at: 10 }], 5).expect("split");
        assert_eq!(shards[0].closed_ms, Some(5));
        assert_eq!(
            (shards[1].index, shards[1].hash_start, shards[1].hash_end),
            (1, 0, 9)
        );
        assert_eq!(
            (shards[2].index, shards[2].hash_start, shards[2].hash_end),
            (2, 10, u128::MAX)
        );
        assert_eq!(shards[2].parent, Some(0));
        apply_steps(
            &mut shards,
            &[Step::Merge {
                shard: 1,
                adjacent: 2,
            }],
            6,
        )
        .expect("merge");
        assert_eq!(shards[3].parent, Some(1));
        assert_eq!(shards[3].adjacent_parent, Some(2));
        assert_eq!((shards[3].hash_start, shards[3].hash_end), (0, u128::MAX));
        // A closed shard cannot be split again, nor merged in reverse order.
        assert!(apply_steps(&mut shards.clone(), &[Step::Split { shard: 0, at: 10 }], 7).is_none());
    }

    #[test]
    fn split_keys_must_leave_two_keys_on_each_side() {
        let r = HashKeyRange { start: 10, end: 20 };
        assert!(!split_key_valid(r, 11));
        assert!(split_key_valid(r, 12));
        assert!(split_key_valid(r, 19));
        assert!(!split_key_valid(r, 20));
        assert_eq!(midpoint(HashKeyRange::FULL), Some(1u128 << 127));
        assert_eq!(midpoint(HashKeyRange { start: 0, end: 2 }), None);
    }
}
