// SPDX-License-Identifier: Apache-2.0
//! DirectPut: PutRecord and PutRecordBatch append to the stream's log and answer only once
//! the records are durable there (the log's group commit makes concurrent puts share
//! fsyncs). Delivery reads them back from the log; nothing is buffered in memory.
//!
//! Back pressure: while a stream's undelivered bytes exceed
//! [`crate::FirehoseOptions::undelivered_budget_bytes`], records are refused with
//! ServiceUnavailableException ("Slow down."), per record in a batch, as AWS throttles.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use freshet_log::RecordIn;

use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::metrics::PutOp;
use crate::store::{SourceKind, Status};

/// Largest record (bytes before base64).
pub const MAX_RECORD_BYTES: usize = 1_024_000;
/// Most records per PutRecordBatch.
pub const MAX_BATCH_RECORDS: usize = 500;
/// Most bytes per PutRecordBatch.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// The outcome of one record of a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored durably, under this record id.
    Ok(String),
    /// Refused: error code and message.
    Failed(&'static str, String),
}

/// A stored record's id: the stream id and the log offset, opaque to clients.
pub fn record_id(stream_id: &str, offset: u64) -> String {
    format!("{stream_id}{offset:016x}")
}

impl Firehose {
    /// Appends `records` to stream `name`; one outcome per record, in order. Whole-call
    /// failures (no such stream, a Kinesis-sourced stream, limits) are errors.
    pub async fn put_records(&self, name: &str, records: &[Bytes]) -> Result<Vec<PutOutcome>> {
        self.put_records_as(name, records, None).await
    }

    /// [`Firehose::put_records`] for API call `op` (its PutRecord.* or PutRecordBatch.*
    /// metrics are recorded too).
    pub async fn put_records_as(
        &self,
        name: &str,
        records: &[Bytes],
        op: Option<PutOp>,
    ) -> Result<Vec<PutOutcome>> {
        let started = std::time::Instant::now();
        let rec = self.record(name)?;
        if rec.source == SourceKind::KinesisStreamAsSource {
            return Err(Error::InvalidArgument(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type."
                    .to_owned(),
            ));
        }
        if rec.status != Status::Active {
            return Err(Error::NotFound {
                name: name.to_owned(),
                account: self.options().account_id.clone(),
            });
        }
        let total: usize = records.iter().map(Bytes::len).sum();
        if total > MAX_BATCH_BYTES {
            return Err(Error::InvalidArgument(format!(
                "Records size exceeds {MAX_BATCH_BYTES} bytes limit"
            )));
        }
        let live = self.live(&rec).await?;
        let budget = self.options().undelivered_budget_bytes;
        // Reserve budget record by record; the first record that does not fit and every
        // later one are throttled (a client resends the failed ones in order).
        let mut accepted = 0usize;
        let mut reserved = 0u64;
        for r in records {
            let n = r.len() as u64;
            let ok = live
                .undelivered
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                    (v == 0 || v + n <= budget).then_some(v + n)
                })
                .is_ok();
            if !ok {
                break;
            }
            accepted += 1;
            reserved += n;
        }
        let mut out = Vec::with_capacity(records.len());
        if accepted > 0 {
            let batch: Vec<RecordIn<'_>> = records[..accepted]
                .iter()
                .map(|d| RecordIn {
                    partition_key: "",
                    data: d,
                })
                .collect();
            match live.log.append(&batch, self.now_ms()).await {
                Ok(appended) => {
                    for i in 0..accepted as u64 {
                        out.push(PutOutcome::Ok(record_id(
                            &rec.id,
                            appended.first_offset + i,
                        )));
                    }
                }
                Err(e) => {
                    let _ =
                        live.undelivered
                            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                                Some(v.saturating_sub(reserved))
                            });
                    return Err(Error::Storage(e.to_string()));
                }
            }
        }
        for _ in accepted..records.len() {
            out.push(PutOutcome::Failed(
                "ServiceUnavailableException",
                "Slow down.".to_owned(),
            ));
        }
        live.metrics.put(
            op,
            accepted as u64,
            reserved,
            (records.len() - accepted) as u64,
            started.elapsed().as_secs_f64() * 1000.0,
        );
        Ok(out)
    }
}
