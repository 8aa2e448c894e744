// SPDX-License-Identifier: Apache-2.0
//! Building the AWS SDK Kinesis client that every client command (and later `freshet bench`)
//! uses, and turning SDK errors into messages that name the AWS error code.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::cli::GlobalOpts;

/// Credentials used when the environment has none; Freshet accepts any signature.
const DUMMY_KEY: &str = "freshet";

/// Builds a Kinesis client for `opts.endpoint` over plain HTTP.
///
/// Uses `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) when both keys are
/// set, so the same command can talk to real Kinesis through a proxy; dummy keys otherwise.
pub fn build(opts: &GlobalOpts) -> aws_sdk_kinesis::Client {
    build_with(opts, RetryConfig::standard())
}

/// Like [`build`] but with the SDK's retries off, so `freshet bench` counts every throttle and
/// failure instead of hiding it behind a retry that inflates latency.
pub fn build_for_bench(opts: &GlobalOpts) -> aws_sdk_kinesis::Client {
    build_with(opts, RetryConfig::disabled())
}

fn build_with(opts: &GlobalOpts, retry: RetryConfig) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(opts.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(opts.endpoint.clone())
        .retry_config(retry)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// Builds a Firehose client for `opts.endpoint`, with the same credentials and retries as
/// [`build`].
pub fn build_firehose(opts: &GlobalOpts) -> aws_sdk_firehose::Client {
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(opts.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(opts.endpoint.clone())
        .retry_config(RetryConfig::standard())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_firehose::Client::from_conf(config)
}

/// The environment's keys when both are set, dummy keys otherwise.
fn credentials() -> Credentials {
    match (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(key), Ok(secret)) if !key.is_empty() && !secret.is_empty() => Credentials::new(
            key,
            secret,
            std::env::var("AWS_SESSION_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            None,
            "environment",
        ),
        _ => Credentials::new(DUMMY_KEY, DUMMY_KEY, None, None, DUMMY_KEY),
    }
}

/// Converts an SDK error into one line: `<Operation>: <AwsCode>: <message>` for service
/// errors, or the full cause chain (connection refused, timeout, ...) otherwise.
pub fn aws_error<E, R>(operation: &str, err: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err {
        let e = service.err();
        if let Some(code) = e.code() {
            return anyhow::anyhow!(
                "{operation}: {code}: {}",
                e.message().unwrap_or("(no message)")
            );
        }
    }
    let hint = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            " (is the server running? check --endpoint / FRESHET_ENDPOINT)"
        }
        _ => "",
    };
    anyhow::anyhow!("{operation}: {}{hint}", cause_chain(&err))
}

/// `outer: inner: innermost`, skipping a cause whose text repeats its parent's. Falls back to
/// [`DisplayErrorContext`] (which includes debug output) when the chain is empty.
fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.len() == 1 {
        return DisplayErrorContext(err).to_string();
    }
    parts.join(": ")
}

/// `result.aws("Op")?` converts an SDK error with [`aws_error`].
pub trait AwsResultExt<T> {
    /// Maps the error, naming the operation that failed.
    fn aws(self, operation: &str) -> anyhow::Result<T>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    fn aws(self, operation: &str) -> anyhow::Result<T> {
        self.map_err(|e| aws_error(operation, e))
    }
}

/// The AWS error code of an SDK error, when the service returned one.
pub fn error_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}
