// SPDX-License-Identifier: Apache-2.0
//! On-demand scaling: ON_DEMAND streams change their shard count with their write traffic.
//!
//! AWS starts an on-demand stream at 4 shards and adds shards so that none runs past its write
//! limit (1 MiB/s and 1000 records/s), and gives capacity back lazily. Here the put path counts
//! bytes and records per shard with two relaxed atomic adds ([`crate::state::WriteCounter`]);
//! each [`Streams::scale_on_demand`] call (the server runs one every `interval`) turns the
//! counts since the previous call into rates and, per stream:
//!
//! * splits at its middle every open shard writing above `split_above_percent` of the limit;
//! * otherwise, once two adjacent shards have both stayed below `merge_below_percent` for
//!   `merge_after`, merges that one pair, never going below `min_shards`.
//!
//! Both go through the same reshard switch as SplitShard and MergeShards, so lineage, ordering
//! and durability are the same; the stream stays ACTIVE, as AWS's on-demand scaling does. The
//! decision itself ([`decide`]) is pure, so it is tested with chosen numbers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use freshet_types::HashKeyRange;

use crate::Streams;
use crate::record::{StreamMode, StreamStatus};
use crate::reshard::{Step, midpoint};
use crate::state::Stream;

/// Settings of on-demand scaling.
#[derive(Debug, Clone)]
pub struct ScalerOptions {
    /// Whether the server runs the scaler at all.
    pub enabled: bool,
    /// How often the server calls [`Streams::scale_on_demand`].
    pub interval: Duration,
    /// A shard's write limit in bytes per second (data plus partition keys).
    pub shard_bytes_per_sec: u64,
    /// A shard's write limit in records per second.
    pub shard_records_per_sec: u64,
    /// Split a shard writing above this percentage of either limit.
    pub split_above_percent: u64,
    /// A shard below this percentage of both limits is cold.
    pub merge_below_percent: u64,
    /// How long two adjacent shards stay cold before they are merged.
    pub merge_after: Duration,
    /// Fewest open shards an on-demand stream is scaled down to.
    pub min_shards: u32,
}

impl Default for ScalerOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(5),
            shard_bytes_per_sec: 1024 * 1024,
            shard_records_per_sec: 1000,
            split_above_percent: 80,
            merge_below_percent: 20,
            merge_after: Duration::from_secs(15 * 60),
            min_shards: freshet_types::limits::DEFAULT_SHARD_COUNT,
        }
    }
}

/// What the scaler remembers between calls.
#[derive(Debug, Default)]
pub(crate) struct ScalerState {
    /// When the counters were last taken.
    last_ms: Option<i64>,
    /// Per stream incarnation, per shard index: since when the shard has been cold.
    cold_since: HashMap<u64, HashMap<u32, i64>>,
}

/// One open shard's writes over the last period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Load {
    pub index: u32,
    pub range: HashKeyRange,
    pub bytes: u64,
    pub records: u64,
}

/// Whether `count` over `elapsed_ms` is above (`above`) or below `percent` of `per_sec`.
fn rate_exceeds(count: u64, elapsed_ms: i64, per_sec: u64, percent: u64) -> bool {
    u128::from(count) * 1000 * 100
        > u128::from(per_sec) * elapsed_ms.max(1) as u128 * u128::from(percent)
}

/// The steps for one stream given its open shards' loads (in hash-key order) over
/// `elapsed_ms`, updating which shards are cold since when.
pub(crate) fn decide(
    loads: &[Load],
    elapsed_ms: i64,
    now_ms: i64,
    cold_since: &mut HashMap<u32, i64>,
    o: &ScalerOptions,
) -> Vec<Step> {
    let hot = |l: &Load| {
        rate_exceeds(
            l.bytes,
            elapsed_ms,
            o.shard_bytes_per_sec,
            o.split_above_percent,
        ) || rate_exceeds(
            l.records,
            elapsed_ms,
            o.shard_records_per_sec,
            o.split_above_percent,
        )
    };
    let cold = |l: &Load| {
        !rate_exceeds(
            l.bytes,
            elapsed_ms,
            o.shard_bytes_per_sec,
            o.merge_below_percent,
        ) && !rate_exceeds(
            l.records,
            elapsed_ms,
            o.shard_records_per_sec,
            o.merge_below_percent,
        )
    };
    cold_since.retain(|index, _| loads.iter().any(|l| l.index == *index));
    for l in loads {
        if cold(l) {
            cold_since.entry(l.index).or_insert(now_ms);
        } else {
            cold_since.remove(&l.index);
        }
    }
    let splits: Vec<Step> = loads
        .iter()
        .filter(|l| hot(l))
        .filter_map(|l| midpoint(l.range).map(|at| Step::Split { shard: l.index, at }))
        .collect();
    if !splits.is_empty() || loads.len() <= o.min_shards as usize {
        return splits;
    }
    let merge_after = i64::try_from(o.merge_after.as_millis()).unwrap_or(i64::MAX);
    let long_cold = |index: u32| {
        cold_since
            .get(&index)
            .is_some_and(|&since| now_ms.saturating_sub(since) >= merge_after)
    };
    let pair = loads
        .windows(2)
        .find(|w| long_cold(w[0].index) && long_cold(w[1].index));
    match pair {
        Some(w) => {
            cold_since.remove(&w[0].index);
            cold_since.remove(&w[1].index);
            vec![Step::Merge {
                shard: w[0].index,
                adjacent: w[1].index,
            }]
        }
        None => Vec::new(),
    }
}

impl Streams {
    /// Runs the on-demand scaler once: takes every shard's write counts since the previous
    /// call and splits or merges ON_DEMAND streams' shards (see the module doc). The first
    /// call only starts the measurement. Returns how many splits and merges it applied.
    pub async fn scale_on_demand(&self) -> usize {
        let _guard = self.inner.control.lock().await;
        let now = self.now();
        let streams: Vec<Arc<Stream>> = self.streams().values().cloned().collect();
        let mut plans: Vec<(Arc<Stream>, Vec<Step>)> = Vec::new();
        {
            let mut st = self.inner.scaler.lock().unwrap_or_else(|p| p.into_inner());
            let elapsed = st.last_ms.map(|last| now - last);
            st.last_ms = Some(now);
            st.cold_since
                .retain(|inc, _| streams.iter().any(|s| s.incarnation == *inc));
            for stream in streams {
                let loads: Vec<Load> = stream
                    .shards()
                    .open_by_hash
                    .iter()
                    .map(|s| {
                        let (bytes, records) = s.written.take();
                        Load {
                            index: s.id.0,
                            range: s.range,
                            bytes,
                            records,
                        }
                    })
                    .collect();
                let scalable = {
                    let rec = stream.record();
                    rec.mode == StreamMode::OnDemand && rec.status == StreamStatus::Active
                };
                let Some(elapsed) = elapsed.filter(|&e| e > 0 && scalable) else {
                    continue;
                };
                let cold = st.cold_since.entry(stream.incarnation).or_default();
                let steps = decide(&loads, elapsed, now, cold, &self.inner.opts.scaler);
                if !steps.is_empty() {
                    plans.push((stream, steps));
                }
            }
        }
        let mut applied = 0;
        for (stream, steps) in plans {
            let splits = steps
                .iter()
                .filter(|s| matches!(s, Step::Split { .. }))
                .count() as u32;
            if let Err(error) = self.check_shard_limit(splits) {
                tracing::warn!(stream = %stream.name, %error, "On-demand scaling skipped.");
                continue;
            }
            let rec = stream.record().clone();
            match self.reshard(&stream, rec, &steps, false).await {
                Ok(()) => {
                    tracing::info!(stream = %stream.name, splits, merges = steps.len() as u32 - splits,
                        "On-demand scaling resharded the stream.");
                    applied += steps.len();
                }
                Err(error) => {
                    tracing::warn!(stream = %stream.name, %error, "On-demand scaling failed.");
                }
            }
        }
        applied
    }
}

#[cfg(test)]
mod tests {
    use freshet_types::even_hash_ranges;

    use super::*;

    fn loads(rates: &[(u64, u64)]) -> Vec<Load> {
        even_hash_ranges(rates.len() as u32)
            .into_iter()
            .zip(rates)
            .enumerate()
            .map(|(i, (range, &(bytes, records)))| Load {
                index: i as u32,
                range,
                bytes,
                records,
            })
            .collect()
    }

    #[test]
    fn a_shard_over_the_byte_or_record_threshold_is_split_at_its_middle() {
        let o = ScalerOptions::default();
        let mut cold = HashMap::new();
        // One second: shard 1 writes 900 KiB (over 80% of 1 MiB), shard 2 900 records.
        let l = loads(&[(0, 0), (900 * 1024, 10), (10, 900), (100, 1)]);
        let steps = decide(&l, 1000, 0, &mut cold, &o);
        assert_eq!(
            steps,
            vec![
                Step::Split {
                    shard: 1,
                    at: midpoint(l[1].range).expect("splittable")
                },
                Step::Split {
                    shard: 2,
                    at: midpoint(l[2].range).expect("splittable")
                },
            ]
        );
        // The same bytes over ten seconds are a tenth of the rate.
        assert!(decide(&l, 10_000, 0, &mut cold, &o).is_empty());
    }

    #[test]
    fn cold_neighbours_merge_only_after_the_delay_and_above_the_minimum() {
        let o = ScalerOptions {
            merge_after: Duration::from_secs(60),
            ..ScalerOptions::default()
        };
        let mut cold = HashMap::new();
        let six = loads(&[(0, 0); 6]);
        assert!(decide(&six, 1000, 0, &mut cold, &o).is_empty());
        assert!(decide(&six, 1000, 59_999, &mut cold, &o).is_empty());
        assert_eq!(
            decide(&six, 1000, 60_000, &mut cold, &o),
            vec![Step::Merge {
                shard: 0,
                adjacent: 1
            }]
        );
        // A warm shard restarts its clock.
        let mut cold = HashMap::new();
        assert!(decide(&six, 1000, 0, &mut cold, &o).is_empty());
        let mut warm = six.clone();
        warm[0].bytes = 500 * 1024;
        warm[2].bytes = 500 * 1024;
        warm[4].bytes = 500 * 1024;
        assert!(decide(&warm, 1000, 30_000, &mut cold, &o).is_empty());
        assert!(decide(&six, 1000, 60_000, &mut cold, &o).is_empty());
        // Four shards is the floor.
        let mut cold = HashMap::new();
        let four = loads(&[(0, 0); 4]);
        assert!(decide(&four, 1000, 0, &mut cold, &o).is_empty());
        assert!(decide(&four, 1000, 3_600_000, &mut cold, &o).is_empty());
    }
}
