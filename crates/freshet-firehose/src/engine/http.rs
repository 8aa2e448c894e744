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

use super::buffers::Ready;
use super::plan::Plan;
use super::s3::put_with_retry;
use crate::error::{Error, Result};
use crate::firehose::{Firehose, blocking};
use crate::model::HttpEndpoint;
use crate::rules::error_doc::HttpEndpointFailed;
use crate::rules::http_endpoint::{
    self, HttpEndpointBufferingHints, HttpEndpointClient, HttpEndpointCommonAttribute,
    HttpEndpointConfiguration, HttpEndpointRequestConfiguration, HttpEndpointRetryOptions, Retry,
    random_jitter,
};
use crate::rules::prefix::{ErrorOutputType, PrefixContext, object_name};
use crate::sink::ObjectBody;

static CLIENT: OnceLock<Option<HttpEndpointClient>> = OnceLock::new();

fn client() -> Result<&'static HttpEndpointClient> {
    CLIENT
        .get_or_init(|| HttpEndpointClient::new().ok())
        .as_ref()
        .ok_or_else(|| Error::Storage("the HTTP endpoint client could not start".to_owned()))
}

/// The rules module's view of the destination.
pub(crate) fn endpoint_of(d: &HttpEndpoint, arn: &str) -> Result<http_endpoint::HttpEndpoint> {
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

/// Delivers the staged records of `r` to the HTTP endpoint (or, failing that, as
/// `http-endpoint-failed` documents to the destination's bucket).
pub async fn deliver(
    fh: &Firehose,
    plan: &Arc<Plan>,
    cfg: &http_endpoint::HttpEndpoint,
    r: Ready,
    cancel: &CancellationToken,
) -> Result<()> {
    let Ready {
        file, oldest_ms, ..
    } = r;
    let (data, file) = blocking(move || {
        let d = file.read_records();
        Ok((d, file))
    })
    .await?;
    let data = data?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut retry = Retry::new(cfg.retry_duration_secs);
    let metrics = fh.stream_metrics(&plan.stream);
    let failure = loop {
        let sent = client()?.send(cfg, &data, &request_id, fh.now_ms()).await;
        metrics.http_attempt(sent.as_ref().ok().map(|_| {
            let bytes = data.iter().map(|d| d.len() as u64).sum();
            (data.len() as u64, bytes)
        }));
        match sent {
            Ok(()) => break None,
            Err(e) if !e.retryable => break Some(e),
            Err(e) => match retry.on_failure(random_jitter()) {
                None => break Some(e),
                Some(wait) => {
                    tracing::warn!(stream = %plan.stream, code = e.code, error = %e.message, retry_in = ?wait, "HTTP endpoint delivery failed; retrying.");
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
        for raw in &data {
            body.extend(
                HttpEndpointFailed {
                    attempts_made: retry.attempts().max(1),
                    arrival_timestamp: oldest_ms,
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
        let errors = &plan.errors;
        let none = std::collections::BTreeMap::new();
        let ctx = PrefixContext {
            arrival_ms: oldest_ms,
            tz: &errors.tz,
            query_keys: &none,
            lambda_keys: &none,
        };
        let prefix = errors
            .prefixes
            .error_prefix(&ctx, ErrorOutputType::HttpEndpointFailed)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let key = format!(
            "{prefix}{}",
            object_name(&plan.stream, plan.version, oldest_ms, &errors.tz, "")
        );
        let body = Bytes::from(body);
        put_with_retry(fh, &plan.stream, &errors.bucket, &key, cancel, || async {
            Ok(ObjectBody::Bytes(body.clone()))
        })
        .await?;
    }
    file.remove();
    Ok(())
}
