// SPDX-License-Identifier: Apache-2.0
//! The batch state machine of one shard of a stream mapping: which records go into which
//! invocation, what happens when it fails, and which position may be committed. Pure: the
//! pipeline feeds it records and outcomes, with the time, and does what it answers.
//!
//! - Records are pushed in shard order. Filtered-out records are done at once.
//! - ParallelizationFactor N: records go to one of N lanes by a hash of their partition key;
//!   each lane has at most one batch in flight, so order holds per key (per shard when N=1).
//! - A lane's batch is cut at BatchSize, at the payload cap, or when the batching window
//!   (which starts when the lane becomes non-empty while idle) has passed.
//! - A function error retries the batch (after ReportBatchItemFailures: from the lowest failed
//!   record on; with BisectBatchOnFunctionError: split in two halves, which costs no retry).
//!   After MaximumRetryAttempts retries the batch is given up (RetryAttemptsExhausted). A
//!   throttle or service error retries without counting. A record older than
//!   MaximumRecordAgeInSeconds is given up (RecordAgeExceeded) instead of invoked.
//! - A given-up batch stays in its lane until the pipeline says its failure record was sent.
//! - Tumbling windows (one lane): batches hold records of one window; the state each
//!   invocation returns goes into the next; once the window has ended a final invocation
//!   (`isFinalInvokeForWindow`) follows, and only then are the window's records committable.
//!
//! Invariant (model-tested): the committable position never passes a record that was not
//! processed successfully, filtered out, or given up with its failure record sent.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::esm::event::{FailureCondition, ResponseContext};
use crate::esm::response::{ItemFailures, item_failures, parse_json, window_state};

/// A batch's payload may not exceed this (the synchronous invoke limit).
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
/// The JSON around one record (member names, ids, ARNs), counted with its data.
pub const RECORD_OVERHEAD: usize = 600;

/// How the shard's batches are made and retried: the mapping's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// BatchSize.
    pub batch_size: usize,
    /// MaximumBatchingWindowInSeconds, in ms.
    pub window_ms: i64,
    /// MaximumRetryAttempts; `None` for infinite.
    pub max_retries: Option<u32>,
    /// MaximumRecordAgeInSeconds, in ms; `None` for infinite.
    pub max_age_ms: Option<i64>,
    /// BisectBatchOnFunctionError.
    pub bisect: bool,
    /// FunctionResponseTypes has ReportBatchItemFailures.
    pub report_item_failures: bool,
    /// ParallelizationFactor.
    pub parallelization: usize,
    /// TumblingWindowInSeconds, in ms; `None` when off.
    pub tumbling_ms: Option<i64>,
    /// First retry delay after a failure, ms (doubles to `backoff_max_ms`).
    pub backoff_ms: i64,
    /// Longest retry delay, ms.
    pub backoff_max_ms: i64,
    /// Payload cap, bytes.
    pub max_payload: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            batch_size: 100,
            window_ms: 0,
            max_retries: None,
            max_age_ms: None,
            bisect: false,
            report_item_failures: false,
            parallelization: 1,
            tumbling_ms: None,
            backoff_ms: 100,
            backoff_max_ms: 5_000,
            max_payload: MAX_PAYLOAD,
        }
    }
}

/// One record as the machine sees it; `T` is what the pipeline needs to build the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec<T> {
    /// Shard offset.
    pub offset: u64,
    /// The id a response names it by (the sequence number).
    pub id: String,
    /// Partition key (picks the lane).
    pub key: String,
    /// Arrival, ms since the epoch.
    pub arrival_ms: i64,
    /// Bytes it adds to the payload.
    pub size: usize,
    /// Whether it passed the filters (others are done at once).
    pub passes: bool,
    /// The pipeline's data.
    pub data: T,
}

/// Where the shard may be committed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Everything before this offset is safe.
    At(u64),
    /// The shard is finished and every record is safe.
    Finished,
}

/// The tumbling-window part of an invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    /// Window start, ms.
    pub start_ms: i64,
    /// Window end, ms.
    pub end_ms: i64,
    /// State from the previous invocation of the window.
    pub state: Value,
    /// Whether this is the final invocation.
    pub is_final: bool,
    /// Whether the window ends before its time (the shard closed).
    pub terminated_early: bool,
}

/// What the pipeline should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Invoke the function with these records (offsets, in order).
    Invoke {
        /// Batch id, for [`ShardMachine::complete`].
        batch: u64,
        /// The records.
        offsets: Vec<u64>,
        /// Window members, when tumbling windows are on.
        window: Option<WindowCall>,
    },
    /// Send the failure record of these records, then call [`ShardMachine::given_up`].
    GiveUp {
        /// Batch id.
        batch: u64,
        /// The records.
        offsets: Vec<u64>,
        /// Why.
        condition: FailureCondition,
        /// How often the batch was invoked.
        invoke_count: u32,
        /// The last answer, if it was invoked.
        response: Option<ResponseContext>,
    },
    /// Nothing to do before this time (ms), unless records arrive.
    WaitUntil(i64),
    /// Nothing to do until records arrive or an invocation completes.
    Idle,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function ran.
    Ran {
        /// Its response payload.
        payload: Vec<u8>,
        /// `Unhandled`/`Handled` when it failed.
        function_error: Option<String>,
        /// The version that ran.
        executed_version: String,
    },
    /// The function did not run (throttle, service error): status code of the error.
    NotRun {
        /// 429, 500, ...
        status_code: u16,
    },
}

/// What a completed invocation meant, for LastProcessingResult.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The batch (or part of it) succeeded.
    Ok,
    /// The function failed or answered badly.
    FunctionFailed,
    /// The function did not run.
    NotRun,
}

#[derive(Debug, Clone)]
struct Batch {
    offsets: Vec<u64>,
    /// Function errors so far (retries used).
    errors: u32,
    invokes: u32,
    /// Throttles and service errors in a row (only for the back-off).
    not_run: u32,
    retry_at: i64,
    last: Option<ResponseContext>,
}

#[derive(Debug, Default)]
struct Lane {
    pending: VecDeque<u64>,
    /// Batches to retry, first first (bisected halves in order).
    retry: VecDeque<Batch>,
    /// The batch in flight or being given up.
    busy: Option<(u64, Batch, bool)>,
    /// When the current batching window opened.
    window_open_ms: Option<i64>,
}

#[derive(Debug)]
struct Window {
    start_ms: i64,
    state: Value,
    /// First offset of the window's records (they stay uncommitted until the final invoke).
    first_offset: Option<u64>,
}

/// The batches of one shard. See the module docs.
#[derive(Debug)]
pub struct ShardMachine<T> {
    cfg: BatchConfig,
    records: BTreeMap<u64, (Rec<T>, bool)>,
    lanes: Vec<Lane>,
    next_batch: u64,
    /// Offset after the last pushed record; `None` before any push (then `start`).
    end: u64,
    finished: bool,
    window: Option<Window>,
    final_pending: bool,
    /// Give-ups decided by [`ShardMachine::complete`], handed out by [`ShardMachine::next`].
    outbox: VecDeque<Step>,
}

impl<T> ShardMachine<T> {
    /// A machine for a shard whose next record is at `start`.
    pub fn new(cfg: BatchConfig, start: u64) -> ShardMachine<T> {
        let lanes = if cfg.tumbling_ms.is_some() {
            1
        } else {
            cfg.parallelization.clamp(1, 10)
        };
        ShardMachine {
            cfg,
            records: BTreeMap::new(),
            lanes: (0..lanes).map(|_| Lane::default()).collect(),
            next_batch: 0,
            end: start,
            finished: false,
            window: None,
            final_pending: false,
            outbox: VecDeque::new(),
        }
    }

    /// Adds records read from the shard (in order, after the previous ones), and where the
    /// shard continues: `Some(next offset)`, or `None` when it ended.
    pub fn push(&mut self, recs: Vec<Rec<T>>, next: Option<u64>, now_ms: i64) {
        for r in recs {
            // Re-read records (after a rewind of the reader) are already here or done.
            if r.offset < self.end {
                continue;
            }
            let lane = self.lane_of(&r.key);
            if r.passes {
                let l = &mut self.lanes[lane];
                if l.pending.is_empty() && l.busy.is_none() && l.window_open_ms.is_none() {
                    l.window_open_ms = Some(now_ms);
                }
                l.pending.push_back(r.offset);
            }
            let done = !r.passes;
            self.end = self.end.max(r.offset + 1);
            self.records.insert(r.offset, (r, done));
        }
        match next {
            Some(n) => self.end = self.end.max(n),
            None => self.finished = true,
        }
        self.drop_done_prefix();
    }

    /// The record at `offset`, while the machine holds it.
    pub fn record(&self, offset: u64) -> Option<&Rec<T>> {
        self.records.get(&offset).map(|(r, _)| r)
    }

    /// Records held (not yet committable).
    pub fn held(&self) -> usize {
        self.records.len()
    }

    /// Whether no batch is in flight or being given up.
    pub fn is_quiet(&self) -> bool {
        self.lanes.iter().all(|l| l.busy.is_none())
    }

    /// Where the shard may be committed to now.
    pub fn committable(&self) -> Commit {
        let first_open = self.records.iter().find(|(_, (_, done))| !done);
        let mut at = first_open.map(|(o, _)| *o);
        if let Some(w) = &self.window
            && let Some(f) = w.first_offset
        {
            at = Some(at.map_or(f, |a| a.min(f)));
        }
        match at {
            Some(o) => Commit::At(o),
            None if self.finished => Commit::Finished,
            None => Commit::At(self.end),
        }
    }

    fn lane_of(&self, key: &str) -> usize {
        if self.lanes.len() == 1 {
            return 0;
        }
        // FNV-1a: stable across runs, so a key keeps its lane after a restart.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % self.lanes.len() as u64) as usize
    }

    fn drop_done_prefix(&mut self) {
        let keep_from = match &self.window {
            Some(Window {
                first_offset: Some(f),
                ..
            }) => *f,
            _ => u64::MAX,
        };
        while let Some((&o, (_, done))) = self.records.iter().next() {
            if !*done || o >= keep_from {
                break;
            }
            self.records.remove(&o);
        }
    }

    fn payload_of(&self, o: u64) -> usize {
        self.records
            .get(&o)
            .map_or(0, |(r, _)| r.size + RECORD_OVERHEAD)
    }

    fn is_expired(&self, o: u64, now_ms: i64) -> bool {
        match (self.cfg.max_age_ms, self.records.get(&o)) {
            (Some(max), Some((r, _))) => now_ms - r.arrival_ms > max,
            _ => false,
        }
    }

    fn window_of(&self, o: u64) -> Option<i64> {
        let w = self.cfg.tumbling_ms?;
        let r = &self.records.get(&o)?.0;
        Some(r.arrival_ms.div_euclid(w) * w)
    }

    /// What to do next at `now_ms`. Call repeatedly until it answers `WaitUntil` or `Idle`.
    pub fn next(&mut self, now_ms: i64) -> Step {
        if let Some(step) = self.outbox.pop_front() {
            return step;
        }
        let mut wake: Option<i64> = None;
        for lane in 0..self.lanes.len() {
            match self.next_in_lane(lane, now_ms) {
                Step::WaitUntil(t) => wake = Some(wake.map_or(t, |w: i64| w.min(t))),
                Step::Idle => {}
                step => return step,
            }
        }
        match wake {
            Some(t) => Step::WaitUntil(t),
            None => Step::Idle,
        }
    }

    fn start(&mut self, lane: usize, mut batch: Batch, now_ms: i64) -> Step {
        let id = self.next_batch;
        self.next_batch += 1;
        // Records past their age are given up, not invoked.
        let (old, fresh): (Vec<u64>, Vec<u64>) = batch
            .offsets
            .iter()
            .partition(|o| self.is_expired(**o, now_ms));
        if !old.is_empty() {
            if !fresh.is_empty() {
                let rest = Batch {
                    offsets: fresh,
                    ..batch.clone()
                };
                self.lanes[lane].retry.push_front(rest);
            }
            batch.offsets = old.clone();
            let step = Step::GiveUp {
                batch: id,
                offsets: old,
                condition: FailureCondition::RecordAgeExceeded,
                invoke_count: batch.invokes,
                response: batch.last.clone(),
            };
            self.lanes[lane].busy = Some((id, batch, true));
            return step;
        }
        let window = self.window_call(&batch.offsets, now_ms);
        batch.invokes += 1;
        let offsets = batch.offsets.clone();
        self.lanes[lane].busy = Some((id, batch, false));
        Step::Invoke {
            batch: id,
            offsets,
            window,
        }
    }

    fn next_in_lane(&mut self, lane: usize, now_ms: i64) -> Step {
        if self.lanes[lane].busy.is_some() {
            return Step::Idle;
        }
        if let Some(b) = self.lanes[lane].retry.front() {
            if b.retry_at > now_ms {
                return Step::WaitUntil(b.retry_at);
            }
            let Some(b) = self.lanes[lane].retry.pop_front() else {
                return Step::Idle;
            };
            return self.start(lane, b, now_ms);
        }
        if self.cfg.tumbling_ms.is_some() {
            return self.next_windowed(now_ms);
        }
        let l = &self.lanes[lane];
        if l.pending.is_empty() {
            return Step::Idle;
        }
        let (offsets, full) = self.cut(lane, |_| true);
        let opened = self.lanes[lane].window_open_ms.unwrap_or(now_ms);
        let due = opened + self.cfg.window_ms;
        // Expired records never wait for the window.
        let expired = offsets.first().is_some_and(|o| self.is_expired(*o, now_ms));
        if !full && now_ms < due && !self.finished && !expired {
            return Step::WaitUntil(due);
        }
        self.take_pending(lane, offsets.len());
        self.lanes[lane].window_open_ms = None;
        let batch = Batch {
            offsets,
            errors: 0,
            invokes: 0,
            not_run: 0,
            retry_at: now_ms,
            last: None,
        };
        self.start(lane, batch, now_ms)
    }

    /// The next batch of `lane`'s pending records that satisfy `keep` (stopping at the first
    /// that does not), and whether it is full.
    fn cut(&self, lane: usize, keep: impl Fn(u64) -> bool) -> (Vec<u64>, bool) {
        let mut out = Vec::new();
        let mut bytes = 0;
        for &o in &self.lanes[lane].pending {
            if !keep(o) {
                return (out, true);
            }
            let size = self.payload_of(o);
            if !out.is_empty() && bytes + size > self.cfg.max_payload {
                return (out, true);
            }
            bytes += size;
            out.push(o);
            if out.len() >= self.cfg.batch_size {
                return (out, true);
            }
        }
        (out, false)
    }

    fn take_pending(&mut self, lane: usize, n: usize) {
        let l = &mut self.lanes[lane];
        l.pending.drain(..n.min(l.pending.len()));
    }

    fn next_windowed(&mut self, now_ms: i64) -> Step {
        let Some(w_ms) = self.cfg.tumbling_ms else {
            return Step::Idle;
        };
        let first = self.lanes[0].pending.front().copied();
        // The window in progress, or the one of the first pending record.
        let start = match (&self.window, first) {
            (Some(w), _) => w.start_ms,
            (None, Some(o)) => match self.window_of(o) {
                Some(s) => s,
                None => return Step::Idle,
            },
            (None, None) => return Step::Idle,
        };
        let end = start + w_ms;
        let (offsets, _) = self.cut(0, |o| self.window_of(o) == Some(start));
        let later_records = self.lanes[0].pending.len() > offsets.len();
        let closed = now_ms >= end || later_records || self.finished;
        if offsets.is_empty() && !closed {
            return Step::WaitUntil(end);
        }
        if self.window.is_none() {
            self.window = Some(Window {
                start_ms: start,
                state: Value::Object(Default::default()),
                first_offset: offsets.first().copied(),
            });
        }
        let all_of_window = !self.lanes[0]
            .pending
            .iter()
            .skip(offsets.len())
            .any(|o| self.window_of(*o) == Some(start));
        self.final_pending = closed && all_of_window;
        self.take_pending(0, offsets.len());
        let batch = Batch {
            offsets,
            errors: 0,
            invokes: 0,
            not_run: 0,
            retry_at: now_ms,
            last: None,
        };
        self.start(0, batch, now_ms)
    }

    fn window_call(&self, _offsets: &[u64], now_ms: i64) -> Option<WindowCall> {
        let w_ms = self.cfg.tumbling_ms?;
        let w = self.window.as_ref()?;
        Some(WindowCall {
            start_ms: w.start_ms,
            end_ms: w.start_ms + w_ms,
            state: w.state.clone(),
            is_final: self.final_pending,
            terminated_early: self.final_pending && self.finished && now_ms < w.start_ms + w_ms,
        })
    }

    fn backoff(&self, n: u32) -> i64 {
        let shift = n.saturating_sub(1).min(20);
        (self.cfg.backoff_ms.saturating_mul(1 << shift)).min(self.cfg.backoff_max_ms)
    }

    /// Records the outcome of invocation `batch`.
    pub fn complete(&mut self, batch: u64, outcome: Outcome, now_ms: i64) -> Verdict {
        let Some(lane) = self
            .lanes
            .iter()
            .position(|l| matches!(&l.busy, Some((id, _, false)) if *id == batch))
        else {
            return Verdict::Ok;
        };
        let Some((_, mut b, _)) = self.lanes[lane].busy.take() else {
            return Verdict::Ok;
        };
        let (payload, function_error, version) = match outcome {
            Outcome::NotRun { status_code } => {
                b.not_run += 1;
                b.retry_at = now_ms + self.backoff(b.not_run);
                b.last = Some(ResponseContext {
                    status_code,
                    executed_version: String::new(),
                    function_error: None,
                });
                self.lanes[lane].retry.push_front(b);
                return Verdict::NotRun;
            }
            Outcome::Ran {
                payload,
                function_error,
                executed_version,
            } => (payload, function_error, executed_version),
        };
        b.not_run = 0;
        let response = parse_json(&payload);
        let ids: Vec<&str> = b
            .offsets
            .iter()
            .filter_map(|o| self.records.get(o).map(|(r, _)| r.id.as_str()))
            .collect();
        let mut failures = if function_error.is_some() {
            ItemFailures::All
        } else if self.cfg.report_item_failures {
            item_failures(response.as_ref(), &ids)
        } else {
            ItemFailures::None
        };
        let new_state = if self.cfg.tumbling_ms.is_some() {
            let s = window_state(response.as_ref());
            if s.is_none() {
                failures = ItemFailures::All;
            }
            s
        } else {
            None
        };
        b.last = Some(ResponseContext {
            status_code: 200,
            executed_version: version,
            function_error: function_error
                .clone()
                .or_else(|| (failures != ItemFailures::None).then(|| "Unhandled".to_owned())),
        });
        let Some(first_failed) = failures.first() else {
            self.succeeded(&b.offsets, new_state);
            return Verdict::Ok;
        };
        // The records before the first failure succeeded (only with partial failures).
        let done: Vec<u64> = b.offsets.drain(..first_failed).collect();
        self.mark_done(&done);
        b.retry_at = now_ms + self.backoff(b.errors + 1);
        let split = self.cfg.bisect && b.offsets.len() > 1;
        if !split {
            b.errors += 1;
        }
        let exhausted = self.cfg.max_retries.is_some_and(|m| b.errors > m);
        if split {
            // Splitting costs no retry: each half starts with the batch's count.
            let second = b.offsets.split_off(b.offsets.len() / 2);
            let mut tail = b.clone();
            tail.offsets = second;
            self.lanes[lane].retry.push_front(tail);
            self.lanes[lane].retry.push_front(b);
        } else if exhausted {
            let id = self.next_batch;
            self.next_batch += 1;
            self.outbox.push_back(Step::GiveUp {
                batch: id,
                offsets: b.offsets.clone(),
                condition: FailureCondition::RetryAttemptsExhausted,
                invoke_count: b.invokes,
                response: b.last.clone(),
            });
            self.lanes[lane].busy = Some((id, b, true));
        } else {
            self.lanes[lane].retry.push_front(b);
        }
        Verdict::FunctionFailed
    }

    /// The failure record of given-up batch `batch` was sent (or there is no destination):
    /// its records are done.
    pub fn given_up(&mut self, batch: u64) {
        let Some(lane) = self
            .lanes
            .iter()
            .position(|l| matches!(&l.busy, Some((id, _, true)) if *id == batch))
        else {
            return;
        };
        if let Some((_, b, _)) = self.lanes[lane].busy.take() {
            self.mark_done(&b.offsets);
            if self.cfg.tumbling_ms.is_some() && self.final_pending {
                self.finish_window();
            }
        }
        self.drop_done_prefix();
    }

    fn succeeded(&mut self, offsets: &[u64], state: Option<Value>) {
        self.mark_done(offsets);
        if let (Some(w), Some(s)) = (&mut self.window, state) {
            w.state = s;
        }
        if self.cfg.tumbling_ms.is_some() && self.final_pending {
            self.finish_window();
        }
        self.drop_done_prefix();
    }

    fn finish_window(&mut self) {
        self.window = None;
        self.final_pending = false;
    }

    fn mark_done(&mut self, offsets: &[u64]) {
        for o in offsets {
            if let Some((_, done)) = self.records.get_mut(o) {
                *done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn rec(offset: u64, key: &str, arrival_ms: i64) -> Rec<()> {
        Rec {
            offset,
            id: format!("s{offset}"),
            key: key.into(),
            arrival_ms,
            size: 10,
            passes: true,
            data: (),
        }
    }

    fn ok() -> Outcome {
        Outcome::Ran {
            payload: Vec::new(),
            function_error: None,
            executed_version: "$LATEST".into(),
        }
    }

    fn failed() -> Outcome {
        Outcome::Ran {
            payload: br#"{"errorMessage":"boom"}"#.to_vec(),
            function_error: Some("Unhandled".into()),
            executed_version: "$LATEST".into(),
        }
    }

    fn invoke(step: Step) -> (u64, Vec<u64>) {
        match step {
            Step::Invoke { batch, offsets, .. } => (batch, offsets),
            other => panic!("expected an invocation, got {other:?}"),
        }
    }

    fn machine(cfg: BatchConfig, n: u64) -> ShardMachine<()> {
        let mut m = ShardMachine::new(cfg, 0);
        m.push((0..n).map(|o| rec(o, "k", 0)).collect(), Some(n), 0);
        m
    }

    #[test]
    fn batches_are_cut_at_batch_size_and_commit_follows_success() {
        let mut m = machine(
            BatchConfig {
                batch_size: 3,
                ..BatchConfig::default()
            },
            5,
        );
        let (b, offs) = invoke(m.next(0));
        assert_eq!(offs, vec![0, 1, 2]);
        assert_eq!(m.next(0), Step::Idle, "one batch in flight per lane");
        assert_eq!(m.committable(), Commit::At(0));
        assert_eq!(m.complete(b, ok(), 0), Verdict::Ok);
        assert_eq!(m.committable(), Commit::At(3));
        let (b, offs) = invoke(m.next(0));
        assert_eq!(offs, vec![3, 4]);
        m.complete(b, ok(), 0);
        assert_eq!(m.committable(), Commit::At(5));
        assert_eq!(m.held(), 0);
    }

    #[test]
    fn the_payload_cap_cuts_batches_before_batch_size() {
        let mut m = ShardMachine::new(
            BatchConfig {
                max_payload: 2 * (10 + RECORD_OVERHEAD),
                ..BatchConfig::default()
            },
            0,
        );
        m.push((0..5).map(|o| rec(o, "k", 0)).collect(), Some(5), 0);
        assert_eq!(invoke(m.next(0)).1, vec![0, 1]);
    }

    #[test]
    fn the_batching_window_waits_for_more_records_unless_the_batch_is_full() {
        let mut m = ShardMachine::new(
            BatchConfig {
                batch_size: 3,
                window_ms: 1000,
                ..BatchConfig::default()
            },
            0,
        );
        m.push(vec![rec(0, "k", 0)], Some(1), 100);
        assert_eq!(m.next(100), Step::WaitUntil(1100));
        m.push(vec![rec(1, "k", 0)], Some(2), 500);
        assert_eq!(m.next(500), Step::WaitUntil(1100));
        assert_eq!(invoke(m.next(1100)).1, vec![0, 1]);
        let mut m = ShardMachine::new(
            BatchConfig {
                batch_size: 2,
                window_ms: 1000,
                ..BatchConfig::default()
            },
            0,
        );
        m.push(vec![rec(0, "k", 0), rec(1, "k", 0)], Some(2), 0);
        assert_eq!(invoke(m.next(0)).1, vec![0, 1]);
    }

    #[test]
    fn function_errors_retry_until_the_budget_then_give_up_and_move_on() {
        let mut m = machine(
            BatchConfig {
                max_retries: Some(2),
                ..BatchConfig::default()
            },
            2,
        );
        let mut now = 0;
        for _ in 0..3 {
            let (b, offs) = invoke(m.next(now));
            assert_eq!(offs, vec![0, 1]);
            assert_eq!(m.complete(b, failed(), now), Verdict::FunctionFailed);
            now += 10_000;
        }
        match m.next(now) {
            Step::GiveUp {
                batch,
                offsets,
                condition,
                invoke_count,
                response,
            } => {
                assert_eq!(offsets, vec![0, 1]);
                assert_eq!(condition, FailureCondition::RetryAttemptsExhausted);
                assert_eq!(invoke_count, 3);
                assert_eq!(
                    response.and_then(|r| r.function_error).as_deref(),
                    Some("Unhandled")
                );
                assert_eq!(
                    m.committable(),
                    Commit::At(0),
                    "not before the record is sent"
                );
                m.given_up(batch);
            }
            other => panic!("expected a give-up, got {other:?}"),
        }
        assert_eq!(m.committable(), Commit::At(2));
    }

    #[test]
    fn throttles_retry_without_using_the_budget_until_records_are_too_old() {
        let mut m = ShardMachine::new(
            BatchConfig {
                max_retries: Some(0),
                max_age_ms: Some(60_000),
                ..BatchConfig::default()
            },
            0,
        );
        m.push(vec![rec(0, "k", 0)], Some(1), 0);
        let mut now = 0;
        for _ in 0..5 {
            let (b, _) = invoke(m.next(now));
            assert_eq!(
                m.complete(b, Outcome::NotRun { status_code: 429 }, now),
                Verdict::NotRun
            );
            now += 10_000;
        }
        now = 61_000;
        match m.next(now) {
            Step::GiveUp {
                condition,
                response,
                ..
            } => {
                assert_eq!(condition, FailureCondition::RecordAgeExceeded);
                assert_eq!(response.map(|r| r.status_code), Some(429));
            }
            other => panic!("expected a give-up, got {other:?}"),
        }
    }

    #[test]
    fn report_batch_item_failures_checkpoints_at_the_lowest_failed_record() {
        let mut m = machine(
            BatchConfig {
                report_item_failures: true,
                ..BatchConfig::default()
            },
            5,
        );
        let (b, _) = invoke(m.next(0));
        let payload = br#"{"batchItemFailures":[{"itemIdentifier":"s3"},{"itemIdentifier":"s2"}]}"#;
        let v = m.complete(
            b,
            Outcome::Ran {
                payload: payload.to_vec(),
                function_error: None,
                executed_version: "1".into(),
            },
            0,
        );
        assert_eq!(v, Verdict::FunctionFailed);
        assert_eq!(m.committable(), Commit::At(2));
        let (b, offs) = invoke(m.next(10_000));
        assert_eq!(offs, vec![2, 3, 4]);
        m.complete(b, ok(), 10_000);
        assert_eq!(m.committable(), Commit::At(5));
    }

    #[test]
    fn bisecting_splits_a_failed_batch_in_halves_without_using_retries() {
        let mut m = machine(
            BatchConfig {
                bisect: true,
                max_retries: Some(0),
                ..BatchConfig::default()
            },
            4,
        );
        let (b, _) = invoke(m.next(0));
        m.complete(b, failed(), 0);
        let (b, offs) = invoke(m.next(10_000));
        assert_eq!(offs, vec![0, 1]);
        m.complete(b, ok(), 10_000);
        let (b, offs) = invoke(m.next(20_000));
        assert_eq!(offs, vec![2, 3]);
        m.complete(b, failed(), 20_000);
        let (b, offs) = invoke(m.next(30_000));
        assert_eq!(offs, vec![2]);
        m.complete(b, ok(), 30_000);
        let (b, offs) = invoke(m.next(40_000));
        assert_eq!(offs, vec![3]);
        m.complete(b, failed(), 40_000);
        assert!(matches!(m.next(50_000), Step::GiveUp { ref offsets, .. } if offsets == &vec![3]));
    }

    #[test]
    fn filtered_out_records_are_done_at_once() {
        let mut m = ShardMachine::new(BatchConfig::default(), 0);
        let mut r = rec(0, "k", 0);
        r.passes = false;
        m.push(vec![r], Some(1), 0);
        assert_eq!(m.next(0), Step::Idle);
        assert_eq!(m.committable(), Commit::At(1));
    }

    #[test]
    fn a_finished_shard_commits_as_finished_once_everything_is_safe() {
        let mut m = ShardMachine::new(BatchConfig::default(), 0);
        m.push(vec![rec(0, "k", 0)], None, 0);
        let (b, _) = invoke(m.next(0));
        assert_eq!(m.committable(), Commit::At(0));
        m.complete(b, ok(), 0);
        assert_eq!(m.committable(), Commit::Finished);
    }

    #[test]
    fn parallelization_runs_keys_in_separate_lanes() {
        let mut m = ShardMachine::new(
            BatchConfig {
                parallelization: 10,
                ..BatchConfig::default()
            },
            0,
        );
        let keys: Vec<String> = (0..40).map(|i| format!("key-{i}")).collect();
        m.push(
            keys.iter()
                .enumerate()
                .map(|(i, k)| rec(i as u64, k, 0))
                .collect(),
            Some(40),
            0,
        );
        let mut in_flight = 0;
        while let Step::Invoke { .. } = m.next(0) {
            in_flight += 1;
        }
        assert!(in_flight > 1, "several batches of one shard run at once");
        assert!(in_flight <= 10);
    }

    fn windowed_ok(state: Value) -> Outcome {
        Outcome::Ran {
            payload: serde_json::to_vec(&json!({ "state": state })).unwrap_or_default(),
            function_error: None,
            executed_version: "$LATEST".into(),
        }
    }

    #[test]
    fn tumbling_windows_carry_state_and_end_with_a_final_invocation() {
        let mut m = ShardMachine::new(
            BatchConfig {
                tumbling_ms: Some(10_000),
                batch_size: 2,
                ..BatchConfig::default()
            },
            0,
        );
        m.push(
            vec![rec(0, "k", 1000), rec(1, "k", 2000), rec(2, "k", 3000)],
            Some(3),
            3000,
        );
        let (b, w) = match m.next(3000) {
            Step::Invoke { batch, window, .. } => (batch, window),
            other => panic!("{other:?}"),
        };
        let w = w.expect("window");
        assert_eq!((w.start_ms, w.end_ms, w.is_final), (0, 10_000, false));
        assert_eq!(w.state, json!({}));
        m.complete(b, windowed_ok(json!({"n": 2})), 3000);
        let (b, w) = match m.next(3000) {
            Step::Invoke {
                batch,
                window,
                offsets,
            } => {
                assert_eq!(offsets, vec![2]);
                (batch, window)
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(w.map(|w| w.state), Some(json!({"n": 2})));
        m.complete(b, windowed_ok(json!({"n": 3})), 3000);
        assert_eq!(
            m.committable(),
            Commit::At(0),
            "held until the final invoke"
        );
        assert_eq!(m.next(3000), Step::WaitUntil(10_000));
        let (b, w) = match m.next(10_000) {
            Step::Invoke {
                batch,
                window,
                offsets,
            } => {
                assert!(offsets.is_empty());
                (batch, window.expect("window"))
            }
            other => panic!("{other:?}"),
        };
        assert!(w.is_final);
        assert_eq!(w.state, json!({"n": 3}));
        // A response without state fails the invocation.
        m.complete(b, ok(), 10_000);
        assert_eq!(m.committable(), Commit::At(0));
        let (b, _) = invoke(m.next(20_000));
        m.complete(b, windowed_ok(json!({})), 20_000);
        assert_eq!(m.committable(), Commit::At(3));
    }

    /// What the model invoker does with a record on a given attempt.
    #[derive(Debug, Clone)]
    struct Scenario {
        keys: Vec<u8>,
        /// Records whose invocation fails on their first `n` attempts.
        fail_times: Vec<u8>,
        cfg: BatchConfig,
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (
            prop::collection::vec(0u8..4, 1..40),
            prop::collection::vec(0u8..4, 40),
            1usize..6,
            prop::option::of(0u32..3),
            any::<bool>(),
            any::<bool>(),
            1usize..4,
        )
            .prop_map(
                |(keys, fail_times, bs, retries, bisect, report, pf)| Scenario {
                    keys,
                    fail_times,
                    cfg: BatchConfig {
                        batch_size: bs,
                        max_retries: retries,
                        bisect,
                        report_item_failures: report,
                        parallelization: pf,
                        ..BatchConfig::default()
                    },
                },
            )
    }

    proptest! {
        #[test]
        fn no_record_is_committed_unless_processed_or_given_up_and_keys_stay_in_order(s in scenario()) {
            let n = s.keys.len() as u64;
            let mut m = ShardMachine::new(s.cfg.clone(), 0);
            let recs: Vec<Rec<()>> = (0..n).map(|o| rec(o, &format!("k{}", s.keys[o as usize]), 0)).collect();
            m.push(recs, Some(n), 0);
            let mut attempts: HashMap<u64, u8> = HashMap::new();
            let mut safe: BTreeSet<u64> = BTreeSet::new();
            let mut first_delivery: Vec<u64> = Vec::new();
            let mut now = 0i64;
            let mut in_flight: Vec<(u64, Vec<u64>)> = Vec::new();
            for _ in 0..10_000 {
                match m.next(now) {
                    Step::Invoke { batch, offsets, .. } => in_flight.push((batch, offsets)),
                    Step::GiveUp { batch, offsets, .. } => {
                        safe.extend(offsets);
                        m.given_up(batch);
                    }
                    Step::WaitUntil(t) if in_flight.is_empty() => now = t,
                    Step::WaitUntil(_) | Step::Idle => {
                        let Some((batch, offsets)) = in_flight.pop() else { break };
                        let failing: Vec<u64> = offsets.iter().copied().filter(|o| {
                            let a = attempts.entry(*o).or_default();
                            *a += 1;
                            *a <= s.fail_times[*o as usize]
                        }).collect();
                        let outcome = if failing.is_empty() {
                            ok()
                        } else if s.cfg.report_item_failures {
                            let items: Vec<Value> = failing.iter().map(|o| json!({"itemIdentifier": format!("s{o}")})).collect();
                            Outcome::Ran { payload: serde_json::to_vec(&json!({"batchItemFailures": items})).unwrap_or_default(), function_error: None, executed_version: "$LATEST".into() }
                        } else {
                            failed()
                        };
                        let first_bad = if s.cfg.report_item_failures { failing.first().copied() } else { failing.first().map(|_| offsets[0]) };
                        for o in &offsets {
                            if first_bad.is_none_or(|f| *o < f) && safe.insert(*o) {
                                first_delivery.push(*o);
                            }
                        }
                        m.complete(batch, outcome, now);
                    }
                }
                if let Commit::At(c) = m.committable() {
                    for o in 0..c {
                        prop_assert!(safe.contains(&o), "committed past record {} not safe", o);
                    }
                }
            }
            prop_assert_eq!(m.committable(), Commit::At(n), "everything ends up processed or given up");
            for k in 0..4u8 {
                let order: Vec<u64> = first_delivery.iter().copied().filter(|o| s.keys[*o as usize] == k).collect();
                prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "key {} out of order: {:?}", k, order);
            }
        }
    }
}
