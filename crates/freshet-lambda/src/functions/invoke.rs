// SPDX-License-Identifier: Apache-2.0
//! Invoke: from a name (and qualifier) to the version that runs, through the executor.
//!
//! - `RequestResponse` waits for the function; `Event` is queued durably on the
//!   [`AsyncQueue`] and answered 202 (beyond its bound: 429), then run, retried and recorded
//!   by its dispatcher (`crate::async_invoke`); `DryRun` checks everything and runs nothing
//!   (204).
//! - Event invocations are accepted while reserved concurrency is 0 and go to the OnFailure
//!   destination without running, as AWS documents.
//! - Aliases with `AdditionalVersionWeights` pick a version at random by weight.
//! - Payloads over 6 MB (sync) or 1 MB (async) get RequestTooLargeException (413).
//! - [`Functions`] implements [`Invoker`], so event source mappings see what Invoke sees.

use std::sync::Arc;

use bytes::Bytes;

use crate::async_invoke::{NewEvent, QueueError};
use crate::functions::error::Error;
use crate::functions::names::FunctionRef;
use crate::functions::record::State;
use crate::functions::{Functions, Resolved, version_of};
use crate::spec::{BoxFuture, FunctionSpec, Invocation, InvocationResult, InvokeError, Invoker};

/// The largest synchronous payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// The largest asynchronous payload (1 MB, AWS's limit since 2025).
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// What runs functions: the executor (`exec`), or a fake in tests.
pub trait Execute: Send + Sync + 'static {
    /// Runs one invocation of `spec`.
    fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>>;

    /// Stops the environments of the function with unqualified ARN `arn` (it was deleted).
    /// The default does nothing.
    fn retire(&self, _arn: &str) {}
}

impl Execute for crate::exec::Executor {
    fn invoke(
        &self,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>> {
        Box::pin(crate::exec::Executor::invoke(self, spec, invocation))
    }

    fn retire(&self, arn: &str) {
        crate::exec::Executor::retire(self, arn);
    }
}

/// The executor before one is installed: every invocation fails as a service error.
pub(crate) struct NoExecutor;

impl Execute for NoExecutor {
    fn invoke(
        &self,
        _spec: Arc<FunctionSpec>,
        _invocation: Invocation,
    ) -> BoxFuture<'_, Result<InvocationResult, InvokeError>> {
        Box::pin(async {
            Err(InvokeError::Service(
                "Freshet has no function executor configured.".into(),
            ))
        })
    }
}

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// Synchronous (the default).
    RequestResponse,
    /// Asynchronous: queued, 202.
    Event,
    /// Validation only: 204.
    DryRun,
}

/// One Invoke call.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// `FunctionName` as given.
    pub function: String,
    /// `Qualifier`, when given apart from the name.
    pub qualifier: Option<String>,
    /// The invocation type.
    pub invocation_type: InvocationType,
    /// `LogType: Tail`.
    pub tail_log: bool,
    /// `X-Amz-Client-Context`, base64-decoded.
    pub client_context: Option<String>,
    /// The event.
    pub payload: Bytes,
}

/// What Invoke did.
#[derive(Debug, Clone)]
pub enum InvokeOutcome {
    /// The function ran (successfully or with a function error).
    Ran(InvocationResult),
    /// Accepted for asynchronous invocation; the version it will run.
    Queued(String),
    /// A dry run passed; the version it would run.
    DryRun(String),
}

impl Functions {
    /// Invoke.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeOutcome, Error> {
        let limit = match req.invocation_type {
            InvocationType::Event => MAX_ASYNC_PAYLOAD,
            InvocationType::RequestResponse | InvocationType::DryRun => MAX_SYNC_PAYLOAD,
        };
        if req.payload.len() > limit {
            // Lambda names the invocation type, not the operation.
            let kind = match req.invocation_type {
                InvocationType::Event => "Event",
                InvocationType::RequestResponse => "RequestResponse",
                InvocationType::DryRun => "DryRun",
            };
            return Err(Error::PayloadTooLarge(payload_too_large(
                req.payload.len(),
                kind,
                limit,
            )));
        }
        let r = self.reference(&req.function, req.qualifier.as_deref())?;
        let resolved = self.resolve(&r)?;
        if req.invocation_type == InvocationType::Event {
            return self.queue_event(r, &resolved, req).await;
        }
        let (spec, invoked_arn) = self
            .runnable(&resolved, r.qualifier.as_deref())
            .inspect_err(|e| self.count_refusal(e, &r.name, r.qualifier.as_deref()))?;
        let invocation = Invocation {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload: req.payload,
            invoked_arn,
            client_context: req.client_context,
            tail_log: req.tail_log,
        };
        match req.invocation_type {
            InvocationType::DryRun => Ok(InvokeOutcome::DryRun(spec.version.clone())),
            InvocationType::RequestResponse => {
                match self
                    .execute(&r.name, r.qualifier.as_deref(), spec, invocation)
                    .await
                {
                    Ok(result) => Ok(InvokeOutcome::Ran(result)),
                    Err(e) => Err(from_invoke_error(e)),
                }
            }
            // Queued above.
            InvocationType::Event => Ok(InvokeOutcome::Queued(spec.version.clone())),
        }
    }

    /// Queues an Event invocation durably; answers once it is.
    async fn queue_event(
        &self,
        r: FunctionRef,
        resolved: &Resolved,
        req: InvokeRequest,
    ) -> Result<InvokeOutcome, Error> {
        match resolved.config.state {
            State::Active => {}
            State::Pending | State::Failed => {
                return Err(Error::NotActive {
                    state: resolved.config.state.as_str().to_owned(),
                });
            }
        }
        let queue = self.async_queue().ok_or_else(|| {
            Error::Service("Freshet has no asynchronous invocation queue configured.".into())
        })?;
        let function = r.name.clone();
        queue
            .enqueue(NewEvent {
                function: r.name,
                qualifier: r.qualifier,
                request_id: uuid::Uuid::new_v4().to_string(),
                client_context: req.client_context,
                payload: req.payload,
            })
            .await
            .map_err(|e| match e {
                QueueError::Full => Error::Throttled {
                    reason: "CallerRateLimitExceeded".into(),
                },
                QueueError::Storage(m) => Error::Storage(m),
            })?;
        self.metrics().async_received(&function);
        Ok(InvokeOutcome::Queued(resolved.config.version.clone()))
    }

    /// Runs one queued Event invocation of `name` at `qualifier` (`None`: `$LATEST`), as
    /// Invoke would run it now: the asynchronous queue's dispatcher calls this.
    pub(crate) async fn run_queued(
        &self,
        name: &str,
        qualifier: Option<&str>,
        invocation: Invocation,
    ) -> Result<InvocationResult, InvokeError> {
        let r = FunctionRef {
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
            region: None,
            account: None,
        };
        let resolved = self.resolve(&r).map_err(to_invoke_error)?;
        let (spec, invoked_arn) = self
            .runnable(&resolved, qualifier)
            .inspect_err(|e| self.count_refusal(e, name, qualifier))
            .map_err(to_invoke_error)?;
        let invocation = Invocation {
            invoked_arn,
            ..invocation
        };
        self.execute(name, qualifier, spec, invocation).await
    }

    /// Runs an invocation on the executor, counting it in the AWS/Lambda metrics.
    async fn execute(
        &self,
        function: &str,
        qualifier: Option<&str>,
        spec: Arc<FunctionSpec>,
        invocation: Invocation,
    ) -> Result<InvocationResult, InvokeError> {
        let metrics = self.metrics();
        let started = metrics.start(function, qualifier);
        let result = self.executor().invoke(spec, invocation).await;
        metrics.finish(started, &result);
        result
    }

    /// Counts an invocation refused before it ran (Throttles).
    fn count_refusal(&self, e: &Error, function: &str, qualifier: Option<&str>) {
        if matches!(e, Error::Throttled { .. }) {
            self.metrics().throttled(function, qualifier);
        }
    }

    pub(crate) fn executor(&self) -> Arc<dyn Execute> {
        match self.inner.executor.read() {
            Ok(e) => e.clone(),
            Err(_) => Arc::new(NoExecutor),
        }
    }

    /// The spec to run for a resolved reference (an alias's weighted version picked here)
    /// and the ARN the handler sees as invoked, or why it cannot run now.
    fn runnable(
        &self,
        resolved: &Resolved,
        qualifier: Option<&str>,
    ) -> Result<(Arc<FunctionSpec>, String), Error> {
        let mut config = resolved.config.clone();
        if let Some(alias) = &resolved.alias
            && let Some((version, weight)) = alias.weights.iter().next()
            && rand::random::<f64>() < *weight
            && let Some(e) = self
                .read(|s| s.get(&resolved.record.name).cloned())
                .flatten()
            && let Some(v) = version_of(&e, version)
        {
            config = v;
        }
        match config.state {
            State::Active => {}
            State::Pending | State::Failed => {
                return Err(Error::NotActive {
                    state: config.state.as_str().to_owned(),
                });
            }
        }
        if resolved.record.reserved_concurrency == Some(0) {
            return Err(Error::Throttled {
                reason: "ReservedFunctionConcurrentInvocationLimitExceeded".into(),
            });
        }
        let spec = self.spec_of(&resolved.record, &config)?;
        let invoked = crate::functions::qualified(&spec.arn, qualifier);
        Ok((Arc::new(spec), invoked))
    }
}

/// Lambda's RequestTooLargeException text for a payload over the limit of its invocation type.
pub fn payload_too_large(len: usize, invocation_type: &str, limit: usize) -> String {
    format!(
        "{len} byte payload is too large for the {invocation_type} invocation type (limit {limit} bytes)"
    )
}

/// The executor's refusal as a Lambda API error.
fn from_invoke_error(e: InvokeError) -> Error {
    match e {
        InvokeError::NotFound(what) => Error::FunctionNotFound { arn: what },
        InvokeError::Throttled { reason } => Error::Throttled { reason },
        InvokeError::NotReady { code: _, message } => Error::Conflict(message),
        InvokeError::RequestTooLarge(m) => Error::PayloadTooLarge(m),
        InvokeError::ResponseTooLarge(m) => Error::Service(m),
        InvokeError::Service(m) => Error::Service(m),
    }
}

/// A Lambda API error as an invoker's caller sees it.
fn to_invoke_error(e: Error) -> InvokeError {
    match e {
        Error::FunctionNotFound { arn }
        | Error::AliasNotFound { arn }
        | Error::ResourceNotFound(arn) => InvokeError::NotFound(arn),
        Error::Throttled { reason } => InvokeError::Throttled { reason },
        e @ (Error::NotActive { .. } | Error::UpdateInProgress { .. } | Error::Conflict(_)) => {
            InvokeError::NotReady {
                code: "ResourceConflictException".into(),
                message: e.to_string(),
            }
        }
        Error::PayloadTooLarge(m) | Error::EntityTooLarge(m) => InvokeError::RequestTooLarge(m),
        e @ (Error::FunctionExists { .. }
        | Error::OtherRegion { .. }
        | Error::OtherAccount { .. }
        | Error::AliasExists { .. }
        | Error::InvalidParameter(_)
        | Error::Validation(_)
        | Error::InvalidRequestContent(_)
        | Error::Unsupported(_)
        | Error::Mapping(_)
        | Error::PreconditionFailed(_)
        | Error::Storage(_)
        | Error::Service(_)) => InvokeError::Service(e.to_string()),
    }
}

impl Invoker for Functions {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        invocation: Invocation,
    ) -> BoxFuture<'a, Result<InvocationResult, InvokeError>> {
        Box::pin(async move {
            let r = self.reference(function, None).map_err(to_invoke_error)?;
            let resolved = self.resolve(&r).map_err(to_invoke_error)?;
            let (spec, invoked_arn) = self
                .runnable(&resolved, r.qualifier.as_deref())
                .inspect_err(|e| self.count_refusal(e, &r.name, r.qualifier.as_deref()))
                .map_err(to_invoke_error)?;
            if invocation.payload.len() > MAX_SYNC_PAYLOAD {
                return Err(InvokeError::RequestTooLarge(payload_too_large(
                    invocation.payload.len(),
                    "RequestResponse",
                    MAX_SYNC_PAYLOAD,
                )));
            }
            let invocation = Invocation {
                invoked_arn,
                ..invocation
            };
            self.execute(&r.name, r.qualifier.as_deref(), spec, invocation)
                .await
        })
    }

    fn stream_batch_done(&self, function: &str, age_ms: i64) {
        if let Ok(r) = self.reference(function, None) {
            let age = std::time::Duration::from_millis(u64::try_from(age_ms).unwrap_or(0));
            self.metrics().iterator_age(&r.name, age);
        }
    }
}
