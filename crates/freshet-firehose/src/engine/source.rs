// SPDX-License-Identifier: Apache-2.0
//! Where a delivery stream's records come from, behind one [`Source`] trait: the stream's
//! own DirectPut log ([`DirectPutSource`]) or a Kinesis data stream read through the
//! in-process stream reader (`kinesis::KinesisSource`).
//!
//! Contract: [`Source::next`] hands out batches in order, each with the [`Position`] that
//! says "everything up to and including this batch"; the pipeline calls [`Source::commit`]
//! with a batch's position only once every record of that batch **and of every earlier
//! batch** is safe in the destination (or its error output), and always in batch order. A
//! source makes a committed position durable before `commit` returns, and after a restart
//! starts again from the last committed position: records after it are delivered again (at
//! least once, never skipped).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use freshet_kinesis::ShardPosition;
use freshet_types::ShardId;

use crate::error::{Error, Result};
use crate::firehose::{Firehose, Live, blocking};
use crate::rules::transform::KinesisRecordMetadata;
use crate::store::Checkpoint;

/// Most records read from the DirectPut log at once.
const READ_RECORDS: usize = 1000;
/// About the most bytes read from the DirectPut log at once.
const READ_BYTES: usize = 4 << 20;

/// One record as the source gives it, before any processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The payload.
    pub data: Bytes,
    /// When it arrived (DirectPut: Firehose's arrival; Kinesis: the stream's
    /// ApproximateArrivalTimestamp), ms since the epoch.
    pub arrival_ms: i64,
    /// Kinesis source only: where the record came from (one per KPL user record).
    pub kinesis: Option<KinesisRecordMetadata>,
}

/// What a committed batch covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// DirectPut: every log offset below this one.
    Log(u64),
    /// Kinesis: per shard, the position after the batch (commit in this order).
    Shards(Vec<(ShardId, ShardPosition)>),
}

/// A batch of records and the position to commit once they are delivered.
#[derive(Debug, Clone)]
pub struct SourceBatch {
    /// The records, in source order.
    pub records: Vec<SourceRecord>,
    /// The position after this batch.
    pub position: Position,
    /// Bytes the batch holds as the source counts them (DirectPut's undelivered budget).
    pub bytes: u64,
}

/// A source of records for one delivery stream.
#[async_trait]
pub trait Source: Send {
    /// The next batch, waiting up to `wait` for records; `None` when none came.
    async fn next(&mut self, wait: Duration) -> Result<Option<SourceBatch>>;

    /// Makes `position` (of batches covering `bytes`) durable: delivery resumes after it.
    async fn commit(&mut self, position: Position, bytes: u64) -> Result<()>;
}

/// Reads a stream's DirectPut log from its checkpoint.
pub struct DirectPutSource {
    fh: Firehose,
    id: String,
    live: Arc<Live>,
    cursor: u64,
    visible: tokio::sync::watch::Receiver<u64>,
}

impl DirectPutSource {
    /// Opens the log of stream `id` at its checkpoint.
    pub fn new(fh: &Firehose, id: &str, live: Arc<Live>) -> Result<DirectPutSource> {
        let cursor = fh.checkpoint(id)?.next_offset.max(live.log.start_offset());
        Ok(DirectPutSource {
            fh: fh.clone(),
            id: id.to_owned(),
            visible: live.log.watch_visible(),
            live,
            cursor,
        })
    }

    fn read(&mut self) -> Result<Option<SourceBatch>> {
        let batch = self
            .live
            .log
            .read(self.cursor, READ_RECORDS, READ_BYTES, i64::MIN)
            .map_err(Error::from)?;
        self.cursor = batch.next_offset.max(self.cursor);
        if batch.records.is_empty() {
            return Ok(None);
        }
        let bytes = batch.records.iter().map(|r| r.data.len() as u64).sum();
        let records = batch
            .records
            .into_iter()
            .map(|r| SourceRecord {
                data: r.data,
                arrival_ms: r.arrival_ms,
                kinesis: None,
            })
            .collect();
        Ok(Some(SourceBatch {
            records,
            position: Position::Log(self.cursor),
            bytes,
        }))
    }
}

#[async_trait]
impl Source for DirectPutSource {
    async fn next(&mut self, wait: Duration) -> Result<Option<SourceBatch>> {
        // Mark the current value seen before reading, so an append in between still wakes us.
        self.visible.borrow_and_update();
        if let Some(b) = self.read()? {
            return Ok(Some(b));
        }
        tokio::select! {
            r = self.visible.changed() => {
                if r.is_err() {
                    tokio::time::sleep(wait).await;
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
        self.read()
    }

    async fn commit(&mut self, position: Position, bytes: u64) -> Result<()> {
        let Position::Log(next_offset) = position else {
            return Err(Error::Storage(
                "a DirectPut source was given a shard position".to_owned(),
            ));
        };
        let cp = Checkpoint {
            next_offset,
            reader: None,
        };
        self.fh.commit_checkpoint(&self.id, &cp).await?;
        self.fh.credit(&self.id, bytes);
        let log = self.live.log.clone();
        blocking(move || log.delete_segments_below(next_offset).map_err(Error::from)).await?;
        Ok(())
    }
}
