// SPDX-License-Identifier: Apache-2.0
//! The `lambda-async-invocations` component: runs due events through the functions (which
//! apply aliases, versions, states and concurrency exactly as for Invoke), decides what
//! follows with [`crate::async_invoke::retry`], sends invocation records to destinations,
//! and only then removes events from the queue.
//!
//! Concurrency: at most the queue's `max_in_flight` events run at once, and no more of one
//! function than its reserved concurrency; a throttle from the executor (the total is in use)
//! backs the event off. Waking: new events and finished attempts wake the loop; otherwise it
//! sleeps until the next event is due, at most [`MAX_NAP`] (the clock may be a test's manual
//! one, which moves without waking anyone).
//!
//! Shutdown drops the attempts in flight (their environments are stopped) and leaves their
//! events queued: they run again after the restart. A destination that cannot be written
//! for a storage failure is retried with back-off until it can; one that refuses the record
//! (a missing queue, a FIFO queue, a record over its size limit) loses that record, as in AWS
//! (`DestinationDeliveryFailures`), and the event is finished.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_runtime::{Component, ComponentError, Context};
use freshet_sqs::{Sqs, SqsError};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde_json::json;

use crate::async_invoke::codec::{EventRecord, LastResponse};
use crate::async_invoke::record::{RecordCondition, RecordInput, invocation_record};
use crate::async_invoke::retry::{self, Attempt, Condition, Decision, Policy, Progress};
use crate::async_invoke::{AsyncQueue, Pending};
use crate::functions::names::LATEST;
use crate::functions::{Functions, qualified};
use crate::spec::{FunctionError, Invocation, InvokeError};

/// Longest sleep between looks at the queue.
const MAX_NAP: Duration = Duration::from_millis(250);

pub(crate) struct Dispatcher {
    queue: AsyncQueue,
    functions: Functions,
    sqs: Sqs,
}

impl Component for Dispatcher {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("lambda-async-invocations")
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            // After a restart by the supervisor, nothing of an earlier run is in flight.
            self.queue.release_running();
            let mut inflight: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
            loop {
                let now = self.now_ms();
                let functions = self.functions.clone();
                for p in self
                    .queue
                    .take_ready(now, |f| functions.reserved_concurrency(f))
                {
                    inflight.push(Box::pin(self.clone().attempt(p)));
                }
                self.queue.maybe_checkpoint().await;
                let nap = self
                    .queue
                    .next_due()
                    .map(|due| Duration::from_millis(due.saturating_sub(now).max(0) as u64))
                    .unwrap_or(MAX_NAP)
                    .min(MAX_NAP);
                tokio::select! {
                    () = ctx.cancelled() => break,
                    Some(()) = inflight.next(), if !inflight.is_empty() => {}
                    () = self.queue.inner.wake.notified() => {}
                    () = tokio::time::sleep(nap) => {}
                }
            }
            // Attempts in flight end here; their events stay queued for the next start.
            drop(inflight);
            if let Err(error) = self.queue.checkpoint().await {
                tracing::warn!(%error, "Checkpointing the asynchronous invocation queue at shutdown failed; the next start replays its journal.");
            }
            Ok(())
        })
    }
}

impl Dispatcher {
    pub(crate) fn new(queue: AsyncQueue, functions: Functions, sqs: Sqs) -> Dispatcher {
        Dispatcher {
            queue,
            functions,
            sqs,
        }
    }

    fn now_ms(&self) -> i64 {
        self.queue.inner.clock.now_ms()
    }

    /// One attempt of the event `p`, and whatever follows it.
    async fn attempt(self: Arc<Self>, p: Pending) {
        let now = self.now_ms();
        let mut rec = match self.queue.read_event(p.offset) {
            Ok(r) => r,
            Err(error) => {
                tracing::error!(offset = p.offset, %error, "Cannot read a queued asynchronous invocation; trying again later.");
                self.queue.defer(
                    p.offset,
                    now.saturating_add(retry::THROTTLE_MAX_MS),
                    p.not_run,
                );
                return;
            }
        };
        let config = self
            .functions
            .event_invoke_config_for(&p.function, p.qualifier.as_deref());
        let policy = Policy::from(&config);
        let attempts_so_far = p.attempts.saturating_add(p.not_run);
        let metrics = self.functions.metrics();
        let (decision, response, count) = if retry::expired(policy, p.accepted_ms, now) {
            let d = Decision::GiveUp(Condition::EventAgeExceeded);
            (d, None, attempts_so_far)
        } else {
            metrics.async_age(&p.function, now.saturating_sub(p.accepted_ms));
            let (attempt, response) = self.run_once(&p, &rec).await;
            let progress = Progress {
                accepted_ms: p.accepted_ms,
                attempts: p.attempts,
                not_run: p.not_run,
            };
            let d = retry::after(policy, progress, attempt, self.now_ms());
            (d, response, attempts_so_far.saturating_add(1))
        };
        let outcome = match decision {
            Decision::Succeeded => {
                self.record_to(
                    config.on_success.as_deref(),
                    &p,
                    &rec,
                    RecordCondition::Success,
                    count,
                    response.as_ref(),
                )
                .await;
                self.queue.finish(p.offset).await
            }
            Decision::GiveUp(condition) => {
                metrics.async_dropped(&p.function);
                let condition = match condition {
                    Condition::RetriesExhausted => RecordCondition::RetriesExhausted,
                    Condition::EventAgeExceeded => RecordCondition::EventAgeExceeded,
                };
                // The last answer the function gave, this time or an earlier one.
                let last = response.as_ref().or(rec.last_response.as_ref());
                if config.on_failure.is_none() {
                    tracing::warn!(
                        function = %p.function,
                        request_id = %rec.request_id,
                        condition = condition.as_str(),
                        "Discarding an asynchronous invocation; it has no OnFailure destination."
                    );
                }
                self.record_to(
                    config.on_failure.as_deref(),
                    &p,
                    &rec,
                    condition,
                    count,
                    last,
                )
                .await;
                self.queue.finish(p.offset).await
            }
            Decision::Drop => {
                metrics.async_dropped(&p.function);
                tracing::warn!(function = %p.function, request_id = %rec.request_id, "Discarding an asynchronous invocation of a function that no longer exists.");
                self.queue.finish(p.offset).await
            }
            Decision::Retry {
                due_ms,
                function_error: true,
            } => {
                rec.attempts = p.attempts.saturating_add(1);
                rec.due_ms = due_ms;
                if response.is_some() {
                    rec.last_response = response;
                }
                self.queue.requeue(p.offset, rec).await
            }
            Decision::Retry {
                due_ms,
                function_error: false,
            } => {
                self.queue
                    .defer(p.offset, due_ms, p.not_run.saturating_add(1));
                Ok(())
            }
        };
        if let Err(error) = outcome {
            tracing::warn!(offset = p.offset, %error, "Could not update the asynchronous invocation queue; the event runs again.");
        }
    }

    /// Runs the function once; what it came to and, if it ran, its answer.
    async fn run_once(&self, p: &Pending, rec: &EventRecord) -> (Attempt, Option<LastResponse>) {
        if self.functions.reserved_concurrency(&p.function) == Some(0) {
            return (Attempt::Refused, None);
        }
        let invocation = Invocation {
            request_id: rec.request_id.clone(),
            payload: rec.payload.clone(),
            invoked_arn: String::new(),
            client_context: rec.client_context.clone(),
            tail_log: false,
        };
        let result = self
            .functions
            .run_queued(&p.function, p.qualifier.as_deref(), invocation)
            .await;
        match result {
            Ok(r) => {
                let attempt = match r.function_error {
                    Some(_) => Attempt::FunctionError,
                    None => Attempt::Succeeded,
                };
                let response = LastResponse {
                    status: 200,
                    executed_version: r.executed_version,
                    function_error: r.function_error,
                    payload: r.payload,
                };
                (attempt, Some(response))
            }
            // The function ran, but its answer could not be taken: a function error.
            Err(InvokeError::ResponseTooLarge(m) | InvokeError::RequestTooLarge(m)) => {
                let doc = json!({"errorMessage": m, "errorType": "Function.ResponseSizeTooLarge"});
                let response = LastResponse {
                    status: 200,
                    executed_version: p.qualifier.clone().unwrap_or_else(|| LATEST.into()),
                    function_error: Some(FunctionError::Unhandled),
                    payload: Bytes::from(doc.to_string()),
                };
                (Attempt::FunctionError, Some(response))
            }
            Err(InvokeError::NotFound(_)) => (Attempt::Gone, None),
            Err(
                InvokeError::Throttled { .. }
                | InvokeError::NotReady { .. }
                | InvokeError::Service(_),
            ) => (Attempt::NotRun, None),
        }
    }

    /// Sends the invocation record of `rec` to `destination` (an SQS queue ARN), if any.
    async fn record_to(
        &self,
        destination: Option<&str>,
        p: &Pending,
        rec: &EventRecord,
        condition: RecordCondition,
        count: u32,
        response: Option<&LastResponse>,
    ) {
        let Some(destination) = destination else {
            return;
        };
        let arn = qualified(
            &self.functions.function_arn(&p.function),
            Some(p.qualifier.as_deref().unwrap_or(LATEST)),
        );
        let doc = invocation_record(&RecordInput {
            request_id: &rec.request_id,
            function_arn: &arn,
            condition,
            invoke_count: count,
            request_payload: &rec.payload,
            response,
            now_ms: self.now_ms(),
        })
        .to_string();
        let mut failures = 0u32;
        loop {
            match self.sqs.send(destination, &doc, BTreeMap::new()).await {
                Ok(_) => return,
                Err(SqsError::Sqs(error)) => {
                    self.functions.metrics().destination_failed(&p.function);
                    tracing::warn!(function = %p.function, %destination, %error, "The destination refused an asynchronous invocation record; it is lost (DestinationDeliveryFailures).");
                    return;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(function = %p.function, %destination, %error, "Could not write an asynchronous invocation record; retrying.");
                    let delay = retry::not_run_delay(failures);
                    tokio::time::sleep(Duration::from_millis(delay.max(0) as u64)).await;
                }
            }
        }
    }
}
