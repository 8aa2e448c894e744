// SPDX-License-Identifier: Apache-2.0
//! Delivery of one buffer to an HTTP endpoint destination: one request (the same request id
//! across retries), retried with AWS's back-off until `RetryOptions.DurationInSeconds` is
//! spent; a batch that still fails (or gets 413) goes to the destination's S3 bucket as
//! `http-endpoint-failed` error documents. Only then is the checkpoint committed.
//!
//! Memory: the request body holds the buffer (at most SizeInMBs, ≤ 64 MiB, as AWS sends it).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::buffer::Flush;
use super::s3::{checkpoint, put_with_retry, read_range};
use crate::error::{Error, Result};
use crate::firehose::{Firehose, Live};
use crate::model::{Destination, HttpEndpoint, bucket_of};
use crate::rules::error_doc::HttpEndpointFailed;
use crate::rules::http_endpoint::{
    self, HttpEndpointBufferingHints, HttpEndpointClient, HttpEndpointCommonAttribute,
    HttpEndpointConfiguration, HttpEndpointRequestConfiguration, HttpEndpointRetryOptions, Retry,
    random_jitter,
};
use crate::rules::prefix::{ErrorOutputType, PrefixContext, Prefixes, object_name, time_zone};
use crate::sink::ObjectBody;
use crate::store::StreamRecord;

static CLIENT: OnceLock<Option<HttpEndpointClient>> = OnceLock::new();

fn client() -> Result<&'static HttpEndpointClient> {
    CLIENT
        .get_or_init(|| HttpEndpointClient::new().ok())
        .as_ref()
        .ok_or_else(|| Error::Storage("the HTTP endpoint client could not start".to_owned()))
}

/// The rules module's view of the destination.
fn endpoint_of(d: &HttpEndpoint, arn: &str) -> Result<http_endpoint::HttpEndpoint> {
    let e = d.endpoint_configuration.clone().unwrap_or_default();
    let endpoint = HttpEndpointConfiguration {
        url: e.url.unwrap_or_default(),
        name: e.name,
        access_key: e.access_key,
    };
    let buffering = d
        .buffering_hints
        .as_ref()
        .map(|h| HttpEndpointBufferingHints {
            size_in_m_bs: h.size_in_mbs,
            interval_in_seconds: h.interval_in_seconds,
        });
    let request = d
        .request_configuration
        .as_ref()
        .map(|r| HttpEndpointRequestConfiguration {
            content_encoding: r.content_encoding.clone(),
            common_attributes: r.common_attributes.as_ref().map(|a| {
                a.iter()
                    .map(|c| HttpEndpointCommonAttribute {
                        attribute_name: c.attribute_name.clone(),
                        attribute_value: c.attribute_value.clone(),
                    })
                    .collect()
            }),
        });
    let retry = d.retry_options.as_ref().map(|r| HttpEndpointRetryOptions {
        duration_in_seconds: r.duration_in_seconds,
    });
    http_endpoint::validate(
        &endpoint,
        buffering.as_ref(),
        request.as_ref(),
        retry.as_ref(),
        arn,
    )
    .map_err(Error::InvalidArgument)
}

/// Delivers `flush` of stream `rec` to its HTTP endpoint (or, failing that, its bucket).
pub async fn deliver(
    fh: &Firehose,
    rec: &StreamRecord,
    live: &Arc<Live>,
    flush: Flush,
    cancel: &CancellationToken,
) -> Result<()> {
    let Destination::HttpEndpoint(d) = &rec.destination else {
        return Err(Error::InvalidArgument(
            "not an HTTP endpoint destination".to_owned(),
        ));
    };
    let cfg = endpoint_of(d, &rec.arn)?;
    let records = read_range(live, &flush).await?;
    let data: Vec<Bytes> = records.iter().map(|(_, b)| b.clone()).collect();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut retry = Retry::new(cfg.retry_duration_secs);
    let failure = loop {
        match client()?.send(&cfg, &data, &request_id, fh.now_ms()).await {
            Ok(()) => break None,
            Err(e) if !e.retryable => break Some(e),
            Err(e) => match retry.on_failure(random_jitter()) {
                None => break Some(e),
                Some(wait) => {
                    tracing::warn!(stream = %rec.name, code = e.code, error = %e.message, retry_in = ?wait, "HTTP endpoint delivery failed; retrying.");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cancel.cancelled() => return Err(Error::Storage("delivery cancelled".to_owned())),
                    }
                }
            },
        }
    };
    if let Some(e) = failure {
        let now = fh.now_ms();
        let mut body = Vec::new();
        for (arrival, raw) in &records {
            body.extend(
                HttpEndpointFailed {
                    attempts_made: retry.attempts().max(1),
                    arrival_timestamp: *arrival,
                    error_code: e.code.to_owned(),
                    error_message: e.message.clone(),
                    attempt_ending_timestamp: now,
                    raw_data: raw.clone(),
                    subsequence_number: None,
                    data_id: None,
                }
                .to_line(),
            );
        }
        let s3 = d.s3_configuration.clone().unwrap_or_default();
        let bucket = s3
            .bucket_arn
            .as_deref()
            .and_then(bucket_of)
            .ok_or_else(|| Error::InvalidArgument("destination has no bucket".to_owned()))?
            .to_owned();
        let bad = Error::InvalidArgument;
        let prefixes = Prefixes::parse(
            s3.prefix.as_deref(),
            s3.error_output_prefix.as_deref(),
            false,
        )
        .map_err(bad)?;
        let tz = time_zone(None).map_err(Error::InvalidArgument)?;
        let none = std::collections::BTreeMap::new();
        let ctx = PrefixContext {
            arrival_ms: flush.oldest_ms,
            tz: &tz,
            query_keys: &none,
            lambda_keys: &none,
        };
        let prefix = prefixes
            .error_prefix(&ctx, ErrorOutputType::HttpEndpointFailed)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let key = format!(
            "{prefix}{}",
            object_name(&rec.name, rec.version, flush.oldest_ms, &tz, "")
        );
        let body = Bytes::from(body);
        put_with_retry(fh, rec, &bucket, &key, cancel, || async {
            Ok(ObjectBody::Bytes(body.clone()))
        })
        .await?;
    }
    checkpoint(fh, rec, live, &flush).await
}
