// SPDX-License-Identifier: Apache-2.0
//! The data plane: PutRecord(s), GetShardIterator and GetRecords.
//!
//! A put routes each record to the open shard owning its hash key, groups the records by
//! shard, and appends each group as one batch; the groups are appended concurrently, so one
//! PutRecords call costs one shared fsync, not one per shard. Reads are positioned by opaque
//! iterators (see [`crate::token`]) and never return records older than the retention period.

use std::sync::Arc;

use freshet_log::{LogError, RecordIn};
use freshet_types::limits::{MAX_GET_RECORDS_BYTES, MAX_GET_RECORDS_LIMIT, MAX_PUT_RECORDS_BYTES};
use freshet_types::{SequenceNumber, ShardId, partition_key_hash};
use futures_util::future::join_all;

use crate::metrics::{PutRecordsOutcome, elapsed_ms};
use crate::model::{
    GetShardIterator, IteratorStart, PutEntry, PutOutcome, PutResult, RecordOut, RecordsPage,
    ShardRead, StreamRef,
};
use crate::quota::THROTTLED_CODE;
use crate::state::{Shard, ShardSet, Stream, retention_start};
use crate::token::ShardIterator;
use crate::{Error, Streams};

impl Streams {
    /// PutRecords: every entry is stored or fails on its own; the answer is aligned with
    /// `entries`. Validation failures (size) fail the whole request.
    pub async fn put_records(
        &self,
        r: &StreamRef,
        entries: &[PutEntry<'_>],
    ) -> Result<Vec<PutOutcome>, Error> {
        let stream = self.data_stream(r)?;
        let started = std::time::Instant::now();
        let result = self.put_records_on(&stream, entries).await;
        let outcome = result.as_ref().ok().map(|out| {
            let mut o = PutRecordsOutcome {
                total: entries.len() as u64,
                ..PutRecordsOutcome::default()
            };
            for (e, outcome) in entries.iter().zip(out) {
                match outcome {
                    PutOutcome::Stored { .. } => {
                        o.stored += 1;
                        o.stored_bytes += (e.data.len() + e.partition_key.len()) as u64;
                    }
                    PutOutcome::Failed { code, .. } if *code == THROTTLED_CODE => o.throttled += 1,
                    PutOutcome::Failed { .. } => {}
                }
            }
            o
        });
        stream.metrics.put_records(outcome, elapsed_ms(started));
        result
    }

    async fn put_records_on(
        &self,
        stream: &Arc<Stream>,
        entries: &[PutEntry<'_>],
    ) -> Result<Vec<PutOutcome>, Error> {
        let stream = stream.clone();
        let max = stream.record().max_record_size_kib as usize * 1024;
        let mut total = 0usize;
        for e in entries {
            let size = e.data.len() + e.partition_key.len();
            if size > max {
                return Err(self.too_large(&stream, size, max));
            }
            total += size;
        }
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(Error::RequestTooLarge);
        }
        // Held until every append resolved, so a reshard cannot close a shard under it.
        let _gate = stream.gate.read().await;
        let shards = stream.shards();
        // Group entry indexes by shard, keeping request order within each group: a stable
        // sort by shard index makes each group contiguous.
        let mut routed: Vec<(u32, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let hash = e
                    .explicit_hash_key
                    .unwrap_or_else(|| partition_key_hash(e.partition_key));
                (shards.route(hash).id.0, i)
            })
            .collect();
        routed.sort_by_key(|&(shard, _)| shard);
        let mut groups: Vec<(Arc<Shard>, Vec<usize>)> = Vec::new();
        for (shard, i) in routed {
            match groups.last_mut() {
                Some((s, idx)) if s.id.0 == shard => idx.push(i),
                _ => {
                    let s = shards.get(ShardId(shard)).cloned().ok_or_else(|| {
                        Error::Storage(format!("routing chose a missing shard {}", ShardId(shard)))
                    })?;
                    groups.push((s, vec![i]));
                }
            }
        }
        let size = |i: usize| entries[i].data.len() + entries[i].partition_key.len();
        let throttled = self.throttle_put_groups(&stream, &mut groups, size);
        if !throttled.is_empty() {
            self.count_throttled_writes(&stream, &shards, entries, &throttled);
        }
        let now = self.now();
        let appends = groups.iter().map(|(shard, idx)| {
            let batch: Vec<RecordIn<'_>> = idx
                .iter()
                .map(|&i| RecordIn {
                    partition_key: entries[i].partition_key,
                    data: entries[i].data,
                })
                .collect();
            let bytes = batch
                .iter()
                .map(|r| r.data.len() + r.partition_key.len())
                .sum::<usize>();
            shard.written.add(bytes as u64, batch.len() as u64);
            async move { shard.log.append(&batch, now).await }
        });
        let results = join_all(appends).await;
        let mut out = vec![None; entries.len()];
        for (i, outcome) in throttled {
            out[i] = Some(outcome);
        }
        for ((shard, idx), result) in groups.iter().zip(results) {
            match result {
                Ok(appended) => {
                    if let Some(m) = stream.metrics.shard(shard.id.0) {
                        let bytes: usize = idx.iter().map(|&i| size(i)).sum();
                        m.incoming_bytes.record(bytes as f64);
                        m.incoming_records.record(idx.len() as f64);
                    }
                    let encryption = self.shard_encryption(&stream, shard.id.0);
                    for (k, &i) in idx.iter().enumerate() {
                        let offset = appended.first_offset + k as u64;
                        out[i] = Some(PutOutcome::Stored {
                            shard: shard.id,
                            sequence: stream.seq(shard.id, offset),
                            encrypted: encryption.encrypted(offset),
                        });
                    }
                }
                Err(err) => {
                    let message = self.append_error(&stream, shard, err).to_string();
                    for &i in idx {
                        out[i] = Some(PutOutcome::Failed {
                            code: "InternalFailure",
                            message: message.clone(),
                        });
                    }
                }
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Counts the records the write quota refused against their shards'
    /// WriteProvisionedThroughputExceeded, when shard-level metrics are on.
    fn count_throttled_writes(
        &self,
        stream: &Stream,
        shards: &ShardSet,
        entries: &[PutEntry<'_>],
        throttled: &[(usize, PutOutcome)],
    ) {
        if !stream.metrics.shard_level_on() {
            return;
        }
        let mut per_shard: Vec<(u32, u64)> = Vec::new();
        for (i, _) in throttled {
            let e = &entries[*i];
            let hash = e
                .explicit_hash_key
                .unwrap_or_else(|| partition_key_hash(e.partition_key));
            let id = shards.route(hash).id.0;
            match per_shard.iter_mut().find(|(s, _)| *s == id) {
                Some((_, n)) => *n += 1,
                None => per_shard.push((id, 1)),
            }
        }
        for (id, n) in per_shard {
            if let Some(m) = stream.metrics.shard(id) {
                m.write_exceeded.record(n as f64);
            }
        }
    }

    /// PutRecord. `sequence_for_ordering`, when given, must be a sequence number of this
    /// stream; the new record's number is always greater than every number the shard issued
    /// before, which is the guarantee it asks for.
    pub async fn put_record(
        &self,
        r: &StreamRef,
        entry: PutEntry<'_>,
        sequence_for_ordering: Option<&str>,
    ) -> Result<PutResult, Error> {
        let stream = self.data_stream(r)?;
        let started = std::time::Instant::now();
        let size = (entry.data.len() + entry.partition_key.len()) as u64;
        let result = self
            .put_record_on(&stream, entry, sequence_for_ordering)
            .await;
        let throttled = matches!(result, Err(Error::ThroughputExceeded { .. }));
        stream.metrics.put_record(
            result.is_ok().then_some(size),
            throttled,
            elapsed_ms(started),
        );
        result
    }

    async fn put_record_on(
        &self,
        stream: &Stream,
        entry: PutEntry<'_>,
        sequence_for_ordering: Option<&str>,
    ) -> Result<PutResult, Error> {
        if let Some(s) = sequence_for_ordering {
            let ok = s == "0"
                || SequenceNumber::parse(s).is_some_and(|q| q.incarnation == stream.incarnation);
            if !ok {
                return Err(Error::InvalidSequenceForOrdering {
                    sequence: s.to_owned(),
                    stream: stream.name.clone(),
                    account: self.inner.opts.account_id.clone(),
                });
            }
        }
        let max = stream.record().max_record_size_kib as usize * 1024;
        let size = entry.data.len() + entry.partition_key.len();
        if size > max {
            return Err(self.too_large(stream, size, max));
        }
        let hash = entry
            .explicit_hash_key
            .unwrap_or_else(|| partition_key_hash(entry.partition_key));
        let _gate = stream.gate.read().await;
        let shard = stream.shards().route(hash).clone();
        let shard_metrics = stream.metrics.shard(shard.id.0);
        if let Err(e) = self.throttle_put(stream, shard.id, size) {
            if let Some(m) = &shard_metrics {
                m.write_exceeded.record(1.0);
            }
            return Err(e);
        }
        let record = [RecordIn {
            partition_key: entry.partition_key,
            data: entry.data,
        }];
        shard.written.add(size as u64, 1);
        match shard.log.append(&record, self.now()).await {
            Ok(a) => Ok({
                if let Some(m) = &shard_metrics {
                    m.incoming_bytes.record(size as f64);
                    m.incoming_records.record(1.0);
                }
                PutResult {
                    shard: shard.id,
                    sequence: stream.seq(shard.id, a.first_offset),
                    encrypted: self
                        .shard_encryption(stream, shard.id.0)
                        .encrypted(a.first_offset),
                }
            }),
            Err(err) => Err(self.append_error(stream, &shard, err)),
        }
    }

    /// GetShardIterator.
    pub fn get_shard_iterator(
        &self,
        req: &GetShardIterator,
        start: IteratorStart,
    ) -> Result<String, Error> {
        let stream = self
            .data_stream(&req.stream)
            .map_err(|e| shard_wording(e, &req.shard_id))?;
        let shard = self.find_shard(&stream, &req.shard_id)?;
        let now = self.now();
        let offset = self.start_offset(&stream, &shard, start, now)?;
        let it = ShardIterator {
            stream: stream.name.clone(),
            incarnation: stream.incarnation,
            shard: shard.id,
            offset,
            issued_ms: now,
            nonce: self.next_nonce(),
        };
        Ok(it.encode(&self.inner.key))
    }

    /// The offset a starting position resolves to in `shard` at `now` (GetShardIterator and
    /// SubscribeToShard).
    pub(crate) fn start_offset(
        &self,
        stream: &Stream,
        shard: &Shard,
        start: IteratorStart,
        now: i64,
    ) -> Result<u64, Error> {
        let retention_start = retention_start(stream.record().retention_hours, now);
        let log = &shard.log;
        let trim_horizon = || log.offset_at_time(retention_start).max(log.start_offset());
        let offset = match start {
            IteratorStart::AtSequence(s) => self
                .sequence_offset(stream, shard, s)?
                .min(log.next_offset()),
            IteratorStart::AfterSequence(s) => self
                .sequence_offset(stream, shard, s)?
                .saturating_add(1)
                .min(log.next_offset()),
            IteratorStart::TrimHorizon => trim_horizon(),
            IteratorStart::Latest => log.next_offset(),
            IteratorStart::AtTimestamp(ts) => {
                if ts > now {
                    return Err(Error::TimestampInFuture {
                        timestamp_ms: ts,
                        now_ms: now,
                    });
                }
                log.offset_at_time(ts.max(retention_start))
                    .max(trim_horizon())
            }
        };
        Ok(offset)
    }

    /// GetRecords.
    pub fn get_records(&self, iterator: &str, limit: Option<u32>) -> Result<RecordsPage, Error> {
        let it = ShardIterator::decode(&self.inner.key, iterator).ok_or(Error::InvalidIterator)?;
        let now = self.now();
        let ttl = self.inner.opts.iterator_ttl_ms;
        if now - it.issued_ms > ttl {
            return Err(Error::IteratorExpired {
                created_ms: it.issued_ms,
                now_ms: now,
                ttl_ms: ttl,
            });
        }
        let stream = self
            .streams()
            .get(&it.stream)
            .filter(|s| s.incarnation == it.incarnation)
            .cloned()
            .ok_or_else(|| self.not_found(&it.stream))?;
        let started = std::time::Instant::now();
        let shards = stream.shards();
        let shard = self.shard_in(&stream, &shards, it.shard)?;
        let shard_metrics = stream.metrics.shard(shard.id.0);
        let m = &stream.metrics;
        let quota = match self.throttle_read(&stream, shard.id) {
            Ok(q) => q,
            Err(e) => {
                m.read_exceeded.record(1.0);
                m.get_records_success.record(0.0);
                if let Some(sm) = &shard_metrics {
                    sm.read_exceeded.record(1.0);
                }
                return Err(e);
            }
        };
        let read = match self.read_page(&stream, &shards, shard, it.offset, limit) {
            Ok(read) => read,
            Err(e) => {
                m.get_records_success.record(0.0);
                return Err(e);
            }
        };
        let read_bytes: usize = read
            .records
            .iter()
            .map(|r| r.data.len() + r.partition_key.len())
            .sum();
        self.charge_read(quota.as_deref(), read_bytes);
        // AWS: now − arrival of the last record returned; 0 once the reader is caught up.
        let caught_up = read
            .next_offset
            .is_none_or(|o| o >= shard.log.next_offset());
        let iterator_age = match read.records.last() {
            Some(last) if !caught_up => (now - last.arrival_ms).max(0),
            _ => 0,
        } as f64;
        let records = read.records.len() as f64;
        m.get_records_success.record(1.0);
        m.read_exceeded.record(0.0);
        m.get_records_bytes.record(read_bytes as f64);
        m.get_records_records.record(records);
        m.get_records_iterator_age.record(iterator_age);
        m.get_records_latency.record(elapsed_ms(started));
        if let Some(sm) = &shard_metrics {
            sm.outgoing_bytes.record(read_bytes as f64);
            sm.outgoing_records.record(records);
            sm.iterator_age.record(iterator_age);
            sm.read_exceeded.record(0.0);
        }
        let next_iterator = read.next_offset.map(|offset| {
            ShardIterator {
                offset,
                issued_ms: now,
                nonce: self.next_nonce(),
                ..it.clone()
            }
            .encode(&self.inner.key)
        });
        Ok(RecordsPage {
            records: read.records,
            next_iterator,
            millis_behind_latest: read.millis_behind_latest,
            child_shards: read.child_shards,
        })
    }

    /// Reads one page of a shard from `offset`: the domain form of GetRecords for callers that
    /// keep their own position. At the end of a closed shard the answer has no `next_offset`
    /// and lists the shard's children; a consumer that reads a parent to its end before its
    /// children sees every record once, in per-key order.
    pub fn read_shard(
        &self,
        r: &StreamRef,
        shard: ShardId,
        offset: u64,
        limit: Option<u32>,
    ) -> Result<ShardRead, Error> {
        let stream = self.data_stream(r)?;
        let shards = stream.shards();
        let shard = self.shard_in(&stream, &shards, shard)?;
        self.read_page(&stream, &shards, shard, offset, limit)
    }

    fn shard_in<'a>(
        &self,
        stream: &Stream,
        shards: &'a ShardSet,
        id: ShardId,
    ) -> Result<&'a Arc<Shard>, Error> {
        shards.get(id).ok_or_else(|| Error::ShardNotFound {
            shard: id,
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
        })
    }

    pub(crate) fn read_page(
        &self,
        stream: &Stream,
        shards: &ShardSet,
        shard: &Shard,
        offset: u64,
        limit: Option<u32>,
    ) -> Result<ShardRead, Error> {
        let retention_start = retention_start(stream.record().retention_hours, self.now());
        let limit = limit
            .unwrap_or(MAX_GET_RECORDS_LIMIT)
            .min(MAX_GET_RECORDS_LIMIT) as usize;
        let batch = shard
            .log
            .read(offset, limit, MAX_GET_RECORDS_BYTES, retention_start)
            .map_err(|e| Error::Storage(e.to_string()))?;
        let tip = shard.log.next_offset();
        // A closed shard ends once nothing is left before its end: an empty page (the read
        // returns at least one record when any is left) or a page that reaches the end.
        let at_end = shard
            .end_offset
            .is_some_and(|end| batch.records.is_empty() || batch.next_offset >= end);
        // How far the consumer is from the tip once it has processed this page: zero when the
        // page ends at the tip, else the age gap between its last record and the newest. The
        // tip of a closed shard has moved on to the open shards.
        let newest = match shard.end_offset {
            None => shard.log.last_arrival_ms(),
            Some(_) => shards
                .open_by_hash
                .iter()
                .filter_map(|s| s.log.last_arrival_ms())
                .max(),
        };
        let behind_tip = shard.end_offset.is_some() || batch.next_offset < tip;
        let millis_behind_latest = match (batch.records.last(), newest) {
            (Some(last), Some(newest)) if behind_tip => (newest - last.arrival_ms).max(0),
            _ => 0,
        };
        let encryption = self.shard_encryption(stream, shard.id.0);
        let records = batch
            .records
            .into_iter()
            .map(|r| RecordOut {
                sequence: stream.seq(shard.id, r.offset),
                arrival_ms: r.arrival_ms,
                partition_key: r.partition_key,
                data: r.data,
                encrypted: encryption.encrypted(r.offset),
            })
            .collect();
        Ok(ShardRead {
            records,
            next_offset: (!at_end).then_some(batch.next_offset),
            millis_behind_latest,
            child_shards: if at_end {
                shards.children(shard.id)
            } else {
                Vec::new()
            },
        })
    }

    /// The offset a StartingSequenceNumber names, if this stream issued it for this shard.
    fn sequence_offset(&self, stream: &Stream, shard: &Shard, s: String) -> Result<u64, Error> {
        match SequenceNumber::parse(&s) {
            Some(q) if q.incarnation == stream.incarnation && q.shard == shard.id.0 => Ok(q.offset),
            Some(q) if q.incarnation == stream.incarnation => Err(Error::SequenceOfOtherShard {
                encodes: ShardId(q.shard),
                used: shard.id,
            }),
            parsed => Err(Error::InvalidStartingSequence {
                foreign: parsed.is_some(),
                sequence: s,
                shard: shard.id,
                stream: stream.name.clone(),
                account: self.inner.opts.account_id.clone(),
            }),
        }
    }

    pub(crate) fn find_shard(&self, stream: &Stream, raw: &str) -> Result<Arc<Shard>, Error> {
        let account = || self.inner.opts.account_id.clone();
        let id = ShardId::parse(raw).ok_or_else(|| Error::ShardUnparsable {
            raw: raw.to_owned(),
            stream: stream.name.clone(),
            account: account(),
        })?;
        stream
            .shards()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::ShardNotFound {
                shard: id,
                stream: stream.name.clone(),
                account: account(),
            })
    }

    fn too_large(&self, stream: &Stream, size: usize, max: usize) -> Error {
        Error::RecordTooLarge {
            size,
            max,
            stream: stream.name.clone(),
            account: self.inner.opts.account_id.clone(),
        }
    }

    fn append_error(&self, stream: &Stream, shard: &Shard, err: LogError) -> Error {
        match err {
            LogError::Closed => self.not_found(&stream.name),
            LogError::Poisoned { .. } => Error::ShardReadOnly {
                shard: shard.id,
                stream: stream.name.clone(),
                reason: err.to_string(),
            },
            other => Error::Storage(other.to_string()),
        }
    }
}

/// AWS answers GetShardIterator on a missing stream with the shard wording ("Shard ... does
/// not exist", or "Could not find shard ..." for an id it cannot parse) rather than "Stream
/// ... not found". Other errors pass through.
pub(crate) fn shard_wording(e: Error, raw_shard: &str) -> Error {
    match e {
        Error::StreamNotFound { stream, account } => match ShardId::parse(raw_shard) {
            Some(shard) => Error::ShardNotFound {
                shard,
                stream,
                account,
            },
            None => Error::ShardUnparsable {
                raw: raw_shard.to_owned(),
                stream,
                account,
            },
        },
        other => other,
    }
}

/// SplitShard and MergeShards check the shard id before the stream: on a missing stream, an
/// id that does not parse (not digits after the dash, or beyond 2147483647) gets "Could not
/// find shard ..."; a valid id gets "Stream ... not found" (both recorded from AWS).
pub(crate) fn unparsable_shard_first(e: Error, raw_shard: &str) -> Error {
    match e {
        Error::StreamNotFound { stream, account } if ShardId::parse(raw_shard).is_none() => {
            Error::ShardUnparsable {
                raw: raw_shard.to_owned(),
                stream,
                account,
            }
        }
        other => other,
    }
}
