// SPDX-License-Identifier: Apache-2.0
//! Log groups: create, describe (prefix, pattern, order, pagination), delete, protection.

use aws_sdk_cloudwatchlogs::types::LogGroupClass;

use super::*;

#[tokio::test]
async fn a_new_group_is_described_as_aws_describes_it() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_log_group()
        .log_group_name("/app/web")
        .kms_key_id("arn:aws:kms:us-east-1:000000000000:key/k")
        .send()
        .await
        .unwrap();
    let out = c.describe_log_groups().send().await.unwrap();
    let g = &out.log_groups()[0];
    assert_eq!(g.log_group_name(), Some("/app/web"));
    assert_eq!(
        g.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/web:*")
    );
    assert_eq!(
        g.log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/app/web")
    );
    assert_eq!(g.log_group_class(), Some(&LogGroupClass::Standard));
    assert_eq!(g.metric_filter_count(), Some(0));
    assert_eq!(g.stored_bytes(), Some(0));
    assert_eq!(g.deletion_protection_enabled(), Some(false));
    assert_eq!(g.retention_in_days(), None);
    assert_eq!(
        g.kms_key_id(),
        Some("arn:aws:kms:us-east-1:000000000000:key/k")
    );
    assert!(g.creation_time().unwrap() > 0);
    assert_eq!(out.next_token(), None);
}

#[tokio::test]
async fn duplicate_and_invalid_names_get_the_aws_errors() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "dup").await;
    assert_error(
        c.create_log_group().log_group_name("dup").send().await,
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    );
    assert_error(
        c.create_log_group()
            .log_group_name("X".repeat(513))
            .send()
            .await,
        "InvalidParameterException",
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
    );
    assert_error(
        c.create_log_group().log_group_name("a b").send().await,
        "InvalidParameterException",
        "1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
    );
    assert_code(
        c.create_log_group().log_group_name("aws/mine").send().await,
        "InvalidParameterException",
    );
    assert_error(
        c.delete_log_group().log_group_name("missing").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn describe_filters_by_prefix_or_pattern_in_ascii_order() {
    let server = TestServer::start().await;
    let c = client(&server);
    for name in ["b-DataLogs", "a/DataLogs", "DataLogs", "datalogs", "other"] {
        create_group(&c, name).await;
    }
    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput| -> Vec<String> {
        out.log_groups()
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_owned))
            .collect()
    };
    let all = c.describe_log_groups().send().await.unwrap();
    assert_eq!(
        names(&all),
        ["DataLogs", "a/DataLogs", "b-DataLogs", "datalogs", "other"]
    );
    let by_prefix = c
        .describe_log_groups()
        .log_group_name_prefix("Data")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_prefix), ["DataLogs"]);
    let by_pattern = c
        .describe_log_groups()
        .log_group_name_pattern("DataLogs")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_pattern), ["DataLogs", "a/DataLogs", "b-DataLogs"]);
    // With a pattern AWS answers only names, times, class, ARNs and the filter count.
    let g = &by_pattern.log_groups()[0];
    assert_eq!(g.stored_bytes(), None);
    assert_eq!(g.deletion_protection_enabled(), None);
    assert!(g.arn().is_some() && g.metric_filter_count().is_some());
    assert_error(
        c.describe_log_groups()
            .log_group_name_prefix("a")
            .log_group_name_pattern("b")
            .send()
            .await,
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
    );
}

#[tokio::test]
async fn the_paginator_walks_every_group_once() {
    let server = TestServer::start().await;
    let c = client(&server);
    let mut want: Vec<String> = (0..57).map(|i| format!("g-{i:03}")).collect();
    for n in &want {
        create_group(&c, n).await;
    }
    want.sort();
    let got: Vec<String> = c
        .describe_log_groups()
        .limit(7)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|g| g.log_group_name)
        .collect();
    assert_eq!(got, want);
    let page = c.describe_log_groups().send().await.unwrap();
    assert_eq!(page.log_groups().len(), 50, "the default limit is 50");
    assert!(page.next_token().is_some());
    assert_code(
        c.describe_log_groups().limit(51).send().await,
        "InvalidParameterException",
    );
    assert_error(
        c.describe_log_groups().next_token("bogus").send().await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
}

#[tokio::test]
async fn deletion_protection_blocks_deletes_until_it_is_turned_off() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_log_group()
        .log_group_name("kept")
        .deletion_protection_enabled(true)
        .log_group_class(LogGroupClass::InfrequentAccess)
        .send()
        .await
        .unwrap();
    create_stream(&c, "kept", "s").await;
    assert_code(
        c.delete_log_group().log_group_name("kept").send().await,
        "ValidationException",
    );
    assert_code(
        c.delete_log_stream()
            .log_group_name("kept")
            .log_stream_name("s")
            .send()
            .await,
        "ValidationException",
    );
    let g = c.describe_log_groups().send().await.unwrap();
    assert_eq!(g.log_groups()[0].deletion_protection_enabled(), Some(true));
    assert_eq!(
        g.log_groups()[0].log_group_class(),
        Some(&LogGroupClass::InfrequentAccess)
    );
    c.put_log_group_deletion_protection()
        .log_group_identifier("arn:aws:logs:us-east-1:000000000000:log-group:kept")
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    c.delete_log_group()
        .log_group_name("kept")
        .send()
        .await
        .unwrap();
    assert!(
        c.describe_log_groups()
            .send()
            .await
            .unwrap()
            .log_groups()
            .is_empty()
    );
}
