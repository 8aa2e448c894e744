// SPDX-License-Identifier: Apache-2.0
//! FilterLogEvents: the events of a group (or some of its streams) that match a filter
//! pattern in a time range, ordered by timestamp, then ingestion (log offset), in pages.
//!
//! A page is the first `limit` events (at most 1 MB) in (timestamp, offset) order after the
//! token's cursor. Finding them takes one pass over the log range that can hold them, keeping
//! a bounded set of the best candidates ([`TopK`]): memory is bounded by the page size, not by
//! the data. The range comes from the group's bounds on `timestamp - ingestion time`: events
//! at or after `startTime` cannot have arrived before `startTime - max_ahead`, and once a page
//! is full at timestamp `t`, nothing arriving after `t + max_behind` can belong on it.
//!
//! The first page fixes the end of the range (the log's end then) in the token, so a
//! pagination ends even while events keep arriving; `aws logs tail --follow` picks those up in
//! its next round, which starts again at the newest timestamp it saw (a repeated startTime)
//! and skips the event ids it already printed. Event ids are the group id and the log offset,
//! stable for as long as the event is stored. There is a nextToken exactly when more events
//! match than the page held.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use freshet_log::LogError;

use crate::codec;
use crate::error::{Error, Result};
use crate::filter::FilterPattern;
use crate::group::{Bounds, Group};
use crate::model::{FilterEvents, FilteredEvent, Page, StreamSelection};
use crate::put_rules::EVENT_OVERHEAD_BYTES;
use crate::read::{MAX_PAGE_BYTES, MAX_PAGE_EVENTS, offset_for_min_ts, retention_floor};
use crate::service::{Logs, blocking, log_error};
use crate::token::{FilterToken, event_id};

/// Records read per log read.
const WINDOW: usize = 4096;
/// Bytes read per log read.
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// A candidate event, ordered by (timestamp, offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub timestamp_ms: i64,
    pub offset: u64,
    pub stream: String,
    pub message: String,
    pub ingestion_ms: i64,
}

impl Candidate {
    fn key(&self) -> (i64, u64) {
        (self.timestamp_ms, self.offset)
    }
    fn bytes(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD_BYTES
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The smallest candidates offered, at most `limit` of them and at most `max_bytes` (but at
/// least one). Invariant: it holds exactly the offered candidates whose key is below `cut`
/// (all of them while `cut` is `None`), and that set fits the bounds.
#[derive(Debug)]
pub(crate) struct TopK {
    heap: BinaryHeap<Candidate>,
    bytes: usize,
    limit: usize,
    max_bytes: usize,
    cut: Option<(i64, u64)>,
}

impl TopK {
    pub fn new(limit: usize, max_bytes: usize) -> TopK {
        TopK {
            heap: BinaryHeap::new(),
            bytes: 0,
            limit: limit.max(1),
            max_bytes,
            cut: None,
        }
    }

    /// The smallest key that was left out, if any was.
    pub fn cut(&self) -> Option<(i64, u64)> {
        self.cut
    }

    /// Whether a candidate with this key could still enter.
    pub fn admits(&self, key: (i64, u64)) -> bool {
        self.cut.is_none_or(|c| key < c)
    }

    pub fn offer(&mut self, c: Candidate) {
        if !self.admits(c.key()) {
            return;
        }
        self.bytes += c.bytes();
        self.heap.push(c);
        while self.heap.len() > self.limit || (self.heap.len() > 1 && self.bytes > self.max_bytes) {
            let Some(out) = self.heap.pop() else { break };
            self.bytes -= out.bytes();
            self.cut = Some(self.cut.map_or(out.key(), |c| c.min(out.key())));
        }
    }

    /// The kept candidates, smallest first.
    pub fn into_sorted(self) -> Vec<Candidate> {
        self.heap.into_sorted_vec()
    }
}

/// A page of candidates and the smallest key left out, if any.
type Found = (Vec<Candidate>, Option<(i64, u64)>);

struct Scan<'a> {
    group: &'a Group,
    streams: HashMap<String, u64>,
    pattern: FilterPattern,
    ts_lo: i64,
    /// Inclusive.
    ts_hi: i64,
    after: Option<(i64, u64)>,
    end_offset: u64,
    bounds: Bounds,
    limit: usize,
}

impl Scan<'_> {
    fn run(self) -> Result<Found, LogError> {
        let log = self.group.log.as_ref();
        let mut top = TopK::new(self.limit, MAX_PAGE_BYTES);
        let behind = self.bounds.max_behind_ms.max(0);
        let mut stop_after_arrival = if self.ts_hi == i64::MAX {
            i64::MAX
        } else {
            self.ts_hi.saturating_add(behind)
        };
        let mut pos = offset_for_min_ts(log, self.ts_lo, self.bounds.max_ahead_ms);
        'read: while pos < self.end_offset {
            let want = usize::try_from(self.end_offset - pos).map_or(WINDOW, |n| n.min(WINDOW));
            let batch = log.read(pos, want, WINDOW_BYTES, i64::MIN)?;
            if batch.records.is_empty() {
                break;
            }
            for r in &batch.records {
                if r.offset >= self.end_offset || r.arrival_ms > stop_after_arrival {
                    break 'read;
                }
                pos = r.offset + 1;
                let Some(&id) = self.streams.get(&r.partition_key) else {
                    continue;
                };
                let Ok(e) = codec::decode(&r.data) else {
                    continue;
                };
                let key = (e.timestamp_ms, r.offset);
                if e.stream_id != id
                    || e.timestamp_ms < self.ts_lo
                    || e.timestamp_ms > self.ts_hi
                    || self.after.is_some_and(|a| key <= a)
                    || !top.admits(key)
                    || !self.pattern.is_match(e.message)
                {
                    continue;
                }
                top.offer(Candidate {
                    timestamp_ms: e.timestamp_ms,
                    offset: r.offset,
                    stream: r.partition_key.clone(),
                    message: e.message.to_owned(),
                    ingestion_ms: r.arrival_ms,
                });
                if let Some((ts, _)) = top.cut() {
                    stop_after_arrival = stop_after_arrival.min(ts.saturating_add(behind));
                }
            }
        }
        let cut = top.cut();
        Ok((top.into_sorted(), cut))
    }
}

impl Logs {
    /// FilterLogEvents.
    pub async fn filter_log_events(&self, q: FilterEvents) -> Result<Page<FilteredEvent>> {
        let g = self.resolve(&q.group)?;
        let pattern = match &q.pattern {
            Some(p) => FilterPattern::parse(p)?,
            None => FilterPattern::match_all(),
        };
        let token = match &q.next_token {
            None => None,
            Some(t) => {
                let t = FilterToken::parse(t).ok_or(Error::InvalidNextToken)?;
                if t.group_id != g.id {
                    return Err(Error::InvalidNextToken);
                }
                Some(t)
            }
        };
        let bounds = g.bounds();
        let streams: HashMap<String, u64> = {
            let data = g.data();
            match &q.streams {
                StreamSelection::Names(names) => names
                    .iter()
                    .filter_map(|n| data.streams.get(n).map(|s| (n.clone(), s.id)))
                    .collect(),
                sel => data
                    .streams
                    .iter()
                    .filter(|(n, _)| sel.selects(n))
                    .map(|(n, s)| (n.clone(), s.id))
                    .collect(),
            }
        };
        let now = self.now_ms();
        let retention = g.retention_days();
        blocking(move || {
            let ts_lo = q
                .start_time
                .unwrap_or(i64::MIN)
                .max(retention_floor(now, retention));
            let end_offset = token.map_or_else(|| g.log.next_offset(), |t| t.end_offset);
            let scan = Scan {
                group: &g,
                streams,
                pattern,
                ts_lo: token.map_or(ts_lo, |t| ts_lo.max(t.after_timestamp)),
                ts_hi: q.end_time.unwrap_or(i64::MAX),
                after: token.map(|t| (t.after_timestamp, t.after_offset)),
                end_offset,
                bounds,
                limit: q.limit.unwrap_or(MAX_PAGE_EVENTS).clamp(1, MAX_PAGE_EVENTS),
            };
            let (events, cut) = if scan.streams.is_empty() {
                (Vec::new(), None)
            } else {
                scan.run().map_err(|e| log_error(&g, e))?
            };
            let next_token = match (cut, events.last()) {
                (Some(_), Some(last)) => Some(
                    FilterToken {
                        group_id: g.id,
                        after_timestamp: last.timestamp_ms,
                        after_offset: last.offset,
                        end_offset,
                    }
                    .encode(),
                ),
                _ => None,
            };
            Ok(Page {
                items: events
                    .into_iter()
                    .map(|c| FilteredEvent {
                        event_id: event_id(g.id, c.offset),
                        stream: c.stream,
                        timestamp_ms: c.timestamp_ms,
                        message: c.message,
                        ingestion_ms: c.ingestion_ms,
                    })
                    .collect(),
                next_token,
            })
        })
        .await
    }
}

/// For tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn candidate(ts: i64, offset: u64, bytes: usize) -> Candidate {
    Candidate {
        timestamp_ms: ts,
        offset,
        stream: "s".to_owned(),
        message: "x".repeat(bytes),
        ingestion_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_top_k_keeps_the_smallest_keys_and_remembers_the_cut() {
        let mut t = TopK::new(2, usize::MAX);
        for (ts, o) in [(5, 0), (1, 1), (3, 2), (1, 3)] {
            t.offer(candidate(ts, o, 1));
        }
        assert_eq!(t.cut(), Some((3, 2)));
        let keys: Vec<_> = t.into_sorted().iter().map(Candidate::key).collect();
        assert_eq!(keys, vec![(1, 1), (1, 3)]);
    }

    #[test]
    fn a_byte_budget_drops_big_events_and_nothing_after_them_gets_in() {
        let mut t = TopK::new(100, 200);
        t.offer(candidate(1, 0, 50));
        t.offer(candidate(2, 1, 500));
        // Fits the budget, but comes after the event that did not: it must wait too.
        t.offer(candidate(3, 2, 1));
        let kept = t.into_sorted();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].key(), (1, 0));
    }

    #[test]
    fn one_event_larger_than_the_budget_is_still_a_page() {
        let mut t = TopK::new(10, 100);
        t.offer(candidate(1, 0, 1000));
        assert_eq!(t.into_sorted().len(), 1);
    }

    proptest! {
        /// Paging through a top-k with cursors yields every offered key exactly once, in order.
        #[test]
        fn pages_cover_everything_once_in_order(
            keys in proptest::collection::btree_set((0i64..50, 0u64..1000), 0..200),
            sizes in proptest::collection::vec(1usize..300, 200),
            limit in 1usize..20,
        ) {
            let all: Vec<(i64, u64)> = keys.iter().copied().collect();
            let mut shuffled = all.clone();
            shuffled.sort_by_key(|(ts, o)| (o % 7, *ts));
            let mut after: Option<(i64, u64)> = None;
            let mut seen = Vec::new();
            loop {
                let mut t = TopK::new(limit, 700);
                for (i, &k) in shuffled.iter().enumerate() {
                    if after.is_none_or(|a| k > a) {
                        t.offer(candidate(k.0, k.1, sizes[i % sizes.len()]));
                    }
                }
                let cut = t.cut();
                let page = t.into_sorted();
                prop_assert!(!page.is_empty() || cut.is_none());
                seen.extend(page.iter().map(Candidate::key));
                match (cut, page.last()) {
                    (Some(_), Some(last)) => after = Some(last.key()),
                    _ => break,
                }
            }
            prop_assert_eq!(seen, all);
        }
    }
}
