// SPDX-License-Identifier: Apache-2.0
//! The pipeline of one queue mapping: long-polls the queue in process, gathers up to
//! BatchSize messages within MaximumBatchingWindowInSeconds, deletes messages the filters
//! reject (as AWS does), invokes with up to ScalingConfig.MaximumConcurrency batches at
//! once, and deletes the messages of a successful batch (with ReportBatchItemFailures: all
//! but the failed ones). Failed messages are left alone: they become visible again after the
//! queue's visibility timeout, and the queue's redrive policy moves them on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_sqs::Received;
use freshet_sqs::engine::ReceiveRequest;
use freshet_sqs::message::AttributeData as SqsData;
use freshet_sqs::redrive::QueueArn;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::esm::batch::{Outcome, Verdict};
use crate::esm::event::{AttributeData, SqsMessage, SqsSource, sqs_event, sqs_filter_view};
use crate::esm::kinesis::{PipelineEnv, outcome_of};
use crate::esm::model::MappingRecord;
use crate::esm::response::{ItemFailures, item_failures, parse_json};
use crate::spec::Invocation;

/// Concurrent batches when ScalingConfig does not say.
const DEFAULT_CONCURRENCY: usize = 5;
/// The longest long poll (SQS's limit).
const LONG_POLL: Duration = Duration::from_secs(20);

fn to_message(r: Received) -> SqsMessage {
    let m = r.message;
    SqsMessage {
        md5_of_body: freshet_sqs::md5::md5_of_body(&m.body),
        md5_of_attributes: freshet_sqs::md5::md5_of_attributes(&m.attributes),
        message_id: m.message_id,
        receipt_handle: r.delivery.receipt_handle,
        body: m.body,
        receive_count: r.delivery.receive_count,
        sent_ms: m.sent_ms,
        sender_id: m.sender_id,
        first_receive_ms: r.delivery.first_receive_ms,
        group_id: m.group_id,
        dedup_id: m.dedup_id,
        sequence_number: m.sequence_number.map(|n| n.to_string()),
        trace_header: m.trace_header,
        dead_letter_source: m.dead_letter.map(|d| d.source_arn),
        attributes: m
            .attributes
            .into_iter()
            .map(|(k, v)| {
                let data = match v.data {
                    SqsData::String(s) => AttributeData::String(s),
                    SqsData::Binary(b) => AttributeData::Binary(b),
                };
                (k, (v.data_type, data))
            })
            .collect(),
    }
}

/// Runs the mapping until `cancel` fires.
pub(crate) async fn run(
    env: PipelineEnv,
    rec: MappingRecord,
    cancel: CancellationToken,
) -> Result<(), String> {
    let queue = QueueArn::parse(&rec.event_source_arn)
        .map(|a| a.name)
        .ok_or_else(|| format!("not a queue ARN: {}", rec.event_source_arn))?;
    let src = SqsSource {
        queue_arn: rec.event_source_arn.clone(),
        region: env.region.clone(),
    };
    let filters = rec.filter_criteria();
    let limit = rec
        .max_concurrency
        .map_or(DEFAULT_CONCURRENCY, |c| c as usize);
    let permits = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = JoinSet::new();
    let window = Duration::from_secs(u64::from(rec.batching_window));
    let rec = Arc::new(rec);
    loop {
        let permit = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            p = permits.clone().acquire_owned() => p.map_err(|e| e.to_string())?,
        };
        // Reap finished invocations so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let mut batch: Vec<SqsMessage> = Vec::new();
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            let want = (rec.batch_size as usize - batch.len()).min(10);
            let wait = match deadline {
                None => LONG_POLL,
                Some(d) => d.saturating_duration_since(tokio::time::Instant::now()),
            };
            let req = ReceiveRequest {
                max_messages: want,
                visibility_timeout: None,
                attempt_id: None,
            };
            let got = tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                r = env.sqs.receive_wait_by_name(&queue, &req, wait) => r,
            };
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!(mapping = %rec.uuid, error = %e, "Receive failed.");
                    tokio::select! {
                        () = cancel.cancelled() => return Ok(()),
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            };
            for r in got {
                let m = to_message(r);
                let (view, is_json) = sqs_filter_view(&src, &m);
                if filters.matches_record(&view, "body", is_json) {
                    batch.push(m);
                } else if let Err(e) = env.sqs.delete_by_name(&queue, &m.receipt_handle).await {
                    tracing::warn!(mapping = %rec.uuid, error = %e, "Could not delete a filtered-out message.");
                }
            }
            if !batch.is_empty() && deadline.is_none() {
                deadline = Some(tokio::time::Instant::now() + window);
            }
            let full = batch.len() >= rec.batch_size as usize;
            let due = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
            if !batch.is_empty() && (full || due) {
                break;
            }
        }
        let env = env.clone();
        let rec = rec.clone();
        let src = src.clone();
        let queue = queue.clone();
        tasks.spawn(async move {
            let _permit = permit;
            invoke_batch(&env, &rec, &src, &queue, batch).await;
        });
    }
}

async fn invoke_batch(
    env: &PipelineEnv,
    rec: &MappingRecord,
    src: &SqsSource,
    queue: &str,
    batch: Vec<SqsMessage>,
) {
    let event = sqs_event(src, &batch);
    let inv = Invocation {
        request_id: uuid::Uuid::new_v4().to_string(),
        payload: Bytes::from(serde_json::to_vec(&event).unwrap_or_default()),
        invoked_arn: rec.function.arn.clone(),
        client_context: None,
        tail_log: false,
    };
    let outcome = outcome_of(env.invoker.invoke(&rec.function.arn, inv).await);
    let failed = match &outcome {
        Outcome::NotRun { .. } => {
            (env.report)(&rec.uuid, Verdict::NotRun);
            return;
        }
        Outcome::Ran {
            function_error: Some(_),
            ..
        } => ItemFailures::All,
        Outcome::Ran { payload, .. } if rec.reports_item_failures() => {
            let ids: Vec<&str> = batch.iter().map(|m| m.message_id.as_str()).collect();
            item_failures(parse_json(payload).as_ref(), &ids)
        }
        Outcome::Ran { .. } => ItemFailures::None,
    };
    let keep: Vec<usize> = match &failed {
        ItemFailures::None => Vec::new(),
        ItemFailures::All => (0..batch.len()).collect(),
        ItemFailures::Some(v) => v.clone(),
    };
    (env.report)(
        &rec.uuid,
        if keep.is_empty() {
            Verdict::Ok
        } else {
            Verdict::FunctionFailed
        },
    );
    let mut errors = BTreeMap::new();
    for (i, m) in batch.iter().enumerate() {
        if keep.contains(&i) {
            continue;
        }
        if let Err(e) = env.sqs.delete_by_name(queue, &m.receipt_handle).await {
            errors.insert(m.message_id.clone(), e.to_string());
        }
    }
    for (id, e) in errors {
        tracing::warn!(mapping = %rec.uuid, message = %id, error = %e, "Could not delete a processed message; it will be delivered again.");
    }
}
