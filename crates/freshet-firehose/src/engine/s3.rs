// SPDX-License-Identifier: Apache-2.0
//! Delivery of one buffer to an S3 destination: read the records back from the log, stream
//! them into a staging file, fsync, `ObjectSink::put`, then commit the checkpoint and trim
//! the log. Memory stays bounded by one log read (a few MiB), whatever the buffer size.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::READ_BYTES;
use super::buffer::Flush;
use crate::error::{Error, Result};
use crate::firehose::{Firehose, Live, blocking};
use crate::model::{Destination, ExtendedS3, bucket_of};
use crate::naming;
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
    let key = object_key(rec, dest, flush.oldest_ms);
    let mut backoff = Duration::from_secs(1);
    loop {
        let (path, len) = stage(fh, live, &flush).await?;
        let put = ObjectPut {
            bucket: bucket.clone(),
            key: key.clone(),
            content_type: None,
            body: ObjectBody::File { path, len },
        };
        match fh.sink().put(put).await {
            Ok(()) => break,
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
    let cp = Checkpoint {
        next_offset: flush.range.end,
        reader: None,
    };
    fh.commit_checkpoint(&rec.id, &cp).await?;
    fh.credit(&rec.id, flush.bytes);
    let log = live.log.clone();
    let below = flush.range.end;
    blocking(move || log.delete_segments_below(below).map_err(Error::from)).await?;
    tracing::debug!(stream = %rec.name, key = %key, records = flush.range.end - flush.range.start, "Delivered an object.");
    Ok(())
}

/// The object's key: evaluated prefix + `<stream>-<version>-<time>-<uuid><extension>`.
fn object_key(rec: &StreamRecord, dest: &ExtendedS3, oldest_ms: i64) -> String {
    let prefix = naming::data_prefix(dest.prefix.as_deref(), oldest_ms);
    let ext = dest.file_extension.as_deref().unwrap_or("");
    format!(
        "{prefix}{}",
        naming::object_name(&rec.name, rec.version, oldest_ms, ext)
    )
}

/// Writes the records of `flush` into a new staging file, fsynced; returns it and its size.
async fn stage(fh: &Firehose, live: &Arc<Live>, flush: &Flush) -> Result<(PathBuf, u64)> {
    let path = fh
        .options()
        .staging_dir
        .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
    let log = live.log.clone();
    let range = flush.range.clone();
    let p = path.clone();
    let written = blocking(move || {
        let file = std::fs::File::create(&p).map_err(|e| io_err(&p, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut at = range.start;
        let mut len = 0u64;
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
                len += r.data.len() as u64;
            }
            at = batch.next_offset;
        }
        let file = w.into_inner().map_err(|e| io_err(&p, e.into_error()))?;
        file.sync_all().map_err(|e| io_err(&p, e))?;
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
