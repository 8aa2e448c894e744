// SPDX-License-Identifier: Apache-2.0
//! PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter and TestMetricFilter.

use aws_sdk_cloudwatchlogs::types::{MetricTransformation, StandardUnit};

use super::*;

fn transformation(value: &str) -> MetricTransformation {
    MetricTransformation::builder()
        .metric_name("Errors")
        .metric_namespace("App")
        .metric_value(value)
        .build()
        .unwrap()
}

#[tokio::test]
async fn filters_are_stored_described_and_deleted() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g1").await;
    create_group(&c, "g2").await;
    c.put_metric_filter()
        .log_group_name("g1")
        .filter_name("b-latency")
        .filter_pattern("{ $.latency > 0 }")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Latency")
                .metric_namespace("App")
                .metric_value("$.latency")
                .default_value(0.0)
                .dimensions("Service", "$.service")
                .unit(StandardUnit::Milliseconds)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for (g, f) in [("g1", "a-errors"), ("g2", "a-errors")] {
        c.put_metric_filter()
            .log_group_name(g)
            .filter_name(f)
            .filter_pattern("ERROR")
            .metric_transformations(transformation("1"))
            .send()
            .await
            .unwrap();
    }
    let all = c.describe_metric_filters().send().await.unwrap();
    let keys: Vec<(String, String)> = all
        .metric_filters()
        .iter()
        .map(|f| {
            (
                f.filter_name().unwrap().to_owned(),
                f.log_group_name().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("a-errors".to_owned(), "g1".to_owned()),
            ("a-errors".to_owned(), "g2".to_owned()),
            ("b-latency".to_owned(), "g1".to_owned())
        ]
    );
    let latency = &all.metric_filters()[2];
    let t = &latency.metric_transformations()[0];
    assert_eq!(t.default_value(), Some(0.0));
    assert_eq!(t.unit(), Some(&StandardUnit::Milliseconds));
    assert_eq!(
        t.dimensions()
            .and_then(|d| d.get("Service"))
            .map(String::as_str),
        Some("$.service")
    );
    assert!(!latency.apply_on_transformed_logs());
    assert!(latency.creation_time().unwrap() > 0);

    let by_prefix = c
        .describe_metric_filters()
        .log_group_name("g1")
        .filter_name_prefix("b")
        .send()
        .await
        .unwrap();
    assert_eq!(by_prefix.metric_filters().len(), 1);
    let by_metric = c
        .describe_metric_filters()
        .metric_name("Errors")
        .metric_namespace("App")
        .send()
        .await
        .unwrap();
    assert_eq!(by_metric.metric_filters().len(), 2);
    let paged = c
        .describe_metric_filters()
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(paged.len(), 3);
    let groups = c
        .describe_log_groups()
        .log_group_name_prefix("g1")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(2));

    c.delete_metric_filter()
        .log_group_name("g1")
        .filter_name("a-errors")
        .send()
        .await
        .unwrap();
    assert_code(
        c.delete_metric_filter()
            .log_group_name("g1")
            .filter_name("a-errors")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert_code(
        c.describe_metric_filters()
            .metric_name("Errors")
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn filters_that_do_not_fit_their_pattern_are_refused() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    assert_error(
        c.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("{ $.x = ")
            .metric_transformations(transformation("1"))
            .send()
            .await,
        "InvalidParameterException",
        "Invalid metric filter pattern",
    );
    assert_code(
        c.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("ERROR")
            .metric_transformations(transformation("$.latency"))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_error(
        c.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("ERROR")
            .metric_transformations(transformation("1"))
            .metric_transformations(transformation("2"))
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value '[MetricTransformation(metricName=Errors, metricNamespace=App, metricValue=1, defaultValue=null, unit=null, dimensions=null), MetricTransformation(metricName=Errors, metricNamespace=App, metricValue=2, defaultValue=null, unit=null, dimensions=null)]' at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1",
    );
    assert_error(
        c.put_metric_filter()
            .log_group_name("nope")
            .filter_name("f")
            .filter_pattern("ERROR")
            .metric_transformations(transformation("1"))
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn test_metric_filter_reports_matches_and_extracted_values() {
    let server = TestServer::start().await;
    let c = client(&server);
    let out = c
        .test_metric_filter()
        .filter_pattern("[ip, user, status=4*, bytes]")
        .log_event_messages("1.2.3.4 alice 404 10")
        .log_event_messages("1.2.3.4 bob 200 10")
        .log_event_messages("5.6.7.8 carol 403 99")
        .send()
        .await
        .unwrap();
    let m = out.matches();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].event_number(), 1);
    assert_eq!(m[1].event_number(), 3);
    assert_eq!(m[1].event_message(), Some("5.6.7.8 carol 403 99"));
    let values = m[0].extracted_values().unwrap();
    assert_eq!(values.get("$status").map(String::as_str), Some("404"));
    assert_eq!(values.get("$user").map(String::as_str), Some("alice"));
    assert_error(
        c.test_metric_filter()
            .filter_pattern("[a, a]")
            .log_event_messages("x y")
            .send()
            .await,
        "InvalidParameterException",
        "Invalid metric filter pattern",
    );
}
