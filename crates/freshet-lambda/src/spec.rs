// SPDX-License-Identifier: Apache-2.0
//! What it takes to run a function, and what an invocation carries in and out.
//!
//! Three parts of the crate meet here and nowhere else:
//!
//! - the Lambda API owns function records (versions, aliases, code, configuration) and turns the
//!   one an invocation names into a [`FunctionSpec`];
//! - the executor runs a [`FunctionSpec`]'s handler in warm local processes through the Lambda
//!   Runtime API and answers an [`Invocation`] with an [`InvocationResult`];
//! - event source mappings (and, later, Firehose transforms) invoke through the [`Invoker`]
//!   trait, by function name or ARN, without knowing either of the above.
//!
//! Invariant: a [`FunctionSpec`] is immutable. Any change to a function's code or configuration
//! makes a new spec with a higher `revision`; environments started from an older revision are
//! never handed new invocations.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

/// A runtime Freshet can run: the interpreter comes from the machine, the runtime client from
/// Freshet (Python, Node) or the function's own `bootstrap` (`provided.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// `python3.<minor>`, minor 9 to 13.
    Python(u8),
    /// `nodejs<major>.x`, major 18, 20 or 22.
    Node(u8),
    /// `provided.al2`.
    ProvidedAl2,
    /// `provided.al2023`.
    ProvidedAl2023,
}

impl Runtime {
    /// Every runtime Freshet runs, in the order error messages list them.
    pub const SUPPORTED: &'static [Runtime] = &[
        Runtime::Python(9),
        Runtime::Python(10),
        Runtime::Python(11),
        Runtime::Python(12),
        Runtime::Python(13),
        Runtime::Node(18),
        Runtime::Node(20),
        Runtime::Node(22),
        Runtime::ProvidedAl2,
        Runtime::ProvidedAl2023,
    ];

    /// Parses an AWS runtime identifier (`python3.12`, `nodejs20.x`, `provided.al2023`).
    /// `None` for identifiers Freshet does not run, including valid AWS ones (`java21`).
    pub fn parse(s: &str) -> Option<Runtime> {
        Runtime::SUPPORTED.iter().copied().find(|r| r.id() == s)
    }

    /// The AWS identifier, as the API shows it.
    pub fn id(self) -> &'static str {
        match self {
            Runtime::Python(9) => "python3.9",
            Runtime::Python(10) => "python3.10",
            Runtime::Python(11) => "python3.11",
            Runtime::Python(12) => "python3.12",
            Runtime::Python(13) => "python3.13",
            Runtime::Python(_) => "python3",
            Runtime::Node(18) => "nodejs18.x",
            Runtime::Node(20) => "nodejs20.x",
            Runtime::Node(22) => "nodejs22.x",
            Runtime::Node(_) => "nodejs",
            Runtime::ProvidedAl2 => "provided.al2",
            Runtime::ProvidedAl2023 => "provided.al2023",
        }
    }

    /// True for the runtimes that run the function's own `bootstrap` executable.
    pub fn is_provided(self) -> bool {
        matches!(self, Runtime::ProvidedAl2 | Runtime::ProvidedAl2023)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Everything the executor needs to start an execution environment for one version of one
/// function. Built by the Lambda API from its records; immutable (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The function's name.
    pub name: String,
    /// The unqualified function ARN (`arn:aws:lambda:<region>:<account>:function:<name>`).
    pub arn: String,
    /// `$LATEST` or a published version number.
    pub version: String,
    /// How to run the handler.
    pub runtime: Runtime,
    /// The handler string (`module.function`, `file.export`; for `provided.*`, passed to the
    /// bootstrap as `_HANDLER`).
    pub handler: String,
    /// The function's code, unpacked; the executor only reads it and runs processes in it.
    pub code_dir: PathBuf,
    /// Hex SHA-256 of the deployment package (`CodeSha256` is its base64 form).
    pub code_sha256: String,
    /// The invocation timeout (1 s to 900 s).
    pub timeout: Duration,
    /// Configured memory in MB (128 to 10,240), reported and exported, not enforced.
    pub memory_mb: u32,
    /// The function's environment variables (`Environment.Variables`).
    pub environment: BTreeMap<String, String>,
    /// The CloudWatch Logs group its output goes to (`/aws/lambda/<name>` by default).
    pub log_group: String,
    /// Reserved concurrency (PutFunctionConcurrency); `None` when unreserved.
    pub reserved_concurrency: Option<u32>,
    /// Increases with every change of code or configuration of this function version.
    pub revision: u64,
}

/// One invocation's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The request id (a UUID), shown to the handler and in the START/END/REPORT lines.
    pub request_id: String,
    /// The event, as sent (JSON for everything Freshet sends; Invoke passes bytes through).
    pub payload: Bytes,
    /// The ARN the caller invoked (qualified when the caller gave a qualifier or alias).
    pub invoked_arn: String,
    /// `X-Amz-Client-Context`, base64-decoded (JSON), when the caller sent one.
    pub client_context: Option<String>,
    /// Whether the caller wants the last 4 KB of the invocation's log (`LogType: Tail`).
    pub tail_log: bool,
}

/// How a handler failed, as `X-Amz-Function-Error` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionError {
    /// The handler raised or returned an error, timed out, or its process died.
    Unhandled,
    /// The handler itself chose the error (`Handled`, from older runtimes).
    Handled,
}

impl FunctionError {
    /// The `X-Amz-Function-Error` value.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionError::Unhandled => "Unhandled",
            FunctionError::Handled => "Handled",
        }
    }
}

/// One invocation's outcome, when the function ran (successfully or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationResult {
    /// The handler's response, or AWS's error document
    /// (`{"errorMessage","errorType","stackTrace"}`) when `function_error` is set.
    pub payload: Bytes,
    /// Set when the function failed.
    pub function_error: Option<FunctionError>,
    /// The last 4 KB of the invocation's log lines, when the invocation asked for them.
    pub log_tail: Option<String>,
    /// The version that ran (`$LATEST` or a number).
    pub executed_version: String,
    /// How long the handler ran.
    pub duration: Duration,
    /// Set when this invocation started a new environment: how long its init took.
    pub init_duration: Option<Duration>,
}

/// Why an invocation did not run the function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// No function (or version, or alias) by that name.
    #[error("Function not found: {0}")]
    NotFound(String),
    /// Concurrency exhausted (reserved, or the configured total): AWS's 429.
    #[error("Rate Exceeded.")]
    Throttled {
        /// `Reason` of the TooManyRequestsException, e.g. `ReservedFunctionConcurrentInvocationLimitExceeded`.
        reason: String,
    },
    /// The function is not in a state that can run (Pending, Failed, or reserved concurrency 0).
    #[error("{message}")]
    NotReady {
        /// The AWS error code, e.g. `ResourceConflictException`.
        code: String,
        /// The message.
        message: String,
    },
    /// The payload is over the limit (6 MB sync, 1 MB async).
    #[error("{0}")]
    RequestTooLarge(String),
    /// The function's response is over 6 MB.
    #[error("{0}")]
    ResponseTooLarge(String),
    /// Freshet could not start or talk to an environment (the interpreter is missing, a spawn
    /// failed): AWS's ServiceException family.
    #[error("{0}")]
    Service(String),
}

/// A boxed future, so [`Invoker`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Invokes functions by name. Implemented by the Lambda service; used by event source
/// mappings and other in-process callers, which thereby see exactly what Invoke sees
/// (aliases, versions, throttling) and never touch the executor directly.
pub trait Invoker: Send + Sync + 'static {
    /// Invokes `function` (a name, partial or full ARN, optionally qualified with
    /// `:version` or `:alias`) synchronously with `invocation`.
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        invocation: Invocation,
    ) -> BoxFuture<'a, Result<InvocationResult, InvokeError>>;

    /// A stream event source mapping's invocation of `function` finished `age_ms` after the
    /// batch's last record arrived (AWS/Lambda IteratorAge). The default records nothing.
    fn stream_batch_done(&self, _function: &str, _age_ms: i64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_runtime_parses_from_its_own_id() {
        for r in Runtime::SUPPORTED {
            assert_eq!(Runtime::parse(r.id()), Some(*r));
        }
    }

    #[test]
    fn runtimes_freshet_cannot_run_do_not_parse() {
        for id in [
            "java21",
            "python2.7",
            "python3.8",
            "nodejs16.x",
            "provided",
            "",
            "PYTHON3.12",
        ] {
            assert_eq!(Runtime::parse(id), None, "{id}");
        }
    }
}
