// SPDX-License-Identifier: Apache-2.0
//! The Lambda transform processor: sends buffered items to the function in invocations of at
//! most 6 MB ([`MAX_INVOKE_PAYLOAD`]), with AWS's event and response contract
//! (`rules::transform`), and retries a failed invocation `NumberOfRetries` times. Records of
//! an invocation that still fails, and records the function marks `ProcessingFailed`, become
//! `processing-failed` documents naming the function.
//!
//! Calls go to Lambda in process through the `Invoker` handle, exactly as Invoke would run
//! them (versions, aliases, concurrency).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_lambda::spec::{Invocation, InvokeError, Invoker};
use tokio_util::sync::CancellationToken;

use super::chain::{Failure, Item};
use crate::error::{Error, Result};
use crate::metrics::StreamMetrics;
use crate::rules::error_doc::ProcessingFailed;
use crate::rules::processing::LambdaProcessor;
use crate::rules::transform::{
    EVENT_ENVELOPE_BYTES, MAX_INVOKE_PAYLOAD, TransformRecord, TransformRequest, TransformResult,
    decode_response, encode_event, record_event_size, record_id,
};

/// First wait between attempts of a failed invocation; doubles up to [`MAX_RETRY_WAIT`].
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(500);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// What became of one item.
#[derive(Debug)]
pub enum Outcome {
    /// Transformed (data and Lambda keys replaced).
    Ok(Item),
    /// The function dropped it.
    Dropped(Item),
    /// It goes to `processing-failed`.
    Failed(Failure),
}

/// The transform of one delivery stream.
pub struct Transform {
    invoker: Arc<dyn Invoker>,
    cfg: LambdaProcessor,
    stream_arn: String,
    source_arn: Option<String>,
    region: String,
    /// Numbers invocations, so record ids are unique per stream run and stable per retry.
    invocations: u64,
    /// ExecuteProcessing.* and SucceedProcessing.* of the stream (none: not recorded).
    metrics: Option<Arc<StreamMetrics>>,
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transform")
            .field("function", &self.cfg.lambda_arn)
            .finish_non_exhaustive()
    }
}

/// Why an attempt failed: the error code and message for the documents.
struct AttemptError {
    code: String,
    message: String,
}

fn invoke_error(e: &InvokeError) -> AttemptError {
    let code = match e {
        InvokeError::NotFound(_) => "Lambda.ResourceNotFound",
        InvokeError::Throttled { .. } => "Lambda.InvokeLimitExceeded",
        InvokeError::NotReady { .. } => "Lambda.FunctionNotReady",
        InvokeError::RequestTooLarge(_) => "Lambda.PayloadTooLarge",
        InvokeError::ResponseTooLarge(_) => "Lambda.ResponseTooLarge",
        InvokeError::Service(_) => "Lambda.ServiceException",
    };
    AttemptError {
        code: code.to_owned(),
        message: e.to_string(),
    }
}

impl Transform {
    /// A transform calling `cfg.lambda_arn` for stream `stream_arn`.
    pub fn new(
        invoker: Arc<dyn Invoker>,
        cfg: LambdaProcessor,
        stream_arn: String,
        source_arn: Option<String>,
        region: String,
    ) -> Transform {
        Transform {
            invoker,
            cfg,
            stream_arn,
            source_arn,
            region,
            invocations: 0,
            metrics: None,
        }
    }

    /// Records each invocation's ExecuteProcessing.* and SucceedProcessing.* in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<StreamMetrics>) -> Transform {
        self.metrics = Some(metrics);
        self
    }

    /// The buffer size and interval (ms) of the processor.
    pub fn hints(&self) -> (u64, i64) {
        (
            self.cfg.buffer_size_bytes,
            i64::from(self.cfg.buffer_interval_secs) * 1000,
        )
    }

    /// Transforms `items`, in invocations of at most 6 MB; outcomes in input order.
    /// `now_ms` stamps documents. `Err` only when cancelled.
    pub async fn run(
        &mut self,
        items: Vec<Item>,
        now_ms: impl Fn() -> i64,
        cancel: &CancellationToken,
    ) -> Result<Vec<Outcome>> {
        let mut out = Vec::with_capacity(items.len());
        let mut chunk: Vec<Item> = Vec::new();
        let mut chunk_size = EVENT_ENVELOPE_BYTES;
        for item in items {
            let size = item_event_size(&item);
            if !chunk.is_empty() && chunk_size + size > MAX_INVOKE_PAYLOAD {
                let c = std::mem::take(&mut chunk);
                out.extend(self.invoke(c, &now_ms, cancel).await?);
                chunk_size = EVENT_ENVELOPE_BYTES;
            }
            chunk_size += size;
            chunk.push(item);
        }
        if !chunk.is_empty() {
            out.extend(self.invoke(chunk, &now_ms, cancel).await?);
        }
        Ok(out)
    }

    async fn invoke(
        &mut self,
        items: Vec<Item>,
        now_ms: &impl Fn() -> i64,
        cancel: &CancellationToken,
    ) -> Result<Vec<Outcome>> {
        self.invocations += 1;
        let sent: Vec<TransformRecord> = items
            .iter()
            .enumerate()
            .map(|(i, it)| TransformRecord {
                record_id: record_id(self.invocations, u32::try_from(i).unwrap_or(u32::MAX)),
                arrival_ms: it.arrival_ms,
                data: it.data.clone(),
                kinesis: it.kinesis.clone(),
            })
            .collect();
        let attempts = self.cfg.number_of_retries.saturating_add(1);
        let mut wait = FIRST_RETRY_WAIT;
        let mut made = 0;
        let last = loop {
            made += 1;
            let started = now_ms();
            let attempt = self.attempt(&sent).await;
            let ended = now_ms();
            if let Some(m) = &self.metrics {
                m.executed((ended - started).max(0) as f64, attempt.is_ok());
            }
            match attempt {
                Ok(results) => {
                    if let Some(m) = &self.metrics {
                        let (records, bytes) = succeeded(&results);
                        m.processed(records, bytes);
                    }
                    return Ok(outcomes(items, results, made, &self.cfg, ended));
                }
                Err(e) if made >= attempts => break e,
                Err(e) => {
                    tracing::warn!(function = %self.cfg.lambda_arn, code = %e.code, error = %e.message, retry_in = ?wait, "Firehose transform failed; retrying.");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return Err(Error::Storage("delivery cancelled".to_owned())),
            }
            wait = (wait * 2).min(MAX_RETRY_WAIT);
        };
        tracing::warn!(function = %self.cfg.lambda_arn, code = %last.code, error = %last.message, records = items.len(), "Firehose transform failed; the records go to the error output.");
        let now = now_ms();
        Ok(items
            .into_iter()
            .map(|it| {
                Outcome::Failed(self.failure(
                    &it,
                    it.data.clone(),
                    made,
                    &last.code,
                    &last.message,
                    now,
                ))
            })
            .collect())
    }

    async fn attempt(
        &self,
        sent: &[TransformRecord],
    ) -> std::result::Result<Vec<TransformResult>, AttemptError> {
        let invocation_id = uuid::Uuid::new_v4().to_string();
        let event = encode_event(&TransformRequest {
            invocation_id: &invocation_id,
            delivery_stream_arn: &self.stream_arn,
            source_kinesis_stream_arn: self.source_arn.as_deref(),
            region: &self.region,
            records: sent,
        });
        let inv = Invocation {
            request_id: invocation_id.clone(),
            payload: Bytes::from(event),
            invoked_arn: self.cfg.lambda_arn.clone(),
            client_context: None,
            tail_log: false,
        };
        let result = self
            .invoker
            .invoke(&self.cfg.lambda_arn, inv)
            .await
            .map_err(|e| invoke_error(&e))?;
        if result.function_error.is_some() {
            let message = serde_json::from_slice::<serde_json::Value>(&result.payload)
                .ok()
                .and_then(|v| {
                    v.get("errorMessage")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&result.payload).into_owned());
            return Err(AttemptError {
                code: "Lambda.FunctionError".to_owned(),
                message: format!(
                    "The Lambda function was successfully invoked but it returned an error result: {message}"
                ),
            });
        }
        decode_response(&result.payload, sent).map_err(|e| AttemptError {
            code: e.code.to_owned(),
            message: e.message,
        })
    }

    fn failure(
        &self,
        it: &Item,
        raw: Bytes,
        attempts: u32,
        code: &str,
        message: &str,
        now: i64,
    ) -> Failure {
        Failure {
            doc: ProcessingFailed {
                attempts_made: attempts,
                arrival_timestamp: it.arrival_ms,
                error_code: code.to_owned(),
                error_message: message.to_owned(),
                attempt_ending_timestamp: now,
                raw_data: raw,
                lambda_arn: Some(self.cfg.lambda_arn.clone()),
            },
            batch: it.batch,
        }
    }
}

/// The records an invocation returned `Ok`, and the bytes of their (transformed) data.
fn succeeded(results: &[TransformResult]) -> (u64, u64) {
    results.iter().fold((0, 0), |(n, b), r| match r {
        TransformResult::Ok { data, .. } => (n + 1, b + data.len() as u64),
        _ => (n, b),
    })
}

fn item_event_size(it: &Item) -> usize {
    record_event_size(&TransformRecord {
        record_id: record_id(0, 0),
        arrival_ms: it.arrival_ms,
        data: Bytes::new(),
        kinesis: it.kinesis.clone(),
    }) + it.data.len().div_ceil(3) * 4
}

fn outcomes(
    items: Vec<Item>,
    results: Vec<TransformResult>,
    attempts: u32,
    cfg: &LambdaProcessor,
    now: i64,
) -> Vec<Outcome> {
    items
        .into_iter()
        .zip(results)
        .map(|(mut it, r)| match r {
            TransformResult::Ok {
                data,
                partition_keys,
            } => {
                it.data = data;
                it.lambda_keys = partition_keys;
                Outcome::Ok(it)
            }
            TransformResult::Dropped => Outcome::Dropped(it),
            // rawData is the record as the function got it (what the function returned is
            // ignored for a failed record).
            TransformResult::ProcessingFailed { .. } => Outcome::Failed(Failure {
                doc: ProcessingFailed {
                    attempts_made: attempts,
                    arrival_timestamp: it.arrival_ms,
                    error_code: "Lambda.ProcessingFailed".to_owned(),
                    error_message:
                        "The Lambda function returned the result ProcessingFailed for this record."
                            .to_owned(),
                    attempt_ending_timestamp: now,
                    raw_data: it.data.clone(),
                    lambda_arn: Some(cfg.lambda_arn.clone()),
                },
                batch: it.batch,
            }),
        })
        .collect()
}
