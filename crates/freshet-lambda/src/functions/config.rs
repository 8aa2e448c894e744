// SPDX-License-Identifier: Apache-2.0
//! The checks Lambda makes on a function's configuration beyond the model's constraints:
//! runtimes Freshet runs, timeouts and memory within Lambda's limits, environment variables
//! (reserved keys, the 4 KB limit), each with AWS's code and message. Pure.

use std::collections::BTreeMap;

use freshet_protocol::validate::{Shown, Validator};

use crate::functions::error::Error;
use crate::spec::Runtime;

/// Lambda's longest timeout (seconds).
pub const MAX_TIMEOUT: i64 = 900;
/// Lambda's largest memory size (MB) for functions Freshet runs.
pub const MAX_MEMORY: i64 = 10_240;
/// Lambda's smallest memory size (MB).
pub const MIN_MEMORY: i64 = 128;
/// The smallest `/tmp` (MB).
pub const MIN_EPHEMERAL: i64 = 512;
/// The largest `/tmp` (MB).
pub const MAX_EPHEMERAL: i64 = 10_240;
/// The limit on the environment, measured as its JSON text.
pub const MAX_ENV_BYTES: usize = 4096;

/// The runtime identifiers of the model (botocore 1.43), for the enum message of an unknown one.
const MODEL_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
    "ruby4.0",
];

/// Variables Lambda sets itself and refuses in `Environment.Variables`.
const RESERVED_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// Model checks of the members Lambda limits more tightly than the model (timeout, memory),
/// added to the operation's validator.
pub fn validate_limits(v: &mut Validator, timeout: Option<i64>, memory: Option<i64>) {
    v.int("timeout", timeout, Some(1), Some(MAX_TIMEOUT));
    v.int("memorySize", memory, Some(MIN_MEMORY), Some(MAX_MEMORY));
}

/// The model's bounds of `EphemeralStorage.Size` (MB).
pub fn validate_ephemeral_storage(v: &mut Validator, size: Option<i64>) {
    v.int(
        "ephemeralStorage.size",
        size,
        Some(MIN_EPHEMERAL),
        Some(MAX_EPHEMERAL),
    );
}

/// The model's checks of `Architectures`: exactly one of `x86_64` and `arm64`, with Coral's
/// messages (the list shown as Java prints it).
pub fn validate_architectures(v: &mut Validator, list: Option<&[String]>) {
    let Some(list) = list else { return };
    let shown = format!("[{}]", list.join(", "));
    v.list_len("architectures", Some(list.len()), &shown, 1, 1);
    if list.iter().any(|a| a != "x86_64" && a != "arm64") {
        v.fail(
            Shown::Text(&shown),
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, \
             arm64], Member must not be null]",
        );
    }
}

/// The environment's key pattern (`[a-zA-Z]([a-zA-Z0-9_])+`). The map is sensitive, so AWS
/// shows no value in the message.
pub fn validate_env_keys(v: &mut Validator, env: Option<&BTreeMap<String, String>>) {
    let Some(env) = env else { return };
    let bad = env.keys().any(|k| {
        let b = k.as_bytes();
        b.len() < 2
            || !b[0].is_ascii_alphabetic()
            || !b[1..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
    });
    if bad {
        v.fail(
            Shown::Null,
            "environment.variables",
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: \
             [a-zA-Z]([a-zA-Z0-9_])+]",
        );
    }
}

/// Runtimes of the model that Lambda refuses for new functions and updates (deprecation
/// complete: the "block function create" date is past).
const DEPRECATED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "java8",
    "python2.7",
    "python3.6",
    "python3.7",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
];

/// A runtime Freshet runs, or the InvalidParameterValueException Lambda answers with:
///
/// - an identifier Lambda does not know: Lambda's enum message, which (unlike a model
///   constraint) is neither a ValidationException nor quoted, and lists the runtimes that can
///   be created today;
/// - a deprecated one: Lambda's "no longer supported" message;
/// - one Lambda runs and Freshet does not (`java21`): Freshet's own text naming the runtimes
///   it runs (a deliberate difference).
pub fn runtime(id: &str) -> Result<Runtime, Error> {
    if let Some(r) = Runtime::parse(id) {
        return Ok(r);
    }
    if DEPRECATED_RUNTIMES.contains(&id) {
        return Err(Error::InvalidParameter(format!(
            "The runtime parameter of {id} is no longer supported for creating or updating AWS \
             Lambda functions. We recommend you use a supported runtime while creating or \
             updating functions."
        )));
    }
    if !MODEL_RUNTIMES.contains(&id) {
        let current: Vec<&str> = MODEL_RUNTIMES
            .iter()
            .copied()
            .filter(|r| !DEPRECATED_RUNTIMES.contains(r))
            .collect();
        return Err(Error::InvalidParameter(format!(
            "Value {id} at 'runtime' failed to satisfy constraint: Member must satisfy enum value \
             set: [{}] or be a valid ARN",
            current.join(", ")
        )));
    }
    let supported: Vec<&str> = Runtime::SUPPORTED.iter().map(|r| r.id()).collect();
    Err(Error::InvalidParameter(format!(
        "The runtime parameter of {id} is not supported by Freshet, which runs functions with \
         local interpreters. Supported runtimes: {}.",
        supported.join(", ")
    )))
}

/// Lambda's longest function name. The model allows 140 characters, for ARNs.
pub const MAX_NAME: usize = 64;

/// The name of a new function within [`MAX_NAME`]: Lambda answers a longer one with a
/// Coral-format message but as InvalidParameterValueException, not ValidationException.
pub fn function_name_length(name: &str) -> Result<(), Error> {
    if name.chars().count() > MAX_NAME {
        return Err(Error::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy \
             constraint: Member must have length less than or equal to {MAX_NAME}"
        )));
    }
    Ok(())
}

/// Reserved keys and the 4 KB limit, with Lambda's messages.
pub fn environment(env: &BTreeMap<String, String>) -> Result<(), Error> {
    let reserved: Vec<&str> = env
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_KEYS.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Lambda was unable to configure your environment variables because the environment \
             variables you have provided contains reserved keys that are currently not \
             supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = serde_json::to_string(env).unwrap_or_default();
    if measured.len() > MAX_ENV_BYTES {
        return Err(Error::InvalidParameter(format!(
            "Lambda was unable to configure your environment variables because the environment \
             variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn runtimes_freshet_cannot_run_name_the_ones_it_can() {
        assert_eq!(runtime("python3.12"), Ok(Runtime::Python(12)));
        let e = runtime("java21").expect_err("java");
        let msg = e.to_string();
        assert!(msg.starts_with("The runtime parameter of java21 is not supported by Freshet"));
        assert!(
            msg.contains("python3.9") && msg.contains("provided.al2023"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_runtimes_get_lambdas_unquoted_enum_message() {
        let msg = runtime("cobol").expect_err("unknown").to_string();
        assert!(
            msg.starts_with(
                "Value cobol at 'runtime' failed to satisfy constraint: Member must satisfy enum \
                 value set: [nodejs16.x, java8.al2, java11, python3.8, python3.9, "
            ),
            "{msg}"
        );
        assert!(msg.ends_with(", ruby4.0] or be a valid ARN"), "{msg}");
        assert!(
            !msg.contains("python2.7") && !msg.contains("nodejs12.x"),
            "{msg}"
        );
        let upper = runtime("PYTHON3.9").expect_err("case matters").to_string();
        assert!(upper.starts_with("Value PYTHON3.9 at 'runtime'"), "{upper}");
    }

    #[test]
    fn names_over_64_characters_are_an_invalid_parameter() {
        assert!(function_name_length(&"a".repeat(64)).is_ok());
        let long = "a".repeat(65);
        assert_eq!(
            function_name_length(&long),
            Err(Error::InvalidParameter(format!(
                "1 validation error detected: Value '{long}' at 'functionName' failed to satisfy \
                 constraint: Member must have length less than or equal to 64"
            )))
        );
    }

    #[test]
    fn deprecated_runtimes_are_no_longer_supported() {
        assert_eq!(
            runtime("python3.7").expect_err("deprecated"),
            Error::InvalidParameter(
                "The runtime parameter of python3.7 is no longer supported for creating or \
                 updating AWS Lambda functions. We recommend you use a supported runtime while \
                 creating or updating functions."
                    .into()
            )
        );
        assert!(runtime("nodejs12.x").is_err());
    }

    #[test]
    fn architectures_and_ephemeral_storage_outside_the_model_fail_validation() {
        let list = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut v = Validator::new();
        validate_architectures(&mut v, Some(&list(&["x86_64", "arm64"])));
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed \
                 to satisfy constraint: Member must have length less than or equal to 1"
            )
        );
        let mut v = Validator::new();
        validate_architectures(&mut v, Some(&list(&["X86_64"])));
        validate_ephemeral_storage(&mut v, Some(100));
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "2 validation errors detected: Value '[X86_64]' at 'architectures' failed to \
                 satisfy constraint: Member must satisfy constraint: [Member must satisfy enum \
                 value set: [x86_64, arm64], Member must not be null]; Value '100' at \
                 'ephemeralStorage.size' failed to satisfy constraint: Member must have value \
                 greater than or equal to 512"
            )
        );
        let mut v = Validator::new();
        validate_architectures(&mut v, Some(&list(&["arm64"])));
        validate_ephemeral_storage(&mut v, Some(10_240));
        assert_eq!(v.finish(), None);
    }

    #[test]
    fn timeouts_and_memory_over_lambdas_limits_fail_validation() {
        let mut v = Validator::new();
        validate_limits(&mut v, Some(901), Some(64));
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "2 validation errors detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900; Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"
            )
        );
    }

    #[test]
    fn reserved_keys_and_big_environments_are_refused() {
        let env = BTreeMap::from([("AWS_REGION".to_string(), "x".to_string())]);
        assert!(
            environment(&env)
                .expect_err("reserved")
                .to_string()
                .ends_with("Reserved keys used in this request: AWS_REGION")
        );
        let env = BTreeMap::from([("BIG".to_string(), "x".repeat(4100))]);
        let msg = environment(&env).expect_err("big").to_string();
        assert!(msg.contains("exceeded the 4KB limit. String measured: {\"BIG\":\"xxx"));
        let env = BTreeMap::from([("OK".to_string(), "x".repeat(4000))]);
        assert!(environment(&env).is_ok());
    }

    proptest! {
        #[test]
        fn key_validation_accepts_exactly_the_model_pattern(key in "[a-zA-Z0-9_ -]{0,8}") {
            let mut v = Validator::new();
            let env = BTreeMap::from([(key.clone(), String::new())]);
            validate_env_keys(&mut v, Some(&env));
            let b = key.as_bytes();
            let ok = b.len() >= 2 && b[0].is_ascii_alphabetic()
                && b[1..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            prop_assert_eq!(v.finish().is_none(), ok);
        }
    }
}
