// SPDX-License-Identifier: Apache-2.0
//! Invoke: from a name (and qualifier) to the version that runs, through the executor.
//!
//! - `RequestResponse` waits for the function; `Event` is accepted (202) and runs in the
//!   background, up to `max_queued_events` at a time (beyond: 429); `DryRun` checks
//!   everything and runs nothing (204).
//! - Aliases with `AdditionalVersionWeights` pick a version at random by weight.
//! - Payloads over 6 MB (sync) or 1 MB (async) get RequestTooLargeException (413).
//! - [`Functions`] implements [`Invoker`], so event source mappings see what Invoke sees.

use std::sync::Arc;

use bytes::Bytes;

use crate::functions::error::Error;
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
            let op = match req.invocation_type {
                InvocationType::Event => "InvokeAsync",
                InvocationType::RequestResponse | InvocationType::DryRun => "Invoke",
            };
            return Err(Error::PayloadTooLarge(format!(
                "{} byte payload is too large for the {op} operation (limit: {limit} bytes)",
                req.payload.len()
            )));
        }
        let r = self.reference(&req.function, req.qualifier.as_deref())?;
        let resolved = self.resolve(&r)?;
        let (spec, invoked_arn) = self.runnable(&resolved, r.qualifier.as_deref())?;
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
                let executor = self.executor();
                match executor.invoke(spec, invocation).await {
                    Ok(result) => Ok(InvokeOutcome::Ran(result)),
                    Err(e) => Err(from_invoke_error(e)),
                }
            }
            InvocationType::Event => {
                let permit = self.inner.queued.clone().try_acquire_owned().map_err(|_| {
                    Error::Throttled {
                        reason: "CallerRateLimitExceeded".into(),
                    }
                })?;
                let version = spec.version.clone();
                let executor = self.executor();
                let name = spec.name.clone();
                self.inner.tasks.spawn(async move {
                    let _permit = permit;
                    if let Err(error) = executor.invoke(spec, invocation).await {
                        tracing::warn!(function = %name, %error, "Asynchronous invocation failed.");
                    }
                });
                Ok(InvokeOutcome::Queued(version))
            }
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
        Error::FunctionNotFound { arn } | Error::AliasNotFound { arn } => {
            InvokeError::NotFound(arn)
        }
        Error::Throttled { reason } => InvokeError::Throttled { reason },
        e @ (Error::NotActive { .. } | Error::UpdateInProgress { .. } | Error::Conflict(_)) => {
            InvokeError::NotReady {
                code: "ResourceConflictException".into(),
                message: e.to_string(),
            }
        }
        Error::PayloadTooLarge(m) | Error::EntityTooLarge(m) => InvokeError::RequestTooLarge(m),
        e @ (Error::FunctionExists { .. }
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
                .map_err(to_invoke_error)?;
            if invocation.payload.len() > MAX_SYNC_PAYLOAD {
                return Err(InvokeError::RequestTooLarge(format!(
                    "{} byte payload is too large for the Invoke operation (limit: \
                     {MAX_SYNC_PAYLOAD} bytes)",
                    invocation.payload.len()
                )));
            }
            let invocation = Invocation {
                invoked_arn,
                ..invocation
            };
            self.executor().invoke(spec, invocation).await
        })
    }
}
