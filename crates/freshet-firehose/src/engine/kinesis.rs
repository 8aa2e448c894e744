// SPDX-License-Identifier: Apache-2.0
//! [`KinesisSource`]: the [`Source`] of a `KinesisStreamAsSource` delivery stream, reading
//! its Kinesis data stream through the in-process stream reader
//! ([`freshet_kinesis::StreamReader`]) instead of GetRecords over HTTP.
//!
//! - The reader is named `firehose/<delivery stream id>` ([`reader_id`]), so a delivery
//!   stream deleted and created again under the same name starts a reader of its own, and
//!   `Firehose::remove` deletes it with the stream.
//! - With no committed position it starts at the time the delivery stream was created
//!   (`KinesisSource.start_ms`, as `AT_TIMESTAMP`): AWS starts reading at LATEST when the
//!   delivery stream is created, and a fixed time keeps a restart from skipping what arrived
//!   while Freshet was down.
//! - [`Source::next`] flattens one poll (at most one batch per readable shard) into one
//!   [`SourceBatch`] whose [`Position::Shards`] lists each shard batch's end, in poll order.
//!   A shard batch with no records that only finishes a closed shard is handed out too
//!   (a record-less `SourceBatch`): committing it is what makes a split's or merge's
//!   children readable, so parents' records always go out before their children's.
//! - KPL aggregates are de-aggregated as the KCL does (Firehose does so for this source
//!   before processing): one [`SourceRecord`] per user record, with the user record's
//!   partition key and its index as `subsequence_number`; a record with the magic but a bad
//!   digest or protobuf passes through whole ([`freshet_types::kpl::deaggregate`]).
//! - [`Source::commit`] commits each shard position in order, durably, before returning.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use freshet_kinesis::{ErrorKind, RecordOut, StartAt, StreamReader, StreamRef, Streams};
use freshet_types::kpl;

use crate::engine::source::{Position, Source, SourceBatch, SourceRecord};
use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::metrics::StreamMetrics;
use crate::rules::transform::KinesisRecordMetadata;
use crate::store::StreamRecord;

/// Most Kinesis records read from one shard per poll (GetRecords' default page is 10,000;
/// the reader also stops at about 10 MiB).
const POLL_RECORDS: u32 = 1000;

/// The stream reader id of delivery stream `stream_id`.
pub fn reader_id(stream_id: &str) -> String {
    format!("firehose/{stream_id}")
}

/// Reads a delivery stream's Kinesis source stream from its committed positions.
#[derive(Debug)]
pub struct KinesisSource {
    reader: StreamReader,
    /// The delivery stream's name, for logs.
    name: String,
    /// DataReadFromKinesisStream.* and KinesisMillisBehindLatest, once per poll.
    metrics: Arc<StreamMetrics>,
}

impl KinesisSource {
    /// Opens the reader of delivery stream `rec`: resumes from its committed positions, or
    /// starts at the time the delivery stream was created. Fails (delivery retries with
    /// back-off) when Kinesis is not available or the source stream does not exist.
    pub async fn open(fh: &Firehose, rec: &StreamRecord) -> Result<KinesisSource> {
        let Some(src) = &rec.kinesis else {
            return Err(Error::Storage(format!(
                "Firehose {} is KinesisStreamAsSource but has no source configuration.",
                rec.name
            )));
        };
        let Some(streams) = fh.peers().streams else {
            tracing::error!(stream = %rec.name, source = %src.stream_arn, "Kinesis streams are not available to Firehose; cannot read the source stream.");
            return Err(Error::InvalidSource(format!(
                "Firehose {} cannot read {}: Kinesis streams are not available.",
                rec.name, src.stream_arn
            )));
        };
        let sref = StreamRef {
            name: None,
            arn: Some(src.stream_arn.clone()),
        };
        let reader = streams
            .open_reader(&reader_id(&rec.id), &sref, StartAt::AtTimestamp(src.start_ms))
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::ResourceNotFound {
                    tracing::error!(stream = %rec.name, source = %src.stream_arn, error = %e, "The source Kinesis stream of a delivery stream does not exist.");
                }
                source_error(&rec.name, e)
            })?;
        Ok(KinesisSource {
            reader,
            name: rec.name.clone(),
            metrics: fh.stream_metrics(&rec.name),
        })
    }

    /// The reader (its id and committed positions).
    pub fn reader(&self) -> &StreamReader {
        &self.reader
    }
}

/// Deletes the reader of delivery stream `rec` if it reads a Kinesis stream (when it is
/// removed). Without Kinesis (a restart finishing a deletion before peers are set) the
/// reader's record stays behind: it is a few bytes under an id nothing reuses.
pub(crate) fn delete_reader(streams: Option<&Streams>, rec: &StreamRecord) -> Result<()> {
    if rec.kinesis.is_none() {
        return Ok(());
    }
    let Some(streams) = streams else {
        tracing::warn!(stream = %rec.name, "Kinesis streams are not available; the delivery stream's reader is left behind.");
        return Ok(());
    };
    streams
        .delete_reader(&reader_id(&rec.id))
        .map_err(|e| Error::Storage(e.to_string()))
}

fn source_error(name: &str, e: freshet_kinesis::Error) -> Error {
    match e.kind() {
        ErrorKind::ResourceNotFound => {
            Error::InvalidSource(format!("Firehose {name} cannot read its source: {e}"))
        }
        _ => Error::Storage(e.to_string()),
    }
}

/// Appends the source records of Kinesis record `r` of `shard_id` to `out`: one per user
/// record of a KPL aggregate, else the record itself.
pub fn push_records(out: &mut Vec<SourceRecord>, shard_id: &str, r: RecordOut) {
    let sequence_number = r.sequence.to_string();
    let meta = |partition_key: &str, subsequence_number: i64| KinesisRecordMetadata {
        shard_id: shard_id.to_owned(),
        partition_key: partition_key.to_owned(),
        approximate_arrival_ms: r.arrival_ms,
        sequence_number: sequence_number.clone(),
        subsequence_number,
    };
    if let Some(users) = kpl::deaggregate(&r.data) {
        out.reserve(users.len());
        for u in users {
            out.push(SourceRecord {
                data: r.data.slice_ref(u.data),
                arrival_ms: r.arrival_ms,
                kinesis: Some(meta(
                    u.partition_key,
                    i64::try_from(u.sub_sequence).unwrap_or(i64::MAX),
                )),
            });
        }
        return;
    }
    let kinesis = Some(meta(&r.partition_key, 0));
    out.push(SourceRecord {
        data: Bytes::clone(&r.data),
        arrival_ms: r.arrival_ms,
        kinesis,
    });
}

#[async_trait]
impl Source for KinesisSource {
    async fn next(&mut self, wait: Duration) -> Result<Option<SourceBatch>> {
        let batches = self
            .reader
            .poll_wait(POLL_RECORDS, wait)
            .await
            .map_err(|e| source_error(&self.name, e))?;
        if batches.is_empty() {
            return Ok(None);
        }
        let mut records = Vec::new();
        let mut position = Vec::with_capacity(batches.len());
        let mut bytes = 0u64;
        let mut read = 0u64;
        let mut behind: Option<i64> = None;
        for b in batches {
            read += b.records.len() as u64;
            behind = behind.max(Some(b.millis_behind_latest));
            if b.skipped > 0 {
                tracing::warn!(stream = %self.name, shard = %b.shard, skipped = b.skipped, "Records left the source stream's retention period before delivery read them.");
            }
            let shard_id = b.shard.to_string();
            for r in b.records {
                bytes += r.data.len() as u64;
                push_records(&mut records, &shard_id, r);
            }
            position.push((b.shard, b.next));
        }
        // Kinesis records as read (before KPL de-aggregation), and the furthest-behind shard.
        self.metrics.kinesis_read(read, bytes, behind);
        Ok(Some(SourceBatch {
            records,
            position: Position::Shards(position),
            bytes,
        }))
    }

    async fn commit(&mut self, position: Position, _bytes: u64) -> Result<()> {
        let Position::Shards(shards) = position else {
            return Err(Error::Storage(
                "a Kinesis source was given a DirectPut log position".to_owned(),
            ));
        };
        for (shard, next) in shards {
            self.reader
                .commit(shard, next)
                .await
                .map_err(|e| source_error(&self.name, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use freshet_types::{SequenceNumber, ShardId};
    use proptest::prelude::*;

    use super::*;

    fn record(key: &str, data: Vec<u8>) -> RecordOut {
        RecordOut {
            sequence: SequenceNumber::new(7, 0, 42),
            arrival_ms: 1_700_000_000_123,
            partition_key: key.to_owned(),
            data: Bytes::from(data),
            encrypted: false,
        }
    }

    fn flatten(r: RecordOut) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        push_records(&mut out, &ShardId(3).to_string(), r);
        out
    }

    #[test]
    fn a_plain_record_keeps_its_key_and_gets_subsequence_zero() {
        let r = record("k", b"hello".to_vec());
        let seq = r.sequence.to_string();
        let out = flatten(r);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data.as_ref(), b"hello");
        assert_eq!(out[0].arrival_ms, 1_700_000_000_123);
        assert_eq!(
            out[0].kinesis,
            Some(KinesisRecordMetadata {
                shard_id: "shardId-000000000003".to_owned(),
                partition_key: "k".to_owned(),
                approximate_arrival_ms: 1_700_000_000_123,
                sequence_number: seq,
                subsequence_number: 0,
            })
        );
    }

    #[test]
    fn an_aggregate_becomes_one_record_per_user_record_with_its_own_key() {
        let agg = kpl::aggregate([
            ("a", None, &b"one"[..]),
            ("b", None, &b"two"[..]),
            ("a", Some("5"), &b"three"[..]),
        ]);
        let r = record("outer", agg);
        let seq = r.sequence.to_string();
        let out = flatten(r);
        let got: Vec<(&[u8], &str, i64, &str)> = out
            .iter()
            .map(|s| {
                let k = s.kinesis.as_ref().expect("metadata");
                (
                    s.data.as_ref(),
                    k.partition_key.as_str(),
                    k.subsequence_number,
                    k.sequence_number.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (&b"one"[..], "a", 0, seq.as_str()),
                (&b"two"[..], "b", 1, seq.as_str()),
                (&b"three"[..], "a", 2, seq.as_str()),
            ]
        );
    }

    #[test]
    fn a_record_with_the_magic_but_a_bad_digest_passes_through_whole() {
        let mut agg = kpl::aggregate([("a", None, &b"one"[..])]);
        let last = agg.len() - 1;
        agg[last] ^= 0xFF;
        let out = flatten(record("outer", agg.clone()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data.as_ref(), agg.as_slice());
        let k = out[0].kinesis.as_ref().expect("metadata");
        assert_eq!(k.partition_key, "outer");
        assert_eq!(k.subsequence_number, 0);
    }

    #[test]
    fn an_empty_aggregate_yields_no_records() {
        let agg = kpl::aggregate(std::iter::empty());
        assert!(flatten(record("outer", agg)).is_empty());
    }

    #[test]
    fn reader_ids_are_keyed_by_the_stream_id() {
        assert_eq!(reader_id("abc123"), "firehose/abc123");
    }

    proptest! {
        #[test]
        fn any_aggregate_flattens_to_its_user_records_in_order(
            users in proptest::collection::vec(
                ("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 0..64)),
                1..20,
            )
        ) {
            let agg = kpl::aggregate(users.iter().map(|(k, d)| (k.as_str(), None, d.as_slice())));
            let out = flatten(record("outer", agg));
            prop_assert_eq!(out.len(), users.len());
            for (i, (s, (k, d))) in out.iter().zip(&users).enumerate() {
                let m = s.kinesis.as_ref().expect("metadata");
                prop_assert_eq!(s.data.as_ref(), d.as_slice());
                prop_assert_eq!(&m.partition_key, k);
                prop_assert_eq!(m.subsequence_number, i as i64);
            }
        }

        #[test]
        fn any_payload_yields_records_and_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..256),
            magic in any::<bool>(),
        ) {
            let mut data = data;
            if magic {
                let mut d = kpl::MAGIC.to_vec();
                d.extend_from_slice(&data);
                data = d;
            }
            let out = flatten(record("outer", data.clone()));
            if kpl::deaggregate(&data).is_none() {
                prop_assert_eq!(out.len(), 1);
                prop_assert_eq!(out[0].data.as_ref(), data.as_slice());
            }
        }
    }
}
