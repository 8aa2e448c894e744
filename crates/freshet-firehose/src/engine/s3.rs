// SPDX-License-Identifier: Apache-2.0
//! Delivery of one buffer to an S3 destination: read the records back from the log, stream
//! them into a staging file, fsync, `ObjectSink::put`, then commit the checkpoint and trim
//! the log. Memory stays bounded by one log read (a few MiB), whatever the buffer size.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use tokio_util::sync::CancellationToken;

use super::READ_BYTES;
use super::buffer::Flush;
use crate::error::{Error, Result};
use crate::firehose::{Firehose, Live, blocking};
use crate::model::{Destination, ExtendedS3, bucket_of};
use crate::rules::compress::{Compression, Compressor, OutputFormat, default_extension};
use crate::rules::prefix::{PrefixContext, Prefixes, object_name, time_zone};
use crate::sink::{ObjectBody, ObjectPut};
use crate::store::{Checkpoint, StreamRecord};

/// Longest wait between attempts to write an object.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Delivers `flush` of stream `rec`, retrying until it is written or `cancel` (then `Err`,
/// and the next run re-delivers from the checkpoint).
pub async fn deliver(
    fh: &Firehose,
    rec: &StreamRecord,
    live: &Arc<Live>,
    flush: Flush,
    cancel: &CancellationToken,
) -> Result<()> {
    let Destination::ExtendedS3(dest) = &rec.destination else {
        return Err(Error::InvalidArgument("not an S3 destination".to_owned()));
    };
    let bucket = dest
        .bucket_arn
        .as_deref()
        .and_then(bucket_of)
        .ok_or_else(|| Error::InvalidArgument("destination has no bucket".to_owned()))?
        .to_owned();
    let key = object_key(rec, dest, flush.oldest_ms)?;
    let compression = compression_of(dest);
    put_with_retry(fh, rec, &bucket, &key, cancel, || async {
        let (path, len) = stage(fh, live, &flush, compression, &key).await?;
        Ok(ObjectBody::File { path, len })
    })
    .await?;
    checkpoint(fh, rec, live, &flush).await
}

/// Writes one object, building its body anew for each attempt (a sink owns and removes a
/// staging file even when the put fails), until it is written or `cancel`.
pub(crate) async fn put_with_retry<F, Fut>(
    fh: &Firehose,
    rec: &StreamRecord,
    bucket: &str,
    key: &str,
    cancel: &CancellationToken,
    body: F,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<ObjectBody>>,
{
    let mut backoff = Duration::from_secs(1);
    loop {
        let put = ObjectPut {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_type: None,
            body: body().await?,
        };
        match fh.sink().put(put).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(stream = %rec.name, bucket = %bucket, code = %e.code, error = %e.message, retry_in = ?backoff, "Could not write an object; retrying.");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = cancel.cancelled() => return Err(Error::Storage("delivery cancelled".to_owned())),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// After the flush's records are safe: commit the checkpoint, credit the budget, trim.
pub(crate) async fn checkpoint(
    fh: &Firehose,
    rec: &StreamRecord,
    live: &Arc<Live>,
    flush: &Flush,
) -> Result<()> {
    let cp = Checkpoint {
        next_offset: flush.range.end,
        reader: None,
    };
    fh.commit_checkpoint(&rec.id, &cp).await?;
    fh.credit(&rec.id, flush.bytes);
    let log = live.log.clone();
    let below = flush.range.end;
    blocking(move || log.delete_segments_below(below).map_err(Error::from)).await?;
    tracing::debug!(stream = %rec.name, records = flush.range.end - flush.range.start, "Delivered.");
    Ok(())
}

/// The records of `flush` with their arrival times, in memory (HTTP bodies are built whole).
pub(crate) async fn read_range(live: &Arc<Live>, flush: &Flush) -> Result<Vec<(i64, Bytes)>> {
    let log = live.log.clone();
    let range = flush.range.clone();
    blocking(move || {
        let mut out = Vec::new();
        let mut at = range.start;
        while at < range.end {
            let max = usize::try_from(range.end - at).unwrap_or(usize::MAX);
            let batch = log.read(at, max.min(10_000), READ_BYTES, i64::MIN)?;
            if batch.records.is_empty() {
                return Err(Error::Storage(format!(
                    "records {at}..{} are missing from the log",
                    range.end
                )));
            }
            for r in batch
                .records
                .into_iter()
                .take_while(|r| r.offset < range.end)
            {
                out.push((r.arrival_ms, r.data));
            }
            at = batch.next_offset;
        }
        Ok(out)
    })
    .await
}

fn compression_of(dest: &ExtendedS3) -> Compression {
    dest.compression_format
        .as_deref()
        .and_then(Compression::parse)
        .unwrap_or_default()
}

/// The object's key: evaluated prefix + `<stream>-<version>-<time>-<uuid><extension>`, the
/// time of the oldest record in CustomTimeZone; the extension is FileExtension or the
/// compression's default.
fn object_key(rec: &StreamRecord, dest: &ExtendedS3, oldest_ms: i64) -> Result<String> {
    let bad = |m: String| Error::InvalidArgument(m);
    let prefixes = Prefixes::parse(
        dest.prefix.as_deref(),
        dest.error_output_prefix.as_deref(),
        dest.dynamic_partitioning(),
    )
    .map_err(bad)?;
    let tz = time_zone(dest.custom_time_zone.as_deref()).map_err(bad)?;
    let none = std::collections::BTreeMap::new();
    let ctx = PrefixContext {
        arrival_ms: oldest_ms,
        tz: &tz,
        query_keys: &none,
        lambda_keys: &none,
    };
    let prefix = prefixes
        .data_prefix(&ctx)
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let ext = match dest.file_extension.as_deref() {
        Some(e) if !e.is_empty() => e,
        _ => default_extension(compression_of(dest), OutputFormat::Raw),
    };
    Ok(format!(
        "{prefix}{}",
        object_name(&rec.name, rec.version, oldest_ms, &tz, ext)
    ))
}

/// Writes the records of `flush` into a new staging file, fsynced; returns it and its size.
async fn stage(
    fh: &Firehose,
    live: &Arc<Live>,
    flush: &Flush,
    compression: Compression,
    key: &str,
) -> Result<(PathBuf, u64)> {
    // A ZIP object's one entry is named after the object.
    let entry = key
        .rsplit('/')
        .next()
        .unwrap_or(key)
        .trim_end_matches(".zip")
        .to_owned();
    let path = fh
        .options()
        .staging_dir
        .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
    let log = live.log.clone();
    let range = flush.range.clone();
    let p = path.clone();
    let written = blocking(move || {
        let file = std::fs::File::create(&p).map_err(|e| io_err(&p, e))?;
        let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut w = Compressor::new(compression, buffered, &entry).map_err(|e| io_err(&p, e))?;
        let mut at = range.start;
        while at < range.end {
            let max = usize::try_from(range.end - at).unwrap_or(usize::MAX);
            let batch = log.read(at, max.min(10_000), READ_BYTES, i64::MIN)?;
            if batch.records.is_empty() {
                return Err(Error::Storage(format!(
                    "records {at}..{} are missing from the log",
                    range.end
                )));
            }
            for r in batch.records.iter().take_while(|r| r.offset < range.end) {
                w.write_all(&r.data).map_err(|e| io_err(&p, e))?;
            }
            at = batch.next_offset;
        }
        let buffered = w.finish().map_err(|e| io_err(&p, e))?;
        let file = buffered
            .into_inner()
            .map_err(|e| io_err(&p, e.into_error()))?;
        file.sync_all().map_err(|e| io_err(&p, e))?;
        let len = file.metadata().map_err(|e| io_err(&p, e))?.len();
        Ok(len)
    })
    .await;
    match written {
        Ok(len) => Ok((path, len)),
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(e)
        }
    }
}

fn io_err(p: &std::path::Path, e: std::io::Error) -> Error {
    Error::Storage(format!("staging file {}: {e}", p.display()))
}
