// SPDX-License-Identifier: Apache-2.0
//! Bad input through `aws-sdk-lambda`: each case gets the code, status and exact message AWS
//! answered with in LocalStack's recorded snapshots of real AWS (`test_lambda_api`,
//! `test_lambda`, `event_source_mapping/test_api`).

use std::collections::HashMap;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, Architecture, EphemeralStorage, EventSourcePosition, FunctionCode,
    InvocationType, Runtime,
};

use super::{client, create_active, python_zip, server};
use crate::it::common::{ApiError, expect_err};

const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function";
const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// Asserts the code, exact message and the status Lambda sends that code with.
#[track_caller]
fn assert_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    let e: ApiError = expect_err(result);
    let status = match code {
        "ResourceNotFoundException" => 404,
        "ResourceConflictException" => 409,
        "PreconditionFailedException" => 412,
        "RequestTooLargeException" => 413,
        _ => 400,
    };
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (Some(status), Some(code), Some(message)),
        "{e:?}"
    );
}

/// A CreateFunction of a valid Python function named `name`, for a test to spoil one member.
fn create(c: &Client, name: &str) -> CreateFunctionFluentBuilder {
    c.create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("lambda_function.lambda_handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip()))
                .build(),
        )
}

#[tokio::test]
async fn arns_of_other_regions_and_accounts_are_not_reachable() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "f").await;
    assert_error(
        c.get_function()
            .function_name("arn:aws:lambda:ap-southeast-1:000000000000:function:f")
            .send()
            .await,
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    );
    let e = expect_err(
        c.invoke()
            .function_name("arn:aws:lambda:us-east-1:111111111111:function:f")
            .send()
            .await,
    );
    assert_eq!(e.status, Some(403), "{e:?}");
    assert_eq!(e.code.as_deref(), Some("AccessDeniedException"), "{e:?}");
    assert_eq!(e.message, None, "{e:?}");
}

#[tokio::test]
async fn function_names_too_long_or_malformed_are_refused_as_lambda_refuses_them() {
    let s = server().await;
    let c = client(&s);
    let long = "a".repeat(65);
    let e = expect_err(create(&c, &long).send().await);
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (
            Some(400),
            Some("InvalidParameterValueException"),
            Some(
                format!(
                    "1 validation error detected: Value '{long}' at 'functionName' failed to \
                     satisfy constraint: Member must have length less than or equal to 64"
                )
                .as_str()
            )
        )
    );
    let long_arn = format!("{ARN}:{}", "a".repeat(100));
    assert_error(
        create(&c, &long_arn).send().await,
        "ValidationException",
        &format!(
            "1 validation error detected: Value '{long_arn}' at 'functionName' failed to satisfy \
             constraint: Member must have length less than or equal to 140"
        ),
    );
    assert_error(
        create(&c, "invalid:function:name").send().await,
        "ValidationException",
        "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: \
         (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?\
         (\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
    );
}

#[tokio::test]
async fn unknown_and_deprecated_runtimes_get_lambdas_invalid_parameter_texts() {
    let s = server().await;
    let c = client(&s);
    let e = expect_err(
        create(&c, "r1")
            .runtime(Runtime::from("non-existent-runtime"))
            .send()
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("InvalidParameterValueException"));
    let msg = e.message.unwrap_or_default();
    assert!(
        msg.starts_with(
            "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must \
             satisfy enum value set: [nodejs16.x, "
        ) && msg.ends_with("] or be a valid ARN"),
        "{msg}"
    );
    assert_error(
        create(&c, "r2").runtime(Runtime::Python37).send().await,
        "InvalidParameterValueException",
        "The runtime parameter of python3.7 is no longer supported for creating or updating AWS \
         Lambda functions. We recommend you use a supported runtime while creating or updating \
         functions.",
    );
}

#[tokio::test]
async fn roles_handlers_memory_and_timeouts_outside_the_model_fail_validation() {
    let s = server().await;
    let c = client(&s);
    assert_error(
        create(&c, "v").role("r1").send().await,
        "ValidationException",
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member \
         must satisfy regular expression pattern: \
         arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
    );
    assert_error(
        create(&c, "v").handler("bad handler").send().await,
        "ValidationException",
        "1 validation error detected: Value 'bad handler' at 'handler' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [^\\s]+",
    );
    assert_error(
        create(&c, "v")
            .architectures(Architecture::X8664)
            .architectures(Architecture::Arm64)
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to \
         satisfy constraint: Member must have length less than or equal to 1",
    );
    assert_error(
        create(&c, "v")
            .architectures(Architecture::from("X86_64"))
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy \
         constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
         [x86_64, arm64], Member must not be null]",
    );
    assert_error(
        create(&c, "v")
            .ephemeral_storage(EphemeralStorage::builder().size(100).build().expect("size"))
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '100' at 'ephemeralStorage.size' failed to satisfy \
         constraint: Member must have value greater than or equal to 512",
    );
    assert_error(
        create(&c, "v").memory_size(64).timeout(901).send().await,
        "ValidationException",
        "2 validation errors detected: Value '901' at 'timeout' failed to satisfy constraint: \
         Member must have value less than or equal to 900; Value '64' at 'memorySize' failed to \
         satisfy constraint: Member must have value greater than or equal to 128",
    );
}

#[tokio::test]
async fn zips_that_are_not_zips_or_empty_cannot_be_unzipped() {
    let s = server().await;
    let c = client(&s);
    for bytes in [&b"def handler(e, c): pass"[..], &b""[..]] {
        assert_error(
            create(&c, "z")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(bytes.to_vec()))
                        .build(),
                )
                .send()
                .await,
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        );
    }
}

#[tokio::test]
async fn qualifiers_that_do_not_exist_name_the_qualified_arn() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "q").await;
    for (qualifier, arn) in [
        ("1221", format!("{ARN}:q:1221")),
        ("nolias", format!("{ARN}:q:nolias")),
    ] {
        assert_error(
            c.get_function()
                .function_name("q")
                .qualifier(qualifier)
                .send()
                .await,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}"),
        );
    }
    assert_error(
        c.get_function_configuration()
            .function_name("nope:$LATEST")
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:nope:$LATEST"),
    );
    assert_error(
        c.get_function()
            .function_name("q:1")
            .qualifier("2")
            .send()
            .await,
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
    );
    assert_error(
        c.delete_function()
            .function_name("q")
            .qualifier("$LATEST")
            .send()
            .await,
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
    );
}

#[tokio::test]
async fn alias_errors_match_lambdas() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "al").await;
    c.publish_version()
        .function_name("al")
        .send()
        .await
        .expect("v1");
    let weights = |k: &str, w: f64| {
        AliasRoutingConfiguration::builder()
            .additional_version_weights(k, w)
            .build()
    };
    assert_error(
        c.get_alias().function_name("al").name("none").send().await,
        "ResourceNotFoundException",
        &format!("Cannot find alias arn: {ARN}:al:none"),
    );
    assert_error(
        c.create_alias()
            .function_name("al-unknown")
            .name("a")
            .function_version("1")
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:al-unknown:1"),
    );
    assert_error(
        c.create_alias()
            .function_name("al")
            .name("a")
            .function_version("10")
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:al:10"),
    );
    assert_error(
        c.create_alias()
            .function_name("al")
            .name("a")
            .function_version("1")
            .routing_config(weights("2", 2.0))
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' \
         failed to satisfy constraint: Map value must satisfy constraint: [Member must have value \
         less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member \
         must not be null]",
    );
    assert_error(
        c.create_alias()
            .function_name("al")
            .name("a")
            .function_version("$LATEST")
            .routing_config(weights("1", 0.5))
            .send()
            .await,
        "InvalidParameterValueException",
        "$LATEST is not supported for an alias pointing to more than 1 version",
    );
    assert_error(
        c.create_alias()
            .function_name("al")
            .name("a")
            .function_version("1")
            .routing_config(weights("1", 0.5))
            .send()
            .await,
        "InvalidParameterValueException",
        "Invalid function version 1. Function version 1 is already included in routing \
         configuration.",
    );
    assert_error(
        c.create_alias()
            .function_name("al")
            .name("2024")
            .function_version("1")
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member \
         must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    );
    c.create_alias()
        .function_name("al")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("alias");
    let e = expect_err(
        c.create_alias()
            .function_name("al")
            .name("live")
            .function_version("1")
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.message),
        (
            Some(409),
            Some(format!("Alias already exists: {ARN}:al:live"))
        )
    );
}

#[tokio::test]
async fn stale_revision_ids_and_code_hashes_are_refused() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "p").await;
    let stale = "The Revision Id provided does not match the latest Revision Id. Call the \
                 GetFunction/GetAlias API to retrieve the latest Revision Id";
    let e = expect_err(
        c.publish_version()
            .function_name("p")
            .revision_id("wrong")
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (Some(412), Some("PreconditionFailedException"), Some(stale))
    );
    assert_error(
        c.update_function_configuration()
            .function_name("p")
            .revision_id("wrong")
            .send()
            .await,
        "PreconditionFailedException",
        stale,
    );
    let current = c
        .get_function_configuration()
        .function_name("p")
        .send()
        .await
        .expect("get")
        .code_sha256()
        .unwrap_or_default()
        .to_owned();
    assert_error(
        c.publish_version()
            .function_name("p")
            .code_sha256("somenonexistentsha256")
            .send()
            .await,
        "InvalidParameterValueException",
        &format!(
            "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST \
             ({current}). Please try again with the CodeSHA256 in $LATEST."
        ),
    );
}

#[tokio::test]
async fn reserved_concurrency_and_tag_errors_match_lambdas() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "t").await;
    assert_error(
        c.put_function_concurrency()
            .function_name("doesnotexist")
            .reserved_concurrent_executions(5000)
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:doesnotexist:$LATEST"),
    );
    assert_error(
        c.put_function_concurrency()
            .function_name("t")
            .reserved_concurrent_executions(901)
            .send()
            .await,
        "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's \
         UnreservedConcurrentExecution below its minimum value of [100].",
    );
    assert_error(
        c.put_function_concurrency()
            .function_name("t:1")
            .reserved_concurrent_executions(1)
            .send()
            .await,
        "InvalidParameterValueException",
        "This operation is permitted on Lambda functions only. Aliases and versions do not \
         support this operation. Please specify either a function name or an unqualified \
         function ARN.",
    );
    let arn = format!("{ARN}:t");
    for qualified in [format!("{arn}:1"), format!("{arn}:$LATEST")] {
        assert_error(
            c.tag_resource()
                .resource(qualified)
                .tags("k", "v")
                .send()
                .await,
            "InvalidParameterValueException",
            "Tags on function aliases and versions are not supported. Please specify a function \
             ARN.",
        );
    }
    assert_error(
        c.tag_resource()
            .resource(&arn)
            .set_tags(Some(HashMap::new()))
            .send()
            .await,
        "InvalidParameterValueException",
        "An error occurred and the request cannot be processed.",
    );
    let many: HashMap<String, String> = (0..51)
        .map(|i| (format!("{i}_key"), format!("{i}_value")))
        .collect();
    assert_error(
        c.tag_resource()
            .resource(&arn)
            .set_tags(Some(many))
            .send()
            .await,
        "InvalidParameterValueException",
        "Number of tags exceeds resource tag limit.",
    );
    assert_error(
        c.list_tags()
            .resource(format!("{ARN}:doesnotexist"))
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:doesnotexist"),
    );
}

#[tokio::test]
async fn invoke_refuses_payloads_that_are_not_json_and_names_the_missing_version() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "inv").await;
    let e = expect_err(
        c.invoke()
            .function_name("inv")
            .payload(Blob::new(&b"n\x87r\x9e"[..]))
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref()),
        (Some(400), Some("InvalidRequestContentException")),
        "{e:?}"
    );
    assert!(
        e.message.as_deref().is_some_and(|m| m.starts_with(
            "Could not parse request body into json: Could not parse payload into json: "
        )),
        "{e:?}"
    );
    assert_error(
        c.invoke().function_name("doesnotexist").send().await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:doesnotexist:$LATEST"),
    );
    assert_error(
        c.invoke().function_name("inv").qualifier("7").send().await,
        "ResourceNotFoundException",
        &format!("Function not found: {ARN}:inv:7"),
    );
}

#[tokio::test]
async fn payloads_over_the_limits_name_the_invocation_type() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "big").await;
    let sync = vec![b' '; 6 * 1024 * 1024 + 1];
    let e = expect_err(
        c.invoke()
            .function_name("big")
            .payload(Blob::new(sync))
            .send()
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref(), e.message.as_deref()),
        (
            Some(413),
            Some("RequestTooLargeException"),
            Some(
                "6291457 byte payload is too large for the RequestResponse invocation type \
                 (limit 6291456 bytes)"
            )
        )
    );
    assert_error(
        c.invoke()
            .function_name("big")
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(vec![b' '; 1024 * 1024 + 1]))
            .send()
            .await,
        "RequestTooLargeException",
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    );
}

#[tokio::test]
async fn event_source_mapping_errors_match_lambdas() {
    let s = server().await;
    let c = client(&s);
    create_active(&c, "consumer").await;
    s.client()
        .create_stream()
        .stream_name("src")
        .shard_count(1)
        .send()
        .await
        .expect("stream");
    let stream = s.stream_arn("src");
    let mapping = || {
        c.create_event_source_mapping()
            .function_name("consumer")
            .event_source_arn(&stream)
    };
    assert_error(
        c.create_event_source_mapping()
            .function_name("missing")
            .event_source_arn(&stream)
            .starting_position(EventSourcePosition::Latest)
            .send()
            .await,
        "InvalidParameterValueException",
        "Function does not exist",
    );
    assert_error(
        c.create_event_source_mapping()
            .function_name("missing")
            .event_source_arn(&stream)
            .batch_size(0)
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: \
         Member must have value greater than or equal to 1",
    );
    assert_error(
        mapping().send().await,
        "InvalidParameterValueException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy \
         constraint: Member must not be null.",
    );
    assert_error(
        mapping()
            .starting_position(EventSourcePosition::from("0"))
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '0' at 'startingPosition' failed to satisfy \
         constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    );
    assert_error(
        mapping()
            .starting_position(EventSourcePosition::Latest)
            .starting_position_timestamp(aws_sdk_lambda::primitives::DateTime::from_secs(5))
            .send()
            .await,
        "InvalidParameterValueException",
        "Timestamp only valid with StartingPosition AT_TIMESTAMP",
    );
    assert_error(
        mapping()
            .starting_position(EventSourcePosition::Latest)
            .batch_size(10_001)
            .send()
            .await,
        "ValidationException",
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: \
         Member must have value less than or equal to 10000",
    );
    let m = mapping()
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .expect("mapping");
    assert_eq!(m.state_transition_reason(), Some("User action"));
    let uuid = m.uuid().unwrap_or_default().to_owned();
    assert_error(
        mapping()
            .starting_position(EventSourcePosition::Latest)
            .send()
            .await,
        "ResourceConflictException",
        &format!(
            "The event source arn (\" {stream} \") and function (\" consumer \") provided mapping \
             already exists. Please update or delete the existing mapping with UUID {uuid}"
        ),
    );
    let gone = "The resource you requested does not exist.";
    let unknown = "6d1b8b4e-0000-4000-8000-000000000000";
    assert_error(
        c.get_event_source_mapping().uuid(unknown).send().await,
        "ResourceNotFoundException",
        gone,
    );
    assert_error(
        c.update_event_source_mapping()
            .uuid(unknown)
            .batch_size(5)
            .send()
            .await,
        "ResourceNotFoundException",
        gone,
    );
    assert_error(
        c.delete_event_source_mapping().uuid(unknown).send().await,
        "ResourceNotFoundException",
        gone,
    );
}
