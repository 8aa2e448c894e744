// SPDX-License-Identifier: Apache-2.0
//! Per-shard throughput quotas of provisioned streams, the way AWS throttles a hot shard.
//!
//! Off by default (`kinesis.shard_quotas`); when on, every shard of a PROVISIONED stream gets
//! the AWS shard limits (reference §3.3, §3.4, §3.6):
//!
//! | direction | limit | burst |
//! |---|---|---|
//! | writes | 1 MiB/s of data plus partition keys | 1 s (1 MiB) |
//! | writes | 1,000 records/s | 1 s (1,000 records) |
//! | reads | 5 GetRecords calls/s | 1 s (5 calls) |
//! | reads | 2 MiB/s of data plus partition keys returned | none: paid after the call |
//!
//! ON_DEMAND streams are never throttled per shard: AWS scales them instead.
//!
//! # Algorithm
//!
//! Each limit is a [`TokenBucket`] on the injected [`freshet_types::Clock`]'s millisecond
//! time, in integer arithmetic: the level is kept in milli-tokens, so refilling `rate` tokens
//! per second adds exactly `rate × elapsed_ms` milli-tokens and no rounding accumulates. A
//! bucket starts full, refills continuously up to its capacity (`rate × burst`), and never
//! refills for time that ran backwards.
//!
//! - **Writes** are admitted per record, in request order within each shard: a record is
//!   admitted when the record bucket holds one token and the byte bucket holds its size; both
//!   are then taken. Once a shard refuses a record, the rest of that shard's records in the
//!   same PutRecords call are refused too, so a client that retries the failed entries keeps
//!   their order. A record larger than the byte bucket's capacity (streams may allow records up
//!   to 10 MiB) is admitted when the bucket is full and leaves it in debt, so it costs the
//!   shard as many seconds of write throughput as it has MiB.
//! - **Reads** are admitted when the call bucket holds a token and the byte bucket is not in
//!   debt; the bytes a call returns are charged after it (a reader cannot know them before),
//!   and the byte bucket has no burst. A call that returns 10 MiB therefore leaves 10 MiB of
//!   debt, repaid at 2 MiB/s: calls in the next 5 seconds fail, which is what AWS documents.
//!
//! # Compared with AWS
//!
//! AWS documents the rates, not the algorithm. Its documented observable behaviour is matched:
//! a burst above the per-second limit is refused, sustained load at the limit succeeds, a
//! 10 MiB GetRecords response blocks the shard's reads for 5 s, and throttled PutRecords
//! entries fail alone (`ProvisionedThroughputExceededException`, counted in
//! `FailedRecordCount`) while PutRecord and GetRecords fail whole. What AWS does not document,
//! and may do differently: how much burst it allows beyond one second of throughput (AWS
//! mentions occasional extra burst capacity), whether a refused PutRecords entry stops later
//! entries of the same shard (here it does), and whether read bytes count partition keys
//! (here they do, as writes do).
//!
//! # Cost and memory
//!
//! With quotas off nothing here runs. With quotas on, a put or read takes one uncontended
//! per-shard mutex for a few arithmetic operations, never across an await. State is four
//! buckets per shard, created on first use and dropped with the stream; nothing queues: a
//! request over the limit is refused at once.

use std::sync::{Arc, Mutex, RwLock};

use freshet_types::ShardId;

use crate::model::PutOutcome;
use crate::record::StreamMode;
use crate::state::{Shard, Stream};
use crate::{Error, Streams};

/// Write throughput of one shard, bytes (data plus partition key) per second.
pub const WRITE_BYTES_PER_SEC: u64 = 1024 * 1024;
/// Write throughput of one shard, records per second.
pub const WRITE_RECORDS_PER_SEC: u64 = 1000;
/// Read throughput of one shard, bytes per second.
pub const READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;
/// GetRecords calls per shard per second.
pub const READ_CALLS_PER_SEC: u64 = 5;
/// How much unused throughput a bucket keeps: one second's worth.
pub const BURST_MS: u64 = 1000;

/// The error code of a throttled PutRecords entry.
pub(crate) const THROTTLED_CODE: &str = "ProvisionedThroughputExceededException";

/// A token bucket on a millisecond clock, in exact integer arithmetic.
///
/// The level is in milli-tokens and may go negative (debt) when a cost larger than the
/// capacity is taken from a full bucket, or when a cost is charged after the fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens added per second; also milli-tokens added per millisecond.
    rate: i64,
    /// Most milli-tokens the bucket holds.
    capacity: i64,
    /// Current milli-tokens.
    level: i64,
    /// Clock reading of the last refill.
    last_ms: i64,
}

impl TokenBucket {
    /// A full bucket refilled at `rate_per_sec` tokens per second that holds at most
    /// `burst_ms` milliseconds' worth of them.
    pub fn new(rate_per_sec: u64, burst_ms: u64, now_ms: i64) -> Self {
        let rate = i64::try_from(rate_per_sec).unwrap_or(i64::MAX);
        let capacity = rate.saturating_mul(i64::try_from(burst_ms).unwrap_or(i64::MAX));
        Self {
            rate,
            capacity,
            level: capacity,
            last_ms: now_ms,
        }
    }

    /// Adds the tokens earned since the last refill. Time that runs backwards earns nothing
    /// and does not move the reference point back.
    pub fn refill(&mut self, now_ms: i64) {
        if now_ms <= self.last_ms {
            return;
        }
        let earned = self.rate.saturating_mul(now_ms - self.last_ms);
        self.level = self.level.saturating_add(earned).min(self.capacity);
        self.last_ms = now_ms;
    }

    /// Whether `tokens` could be taken now (after a refill): the bucket holds them, or it is
    /// full and they are more than it can ever hold.
    pub fn can_take(&self, tokens: u64) -> bool {
        self.level >= milli(tokens).min(self.capacity)
    }

    /// Takes `tokens` regardless of the level, possibly leaving debt.
    pub fn take(&mut self, tokens: u64) {
        self.level = self.level.saturating_sub(milli(tokens));
    }

    /// Takes `tokens` if [`TokenBucket::can_take`] allows; returns whether it did.
    pub fn try_take(&mut self, tokens: u64) -> bool {
        let ok = self.can_take(tokens);
        if ok {
            self.take(tokens);
        }
        ok
    }

    /// Whole tokens held now (negative while in debt), as of the last refill.
    pub fn tokens(&self) -> i64 {
        self.level.div_euclid(1000)
    }
}

/// Milli-tokens of `tokens`, saturating.
fn milli(tokens: u64) -> i64 {
    i64::try_from(tokens)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000)
}

/// The write buckets of one shard.
#[derive(Debug)]
struct WriteBuckets {
    bytes: TokenBucket,
    records: TokenBucket,
}

/// The read buckets of one shard.
#[derive(Debug)]
struct ReadBuckets {
    calls: TokenBucket,
    bytes: TokenBucket,
}

/// The quota state of one shard. Writes and reads have separate locks, so a reader never
/// waits for a writer.
#[derive(Debug)]
pub struct ShardQuota {
    write: Mutex<WriteBuckets>,
    read: Mutex<ReadBuckets>,
}

impl ShardQuota {
    /// Full buckets with the AWS shard limits.
    pub fn new(now_ms: i64) -> Self {
        Self {
            write: Mutex::new(WriteBuckets {
                bytes: TokenBucket::new(WRITE_BYTES_PER_SEC, BURST_MS, now_ms),
                records: TokenBucket::new(WRITE_RECORDS_PER_SEC, BURST_MS, now_ms),
            }),
            read: Mutex::new(ReadBuckets {
                calls: TokenBucket::new(READ_CALLS_PER_SEC, BURST_MS, now_ms),
                bytes: TokenBucket::new(READ_BYTES_PER_SEC, 0, now_ms),
            }),
        }
    }

    /// Admits records of the given sizes (data plus partition key, in request order) and
    /// returns how many of the first ones were admitted; the rest are refused.
    pub fn admit_writes(&self, sizes: impl IntoIterator<Item = usize>, now_ms: i64) -> usize {
        let mut w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        w.bytes.refill(now_ms);
        w.records.refill(now_ms);
        let mut admitted = 0;
        for size in sizes {
            let size = size as u64;
            if !(w.records.can_take(1) && w.bytes.can_take(size)) {
                break;
            }
            w.records.take(1);
            w.bytes.take(size);
            admitted += 1;
        }
        admitted
    }

    /// Admits one GetRecords call: a call token is taken unless the call is refused.
    pub fn admit_read(&self, now_ms: i64) -> bool {
        let mut r = self.read.lock().unwrap_or_else(|p| p.into_inner());
        r.calls.refill(now_ms);
        r.bytes.refill(now_ms);
        if r.bytes.can_take(0) && r.calls.can_take(1) {
            r.calls.take(1);
            true
        } else {
            false
        }
    }

    /// Charges the bytes an admitted GetRecords call returned.
    pub fn charge_read(&self, bytes: usize, now_ms: i64) {
        let mut r = self.read.lock().unwrap_or_else(|p| p.into_inner());
        r.bytes.refill(now_ms);
        r.bytes.take(bytes as u64);
    }
}

/// The quota state of a stream's shards, created on a shard's first throttled operation (so
/// shards added by resharding need no registration) and dropped with the stream.
#[derive(Debug, Default)]
pub(crate) struct StreamQuotas {
    /// Position = shard index.
    shards: RwLock<Vec<Option<Arc<ShardQuota>>>>,
}

impl StreamQuotas {
    /// The quota of shard `id`, created full at `now_ms` if it has none yet.
    fn shard(&self, id: ShardId, now_ms: i64) -> Arc<ShardQuota> {
        let i = id.0 as usize;
        if let Some(Some(q)) = self.shards.read().unwrap_or_else(|p| p.into_inner()).get(i) {
            return Arc::clone(q);
        }
        let mut shards = self.shards.write().unwrap_or_else(|p| p.into_inner());
        if shards.len() <= i {
            shards.resize(i + 1, None);
        }
        Arc::clone(shards[i].get_or_insert_with(|| Arc::new(ShardQuota::new(now_ms))))
    }
}

impl Streams {
    /// The quota of a shard, if this stream's shards are throttled at all.
    fn quota(&self, stream: &Stream, shard: ShardId) -> Option<Arc<ShardQuota>> {
        if !self.inner.opts.shard_quotas || stream.record().mode != StreamMode::Provisioned {
            return None;
        }
        Some(stream.quotas.shard(shard, self.now()))
    }

    /// `ProvisionedThroughputExceededException` for a shard.
    fn throttled(&self, stream: &Stream, shard: ShardId) -> Error {
        Error::ThroughputExceeded {
            shard,
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
        }
    }

    /// Applies the write quota to the shard groups of a PutRecords call: each group keeps the
    /// entries its shard admits, groups left empty are dropped, and the refused entries are
    /// returned with their failure outcome. `size(i)` is entry `i`'s data plus key bytes.
    pub(crate) fn throttle_put_groups(
        &self,
        stream: &Stream,
        groups: &mut Vec<(Arc<Shard>, Vec<usize>)>,
        size: impl Fn(usize) -> usize,
    ) -> Vec<(usize, PutOutcome)> {
        let mut refused = Vec::new();
        let now = self.now();
        for (shard, idx) in groups.iter_mut() {
            let Some(quota) = self.quota(stream, shard.id) else {
                continue;
            };
            let admitted = quota.admit_writes(idx.iter().map(|&i| size(i)), now);
            if admitted < idx.len() {
                let message = self.throttled(stream, shard.id).to_string();
                refused.extend(idx.drain(admitted..).map(|i| {
                    let outcome = PutOutcome::Failed {
                        code: THROTTLED_CODE,
                        message: message.clone(),
                    };
                    (i, outcome)
                }));
            }
        }
        groups.retain(|(_, idx)| !idx.is_empty());
        refused
    }

    /// Applies the write quota to one PutRecord.
    pub(crate) fn throttle_put(
        &self,
        stream: &Stream,
        shard: ShardId,
        size: usize,
    ) -> Result<(), Error> {
        match self.quota(stream, shard) {
            Some(q) if q.admit_writes([size], self.now()) == 0 => {
                Err(self.throttled(stream, shard))
            }
            _ => Ok(()),
        }
    }

    /// Applies the read quota to one GetRecords call before it reads; returns the quota to
    /// charge the returned bytes to, if the shard is throttled.
    pub(crate) fn throttle_read(
        &self,
        stream: &Stream,
        shard: ShardId,
    ) -> Result<Option<Arc<ShardQuota>>, Error> {
        match self.quota(stream, shard) {
            Some(q) if !q.admit_read(self.now()) => Err(self.throttled(stream, shard)),
            q => Ok(q),
        }
    }

    /// Charges the bytes a GetRecords call returned.
    pub(crate) fn charge_read(&self, quota: Option<&ShardQuota>, bytes: usize) {
        if let Some(q) = quota {
            q.charge_read(bytes, self.now());
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const T0: i64 = 1_800_000_000_000;
    const MIB: usize = 1024 * 1024;

    #[test]
    fn a_bucket_starts_full_and_refills_at_its_rate() {
        let mut b = TokenBucket::new(1000, 1000, T0);
        assert_eq!(b.tokens(), 1000);
        for _ in 0..1000 {
            assert!(b.try_take(1));
        }
        assert!(!b.try_take(1), "the second's burst is spent");
        b.refill(T0 + 1);
        assert!(b.try_take(1), "one record per millisecond at 1000/s");
        assert!(!b.try_take(1));
        b.refill(T0 + 10_000);
        assert_eq!(b.tokens(), 1000, "refill stops at one second of burst");
    }

    #[test]
    fn fractional_rates_accumulate_exactly() {
        // 5 tokens per second: one token every 200 ms, with no rounding loss in between.
        let mut b = TokenBucket::new(5, 1000, T0);
        for _ in 0..5 {
            assert!(b.try_take(1));
        }
        for ms in (1..200).step_by(7) {
            b.refill(T0 + ms);
            assert!(!b.can_take(1), "no token after {ms} ms");
        }
        b.refill(T0 + 200);
        assert!(b.try_take(1));
    }

    #[test]
    fn time_running_backwards_earns_nothing() {
        let mut b = TokenBucket::new(1000, 1000, T0);
        b.take(1000);
        b.refill(T0 - 60_000);
        assert_eq!(b.tokens(), 0);
        b.refill(T0 + 500);
        assert_eq!(b.tokens(), 500);
    }

    #[test]
    fn a_cost_above_capacity_needs_a_full_bucket_and_leaves_debt() {
        let mut b = TokenBucket::new(MIB as u64, 1000, T0);
        b.take(1);
        assert!(!b.try_take(10 * MIB as u64), "not full");
        b.refill(T0 + 1);
        assert!(
            b.try_take(10 * MIB as u64),
            "full: the large record goes through"
        );
        assert_eq!(b.tokens(), -9 * MIB as i64);
        b.refill(T0 + 8_999);
        assert!(!b.try_take(1));
        b.refill(T0 + 9_001);
        assert_eq!(b.tokens(), 0, "nine seconds repay nine MiB");
        b.refill(T0 + 9_002);
        assert!(b.try_take(1));
    }

    #[test]
    fn writes_over_one_thousand_records_in_a_second_are_refused() {
        let q = ShardQuota::new(T0);
        assert_eq!(q.admit_writes(std::iter::repeat_n(10, 1500), T0), 1000);
        assert_eq!(q.admit_writes([10], T0), 0);
        assert_eq!(q.admit_writes(std::iter::repeat_n(10, 600), T0 + 500), 500);
        assert_eq!(
            q.admit_writes(std::iter::repeat_n(10, 1000), T0 + 1500),
            1000
        );
    }

    #[test]
    fn writes_over_one_mebibyte_in_a_second_are_refused() {
        let q = ShardQuota::new(T0);
        let kib = 1024;
        assert_eq!(q.admit_writes(std::iter::repeat_n(256 * kib, 20), T0), 4);
        assert_eq!(q.admit_writes([1], T0), 0, "the mebibyte is spent");
        assert_eq!(q.admit_writes([kib], T0 + 1), 1, "1 ms earns 1048 bytes");
        assert_eq!(q.admit_writes([kib], T0 + 1), 0);
    }

    #[test]
    fn a_refused_write_stops_the_rest_of_the_shard_batch() {
        let q = ShardQuota::new(T0);
        assert_eq!(q.admit_writes([MIB - 100, 200, 10], T0), 1);
    }

    #[test]
    fn sustained_writes_at_the_limit_are_never_refused() {
        let q = ShardQuota::new(T0);
        // 100 records of 1 KiB every 100 ms = 1000 records/s and 1000 KiB/s.
        for step in 0..100 {
            let now = T0 + step * 100;
            assert_eq!(q.admit_writes(std::iter::repeat_n(1024, 100), now), 100);
        }
    }

    #[test]
    fn more_than_five_reads_in_a_second_are_refused() {
        let q = ShardQuota::new(T0);
        for _ in 0..5 {
            assert!(q.admit_read(T0));
        }
        assert!(!q.admit_read(T0));
        assert!(!q.admit_read(T0 + 199));
        assert!(q.admit_read(T0 + 200));
    }

    #[test]
    fn a_ten_mebibyte_read_blocks_reads_for_five_seconds() {
        let q = ShardQuota::new(T0);
        assert!(q.admit_read(T0));
        q.charge_read(10 * MIB, T0);
        assert!(!q.admit_read(T0 + 1_000));
        assert!(!q.admit_read(T0 + 4_999));
        assert!(q.admit_read(T0 + 5_000));
    }

    #[test]
    fn refused_reads_take_no_call_token() {
        let q = ShardQuota::new(T0);
        assert!(q.admit_read(T0));
        q.charge_read(2 * MIB, T0);
        for _ in 0..20 {
            assert!(!q.admit_read(T0 + 500));
        }
        for _ in 0..4 {
            assert!(q.admit_read(T0 + 1_000), "four call tokens are left");
        }
    }

    proptest! {
        /// Over any schedule, admitted writes never exceed one second of burst plus the rate
        /// times the elapsed time.
        #[test]
        fn admitted_writes_respect_burst_plus_rate(
            steps in proptest::collection::vec((0i64..300, 1usize..200, 1usize..20_000), 1..60)
        ) {
            let q = ShardQuota::new(T0);
            let (mut now, mut records, mut bytes) = (T0, 0u64, 0u64);
            for (dt, n, size) in steps {
                now += dt;
                let admitted = q.admit_writes(std::iter::repeat_n(size, n), now);
                prop_assert!(admitted <= n);
                records += admitted as u64;
                bytes += (admitted * size) as u64;
                let elapsed = (now - T0) as u64;
                prop_assert!(records <= 1000 + WRITE_RECORDS_PER_SEC * elapsed / 1000);
                prop_assert!(bytes <= WRITE_BYTES_PER_SEC + WRITE_BYTES_PER_SEC * elapsed / 1000);
            }
        }
    }
}
