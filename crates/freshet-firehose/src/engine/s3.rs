// SPDX-License-Identifier: Apache-2.0
//! Writing one finished staging file as an S3 object through the `ObjectSink`, retrying
//! with back-off (1 s doubling to 30 s) until it is written or the run is cancelled. AWS
//! retries S3 delivery for as long as the source keeps the data; so does Freshet, and while
//! it retries, delivery does not move forward (undelivered data stays in the source, whose
//! budget then throttles producers).

use std::time::Duration;

use super::staging::{Finished, attempt_link};
use crate::error::{Error, Result};
use crate::firehose::{Firehose, blocking};
use crate::sink::{ObjectBody, ObjectPut};

/// Longest wait between attempts to write an object.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Writes `file` as `bucket`/`key`, retrying until it is written or `cancel` (then `Err`,
/// and the next run delivers its records again from the checkpoint).
pub async fn put_file(
    fh: &Firehose,
    stream: &str,
    bucket: &str,
    key: &str,
    file: &Finished,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<()> {
    let len = file.len;
    put_with_retry(fh, stream, bucket, key, cancel, || async {
        // The sink owns what it is given: give it a fresh link each attempt.
        let master = file.path.clone();
        let path = blocking(move || attempt_link(&master)).await?;
        Ok(ObjectBody::File { path, len })
    })
    .await
}

/// Writes one object, building its body anew for each attempt, until it is written or
/// `cancel`.
pub(crate) async fn put_with_retry<F, Fut>(
    fh: &Firehose,
    stream: &str,
    bucket: &str,
    key: &str,
    cancel: &tokio_util::sync::CancellationToken,
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
                fh.stream_metrics(stream).s3_success.record(0.0);
                tracing::warn!(stream = %stream, bucket = %bucket, code = %e.code, error = %e.message, retry_in = ?backoff, "Could not write an object; retrying.");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = cancel.cancelled() => return Err(Error::Storage("delivery cancelled".to_owned())),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
