// SPDX-License-Identifier: Apache-2.0
//! GetLogEvents: one stream's events, a page at a time, forward or backward.
//!
//! Positions are offsets in the group's log and tokens carry them (`token.rs`): a forward
//! token reads events at or after its offset, a backward one events before it. A page ends
//! when it holds `limit` events (at most 10,000) or 1 MB (messages plus 26 bytes each), when
//! the call has examined its budget of records, or at the end of the range; the token it
//! returns is where it stopped, so a call that examined nothing returns the token it was
//! given: AWS's "the same token means you reached the end".
//!
//! Where to look: the stream's sparse index (`index.rs`) lists the runs of the log holding
//! its events (plus the unindexed tail the latest appends wrote), and the group's bounds on
//! `timestamp - ingestion time` turn startTime, endTime and retention into log offsets.
//!
//! Within a stream, events come in the order they were stored; AWS orders by timestamp. The
//! two differ only for a stream written by concurrent PutLogEvents calls whose batches arrived
//! out of timestamp order.

use std::collections::VecDeque;
use std::sync::Arc;

use freshet_log::{Log, LogError, StoredRecord};

use crate::codec;
use crate::error::{Error, Result};
use crate::group::{Bounds, Group};
use crate::index::SparseIndex;
use crate::model::{EventsPage, GetEvents, OutputEvent};
use crate::put_rules::EVENT_OVERHEAD_BYTES;
use crate::service::{DAY_MS, Logs, blocking, log_error};
use crate::token::{Direction, StreamToken};

/// Most events on one page.
pub const MAX_PAGE_EVENTS: usize = 10_000;
/// Most bytes on one page (messages plus [`EVENT_OVERHEAD_BYTES`] each).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Records one call examines at most before it returns what it has.
pub const SCAN_RECORDS: u64 = 200_000;
/// Record bytes one call examines at most before it returns what it has.
pub const SCAN_BYTES: u64 = 64 * 1024 * 1024;
/// Records read per log read.
const WINDOW: u64 = 4096;
/// Bytes read per log read.
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// The oldest timestamp a group's retention still shows at `now_ms`.
pub(crate) fn retention_floor(now_ms: i64, days: Option<u32>) -> i64 {
    days.map_or(i64::MIN, |d| {
        now_ms.saturating_sub(i64::from(d).saturating_mul(DAY_MS))
    })
}

/// First offset whose events can have a timestamp of at least `ts` (events may be up to
/// `max_ahead` ahead of their ingestion).
pub(crate) fn offset_for_min_ts(log: &dyn Log, ts: i64, max_ahead: i64) -> u64 {
    if ts == i64::MIN {
        log.start_offset()
    } else {
        log.offset_at_time(ts.saturating_sub(max_ahead.max(0)))
            .max(log.start_offset())
    }
}

struct Query<'a> {
    log: &'a dyn Log,
    stream: &'a str,
    stream_id: u64,
    /// Inclusive.
    ts_lo: i64,
    /// Exclusive.
    ts_hi: i64,
    limit: usize,
    examined: u64,
    examined_bytes: u64,
}

/// Why a scan stopped early.
enum Stop {
    Full,
    Budget,
}

impl Query<'_> {
    fn out_of_budget(&self) -> bool {
        self.examined >= SCAN_RECORDS || self.examined_bytes >= SCAN_BYTES
    }

    fn matches(&self, r: &StoredRecord) -> Option<OutputEvent> {
        if r.partition_key != self.stream {
            return None;
        }
        let e = codec::decode(&r.data).ok()?;
        (e.stream_id == self.stream_id
            && e.timestamp_ms >= self.ts_lo
            && e.timestamp_ms < self.ts_hi)
            .then(|| OutputEvent {
                timestamp_ms: e.timestamp_ms,
                message: e.message.to_owned(),
                ingestion_ms: r.arrival_ms,
            })
    }

    /// Reads `[from, to)`, calling `each` on every record until it returns false. Returns the
    /// offset after the last record examined.
    fn scan(
        &mut self,
        from: u64,
        to: u64,
        mut each: impl FnMut(&mut Self, &StoredRecord) -> bool,
    ) -> Result<u64, LogError> {
        let mut pos = from;
        while pos < to {
            let want = (to - pos).min(WINDOW) as usize;
            let batch = self.log.read(pos, want, WINDOW_BYTES, i64::MIN)?;
            if batch.records.is_empty() {
                // Nothing stored at or after `pos` below `to` (retention removed it).
                return Ok(to);
            }
            for r in &batch.records {
                if r.offset >= to {
                    return Ok(to);
                }
                self.examined += 1;
                self.examined_bytes += (r.data.len() + r.partition_key.len()) as u64;
                pos = r.offset + 1;
                if !each(self, r) {
                    return Ok(pos);
                }
            }
        }
        Ok(pos.max(from))
    }
}

/// The offset ranges that may hold the stream's events, ascending: index runs below
/// `applied`, then the unindexed tail.
fn regions(index: &SparseIndex, applied: u64, ts_lo: i64, ts_hi: i64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = index
        .chunks()
        .iter()
        .filter(|c| c.first < applied && c.may_hold(ts_lo, ts_hi.saturating_sub(1)))
        .map(|c| (c.first, c.end().min(applied)))
        .collect();
    out.push((applied, u64::MAX));
    out
}

struct Page {
    events: Vec<(u64, OutputEvent)>,
    resume: u64,
}

fn event_bytes(e: &OutputEvent) -> usize {
    e.message.len() + EVENT_OVERHEAD_BYTES
}

fn read_forward(
    q: &mut Query<'_>,
    regions: &[(u64, u64)],
    from: u64,
    ceil: u64,
) -> Result<Page, LogError> {
    let mut events: Vec<(u64, OutputEvent)> = Vec::new();
    let mut bytes = 0usize;
    let mut pos = from;
    for &(lo, hi) in regions {
        let hi = hi.min(ceil);
        if hi <= pos {
            continue;
        }
        pos = pos.max(lo);
        let mut stop = None;
        let reached = q.scan(pos, hi, |q, r| {
            if let Some(e) = q.matches(r) {
                let size = event_bytes(&e);
                if events.len() >= q.limit || (!events.is_empty() && bytes + size > MAX_PAGE_BYTES)
                {
                    stop = Some((Stop::Full, r.offset));
                    return false;
                }
                bytes += size;
                events.push((r.offset, e));
            }
            if q.out_of_budget() {
                stop = Some((Stop::Budget, r.offset + 1));
                return false;
            }
            true
        })?;
        match stop {
            Some((Stop::Full | Stop::Budget, resume)) => return Ok(Page { events, resume }),
            None => pos = reached,
        }
    }
    Ok(Page {
        events,
        resume: pos.max(ceil).max(from),
    })
}

fn read_backward(
    q: &mut Query<'_>,
    regions: &[(u64, u64)],
    top: u64,
    floor: u64,
) -> Result<Page, LogError> {
    let mut page: VecDeque<(u64, OutputEvent)> = VecDeque::new();
    let mut bytes = 0usize;
    for &(lo, hi) in regions.iter().rev() {
        let lo = lo.max(floor);
        let mut hi = hi.min(top);
        while hi > lo {
            let wlo = hi.saturating_sub(WINDOW).max(lo);
            let mut found: Vec<(u64, OutputEvent)> = Vec::new();
            q.scan(wlo, hi, |q, r| {
                if let Some(e) = q.matches(r) {
                    found.push((r.offset, e));
                }
                true
            })?;
            for item in found.into_iter().rev() {
                bytes += event_bytes(&item.1);
                page.push_front(item);
            }
            let mut full = false;
            while page.len() > q.limit || (page.len() > 1 && bytes > MAX_PAGE_BYTES) {
                if let Some((_, e)) = page.pop_front() {
                    bytes -= event_bytes(&e);
                }
                full = true;
            }
            if full {
                let resume = page.front().map_or(wlo, |(o, _)| *o);
                return Ok(Page {
                    events: page.into(),
                    resume,
                });
            }
            hi = wlo;
            if q.out_of_budget() && hi > lo {
                return Ok(Page {
                    events: page.into(),
                    resume: hi,
                });
            }
        }
    }
    Ok(Page {
        events: page.into(),
        resume: floor.min(top),
    })
}

impl Logs {
    /// GetLogEvents.
    pub async fn get_log_events(&self, q: GetEvents) -> Result<EventsPage> {
        let g = self.resolve(&q.group)?;
        let bounds = g.bounds();
        let (stream_id, index) = {
            let data = g.data();
            let s = data
                .streams
                .get(&q.stream)
                .ok_or_else(|| Error::StreamNotFound {
                    group: g.name.clone(),
                    stream: q.stream.clone(),
                })?;
            (s.id, s.index.clone())
        };
        let token = match &q.next_token {
            None => None,
            Some(t) => {
                let t = StreamToken::parse(t).ok_or(Error::InvalidNextToken)?;
                if t.stream_id != stream_id {
                    return Err(Error::InvalidNextToken);
                }
                Some(t)
            }
        };
        let now = self.now_ms();
        let retention = g.retention_days();
        blocking(move || read(&g, q, bounds, stream_id, index, token, retention, now)).await
    }
}

#[allow(clippy::too_many_arguments)]
fn read(
    g: &Arc<Group>,
    q: GetEvents,
    bounds: Bounds,
    stream_id: u64,
    index: SparseIndex,
    token: Option<StreamToken>,
    retention: Option<u32>,
    now: i64,
) -> Result<EventsPage> {
    let log = g.log.as_ref();
    let ts_lo = q
        .start_time
        .unwrap_or(i64::MIN)
        .max(retention_floor(now, retention));
    let ts_hi = q.end_time.unwrap_or(i64::MAX);
    let floor = offset_for_min_ts(log, ts_lo, bounds.max_ahead_ms);
    let mut ceil = log.next_offset();
    if q.end_time.is_some() {
        ceil = ceil.min(log.offset_at_time(ts_hi.saturating_add(bounds.max_behind_ms.max(0))));
    }
    let regions = regions(&index, bounds.applied, ts_lo, ts_hi);
    let mut query = Query {
        log,
        stream: &q.stream,
        stream_id,
        ts_lo,
        ts_hi,
        limit: q.limit.unwrap_or(MAX_PAGE_EVENTS).clamp(1, MAX_PAGE_EVENTS),
        examined: 0,
        examined_bytes: 0,
    };
    let forward = token.map_or(q.start_from_head, |t| t.direction == Direction::Forward);
    let stream_token = |direction, position| {
        StreamToken {
            direction,
            stream_id,
            position,
        }
        .encode()
    };
    let (page, next_forward, next_backward) = if forward {
        let from = token.map_or(floor, |t| t.position.max(floor));
        let page = read_forward(&mut query, &regions, from, ceil).map_err(|e| log_error(g, e))?;
        let f = stream_token(Direction::Forward, page.resume);
        let b = stream_token(Direction::Backward, from);
        (page, f, b)
    } else {
        let top = token.map_or(ceil, |t| t.position.min(ceil));
        let page = read_backward(&mut query, &regions, top, floor).map_err(|e| log_error(g, e))?;
        let f = stream_token(Direction::Forward, top);
        let b = stream_token(Direction::Backward, page.resume);
        (page, f, b)
    };
    // A token given back unchanged must be the very string sent (AWS's end-of-stream rule).
    let same = |mine: String, direction| match (&q.next_token, token) {
        (Some(sent), Some(t)) if t.direction == direction && mine == t.encode() => sent.clone(),
        _ => mine,
    };
    Ok(EventsPage {
        events: page.events.into_iter().map(|(_, e)| e).collect(),
        next_forward_token: same(next_forward, Direction::Forward),
        next_backward_token: same(next_backward, Direction::Backward),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_floor_is_days_before_now() {
        assert_eq!(retention_floor(10 * DAY_MS, Some(3)), 7 * DAY_MS);
        assert_eq!(retention_floor(5, None), i64::MIN);
        assert_eq!(retention_floor(i64::MIN, Some(3653)), i64::MIN);
    }

    #[test]
    fn regions_end_with_the_unindexed_tail() {
        let mut ix = SparseIndex::default();
        ix.push(10, 100);
        ix.push(5000, 200);
        assert_eq!(
            regions(&ix, 6000, i64::MIN, i64::MAX),
            vec![(10, 11), (5000, 5001), (6000, u64::MAX)]
        );
        // Time bounds skip runs that cannot hold a match.
        assert_eq!(
            regions(&ix, 6000, 150, i64::MAX),
            vec![(5000, 5001), (6000, u64::MAX)]
        );
        // A run still being written is cut at `applied`.
        assert_eq!(regions(&ix, 5000, i64::MIN, i64::MAX)[1], (5000, u64::MAX));
    }
}
