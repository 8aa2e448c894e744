// SPDX-License-Identifier: Apache-2.0
//! CloudWatch metrics through `aws-sdk-cloudwatch`: the SDK sends smithy RPC v2 CBOR
//! (`POST /service/GraniteServiceVersion20100801/operation/<Op>`, timestamps tag 1 + epoch
//! seconds) and gzips PutMetricData bodies over 10 KiB. Also raw RPC v2 CBOR and gzipped
//! JSON 1.0 requests, and the refusals AWS answers bad input with.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit, Statistic,
    StatusCode,
};
use ciborium::Value as Cbor;
use freshet_testkit::TestServer;

use super::super::common::{assert_code, assert_error};

fn client(server: &TestServer) -> Client {
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// The start of a minute a few minutes ago (servers run on the system clock).
fn minute_ago(minutes: i64) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    now - now % 60_000 - minutes * 60_000
}

fn dt(ms: i64) -> DateTime {
    DateTime::from_millis(ms)
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn ms(t: Option<&DateTime>) -> i64 {
    t.and_then(|t| t.to_millis().ok()).expect("timestamp")
}

fn latency_stat(period: i32, stat: &str) -> MetricStat {
    MetricStat::builder()
        .metric(
            Metric::builder()
                .namespace("App")
                .metric_name("Latency")
                .dimensions(dim("Service", "api"))
                .build(),
        )
        .period(period)
        .stat(stat)
        .build()
}

#[tokio::test]
async fn custom_metrics_come_back_as_statistics_percentiles_and_math() {
    let server = TestServer::start().await;
    let c = client(&server);
    let t0 = minute_ago(5);
    c.put_metric_data()
        .namespace("App")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Service", "api"))
                .timestamp(dt(t0 + 1_500))
                .values(1.0)
                .values(10.0)
                .counts(3.0)
                .counts(1.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Service", "api"))
                .timestamp(dt(t0 + 60_000))
                .value(20.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .send()
        .await
        .expect("put");

    let stats = c
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Service", "api"))
        .start_time(dt(t0))
        .end_time(dt(t0 + 120_000))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum)
        .extended_statistics("p100")
        .send()
        .await
        .expect("statistics");
    assert_eq!(stats.label(), Some("Latency"));
    let mut points = stats.datapoints().to_vec();
    points.sort_by_key(|d| ms(d.timestamp()));
    assert_eq!(points.len(), 2);
    assert_eq!(ms(points[0].timestamp()), t0);
    assert_eq!(points[0].sum(), Some(13.0));
    assert_eq!(points[0].sample_count(), Some(4.0));
    assert_eq!(points[0].maximum(), Some(10.0));
    assert_eq!(points[0].average(), None);
    assert_eq!(points[0].unit(), Some(&StandardUnit::Milliseconds));
    let p100 = points[0].extended_statistics().expect("percentiles")["p100"];
    assert_eq!(p100, 10.0);
    assert_eq!(ms(points[1].timestamp()), t0 + 60_000);
    assert_eq!(points[1].sum(), Some(20.0));

    let data = c
        .get_metric_data()
        .start_time(dt(t0))
        .end_time(dt(t0 + 120_000))
        .scan_by(ScanBy::TimestampAscending)
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("m1")
                .metric_stat(latency_stat(60, "Sum"))
                .return_data(false)
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("e1")
                .expression("m1 * 2 + SUM(METRICS()) - m1")
                .label("doubled")
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("p")
                .metric_stat(latency_stat(60, "p50"))
                .build(),
        )
        .send()
        .await
        .expect("metric data");
    let results = data.metric_data_results();
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].id(), Some("e1"));
    assert_eq!(results[0].label(), Some("doubled"));
    // METRICS() is every MetricStat query: m1 (Sum 13, 20) and p (p50 1, 20), so
    // 2*m1 + (m1 + p) - m1 = 2*m1 + p.
    assert_eq!(results[0].values(), &[27.0, 60.0]);
    let stamps: Vec<i64> = results[0]
        .timestamps()
        .iter()
        .map(|t| ms(Some(t)))
        .collect();
    assert_eq!(stamps, vec![t0, t0 + 60_000]);
    assert_eq!(results[0].status_code(), Some(&StatusCode::Complete));
    assert_eq!(results[1].label(), Some("Latency"));
    let p50 = results[1].values()[0];
    assert!((p50 - 1.0).abs() < 0.05, "p50 of 1,1,1,10 is 1, not {p50}");
}

#[tokio::test]
async fn high_resolution_points_keep_their_second() {
    let server = TestServer::start().await;
    let c = client(&server);
    let t0 = minute_ago(2);
    for (offset, v) in [(7_500, 1.0), (8_200, 2.0), (8_900, 4.0)] {
        c.put_metric_data()
            .namespace("Hi")
            .metric_data(
                MetricDatum::builder()
                    .metric_name("M")
                    .timestamp(dt(t0 + offset))
                    .value(v)
                    .storage_resolution(1)
                    .build(),
            )
            .send()
            .await
            .expect("put");
    }
    let stats = c
        .get_metric_statistics()
        .namespace("Hi")
        .metric_name("M")
        .start_time(dt(t0))
        .end_time(dt(t0 + 60_000))
        .period(1)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect("statistics");
    let mut got: Vec<(i64, f64)> = stats
        .datapoints()
        .iter()
        .map(|d| (ms(d.timestamp()), d.sum().unwrap_or_default()))
        .collect();
    got.sort_by_key(|(t, _)| *t);
    assert_eq!(got, vec![(t0 + 7_000, 1.0), (t0 + 8_000, 6.0)]);
}

#[tokio::test]
async fn a_large_compressed_batch_lists_over_pages() {
    let server = TestServer::start().await;
    let c = client(&server);
    let mut put = c.put_metric_data().namespace("Many");
    for i in 0..600 {
        put = put.metric_data(
            MetricDatum::builder()
                .metric_name(format!("Metric{i:04}"))
                .dimensions(dim("Host", &format!("host-{i}")))
                .value(f64::from(i))
                .build(),
        );
    }
    // Far over 10 KiB: the SDK sends it gzipped.
    put.send().await.expect("put 600");
    let pages: Vec<_> = c
        .list_metrics()
        .namespace("Many")
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("list");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].metrics().len(), 500);
    let names: std::collections::BTreeSet<String> = pages
        .iter()
        .flat_map(|p| {
            p.metrics()
                .iter()
                .filter_map(|m| m.metric_name().map(str::to_owned))
        })
        .collect();
    assert_eq!(names.len(), 600);
    let one = c
        .list_metrics()
        .dimensions(
            aws_sdk_cloudwatch::types::DimensionFilter::builder()
                .name("Host")
                .value("host-7")
                .build(),
        )
        .send()
        .await
        .expect("filtered");
    assert_eq!(one.metrics().len(), 1);
    assert_eq!(one.metrics()[0].metric_name(), Some("Metric0007"));
}

#[tokio::test]
async fn bad_input_is_refused_as_aws_refuses_it() {
    let server = TestServer::start().await;
    let c = client(&server);
    let datum = |name: &str| MetricDatum::builder().metric_name(name).value(1.0);
    assert_error(
        c.put_metric_data()
            .namespace("AWS/EC2")
            .metric_data(datum("M").build())
            .send()
            .await,
        "InvalidParameterValue",
        "The value AWS/EC2 for parameter Namespace is invalid.",
    );
    let mut many = datum("M");
    for i in 0..31 {
        many = many.dimensions(dim(&format!("d{i}"), "v"));
    }
    assert_error(
        c.put_metric_data()
            .namespace("App")
            .metric_data(many.build())
            .send()
            .await,
        "InvalidParameterValue",
        "The collection MetricData.member.1.Dimensions must not have a size greater than 30.",
    );
    let values = (0..151).fold(MetricDatum::builder().metric_name("M"), |b, v| {
        b.values(f64::from(v))
    });
    assert_code(
        c.put_metric_data()
            .namespace("App")
            .metric_data(values.build())
            .send()
            .await,
        "InvalidParameterValue",
    );
    let t0 = minute_ago(60 * 24);
    assert_error(
        c.get_metric_statistics()
            .namespace("App")
            .metric_name("M")
            .start_time(dt(t0))
            .end_time(dt(t0 + 86_400_000))
            .period(1)
            .statistics(Statistic::Sum)
            .send()
            .await,
        "InvalidParameterCombination",
        "You have requested up to 86,400 datapoints, which exceeds the limit of 1,440. You may \
         reduce the datapoints requested by increasing Period, or decreasing the time range.",
    );
    let msg = assert_code(
        c.get_metric_data()
            .start_time(dt(t0))
            .end_time(dt(t0 + 60_000))
            .metric_data_queries(
                MetricDataQuery::builder()
                    .id("e1")
                    .expression("FOO(1)")
                    .build(),
            )
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_eq!(msg, "Error in expression e1: Unknown function FOO");
    assert_code(
        c.get_metric_data()
            .start_time(dt(t0))
            .end_time(dt(t0 + 60_000))
            .metric_data_queries(MetricDataQuery::builder().id("E1").expression("1").build())
            .send()
            .await,
        "InvalidParameterValue",
    );
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_owned())
}

fn get<'a>(v: &'a Cbor, key: &str) -> &'a Cbor {
    v.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some(key)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
}

async fn rpc_v2(server: &TestServer, op: &str, body: Cbor) -> freshet_testkit::RawResponse {
    let mut bytes = Vec::new();
    ciborium::into_writer(&body, &mut bytes).expect("cbor");
    server
        .try_raw(
            http::Method::POST,
            &format!("/service/GraniteServiceVersion20100801/operation/{op}"),
            &[
                ("smithy-protocol", "rpc-v2-cbor"),
                ("content-type", "application/cbor"),
                ("accept", "application/cbor"),
            ],
            bytes.into(),
        )
        .await
        .expect("rpc v2 request")
}

#[tokio::test]
async fn hand_made_rpc_v2_cbor_timestamps_are_epoch_seconds() {
    let server = TestServer::start().await;
    let t0 = minute_ago(3);
    let secs = t0 / 1000;
    let put = rpc_v2(
        &server,
        "PutMetricData",
        Cbor::Map(vec![
            (text("Namespace"), text("Raw")),
            (
                text("MetricData"),
                Cbor::Array(vec![Cbor::Map(vec![
                    (text("MetricName"), text("M")),
                    (text("Value"), Cbor::Float(2.5)),
                    // botocore writes an unsigned integer of seconds.
                    (
                        text("Timestamp"),
                        Cbor::Tag(1, Box::new(Cbor::Integer((secs + 5).into()))),
                    ),
                ])]),
            ),
        ]),
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.header("smithy-protocol"), Some("rpc-v2-cbor"));
    let got = rpc_v2(
        &server,
        "GetMetricStatistics",
        Cbor::Map(vec![
            (text("Namespace"), text("Raw")),
            (text("MetricName"), text("M")),
            // The Java SDK writes float64 seconds.
            (
                text("StartTime"),
                Cbor::Tag(1, Box::new(Cbor::Float(secs as f64))),
            ),
            (
                text("EndTime"),
                Cbor::Tag(1, Box::new(Cbor::Float((secs + 60) as f64))),
            ),
            (text("Period"), Cbor::Integer(60.into())),
            (text("Statistics"), Cbor::Array(vec![text("Sum")])),
        ]),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("smithy-protocol"), Some("rpc-v2-cbor"));
    let v: Cbor = ciborium::from_reader(got.body.as_ref()).expect("cbor answer");
    let points = get(&v, "Datapoints").as_array().expect("datapoints");
    assert_eq!(points.len(), 1);
    assert_eq!(get(&points[0], "Sum"), &Cbor::Float(2.5));
    assert_eq!(
        get(&points[0], "Timestamp"),
        &Cbor::Tag(1, Box::new(Cbor::Float(secs as f64)))
    );
}

#[tokio::test]
async fn gzipped_json_bodies_are_decoded_and_bombs_refused() {
    let server = TestServer::start().await;
    let gzip = |b: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).expect("gzip");
        e.finish().expect("gzip")
    };
    let body = serde_json::json!({
        "Namespace": "Zipped",
        "MetricData": [{"MetricName": "M", "Value": 1}]
    });
    let headers = [
        (
            "x-amz-target",
            "GraniteServiceVersion20100801.PutMetricData",
        ),
        ("content-type", "application/x-amz-json-1.0"),
        ("content-encoding", "gzip"),
    ];
    let put = server
        .try_raw(
            http::Method::POST,
            "/",
            &headers,
            gzip(body.to_string().as_bytes()).into(),
        )
        .await
        .expect("put");
    assert_eq!(put.status, 200, "{:?}", put.body);
    let list = server
        .try_raw(
            http::Method::POST,
            "/",
            &[
                ("x-amz-target", "GraniteServiceVersion20100801.ListMetrics"),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            serde_json::json!({"Namespace": "Zipped"})
                .to_string()
                .into(),
        )
        .await
        .expect("list");
    assert_eq!(list.json()["Metrics"][0]["MetricName"], "M");
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    let refused = server
        .try_raw(http::Method::POST, "/", &headers, bomb.into())
        .await
        .expect("bomb");
    assert_eq!(refused.status, 413);
}
