// SPDX-License-Identifier: Apache-2.0
//! Read-only control-plane calls: DescribeStream, DescribeStreamSummary, ListStreams and
//! ListShards, with their pagination tokens.

use freshet_types::limits::{
    DESCRIBE_STREAM_MAX_SHARDS, LIST_SHARDS_MAX, LIST_STREAMS_MAX, NEXT_TOKEN_TTL_MS,
};
use freshet_types::{SequenceNumber, ShardId};

use crate::model::{
    ListShards, ShardFilter, ShardInfo, ShardList, StreamDescription, StreamList, StreamRef,
    StreamSummary,
};
use crate::record::{ShardRecord, StreamRecord, StreamStatus};
use crate::state::{Stream, retention_start};
use crate::token::{TokenKind, put_str, take_i64, take_str};
use crate::{Error, Streams};

impl Streams {
    /// DescribeStream: the summary and one page of shards.
    pub fn describe_stream(
        &self,
        r: &StreamRef,
        limit: Option<u32>,
        exclusive_start_shard_id: Option<&str>,
    ) -> Result<StreamDescription, Error> {
        let stream = self.stream(r)?;
        let rec = stream.record().clone();
        let limit = limit
            .unwrap_or(DESCRIBE_STREAM_MAX_SHARDS)
            .min(DESCRIBE_STREAM_MAX_SHARDS) as usize;
        let after = exclusive_start_shard_id.map(shard_sort_key);
        // AWS lists no shards while a stream is CREATING, and the layout from before a split
        // or merge until the UPDATING it causes is over.
        let shown = match rec.status {
            StreamStatus::Creating => StreamRecord {
                shards: Vec::new(),
                ..rec.clone()
            },
            StreamStatus::Updating => match stream.layout_before_update() {
                Some(layout) => StreamRecord {
                    shards: layout,
                    ..rec.clone()
                },
                None => rec.clone(),
            },
            StreamStatus::Active | StreamStatus::Deleting => rec.clone(),
        };
        let mut shards: Vec<ShardInfo> = self
            .listable_shards(&stream, &shown)
            .filter(|s| {
                after
                    .as_ref()
                    .is_none_or(|a| shard_sort_key(&s.id.to_string()) > *a)
            })
            .collect();
        let has_more_shards = shards.len() > limit;
        shards.truncate(limit);
        Ok(StreamDescription {
            summary: self.summary_of(&stream, &rec),
            shards,
            has_more_shards,
        })
    }

    /// DescribeStreamSummary.
    pub fn describe_stream_summary(&self, r: &StreamRef) -> Result<StreamSummary, Error> {
        let stream = self.stream(r)?;
        let rec = stream.record().clone();
        Ok(self.summary_of(&stream, &rec))
    }

    /// ListStreams: streams in name order, paged by `ExclusiveStartStreamName` or `NextToken`.
    pub fn list_streams(
        &self,
        limit: Option<u32>,
        exclusive_start: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<StreamList, Error> {
        let now = self.now();
        let after = match next_token {
            Some(t) => Some(self.open_list_streams_token(t, now)?),
            None => exclusive_start.map(str::to_owned),
        };
        let limit = limit.unwrap_or(LIST_STREAMS_MAX).min(LIST_STREAMS_MAX) as usize;
        let map = self.streams();
        let range = match &after {
            Some(a) => {
                map.range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
            }
            None => map.range::<String, _>(..),
        };
        let mut streams = Vec::with_capacity(limit.min(map.len()));
        let mut has_more = false;
        for (_, s) in range {
            if streams.len() == limit {
                has_more = true;
                break;
            }
            let rec = s.record().clone();
            streams.push(self.summary_of(s, &rec));
        }
        drop(map);
        let next_token = match (has_more, streams.last()) {
            (true, Some(last)) => {
                let mut p = now.to_le_bytes().to_vec();
                put_str(&mut p, &last.name);
                Some(self.inner.key.seal(TokenKind::ListStreams, &p))
            }
            _ => None,
        };
        Ok(StreamList {
            streams,
            has_more,
            next_token,
        })
    }

    fn open_list_streams_token(&self, token: &str, now: i64) -> Result<String, Error> {
        let p = self
            .inner
            .key
            .open(TokenKind::ListStreams, token)
            .ok_or(Error::InvalidNextToken)?;
        let mut p = p.as_slice();
        let issued = take_i64(&mut p).ok_or(Error::InvalidNextToken)?;
        let after = take_str(&mut p).ok_or(Error::InvalidNextToken)?.to_owned();
        if now - issued > NEXT_TOKEN_TTL_MS {
            return Err(Error::NextTokenExpired {
                ttl_ms: NEXT_TOKEN_TTL_MS,
            });
        }
        Ok(after)
    }

    /// ListShards.
    pub fn list_shards(&self, req: &ListShards) -> Result<ShardList, Error> {
        let now = self.now();
        let named = req.stream.name.is_some() || req.stream.arn.is_some();
        // With a NextToken, everything else comes from the token.
        let (stream_ref, after, filter, creation_ms) = match &req.next_token {
            Some(token) => {
                if req.stream.name.is_some() {
                    return Err(Error::NextTokenWithStream);
                }
                if req.filter.is_some() {
                    return Err(Error::NextTokenWithShardFilter);
                }
                if req.exclusive_start_shard_id.is_some() {
                    return Err(Error::NextTokenWithExclusiveStart);
                }
                if req.stream_creation_ms.is_some() {
                    return Err(Error::NextTokenWithCreationTimestamp);
                }
                let t = self.open_list_shards_token(token, now)?;
                (
                    StreamRef::name(t.stream),
                    Some(t.after),
                    t.filter,
                    Some(t.created_ms),
                )
            }
            None => {
                if !named {
                    return Err(Error::NextTokenOrStreamRequired);
                }
                let mut after = req.exclusive_start_shard_id.clone();
                let filter = req.filter.clone().unwrap_or(ShardFilter::FromTrimHorizon);
                match &filter {
                    ShardFilter::AfterShardId(id) => after = Some(id.clone()),
                    ShardFilter::AtTimestamp(_)
                    | ShardFilter::FromTimestamp(_)
                    | ShardFilter::AtTrimHorizon
                    | ShardFilter::FromTrimHorizon
                    | ShardFilter::AtLatest => {}
                }
                (req.stream.clone(), after, filter, req.stream_creation_ms)
            }
        };
        let stream = self.stream(&stream_ref)?;
        let rec = stream.record().clone();
        // A token from a previous incarnation, or a timestamp that names another one, points
        // at a stream that no longer exists.
        match creation_ms {
            Some(ts) if ts != rec.created_ms && req.next_token.is_some() => {
                return Err(Error::InvalidNextToken);
            }
            Some(ts) if ts != rec.created_ms => {
                return Err(Error::CreationTimestampMismatch {
                    timestamp_ms: ts,
                    stream: stream.name.clone(),
                    account: self.inner.opts.account_id.clone(),
                });
            }
            _ => {}
        }
        let limit = req
            .max_results
            .unwrap_or(LIST_SHARDS_MAX)
            .min(LIST_SHARDS_MAX) as usize;
        let after_key = after.as_deref().map(shard_sort_key);
        let retention_start = retention_start(rec.retention_hours, now);
        let listed =
            |s: &ShardRecord| !s.expired && s.closed_ms.is_none_or(|c| c >= retention_start);
        // Shards open at `ts` that hold its records: created by then (the initial shards when
        // `ts` is before the stream) and not closed before it. A shard whose parent also
        // qualifies is left out, so the answer is where a consumer starts: it reaches the
        // child through the parent's end, never reading both at once (which would break
        // per-key order when a reshard falls in the same millisecond as `ts`).
        let open_at = |ts: i64| -> Vec<bool> {
            let live: Vec<bool> = rec
                .shards
                .iter()
                .map(|s| {
                    listed(s)
                        && s.created_ms <= ts.max(rec.created_ms)
                        && s.closed_ms.is_none_or(|c| c >= ts)
                })
                .collect();
            let is_live = |p: Option<u32>| p.is_some_and(|p| live.get(p as usize) == Some(&true));
            rec.shards
                .iter()
                .zip(&live)
                .map(|(s, &l)| l && !is_live(s.parent) && !is_live(s.adjacent_parent))
                .collect()
        };
        let starts = match filter {
            ShardFilter::AtTrimHorizon => Some(open_at(retention_start)),
            ShardFilter::AtTimestamp(ts) => Some(open_at(ts)),
            ShardFilter::AtLatest
            | ShardFilter::FromTrimHorizon
            | ShardFilter::AfterShardId(_)
            | ShardFilter::FromTimestamp(_) => None,
        };
        let mut shards: Vec<ShardInfo> = rec
            .shards
            .iter()
            .filter(|s| {
                after_key
                    .as_ref()
                    .is_none_or(|a| shard_sort_key(&ShardId(s.index).to_string()) > *a)
            })
            .filter(|s| listed(s))
            .filter(|s| match filter {
                ShardFilter::AtLatest => s.is_open(),
                ShardFilter::AtTrimHorizon | ShardFilter::AtTimestamp(_) => starts
                    .as_ref()
                    .is_some_and(|st| st.get(s.index as usize) == Some(&true)),
                ShardFilter::FromTrimHorizon | ShardFilter::AfterShardId(_) => true,
                ShardFilter::FromTimestamp(ts) => s.closed_ms.is_none_or(|c| c >= ts),
            })
            .map(|s| self.shard_info(&stream, s))
            .collect();
        let more = shards.len() > limit;
        shards.truncate(limit);
        let next_token = match (more, shards.last()) {
            (true, Some(last)) => Some(self.seal_list_shards_token(&ListShardsToken {
                stream: stream.name.clone(),
                after: last.id.to_string(),
                filter,
                created_ms: rec.created_ms,
                issued_ms: now,
            })),
            _ => None,
        };
        Ok(ShardList { shards, next_token })
    }

    fn seal_list_shards_token(&self, t: &ListShardsToken) -> String {
        let mut p = Vec::new();
        p.extend_from_slice(&t.issued_ms.to_le_bytes());
        p.extend_from_slice(&t.created_ms.to_le_bytes());
        put_str(&mut p, &t.stream);
        put_str(&mut p, &t.after);
        let (kind, arg): (u8, i64) = match &t.filter {
            ShardFilter::AfterShardId(_) | ShardFilter::FromTrimHorizon => (0, 0),
            ShardFilter::AtTrimHorizon => (1, 0),
            ShardFilter::AtLatest => (2, 0),
            ShardFilter::AtTimestamp(ts) => (3, *ts),
            ShardFilter::FromTimestamp(ts) => (4, *ts),
        };
        p.push(kind);
        p.extend_from_slice(&arg.to_le_bytes());
        self.inner.key.seal(TokenKind::ListShards, &p)
    }

    fn open_list_shards_token(&self, token: &str, now: i64) -> Result<ListShardsToken, Error> {
        let raw = self
            .inner
            .key
            .open(TokenKind::ListShards, token)
            .ok_or(Error::InvalidNextToken)?;
        let mut p = raw.as_slice();
        let bad = || Error::InvalidNextToken;
        let issued_ms = take_i64(&mut p).ok_or_else(bad)?;
        let created_ms = take_i64(&mut p).ok_or_else(bad)?;
        let stream = take_str(&mut p).ok_or_else(bad)?.to_owned();
        let after = take_str(&mut p).ok_or_else(bad)?.to_owned();
        let kind = *p.first().ok_or_else(bad)?;
        p = &p[1..];
        let arg = take_i64(&mut p).ok_or_else(bad)?;
        let filter = match kind {
            0 => ShardFilter::FromTrimHorizon,
            1 => ShardFilter::AtTrimHorizon,
            2 => ShardFilter::AtLatest,
            3 => ShardFilter::AtTimestamp(arg),
            4 => ShardFilter::FromTimestamp(arg),
            _ => return Err(bad()),
        };
        if now - issued_ms > NEXT_TOKEN_TTL_MS {
            return Err(Error::NextTokenExpired {
                ttl_ms: NEXT_TOKEN_TTL_MS,
            });
        }
        Ok(ListShardsToken {
            stream,
            after,
            filter,
            created_ms,
            issued_ms,
        })
    }

    /// Shards DescribeStream lists: open ones and closed ones still within retention.
    fn listable_shards<'a>(
        &'a self,
        stream: &'a Stream,
        rec: &'a StreamRecord,
    ) -> impl Iterator<Item = ShardInfo> + 'a {
        let retention_start = retention_start(rec.retention_hours, self.now());
        rec.shards
            .iter()
            .filter(move |s| !s.expired && s.closed_ms.is_none_or(|c| c >= retention_start))
            .map(move |s| self.shard_info(stream, s))
    }

    fn shard_info(&self, stream: &Stream, s: &crate::record::ShardRecord) -> ShardInfo {
        let id = ShardId(s.index);
        ShardInfo {
            id,
            parent: s.parent.map(ShardId),
            adjacent_parent: s.adjacent_parent.map(ShardId),
            hash_range: crate::state::range_of(s),
            starting_sequence: SequenceNumber::new(stream.incarnation, s.index, 0),
            // The last record's number (the start's for an empty shard): every record of the
            // closed shard is at or below it, and every child's numbers are above it.
            ending_sequence: s
                .closed_ms
                .map(|_| stream.seq(id, s.ending_offset.unwrap_or(0).saturating_sub(1))),
        }
    }

    fn summary_of(&self, stream: &Stream, rec: &StreamRecord) -> StreamSummary {
        StreamSummary {
            name: rec.name.clone(),
            arn: stream.arn.clone(),
            status: rec.status,
            mode: rec.mode,
            retention_hours: rec.retention_hours,
            created_ms: rec.created_ms,
            open_shard_count: rec.shards.iter().filter(|s| s.is_open()).count() as u32,
            consumer_count: rec.consumers.len() as u32,
            max_record_size_kib: rec.max_record_size_kib,
            encryption_key_id: rec.encryption_key_id.clone(),
            shard_level_metrics: rec.shard_level_metrics.clone(),
            warm_throughput: rec.warm_throughput,
        }
    }
}

struct ListShardsToken {
    stream: String,
    after: String,
    filter: ShardFilter,
    created_ms: i64,
    issued_ms: i64,
}

/// Orders shard ids the way AWS pages them: by parsed index when the id parses, otherwise by
/// the raw string (which sorts unparsable ids consistently).
fn shard_sort_key(id: &str) -> (u64, String) {
    match ShardId::parse(id) {
        Some(s) => (u64::from(s.0), String::new()),
        None => (u64::MAX, id.to_owned()),
    }
}
