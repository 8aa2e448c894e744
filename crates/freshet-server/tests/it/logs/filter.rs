// SPDX-License-Identifier: Apache-2.0
//! FilterLogEvents through the SDK: patterns, order, the paginator, and the exact call
//! sequence of `aws logs tail --follow` (aws-cli v2 `customizations/logs/tail.py`).
// `interleaved` and a stream's `storedBytes` are deprecated, but clients still use them.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashSet};

use aws_sdk_cloudwatchlogs::Client;

use super::*;

async fn filter_all(c: &Client, group: &str, pattern: Option<&str>) -> Vec<String> {
    c.filter_log_events()
        .log_group_name(group)
        .set_filter_pattern(pattern.map(str::to_owned))
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|p| p.events.unwrap_or_default())
        .filter_map(|e| e.message)
        .collect()
}

#[tokio::test]
async fn the_paginator_returns_matching_events_by_timestamp_across_streams() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    create_stream(&c, "g", "web").await;
    create_stream(&c, "g", "db").await;
    let t = now_ms();
    put(
        &c,
        "g",
        "web",
        &[(t - 50, "GET /a 200"), (t - 10, "GET /b 500")],
    )
    .await;
    put(
        &c,
        "g",
        "db",
        &[
            (t - 30, r#"{"level":"ERROR","ms":12}"#),
            (t - 20, "ERROR lock"),
        ],
    )
    .await;
    assert_eq!(
        filter_all(&c, "g", None).await,
        [
            "GET /a 200",
            r#"{"level":"ERROR","ms":12}"#,
            "ERROR lock",
            "GET /b 500"
        ]
    );
    // Terms match substrings, JSON text included.
    assert_eq!(
        filter_all(&c, "g", Some("ERROR")).await,
        [r#"{"level":"ERROR","ms":12}"#, "ERROR lock"]
    );
    assert_eq!(filter_all(&c, "g", Some("lock")).await, ["ERROR lock"]);
    assert_eq!(
        filter_all(&c, "g", Some(r#"{ $.level = "ERROR" }"#)).await,
        [r#"{"level":"ERROR","ms":12}"#]
    );
    assert_eq!(
        filter_all(&c, "g", Some("[verb, path, status=5*]")).await,
        ["GET /b 500"]
    );
    let page = c
        .filter_log_events()
        .log_group_name("g")
        .log_stream_names("web")
        .interleaved(true)
        .send()
        .await
        .unwrap();
    assert_eq!(page.events().len(), 2);
    assert!(
        page.events()
            .iter()
            .all(|e| e.log_stream_name() == Some("web"))
    );
    assert!(page.searched_log_streams().is_empty());
    assert!(page.next_token().is_none());
    assert!(page.events()[0].event_id().is_some());
}

#[tokio::test]
async fn names_and_prefix_together_and_bad_patterns_are_refused() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    assert_error(
        c.filter_log_events()
            .log_group_name("g")
            .log_stream_names("a")
            .log_stream_name_prefix("a")
            .send()
            .await,
        "InvalidParameterException",
        "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
    );
    assert_code(
        c.filter_log_events()
            .log_group_name("g")
            .filter_pattern("{ $.x = ")
            .send()
            .await,
        "InvalidParameterException",
    );
    assert_error(
        c.filter_log_events()
            .log_group_name("g")
            .next_token("x")
            .send()
            .await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    assert_error(
        c.filter_log_events().log_group_name("nope").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

/// One `--follow` round as tail.py runs it.
async fn tail_round(
    c: &Client,
    start_time: &mut i64,
    ids_at: &mut BTreeMap<i64, HashSet<String>>,
    printed: &mut Vec<String>,
) {
    let mut token: Option<String> = None;
    loop {
        let page = c
            .filter_log_events()
            .log_group_name("g")
            .interleaved(true)
            .start_time(*start_time)
            .log_stream_name_prefix("app")
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        for e in page.events() {
            let (ts, id) = (e.timestamp().unwrap(), e.event_id().unwrap().to_owned());
            if ids_at.entry(ts).or_default().insert(id) {
                printed.push(e.message().unwrap().to_owned());
            }
        }
        if let Some((&newest, _)) = ids_at.iter().next_back() {
            ids_at.retain(|ts, _| *ts == newest);
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    if let Some((&newest, _)) = ids_at.iter().next_back() {
        *start_time = newest;
    }
}

#[tokio::test]
async fn aws_logs_tail_follow_prints_every_event_once() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_group(&c, "g").await;
    for s in ["app-1", "app-2", "other"] {
        create_stream(&c, "g", s).await;
    }
    let t = now_ms();
    let mut start_time = t - 10 * 60 * 1000;
    let mut ids_at = BTreeMap::new();
    let mut printed = Vec::new();
    let mut sent = Vec::new();
    for round in 0..8i64 {
        for k in 0..3i64 {
            let m = format!("r{round}-{k}");
            let stream = if k % 2 == 0 { "app-1" } else { "app-2" };
            // Two events of a round share a millisecond with the round before's newest.
            put(&c, "g", stream, &[(t - 1000 + round * 2 + k / 2, &m)]).await;
            sent.push(m);
        }
        put(&c, "g", "other", &[(t, "not followed")]).await;
        tail_round(&c, &mut start_time, &mut ids_at, &mut printed).await;
    }
    tail_round(&c, &mut start_time, &mut ids_at, &mut printed).await;
    assert_eq!(printed, sent);
}
