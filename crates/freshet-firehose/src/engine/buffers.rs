// SPDX-License-Identifier: Apache-2.0
//! The open buffers of one delivery run: one per active partition (one in all when the
//! stream is not partitioned), one per error output type, and one for the source-record
//! backup. Each writes its records into a staging file as they come and flushes by its
//! hints (size of the records that went in, or age of its oldest record), or when the next
//! record would pass the size hint.
//!
//! Every record written holds its source batch in the [`Watermark`] until its buffer's
//! object is written, so the source is committed only below what is safe.
//!
//! Dynamic partitioning: a partition is the tuple of the values of the keys the Prefix
//! names. At most [`PARTITION_LIMIT`] data partitions are open at once; records of a new
//! partition beyond that go to `processing-failed`, as AWS does. Blocking (file I/O):
//! run from blocking tasks.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::chain::{Failure, Item};
use super::plan::{ObjectTarget, PARTITION_LIMIT, Plan};
use super::source::{Position, SourceRecord};
use super::staging::{Finished, Format, Staging, WriteError};
use super::watermark::{BatchId, Watermark};
use crate::error::{Error, Result};
use crate::rules::error_doc::{FormatConversionFailed, ProcessingFailed};
use crate::rules::prefix::{ErrorOutputType, KeySource, PrefixContext, object_name};

/// Which buffer a record goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Data, in the partition with these key values (empty when not partitioned).
    Data(Vec<String>),
    /// `processing-failed` documents.
    ProcessingFailed,
    /// `format-conversion-failed` documents.
    FormatConversionFailed,
    /// Source records (S3 backup).
    Backup,
}

struct Buffer {
    staging: Staging,
    bucket: String,
    key: String,
    bytes: u64,
    records: u64,
    oldest_ms: i64,
    held: BTreeMap<BatchId, u64>,
    hints: super::buffer::Hints,
}

/// A flushed buffer: an object to write, then the batches to release.
#[derive(Debug)]
pub struct Ready {
    /// What it holds.
    pub target: Target,
    /// Destination bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The finished staging file.
    pub file: Finished,
    /// Records in it.
    pub records: u64,
    /// Arrival of its oldest record.
    pub oldest_ms: i64,
    /// Output records per source batch, released once it is written.
    pub held: BTreeMap<BatchId, u64>,
}

/// The buffers and watermark of one delivery run.
pub struct Buffers {
    plan: std::sync::Arc<Plan>,
    open: BTreeMap<Target, Buffer>,
    ready: Vec<Ready>,
    /// Which source batches are safe.
    pub watermark: Watermark<Position>,
}

impl std::fmt::Debug for Buffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffers")
            .field("open", &self.open.keys().collect::<Vec<_>>())
            .field("ready", &self.ready.len())
            .finish()
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // An abandoned run: its records come again from the source's checkpoint.
        for (_, b) in std::mem::take(&mut self.open) {
            b.staging.discard();
        }
        for r in self.ready.drain(..) {
            r.file.remove();
        }
    }
}

fn prefix_error(e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(e.to_string())
}

impl Buffers {
    /// No buffers yet.
    pub fn new(plan: std::sync::Arc<Plan>) -> Buffers {
        Buffers {
            plan,
            open: BTreeMap::new(),
            ready: Vec::new(),
            watermark: Watermark::default(),
        }
    }

    /// The plan the buffers follow.
    pub fn plan(&self) -> &std::sync::Arc<Plan> {
        &self.plan
    }

    /// Writes a source record to the backup, if the stream backs up.
    pub fn backup(&mut self, r: &SourceRecord, batch: BatchId) -> Result<()> {
        if self.plan.backup.is_none() {
            return Ok(());
        }
        self.write(Target::Backup, &r.data, r.arrival_ms, batch)
            .map_err(|e| match e {
                WriteError::Io(e) => e,
                WriteError::Record(e) => Error::Storage(e.to_string()),
            })
    }

    /// Routes a processed record to its partition's buffer (or the error output).
    pub fn route(&mut self, item: Item, now_ms: i64) -> Result<()> {
        let keys = match self.partition_of(&item) {
            Ok(k) => k,
            Err((code, message)) => return self.fail(failed(&item, code, message, now_ms)),
        };
        let target = Target::Data(keys);
        if !self.open.contains_key(&target)
            && !self.plan.partition_keys.is_empty()
            && self.data_partitions() >= PARTITION_LIMIT
        {
            return self.fail(failed(
                &item,
                "DynamicPartitioning.ActivePartitionsLimitExceeded",
                format!("The number of active partitions exceeds the limit of {PARTITION_LIMIT}."),
                now_ms,
            ));
        }
        match self.write(target, &item.data, item.arrival_ms, item.batch) {
            Ok(()) => Ok(()),
            Err(WriteError::Io(e)) => Err(e),
            Err(WriteError::Record(e)) => {
                let Some(table) = self.plan.table.clone() else {
                    return Err(Error::Storage(e.to_string()));
                };
                let k = item.kinesis.as_ref();
                let doc = FormatConversionFailed {
                    attempts_made: 1,
                    arrival_timestamp: item.arrival_ms,
                    last_error_code: e.code.to_owned(),
                    last_error_message: e.message,
                    attempt_ending_timestamp: now_ms,
                    raw_data: item.data.clone(),
                    sequence_number: k.map(|k| k.sequence_number.clone()),
                    sub_sequence_number: k.map(|k| k.subsequence_number),
                    data_catalog_table: table,
                };
                self.write_doc(
                    Target::FormatConversionFailed,
                    doc.to_line(),
                    item.arrival_ms,
                    item.batch,
                )
            }
        }
    }

    /// Writes a `processing-failed` document.
    pub fn fail(&mut self, f: Failure) -> Result<()> {
        let arrival = f.doc.arrival_timestamp;
        self.write_doc(Target::ProcessingFailed, f.doc.to_line(), arrival, f.batch)
    }

    fn write_doc(
        &mut self,
        target: Target,
        line: Vec<u8>,
        arrival_ms: i64,
        batch: BatchId,
    ) -> Result<()> {
        self.write(target, &Bytes::from(line), arrival_ms, batch)
            .map_err(|e| match e {
                WriteError::Io(e) => e,
                WriteError::Record(e) => Error::Storage(e.to_string()),
            })
    }

    fn data_partitions(&self) -> usize {
        self.open
            .keys()
            .filter(|t| matches!(t, Target::Data(_)))
            .count()
    }

    /// The key values of the record's partition, or the error code and message.
    fn partition_of(
        &self,
        item: &Item,
    ) -> std::result::Result<Vec<String>, (&'static str, String)> {
        self.plan
            .partition_keys
            .iter()
            .map(|(source, key)| {
                let keys = match source {
                    KeySource::Query => &item.query_keys,
                    KeySource::Lambda => &item.lambda_keys,
                };
                match keys.get(key) {
                    Some(v) if crate::rules::prefix::valid_key_value(v) => Ok(v.clone()),
                    _ => Err((
                        "DynamicPartitioning.PartitionKeyMissing",
                        format!("The partition key {source}:{key} is missing or not usable in an object key."),
                    )),
                }
            })
            .collect()
    }

    fn write(
        &mut self,
        target: Target,
        data: &[u8],
        arrival_ms: i64,
        batch: BatchId,
    ) -> std::result::Result<(), WriteError> {
        let size = data.len() as u64;
        if let Some(b) = self.open.get(&target)
            && b.records > 0
            && b.bytes + size > b.hints.size_bytes
        {
            self.flush(&target).map_err(WriteError::Io)?;
        }
        if !self.open.contains_key(&target) {
            let b = self.create(&target, arrival_ms).map_err(WriteError::Io)?;
            self.open.insert(target.clone(), b);
        }
        let Some(b) = self.open.get_mut(&target) else {
            return Err(WriteError::Io(Error::Storage("buffer vanished".to_owned())));
        };
        match b.staging.write(data) {
            Ok(()) => {}
            Err(WriteError::Io(e)) => {
                // The file is unusable; its records come again after a restart of the run.
                return Err(WriteError::Io(e));
            }
            Err(e) => {
                if b.records == 0 {
                    // Nothing else in it: do not leave an empty buffer behind.
                    if let Some(b) = self.open.remove(&target) {
                        b.staging.discard();
                    }
                }
                return Err(e);
            }
        }
        b.bytes += size;
        b.records += 1;
        b.oldest_ms = b.oldest_ms.min(arrival_ms);
        *b.held.entry(batch).or_insert(0) += 1;
        self.watermark.hold(batch);
        Ok(())
    }

    fn create(&self, target: &Target, arrival_ms: i64) -> Result<Buffer> {
        let plan = &self.plan;
        let none = BTreeMap::new();
        let (bucket, prefix, tz, format, extension, hints) = match target {
            Target::Data(values) => {
                let (mut query, mut lambda) = (BTreeMap::new(), BTreeMap::new());
                for ((source, key), v) in plan.partition_keys.iter().zip(values) {
                    match source {
                        KeySource::Query => query.insert(key.clone(), v.clone()),
                        KeySource::Lambda => lambda.insert(key.clone(), v.clone()),
                    };
                }
                let d = &plan.data;
                let ctx = PrefixContext {
                    arrival_ms,
                    tz: &d.tz,
                    query_keys: &query,
                    lambda_keys: &lambda,
                };
                let prefix = d.prefixes.data_prefix(&ctx).map_err(prefix_error)?;
                (
                    &d.bucket,
                    prefix,
                    &d.tz,
                    &d.format,
                    d.extension.as_str(),
                    d.hints,
                )
            }
            Target::ProcessingFailed | Target::FormatConversionFailed => {
                let e = &plan.errors;
                let kind = if *target == Target::ProcessingFailed {
                    ErrorOutputType::ProcessingFailed
                } else {
                    ErrorOutputType::FormatConversionFailed
                };
                let ctx = PrefixContext {
                    arrival_ms,
                    tz: &e.tz,
                    query_keys: &none,
                    lambda_keys: &none,
                };
                let prefix = e.prefixes.error_prefix(&ctx, kind).map_err(prefix_error)?;
                (
                    &e.bucket,
                    prefix,
                    &e.tz,
                    &Format::Raw(crate::rules::compress::Compression::Uncompressed),
                    "",
                    plan.data.hints,
                )
            }
            Target::Backup => {
                let Some(b): Option<&ObjectTarget> = plan.backup.as_ref() else {
                    return Err(Error::Storage("the stream has no backup".to_owned()));
                };
                let ctx = PrefixContext {
                    arrival_ms,
                    tz: &b.tz,
                    query_keys: &none,
                    lambda_keys: &none,
                };
                let prefix = b.prefixes.data_prefix(&ctx).map_err(prefix_error)?;
                (
                    &b.bucket,
                    prefix,
                    &b.tz,
                    &b.format,
                    b.extension.as_str(),
                    b.hints,
                )
            }
        };
        let name = object_name(&plan.stream, plan.version, arrival_ms, tz, extension);
        let entry = name.strip_suffix(".zip").unwrap_or(&name).to_owned();
        let staging = Staging::create(&plan.staging_dir, format, &entry)?;
        Ok(Buffer {
            staging,
            bucket: bucket.clone(),
            key: format!("{prefix}{name}"),
            bytes: 0,
            records: 0,
            oldest_ms: arrival_ms,
            held: BTreeMap::new(),
            hints,
        })
    }

    fn flush(&mut self, target: &Target) -> Result<()> {
        let Some(b) = self.open.remove(target) else {
            return Ok(());
        };
        let file = b.staging.finish()?;
        self.ready.push(Ready {
            target: target.clone(),
            bucket: b.bucket,
            key: b.key,
            file,
            records: b.records,
            oldest_ms: b.oldest_ms,
            held: b.held,
        });
        Ok(())
    }

    /// Flushes every buffer that is due at `now_ms`.
    pub fn flush_due(&mut self, now_ms: i64) -> Result<()> {
        let due: Vec<Target> = self
            .open
            .iter()
            .filter(|(_, b)| {
                b.records > 0
                    && (b.bytes >= b.hints.size_bytes
                        || now_ms - b.oldest_ms >= b.hints.interval_ms)
            })
            .map(|(t, _)| t.clone())
            .collect();
        for t in due {
            self.flush(&t)?;
        }
        Ok(())
    }

    /// The flushed buffers, to write.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        std::mem::take(&mut self.ready)
    }

    /// When the next buffer falls due by time (ms).
    pub fn next_deadline(&self) -> Option<i64> {
        self.open
            .values()
            .map(|b| b.oldest_ms.saturating_add(b.hints.interval_ms))
            .min()
    }

    /// Releases what a written object held.
    pub fn release(&mut self, held: &BTreeMap<BatchId, u64>) {
        for (batch, n) in held {
            self.watermark.release(*batch, *n);
        }
    }
}

fn failed(item: &Item, code: &str, message: String, now_ms: i64) -> Failure {
    Failure {
        doc: ProcessingFailed {
            attempts_made: 1,
            arrival_timestamp: item.arrival_ms,
            error_code: code.to_owned(),
            error_message: message,
            attempt_ending_timestamp: now_ms,
            raw_data: item.data.clone(),
            lambda_arn: None,
        },
        batch: item.batch,
    }
}
